"""Assets first: a new page's screen waits until the browser's requests for scripts are answered."""

from __future__ import annotations

import asyncio
import time

from bokeh.document import Document
from bokeh.server.callbacks import TimeoutCallback
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dashboard import assets_first
from dashboard.assets_first import AssetTraffic, after_assets, count_asset_requests
from tests.run_async import run_in_thread


def test_requests_are_counted_while_in_flight():
    traffic = AssetTraffic()
    release = asyncio.Event()
    seen: list[int] = []

    async def slow_file(scope, receive, send) -> None:
        seen.append(traffic.in_flight)
        await release.wait()

    async def run() -> None:
        task = asyncio.create_task(traffic.wrap(slow_file)({"type": "http"}, None, None))
        await asyncio.sleep(0)
        assert traffic.in_flight == 1 and not traffic.quiet(time.monotonic() + 10)
        release.set()
        await task

    run_in_thread(run)
    assert seen == [1] and traffic.in_flight == 0
    ended = traffic.last_activity_s
    assert not traffic.quiet(ended)  # just ended: the browser may be about to ask for the next file
    assert traffic.quiet(ended + 2 * assets_first.QUIET_S)  # (not exactly QUIET_S: float round-off)


def test_the_static_mounts_and_the_page_are_counted_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setattr(assets_first, "TRAFFIC", AssetTraffic())
    app = FastAPI()
    app.get("/")(lambda: "page")
    app.get("/healthz")(lambda: "ok")
    app.mount("/static/extensions/panel", StaticFiles(directory=tmp_path))
    app.mount("/static", StaticFiles(directory=tmp_path))
    app.mount("/graphql", StaticFiles(directory=tmp_path))
    assert count_asset_requests(app, "/") == 3
    counted = {r.path for r in app.routes if getattr(r.app, "__qualname__", "").endswith("wrap.<locals>.counted")}
    assert counted == {"/", "/static/extensions/panel", "/static"}


def _timeouts(doc: Document) -> list[TimeoutCallback]:
    return [cb for cb in doc.session_callbacks if isinstance(cb, TimeoutCallback)]


def _fire(doc: Document) -> None:
    for cb in _timeouts(doc):
        doc.remove_timeout_callback(cb)
        cb.callback()


def test_the_screen_waits_while_assets_are_in_flight_and_runs_once_quiet(monkeypatch):
    # long enough that a slow test machine does not reach them
    monkeypatch.setattr(assets_first, "NO_REQUESTS_S", 60.0)
    monkeypatch.setattr(assets_first, "MAX_WAIT_S", 60.0)
    doc, traffic, ran = Document(), AssetTraffic(), []
    after_assets(doc, lambda: ran.append("screen"), traffic)
    (first,) = _timeouts(doc)
    assert first.timeout == int(assets_first.QUIET_S * 1000)
    _fire(doc)
    assert ran == [] and len(_timeouts(doc)) == 1  # the page is out, its browser has not asked yet
    traffic.in_flight, traffic.started = 2, 2  # the browser's burst of script requests
    _fire(doc)
    assert ran == [] and len(_timeouts(doc)) == 1  # checks again shortly
    traffic.in_flight, traffic.last_activity_s = 0, time.monotonic() - 1.0
    _fire(doc)
    assert ran == ["screen"] and _timeouts(doc) == []


def test_a_browser_with_the_assets_cached_waits_only_no_requests_s(monkeypatch):
    monkeypatch.setattr(assets_first, "NO_REQUESTS_S", 0.0)
    doc, traffic, ran = Document(), AssetTraffic(), []
    traffic.last_activity_s = time.monotonic() - 1.0  # the page's own response ended a while ago
    after_assets(doc, lambda: ran.append("screen"), traffic)
    _fire(doc)
    assert ran == ["screen"]


def test_other_visitors_downloads_hold_the_screen_back_at_most_max_wait(monkeypatch):
    monkeypatch.setattr(assets_first, "MAX_WAIT_S", 0.0)
    doc, traffic, ran = Document(), AssetTraffic(), []
    traffic.in_flight = 5
    after_assets(doc, lambda: ran.append("screen"), traffic)
    _fire(doc)
    assert ran == ["screen"]


def test_a_page_whose_scripts_were_fetched_before_its_build_computes_its_screen_next_turn():
    doc, ran = Document(), []
    token = assets_first.FETCHED_BEFORE_BUILD.set(True)
    try:
        after_assets(doc, lambda: ran.append("screen"), AssetTraffic())
    finally:
        assets_first.FETCHED_BEFORE_BUILD.reset(token)
    assert _timeouts(doc) == []  # no waiting for requests that already came
    (next_turn,) = doc.session_callbacks
    next_turn.callback()
    assert ran == ["screen"]


def _waited_s(traffic: AssetTraffic, expected: int, browser) -> float:
    """Seconds until_fetched(expected) took while ``browser(traffic)`` (a coroutine) plays requests."""

    async def run() -> float:
        traffic.in_flight, traffic.started = 1, 1  # the page's own GET
        traffic.last_activity_s = time.monotonic()
        player = asyncio.create_task(browser(traffic))
        t0 = time.monotonic()
        await assets_first.until_fetched(1, expected, traffic=traffic)
        waited_s = time.monotonic() - t0
        player.cancel()
        return waited_s

    return run_in_thread(run)


async def _one_request(traffic: AssetTraffic, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    async def file(scope, receive, send) -> None:
        await asyncio.sleep(0.01)
    await traffic.wrap(file)({"type": "http"}, None, None)


def test_the_build_waits_for_every_announced_file_even_across_a_pause(monkeypatch):
    """Chrome held its later requests back for longer than QUIET_S while a stylesheet loaded: the wait
    counts the files instead of timing a quiet gap."""
    monkeypatch.setattr(assets_first, "NO_REQUESTS_S", 0.5)

    async def browser(traffic) -> None:
        await _one_request(traffic, 0.0)
        await asyncio.gather(*(_one_request(traffic, 0.25) for _ in range(2)))  # after a pause

    waited = _waited_s(AssetTraffic(), 3, browser)
    assert 0.25 <= waited < 0.5  # after the last file, not after the first or at the timeout


def test_a_browser_that_asks_for_nothing_holds_the_build_only_no_requests_s(monkeypatch):
    monkeypatch.setattr(assets_first, "NO_REQUESTS_S", 0.2)

    async def cached_browser(traffic) -> None:
        await asyncio.sleep(60)

    assert 0.2 <= _waited_s(AssetTraffic(), 3, cached_browser) < 2.0


def test_a_browser_that_never_finishes_holds_the_build_at_most_max_wait(monkeypatch):
    monkeypatch.setattr(assets_first, "MAX_WAIT_S", 0.3)

    async def endless_download(traffic) -> None:
        async def stuck(scope, receive, send) -> None:
            await asyncio.sleep(60)
        await traffic.wrap(stuck)({"type": "http"}, None, None)

    assert 0.3 <= _waited_s(AssetTraffic(), 3, endless_download) < 5.0
