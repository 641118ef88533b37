"""Subscription storeVersion over a real websocket (graphql-transport-ws): a new publish reaches the client."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets

from api.app import create_app
from data.ingest import ingest
from data.store import open_snapshot
from test_api_support import live_server
from tests.run_async import run_in_thread

PROTOCOL = "graphql-transport-ws"


def write_meter(root: Path, rows: int) -> None:
    folder = root / "meter" / "m9"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["timestamp,value"] + [f"2024-05-01T{h:02d}:{m:02d}:00+02:00,{h + m / 60:.3f}"
                                   for h in range(24) for m in (0, 15, 30, 45)][:rows]
    (folder / "com_ap.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


async def _next(ws) -> dict:  # noqa: ANN001
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
        if msg["type"] in ("next", "error", "complete"):
            return msg


async def _session(url: str, publish) -> tuple[str, str]:  # noqa: ANN001
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), timeout=30))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": "subscription { storeVersion(pollSeconds: 0.5) { version } }"}}))
        first = await _next(ws)
        await asyncio.get_running_loop().run_in_executor(None, publish)
        second = await _next(ws)
        return first["payload"]["data"]["storeVersion"]["version"], second["payload"]["data"]["storeVersion"]["version"]


def test_a_new_publish_reaches_a_subscribed_client(tmp_path):
    exports, store = tmp_path / "exports", tmp_path / "store"
    write_meter(exports, 40)
    assert ingest([exports], store, progress=False).exit_code == 0
    before = open_snapshot(store).version

    def publish() -> None:
        write_meter(exports, 80)  # more rows: a new version
        assert ingest([exports], store, progress=False).exit_code == 0

    with live_server(create_app(store, token=None, cors_origins=[])) as base:
        first, second = run_in_thread(lambda: _session(base.replace("http://", "ws://") + "/graphql", publish))
    assert first == before
    assert second == open_snapshot(store).version != before


@pytest.mark.parametrize("token_header", [None, "Bearer wrong"])
def test_the_websocket_is_behind_the_token(tmp_path, token_header):
    exports, store = tmp_path / "exports", tmp_path / "store"
    write_meter(exports, 10)
    assert ingest([exports], store, progress=False).exit_code == 0
    with live_server(create_app(store, token="s3cret", cors_origins=[])) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        headers = {"Authorization": token_header} if token_header else None

        async def connect() -> None:
            async with websockets.connect(url, subprotocols=[PROTOCOL], additional_headers=headers):
                pass

        with pytest.raises(websockets.exceptions.InvalidStatus):
            run_in_thread(connect)
