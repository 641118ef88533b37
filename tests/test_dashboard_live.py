"""The dashboard's fleet landing, auto-refresh, shareable windows and CSV exports, in headless Chromium
against a real server (issue 11 item 4, issue 14 item 6)."""

from __future__ import annotations

import logging
import re
import shutil
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from tests.dashboard_server import running_server
from tests.test_dashboard_browser import Page, base_url, open_page  # noqa: F401 -- shared fixtures

pytestmark = pytest.mark.browser
BESS, METER = "ZHPESS232A230002", "m1"


def _column(p: Page, field: str) -> list[str]:
    return p.page.locator(f".fleet-table .tabulator-row .tabulator-cell[tabulator-field={field}]").all_inner_texts()


def test_landing_is_the_fleet_ranked_by_risk_and_a_click_opens_the_system(open_page, service, caplog):
    caplog.set_level(logging.ERROR)
    p = open_page("")
    p.find(".fleet-table .tabulator-row")
    rows = service.fleet()
    # the core's ranking, row for row, with its worst cells
    assert _column(p, "system") == [r.system_id for r in rows]
    assert _column(p, "worst_cell")[0] == rows[0].worst_cell
    assert _column(p, "critical_cells")[0] == str(rows[0].critical_cells)
    assert [r.kind for r in rows[:3]] == ["bess"] * 3  # the demo's BESS have findings, the meters none
    p.shot("fleet")
    # "Cells ›" of the top system opens its cell screen, in the same session
    p.page.locator(".fleet-table .tabulator-cell[tabulator-field=open_cells]").first.click()
    # The URL follows once the session has built the new screen (the cell analyses: slow on a loaded machine).
    p.page.wait_for_url(re.compile(r"view=cells"), timeout=120_000)
    p.find(".cell-heatmap canvas")
    assert p.page.locator(".system-select select").first.input_value() == rows[0].system_id
    # every screen in turn: a screen left behind never computes for the next screen's system
    for name, selector in (("BESS overview", ".bess-kpis"), ("Meter", ".power-plot canvas"),
                           ("Fleet", ".fleet-table .tabulator-row")):
        p.page.get_by_role("button", name=name, exact=True).click()
        p.find(selector)
    meter_row = next(i for i, r in enumerate(rows) if r.kind == "meter")
    p.page.locator(".fleet-table .tabulator-cell[tabulator-field=open]").nth(meter_row).click()
    p.page.wait_for_url(re.compile(r"view=meter"), timeout=120_000)
    p.find(".power-plot canvas")
    assert p.page.locator(".system-select select").first.input_value() == rows[meter_row].system_id
    p.assert_clean()
    errors = [r.getMessage() for r in caplog.records if r.name.startswith("dashboard") and r.levelno >= logging.ERROR]
    assert not errors, errors


def _x_range_ms(p: Page) -> tuple[float, float]:
    """The first datetime plot's x range as Bokeh holds it (local wall time as ms)."""
    out = p.page.evaluate("""() => {
        for (const doc of Bokeh.documents) for (const m of doc.all_models) {
            const r = m.x_range;
            if (r && r.start > 1e11 && r.end > r.start) return [r.start, r.end];
        }
        return null;
    }""")
    assert out is not None, "no datetime plot"
    return out[0], out[1]


def _ms(t: datetime) -> float:
    return (t - datetime(1970, 1, 1)).total_seconds() * 1000.0


def test_absolute_window_and_zoom_are_in_the_link(open_page, service):
    end = service.system(METER).time_range.end.date()
    d0, d1 = end - timedelta(days=20), end - timedelta(days=14)
    p = open_page(f"?view=meter&system={METER}&date_from={d0}&date_to={d1}")
    p.find(".power-plot canvas")
    assert p.page.locator(".date-from input").first.input_value() == str(d0)
    lo, hi = _x_range_ms(p)
    # the plot covers those local days only (Bokeh pads the data range a little)
    day = 86_400_000
    assert _ms(datetime.combine(d0, datetime.min.time())) - day / 2 <= lo
    assert hi <= _ms(datetime.combine(d1 + timedelta(days=1), datetime.min.time())) + day / 2
    assert hi - lo > 5 * day
    canvas = p.find(".power-plot canvas")
    box = canvas.bounding_box()
    p.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    for _ in range(3):
        p.page.mouse.wheel(0, -300)
        p.page.wait_for_timeout(300)
    p.page.wait_for_url(re.compile(r"zoom="), timeout=30_000)
    zoom = parse_qs(urlsplit(p.page.url).query)["zoom"][0]
    a, b = (datetime.strptime(x, "%Y-%m-%dT%H:%M") for x in zoom.split(".."))
    assert b - a < timedelta(days=6), zoom  # zoomed in
    assert f"date_from={d0}" in p.page.url
    p.assert_clean()


def test_a_link_with_a_zoom_reopens_the_same_window(open_page, service):
    # The link names no second system: the default one filled in at page build once cleared the zoom, which
    # the browser then reported back while the screen was being sent (BokehJS "reference isn't known").
    end = service.system(METER).time_range.end.date()
    a = datetime.combine(end - timedelta(days=18), datetime.min.time())
    b = a + timedelta(days=2)
    link = f"view=meter&system={METER}&range=all&zoom={a:%Y-%m-%dT%H:%M}..{b:%Y-%m-%dT%H:%M}"
    q = open_page("?" + link)
    q.find(".power-plot canvas")
    lo, hi = _x_range_ms(q)
    assert lo == pytest.approx(_ms(a), abs=60_000) and hi == pytest.approx(_ms(b), abs=60_000)
    q.assert_clean()


def _download(p: Page, selector: str) -> pd.DataFrame:
    with p.page.expect_download(timeout=60_000) as info:
        p.find(selector).click()
    path = info.value.path()
    return pd.read_csv(path)


def test_kpi_tiles_and_compare_table_export_the_cores_numbers_as_csv(open_page, service):
    from dashboard.state import window
    from dashboard import quantities

    p = open_page(f"?view=meter&system={METER}&range=1m")
    p.find(".kpi-tile")
    frame = _download(p, ".kpi-csv button").set_index("kpi")
    k = service.kpis(METER, *window("1m", service.system(METER).time_range.end))
    for field in quantities.METER_FIELDS:
        assert frame.loc[field, "value"] == pytest.approx(getattr(k, field), rel=1e-9), field
    assert frame.loc["import_kwh", "unit"] == "kWh"
    # the text column is what the tile shows
    tile = p.find(".kpi-import_kwh .kpi-value").inner_text()
    assert frame.loc["import_kwh", "shown"] == tile
    p.assert_clean()

    p = open_page(f"?view=compare&system={METER}&other={BESS}&range=7d")
    p.find(".compare-kpis .tabulator-row")
    frame = _download(p, ".compare-csv button")
    assert set(frame["system"]) == {METER, BESS}
    ends = max(service.system(s).time_range.end for s in (METER, BESS))
    kb = service.kpis(BESS, *window("7d", ends))
    bess = frame[frame["system"] == BESS].set_index("kpi")
    assert bess.loc["round_trip_efficiency", "value"] == pytest.approx(kb.round_trip_efficiency, rel=1e-9)
    assert bess.loc["round_trip_efficiency", "unit"] == "1"  # a ratio in the CSV, 93.9 % on screen
    assert bess.loc["discharged_kwh", "value"] == pytest.approx(kb.cycles.discharged_kwh, rel=1e-9)
    p.assert_clean()


@pytest.fixture
def live_store(demo_dir, tmp_path):
    """One meter of the demo in a store of its own, and the root it was ingested from."""
    from data.ingest import ingest

    root = tmp_path / "exports"
    shutil.copytree(demo_dir / "meter" / METER, root / "meter" / METER)
    store = tmp_path / "store"
    assert ingest([root], store, progress=False).exit_code == 0
    return root, store


def test_auto_refresh_redraws_the_screen_when_an_ingest_publishes(browser, live_store):
    from api.server import build_app
    from core.service import QueryService
    from dashboard import quantities
    from data.ingest import ingest

    root, store = live_store
    service = QueryService(store)
    before = quantities.show(service.kpis(METER), "import_kwh", "en").text
    with running_server(build_app(store, warm=False)) as url:
        p = Page(browser, f"{url}/?view=meter&system={METER}&range=all")
        try:
            assert p.find(".kpi-import_kwh .kpi-value").inner_text() == before
            assert p.page.locator(".auto-refresh input").first.is_checked()  # on by default
            p.page.evaluate("window.__same_page = true")
            # new data: the import counter grows twice as fast; re-ingested and published
            for f in (root / "meter" / METER).glob("*_pos_ae*.csv"):
                df = pd.read_csv(f)
                df["value"] = df["value"] * 2
                f.write_text(df.to_csv(index=False, float_format="%.2f"))
            version = service.snapshot().version
            assert ingest([root], store, progress=False).exit_code == 0
            assert service.snapshot().version != version
            after = quantities.show(service.kpis(METER), "import_kwh", "en").text
            assert after != before
            p.page.locator(".kpi-import_kwh .kpi-value", has_text=after).first.wait_for(timeout=60_000)
            assert p.page.evaluate("window.__same_page === true")  # updated in place, not reloaded
            p.assert_clean()
        finally:
            p.page.close()


def test_auto_refresh_can_be_switched_off_by_link(open_page):
    p = open_page(f"?view=meter&system={METER}&range=7d&refresh=false")
    p.find(".power-plot canvas")
    assert not p.page.locator(".auto-refresh input").first.is_checked()
    p.assert_clean()
