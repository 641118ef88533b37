"""GraphiQL served from the server itself: vendored, pinned, licensed, and working with the network cut off."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from api.app import create_app
from api.graphiql import ASSETS_DIR, ASSETS_PATH, page_html
from tests.dashboard_server import running_server

MANIFEST = json.loads((ASSETS_DIR / "manifest.json").read_text())
HTML_ACCEPT = {"accept": "text/html,application/xhtml+xml"}


def _sri(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def test_manifest_pins_every_vendored_file_with_its_licence_and_hash():
    names = {p["package"] for p in MANIFEST["packages"]}
    assert {"react", "react-dom", "graphiql"} <= names
    for pkg in MANIFEST["packages"]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", pkg["version"]), pkg  # an exact pin, not a range
        licence = ASSETS_DIR / pkg["license_file"]
        assert "MIT License" in licence.read_text(), licence
        assert licence.parent.name == f"{pkg['package']}-{pkg['version']}"
        for f in pkg["files"]:
            assert _sri(ASSETS_DIR / f["path"]) == f["sri"], f"{f['path']} differs from the pinned file"
    # Nothing in the folder that the manifest does not account for (besides our own two files).
    listed = {f["path"] for p in MANIFEST["packages"] for f in p["files"]} | {
        p["license_file"] for p in MANIFEST["packages"]}
    on_disk = {str(p.relative_to(ASSETS_DIR)) for p in ASSETS_DIR.rglob("*") if p.is_file()}
    assert on_disk - listed == {"manifest.json", "README.md", "bess-graphiql.js", "bess-graphiql.css"}


def test_page_references_only_this_server():
    page = page_html()
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert refs, page
    for ref in refs:
        assert ref == "data:," or ref.startswith(ASSETS_PATH + "/"), ref
    assert "<script>" not in page  # no inline script: a strict CSP can be added without breaking it
    assert page.count("integrity=") == sum(len(p["files"]) for p in MANIFEST["packages"])
    # Behind a reverse proxy with a path prefix, the assets follow the prefix.
    assert f'src="/bess{ASSETS_PATH}/' in page_html("/bess")


def test_with_a_token_graphiql_and_its_files_need_a_session(demo_store):
    """Every route but /healthz is behind the token (issue 13): GraphiQL too, after a browser sign-in."""
    with running_server(create_app(demo_store, token="s3cret")) as url:
        client = httpx.Client(base_url=url, timeout=30)
        first = client.get("/graphql", headers=HTML_ACCEPT)
        assert first.status_code == 303 and "/login" in first.headers["location"]
        assert client.get(f"{ASSETS_PATH}/bess-graphiql.js").status_code in (303, 401)
        assert client.post("/graphql", json={"query": "{ systems { id } }"}).status_code == 401
        signed_in = client.post("/login", data={"token": "s3cret", "next": "/graphql"})
        assert signed_in.status_code in (200, 303)
        page = client.get("/graphql", headers=HTML_ACCEPT)
        assert page.status_code == 200 and "graphiql.min.js" in page.text
        for ref in re.findall(r'(?:src|href)="(/graphiql/[^"]+)"', page.text):
            r = client.get(ref)
            assert r.status_code == 200, ref
            assert r.content == (ASSETS_DIR / ref.removeprefix(ASSETS_PATH + "/")).read_bytes()
        assert client.get(f"{ASSETS_PATH}/%2e%2e/http.py").status_code == 404  # no way out of the folder


def test_no_ide_no_assets(demo_store):
    with running_server(create_app(demo_store, graphiql=False)) as url:
        assert httpx.get(f"{url}{ASSETS_PATH}/bess-graphiql.js").status_code == 404
        assert httpx.get(f"{url}/graphql", headers=HTML_ACCEPT).status_code != 200


@pytest.fixture(scope="module")
def api_url(demo_store):
    with running_server(create_app(demo_store)) as url:
        yield url


@pytest.mark.browser
def test_graphiql_runs_a_query_with_every_non_loopback_request_blocked(api_url, browser):
    query = "{ systems(kind: BESS) { id kind } }"
    page = browser.new_page()  # the session's browser (tests/conftest.py)
    requested, blocked, errors = [], [], []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def guard(route):
        url = route.request.url
        requested.append(url)
        if url.startswith("data:") or urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    try:
        page.route("**/*", guard)
        page.goto(f"{api_url}/graphql?q={query}")
        editor = page.locator(".graphiql-query-editor .CodeMirror").first
        editor.wait_for(state="visible", timeout=60_000)
        assert "systems" in editor.inner_text()
        page.locator(".graphiql-execute-button").click()
        result = page.locator(".graphiql-response .CodeMirror")
        result.get_by_text("ZHPESS232A230002").first.wait_for(timeout=60_000)
        text = result.inner_text()
        assert '"BESS"' in text and '"errors"' not in text, text
        assert not blocked, blocked
        assert any(u.endswith("graphiql.min.js") for u in requested), requested
        assert not errors, errors
    finally:
        page.close()
