"""GraphiQL served from the server itself: the page at /graphql and its vendored assets under /graphiql/."""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from api.http import GraphQLApp

ASSETS_DIR = Path(__file__).with_name("graphiql_static")
# Not under /graphql: the token check guards that prefix, and a browser cannot send the bearer
# header on <script src>; these are public, versioned library files.
ASSETS_PATH = "/graphiql"
# The page's own boot script and layout (ours, not vendored).
_OWN_CSS = "bess-graphiql.css"
_OWN_JS = "bess-graphiql.js"


@cache
def vendored_files() -> tuple[tuple[str, str], ...]:
    """(path under ASSETS_DIR, SRI hash) of each vendored file, in load order, from manifest.json."""
    manifest = json.loads((ASSETS_DIR / "manifest.json").read_text(encoding="utf-8"))
    return tuple((f["path"], f["sri"]) for pkg in manifest["packages"] for f in pkg["files"])


def page_html(root_path: str = "") -> str:
    """The GraphiQL page: every asset from this server (with its SRI hash), no inline script."""
    base = html.escape(f"{root_path}{ASSETS_PATH}", quote=True)
    css = [f'<link rel="stylesheet" href="{base}/{p}" integrity="{sri}">'
           for p, sri in vendored_files() if p.endswith(".css")]
    js = [f'<script src="{base}/{p}" integrity="{sri}"></script>'
          for p, sri in vendored_files() if p.endswith(".js")]
    return "\n".join([
        '<!doctype html>', '<html lang="en"><head><meta charset="utf-8">',
        '<title>BESS-OS GraphiQL</title>',
        # An empty icon: otherwise the browser asks the dashboard's catch-all for /favicon.ico.
        '<link rel="icon" href="data:,">',
        *css, f'<link rel="stylesheet" href="{base}/{_OWN_CSS}">',
        '</head><body><div id="graphiql">Loading GraphiQL...</div>',
        *js, f'<script src="{base}/{_OWN_JS}"></script>',
        '</body></html>',
    ])


class LocalGraphiQLApp(GraphQLApp):
    """The GraphQL endpoint whose GraphiQL page loads its assets from this server, not a CDN."""

    async def render_graphql_ide(self, request: Request) -> Response:  # Strawberry's documented hook
        return HTMLResponse(page_html(request.scope.get("root_path", "")))


class _Assets(StaticFiles):
    """StaticFiles with a cache header: the files are pinned by version in their folder names."""

    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def mount_assets(app: Any) -> None:
    """Serve the vendored GraphiQL files at ASSETS_PATH (call before any catch-all route)."""
    app.mount(ASSETS_PATH, _Assets(directory=ASSETS_DIR), name="graphiql-assets")
