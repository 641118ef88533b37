"""Drift against peers on the real reference data, on synthetic fleets with a real system component, and its contract.

References that are not the code under test: the reference files themselves (split halves,
a moving-block bootstrap), the synthetic fleet's written truth, and a real system's daily
median added to a synthetic fleet (what must not change anything).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
from scipy import stats

from core.cells import AlertKind, Severity, analyze_cells, daily_max_from_long, detect_pack_events, extract_sat
from core.cells.drift import DriftGrade, DriftRules, LimitStatus, Mechanism, analyze_drift, split_sat
from core.cells.synthetic import generate_sat_fleet
from core.cells.trend_fit import fit_trends
from tests.reference_data import REFERENCE  # ../shared/reference beside the repository

SYSTEMS = ("ZHPESS232A230002", "ZHPESS232A230003")
BLOCK_DAYS = 30


def reference_sat(system: str):
    df = pl.read_csv(REFERENCE / f"sat_daily_{system}.csv", try_parse_dates=True)
    dm = daily_max_from_long(df["pack"].to_numpy(), df["cell"].to_numpy(),
                             df["date"].to_numpy().astype("datetime64[D]"), df["sat_voltage_v"].to_numpy())
    return extract_sat(dm.voltage_v, dm.days, dm.packs, dm.cells)


@pytest.fixture(scope="module", params=SYSTEMS)
def ref(request):
    return reference_sat(request.param)


def _slice(sat, sl):
    return dataclasses.replace(sat, days=sat.days[sl], voltage_v=sat.voltage_v[:, sl],
                               saturation_day=sat.saturation_day[sl], day_median_v=sat.day_median_v[sl])


def test_split_half_drift_is_stable_on_real_data(ref):
    """The raw slope of the same cell differs by 100-300 uV/day between halves; drift against peers by <= 40."""
    half = ref.n_days // 2
    a, b = _slice(ref, slice(0, half)), _slice(ref, slice(half, None))
    da = analyze_drift(a, detect_pack_events(a)).cells.drift_v_per_day
    db = analyze_drift(b, detect_pack_events(b)).cells.drift_v_per_day
    assert np.isfinite(da).all() and np.isfinite(db).all()
    assert np.abs(da - db).max() <= 40e-6
    # the test can fail: raw slopes of the halves disagree by far more
    x = ref.day_offsets()
    raw = []
    for part in (slice(0, half), slice(half, None)):
        y = ref.voltage_v[:, part]
        ok = np.isfinite(y)
        raw.append([np.polyfit(x[part][ok[i]], y[i, ok[i]], 1)[0] for i in range(ref.n_cells)])
    assert np.abs(np.subtract(*raw)).min() > 80e-6


def test_interval_width_matches_a_30_day_block_bootstrap(ref):
    """95 % widths are 0.8-1.5x those of a moving-block bootstrap of the same estimator (blocks of 30 days)."""
    events = detect_pack_events(ref)
    drift = analyze_drift(ref, events)
    parts = split_sat(ref)
    n = int((ref.days[-1] - ref.days[0]).astype(np.int64)) + 1
    cols = (ref.days - ref.days[0]).astype(np.int64)
    y = np.full((ref.n_cells, n), np.nan)
    y[:, cols] = parts.relative_v
    level = np.full(n, np.nan)
    level[cols] = parts.system_v
    x = np.arange(n, dtype=float)
    # fitted values by plain least squares on the same design (line, level, the steps)
    # a level step at each pack event of the cell's pack (one cell per pack here), as the product fits it
    steps = [np.array([float((e.day - ref.days[0]).astype(np.int64)) for e in events if e.pack == p])
             for p in ref.packs]
    lc = np.where(np.isfinite(level), level - np.nanmean(level), np.nan)
    fitted = np.full_like(y, np.nan)
    for i in range(ref.n_cells):
        full = np.column_stack([np.ones(n), x, lc] + [(x < s_).astype(float) for s_ in steps[i]])
        ok = np.isfinite(y[i]) & np.isfinite(lc)
        beta = np.linalg.lstsq(full[ok], y[i, ok], rcond=None)[0]
        fitted[i] = full @ beta
    resid = y - fitted
    rng = np.random.default_rng(20261130)
    slopes = []
    for _ in range(200):
        starts = rng.integers(0, n, size=n // BLOCK_DAYS + 1)
        idx = (starts[:, None] + np.arange(BLOCK_DAYS)[None, :]).ravel()[:n] % n
        y_star = fitted + resid[:, idx]
        slopes.append(fit_trends(x, y_star, covariate=level, steps_x=steps, bootstrap=False).slope)
    boot_width = 2 * 1.959963984540054 * np.nanstd(np.array(slopes), axis=0, ddof=1)
    ours = drift.cells.drift_ci95_high_v_per_day - drift.cells.drift_ci95_low_v_per_day
    ratio = ours / boot_width
    assert ((ratio >= 0.8) & (ratio <= 1.5)).all(), ratio
    # the textbook interval (independent days) is far too narrow: the test can fail
    iid = np.array([stats.linregress(x[np.isfinite(r)], r[np.isfinite(r)]).stderr for r in y])
    assert np.median(2 * 1.959963984540054 * iid / boot_width) < 0.6


def test_no_exact_zero_drift_on_quantised_real_data(ref):
    d = analyze_drift(ref).cells.drift_v_per_day
    assert np.isfinite(d).all() and (d != 0.0).all()


@pytest.fixture(scope="module")
def system_component():
    """A real system's daily SAT median, de-meaned: the part every cell shares."""
    sat = reference_sat(SYSTEMS[0])
    med = split_sat(sat).system_v
    return sat.days, med - np.nanmean(med)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_real_system_component_changes_no_alert_event_or_drift(seed, system_component):
    days_ref, comp = system_component
    f = generate_sat_fleet(seed, n_fast=6, n_days=int(days_ref.size), first_day=str(days_ref[0]), system_shifts=())
    sat = extract_sat(f.daily_max_v, f.days, f.packs, f.cells)
    shared = np.nan_to_num(comp)  # days the reference lacks add nothing
    injected = extract_sat(f.daily_max_v + shared[None, :], f.days, f.packs, f.cells)
    a, b = analyze_cells(sat, efc_per_day=0.9), analyze_cells(injected, efc_per_day=0.9)
    # saturation days the component pushes below the criterion are the only difference allowed
    assert (a.sat.saturation_day != b.sat.saturation_day).sum() <= 0.03 * sat.n_days
    assert [(e.pack, e.day) for e in a.events] == [(e.pack, e.day) for e in b.events]
    assert {(x.label, x.kind, x.severity) for x in a.alerts if x.cell is not None} == \
        {(x.label, x.kind, x.severity) for x in b.alerts if x.cell is not None}
    ca, cb = a.drift.cells, b.drift.cells
    half_width = (ca.drift_ci95_high_v_per_day - ca.drift_ci95_low_v_per_day) / 2
    assert (np.abs(ca.drift_v_per_day - cb.drift_v_per_day) <= half_width).all()
    # all six fast cells found, both signs, and the damaged pack's step on its day
    fast = {sat.labels[i] for i in np.flatnonzero(f.fast)}
    assert fast <= {x.label for x in b.alerts if x.kind is AlertKind.DRIFT_OUTLIER}
    assert [e.pack for e in b.events] == [f.step_pack]
    assert abs(int((b.events[0].day - f.step_day).astype(np.int64))) <= 2


def test_system_trend_is_reported_apart_and_named_as_operation(ref):
    d = analyze_drift(ref)
    s = d.system
    assert s.trend.ci95_low_v_per_day <= s.trend.slope_v_per_day <= s.trend.ci95_high_v_per_day
    assert 0.4 <= s.level_shift_share <= 0.9  # month-long level shifts explain most of it (0.6-0.7 measured)
    assert "set-point" in s.note_en and "Ladeschlussspannung" in s.note_de and "not from cell ageing" in s.note_en


def _line_fleet(slopes_v_per_day, start_mv=None, n_days=400):
    rng = np.random.default_rng(0)
    n = len(slopes_v_per_day)
    x = np.arange(n_days, dtype=float)
    v = 3.45 + np.asarray(slopes_v_per_day)[:, None] * x[None, :] + rng.normal(0, 0.0005, (n, n_days))
    if start_mv is not None:
        v += np.asarray(start_mv)[:, None] / 1000.0
    days = np.datetime64("2024-01-01") + np.arange(n_days).astype("timedelta64[D]")
    return extract_sat(v, days, np.repeat([1, 2], n // 2), np.tile(np.arange(1, n // 2 + 1), 2))


def test_mechanism_limit_dates_and_projections_stay_physical():
    slopes = np.zeros(12)
    slopes[0], slopes[1] = 1e-4, -1e-4  # 3 mV/month up and down
    start = np.zeros(12)
    start[2] = 45.0  # already beyond the 40 mV limit
    sat = _line_fleet(slopes, start)
    d = analyze_drift(sat, efc_per_day=1.0).cells
    assert d.mechanism[0] is Mechanism.RISING and d.mechanism[1] is Mechanism.FALLING
    assert d.mechanism[5] is Mechanism.NONE
    status, date, early, late = d.limit_dates()
    assert status[0] is LimitStatus.DATE and status[1] is LimitStatus.DATE
    assert status[2] is LimitStatus.ALREADY and status[5] is LimitStatus.NEVER
    # P1C1 sits ~+36 mV (400 days x 0.1 mV/day - the median's share) and reaches +40 mV within weeks
    days_left = int((date[0] - d.last_day).astype(np.int64))
    expected = (0.040 - d.deviation_v[0]) / d.drift_v_per_day[0]
    assert abs(days_left - expected) <= 1
    assert early[0] <= date[0] <= late[0]
    proj = d.deviation_at_efc_v(10_000, days_recorded=400)
    assert np.nanmax(np.abs(proj)) <= 0.100 and abs(proj[0]) == pytest.approx(0.100)
    assert np.isfinite(d.drift_v_per_efc()).all()
    with pytest.raises(ValueError, match="limit_v"):
        d.limit_dates(-1.0)


def test_verdicts_agree_with_alerts():
    slopes = np.zeros(12)
    slopes[0] = 1e-4
    slopes[7] = -2.5e-5  # ~0.76 mV/month: watched
    sat = _line_fleet(slopes)
    a = analyze_cells(sat)
    by_label = {sat.labels[i]: v for i, v in enumerate(a.verdicts)}
    for alert in a.alerts:
        if alert.cell is None:
            continue
        v = by_label[alert.label]
        assert v.severity is not None and v.severity.rank >= alert.severity.rank
        assert v.rating.value != "stable"
    assert by_label["P1C1"].severity is Severity.CRITICAL and by_label["P1C1"].rating.value == "fast_drift"
    assert by_label["P2C2"].severity is Severity.WARNING and by_label["P2C2"].rating.value == "drifting"
    quiet = [v for lbl, v in by_label.items() if lbl not in {"P1C1", "P2C2"}]
    assert all(v.severity is None and v.rating.value == "stable" for v in quiet)
    assert a.drift.cells.grade[0] is DriftGrade.FAST


def test_rules_are_validated():
    with pytest.raises(ValueError, match="warning_v_per_month"):
        DriftRules(warning_v_per_month=0.003, critical_v_per_month=0.001)
    with pytest.raises(ValueError, match="limit_v"):
        DriftRules(limit_v=0.0)
    with pytest.raises(ValueError, match="SatMatrix"):
        analyze_drift("not a matrix")  # type: ignore[arg-type]


def test_every_alert_names_the_days_that_raised_it():
    slopes = np.zeros(12)
    slopes[0] = 1e-4
    sat = _line_fleet(slopes)
    v = np.array(sat.voltage_v)
    v[3, 300:] += 0.03  # P1C4 sits 30 mV high over the last 100 days
    sat = extract_sat(v, sat.days, sat.packs, sat.cells)
    a = analyze_cells(sat)
    assert a.alerts
    for al in a.alerts:
        assert al.first_day is not None and sat.days[0] <= al.first_day <= al.last_day <= sat.days[-1]
    drift = next(al for al in a.alerts if al.kind is AlertKind.DRIFT_OUTLIER and al.label == "P1C1")
    assert (drift.first_day, drift.last_day) == (sat.days[0], sat.days[-1])  # the whole fitted record
    high = next(al for al in a.alerts if al.label == "P1C4" and al.kind is AlertKind.HIGH_SAT)
    assert (high.first_day, high.last_day) == (sat.days[-30], sat.days[-1])  # the recent 30 saturation days
