"""Helpers for the API tests: a real uvicorn server on a free loopback port, and a GraphQL client."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import uvicorn


@contextlib.contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on 127.0.0.1:<free port>; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class GraphQLClient:
    """POSTs GraphQL documents to /graphql and returns the decoded JSON body."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, headers=headers or {}, timeout=60)

    def __call__(self, query: str, variables: dict | None = None, *, status: int = 200) -> dict:
        r = self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        assert r.status_code == status, r.text[:500]
        return r.json()

    def data(self, query: str, variables: dict | None = None) -> dict:
        body = self(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def error(self, query: str, variables: dict | None = None) -> dict:
        """The one error of a query that must fail."""
        body = self(query, variables)
        assert len(body.get("errors") or []) == 1, body
        return body["errors"][0]

    def close(self) -> None:
        self.http.close()
