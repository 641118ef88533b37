"""Static files gzip-compressed once for clients that accept it (api.gzip_static), over a real server:
same bytes after decompression, ETag revalidation still answers 304, ranges and small files untouched,
and the pages' own scripts (Bokeh's, GraphiQL's) go out compressed from `build_app`."""

from __future__ import annotations

import gzip

import httpx
import pytest
from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from api.gzip_static import CompressedCache, GzipStatic, compress_static
from api.server import build_app
from core.service import QueryService
from tests.dashboard_server import running_server

SCRIPT = ("function f(x) { return x * 2; }\n" * 4000).encode()  # 128 kB of compressible text


@pytest.fixture(scope="module")
def files_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    (root / "app.js").write_bytes(SCRIPT)
    (root / "tiny.css").write_bytes(b"body { margin: 0 }\n")
    (root / "image.png").write_bytes(bytes(range(256)) * 64)
    app = FastAPI()
    app.mount("/static", StaticFiles(directory=root))
    assert compress_static(app) == 1
    with running_server(app) as url:
        yield url


class _Raw:
    """A response with its body as sent (no decompression by httpx)."""

    def __init__(self, response: httpx.Response, content: bytes) -> None:
        self.status_code, self.headers, self.content = response.status_code, response.headers, content


def _raw_get(url: str, **headers) -> _Raw:
    with httpx.Client(timeout=60) as client:
        request = client.build_request("GET", url, headers={"Accept-Encoding": "identity", **headers})
        response = client.send(request, stream=True)
        try:
            return _Raw(response, b"".join(response.iter_raw()))
        finally:
            response.close()


def test_a_script_goes_out_compressed_to_a_client_that_accepts_gzip(files_url):
    r = _raw_get(f"{files_url}/static/app.js", **{"Accept-Encoding": "gzip, deflate, br"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in r.headers["vary"].lower()
    body = r.content  # the bytes on the wire
    assert int(r.headers["content-length"]) == len(body) < len(SCRIPT) // 10
    assert gzip.decompress(body) == SCRIPT
    assert r.headers["etag"].startswith('W/"')


def test_revalidation_with_the_weakened_etag_is_answered_304(files_url):
    first = _raw_get(f"{files_url}/static/app.js", **{"Accept-Encoding": "gzip"})
    again = _raw_get(f"{files_url}/static/app.js", **{"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_identity_ranges_small_and_binary_files_go_out_as_they_are(files_url):
    plain = _raw_get(f"{files_url}/static/app.js")
    assert plain.status_code == 200 and "content-encoding" not in plain.headers and plain.content == SCRIPT
    part = _raw_get(f"{files_url}/static/app.js", **{"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == SCRIPT[:10]
    for name in ("tiny.css", "image.png"):
        r = _raw_get(f"{files_url}/static/{name}", **{"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and "content-encoding" not in r.headers
    missing = _raw_get(f"{files_url}/static/nope.js", **{"Accept-Encoding": "gzip"})
    assert missing.status_code == 404


def test_each_file_is_compressed_once():
    from tests.run_async import run_in_thread

    calls = []

    async def one_file(scope, receive, send) -> None:  # noqa: ANN001
        calls.append(scope["path"])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/javascript"), (b"etag", b'"v1"'),
                                (b"content-length", str(len(SCRIPT)).encode())]})
        await send({"type": "http.response.body", "body": SCRIPT[:50_000], "more_body": True})
        await send({"type": "http.response.body", "body": SCRIPT[50_000:], "more_body": False})

    cache = CompressedCache()
    app = GzipStatic(one_file, cache)

    async def twice() -> list[bytes]:
        bodies = []
        for _ in range(2):
            sent: list[dict] = []

            async def send(message) -> None:  # noqa: ANN001
                sent.append(message)

            scope = {"type": "http", "method": "GET", "path": "/a.js", "headers": [(b"accept-encoding", b"gzip")]}
            await app(scope, None, send)
            bodies.append(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
        return bodies

    first, second = run_in_thread(twice)
    assert first == second and gzip.decompress(first) == SCRIPT
    assert len(cache._items) == 1 and calls == ["/a.js", "/a.js"]  # the file read twice, compressed once


def test_the_servers_page_scripts_go_out_compressed(demo_store):
    with running_server(build_app(QueryService(demo_store), warm=False)) as url:
        page = httpx.get(url + "/", timeout=120).text
        assert "static/js/bokeh.min.js" in page
        bokeh = _raw_get(f"{url}/static/js/bokeh.min.js", **{"Accept-Encoding": "gzip"})
        assert bokeh.headers["content-encoding"] == "gzip" and len(bokeh.content) < 0.4 * len(gzip.decompress(bokeh.content))
        graphiql = _raw_get(f"{url}/graphiql/graphiql-3.8.3/graphiql.min.js", **{"Accept-Encoding": "gzip"})
        assert graphiql.status_code == 200 and graphiql.headers["content-encoding"] == "gzip"
        assert graphiql.headers["cache-control"] == "public, max-age=86400"  # the mount's own headers kept
