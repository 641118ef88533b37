"""The dashboard in headless Chromium against a real server over the ingested demo fleet."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.dashboard_server import CHROMIUM, running_server  # the browser fixture is in conftest.py

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# README pictures: written by test_readme_screenshots, copied into docs/ with BESS_SCREENSHOTS=1 (`make screenshots`)
DOC_SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CONTRAST_JS = (Path(__file__).resolve().parent / "contrast.js").read_text(encoding="utf-8")
STEPPED = "ZHPESS232A230007"  # the demo system with a pack event
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
        self.requests: list[str] = []  # every URL the page asked for
        self.left_loopback: list[str] = []  # those that would leave the machine
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # Observed, not intercepted: routing every request changes how reloads and navigations
        # behave; GraphiQL's test (test_graphiql.py) is the one that blocks with page.route.
        self.page.on("request", self._log)
        self.page.on("console", lambda m: m.type == "error" and not _BENIGN.search(m.text)
                     and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)

    def _log(self, request) -> None:
        """Record every request; those for another machine are what an offline site cannot serve."""
        url = request.url
        self.requests.append(url)
        if not (url.startswith(("data:", "blob:")) or urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")):
            self.left_loopback.append(url)

    def find(self, selector: str, timeout: float = 90_000):
        loc = self.page.locator(selector).first
        loc.wait_for(state="visible", timeout=timeout)
        return loc

    def open_tab(self, label: str) -> None:
        """Click a tab of the cell view (its content is built only now)."""
        self.page.locator(".cell-tabs .bk-tab", has_text=label).first.click()

    def hover_tip(self, canvas, has_text: str, points, until: str | None = None) -> str:
        """Move over ``canvas`` at the fractions ``points`` of its box until a tooltip with
        ``has_text`` (and matching the regex ``until``, if given) shows; the tooltip's text."""
        box = canvas.bounding_box()
        tip = self.page.locator(".bk-tooltip-content").filter(has_text=has_text)
        for fx, fy in points:
            self.page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            try:
                tip.first.wait_for(state="visible", timeout=5_000)
            except Exception:  # noqa: BLE001 -- try the next point
                continue
            if until is None or re.search(until, tip.first.inner_text()):
                break
        return tip.first.inner_text()

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"dashboard_{name}.png"))

    def assert_clean(self) -> None:
        # Let late websocket messages land before judging the console.
        self.page.wait_for_timeout(500)
        assert not self.page.locator(".view-error").count(), self.page.locator(".view-error").first.inner_text()
        assert not self.errors, self.errors
        assert not self.left_loopback, self.left_loopback


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


def test_meter_view_renders_power_pf_energy_and_kpis(open_page, demo_store):
    from core.service import QueryService
    from dashboard.state import window
    from dashboard import quantities

    p = open_page("?view=meter&system=m1&range=1m")
    p.find(".power-plot canvas")
    p.find(".pf-plot canvas")
    p.find(".energy-bars canvas")
    assert p.page.locator(".kpi-tile").count() >= 8
    # The tiles show the core's KPIs of the page's range, each under its own label.
    shown = dict(zip(p.page.locator(".kpi-tile .kpi-label").all_inner_texts(),
                     p.page.locator(".kpi-tile .kpi-value").all_inner_texts()))
    service = QueryService(demo_store)
    k = service.kpis("m1", *window("1m", service.system("m1").time_range.end))
    # each tile shows the core's number in the one format of its quantity (dashboard.quantities)
    want = {r.key: r.text for r in quantities.rows(k, "en")}
    assert shown["Import"] == want["import_kwh"] != "–"
    assert shown["Export"] == want["export_kwh"]
    assert shown["Peak import"] == want["peak_import_kw"] != "–"
    assert float(want["peak_import_kw"].split()[0].replace(",", "")) == pytest.approx(k.peak_import_kw, rel=0.01)
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
    p.find(".drift-table .tabulator-row")  # cells against their peers lead the tab
    drift_titles = p.page.locator(".drift-table .tabulator-col-title").all_inner_texts()
    assert {"Rating", "Drift vs peers [mV/month]", "Deviation today [mV]", "Reaches the limit"} <= set(drift_titles)
    p.find(".degradation .tabulator-row")
    titles = p.page.locator(".degradation .tabulator-col-title").all_inner_texts()
    assert {"R²", "Loss [%/year]", "Rating"} <= set(titles), titles
    assert not {"Linearity", "Loss at 10,000 EFC [%]"} & set(titles)  # no grade of R², no unbounded projection
    assert not [t for t in titles + drift_titles if "_" in t], titles  # headers are words, not identifiers
    p.find(".fit-plot canvas")
    p.open_tab("Alerts")
    p.find(".alerts .tabulator-row")  # the demo fleet has drifting cells: alerts must be listed
    link = p.page.locator(".alerts .tabulator-row a").first.get_attribute("href")
    assert "view=cells" in link and "system=ZHPESS232A230002" in link and "pack=" in link
    p.open_tab("Raw cell voltage")
    p.find(".cell-viewer canvas")
    p.shot("cells")
    p.open_tab("SAT surface")
    p.find(".surface-picture canvas")  # drawn on the server: no reload, no WebGL
    p.find(".surface-toggle")
    # plotly.js is only on pages opened with the interactive viewer on.
    assert not p.page.locator("script[src*=plotly]").count()
    p.assert_clean()


@pytest.mark.parametrize("lang, cell_word, decimal", [("en", "Cell", "."), ("de", "Zelle", ",")])
def test_surface_picture_names_the_cell_under_the_pointer_turns_and_opens_on_click(open_page, lang, cell_word,
                                                                                  decimal):
    p = open_page(f"?view=cells&system=ZHPESS232A230002&range=all&lang={lang}")
    p.find(".cell-heatmap canvas")
    p.open_tab("SAT-Fläche" if lang == "de" else "SAT surface")
    canvas = p.find(".surface-picture canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    # the surface fills the middle of the picture (the box's centre is on it from any side)
    text = p.hover_tip(canvas, cell_word, ((0.45, 0.55), (0.5, 0.5), (0.4, 0.6), (0.55, 0.45)))
    assert re.search(cell_word + r":?\s+P[1-5]C([1-9]|[1-4]\d|5[0-2])\b", text), text
    assert re.search(r"\d{4}-\d{2}-\d{2}", text), text
    assert re.search(r"3" + re.escape(decimal) + r"\d{4} V", text), text  # SAT with its unit, locale decimal
    p.shot(f"cells_surface_picture_{lang}")
    # a turn redraws the picture on the server (slider released): the canvas's pixels change
    before = canvas.screenshot()
    handle = p.page.locator(".surface-turn .noUi-handle").first
    hb = handle.bounding_box()
    p.page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    p.page.mouse.down()
    p.page.mouse.move(hb["x"] + 120, hb["y"] + hb["height"] / 2, steps=5)
    p.page.mouse.up()
    for _ in range(50):
        if canvas.screenshot() != before:
            break
        p.page.wait_for_timeout(200)
    assert canvas.screenshot() != before, "the turned surface was not redrawn"
    # a click on the surface opens that cell (state.sel and its day go into the URL)
    p.page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    p.page.wait_for_url(re.compile(r"sel=P\d+C\d+.*day=\d{4}-\d{2}-\d{2}|day=\d{4}-\d{2}-\d{2}.*sel=P\d+C\d+"),
                        timeout=15_000)
    p.assert_clean()


def test_surface_toggle_reloads_the_page_with_plotly(open_page):
    p = open_page("?view=cells&system=ZHPESS232A230002&heatmap=sat&range=7d")
    p.find(".cell-heatmap canvas")
    p.open_tab("SAT surface")
    p.find(".surface-toggle button").click()
    p.page.wait_for_url(re.compile(r"surface=true"))
    plot = p.find(".sat-surface .js-plotly-plot")
    assert "range=7d" in p.page.url  # the reload keeps the state
    # what plotly.js drew: real dates on the day axis, cells by name, one column per day over 7 days
    axis_type, x, y, z_cols = plot.evaluate(
        "el => [el._fullLayout.scene.xaxis.type, el.data[0].x, el.data[0].y, el.data[0].z[0].length]")
    assert axis_type == "date" and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in x), x
    assert y[:2] == ["P1C1", "P1C2"] and len(set(y)) == len(y) and z_cols == len(x) and 6 <= len(x) <= 8
    assert "One column per calendar day" in p.find(".sat-surface .surface-note p").inner_text()  # in the shadow root
    p.shot("cells_surface")
    p.assert_clean()


def test_surface_picture_follows_the_pack_selector(open_page):
    p = open_page("?view=cells&system=ZHPESS232A230002&range=all&pack=3")
    p.find(".cell-heatmap canvas")
    p.open_tab("SAT surface")
    canvas = p.find(".surface-picture canvas")
    canvas.scroll_into_view_if_needed()
    text = p.hover_tip(canvas, "Cell", ((0.45, 0.55), (0.5, 0.5), (0.4, 0.6), (0.55, 0.45)))
    assert re.search(r"Cell:?\s+P3C\d+\b", text), text  # only pack 3's cells, by their system names
    p.assert_clean()


@pytest.mark.parametrize("lang, cell_word, decimal", [("en", "Cell", "."), ("de", "Zelle", ",")])
def test_cell_heatmap_hover_names_the_cell_date_and_values_with_units(open_page, lang, cell_word, decimal):
    p = open_page(f"?view=cells&system=ZHPESS232A230002&heatmap=sat&range=all&lang={lang}")
    canvas = p.find(".cell-heatmap canvas")
    # Move over the plot area until a tooltip with a value shows (the first pixels may be an empty day).
    text = p.hover_tip(canvas, cell_word, ((0.5, 0.5), (0.6, 0.3), (0.4, 0.7), (0.7, 0.6)),
                       until=r"\d" + re.escape(decimal) + r"\d{3} V")
    assert re.search(cell_word + r":?\s+P[1-5]C([1-9]|[1-4]\d|5[0-2])\b", text), text
    assert re.search(r"\d{4}-\d{2}-\d{2}(?!\s*\d{2}:\d{2})", text), text  # a date, no clock time
    assert re.search(r"-?\d+" + re.escape(decimal) + r"\d{3} V", text), text  # SAT with its unit
    assert re.search(r"-?\d+" + re.escape(decimal) + r"\d mV", text), text  # deviation with its unit
    assert "row" not in text.lower(), text
    # The y axis names cells at every zoom: BokehJS's own ticker and formatter on two spans.
    ticks = p.page.evaluate("""() => {
        for (const doc of Bokeh.documents) for (const m of doc.all_models) {
            if (m.constructor.__name__ !== "CustomJSTickFormatter") continue;
            const axis = [...doc.all_models].find((a) => a.formatter === m);
            const at = (lo, hi) => axis.ticker.get_ticks_no_defaults(lo, hi, null, axis.ticker.desired_num_ticks).major;
            return {all: m.doFormat(at(0, 259), {loc: 0}), zoom: m.doFormat(at(60, 70), {loc: 0})};
        }
        return null;
    }""")
    assert ticks is not None, "no cell tick formatter"
    assert {"P1C1", "P2C1", "P5C1"} <= set(ticks["all"]), ticks
    assert len(ticks["zoom"]) >= 3 and all(re.fullmatch(r"P2C\d+", t) for t in ticks["zoom"]), ticks
    legend = p.find(".heatmap-legend p").inner_text()  # the text sits in the pane's shadow root
    assert ("magenta" in legend) and ("99" in legend), legend
    p.shot(f"cells_hover_{lang}")
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


@pytest.mark.parametrize("query, selector", [
    ("?view=meter&system=m1&range=7d", ".power-plot canvas"),
    ("?view=bess&system=ZHPESS232A230002&range=7d", ".quick-plot canvas"),
    ("?view=compare&system=m3&other=ZHPESS232A230002&range=7d", ".compare-kpis .tabulator-row"),
    ("?view=cells&system=ZHPESS232A230002&range=7d&surface=true", ".cell-heatmap canvas"),
])
def test_no_request_leaves_loopback(open_page, query, selector):
    """Every page asset (Bokeh, Panel, Tabulator, plotly.js, fonts) comes from this server."""
    p = open_page(query)
    p.find(selector)
    if "surface=true" in query:
        p.open_tab("SAT surface")
        p.find(".sat-surface .js-plotly-plot")
    p.page.wait_for_load_state("networkidle")
    assert len(p.requests) > 5, p.requests  # the guard saw the page's traffic
    assert not p.left_loopback, p.left_loopback
    assert not p.errors, p.errors


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


def test_a_replaced_link_value_is_corrected_in_the_address_bar_after_load(open_page):
    # An unknown system falls back to the first meter; the browser's own report of its URL must
    # not re-apply "nope" (dashboard.state.quiet_link_echo), and the address bar ends up with the
    # system shown, so a copied link names it.
    p = open_page("?view=meter&system=nope&range=7d")
    p.find(".power-plot canvas")
    p.find(".energy-bars canvas")  # a part filled in after load arrives (it refers to the first document)
    p.page.wait_for_url(re.compile(r"system=m1(&|$)"))
    assert "range=7d" in p.page.url
    assert p.page.locator(".system-select select").first.input_value() == "m1"
    p.assert_clean()


def test_german_page_is_german_with_german_numbers(open_page):
    p = open_page("?view=meter&system=m3&range=all&lang=de")
    p.find(".power-plot canvas")
    lf = p.find(".kpi-load_factor .kpi-value").inner_text()
    assert re.fullmatch(r"0,\d{3}", lf), lf  # 0,941, not 0.941; never negative
    assert p.page.get_by_text("Max. Einspeiseleistung").count() and p.page.get_by_text("Max. Bezugsleistung").count()
    # The time axis says which clock it shows (axis labels are drawn on the canvas: read them from BokehJS).
    labels = p.page.evaluate("""() => {
        const out = [];
        for (const doc of Bokeh.documents) for (const m of doc.all_models)
            if (m.axis_label) out.push(String(m.axis_label));
        return out;
    }""")
    assert "Zeit (Europe/Berlin)" in labels, labels
    # Tick labels are drawn on the canvas too: run the page's own German number formatter.
    ticks = p.page.evaluate("""() => {
        for (const doc of Bokeh.documents) for (const m of doc.all_models)
            if (m.constructor.__name__ === "CustomJSTickFormatter" && m.code.includes("de-DE"))
                return m.doFormat([0.5, 1234.5], {loc: 0});
        return null;
    }""")
    assert ticks == ["0,5", "1.234,5"], ticks
    p.assert_clean()
    p = open_page("?view=bess&system=ZHPESS232A230002&range=all&lang=de")
    p.find(".bess-kpis")
    rte = p.find(".kpi-round_trip_efficiency .kpi-value").inner_text()
    assert re.fullmatch(r"\d{2},\d %", rte), rte
    p.assert_clean()
    p = open_page("?view=cells&system=ZHPESS232A230002&range=all&lang=de")
    p.find(".cell-heatmap canvas")
    p.open_tab("Warnungen")
    p.find(".alerts .tabulator-row")
    titles = p.page.locator(".alerts .tabulator-col-title").all_inner_texts()
    assert {"Ort", "Schweregrad", "Art", "Grund"} <= set(titles), titles
    severities = set(p.page.locator(".alerts .tabulator-cell[tabulator-field=severity]").all_inner_texts())
    assert severities and severities <= {"Hinweis", "Warnung", "kritisch"}, severities
    assert p.page.locator(".alerts .tabulator-page[data-page=next]").first.inner_text() == "Weiter"
    p.shot("german_cells_alerts")
    p.assert_clean()


def test_compare_refuses_a_system_against_itself_and_labels_each_line(open_page):
    p = open_page("?view=compare&system=m3&other=m3&range=7d")
    p.find(".view-info")
    assert p.page.get_by_text(re.compile(r"m3 is chosen twice")).count()
    assert not p.page.locator(".compare-plot").count()
    p.assert_clean()
    p = open_page("?view=compare&system=m3&other=ZHPESS232A230002&range=7d")
    p.find(".compare-plot canvas")
    legend = p.page.evaluate("""() => {
        const out = [];
        for (const doc of Bokeh.documents) for (const m of doc.all_models)
            if (m.type === "LegendItem" || (m.label && m.label.value !== undefined && m.renderers))
                out.push(String(m.label.value));
        return out;
    }""")
    assert any(x.startswith("m3:") for x in legend) and any(x.startswith("ZHPESS232A230002:") for x in legend), legend
    p.assert_clean()


def test_dark_theme_link_switches_theme(open_page):
    p = open_page("?view=meter&system=m1&range=7d")
    p.find(".power-plot canvas")
    p.page.get_by_role("button", name="1 month", exact=True).click()  # the link follows the page's state
    from playwright.sync_api import expect

    link = p.find("a.theme-link")
    expect(link).to_have_attribute("href", re.compile(r"range=1m"), timeout=30_000)
    link.click()
    p.page.wait_for_url(re.compile(r"theme=dark"))
    p.find(".power-plot canvas")
    assert "range=1m" in p.page.url and "system=m1" in p.page.url  # the state survives the reload
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


# -- the cell view: pack filter, opening a cell, annotations ---------------------------------------

def _heatmap_rows(p: Page) -> tuple[float, float]:
    """(first, last) row coordinate the heatmap image covers, from its glyph's y and dh in BokehJS."""
    got = p.page.evaluate("""() => {
        for (const doc of Bokeh.documents) for (const m of doc.all_models) {
            const d = m.data;
            if (!d) continue;
            const get = (k) => d instanceof Map ? d.get(k) : d[k];
            if (get("image") && get("dh")) return [Number(get("y")[0]), Number(get("dh")[0])];
        }
        return null;
    }""")
    assert got is not None, "no image glyph on the page"
    y, dh = got
    return y, y + dh


def test_pack_selector_filters_the_heatmap_and_the_pack_dependent_parts(open_page):
    p = open_page(f"?view=cells&system={STEPPED}&heatmap=sat&range=all&pack=2")
    p.find(".cell-heatmap canvas")
    first, last = _heatmap_rows(p)
    # pack 2 of 52 cells: system rows 52..103 (row r is drawn from r - 0.5 to r + 0.5)
    assert (first, last) == (pytest.approx(51.5), pytest.approx(103.5))
    names = p.page.evaluate("""() => {
        for (const doc of Bokeh.documents) for (const m of doc.all_models) {
            if (m.constructor.__name__ !== "CustomJSTickFormatter" || !m.code.includes("cpp")) continue;
            const axis = [...doc.all_models].find((a) => a.formatter === m);
            const ticks = axis.ticker.get_ticks_no_defaults(51.5, 103.5, null, axis.ticker.desired_num_ticks).major;
            return m.doFormat(ticks, {loc: 0});
        }
        return null;
    }""")
    assert names and all(re.fullmatch(r"P2C\d+", n) for n in names), names
    p.open_tab("Alerts")
    p.find(".alerts .tabulator-row")
    where = p.page.locator(".alerts .tabulator-cell[tabulator-field=where]").all_inner_texts()
    assert where and all(w.startswith("P2") for w in where), where
    p.find(".pack-select select").select_option(label="All packs")
    p.page.wait_for_url(re.compile(r"pack=0"))
    p.page.wait_for_function("""() => {
        for (const doc of Bokeh.documents) for (const m of doc.all_models) {
            const d = m.data; if (!d) continue;
            const get = (k) => d instanceof Map ? d.get(k) : d[k];
            if (get("image") && get("dh") && Number(get("dh")[0]) > 200) return true;
        }
        return false;
    }""", timeout=90_000)
    p.assert_clean()


def test_click_on_a_heatmap_cell_opens_that_cell_on_the_clicked_day(open_page):
    p = open_page(f"?view=cells&system={STEPPED}&heatmap=sat&range=all&pack=3")
    canvas = p.find(".cell-heatmap canvas")
    box = canvas.bounding_box()
    tip = p.page.locator(".bk-tooltip-content").filter(has_text="Cell")
    x, y = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5
    p.page.mouse.move(x, y)
    tip.first.wait_for(state="visible", timeout=20_000)
    text = tip.first.inner_text()
    cell = re.search(r"P3C\d+", text).group(0)
    day = re.search(r"\d{4}-\d{2}-\d{2}", text).group(0)
    p.page.mouse.click(x, y)
    # the click names the cell and day the hover names, and puts them in the URL (shareable)
    p.page.wait_for_url(re.compile(rf"sel={cell}(&|$)"), timeout=60_000)
    assert f"day={day}" in p.page.url, (p.page.url, text)
    p.find(".cell-drift canvas")
    p.find(".cell-sat-peers canvas")
    p.find(".cell-raw-day canvas")
    assert p.page.get_by_text(f"Cell {cell}", exact=True).count()
    titles = _plot_titles(p)
    assert any(t.startswith(f"{cell} against the system median: drift") for t in titles), titles
    assert any(t.startswith(f"Raw voltage of {cell} around") for t in titles), titles
    p.shot("cell_detail")
    p.find(".cell-detail-close button").click()
    p.page.wait_for_url(re.compile(r"sel=(&|$)"))
    p.find(".cell-detail-hint")
    p.assert_clean()


def _plot_titles(p: Page) -> list[str]:
    return p.page.evaluate("""() => {
        const out = [];
        for (const doc of Bokeh.documents) for (const m of doc.all_models)
            if (m.constructor.__name__ === "Title") out.push(String(m.text));
        return out;
    }""")


def test_alert_link_opens_its_cell_with_fit_segments_and_annotations(open_page, service):
    p = open_page(f"?view=cells&system={STEPPED}&range=all")
    p.find(".cell-heatmap canvas")
    # annotations on the heatmap: every alert with days and the pack event, each saying what it is on hover
    hovers = p.page.evaluate("""() => {
        const out = [];
        for (const doc of Bokeh.documents) for (const m of doc.all_models)
            if (m.type === "HoverTool" || m.constructor.__name__ === "HoverTool") out.push(JSON.stringify(m.tooltips));
        return out;
    }""")
    assert any("@{what}" in h or "@what" in h for h in hovers), hovers
    p.open_tab("Alerts")
    p.find(".alerts .tabulator-row")
    links = [a.get_attribute("href") for a in p.page.locator(".alerts .tabulator-row a").all()]
    link = next(h for h in links if "sel=" in h)
    label = re.search(r"sel=(P\d+C\d+)", link).group(1)
    d = open_page(link[link.index("?"):])
    d.find(".cell-drift canvas")
    # the drift line is drawn once per stretch between the pack events that step this cell
    detail = service.cell_detail(STEPPED, *map(int, re.findall(r"\d+", label)))
    fits = d.page.evaluate("""(label) => {
        let n = 0;
        for (const doc of Bokeh.documents) for (const m of doc.all_models)
            if (m.type === "LegendItem" || (m.label && m.renderers)) {
                if (m.label && m.label.value === label) n = m.renderers.length;
            }
        return n;
    }""", "Drift fit")
    assert fits == len(detail.segments) == len(detail.events) + 1 >= 2, (fits, detail.segments)
    d.shot("cell_from_alert")
    d.assert_clean()
    p.assert_clean()


# -- dark theme: WCAG AA contrast of every visible text --------------------------------------------

def _luminance(rgb) -> float:
    def channel(v: float) -> float:
        v /= 255.0
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(float(x)) for x in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a, b) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (1..21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("query, selector", [
    ("?view=meter&system=m1&range=7d", ".energy-bars canvas"),
    ("?view=compare&system=m3&other=ZHPESS232A230002&range=7d", ".compare-energy canvas"),
    ("?view=bess&system=ZHPESS232A230002&range=all", ".alarm-timeline canvas"),
    (f"?view=cells&system={STEPPED}&range=all&sel=P1C3", ".cell-raw-day canvas"),
])
def test_dark_theme_text_meets_wcag_aa_contrast(open_page, query, selector):
    # the formula against WCAG's own anchors: black on white is 21:1, #767676 on white just passes 4.5:1
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert 4.5 < contrast_ratio((0x76,) * 3, (255, 255, 255)) < 4.6 > contrast_ratio((0x77,) * 3, (255, 255, 255))
    p = open_page(query + "&theme=dark")
    p.find(selector)
    if "view=cells" in query:  # plots with legend titles sit in tabs (BokehJS keeps them once built)
        p.open_tab("Health per pack")
        p.find(".health-bars canvas")
        p.open_tab("Pack trends")
        p.find(".pack-trends-plot canvas")
    p.page.wait_for_timeout(1000)
    found = p.page.evaluate(CONTRAST_JS)
    # page text (DOM, through shadow roots) and the text BokehJS draws on canvases (ticks, titles, legends)
    assert len(found["texts"]) > 10 and len(found["canvas"]) > 3, found
    assert any("theme" in t["text"].lower() for t in found["texts"]), "the theme link was not checked"
    bad = []
    for t in found["texts"] + found["canvas"]:
        # text needs 4.5:1 (AA); a glyph without letters or digits is a graphic: 3:1 (WCAG 1.4.11)
        need = 4.5 if re.search(r"\w", t["text"]) else 3.0
        ratio = contrast_ratio(t["fg"], t["bg"])
        if ratio < need:
            bad.append((round(ratio, 2), t["text"], t.get("where"), t["fg"], t["bg"]))
    assert not bad, bad
    p.shot("dark_" + re.search(r"view=(\w+)", query).group(1))
    p.assert_clean()


# -- README pictures --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, query, selector", [
    ("fleet", "?view=fleet", ".fleet-table .tabulator-row"),
    ("compare", "?view=compare&system=m1&other=m3&range=1m", ".compare-energy canvas"),
    ("meter", "?view=meter&system=m3&range=1m", ".energy-bars canvas"),
    ("bess", "?view=bess&system=ZHPESS232A230002&range=all", ".alarm-timeline canvas"),
    ("cells", f"?view=cells&system={STEPPED}&heatmap=deviation&range=all", ".cell-heatmap canvas"),
    ("cell_detail", f"?view=cells&system={STEPPED}&heatmap=deviation&range=all&pack=2&sel=P2C43",
     ".cell-raw-day canvas"),
    ("cells_surface", "?view=cells&system=ZHPESS232A230002&range=all", ".cell-heatmap canvas"),
])
def test_readme_screenshots(browser, base_url, name, query, selector):
    """The README's pictures of the main screens, from the demo; BESS_SCREENSHOTS=1 (make screenshots)
    writes them into docs/screenshots/, else into test-artifacts/ only."""
    p = Page(browser, f"{base_url}/{query}")
    try:
        p.page.set_viewport_size({"width": 1280, "height": 800})
        p.find(selector)
        if name == "cell_detail":
            p.find(".cell-detail").scroll_into_view_if_needed()
        if name == "cells_surface":  # the server-drawn 3D surface, from its tab
            p.open_tab("SAT surface")
            p.find(".surface-picture canvas").scroll_into_view_if_needed()
        p.page.wait_for_timeout(1500)  # let the last renders settle
        out = (DOC_SHOTS if os.environ.get("BESS_SCREENSHOTS") == "1" else ARTIFACTS / "screenshots") / f"{name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        p.page.screenshot(path=str(out))
        from PIL import Image

        with Image.open(out) as im:
            assert im.size == (1280, 800), im.size
            # 256 colours: a screen of flat UI and plots loses nothing visible and shrinks 2-3x
            small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(out, optimize=True)
        assert out.stat().st_size < 300_000, (out, out.stat().st_size)  # documentation, not data
        p.assert_clean()
    finally:
        p.page.close()
