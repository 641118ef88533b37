"""Early paint: the dashboard page's first bytes (Panel's page spinner) go out before the page is built.

Building a session's page (its Bokeh document, sidebar and template) takes 0.3-1 s on a 2-core
machine, and a browser shows nothing until the first bytes arrive. So a GET of the page is answered
at once with the start of an HTML document whose <body> already carries Panel's loading classes and
the spinner's CSS; the page Panel builds follows in the same response. Its own <html> start tag is
kept (the HTML parser adds its attributes, e.g. data-bs-theme, to the root element), its head and
body contents follow the early <body> (stylesheets, scripts and the title work there too), and
Panel's script removes the loading class when the screen is drawn, as on a page served whole.

Early scripts: the first bytes also carry the page's script tags (Bokeh, Panel, Tabulator: ~3.4 MB
that a browser takes 0.6-0.8 s to evaluate) and preloads of its stylesheets, as learned from the
last page served of the same kind. The page is built once the browser has fetched them
(assets_first.until_fetched), so the browser evaluates the scripts while the server builds the page,
instead of waiting for the build and only then asking for them. The tags sent early are left out of
the rest of the page, so each script runs once. The start-up serves the default page once in process
(EarlyPaint.prime), so the first visitor gets them early too; the first page of another kind (dark
theme, WebGL viewer) goes out as before. A script tag that is not a plain static/ path is never
learned (nothing from a request can reach another visitor's page).
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Callable, Hashable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.assets_first import FETCHED_BEFORE_BUILD, TRAFFIC, until_fetched

log = logging.getLogger(__name__)

_HTML_TAG = re.compile(rb"<html\b[^>]*>", re.I)
_HEAD = re.compile(rb"<head\b[^>]*>(.*?)</head>", re.S | re.I)
_BODY = re.compile(rb"<body\b[^>]*>(.*)</body>", re.S | re.I)
_HIDE_SPINNER = b"<style>body.pn-loading:before, body.pn-loading:after { display: none }</style>"
# What an early tag may point at: a path under static/ as Panel writes them (with its ?v= version).
_STATIC_PATH = rb"static/[A-Za-z0-9._@^/-]+(?:\?v=[0-9a-f.]+)?"
_TAG = re.compile(rb"<script\b([^>]*)>(.*?)</script>|<link\b([^>]*)>", re.S | re.I)
_SCRIPT_FILE = re.compile(rb'\s*type="text/javascript"\s+src="' + _STATIC_PATH + rb'"\s*')
_STYLESHEET = re.compile(rb'\s*rel="stylesheet"\s+href="(' + _STATIC_PATH + rb')"(?:\s+type="text/css")?\s*/?\s*')
# es-module-shims reads its options from this tag, which must come before it.
_SHIM_OPTIONS = b'<script type="esms-options">{"shimMode": true}</script>'


@dataclass(frozen=True)
class EarlyAssets:
    """What a page's first bytes announce: its script tags (verbatim, in page order) and stylesheets."""

    scripts: tuple[bytes, ...]
    stylesheets: tuple[bytes, ...]  # paths

    def html(self) -> bytes:
        """Preloads of the stylesheets (fetched, not applied: the page's own links keep the cascade's
        order) and the script tags, which run as they arrive."""
        preloads = [b'<link rel="preload" as="style" href="%s">' % path for path in self.stylesheets]
        return b"\n".join(preloads + list(self.scripts)) + b"\n"

    @property
    def files(self) -> int:
        """How many files a browser without them cached asks for."""
        return len(self.stylesheets) + sum(b" src=" in tag for tag in self.scripts)


def early_assets(page: bytes) -> EarlyAssets | None:
    """The scripts and stylesheets of a page Panel built, or None when a script tag is not one that
    can be sent early (not a plain static/ file, or an inline script other than es-module-shims'
    options): sending the others ahead of it would change the order they run in."""
    scripts, stylesheets = [], []
    for tag in _TAG.finditer(page):
        script_attrs, script_text, link_attrs = tag.groups()
        if link_attrs is not None:
            sheet = _STYLESHEET.fullmatch(link_attrs)
            if sheet:
                stylesheets.append(sheet.group(1))
        elif tag.group(0) == _SHIM_OPTIONS:
            scripts.append(tag.group(0))
        elif b"src=" in script_attrs:
            if not (_SCRIPT_FILE.fullmatch(script_attrs) and not script_text.strip()):
                return None
            scripts.append(tag.group(0))
    return EarlyAssets(tuple(scripts), tuple(stylesheets)) if scripts else None


def spinner_css() -> str:
    """Panel's own page-spinner CSS (loading.css, plus the size and colour rule Panel writes for the
    configured spinner), with that spinner's image inlined as a data: URL: fetched, it came only
    after the page's build (0.3-0.5 s), and until then the spinner was an invisible mask."""
    import panel as pn
    from panel.io.resources import loading_css

    dist = Path(pn.__file__).parent / "dist"
    css = (dist / "css" / "loading.css").read_text(encoding="utf-8")

    shown = f"{pn.config.loading_spinner}_spinner.svg"

    def inline(match: re.Match) -> str:  # the page's spinner; the other ones' paths made page-relative
        if match.group(1) != shown:
            return f"url('static/extensions/panel/assets/{match.group(1)}')"
        image = (dist / "assets" / shown).read_bytes()
        return f"url('data:image/svg+xml;base64,{base64.b64encode(image).decode()}')"

    css = re.sub(r"url\('\.\./assets/([\w-]+\.svg)'\)", inline, css)
    return css + loading_css(pn.config.loading_spinner, pn.config.loading_color, pn.config.loading_max_height)


def shell_head(*, dark: bool, spinner: str, css: str) -> bytes:
    """The response's first bytes: doctype, the spinner's CSS, and an open <body> showing it."""
    background = "<style>html { background-color: #121212 }</style>" if dark else ""
    return (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n{background}<style>{css}</style>\n</head>\n'
            f'<body class="pn-loading pn-{escape(spinner, quote=True)}">\n').encode()


def rest_of_page(status: int, html: bytes, *, sent: tuple[bytes, ...] = ()) -> bytes:
    """What follows the shell: the page's <html> tag, head contents and body contents without the
    script tags ``sent`` early (or, when the page could not be built, a message without the spinner)."""
    html_tag, head, body = _HTML_TAG.search(html), _HEAD.search(html), _BODY.search(html)
    if status != 200 or not (html_tag and head and body):
        log.warning("dashboard page answered HTTP %s; sent a message after the early spinner", status)
        return (_HIDE_SPINNER + f"<p>The page could not be loaded (HTTP {status}). Reload to try again.</p>"
                .encode() + b"\n</body>\n</html>\n")
    rest = html_tag.group(0) + head.group(1) + body.group(1)
    for tag in sent:
        rest = rest.replace(tag, b"", 1)
    return rest + b"</body>\n</html>\n"


class EarlyPaint:
    """Wraps the page route's ASGI app: GET answers start with :func:`shell_head` at once, and with
    the scripts of the last page of the same kind (``kind`` of the query string; the theme is part
    of it anyway)."""

    def __init__(self, app: ASGIApp, kind: Callable[[bytes], Hashable] | None = None) -> None:
        self.app = app
        self._css: str | None = None
        self._kind = kind or (lambda query: None)
        self._learned: dict[Hashable, EarlyAssets] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        import panel as pn

        if self._css is None:
            self._css = spinner_css()
        query = scope.get("query_string", b"")
        dark = b"theme=dark" in query or pn.config.theme == "dark"
        kind = (dark, self._kind(query))
        assets = self._learned.get(kind)
        asked_before = TRAFFIC.started
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "more_body": True,
                    "body": shell_head(dark=dark, spinner=pn.config.loading_spinner, css=self._css)
                    + (assets.html() if assets else b"")})
        fetched = None
        if assets:
            # the build holds this event loop for 0.3-1 s: the browser's requests go first
            await until_fetched(asked_before, assets.files)
            fetched = FETCHED_BEFORE_BUILD.set(True)
        status, parts = 500, []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        try:
            await self.app(scope, receive, capture)
        except Exception:  # noqa: BLE001 -- the response has started: finish it with a message, log the trace
            log.exception("dashboard page failed after its first bytes were sent")
            status = 500
        finally:
            if fetched is not None:
                FETCHED_BEFORE_BUILD.reset(fetched)
        page = b"".join(parts)
        if status == 200:
            learned = early_assets(page)
            if assets and (learned is None or learned.scripts != assets.scripts):
                # the extra ones still run, after those sent early; the next page of this kind gets them all
                log.warning("dashboard page %r had other scripts than those sent early", kind)
            if learned is None:
                self._learned.pop(kind, None)
            else:
                self._learned[kind] = learned
        await send({"type": "http.response.body", "more_body": False,
                    "body": rest_of_page(status, page, sent=assets.scripts if assets else ())})

    async def prime(self, path: str) -> None:
        """Serve the default page once in process, so that the first visitor after start-up gets its
        scripts early too. Called at start-up (no visitor's request: it does not pass the server's
        guards); the session it leaves is discarded unconnected, as a closed tab's is."""
        from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware  # what FastAPI's routes expect

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
                 "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 80)}

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(message: Message) -> None:
            pass

        await AsyncExitStackMiddleware(self)(scope, receive, discard)


def paint_early(app, path: str, kind: Callable[[bytes], Hashable] | None = None) -> EarlyPaint:
    """Wrap the GET route at ``path`` of the FastAPI ``app`` (the dashboard page) in EarlyPaint;
    ``kind`` tells pages with other scripts apart by their query string."""
    for route in app.routes:
        if getattr(route, "path", None) == path and "GET" in (getattr(route, "methods", None) or ()):
            route.app = early = EarlyPaint(route.app, kind)
            return early
    raise LookupError(f"no GET route at {path!r} to paint early")
