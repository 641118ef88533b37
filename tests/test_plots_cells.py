"""The cell view's plots from the demo's real analysis: fits only where fitted, on dates; annotations where they belong."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest

from dashboard import plots

hv.extension("bokeh", logo=False)

STEPPED = "ZHPESS232A230007"  # pack 1 stepped on one day (a pack event)


def _elements(overlay, kind):
    return [e for e in overlay if type(e) is kind]  # an Area is a Curve too


def test_raw_fit_is_drawn_on_dates_from_its_first_fitted_day(service):
    event = service.events(STEPPED)[0]
    fits = service.degradation(STEPPED, "ols")
    sat = service.sat_matrix(STEPPED)
    row = sat.labels.index(f"P{event.pack}C1")
    assert fits.fit_start_day[row] > sat.days[0]  # the event's pack is fitted after its step only
    plot = plots.fit_plot(sat.days, sat.voltage_v[row], fits, row, title="t")
    (line,) = [c for c in _elements(plot, hv.Curve)]
    x = line.dimension_values(0)
    assert x.dtype.kind == "M"  # dates, not day numbers
    fitted = sat.days[(sat.days >= fits.fit_start_day[row]) & np.isfinite(sat.voltage_v[row])]
    assert x[0] == fitted[0].astype("datetime64[ms]") and x[-1] == fitted[-1].astype("datetime64[ms]")
    assert x[0] > np.datetime64(event.day, "ms")  # never across the step it did not fit
    xd = (fitted[[0, -1]] - fits.day0).astype(np.int64)
    np.testing.assert_allclose(line.dimension_values(1), fits.intercept_v[row] + fits.slope_v_per_day[row] * xd)
    (band,) = _elements(plot, hv.Area)
    assert band.dimension_values(0)[0] == x[0]
    (points,) = _elements(plot, hv.Scatter)
    assert len(points) == np.isfinite(sat.voltage_v[row]).sum() or len(points) == sat.days.size


def test_drift_plot_draws_one_line_per_fitted_segment_and_the_band_ahead(service):
    d = service.cell_detail(STEPPED, 3, 7)
    plot = plots.drift_plot(d, title="t")
    lines = [c for c in _elements(plot, hv.Curve) if c.label == "Drift fit"]
    assert len(lines) == len(d.segments) == len(d.events) + 1
    for line, seg in zip(lines, d.segments):
        x = line.dimension_values(0)
        assert x[0] == seg.start_day.astype("datetime64[ms]") and x[-1] == seg.end_day.astype("datetime64[ms]")
        np.testing.assert_allclose(line.dimension_values(1), [1000 * seg.start_v, 1000 * seg.end_v])
    (band,) = _elements(plot, hv.Area)
    assert band.dimension_values(0)[0] == d.segments[-1].end_day.astype("datetime64[ms]")
    (events,) = _elements(plot, hv.VLines)
    assert list(events.dimension_values(0)) == [np.datetime64(e.day, "ms") for e in d.events]
    assert "Pack event P1" in events.dimension_values("what")[0]


def test_heatmap_annotations_outline_the_alerted_rows_of_the_shown_pack(service):
    alerts = service.alerts(STEPPED)
    cell_alert = next(a for a in alerts if a.cell is not None and a.first_day is not None)
    cpp = service.system(STEPPED).cells_per_pack
    row = (cell_alert.pack - 1) * cpp + cell_alert.cell - 1
    shown = ((cell_alert.pack - 1) * cpp, cell_alert.pack * cpp)
    parts = plots.heatmap_annotations(service.events(STEPPED), alerts, cells_per_pack=cpp, rows=shown)
    (boxes,) = [e for e in parts if isinstance(e, hv.Rectangles)]
    rows = {(y0, y1) for y0, y1 in zip(boxes.dimension_values("y0"), boxes.dimension_values("y1"))}
    assert (row - 0.5, row + 0.5) in rows
    # only rows on screen: every box lies within the pack shown
    assert all(shown[0] - 0.5 <= y0 < y1 <= shown[1] - 0.5 for y0, y1 in rows)
    texts = list(boxes.dimension_values("what"))
    assert any(t.startswith(cell_alert.label) for t in texts), texts
    # a pack that has neither alerts nor events gets no annotation at all
    quiet = [p for p in range(1, 6) if not any(a.pack == p for a in alerts)
             and not any(e.pack == p for e in service.events(STEPPED))]
    if quiet:
        q = quiet[0]
        assert not plots.heatmap_annotations(service.events(STEPPED), alerts, cells_per_pack=cpp,
                                             rows=((q - 1) * cpp, q * cpp))


def test_series_annotations_shade_each_run_of_alert_days_once(service):
    alerts = [a for a in service.alerts(STEPPED) if a.first_day is not None]
    parts = plots.series_annotations(service.events(STEPPED), alerts, lang="de")
    (spans,) = [e for e in parts if isinstance(e, hv.VSpans)]
    starts = [np.datetime64(s, "D") for s in spans.dimension_values("start")]
    ends = [np.datetime64(e, "D") for e in spans.dimension_values("end")]
    # Runs do not overlap (overlapping shades stacked into a solid red over the plot) ...
    assert all(e0 < s1 for e0, s1 in zip(ends, starts[1:])), list(zip(starts, ends))
    # ... and every alert's days lie in exactly one of them.
    for a in alerts:
        inside = [s <= a.first_day and a.last_day + np.timedelta64(1, "D") <= e for s, e in zip(starts, ends)]
        assert sum(inside) == 1, a
    texts = " ".join(spans.dimension_values("what"))
    assert any(w in texts for w in ("Warnung", "kritisch", "Hinweis"))  # label (severity): reason, in German


def test_overlapping_alerts_share_one_span_that_names_them():
    from core.cells.alerts import Alert, AlertKind, Severity

    def alert(cell, first, last):
        return Alert(pack=1, cell=cell, kind=next(iter(AlertKind)), severity=Severity.WARNING, reason_en=f"r{cell}",
                     reason_de=f"r{cell}", first_day=np.datetime64(first), last_day=np.datetime64(last))

    many = [alert(c, "2025-01-01", "2025-03-01") for c in range(1, 8)] + [alert(9, "2025-02-15", "2025-04-01"),
                                                                         alert(10, "2025-06-01", "2025-06-02")]
    spans = plots.merged_alert_spans(many, "en")
    assert [(str(np.datetime64(s, "D")), str(np.datetime64(e, "D"))) for s, e, _ in spans] == [("2025-01-01", "2025-04-02"), ("2025-06-01", "2025-06-03")]
    first = spans[0][2]
    assert first.count("P1C") == plots.SPAN_ALERTS_NAMED and first.endswith("(+4 more)"), first
    assert spans[1][2].startswith("P1C10")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_annotation_legend_names_both_kinds(lang):
    text = plots.annotation_legend(lang, heatmap=True)
    assert plots.HEATMAP_ALERT_COLOR in text and plots.EVENT_COLOR in text
