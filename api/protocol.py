"""uvicorn's HTTP/1.1 protocol with a deadline for request headers (slowloris), its websocket protocol
with faster compression, plus the server's timeouts."""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

# A client has this long from connecting (or from the end of its previous response) to send a
# complete request head; uvicorn alone waits forever, so a few hundred trickling clients hold
# every connection. Bodies have their own deadline (api.limits.BODY_READ_TIMEOUT_S).
HEADER_TIMEOUT_S = 10.0
KEEP_ALIVE_TIMEOUT_S = 5  # idle keep-alive connections are closed after this
MAX_CONNECTIONS = 1000  # beyond this uvicorn answers 503 at once
MAX_HEADER_BYTES = 16 * 1024  # h11's limit for an incomplete request head
# zlib level of websocket messages (permessage-deflate; uvicorn uses zlib's default, 6). A cell
# heatmap's first message carries two 664 kB float32 layers: level 6 took ~30 ms each to compress them
# to 0.25 of their size, level 1 ~10 ms to 0.28 (measured on this machine), and the event loop, which
# serves every page, waits for it.
WS_DEFLATE_LEVEL = 1


class HeaderTimeoutH11Protocol(H11Protocol):
    """Closes a connection whose request head is not complete within ``header_timeout_s``."""

    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _waiting_for_head(self) -> bool:
        # IDLE: no request head parsed yet on this cycle. Idle keep-alive connections (nothing
        # received at all since the last response) are left to uvicorn's keep-alive timeout.
        return self.conn.their_state is h11.IDLE and not self.transport.is_closing()

    def _watch_head(self) -> None:
        if not self._waiting_for_head():
            self._cancel_head_timer()
        elif self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._waiting_for_head():
            self.logger.info("closing a connection that sent no complete request head in %.0f s",
                             self.header_timeout_s)
            self.transport.close()


class FastDeflateWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol (websockets' sans-I/O one, what uvicorn picks itself) compressing at
    WS_DEFLATE_LEVEL; its window and memory settings are uvicorn's."""

    def __init__(self, config, *args, **kwargs) -> None:
        super().__init__(config, *args, **kwargs)
        if config.ws_per_message_deflate:  # the connection is made here, before any byte of it is read
            self.conn = ServerProtocol(
                extensions=[ServerPerMessageDeflateFactory(
                    server_max_window_bits=12, client_max_window_bits=12,
                    compress_settings={"memLevel": 5, "level": WS_DEFLATE_LEVEL})],
                max_size=config.ws_max_size, logger=self.logger)


def server_config_kwargs() -> dict:
    """The uvicorn.Config arguments that bound slow and idle clients and compress websocket messages
    fast (used by `bess serve`)."""
    return {"http": HeaderTimeoutH11Protocol, "ws": FastDeflateWebSocketProtocol,
            "timeout_keep_alive": KEEP_ALIVE_TIMEOUT_S, "limit_concurrency": MAX_CONNECTIONS,
            "h11_max_incomplete_event_size": MAX_HEADER_BYTES}
