"""Composition root: one ASGI app with GraphQL at /graphql, /healthz and the dashboard at /; `bess serve`."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import HTMLResponse

from api.app import create_app
from api.guard import ALLOWED_HOSTS_ENV, allowed_hosts_from_env, host_name
from api.gzip_static import compress_static
from api.protocol import server_config_kwargs
from core.fleet import SCHEDULER_ENV
from core.service import QueryService
from data.store import STORE_ENV, StoreError, resolve_store_root
from data.verify import start_verification

log = logging.getLogger("bess.server")

_PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>BESS-OS</title></head>
<body><h1>BESS-OS</h1><p>{why}</p>
<ul><li><a href="/graphql">GraphQL API and GraphiQL: /graphql</a></li>
<li><a href="/healthz">Health check: /healthz</a></li></ul></body></html>"""
NOT_INSTALLED = "The dashboard is not installed in this build."
# Measured with --workers 2 and headless Chromium: the page GET builds a Bokeh session in one worker,
# the page's websocket is a second connection the kernel may give to the other worker, which does
# not know the session; bokeh_fastapi then builds one from the websocket's scope, Panel fails on it
# ("'super' object has no attribute '__getattr__'") and the page stays empty. A shared socket has
# no affinity, so the workers serve no dashboard rather than one that fails every other visit.
NOT_ON_WORKERS = ("The dashboard is not served by <code>bess serve --workers N</code>: a dashboard session lives "
                  "in one process, and its websocket may reach another worker. Run it in one process "
                  "(<code>bess serve --port 8001</code>, same store), or run single-process servers behind "
                  "a proxy with sticky sessions (README, <i>The dashboard with several workers</i>).")


def _placeholder(app: FastAPI, why: str = NOT_INSTALLED) -> None:
    page = _PLACEHOLDER.format(why=why)

    async def placeholder(request) -> HTMLResponse:  # noqa: ANN001
        return HTMLResponse(page)

    app.add_route("/", placeholder, methods=["GET"])


def build_app(store: str | Path | QueryService | None = None, *, warm: bool = True,
              dashboard: bool = True, allowed_hosts: tuple[str, ...] | None = None,
              placeholder: str = NOT_INSTALLED, freeze_heap: bool = False) -> FastAPI:
    """The whole server app over the store (None: $BESS_STORE, else ./.bess/store).

    GraphQL and /healthz are routed before the dashboard's catch-all page at /. With
    ``dashboard=False`` (or when the dashboard cannot be imported) / is a placeholder page saying
    ``placeholder``. ``freeze_heap``: a serving process leaves its start-up objects out of garbage
    collections (api.app.freeze_startup_heap); not for an app inside a test or script process.
    The guards of api.app.create_app (Host check, token, load shedding) cover the dashboard too.
    """
    service = store if isinstance(store, QueryService) else QueryService(store)
    add = dash_warm = None
    if dashboard:
        try:
            from dashboard.app import add_dashboard as add, warm_up as dash_warm  # the one api -> dashboard import
        except ImportError as exc:
            log.warning("dashboard not available (%s); serving a placeholder at /", exc)
    app = create_app(service, warm=warm, warm_ups=(dash_warm,) if dash_warm else (), allowed_hosts=allowed_hosts,
                     freeze_heap=freeze_heap)
    if add is not None:
        add(app, service)
    else:
        _placeholder(app, placeholder if not dashboard else NOT_INSTALLED)
    compress_static(app)  # the pages' scripts (dashboard, GraphiQL) gzip-compressed, each file once
    return app


# Each worker process of `bess serve --workers N` builds its own app from these (uvicorn starts
# workers by importing an app factory by name, so the options travel as environment variables).
APP_FACTORY = "api.server:app_from_env"
# uvicorn's supervisor kills a worker that does not answer its ping within this; a worker busy with
# a cell analysis on a 2-core machine shared with an ingest can be slow to answer, not dead.
WORKER_HEALTHCHECK_S = 30
# "0" skips the start-up warm-up (kernel compile, cell analyses, dashboard): a quicker start for
# tests and scripts; the first requests then pay for it.
WARM_UP_ENV = "BESS_WARM_UP"


def warm_from_env() -> bool:
    return os.environ.get(WARM_UP_ENV, "1").strip() != "0"


def app_from_env() -> FastAPI:
    """The app of one worker process: the store of $BESS_STORE, hosts of $BESS_ALLOWED_HOSTS, and the
    same guards and warm-up as a single server. Each worker verifies the store's checksums itself,
    because the fault record that /healthz reports is per process. No dashboard (NOT_ON_WORKERS)."""
    # the worker's pid in every line: N workers write to one log
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s")
    root = resolve_store_root(None)
    try:
        start_verification(QueryService(root).snapshot())
    except StoreError as exc:
        log.warning("%s; /healthz answers 503 until a store is published", exc)
    return build_app(root, warm=warm_from_env(), dashboard=False, placeholder=NOT_ON_WORKERS,
                     freeze_heap=True)


def serve(host: str = "127.0.0.1", port: int = 8000, store: str | Path | None = None, workers: int = 1,
          scheduler: str | None = None) -> int:
    """Run the server until interrupted; returns the exit code for `bess serve`.

    ``workers`` > 1 runs that many processes on one listening socket (uvicorn's supervisor restarts a
    worker that dies). They share nothing but the store: each resolves the published version per
    request and keeps its own per-version caches, so a publish is seen by every worker on its next
    request, and the same holds for servers on several machines behind a balancer.
    ``scheduler`` (a Dask scheduler address; default $BESS_SCHEDULER) computes the fleet summary as
    Dask tasks on that cluster (core.fleet).
    """
    import uvicorn

    if workers < 1:
        print(f"bess serve: --workers must be at least 1, got {workers}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if scheduler:
        os.environ[SCHEDULER_ENV] = scheduler  # read by core.fleet, in this process and in every worker
    root = resolve_store_root(store)
    hosts = allowed_hosts_from_env()
    if host not in ("0.0.0.0", "::", "") and host_name(host) not in hosts:
        hosts += (host_name(host),)  # the name it was told to listen on is trusted too
    base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0', '::') else host}:{port}"
    dash = f"{base}/" if workers == 1 else "not served by several workers (one process serves it: README)"
    banner = (f"BESS-OS serving store {root}" + (f" from {workers} worker processes" if workers > 1 else "")
              + f"\n  dashboard: {dash}\n  GraphQL:   {base}/graphql\n  health:    {base}/healthz")
    if workers > 1:
        # the workers are spawned, not forked: they read their options from the environment
        os.environ[STORE_ENV] = str(root.resolve()) if isinstance(root, Path) else str(root)
        os.environ[ALLOWED_HOSTS_ENV] = ",".join(hosts)
        try:
            QueryService(root).snapshot()
        except StoreError as exc:
            print(f"bess serve: warning: {exc}; /healthz answers 503 until a store is published", file=sys.stderr)
        print(banner, flush=True)
        try:
            uvicorn.run(APP_FACTORY, factory=True, workers=workers, host=host, port=port, access_log=False,
                        log_config=None, lifespan="on", timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
                        **server_config_kwargs())
        except OSError as exc:
            print(f"bess serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
            return 2
        except SystemExit as exc:  # uvicorn exits when it cannot bind the shared socket (it logged why)
            if exc.code:
                print(f"bess serve: cannot listen on {host}:{port} (see the log line above)", file=sys.stderr)
                return 2
        return 0
    try:
        start_verification(QueryService(root).snapshot())  # checksums in the background; /healthz reports faults
    except StoreError as exc:
        print(f"bess serve: warning: {exc}; /healthz answers 503 until a store is published", file=sys.stderr)
    app = build_app(root, warm=warm_from_env(), allowed_hosts=hosts, freeze_heap=True)
    print(banner, flush=True)
    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_config=None, lifespan="on",
                            **server_config_kwargs())
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        print(f"bess serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 2
    return 0
