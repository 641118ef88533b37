"""Every visible dashboard string in English and German, numbers in the language's format, one
format per KPI on every screen."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import numpy as np
import pytest

from core.cells.alerts import AlertKind, Severity
from core.kpis import _TEMPERATURE_GROUPS
from dashboard import derive, i18n, quantities
from dashboard.i18n import tr
from dashboard.numbers import format_number, format_quantity
from dashboard.state import HEATMAPS, RANGES, VIEWS
from dashboard.tables import DECIMALS, column_title
from dashboard.views.compare import kpi_frame

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
BESS, METER, PV_METER = "ZHPESS232A230002", "m1", "m3"


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("key", sorted(i18n.keys()))
def test_every_label_has_english_and_german_with_the_same_placeholders(key):
    en, de = tr.__globals__["_LABELS"][key]
    assert en.strip() and de.strip(), key
    assert _fields(en) == _fields(de), key


def _literal_keys() -> set[tuple[str, str]]:
    """(file, key) of every tr("literal", ...) call in the dashboard's code."""
    out = set()
    for path in DASHBOARD.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                out.add((path.name, node.args[0].value))
    return out


def test_every_literal_label_in_the_code_is_translated():
    keys = _literal_keys()
    assert len(keys) > 50  # the scan sees the code's labels
    missing = sorted((f, k) for f, k in keys if k not in i18n.keys())
    assert not missing, missing


def test_computed_labels_are_translated():
    wanted = ([*VIEWS, *RANGES, *HEATMAPS, "healthy", "watched", "critical"]
              + [f"tgroup_{g}" for g in _TEMPERATURE_GROUPS]
              + [f"severity_{s.value}" for s in Severity] + [f"kind_{k.value}" for k in AlertKind]
              + [q.label for q in quantities.QUANTITIES.values()]
              + [q.help for q in quantities.QUANTITIES.values() if q.help]
              + [q.unit for q in quantities.QUANTITIES.values() if q.unit.startswith("unit_")])
    missing = sorted(k for k in wanted if k not in i18n.keys())
    assert not missing, missing


def test_an_untranslated_label_fails_loudly():
    with pytest.raises(KeyError, match="no translation"):
        tr("surely_not_a_label", "de")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_table_headers_are_words_not_identifiers(service, lang):
    fits = service.degradation(BESS)
    analysis = service.cell_analysis(BESS)
    frames = [derive.degradation_frame(fits, analysis.verdicts, lang), derive.drift_frame(analysis, lang),
              derive.alerts_frame(service.alerts(BESS), lang, BESS),
              derive.health_frame(service.pack_health(BESS)), derive.events_frame(service.events(BESS)),
              derive.trends_frame(service.pack_trends(BESS))]
    for frame in frames:
        for col in frame.columns:
            title = column_title(col, lang)
            assert "_" not in title and title != col, (col, title)
        numeric = [c for c in frame.columns if frame[c].dtype.kind in "fiu" and c != "pack"]
        assert set(numeric) <= set(DECIMALS), set(numeric) - set(DECIMALS)


def test_alert_severities_and_kinds_read_german(service):
    frame = derive.alerts_frame(service.alerts(BESS), "de", BESS)
    assert len(frame)
    german = {tr(f"severity_{s.value}", "de") for s in Severity}
    assert set(frame["severity"]) <= german
    assert not set(frame["kind"]) & {k.value for k in AlertKind if "_" in k.value}


def test_german_numbers_use_a_decimal_comma_and_a_thousands_point():
    assert format_number(0.9412, "de", decimals=3) == "0,941"
    assert format_number(0.9412, "en", decimals=3) == "0.941"
    assert format_number(12345.6, "de", decimals=1) == "12.345,6"
    assert format_number(12345.6, "en", decimals=1) == "12,345.6"
    assert format_quantity(1534.2, "kWh", "de") == "1,53 MWh"
    assert format_quantity(93.94, "%", "de", decimals=1) == "93,9 %"
    assert format_number(-0.0001, "en", decimals=2) == "0.00"  # no "-0.00"
    assert format_number(2.31e-13, "en") == "0.000000000000231"  # never an exponent


def test_round_trip_efficiency_reads_in_percent_on_every_screen(service):
    k = service.kpis(BESS)
    for lang in ("en", "de"):
        tile = quantities.show(k, "round_trip_efficiency", lang)
        assert re.fullmatch(r"\d{2}[.,]\d %", tile.text), tile.text
        expected = format_number(100 * k.round_trip_efficiency, lang, decimals=1) + " %"
        assert tile.text == expected
        table = kpi_frame({BESS: k, PV_METER: service.kpis(PV_METER)}, lang)
        row = table[table.iloc[:, 0] == tile.label]
        assert row[BESS].item() == tile.text


@pytest.mark.parametrize("lang", ["en", "de"])
def test_compare_table_shows_each_kpi_exactly_as_its_tile(service, lang):
    kpis = {BESS: service.kpis(BESS), PV_METER: service.kpis(PV_METER)}
    table = kpi_frame(kpis, lang).set_index(tr("kpis", lang))
    for sys_id, k in kpis.items():
        for shown in quantities.rows(k, lang):
            assert table.loc[shown.label, sys_id] == shown.text, shown
    # A quantity the other kind does not have is a dash, not a number.
    assert table.loc[tr("load_factor", lang), BESS] == "–"


def test_meter_tiles_show_both_peaks_and_a_load_factor_in_range(service):
    k = service.kpis(PV_METER)
    shown = {s.key: s for s in quantities.meter_rows(k, "de")}
    assert {"peak_import_kw", "peak_export_kw"} <= set(shown)
    lf = shown["load_factor"]
    assert re.fullmatch(r"0,\d{3}|1,000", lf.text), lf.text
    assert "0 und 1" in lf.help


def test_soh_trend_is_shown_only_when_significant(service):
    from datetime import timedelta

    end = service.system(BESS).time_range.end
    short = service.kpis(BESS, end - timedelta(days=1), end)
    assert quantities.show(short, "soh_trend_pct_per_year", "en").text == "no significant trend"
    assert quantities.show(short, "soh_trend_pct_per_year", "de").text == "kein signifikanter Trend"
    whole = service.kpis(BESS)
    text = quantities.show(whole, "soh_trend_pct_per_year", "de").text
    assert re.fullmatch(r"-\d+,\d\d %/Jahr", text), text


def test_heatmap_colours_are_clipped_robustly_and_the_legend_says_how():
    from dashboard import cell_heatmap

    rng = np.random.default_rng(3)
    sat = 3.45 + 0.01 * rng.standard_normal((260, 300))
    sat[17] = 4.2  # one outlier cell
    lo, hi = cell_heatmap.robust_clim(sat)
    inside = (sat >= lo) & (sat <= hi)
    assert not inside[17].any()  # the outlier gets its own colour ...
    assert np.delete(inside, 17, axis=0).mean() > 0.97  # ... the other 259 cells use the scale
    assert hi - lo < 0.1 < 4.2 - 3.45
    lo_s, hi_s = cell_heatmap.robust_clim(sat - 3.45, symmetric=True)
    assert lo_s == -hi_s
    assert cell_heatmap.robust_clim(np.full((3, 3), np.nan)) is None
    legend = cell_heatmap.heatmap_legend((3.4271, 3.4813), "V", "de", daily=True)
    assert "3,427 bis 3,481 V" in legend and "magenta" in legend and "keine SAT" in legend


def test_every_alert_links_to_its_cell_over_the_days_that_raised_it(service):
    """The alerts table's link opens the cell view on that cell, with a range reaching back to the
    alert's first day (counted from the data's end, as the range presets are)."""
    from urllib.parse import parse_qs

    alerts = service.alerts(BESS)
    frame = derive.alerts_frame(alerts, "en", BESS)
    assert len(frame) == len(alerts)
    last = max(a.last_day for a in alerts)
    span = {"7d": 7, "1m": 30, "all": 10 ** 6}
    for a, link in zip(sorted(alerts, key=lambda x: -x.severity.rank), frame["open"]):
        q = {k: v[0] for k, v in parse_qs(link.lstrip("?")).items()}
        assert q["view"] == "cells" and q["system"] == BESS and int(q["pack"]) == a.pack
        assert (int(q["cell"]) if "cell" in q else None) == a.cell
        assert int((last - a.first_day).astype("int64")) <= span[q["range"]] + 1 or q["range"] == "all"


def test_drift_table_agrees_with_the_core_and_the_alerts(service):
    analysis = service.cell_analysis(BESS)
    frame = derive.drift_frame(analysis, "en")
    assert len(frame) == analysis.sat.n_cells
    critical = {a.label for a in analysis.alerts if a.cell is not None and a.severity.value == "critical"}
    top = list(frame["cell"][:len(critical)])
    assert set(top) == critical  # the cells that need attention first
    rows = frame.set_index("cell")
    for label in critical:
        assert rows.loc[label, "rating"] in {"fast drift", "far from its peers"}
    i = list(analysis.drift.cells.labels).index(top[0]) if top else 0
    assert rows.loc[analysis.drift.cells.labels[i], "drift_mv_per_month"] == pytest.approx(
        analysis.drift.cells.drift_v_per_day[i] * 1000 * 365.25 / 12, abs=1e-3)
