"""Small exact cases: fit derivations, event segments, trends, deviations, alerts, health, validation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.cells import (Alert, AlertKind, AlertRules, FitMethod, Language, PackEvent, Severity, build_alerts,
                        cell_deviations, extract_sat, fit_cells, health_by_pack, pack_trends,
                        rank_cells)
from core.cells.drift import analyze_drift

DAYS = np.datetime64("2024-01-01", "D") + np.arange(100).astype("timedelta64[D]")


def lines(start_v, slope_v_per_day, n_packs=2, cells_per_pack=6, rng=None):
    """Exact lines (plus optional seeded noise) for n_packs x cells_per_pack cells over DAYS."""
    n = n_packs * cells_per_pack
    t = np.arange(DAYS.size, dtype=float)
    v = np.broadcast_to(np.asarray(start_v, float), (n,))[:, None] + np.broadcast_to(
        np.asarray(slope_v_per_day, float), (n,))[:, None] * t[None, :]
    if rng is not None:
        v = v + rng.normal(0, 0.001, v.shape)
    packs = np.repeat(np.arange(1, n_packs + 1), cells_per_pack)
    cells = np.tile(np.arange(1, cells_per_pack + 1), n_packs)
    return extract_sat(v, DAYS, packs, cells)


def test_loss_rates_projections_and_threshold():
    sat = lines(3.45, -1e-4)
    f = fit_cells(sat, FitMethod.OLS, efc_per_day=2.0)
    np.testing.assert_allclose(f.slope_v_per_day, -1e-4, rtol=1e-9)
    np.testing.assert_allclose(f.intercept_v, 3.45, rtol=1e-12)
    np.testing.assert_allclose(f.loss_pct_per_year, 1e-4 * 365.25 / 3.45 * 100, rtol=1e-9)
    np.testing.assert_allclose(f.loss_pct_per_efc, 1e-4 / 3.45 * 100 / 2.0, rtol=1e-9)
    np.testing.assert_allclose(f.sat_v_at_5000_efc, 3.45 - 1e-4 * 2500, rtol=1e-9)
    np.testing.assert_allclose(f.sat_v_at_10000_efc, 3.45 - 1e-4 * 5000, rtol=1e-9)
    np.testing.assert_allclose(f.loss_pct_at_10000_efc, f.loss_pct_per_efc * 10_000)
    np.testing.assert_allclose(f.sat_v_at_efc(5000), f.sat_v_at_5000_efc)
    # from the last day (x = 99, v = 3.4401) down to 3.44: 1 day; away from the line: never
    np.testing.assert_allclose(f.days_to_threshold(3.44), 1.0, rtol=1e-6)
    assert np.isinf(f.days_to_threshold(3.5)).all()
    no_efc = fit_cells(sat, FitMethod.OLS)
    assert np.isnan(no_efc.loss_pct_per_efc).all() and np.isnan(no_efc.sat_v_at_5000_efc).all()
    one = f.cell(3)
    assert one.label == "P1C4" and one.method is FitMethod.OLS and one.n == 100
    with pytest.raises(ValueError, match="efc_per_day"):
        fit_cells(sat, efc_per_day=0.0)


def test_rising_and_flat_lines_in_days_to_threshold():
    sat = lines(3.45, np.r_[np.full(6, 1e-4), np.zeros(6)])
    f = fit_cells(sat, FitMethod.ROBUST)
    d = f.days_to_threshold(3.4600)
    np.testing.assert_allclose(d[:6], (3.46 - (3.45 + 99e-4)) / 1e-4, rtol=1e-6)
    assert np.isinf(d[6:]).all()
    assert (f.loss_pct_per_year[:6] < 0).all()  # a rising SAT is a negative loss
    np.testing.assert_allclose(f.r2[:6], 1.0)


def test_event_segment_fit_is_not_smeared():
    rng = np.random.default_rng(5)
    sat0 = lines(3.45, -2e-5, rng=rng)
    v = np.array(sat0.voltage_v)
    v[:6, 50:] -= 0.015
    sat = extract_sat(v, sat0.days, sat0.packs, sat0.cells)
    ev = PackEvent(pack=1, day=DAYS[50], step_v=-0.015, cells_affected=tuple(range(1, 7)), n_cells=6)
    with_event = fit_cells(sat, FitMethod.OLS, events=[ev], guard_days=3)
    across = fit_cells(sat, FitMethod.OLS)
    assert (with_event.fit_start_day[:6] == DAYS[53]).all() and (with_event.fit_start_day[6:] == DAYS[0]).all()
    assert (with_event.n[:6] == 47).all() and (with_event.n[6:] == 100).all()
    assert np.abs(with_event.slope_v_per_day + 2e-5).max() < 5e-5  # stderr ~1.1e-5 at 1 mV noise, 47 days
    assert np.abs(across.slope_v_per_day[:6] + 2e-5).min() > 1e-4
    t = pack_trends(sat, events=[ev], guard_days=3)
    assert t.n.tolist() == [47, 100]
    assert abs(t.rate_v_per_month[0] / (365.25 / 12) + 2e-5) < 1e-5


def test_trends_equal_numpy():
    rng = np.random.default_rng(8)
    sat = lines(3.45, -1e-5, rng=rng)
    t = pack_trends(sat)
    for i, p in enumerate((1, 2)):
        block = sat.voltage_v[sat.packs == p]
        np.testing.assert_allclose(t.mean_v[i], block.mean(axis=0))
        np.testing.assert_allclose(t.spread_v[i], block.max(axis=0) - block.min(axis=0))
        np.testing.assert_allclose(t.std_v[i], block.std(axis=0))
        slope = np.polyfit(np.arange(100.0), block.mean(axis=0), 1)[0]
        np.testing.assert_allclose(t.rate_v_per_month[i], slope * 365.25 / 12, rtol=1e-9)


def test_deviations_z_and_ranking():
    sat0 = lines(3.45, 0.0)
    v = np.array(sat0.voltage_v)
    v[2] += 0.010  # P1C3 sits 10 mV high
    v[3, :] += np.linspace(0, 0.016, 100)  # P1C4 drifts up (mean deviation 8 mV)
    v[:, 10] = np.nan  # a day without data stays NaN, silently
    sat = extract_sat(v, sat0.days, sat0.packs, sat0.cells)
    d = cell_deviations(sat, recent_sat_days=10)
    np.testing.assert_allclose(d.deviation_mv[2, :10], 10.0, atol=1e-9)
    np.testing.assert_allclose(d.robust_z[2, :10], 10.0, atol=1e-9)  # MAD 0 -> floor of 1 mV
    assert np.isnan(d.deviation_mv[:, 10]).all()
    np.testing.assert_allclose(d.mean_deviation_mv[2], 10.0)
    assert d.recent_deviation_mv[3] > 14.0
    f = fit_cells(sat, FitMethod.OLS)
    r = rank_cells(f, d, k=2)
    assert r.worst_by_slope[0].label == "P1C4" and r.worst_by_deviation[0].label == "P1C3"
    assert abs(r.best_by_slope[0].slope_v_per_day) < 1e-12


def test_small_packs_fall_back_to_the_system_as_peers():
    sat0 = lines(3.45, 0.0, n_packs=5, cells_per_pack=1)
    v = np.array(sat0.voltage_v)
    v[4] += 0.030
    d = cell_deviations(extract_sat(v, sat0.days, sat0.packs, sat0.cells))
    np.testing.assert_allclose(d.deviation_mv[4, 0], 30.0)


def test_alerts_thresholds_languages_and_health():
    rng = np.random.default_rng(9)
    n_cells = 12
    sat0 = lines(3.45 + rng.normal(0, 0.002, n_cells), rng.normal(-1e-5, 2e-6, n_cells), n_packs=1,
                 cells_per_pack=n_cells, rng=rng)
    v = np.array(sat0.voltage_v)
    v[0] += np.linspace(0, 0.06, 100)  # P1C1: fast drift, ends 60 mV high
    v[1] -= 0.025  # P1C2: 25 mV low
    sat = extract_sat(v, sat0.days, sat0.packs, sat0.cells)
    d = cell_deviations(sat)
    ev = PackEvent(pack=1, day=DAYS[40], step_v=-0.021, cells_affected=(5, 6), n_cells=12)
    drift = analyze_drift(sat)
    alerts = build_alerts(drift, d, pack_trends(sat), [ev])
    kinds = {(a.label, a.kind): a for a in alerts}
    assert kinds[("P1C1", AlertKind.DRIFT_OUTLIER)].severity is Severity.CRITICAL
    assert kinds[("P1C1", AlertKind.HIGH_SAT)].severity is Severity.CRITICAL
    low = kinds[("P1C2", AlertKind.LOW_SAT)]
    assert low.severity is Severity.WARNING
    assert re.fullmatch(r"P1C2 ends its charges 2\d\.\d mV below its peers' median \(median of the last 30 "
                        r"saturation days\)\.", low.reason(Language.EN))
    assert re.search(r"2\d,\d mV unter dem Median der Vergleichszellen", low.reason(Language.DE))
    assert kinds[("P1", AlertKind.HIGH_SPREAD)].severity is Severity.WARNING  # ~85 mV between P1C1 and P1C2
    event = kinds[("P1", AlertKind.PACK_EVENT)]
    assert event.severity is Severity.CRITICAL and "-21.0 mV" in event.reason_en and "2024-02-10" in event.reason_en
    assert "-21,0 mV" in event.reason_de
    assert alerts[0].severity is Severity.CRITICAL and alerts[-1].severity.rank <= alerts[0].severity.rank
    assert not any(a.kind is AlertKind.DRIFT_OUTLIER and a.cell != 1 for a in alerts)
    h = health_by_pack(sat.packs, sat.cells, alerts, [ev])
    assert len(h) == 1 and (h[0].critical, h[0].watched, h[0].healthy) == (1, 3, 8)
    loose = build_alerts(drift, d, pack_trends(sat), [], rules=AlertRules(sat_deviation_warning_mv=30.0,
                                                                              sat_deviation_critical_mv=70.0))
    assert {(a.label, a.kind, a.severity) for a in loose} == {("P1C1", AlertKind.DRIFT_OUTLIER, Severity.CRITICAL),
                                                             ("P1C1", AlertKind.HIGH_SAT, Severity.WARNING),
                                                             ("P1", AlertKind.HIGH_SPREAD, Severity.WARNING)}
    info = Alert(1, 3, AlertKind.LOW_SAT, Severity.INFO, "x", "y")
    assert health_by_pack(sat.packs, sat.cells, [info])[0].healthy == 12


@pytest.mark.parametrize("kwargs,msg", [
    (dict(daily_max_v=np.ones(3)), "must be 2-D"),
    (dict(days=DAYS[::-1]), "strictly increasing"),
    (dict(days=DAYS[:5]), "must have shape"),
    (dict(packs=np.zeros(12, int)), "1-based"),
    (dict(cells=np.ones(12, int)), "same cell twice"),
    (dict(packs=np.ones(12)), "must be integers"),
    (dict(soc_max_pct=np.ones(3)), "soc_max_pct must have shape"),
    (dict(plausible_range_v=(3.8, 2.5)), "plausible_range_v"),
])
def test_extract_sat_validation(kwargs, msg):
    args = dict(daily_max_v=np.full((12, 100), 3.45), days=DAYS, packs=np.repeat([1, 2], 6),
                cells=np.tile(np.arange(1, 7), 2))
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        extract_sat(args.pop("daily_max_v"), args.pop("days"), args.pop("packs"), args.pop("cells"), **args)


def test_rows_are_sorted_and_results_frozen():
    v = np.array([[3.45, 3.46], [3.44, 3.43]])
    sat = extract_sat(v, DAYS[:2], np.array([2, 1]), np.array([1, 1]))
    assert sat.labels == ("P1C1", "P2C1")
    np.testing.assert_array_equal(sat.voltage_v, v[::-1])
    with pytest.raises(ValueError):
        sat.voltage_v[0, 0] = 1.0


def test_degenerate_inputs_run_silently():
    """Tiny, sparse and empty-ish matrices go through the whole analysis without warnings (errors here)."""
    from core.cells import analyze_cells

    rng = np.random.default_rng(0)
    for _ in range(40):
        n_packs, cpp, n_days = int(rng.integers(1, 4)), int(rng.integers(1, 8)), int(rng.integers(1, 80))
        v = rng.uniform(3.0, 3.5, (n_packs * cpp, n_days))
        v[rng.random(v.shape) < rng.uniform(0, 1)] = np.nan
        days = np.datetime64("2024-01-01") + np.arange(n_days).astype("timedelta64[D]")
        sat = extract_sat(v, days, np.repeat(np.arange(1, n_packs + 1), cpp), np.tile(np.arange(1, cpp + 1), n_packs))
        a = analyze_cells(sat, efc_per_day=1.0)
        assert sum(h.n_cells for h in a.health) == sat.n_cells
        assert a.ols.days_to_threshold(3.3).shape == (sat.n_cells,)
