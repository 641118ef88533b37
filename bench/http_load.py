"""A light HTTP/1.1 load client on asyncio streams: keep-alive connections, closed or open loop.

Why not httpx in threads (the earlier generator): at 4x the sustainable rate (~180 requests/s) 256
client threads fought the server for the GIL and for this machine's 2 cores, so the client's own
queueing showed up as server latency (accepted p99 2.1 s with the server idle half the time) and it
ran out of connections. Here one thread costs ~0.1 ms per request, so what is timed is the server.
Only what the benchmark needs: POST with a JSON body, Content-Length or chunked answers.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import orjson

IDLE_EXPIRY_S = 3.0  # drop a keep-alive connection idle this long: the server closes its end at 5 s


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One keep-alive connection to ``host:port``; :meth:`post` reconnects when the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def _open(self) -> None:
        self.close()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def post(self, path: str, payload: bytes) -> Answer:
        """POST ``payload`` (JSON) to ``path``. A reused connection that turns out closed is opened
        again once: the request never reached the server's application then."""
        fresh = self._writer is None or time.monotonic() - self.last_used > IDLE_EXPIRY_S
        if fresh:
            await self._open()
        try:
            answer = await self._exchange(path, payload)
        except (ConnectionError, asyncio.IncompleteReadError):
            if fresh:
                raise
            await self._open()
            answer = await self._exchange(path, payload)
        self.last_used = time.monotonic()
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    async def _exchange(self, path: str, payload: bytes) -> Answer:
        assert self._reader is not None and self._writer is not None
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
        self._writer.write(head.encode("ascii") + payload)
        await self._writer.drain()
        status_line = await self._reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked()
        else:
            body = await self._reader.read()  # until close
            self.close()
        return Answer(status, headers, body)

    async def _read_chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self._reader.readline()  # the blank line after the last chunk (no trailers sent)
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readline()


def graphql_problem(name: str, answer: Answer) -> tuple[str | None, bool]:
    """(what went wrong or None, whether the server shed it: 503 with Retry-After)."""
    if answer.status == 503 and "retry-after" in answer.headers:
        return None, True
    if answer.status != 200:
        return f"{name}: HTTP {answer.status} {answer.body[:200]!r}", False
    try:
        errors = orjson.loads(answer.body).get("errors")
    except orjson.JSONDecodeError as exc:
        return f"{name}: bad JSON: {exc}", False
    if errors:
        return f"{name}: {errors[0].get('message')}", False
    return None, False


def encode(body: dict) -> bytes:
    return orjson.dumps(body)
