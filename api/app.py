"""App factory: the GraphQL endpoint, /healthz and the protections, over one QueryService."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import WebSocketRoute

from api.auth import AuthGate, parse_tokens
from api.graphiql import LocalGraphiQLApp, mount_assets
from api.guard import LoadShed, ShedQueue, TrustedHosts, allowed_hosts_from_env, shed_limits_from_env
from api.http import BodyLimit, RequestLog, cors_origins_from_env, health_endpoint, token_from_env
from api.limits import BODY_READ_TIMEOUT_S, MAX_BODY_BYTES
from api.schema import schema
from core.service import QueryService
from data.store import StoreError

log = logging.getLogger("bess.api")
_UNSET = object()


def warm_up(service: QueryService) -> None:
    """Compile the Numba kernels and precompute each BESS's cell analysis (QueryService.warm_up), so the
    first real request is not a JIT compile; never stops the server."""
    import time

    t0 = time.perf_counter()
    try:
        service.warm_up()
    except StoreError as exc:
        log.warning("warm-up skipped: %s", exc)
        return
    except Exception:  # noqa: BLE001 -- a failed warm-up only costs the first request time
        log.warning("warm-up failed", exc_info=True)
        return
    log.info("warm-up done in %.1f s", time.perf_counter() - t0)


def freeze_startup_heap() -> int:
    """Move every object alive after start-up (modules, compiled kernels, warm caches: ~460,000) out of
    the garbage collector's sight; returns how many.

    A full collection walked all of them: 0.45 s during which the server answered nothing. Panel
    runs one after every closed dashboard session, so each visitor leaving stalled every other page
    (and the GraphQL API) for that long. Frozen objects are never freed, which is what start-up
    objects are for; everything made later is collected as before.
    """
    import gc

    gc.collect()  # free start-up garbage first, so it is not frozen with the rest
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("start-up heap frozen: %d objects left out of garbage collections", frozen)
    return frozen


def create_app(service: QueryService | str | Path | None = None, *, token: str | None | object = _UNSET,
               cors_origins: list[str] | None = None, max_body_bytes: int = MAX_BODY_BYTES,
               warm: bool = False, warm_ups: tuple[Callable[[QueryService], object], ...] = (),
               freeze_heap: bool = False,
               graphiql: bool = True, allowed_hosts: tuple[str, ...] | None = None,
               shed: ShedQueue | None = None, body_timeout_s: float = BODY_READ_TIMEOUT_S) -> FastAPI:
    """The API app: GraphQL (+ GraphiQL) at /graphql and /healthz, and the guards of every route.

    ``service`` is a QueryService or a store path (None: $BESS_STORE, else ./.bess/store).
    ``token`` defaults to $BESS_API_TOKEN (None: no token; several comma-separated); with a token every
    route but /healthz needs it, including the dashboard that api.server adds later.
    ``cors_origins`` defaults to $BESS_CORS_ORIGINS, ``allowed_hosts`` (Host header names) to loopback
    plus $BESS_ALLOWED_HOSTS, ``shed`` (the GraphQL request queue) to $BESS_MAX_ACTIVE/$BESS_MAX_QUEUE.
    ``warm`` compiles the kernels at startup, then runs each of ``warm_ups`` (e.g. the dashboard's);
    ``freeze_heap`` then calls freeze_startup_heap (for a serving process only); with ``warm``, the
    coroutine functions in ``app.state.after_warm_up`` (added by whoever needs the app) run last.
    """
    if not isinstance(service, QueryService):
        service = QueryService(service)
    tokens = parse_tokens(token_from_env() if token is _UNSET else token)
    origins = cors_origins_from_env() if cors_origins is None else cors_origins
    hosts = allowed_hosts_from_env() if allowed_hosts is None else allowed_hosts
    shed = shed if shed is not None else ShedQueue(*shed_limits_from_env())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warm:
            await run_in_threadpool(warm_up, service)
            for extra in warm_ups:
                try:
                    await run_in_threadpool(extra, service)
                except Exception:  # noqa: BLE001 -- a failed warm-up only costs the first visitor time
                    log.warning("warm-up %s failed", getattr(extra, "__qualname__", extra), exc_info=True)
        if freeze_heap:
            freeze_startup_heap()
        if warm:  # async steps that need the app (e.g. the dashboard serving its page once); not frozen
            for step in getattr(_app.state, "after_warm_up", ()):
                try:
                    await step()
                except Exception:  # noqa: BLE001 -- as above
                    log.warning("start-up step %s failed", getattr(step, "__qualname__", step), exc_info=True)
        yield

    app = FastAPI(title="BESS-OS", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.service = service
    app.state.shed = shed
    # GET stays for links and caches; Strawberry runs only queries over GET (a mutation is a 400),
    # and this schema has no mutations at all. GraphiQL's page and assets are served from here.
    graphql = LocalGraphiQLApp(schema, service, graphql_ide="graphiql" if graphiql else None)
    app.add_route("/graphql", graphql, methods=["GET", "POST"])
    app.router.routes.append(WebSocketRoute("/graphql", graphql))  # subscriptions (graphql-transport-ws)
    if graphiql:
        mount_assets(app)
    app.add_route("/healthz", health_endpoint(service, lambda: shed.stats().as_dict()), methods=["GET"])
    # Added innermost first: the request log wraps everything, so refused requests are logged too.
    # Order from outside: log, Host check, CORS, token, load shedding, body cap, app.
    app.add_middleware(BodyLimit, limit=max_body_bytes, timeout_s=body_timeout_s)
    app.add_middleware(LoadShed, queue=shed)
    if tokens:
        app.add_middleware(AuthGate, tokens=tokens)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "OPTIONS"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(TrustedHosts, allowed=hosts)
    app.add_middleware(RequestLog)
    return app

