"""Static files gzip-compressed for clients that accept it, each file compressed once per process.

A dashboard page loads ~3.4 MB of scripts and stylesheets (Bokeh, Panel, Tabulator) and GraphiQL
3.5 MB; sent as they are, over a site's 10 Mbit/s link that is ~3 s before a page can show anything.
Compressed they are ~0.28 of that. Only the response body changes: the mount's own app still answers
every request (paths, 404s, conditional requests with their 304s, ranges), and a compressed answer
keeps its ETag, weakened (RFC 9110: another representation of the same file), which the static-file
app accepts back in If-None-Match.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict
from typing import Iterable

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Smaller files gain too little for a compressed copy.
MIN_BYTES = 1024
# zlib level: 6 compresses bokeh.min.js (1.27 MB) to 0.277 in ~50 ms; 9 to 0.277 in ~65 ms, 1 to 0.33.
LEVEL = 6
# The compressed copies kept [bytes]: every script and stylesheet the pages and GraphiQL load is ~4 MB.
CACHE_BYTES = 64 * 1024 * 1024
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


class GzipStatic:
    """Wraps a static-file ASGI app: a 200 answer with a compressible type, to a GET that accepts gzip
    and asks for no range, goes out gzip-compressed (compressed in a worker thread, then kept)."""

    def __init__(self, app: ASGIApp, cache: "CompressedCache | None" = None) -> None:
        self.app = app
        self.cache = cache or CACHE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not _wants_gzip(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _compressible(message):
                    start = message  # held with the body: its length and encoding change
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send_compressed(scope, start, b"".join(parts), send)
            else:
                await send(message)

        await self.app(scope, receive, capture)

    async def _send_compressed(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        headers = MutableHeaders(raw=list(start["headers"]))
        key = (scope.get("root_path", "") + scope["path"], headers.get("etag", ""), len(body))
        packed = self.cache.get(key)
        if packed is None:
            packed = await anyio.to_thread.run_sync(gzip.compress, body, LEVEL)  # zlib frees the GIL
            self.cache.put(key, packed)
        headers["content-encoding"] = "gzip"
        headers["content-length"] = str(len(packed))
        headers.add_vary_header("Accept-Encoding")
        if "etag" in headers and not headers["etag"].startswith("W/"):
            headers["etag"] = "W/" + headers["etag"]
        await send({**start, "headers": headers.raw})
        await send({"type": "http.response.body", "body": packed, "more_body": False})


class CompressedCache:
    """Compressed bodies by (path, ETag, length), oldest dropped beyond ``max_bytes``."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple) -> bytes | None:
        packed = self._items.get(key)
        if packed is not None:
            self._items.move_to_end(key)
        return packed

    def put(self, key: tuple, packed: bytes) -> None:
        if key in self._items or len(packed) > self.max_bytes:
            return
        self._items[key] = packed
        self._bytes += len(packed)
        while self._bytes > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped)


CACHE = CompressedCache()


def _wants_gzip(headers: Headers) -> bool:
    accepted = [part.split(";")[0].strip().lower() for part in headers.get("accept-encoding", "").split(",")]
    return "gzip" in accepted and "range" not in headers


def _compressible(start: Message) -> bool:
    headers = Headers(raw=start["headers"])
    kind = headers.get("content-type", "").lower()
    return (start["status"] == 200 and "content-encoding" not in headers and kind.startswith(_COMPRESSIBLE)
            and int(headers.get("content-length", "0") or 0) >= MIN_BYTES)


def compress_static(app, prefixes: Iterable[str] = ("/static", "/graphiql")) -> int:
    """Wrap every mount of the FastAPI/Starlette ``app`` under ``prefixes`` in GzipStatic; returns how many."""
    wrapped = 0
    for route in app.routes:
        if isinstance(route, Mount) and route.path.startswith(tuple(prefixes)):
            route.app = GzipStatic(route.app)
            wrapped += 1
    return wrapped
