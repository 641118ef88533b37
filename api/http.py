"""ASGI pieces around the schema: orjson requests and responses, body cap, request log, health."""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import time
from typing import Any, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from cross_web import HTTPException  # the exception Strawberry's HTTP views turn into a status

from api.context import Context
from api.limits import BODY_READ_TIMEOUT_S, MAX_BODY_BYTES, MAX_JSON_DEPTH
from core.service import QueryService
from data.store import StoreError
from data.verify import store_health, unavailable_reason

TOKEN_ENV = "BESS_API_TOKEN"
CORS_ENV = "BESS_CORS_ORIGINS"
log = logging.getLogger("bess.http")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _error_body(code: str, message: str) -> dict:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


class GraphQLApp(GraphQL):
    """Strawberry's ASGI view with a per-request Context and orjson encoding (NumPy arrays pass through)."""

    def __init__(self, schema, service: QueryService, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:  # a request that is not GraphQL: its status, a JSON body with a code
            response = _json(exc.status_code, _error_body("BAD_INPUT", exc.reason))
        await response(scope, receive, send)

    async def get_context(self, request, response) -> Context:  # noqa: ANN001
        # One request, one store version, even while an ingest publishes a new one.
        try:
            service = self.service.pinned()
        except StoreError:  # nothing published: resolvers answer UNAVAILABLE
            service = self.service
        return Context(service=service, request=request, response=response)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)

    def decode_json(self, data: str | bytes) -> object:
        # Strict JSON (no NaN/Infinity, no lone surrogates; integers beyond 64 bits become floats, which
        # an Int argument then refuses as BAD_INPUT), and the nesting is checked before any parsing.
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        depth = json_depth(raw)
        if depth > MAX_JSON_DEPTH:
            raise HTTPException(400, f"JSON nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, f"Unable to parse request body as JSON: {exc}") from None

    def parse_json(self, data: str | bytes) -> Any:
        # Strawberry calls .get() on whatever the body decodes to: refuse non-objects with a 400 first.
        parsed = super().parse_json(data)
        items = parsed if isinstance(parsed, list) else [parsed]
        if not all(isinstance(item, dict) for item in items):
            raise HTTPException(400, "the request body must be a JSON object like {\"query\": \"...\"}")
        return parsed


class RequestLog:
    """One log line per HTTP request: method, path, status, duration and response size."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        seen = {"status": 500, "bytes": 0}

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            log.info('%s %s %d %.1f ms %d B', scope["method"], scope["path"], seen["status"],
                     (time.perf_counter() - t0) * 1000, seen["bytes"])


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes under ``prefix`` with 413, before the app parses them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, prefix: str = "/graphql",
                 timeout_s: float = BODY_READ_TIMEOUT_S) -> None:
        self.app = app
        self.limit = limit
        self.prefix = prefix
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        too_big = _json(413, _error_body("LIMIT", f"request body exceeds {self.limit} bytes"))
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await too_big(scope, receive, send)
            return
        # Bodies are small by definition here: buffer up to the limit, then replay to the app.
        chunks, size, more = [], 0, True
        while more:
            try:  # a body trickled in byte by byte (slowloris) would hold its slot forever
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except asyncio.TimeoutError:
                await _json(408, _error_body("BAD_INPUT", f"request body not received within {self.timeout_s:.0f} s"),
                            {"Connection": "close"})(scope, receive, send)
                return
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                await too_big(scope, receive, send)
                return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def token_from_env() -> str | None:
    """$BESS_API_TOKEN as set (one token or several, comma-separated); None when unset or empty."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    return token or None


def json_depth(data: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep arrays and objects nest in a JSON text, counted without parsing (strings skipped): the
    depth once it exceeds ``limit`` (counting stops there), else some number <= ``limit``. Linear in the
    size, and free when the text has too few brackets to exceed the limit."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return 0 if not (b"[" in data or b"{" in data) else 1  # cannot exceed the limit
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def cors_origins_from_env() -> list[str]:
    return [o.strip() for o in os.environ.get(CORS_ENV, "").split(",") if o.strip()]


def package_version() -> str:
    try:
        return importlib.metadata.version("bess-os")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def health(service: QueryService, load: Callable[[], dict] | None = None) -> tuple[int, dict]:
    """Store status, software version, manifest info and (``load``) the request queue; 503 when no store
    is published."""
    # pid: which worker process of `bess serve --workers N` answered (they share one port)
    out: dict[str, Any] = {"status": "ok", "version": package_version(), "pid": os.getpid()}
    if load is not None:
        out["load"] = load()
    try:
        snap = service.snapshot()

        def summary() -> dict:
            c = snap.catalog()
            return {"version": c.version, "manifest_version": c.manifest_version,
                    "pipeline_version": c.pipeline_version, "created_utc": c.created_utc,
                    "systems": len(c.systems)}

        out["store"] = service.cached(snap, ("healthz",), summary)
        state = store_health(snap)
    except (StoreError, OSError, ValueError) as exc:
        log.warning("healthz: store unavailable: %s", exc)
        out.update(status="unavailable", store=None, reason=unavailable_reason(exc))
        return 503, out
    out["store"] = {**out["store"], "checksums_verified": state.checksums_verified}
    if state.problems:  # the intact part is still served
        out.update(status="degraded", reason=f"{len(state.problems)} store file(s) missing or damaged; "
                   "run 'bess ingest' to rebuild them", problems=list(state.problems[:20]))
    return 200, out


def health_endpoint(service: QueryService, load: Callable[[], dict] | None = None):
    async def healthz(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        status, body = await run_in_threadpool(health, service, load)
        return _json(status, body, {"Cache-Control": "no-store"})

    return healthz
