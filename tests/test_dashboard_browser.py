"""The dashboard in headless Chromium against a real server over the ingested demo fleet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.dashboard_server import CHROMIUM, running_server  # the browser fixture is in conftest.py

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# Bokeh logs a WebGL/Canvas performance note on some GPUs-less machines; it is not an error of ours.
_BENIGN = re.compile(r"GL Driver Message|willReadFrequently")


@pytest.fixture(scope="session")
def base_url(demo_store):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; `make browser` installs Debian's chromium")
    from api.server import build_app

    with running_server(build_app(demo_store, warm=True)) as url:
        yield url


class Page:
    """A page plus every console error and uncaught exception it produced."""

    def __init__(self, browser, url: str) -> None:
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.on("console", lambda m: m.type == "error" and not _BENIGN.search(m.text)
                     and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)

    def find(self, selector: str, timeout: float = 90_000):
        loc = self.page.locator(selector).first
        loc.wait_for(state="visible", timeout=timeout)
        return loc

    def open_tab(self, label: str) -> None:
        """Click a tab of the cell view (its content is built only now)."""
        self.page.locator(".cell-tabs .bk-tab", has_text=label).first.click()

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"dashboard_{name}.png"))

    def assert_clean(self) -> None:
        # Let late websocket messages land before judging the console.
        self.page.wait_for_timeout(500)
        assert not self.page.locator(".view-error").count(), self.page.locator(".view-error").first.inner_text()
        assert not self.errors, self.errors


@pytest.fixture
def open_page(browser, base_url):
    pages = []

    def _open(query: str) -> Page:
        p = Page(browser, f"{base_url}/{query}")
        pages.append(p)
        return p

    yield _open
    for p in pages:
        p.page.close()


def test_meter_view_renders_power_pf_energy_and_kpis(open_page):
    p = open_page("?view=meter&system=m1&range=1m")
    p.find(".power-plot canvas")
    p.find(".pf-plot canvas")
    p.find(".energy-bars canvas")
    assert p.page.locator(".kpi-tile").count() >= 8
    assert "Import" in p.find(".kpi-label").inner_text() or p.page.get_by_text("Import").count()
    p.shot("meter")
    p.assert_clean()


def test_compare_view_overlays_two_systems_of_different_kinds(open_page):
    p = open_page("?view=compare&system=m3&other=ZHPESS232A230002&range=7d")
    p.find(".compare-plot canvas")
    p.find(".compare-energy canvas")
    p.find(".compare-kpis .tabulator-row")
    titles = p.page.locator(".compare-kpis .tabulator-col-title").all_inner_texts()
    assert "m3" in titles and "ZHPESS232A230002" in titles, titles
    assert p.page.locator(".compare-kpis .tabulator-row").count() >= 8
    p.shot("compare")
    p.assert_clean()


def test_bess_overview_groups_kpis_and_shows_series_and_alarms(open_page):
    p = open_page("?view=bess&system=ZHPESS232A230002&range=all")
    p.find(".bess-kpis")
    for group in ("BMS", "PCS", "Aux / thermal", "Environment / safety"):
        assert p.page.get_by_text(group, exact=True).count(), group
    p.find(".quick-plot canvas")
    # The demo fleet has occasional alarms; with "all" the timeline must show them.
    p.find(".alarm-timeline canvas")
    # Automatic scaling: lifetime throughput of a 100 kW system reads in MWh, not as a 6-digit kWh.
    assert p.page.get_by_text(re.compile(r"\d MWh")).count()
    p.shot("bess")
    p.assert_clean()


def test_cell_view_renders_heatmap_analytics_and_raw_viewer(open_page):
    p = open_page("?view=cells&system=ZHPESS232A230002&heatmap=sat&range=all&pack=4")
    p.find(".cell-heatmap canvas")
    p.find(".sat-overview canvas")  # the open tab
    # The other sections are tabs, built when first opened.
    assert not p.page.locator(".health-bars").count()
    p.open_tab("Health per pack")
    p.find(".health-bars canvas")
    p.open_tab("Pack trends")
    p.find(".pack-trends-plot canvas")
    p.open_tab("Degradation per cell")
    p.find(".degradation .tabulator-row")
    titles = p.page.locator(".degradation .tabulator-col-title").all_inner_texts()
    assert {"r2", "loss_pct_per_year", "loss_pct_at_10000_efc", "linearity"} <= set(titles), titles
    p.find(".fit-plot canvas")
    p.open_tab("Alerts")
    p.find(".alerts .tabulator-row")  # the demo fleet has drifting cells: alerts must be listed
    p.open_tab("Raw cell voltage")
    p.find(".cell-viewer canvas")
    p.shot("cells")
    p.open_tab("SAT surface")
    p.find(".surface-toggle")
    # plotly.js is only on pages opened with the surface on.
    assert not p.page.locator("script[src*=plotly]").count()
    p.assert_clean()


def test_surface_toggle_reloads_the_page_with_plotly(open_page):
    p = open_page("?view=cells&system=ZHPESS232A230002&heatmap=sat&range=7d")
    p.find(".cell-heatmap canvas")
    p.open_tab("SAT surface")
    p.find(".surface-toggle button").click()
    p.page.wait_for_url(re.compile(r"surface=true"))
    p.find(".sat-surface .js-plotly-plot")
    assert "range=7d" in p.page.url  # the reload keeps the state
    p.shot("cells_surface")
    p.assert_clean()


def _heatmap_span_days(p: Page) -> float:
    """Days the heatmap image spans: its glyph's dw (ms on the datetime axis), read from BokehJS."""
    ms = p.page.evaluate("""() => {
        for (const doc of Bokeh.documents) for (const m of doc.all_models) {
            const d = m.data;
            if (!d) continue;
            const get = (k) => d instanceof Map ? d.get(k) : d[k];
            if (get("image") && get("dw")) return Number(get("dw")[0]);
        }
        return null;
    }""")
    assert ms is not None, "no image glyph on the page"
    return ms / 86_400_000


@pytest.mark.parametrize("kind", ["deviation", "raw"])
def test_cell_heatmap_kinds(open_page, kind):
    p = open_page(f"?view=cells&system=ZHPESS232A230003&heatmap={kind}&level=1h&range=1m")
    p.find(".cell-heatmap canvas")
    # The heatmap follows the range (one month), not the whole record.
    assert 20 < _heatmap_span_days(p) < 32
    p.shot(f"cells_{kind}")
    p.assert_clean()


def test_url_carries_view_range_and_language_and_is_shareable(open_page):
    p = open_page("?view=meter&system=m2")
    p.find(".power-plot canvas")
    assert p.page.locator(".system-select select").first.input_value() == "m2"
    p.page.get_by_role("button", name="7 days").click()
    p.page.wait_for_url(re.compile(r"range=7d"))
    p.page.get_by_role("button", name="Deutsch").click()
    p.page.wait_for_url(re.compile(r"lang=de"))
    p.find("text=Wirkleistung")
    p.page.get_by_role("button", name="BESS-Übersicht").click()
    p.page.wait_for_url(re.compile(r"view=bess"))
    p.find(".bess-kpis")
    p.shot("german_bess")
    p.assert_clean()


def test_dark_theme_link_switches_theme(open_page):
    p = open_page("?view=meter&system=m1&range=7d")
    p.find(".power-plot canvas")
    p.find("a.theme-link").click()
    p.page.wait_for_url(re.compile(r"theme=dark"))
    p.find(".power-plot canvas")
    assert "range=7d" in p.page.url  # the state survives the reload
    bg = p.page.evaluate("getComputedStyle(document.body).backgroundColor")
    r, g, b = (int(x) for x in re.findall(r"\d+", bg)[:3])
    assert r + g + b < 3 * 100, bg
    p.shot("dark")
    p.assert_clean()


def test_a_failing_query_is_a_message_not_a_broken_page(open_page):
    # A shared link naming a cell the system does not have: the core refuses with NotFoundError.
    p = open_page("?view=cells&system=ZHPESS232A230002&heatmap=raw&level=1d&cell=99")
    p.find(".cell-heatmap canvas")
    p.open_tab("Raw cell voltage")
    p.find(".view-error")
    # The alert's text sits in its shadow root; get_by_text looks inside it.
    assert p.page.get_by_text(re.compile(r"cells 1\.\.52, not 99")).count(), "no message naming cell 99"
    p.find(".cell-heatmap canvas")  # the rest of the page still works
    p.shot("error_message")
    assert not p.errors, p.errors
