"""A real server on loopback (uvicorn in a thread) for the dashboard's browser tests and benchmarks."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(app) -> Iterator[str]:
    """Serve ``app`` on a free loopback port until the block ends; yields the base URL."""
    import uvicorn

    from api.protocol import server_config_kwargs

    port = free_port()
    # the protocols `bess serve` runs (header deadline, websocket compression level)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", access_log=False, **server_config_kwargs()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300  # startup runs the warm-ups (slow on a loaded 2-core machine)
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("dashboard test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        _forget_session_documents()


def _forget_session_documents() -> None:
    """Drop Bokeh curdoc patches a stopped server left behind.

    A session callback (the dashboard's 3 s store-version check) cut off by the server's stop never
    leaves Bokeh's ``patch_curdoc`` block, so ``curdoc()`` in this process would keep returning that
    session's destroyed Document, and a later ``hv.render`` in another test fails on it
    ('Document' object has no attribute '_theme'). Outside tests the process ends with its server.
    """
    from bokeh.io import doc as bokeh_doc

    bokeh_doc._PATCHED_CURDOCS.clear()
