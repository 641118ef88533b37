"""The server's websocket protocol: permessage-deflate negotiated, at the fast zlib level, messages intact."""

from __future__ import annotations

import numpy as np
import uvicorn
from uvicorn.server import ServerState
from websockets.sync.client import connect

from api.protocol import WS_DEFLATE_LEVEL, FastDeflateWebSocketProtocol, server_config_kwargs
from tests.dashboard_server import running_server


async def _echo(scope, receive, send) -> None:  # noqa: ANN001 -- a bare ASGI app
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        return
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "bytes": message.get("bytes"), "text": message.get("text")})


def test_the_server_compresses_websocket_messages_at_the_fast_level():
    config = uvicorn.Config(_echo, **server_config_kwargs())
    config.load()
    protocol = FastDeflateWebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    [deflate] = protocol.conn.available_extensions
    assert deflate.compress_settings == {"memLevel": 5, "level": WS_DEFLATE_LEVEL} and WS_DEFLATE_LEVEL == 1
    assert (deflate.server_max_window_bits, deflate.client_max_window_bits) == (12, 12)  # uvicorn's own


def test_a_heatmap_sized_float32_message_goes_through_compressed_and_intact():
    # the shape of a cell heatmap layer: 260 cells x 639 days of volts, with gaps
    sat_v = (3.3 + 0.01 * np.random.default_rng(1).standard_normal((260, 639))).astype(np.float32)
    sat_v[:, 100:110] = np.nan
    with running_server(_echo) as url:  # bess serve's protocols (server_config_kwargs)
        with connect(url.replace("http://", "ws://") + "/ws", compression="deflate", max_size=None) as ws:
            assert "permessage-deflate" in ws.response.headers["Sec-WebSocket-Extensions"]
            ws.send(sat_v.tobytes())
            back = np.frombuffer(ws.recv(), dtype=np.float32).reshape(sat_v.shape)
            ws.send('{"msgtype": "PULL-DOC-REQ"}')
            assert ws.recv() == '{"msgtype": "PULL-DOC-REQ"}'
    np.testing.assert_array_equal(back, sat_v)
