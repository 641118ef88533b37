"""One cell's detail (core.cell_detail) against NumPy on the SAT matrix and the demo's pack event."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from core.cell_detail import local_day_window
from data.store import NotFoundError

STEPPED = "ZHPESS232A230007"  # the demo fleet's system with a pack event (pack 1, every cell)


@pytest.fixture(scope="module")
def detail(service):
    return service.cell_detail(STEPPED, 2, 5)


def test_medians_are_those_of_the_sat_matrix(service, detail):
    sat = service.sat_matrix(STEPPED)
    v = sat.voltage_v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # days without any SAT stay NaN
        pack = np.nanmedian(v[sat.packs == 2], axis=0)
        system = np.nanmedian(v, axis=0)
    row = sat.labels.index("P2C5")
    np.testing.assert_allclose(detail.sat_v, v[row], equal_nan=True)
    np.testing.assert_allclose(detail.pack_median_v, pack, equal_nan=True, atol=1e-12)
    np.testing.assert_allclose(detail.system_median_v, system, equal_nan=True, atol=1e-12)
    np.testing.assert_allclose(detail.deviation_v, v[row] - system, equal_nan=True, atol=1e-12)
    assert set(detail.sat_days) == set(sat.days[np.isfinite(v[row])])


def test_fit_segments_split_at_the_pack_event_and_carry_the_drift_slope(service, detail):
    events = service.events(STEPPED)
    assert events, "the demo's stepped system lost its pack event"
    # a wide event (a whole pack) steps every cell's fit, so a cell of another pack shows it too
    assert {(e.pack, e.day) for e in detail.events} == {(e.pack, e.day) for e in events if e.n_cells >= 5}
    assert len(detail.segments) == len(detail.events) + 1
    for seg in detail.segments:
        assert not any(seg.start_day < e.day <= seg.end_day for e in detail.events), (seg, detail.events)
        days = float((seg.end_day - seg.start_day).astype(np.int64))
        assert (seg.end_v - seg.start_v) / days == pytest.approx(detail.drift_v_per_day, rel=1e-9)
        # the level is the median of (deviation - slope x) over the segment's own days
        keep = (detail.days >= seg.start_day) & (detail.days <= seg.end_day) & np.isfinite(detail.deviation_v)
        x = (detail.days - detail.days[0]).astype(np.int64).astype(float)
        level = np.median(detail.deviation_v[keep] - detail.drift_v_per_day * x[keep])
        assert seg.start_v == pytest.approx(level + detail.drift_v_per_day * x[keep][0])
    a = service.cell_analysis(STEPPED).drift.cells
    i = a.labels.index("P2C5")
    assert detail.drift_v_per_day == a.drift_v_per_day[i]


def test_projection_band_opens_from_the_last_fitted_day_at_the_interval_ends(detail):
    last = detail.segments[-1]
    assert detail.projection_days[0] == last.end_day
    assert detail.projection_low_v[0] == detail.projection_high_v[0] == pytest.approx(last.end_v)
    days = float((detail.projection_days[-1] - detail.projection_days[0]).astype(np.int64))
    assert detail.projection_low_v[-1] == pytest.approx(last.end_v + detail.drift_ci95_low_v_per_day * days)
    assert detail.projection_high_v[-1] == pytest.approx(last.end_v + detail.drift_ci95_high_v_per_day * days)
    assert np.all(detail.projection_low_v <= detail.projection_high_v)


def test_alerts_of_the_cell_and_its_pack_come_along(service):
    alerts = service.alerts(STEPPED)
    cell_alert = next(a for a in alerts if a.cell is not None)
    d = service.cell_detail(STEPPED, cell_alert.pack, cell_alert.cell)
    want = {(a.kind, a.cell) for a in alerts if a.pack == cell_alert.pack and a.cell in (None, cell_alert.cell)}
    assert {(a.kind, a.cell) for a in d.alerts} == want and want


def test_unknown_cell_is_named(service):
    with pytest.raises(NotFoundError, match="cells 1..52, not 99"):
        service.cell_detail(STEPPED, 1, 99)


@pytest.mark.parametrize("day, hours", [("2024-03-31", 71), ("2024-10-27", 73), ("2024-06-15", 72)])
def test_local_day_window_spans_whole_local_days_across_dst(day, hours):
    start, end = local_day_window(day)
    want_start = pd.Timestamp(day, tz="Europe/Berlin") - pd.Timedelta(days=1)
    assert start == want_start.tz_convert("UTC").to_pydatetime()
    assert (end - start).total_seconds() == hours * 3600
    assert start.tzinfo is not None and end.astimezone(timezone.utc) > datetime(2024, 1, 1, tzinfo=timezone.utc)
