"""The page shell: early paint (spinner bytes, then the scripts learned from the last page, before the
page is built), no MathJax."""

from __future__ import annotations

import re

import httpx
import pytest

from dashboard.page import page_kind
from dashboard.early import early_assets, rest_of_page, shell_head, spinner_css
from data.ingest import ingest
from tests.dashboard_server import running_server
from tests.reliability_corpus import CLEAN_METER, write_clean
from tests.run_async import run_in_thread

PAGE = (b'<!DOCTYPE html>\n<html lang="en" data-bs-theme="dark">\n<head>\n<meta charset="utf-8">'
        b'<title>T</title><link rel="stylesheet" href="a.css"></head>\n'
        b'<body class="pn-loading pn-arc">\n<div id="main">x</div><script src="bokeh.js"></script></body>\n</html>\n')


def test_the_rest_of_the_page_keeps_html_attributes_head_and_body_contents_once():
    rest = rest_of_page(200, PAGE)
    assert rest.startswith(b'<html lang="en" data-bs-theme="dark">')  # the parser adds these to the root
    assert b'<link rel="stylesheet" href="a.css">' in rest and b"<title>T</title>" in rest
    assert b'<div id="main">x</div><script src="bokeh.js"></script>' in rest
    assert b"<!DOCTYPE" not in rest and b"<body" not in rest and b"<head" not in rest
    whole = shell_head(dark=False, spinner="arc", css="") + rest
    assert whole.count(b"<body") == 1 and whole.count(b"</body>") == 1 and whole.count(b"<!DOCTYPE") == 1


# As Panel writes them: stylesheets in the head, es-module-shims' options and script files at the end
# of the body, then inline scripts that need them.
SHIM = b'<script type="esms-options">{"shimMode": true}</script>'
BOKEH = b'<script type="text/javascript" src="static/js/bokeh.min.js?v=6acf7fa1"></script>'
SHIMS = (b'<script type="text/javascript" src="static/extensions/panel/bundled/reactiveesm/'
         b'es-module-shims@^1.10.0/dist/es-module-shims.min.js"></script>')
PANEL = b'<script type="text/javascript" src="static/extensions/panel/panel.min.js?v=32f9"></script>'
INLINE = b'<script type="text/javascript">\n  Bokeh.set_log_level("info");\n</script>'
PANEL_PAGE = (b'<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>T</title>\n'
              b'<link rel="apple-touch-icon" sizes="180x180" href="static/extensions/panel/images/icon.png">\n'
              b'<link rel="stylesheet" href="static/extensions/panel/bundled/tabulator.min.css?v=1.9.4" type="text/css" />\n'
              b'<link rel="stylesheet" href="static/extensions/panel/bundled/bootstrap5/css/bootstrap.min.css">\n'
              b'</head>\n<body>\n<div id="main">x</div>\n' + SHIM + b"\n" + SHIMS + b"\n" + BOKEH + b"\n" + PANEL
              + b"\n" + INLINE + b"\n</body>\n</html>\n")


def test_a_pages_script_files_and_stylesheets_are_learned_in_page_order():
    assets = early_assets(PANEL_PAGE)
    assert assets.scripts == (SHIM, SHIMS, BOKEH, PANEL)  # the options before the shims they configure
    assert assets.stylesheets == (b"static/extensions/panel/bundled/tabulator.min.css?v=1.9.4",
                                  b"static/extensions/panel/bundled/bootstrap5/css/bootstrap.min.css")
    assert assets.files == 5  # three scripts and two stylesheets to fetch; the options are inline
    early = assets.html()
    # stylesheets only preloaded: applied by the page's own links, in their place in the cascade
    assert b'<link rel="preload" as="style" href="static/extensions/panel/bundled/bootstrap5/css/bootstrap.min.css">' in early
    assert b'rel="stylesheet"' not in early and b"apple-touch-icon" not in early
    assert early.index(SHIM) < early.index(SHIMS) < early.index(BOKEH) < early.index(PANEL)
    assert b"set_log_level" not in early  # inline scripts stay where the page has them


@pytest.mark.parametrize("odd", [
    b'<script type="text/javascript" src="https://cdn.example.org/bokeh.js"></script>',  # not ours
    b'<script type="text/javascript" src="/static/js/x.js"></script>',  # not page-relative
    b'<script type="text/javascript" src="static/js/x.js?v=1"onload="alert(1)"></script>',  # more than a file
    b'<script type="text/javascript" src="static/js/../x.js"></script>'.replace(b"../", b'"x'),  # a quote
    b'<script type="module" src="static/js/x.js"></script>',  # another kind of script
    b'<script type="text/javascript" src="static/js/x.js">alert(1)</script>',  # a file with a body
])
def test_a_page_with_a_script_that_is_not_a_plain_static_file_sends_nothing_early(odd):
    """Sending the others ahead of it would change their order, and what is learned from one page is
    sent to the next visitors: only Panel's own static/ files qualify."""
    assert early_assets(PANEL_PAGE.replace(PANEL, PANEL + odd)) is None
    assert early_assets(b"<html><head></head><body>no scripts</body></html>") is None


def test_a_stylesheet_that_is_not_a_plain_static_file_is_not_preloaded():
    page = PANEL_PAGE.replace(b"</head>", b'<link rel="stylesheet" href="https://cdn.example.org/x.css"></head>')
    assert b"cdn.example.org" not in early_assets(page).html()


def test_the_rest_of_the_page_leaves_out_the_scripts_sent_early_once():
    assets = early_assets(PANEL_PAGE)
    rest = rest_of_page(200, PANEL_PAGE, sent=assets.scripts)
    for tag in assets.scripts:
        assert tag not in rest
    assert INLINE in rest and b'rel="stylesheet"' in rest and b'<div id="main">x</div>' in rest
    whole = shell_head(dark=False, spinner="arc", css="") + assets.html() + rest
    for tag in assets.scripts:
        assert whole.count(tag) == 1  # each script runs once
    assert whole.index(PANEL) < whole.index(INLINE)  # and before the inline scripts that use it


@pytest.mark.parametrize("query, kind", [
    (b"", False), (b"view=cells&surface=true", True), (b"surface=TRUE", True), (b"surface=1", True),
    (b"surface=false", False), (b"surface=", False), (b"surface=%ff%fe", False), (b"surface=true&surface=0", True),
])
def test_pages_that_load_plotly_are_their_own_kind(query, kind):
    """Their scripts differ (page_extensions): the WebGL viewer's pages are learned apart."""
    assert page_kind(query) is kind


def test_a_failed_page_ends_the_early_response_with_a_message_and_no_spinner():
    rest = rest_of_page(500, b"Internal Server Error")
    assert b"HTTP 500" in rest and b"display: none" in rest and rest.rstrip().endswith(b"</html>")
    assert b"HTTP 502" in rest_of_page(502, PAGE)  # an answer that is not a page is never passed off as one


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    base = tmp_path_factory.mktemp("page")
    write_clean(base / "in")
    assert ingest([base / "in"], base / "store", progress=False).published_version
    from api.server import build_app

    with running_server(build_app(base / "store", warm=False)) as url:
        yield url


def _chunks(url: str) -> list[bytes]:
    with httpx.Client(timeout=120) as c, c.stream("GET", url) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        return list(r.iter_raw())


def test_the_spinner_and_then_the_scripts_are_sent_before_the_page_is_built(page_url):
    """The first chunk on the wire is the shell (body with Panel's loading classes), sent before the
    session's page exists; the page follows in the same response. From the second page of a kind on,
    the first chunk also carries the scripts (learned from the page before), each sent once."""
    url = f"{page_url}/?view=meter&system={CLEAN_METER}&theme=dark&surface=true"  # a kind no other test asks for
    first_page = _chunks(url)
    assert re.search(rb'<body class="pn-loading pn-\w+">\s*$', first_page[0]), first_page[0][-200:]
    assert b"bokeh" not in first_page[0]  # nothing learned yet, nothing of the session's page yet
    page = b"".join(first_page)
    assert page.count(b"<body") == 1 and b'data-root-id' in page and page.rstrip().endswith(b"</html>")
    body = page[page.index(b"<body"):]
    assert body.index(b'id="main"') < body.index(b'src="static/js/bokeh.min.js')  # Panel's page: scripts last

    second = _chunks(url)
    first = second[0]
    assert b'data-root-id' not in first and b'id="main"' not in first  # still none of the session's page
    assert first.index(b'<body class="pn-loading') < first.index(b'src="static/js/bokeh.min.js')
    assert b'<link rel="preload" as="style" href="static/' in first
    page = b"".join(second)
    scripts = re.findall(rb'<script type="text/javascript" src="([^"]+)"', page)
    assert scripts and len(scripts) == len(set(scripts))  # each once
    assert set(scripts) == set(re.findall(rb'<script type="text/javascript" src="([^"]+)"', b"".join(first_page)))
    assert page.index(b'src="static/extensions/panel/panel.min.js') < page.index(b"Bokeh.set_log_level")


def test_mathjax_webgl_and_module_shims_are_never_shipped(page_url):
    page = httpx.get(f"{page_url}/?view=meter&system={CLEAN_METER}", timeout=120).text
    assert "bokeh-mathjax" not in page and "bokeh-gl" not in page and "static/js/bokeh.min.js" in page
    assert "es-module-shims" not in page and "panel.min.js" in page


def test_the_dark_theme_paints_a_dark_background_from_the_first_byte(page_url):
    with httpx.Client(timeout=120) as c, c.stream("GET", f"{page_url}/?theme=dark") as r:
        first = next(r.iter_raw())
    assert b"background-color: #121212" in first


def test_the_first_visitor_after_start_up_gets_the_scripts_early_too(tmp_path):
    """The start-up serves the default page once in process (EarlyPaint.prime, after the warm-ups)."""
    write_clean(tmp_path / "in")
    assert ingest([tmp_path / "in"], tmp_path / "store", progress=False).published_version
    from api.server import build_app

    with running_server(build_app(tmp_path / "store", warm=True)) as url:
        first = _chunks(f"{url}/")[0]
    assert b'<body class="pn-loading' in first and b'src="static/js/bokeh.min.js' in first
    assert b"data-root-id" not in first


def _serve(early, query: bytes = b"") -> list[bytes]:
    """The body messages ``early`` (an EarlyPaint) sends for one GET."""
    bodies: list[bytes] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.body":
            bodies.append(message["body"])

    scope = {"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": []}
    run_in_thread(lambda: early(scope, receive, send))
    return bodies


def test_scripts_learned_from_one_page_go_early_in_the_next_and_a_change_is_learned_again(monkeypatch, caplog):
    from dashboard import assets_first
    from dashboard.early import EarlyPaint

    monkeypatch.setattr(assets_first, "NO_REQUESTS_S", 0.01)  # no browser here: nothing will be fetched
    extra = b'<script type="text/javascript" src="static/extensions/panel/bundled/plotly.min.js"></script>'
    pages = iter([PANEL_PAGE, PANEL_PAGE, PANEL_PAGE.replace(PANEL, PANEL + extra), PANEL_PAGE, PANEL_PAGE])

    async def panel(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": next(pages)})

    early = EarlyPaint(panel)
    first = _serve(early)
    assert BOKEH not in first[0] and first[1].count(BOKEH) == 1  # nothing learned yet: the page as Panel made it
    second = _serve(early)
    assert second[0].index(SHIM) < second[0].index(BOKEH) < second[0].index(PANEL)  # before the page is built
    assert BOKEH not in second[1] and INLINE in second[1]  # each once
    with caplog.at_level("WARNING", logger="dashboard.early"):
        third = _serve(early)  # a page with one script more than was sent early
    assert "other scripts" in caplog.text
    assert extra in third[1] and third[1].index(extra) < third[1].index(INLINE)  # still runs, before the inline ones
    fourth = _serve(early)
    assert extra in fourth[0]  # learned again
    assert _serve(early, b"theme=dark")[0].count(BOKEH) == 0  # another kind: its own learning


def test_the_spinner_image_comes_with_the_first_bytes():
    """Fetched, the spinner's image (a CSS mask) came only after the page's build, and the spinner
    was invisible until then: it is inlined as a data: URL in the shell's CSS."""
    import base64
    from pathlib import Path

    import panel as pn

    css = spinner_css()
    spinner = pn.config.loading_spinner
    inlined = re.search(rf"\.pn-loading\.pn-{spinner}:before \{{\s*-webkit-mask-image: "
                        r"url\('data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)'\)", css)
    assert inlined, css[:500]
    shipped = Path(pn.__file__).parent / "dist" / "assets" / f"{spinner}_spinner.svg"
    assert base64.b64decode(inlined.group(1)) == shipped.read_bytes()
    assert "../assets" not in css  # the other spinners' paths are page-relative
