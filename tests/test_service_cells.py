"""The cell analytics, end to end from CSV exports, find the demo generator's written ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from core.cells import AlertKind, Severity

BESS = ("ZHPESS232A230002", "ZHPESS232A230003", "ZHPESS232A230007")


@pytest.mark.parametrize("sid", BESS)
def test_saturation_days_are_the_full_charge_days(service, demo_truth, sid):
    sat = service.sat_matrix(sid)
    found = {str(d) for d in sat.days[sat.saturation_day]}
    truth = set(demo_truth["bess"][sid]["full_charge_days"])
    assert len(found ^ truth) <= 0.02 * len(truth), "saturation days differ from the full-charge days"
    assert sat.voltage_v.shape[0] == 260 and sat.labels[0] == "P1C1" and sat.labels[-1] == "P5C52"


@pytest.mark.parametrize("sid", BESS)
def test_fast_degrading_cells_are_flagged_and_nothing_much_else(service, demo_truth, sid):
    truth = demo_truth["bess"][sid]
    degrading = {tuple(c) for c in truth["degrading_cells"]}
    drift = {(a.pack, a.cell) for a in service.alerts(sid) if a.kind == AlertKind.DRIFT_OUTLIER}
    assert degrading <= drift
    damaged = truth["damaged_pack"]
    false_alarms = {c for c in drift - degrading if c[0] != damaged}
    assert len(false_alarms) <= 2, f"false drift alarms: {sorted(false_alarms)}"
    critical = {(a.pack, a.cell) for a in service.alerts(sid) if a.severity == Severity.CRITICAL and a.cell}
    assert critical <= degrading | {c for c in critical if c[0] == damaged}


@pytest.mark.parametrize("sid", BESS)
def test_damaged_pack_event_found_with_date_and_size(service, demo_truth, sid):
    truth = demo_truth["bess"][sid]
    events = service.events(sid)
    if truth["damaged_pack"] is None:
        assert events == ()
        return
    assert len(events) == 1
    ev = events[0]
    period = truth["bad_charging_period"]
    assert ev.pack == truth["damaged_pack"]
    start, end = np.datetime64(period["start_local"]), np.datetime64(period["end_local"])
    assert start - np.timedelta64(2, "D") <= ev.day <= end + np.timedelta64(2, "D")
    assert ev.step_v == pytest.approx(period["step_v"], abs=0.003)


@pytest.mark.parametrize("sid", BESS)
def test_drift_recovers_the_truth(service, demo_truth, sid):
    """Drift against peers through the store equals the demo's written drift (one line, the event as a level step)."""
    truth = demo_truth["bess"][sid]
    c = service.cell_analysis(sid).drift.cells
    by_label = {f"P{x['pack']}C{x['cell']}": x for x in truth["cells"]}
    want = np.array([by_label[label]["drift_whole_v_per_day"] for label in c.labels])
    fast = np.array([by_label[label]["degrading"] for label in c.labels])
    err = np.abs(c.drift_v_per_day - want)
    assert (err[fast] <= 0.10 * np.abs(want[fast])).all()
    assert np.median(err) < 3e-6 and np.percentile(err, 95) < 1e-5


def test_fits_carry_quality_and_cycle_based_loss(service):
    fits = service.degradation("ZHPESS232A230002", "ols")
    assert np.all(np.isfinite(fits.loss_pct_per_efc))
    assert fits.efc_per_day and 0.3 < fits.efc_per_day < 2.0
    assert np.all((fits.r2 >= 0) & (fits.r2 <= 1))


def test_health_counts_add_up(service):
    for sid in BESS:
        health = service.pack_health(sid)
        assert [h.pack for h in health] == [1, 2, 3, 4, 5]
        assert all(h.healthy + h.watched + h.critical == h.n_cells == 52 for h in health)


def test_deviation_matrix_is_centred_on_the_system_median(service):
    m = service.deviation_matrix("ZHPESS232A230003")
    assert m.unit == "mV" and m.values.shape == (260, len(m.columns))
    sat = service.sat_matrix("ZHPESS232A230003")
    days = np.isfinite(m.values).any(axis=0)  # saturation days only
    assert days.sum() > 300
    # independent: the SAT matrix minus its own column medians
    med = np.full(sat.n_days, np.nan)
    med[days] = np.nanmedian(sat.voltage_v[:, days], axis=0)
    np.testing.assert_allclose(m.values[:, days], (sat.voltage_v[:, days] - med[None, days]) * 1000.0, atol=1e-9)
    assert np.nanmax(np.abs(np.nanmedian(m.values[:, days], axis=0))) < 1e-9


def test_sat_matrix_of_a_range_equals_extracting_that_range_alone(service):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from core.cell_queries import read_sat

    berlin = ZoneInfo("Europe/Berlin")
    start, end = datetime(2024, 3, 1, tzinfo=berlin), datetime(2024, 4, 1, tzinfo=berlin)
    sliced = service.sat_matrix("ZHPESS232A230002", start, end)
    alone = read_sat(service.snapshot(), service.system("ZHPESS232A230002"),
                     start.astimezone(timezone.utc), end.astimezone(timezone.utc))
    assert str(sliced.days[0]) == "2024-03-01" and str(sliced.days[-1]) == "2024-03-31"
    np.testing.assert_array_equal(sliced.days, alone.days)
    np.testing.assert_array_equal(sliced.voltage_v, alone.voltage_v)
    np.testing.assert_array_equal(sliced.saturation_day, alone.saturation_day)


def test_deviation_matrix_of_a_range_is_the_slice_of_the_whole(service):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    whole = service.deviation_matrix("ZHPESS232A230002")
    part = service.deviation_matrix("ZHPESS232A230002", datetime(2024, 10, 1, tzinfo=berlin),
                                    datetime(2024, 11, 1, tzinfo=berlin))
    assert part.columns[0] == "2024-10-01" and part.columns[-1] == "2024-10-31" and len(part.columns) == 31
    first = whole.columns.index("2024-10-01")
    np.testing.assert_array_equal(part.values, whole.values[:, first:first + 31])
