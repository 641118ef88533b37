"""Request guards in front of the app: trusted Host headers and load shedding (bounded in-flight queue)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("bess.http")

ALLOWED_HOSTS_ENV = "BESS_ALLOWED_HOSTS"
# Loopback only by default: a DNS-rebinding page on evil.example resolving to 127.0.0.1 sends
# Host: evil.example and is refused.
DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "::1")

MAX_ACTIVE_ENV = "BESS_MAX_ACTIVE"
MAX_QUEUE_ENV = "BESS_MAX_QUEUE"
MAX_WAIT_ENV = "BESS_MAX_QUEUE_WAIT_S"
STANDING_ENV = "BESS_QUEUE_STANDING_S"
# 2 cores and the GIL: more than a few GraphQL requests at once only share the same CPU, so each
# takes longer. What bounds an accepted request's latency is how long it waits, not how many wait:
# at 4x the sustainable rate the server also slows down (it parses and refuses the excess), so a
# queue bounded only by depth (28) took seconds to drain (accepted p99 3.9-5.1 s). So the queue is
# bounded in time, as CoDel does: while more than ``max_active`` requests wait (more than one round
# of slots: not a burst) and the oldest has waited over ``standing_s``, the queue is standing and
# newcomers get 503 at once; and no request waits over ``max_wait_s``.
# Measured on this 2-core machine (bench/load.py, quiet; 20 s closed loop at 32 clients, then 4x
# that rate open loop), as (max_active, max_wait_s, standing_s): sustained rate / accepted p99 at 4x:
#   (4, 1.0, 0.25): 46/s / 1.15 s    (4, 0.5, 0.1): 52/s / 1.12 s    (1, 0.5, 0.1): 45/s / 1.19 s
#   (2, 0.5, 0.1):  55/s / 0.98 s    (2, 0.3, 0.05): 53/s / 0.76 s    (2, 0.3, 0.1): 54/s / 0.88 s
# The last are the defaults: 0.1 s rather than 0.05 s of standing queue before refusing, so that a
# short burst (8 clients at once) is mostly queued, not refused.
# Two running requests keep both cores busy (Polars and NumPy release the GIL) without sharing the
# GIL four ways; a wait over 0.3 s plus the request's own time is what broke the 1-s promise.
DEFAULT_MAX_ACTIVE = 2
DEFAULT_MAX_QUEUE = 28
DEFAULT_MAX_WAIT_S = 0.3
DEFAULT_STANDING_S = 0.1
RETRY_AFTER_S = 1


async def _send_json(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    payload = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": payload})


def _error(code: str, message: str) -> dict:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


# -- trusted hosts --------------------------------------------------------------------------------

def allowed_hosts_from_env() -> tuple[str, ...]:
    """The default loopback names plus the comma-separated names of $BESS_ALLOWED_HOSTS."""
    extra = [h.strip().lower() for h in os.environ.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip()]
    return DEFAULT_ALLOWED_HOSTS + tuple(extra)


def host_name(header: str) -> str:
    """The host of a Host header without its port: 'Example.org:8000' -> 'example.org', '[::1]:80' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):  # IPv6 literal, [::1]:8000
        end = header.find("]")
        return header[1:end] if end > 0 else header
    if header.count(":") > 1:  # a bare IPv6 address (as given to --host)
        return header
    name, _, port = header.partition(":")
    if port and not port.isdigit():
        return header  # not a name with a port: matches nothing
    return name.rstrip(".")


def host_allowed(name: str, allowed: tuple[str, ...]) -> bool:
    """Exact names, '*.example.org' for any subdomain, '*' for any host (behind a proxy that checks)."""
    for pattern in allowed:
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]) and len(name) > len(pattern) - 1:
            return True
    return False


class TrustedHosts:
    """Refuses HTTP requests and websockets whose Host header is not an allowed name (400 / close 1008)."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS) -> None:
        self.app = app
        self.allowed = tuple(h.lower() for h in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        name = host_name(raw)
        if host_allowed(name, self.allowed):
            await self.app(scope, receive, send)
            return
        log.warning("refused Host header %r (allowed: %s)", raw[:100], ", ".join(self.allowed))
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _send_json(send, 400, _error("BAD_INPUT", f"Host {raw[:100]!r} is not allowed; add it to "
                                                         f"{ALLOWED_HOSTS_ENV} (comma-separated) to serve it"))


# -- load shedding --------------------------------------------------------------------------------

@dataclass
class LoadStats:
    """What /healthz reports about the GraphQL queue."""

    active: int
    queued: int
    max_active: int
    max_queue: int
    shed_total: int
    oldest_wait_ms: float
    """How long the oldest waiting request has waited (0 with none waiting)."""

    def as_dict(self) -> dict:
        return {"active": self.active, "queued": self.queued, "max_active": self.max_active,
                "max_queue": self.max_queue, "shed_total": self.shed_total,
                "oldest_wait_ms": round(self.oldest_wait_ms, 1)}


def shed_limits_from_env() -> tuple[int, int, float, float]:
    """(max_active, max_queue, max_wait_s, standing_s) from the environment, else the defaults."""
    def num(name: str, default, cast):
        raw = os.environ.get(name, "").strip()
        try:
            value = cast(raw) if raw else default
        except ValueError:
            raise ValueError(f"{name} must be a number, got {raw!r}") from None
        if value < 0 or (cast is int and name == MAX_ACTIVE_ENV and value < 1):
            raise ValueError(f"{name} must be positive, got {raw!r}")
        return value

    return (num(MAX_ACTIVE_ENV, DEFAULT_MAX_ACTIVE, int), num(MAX_QUEUE_ENV, DEFAULT_MAX_QUEUE, int),
            num(MAX_WAIT_ENV, DEFAULT_MAX_WAIT_S, float), num(STANDING_ENV, DEFAULT_STANDING_S, float))


class ShedQueue:
    """At most ``max_active`` requests run; up to ``max_queue`` more wait (FIFO), each at most
    ``max_wait_s`` for a slot. A newcomer is refused at once when the queue is full, or when it is
    standing: more than ``max_active`` wait and the oldest has waited over ``standing_s`` (see the
    constants above).
    One per app (per worker process); /healthz reports its depth and the oldest wait."""

    def __init__(self, max_active: int = DEFAULT_MAX_ACTIVE, max_queue: int = DEFAULT_MAX_QUEUE,
                 max_wait_s: float = DEFAULT_MAX_WAIT_S, standing_s: float | None = None) -> None:
        self.max_active, self.max_queue, self.max_wait_s = max_active, max_queue, max_wait_s
        self.standing_s = min(DEFAULT_STANDING_S, max_wait_s) if standing_s is None else standing_s
        self.active = 0
        self.shed_total = 0
        self.waiters: deque[tuple[float, asyncio.Future]] = deque()  # (monotonic time queued, future)

    def oldest_wait_s(self) -> float:
        now = time.monotonic()
        for queued_at, fut in self.waiters:  # the head may be a finished waiter not yet removed
            if not fut.done():
                return now - queued_at
        return 0.0

    def stats(self) -> LoadStats:
        return LoadStats(self.active, len(self.waiters), self.max_active, self.max_queue, self.shed_total,
                         self.oldest_wait_s() * 1e3)

    async def acquire(self) -> bool:
        """True with a slot held (give it back with :meth:`release`), False when refused."""
        if self.active < self.max_active and not self.waiters:
            self.active += 1
            return True
        if len(self.waiters) >= self.max_queue or (
                len(self.waiters) > self.max_active and self.oldest_wait_s() > self.standing_s):
            self.shed_total += 1
            return False
        fut = asyncio.get_running_loop().create_future()
        item = (time.monotonic(), fut)
        self.waiters.append(item)
        try:
            await asyncio.wait_for(asyncio.shield(fut), self.max_wait_s)
            return True  # a finishing request handed its slot over (active unchanged)
        except asyncio.TimeoutError:
            if fut.done() and not fut.cancelled():  # handed over just as the wait ended: keep it
                return True
            fut.cancel()
            self.shed_total += 1
            return False
        except asyncio.CancelledError:  # client gone while waiting: give back a slot handed over
            if fut.done() and not fut.cancelled():
                self.release()
            fut.cancel()
            raise
        finally:
            try:
                self.waiters.remove(item)
            except ValueError:
                pass

    def release(self) -> None:
        while self.waiters:
            _, fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self.active -= 1


class LoadShed:
    """Requests under ``prefix`` pass through ``queue``; a refused one gets 503 with Retry-After at
    once instead of queueing for seconds behind the others (a client can retry; a 6-second answer
    helps no one)."""

    def __init__(self, app: ASGIApp, queue: ShedQueue, prefix: str = "/graphql") -> None:
        self.app = app
        self.queue = queue
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        q = self.queue
        if not await q.acquire():
            await _send_json(send, 503, _error("OVERLOADED", f"the server is busy ({q.active} requests "
                                                             f"running, {len(q.waiters)} waiting); retry in "
                                                             f"{RETRY_AFTER_S} s"),
                             [(b"retry-after", str(RETRY_AFTER_S).encode())])
            return
        try:
            await self.app(scope, receive, send)
        finally:
            q.release()
