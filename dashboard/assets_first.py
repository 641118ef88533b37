"""Assets first: a new page's screen is computed once the browser has fetched the page's scripts.

The screen of a new page is computed in a later turn of its session than the page itself
(Dashboard.main_area), so the HTML goes out first. The browser then asks for ~20 stylesheets and
scripts (Bokeh, Panel, Tabulator), which this same event loop serves: computing the screen right
away held them back by the whole computation (0.4-0.8 s measured on the meter page), and the
browser, which can do nothing before its scripts arrive, sat idle meanwhile. Served first, they
arrive within tens of milliseconds and the browser parses them while the server computes.

When dashboard.early has sent the scripts before the page was built (and waited here, until_fetched,
for the browser to fetch them), the screen is computed in the turn after the build.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from typing import Callable

from bokeh.document import Document
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

# No asset request in flight for this long [s]: the browser's burst of requests is over (it issues
# them as it parses the page, back to back on up to 6 connections).
QUIET_S = 0.04
# A browser that has the assets cached asks for none: after this long [s] without any request
# started since the page was built, the screen is computed anyway. (A busy browser took up to
# ~0.4 s from the page's last byte to its first request: QUIET_S alone let the screen go first.)
NO_REQUESTS_S = 0.15
# Other visitors' downloads never hold a screen back longer than this [s].
MAX_WAIT_S = 1.0
CHECK_MS = 10


class AssetTraffic:
    """Counts the requests in flight under the static-file mounts (one counter for the process)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.started = 0  # requests started since the process began
        self.last_activity_s = 0.0  # time.monotonic() of the last request's start or end

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            self.in_flight += 1
            self.started += 1
            self.last_activity_s = time.monotonic()
            try:
                await app(scope, receive, send)
            finally:
                self.in_flight -= 1
                self.last_activity_s = time.monotonic()

        return counted

    def quiet(self, now_s: float) -> bool:
        return self.in_flight == 0 and now_s - self.last_activity_s >= QUIET_S


TRAFFIC = AssetTraffic()
# Set while a page is built whose browser has already fetched the scripts (dashboard.early sent them
# before the build): its screen need not wait for them (after_assets runs it in the next turn).
FETCHED_BEFORE_BUILD: ContextVar[bool] = ContextVar("FETCHED_BEFORE_BUILD", default=False)


async def until_fetched(started_before: int, expected: int, *, own: int = 1,
                        traffic: AssetTraffic | None = None) -> None:
    """Wait, serving other requests meanwhile, until the browser has fetched the ``expected`` files it
    was sent the tags of: that many requests came after ``started_before`` and none but the caller's
    ``own`` (the page's GET) is in flight; or none came or ended for NO_REQUESTS_S (its cache had
    them); at most MAX_WAIT_S. (Counted, not waited out: Chrome may hold the next request back for
    longer than QUIET_S while a stylesheet loads.)"""
    traffic = traffic or TRAFFIC
    start_s = time.monotonic()
    while True:
        now_s = time.monotonic()
        idle = traffic.in_flight <= own
        asked_all = traffic.started - started_before >= expected
        if (idle and (asked_all or now_s - traffic.last_activity_s >= NO_REQUESTS_S)) or now_s - start_s >= MAX_WAIT_S:
            return
        await asyncio.sleep(CHECK_MS / 1000)


def count_asset_requests(app, page_path: str) -> int:
    """Count the requests of every mount under /static of the FastAPI ``app`` (Bokeh's and Panel's
    files) and of the page's own GET at ``page_path`` (the quiet time starts when its HTML is out,
    not when the session's work is scheduled during its build); returns how many were wrapped."""
    wrapped = 0
    for route in app.routes:
        path = getattr(route, "path", "")
        page = path == page_path and "GET" in (getattr(route, "methods", None) or ())
        if page or (isinstance(route, Mount) and path.startswith("/static")):
            route.app = TRAFFIC.wrap(route.app)
            wrapped += 1
    return wrapped


def after_assets(doc: Document, callback: Callable[[], None], traffic: AssetTraffic = TRAFFIC) -> None:
    """Run ``callback`` in a later turn of ``doc``'s session (called while the page is built), once
    asset requests have come and none has been in flight for QUIET_S; when none come, after
    NO_REQUESTS_S; at most MAX_WAIT_S from now. In the next turn when they were fetched before the
    build (FETCHED_BEFORE_BUILD)."""
    if FETCHED_BEFORE_BUILD.get():
        doc.add_next_tick_callback(callback)
        return
    start_s, started_before = time.monotonic(), traffic.started

    def check() -> None:
        now_s = time.monotonic()
        asked = traffic.started > started_before or now_s - start_s >= NO_REQUESTS_S
        if (asked and traffic.quiet(now_s)) or now_s - start_s >= MAX_WAIT_S:
            callback()
        else:
            doc.add_timeout_callback(check, CHECK_MS)

    doc.add_timeout_callback(check, int(QUIET_S * 1000))
