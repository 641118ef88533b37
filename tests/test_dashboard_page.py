"""The page shell: early paint (spinner bytes before the page is built), scripts last, no MathJax."""

from __future__ import annotations

import re

import httpx
import pytest

from dashboard.early import rest_of_page, shell_head
from data.ingest import ingest
from tests.dashboard_server import running_server
from tests.reliability_corpus import CLEAN_METER, write_clean

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


def test_the_spinner_is_sent_before_the_page_is_built(page_url):
    """The first chunk on the wire is the shell (body with Panel's loading classes), sent before the
    session's page exists; the page follows in the same response."""
    with httpx.Client(timeout=120) as c, c.stream("GET", f"{page_url}/?view=meter&system={CLEAN_METER}") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        chunks = list(r.iter_raw())
    first = chunks[0]
    assert re.search(rb'<body class="pn-loading pn-\w+">\s*$', first), first[-200:]
    assert b"bokeh" not in first  # nothing of the session's page yet
    page = b"".join(chunks)
    assert page.count(b"<body") == 1 and b'data-root-id' in page and page.rstrip().endswith(b"</html>")


def test_scripts_come_after_the_page_body_and_mathjax_and_webgl_are_never_shipped(page_url):
    page = httpx.get(f"{page_url}/?view=meter&system={CLEAN_METER}", timeout=120).text
    assert "bokeh-mathjax" not in page and "bokeh-gl" not in page and "static/js/bokeh.min.js" in page
    first_script = page.index('<script type="text/javascript" src=')
    assert page.index('id="sidebar"') < first_script and page.index('id="main"') < first_script


def test_the_dark_theme_paints_a_dark_background_from_the_first_byte(page_url):
    with httpx.Client(timeout=120) as c, c.stream("GET", f"{page_url}/?theme=dark") as r:
        first = next(r.iter_raw())
    assert b"background-color: #121212" in first
