"""Run a coroutine to its end in a thread of its own, for tests: once a browser test has run, Playwright's
event loop runs in the test thread, and asyncio.run() refuses to start another one there."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Callable


def run_in_thread(make: Callable[[], Awaitable[Any]], *, timeout_s: float = 120.0) -> Any:
    """``asyncio.run(make())`` in a new thread; returns its result or raises what it raised."""
    out: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(asyncio.run(make()))
        except BaseException as exc:  # noqa: BLE001 -- raised again in the calling thread
            errors.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout=timeout_s)
    if worker.is_alive():
        raise TimeoutError(f"coroutine still running after {timeout_s} s")
    if errors:
        raise errors[0]
    return out[0]
