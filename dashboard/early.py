"""Early paint: the dashboard page's first bytes (Panel's page spinner) go out before the page is built.

Building a session's page (its Bokeh document, sidebar and template) takes 0.3-1 s on a 2-core
machine, and a browser shows nothing until the first bytes arrive. So a GET of the page is answered
at once with the start of an HTML document whose <body> already carries Panel's loading classes and
the spinner's CSS; the page Panel builds follows in the same response. Its own <html> start tag is
kept (the HTML parser adds its attributes, e.g. data-bs-theme, to the root element), its head and
body contents follow the early <body> (stylesheets, scripts and the title work there too), and
Panel's script removes the loading class when the screen is drawn, as on a page served whole.
"""

from __future__ import annotations

import logging
import re
from html import escape
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

_HTML_TAG = re.compile(rb"<html\b[^>]*>", re.I)
_HEAD = re.compile(rb"<head\b[^>]*>(.*?)</head>", re.S | re.I)
_BODY = re.compile(rb"<body\b[^>]*>(.*)</body>", re.S | re.I)
_HIDE_SPINNER = b"<style>body.pn-loading:before, body.pn-loading:after { display: none }</style>"


def spinner_css() -> str:
    """Panel's own page-spinner CSS (loading.css with its asset paths made page-relative, plus the
    size and colour rule Panel writes for the configured spinner)."""
    import panel as pn
    from panel.io.resources import loading_css

    css = (Path(pn.__file__).parent / "dist" / "css" / "loading.css").read_text(encoding="utf-8")
    css = css.replace("url('../assets/", "url('static/extensions/panel/assets/")
    return css + loading_css(pn.config.loading_spinner, pn.config.loading_color, pn.config.loading_max_height)


def shell_head(*, dark: bool, spinner: str, css: str) -> bytes:
    """The response's first bytes: doctype, the spinner's CSS, and an open <body> showing it."""
    background = "<style>html { background-color: #121212 }</style>" if dark else ""
    return (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n{background}<style>{css}</style>\n</head>\n'
            f'<body class="pn-loading pn-{escape(spinner, quote=True)}">\n').encode()


def rest_of_page(status: int, html: bytes) -> bytes:
    """What follows the shell: the page's <html> tag, head contents and body contents (or, when the
    page could not be built, a message without the spinner)."""
    html_tag, head, body = _HTML_TAG.search(html), _HEAD.search(html), _BODY.search(html)
    if status != 200 or not (html_tag and head and body):
        log.warning("dashboard page answered HTTP %s; sent a message after the early spinner", status)
        return (_HIDE_SPINNER + f"<p>The page could not be loaded (HTTP {status}). Reload to try again.</p>"
                .encode() + b"\n</body>\n</html>\n")
    return html_tag.group(0) + head.group(1) + body.group(1) + b"</body>\n</html>\n"


class EarlyPaint:
    """Wraps the page route's ASGI app: GET answers start with :func:`shell_head` at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._css: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        import panel as pn

        if self._css is None:
            self._css = spinner_css()
        dark = b"theme=dark" in scope.get("query_string", b"") or pn.config.theme == "dark"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "more_body": True,
                    "body": shell_head(dark=dark, spinner=pn.config.loading_spinner, css=self._css)})
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
        await send({"type": "http.response.body", "body": rest_of_page(status, b"".join(parts)), "more_body": False})


def paint_early(app, path: str) -> None:
    """Wrap the GET route at ``path`` of the FastAPI ``app`` (the dashboard page) in EarlyPaint."""
    for route in app.routes:
        if getattr(route, "path", None) == path and "GET" in (getattr(route, "methods", None) or ()):
            route.app = EarlyPaint(route.app)
            return
    raise LookupError(f"no GET route at {path!r} to paint early")
