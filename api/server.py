"""Composition root: one ASGI app with GraphQL at /graphql, /healthz and the dashboard at /; `bess serve`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import HTMLResponse

from api.app import create_app
from api.guard import allowed_hosts_from_env, host_name
from api.protocol import server_config_kwargs
from core.service import QueryService
from data.store import StoreError, resolve_store_root
from data.verify import start_verification

log = logging.getLogger("bess.server")

_PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>BESS-OS</title></head>
<body><h1>BESS-OS</h1><p>The dashboard is not installed in this build.</p>
<ul><li><a href="/graphql">GraphQL API and GraphiQL: /graphql</a></li>
<li><a href="/healthz">Health check: /healthz</a></li></ul></body></html>"""


def _placeholder(app: FastAPI) -> None:
    async def placeholder(request) -> HTMLResponse:  # noqa: ANN001
        return HTMLResponse(_PLACEHOLDER)

    app.add_route("/", placeholder, methods=["GET"])


def build_app(store: str | Path | QueryService | None = None, *, warm: bool = True,
              dashboard: bool = True, allowed_hosts: tuple[str, ...] | None = None) -> FastAPI:
    """The whole server app over the store (None: $BESS_STORE, else ./.bess/store).

    GraphQL and /healthz are routed before the dashboard's catch-all page at /. With
    ``dashboard=False`` (or when the dashboard cannot be imported) / is a placeholder page.
    The guards of api.app.create_app (Host check, token, load shedding) cover the dashboard too.
    """
    service = store if isinstance(store, QueryService) else QueryService(store)
    add = dash_warm = None
    if dashboard:
        try:
            from dashboard.app import add_dashboard as add, warm_up as dash_warm  # the one api -> dashboard import
        except ImportError as exc:
            log.warning("dashboard not available (%s); serving a placeholder at /", exc)
    app = create_app(service, warm=warm, warm_ups=(dash_warm,) if dash_warm else (), allowed_hosts=allowed_hosts)
    if add is not None:
        add(app, service)
    else:
        _placeholder(app)
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, store: str | Path | None = None) -> int:
    """Run the one server until interrupted; returns the exit code for `bess serve`."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = resolve_store_root(store)
    try:
        start_verification(QueryService(root).snapshot())  # checksums in the background; /healthz reports faults
    except StoreError as exc:
        print(f"bess serve: warning: {exc}; /healthz answers 503 until a store is published", file=sys.stderr)
    hosts = allowed_hosts_from_env()
    if host not in ("0.0.0.0", "::", "") and host_name(host) not in hosts:
        hosts += (host_name(host),)  # the name it was told to listen on is trusted too
    app = build_app(root, allowed_hosts=hosts)
    base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0', '::') else host}:{port}"
    print(f"BESS-OS serving store {root}\n  dashboard: {base}/\n  GraphQL:   {base}/graphql\n"
          f"  health:    {base}/healthz", flush=True)
    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_config=None, lifespan="on",
                            **server_config_kwargs())
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        print(f"bess serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 2
    return 0
