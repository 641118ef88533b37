"""The dashboard under hostile names, links and missing credentials, in headless Chromium against a real server.

- a system named ``<img src=x onerror=...>`` runs no script on any screen (issue 13, item 2);
- ``?system=%ff`` shows a warning and the default page, never a traceback (item 3);
- with BESS_API_TOKEN set the page, its static files and its websocket need the token; a browser
  signs in through the login form and gets an HttpOnly, SameSite=Strict session cookie (item 1).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from data.ingest import ingest
from tests.dashboard_server import running_server  # the browser fixture is in conftest.py
from tests.reliability_corpus import CLEAN_BESS, CLEAN_METER, write_clean

pytestmark = pytest.mark.browser

# Each payload sets a marker when its script runs, and also pops a dialog (both are watched).
EVIL = "<img src=x onerror=alert(1)>"
EVIL_SVG = '<svg onload="window.__xss=1">'
TOKEN = "browser-test-token-7d2f9c"
_TRACE = re.compile(r"Traceback|UnicodeDecodeError|File \"|/dashboard/|\.py\b")


def rename_system(store: Path, old: str, new: str) -> None:
    """Give a published system another id, bypassing the ingest's name rules (defence in depth: the
    dashboard must escape whatever a store holds)."""
    version = (store / "CURRENT").read_text().strip()
    vdir = store / "versions" / version
    manifest_path = vdir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["systems"][new] = manifest["systems"].pop(old)
    for unit in manifest["systems"][new]["units"].values():
        for out in unit["outputs"].values():
            out["relpath"] = out["relpath"].replace(f"systems/{old}/", f"systems/{new}/", 1)
    (vdir / "systems" / old).rename(vdir / "systems" / new)
    manifest_path.write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def evil_store(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("evil")
    write_clean(base / "in")
    store = base / "store"
    assert ingest([base / "in"], store, progress=False).published_version
    rename_system(store, CLEAN_METER, EVIL)
    return store


@pytest.fixture(scope="module")
def evil_url(evil_store, monkeypatch_module):
    monkeypatch_module.delenv("BESS_API_TOKEN", raising=False)
    from api.server import build_app

    with running_server(build_app(evil_store, warm=False)) as url:
        yield url


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


class Watched:
    """A page that records dialogs (alert) and page errors, the two ways injected script shows itself."""

    def __init__(self, browser, url: str) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)

    def find(self, selector: str, timeout: float = 90_000):
        loc = self.page.locator(selector).first
        loc.wait_for(state="visible", timeout=timeout)
        return loc

    def all_text(self) -> str:
        """Every text on the page, shadow roots included (Panel renders into them; body.innerText misses it)."""
        return self.page.evaluate("""() => {
            const out = [];
            const walk = (root) => {
                out.push(root.textContent || '');
                root.querySelectorAll('*').forEach(e => e.shadowRoot && walk(e.shadowRoot));
            };
            walk(document.body);
            return out.join('\\n');
        }""")

    def assert_no_script_ran(self) -> None:
        self.page.wait_for_timeout(1000)  # let late websocket patches land and images fail
        assert self.dialogs == [], self.dialogs
        assert self.page.evaluate("() => window.__xss === undefined"), "injected script ran"
        # No element came from a name: an <img src=x> or <svg onload> exists only if it was parsed as HTML.
        injected = self.page.evaluate("""() => {
            const hits = [];
            const walk = (root) => {
                root.querySelectorAll('img[src="x"], svg[onload]').forEach(e => hits.push(e.outerHTML));
                root.querySelectorAll('*').forEach(e => e.shadowRoot && walk(e.shadowRoot));
            };
            walk(document);
            return hits;
        }""")
        assert injected == [], injected


def test_system_named_like_html_runs_no_script_on_the_compare_screen(browser, evil_url):
    p = Watched(browser, f"{evil_url}/?view=compare&system={quote(EVIL)}&other={CLEAN_BESS}&range=all")
    try:
        p.find(".compare-kpis .tabulator-row")
        titles = p.page.locator(".compare-kpis .tabulator-col-title").all_inner_texts()
        assert EVIL in titles and CLEAN_BESS in titles, titles  # shown as the text it is
        p.assert_no_script_ran()
    finally:
        p.page.close()


def test_system_named_like_html_runs_no_script_on_the_meter_screen(browser, evil_url):
    p = Watched(browser, f"{evil_url}/?view=meter&system={quote(EVIL)}&range=all")
    try:
        p.find(".kpi-tile")
        p.find(".system-select")
        p.assert_no_script_ran()
    finally:
        p.page.close()


def test_system_named_like_html_runs_no_script_on_the_fleet_screen(browser, evil_url):
    """The landing lists every system id of the store: each is text in the table."""
    p = Watched(browser, f"{evil_url}/")
    try:
        p.find(".fleet-table .tabulator-row")
        names = p.page.locator(".fleet-table .tabulator-cell[tabulator-field=system]").all_inner_texts()
        assert EVIL in names and CLEAN_BESS in names, names
        p.assert_no_script_ran()
    finally:
        p.page.close()


def test_hostile_link_values_run_no_script_and_show_no_trace(browser, evil_url):
    """Unknown ids and junk in the link: defaults, no script, no internals."""
    p = Watched(browser, f"{evil_url}/?view=compare&system={quote(EVIL_SVG)}&other={quote(EVIL)}"
                         f"&lang={quote(EVIL_SVG)}&max_points=%3Cb%3E")
    try:
        p.find(".compare-kpis .tabulator-row")
        p.assert_no_script_ran()
        assert not _TRACE.search(p.all_text())
    finally:
        p.page.close()


def test_undecodable_link_value_shows_a_warning_and_no_traceback(browser, evil_url):
    p = Watched(browser, f"{evil_url}/?system=%ff&view=meter")
    try:
        p.find(".link-warning")
        warning = p.page.get_by_text(re.compile("reset to their defaults")).first
        assert "reset to their defaults: system." in warning.text_content()
        p.find(".kpi-tile")  # the default system's meter screen
        text = p.all_text()
        assert "Meter" in text  # the walk sees the page's text
        assert not _TRACE.search(text), _TRACE.search(text)
        assert p.errors == [], p.errors
    finally:
        p.page.close()


# -- the dashboard behind the token ---------------------------------------------------------------

@pytest.fixture(scope="module")
def locked_url(evil_store, monkeypatch_module):
    monkeypatch_module.setenv("BESS_API_TOKEN", f"{TOKEN}, second-token-for-rotation")
    from api.server import build_app

    app = build_app(evil_store, warm=False)
    monkeypatch_module.delenv("BESS_API_TOKEN")
    with running_server(app) as url:
        yield url


def test_locked_dashboard_asks_a_browser_to_sign_in_and_then_works(browser, locked_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{locked_url}/?view=bess&system={CLEAN_BESS}")
        assert "/login" in page.url
        assert page.locator(".bk-Column, .system-select").count() == 0  # nothing of the page leaked
        page.fill("#token", "wrong-token")
        page.click("button[type=submit]")
        page.locator("[role=alert]").wait_for(state="visible", timeout=30_000)
        assert "/login" in page.url
        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        page.locator(".bess-kpis").first.wait_for(state="visible", timeout=90_000)  # back where it asked to go
        assert "view=bess" in page.url
        cookie = next(c for c in page.context.cookies() if c["name"] == "bess_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert "bess_session" not in page.evaluate("() => document.cookie")  # script cannot read it
    finally:
        page.close()


def test_locked_dashboard_refuses_page_static_files_and_websocket_without_a_token(locked_url):
    with httpx.Client(base_url=locked_url, timeout=60) as c:
        page = c.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert c.get("/", headers={"Accept": "application/json"}).status_code == 401
        assert c.get("/static/extensions/panel/panel.min.js").status_code == 401
        assert c.post("/graphql", json={"query": "{ systems { id } }"}).status_code == 401
        assert c.get("/healthz").status_code == 200  # probes need no token
        for token in (TOKEN, "second-token-for-rotation"):  # several tokens: each works
            ok = c.get("/", headers={"Accept": "text/html", "Authorization": f"Bearer {token}"})
            assert ok.status_code == 200 and "bokeh" in ok.text.lower()
        assert c.get("/", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert _ws_handshake_status(locked_url, cookie=None) == 403
    assert _ws_handshake_status(locked_url, cookie="bess_session=123.forged") == 403


def _ws_handshake_status(url: str, cookie: str | None) -> int:
    """The HTTP status of a websocket handshake to the dashboard's Bokeh socket at /ws."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        lines = ["GET /ws HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
                 f"Origin: {url}"] + ([f"Cookie: {cookie}"] if cookie else [])
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = s.recv(4096).decode("latin-1")
    return int(head.split(" ", 2)[1])
