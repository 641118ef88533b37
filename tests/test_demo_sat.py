"""The demo's SAT physics: system component calibrated to the reference, cell drifts that match the truth.

Independent references: the real reference series in ../shared/reference (statistics of
their daily median over cells) and the demo's written ground truth; the generated CSV exports
are read back with plain Polars, not through the platform's own ingest or analytics.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from data.demo.config import CELL_CAPACITY_AH, SYSTEM_IDS
from data.demo.sat import I_PEAK_A, K_CAP_V, K_KNEE_V_PER_SOC, MECHANISMS_PER_SYSTEM
from data.demo.sat_system import draw_system_sat
from tests.reference_data import REFERENCE  # ../shared/reference beside the repository

START = date(2023, 10, 1)
MAX_LAG_DAYS = 30
RISING = ("capacity_fade", "resistance_growth")

# Tolerances of the model's typical statistic (median over many draws of the reference's
# length) against the mean of the two reference systems; see data/demo/sat_system.py.
SD_REL_TOL = 0.20
LAG1_TOL = 0.05
MEAN_ACF_TOL = 0.08
BLOCK_SD_REL_TOL = 0.25
DAY_CHANGE_REL_TOL = 0.25
# Drift of cell minus system median, fitted on the CSVs, against the truth.
FAST_DRIFT_REL_TOL = 0.05
NORMAL_DRIFT_ABS_TOL_V_PER_DAY = 3e-6


def series_stats(day: np.ndarray, median_v: np.ndarray) -> dict[str, float]:
    """Spread, autocorrelation, month-scale level and day-to-day change of a daily series."""
    grid = np.full(int(day.max()) + 1, np.nan)
    grid[day] = median_v
    x = grid - np.nanmean(grid)
    acf = []
    for k in range(1, MAX_LAG_DAYS + 1):
        a, b = x[:-k], x[k:]
        ok = ~np.isnan(a) & ~np.isnan(b)
        acf.append(np.corrcoef(a[ok], b[ok])[0, 1])
    block = day // 30
    keys = np.unique(block)
    block_means = np.array([median_v[block == k].mean() for k in keys])
    change = np.diff(grid)
    change = change[~np.isnan(change)]
    return {"sd_v": float(np.std(median_v)), "acf1": acf[0], "acf30": acf[-1], "acf_mean": float(np.mean(acf)),
            "block_sd_v": float(np.std(block_means)),
            "day_change_v": float(1.4826 * np.median(np.abs(change - np.median(change))))}


@pytest.fixture(scope="module")
def reference_stats() -> list[dict[str, float]]:
    out = []
    for f in sorted(REFERENCE.glob("sat_daily_*.csv")):
        df = pl.read_csv(f, try_parse_dates=True).filter(pl.col("sat_voltage_v") >= 3.40)
        med = df.group_by("date").agg(pl.col("sat_voltage_v").median()).sort("date")
        day = np.array([(d - med["date"][0]).days for d in med["date"]])
        out.append(series_stats(day, med["sat_voltage_v"].to_numpy()))
    assert len(out) == 2
    return out


@pytest.fixture(scope="module")
def model_stats() -> dict[str, np.ndarray]:
    """The statistics of 200 seeded draws of the system component, 580 days like the reference."""
    rows = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        sat = draw_system_sat(rng, 580)
        keep = rng.random(580) < 0.97  # the reference misses ~3 % of days (partial charges)
        rows.append(series_stats(np.flatnonzero(keep), np.round(sat.daily_v[keep], 3)))
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def test_system_component_reproduces_the_reference(reference_stats, model_stats):
    ref = {k: np.mean([r[k] for r in reference_stats]) for k in reference_stats[0]}
    typical = {k: float(np.median(v)) for k, v in model_stats.items()}
    assert typical["sd_v"] == pytest.approx(ref["sd_v"], rel=SD_REL_TOL)
    assert typical["acf1"] == pytest.approx(ref["acf1"], abs=LAG1_TOL)
    assert typical["acf_mean"] == pytest.approx(ref["acf_mean"], abs=MEAN_ACF_TOL)
    assert typical["block_sd_v"] == pytest.approx(ref["block_sd_v"], rel=BLOCK_SD_REL_TOL)
    assert typical["day_change_v"] == pytest.approx(ref["day_change_v"], rel=DAY_CHANGE_REL_TOL)
    # month-long shifts: the autocorrelation at 30 days stays well above that of day-to-day noise
    assert typical["acf30"] > 0.3
    # and each real system is an ordinary draw of the model: inside its 5-95 % range
    for r in reference_stats:
        for k, v in model_stats.items():
            lo, hi = np.percentile(v, [5, 95])
            assert lo <= r[k] <= hi, (k, r[k], lo, hi)


def test_system_component_is_deterministic_and_stays_in_the_lfp_range():
    a = draw_system_sat(np.random.default_rng(5), 639)
    b = draw_system_sat(np.random.default_rng(5), 639)
    assert np.array_equal(a.daily_v, b.daily_v) and np.array_equal(a.regime_start_day, b.regime_start_day)
    assert 3.40 < a.daily_v.min() and a.daily_v.max() < 3.50
    lengths = np.diff(np.append(a.regime_start_day, 639))
    assert lengths[:-1].min() >= 25  # month-long regimes (the last one is cut by the end)


# ---------------------------------------------------------------- the generated CSVs


def _read(path: Path) -> pl.DataFrame:
    head = path.read_bytes()[:64].decode("utf-8-sig")
    semi = ";" in head.splitlines()[0]
    df = pl.read_csv(path, separator=";" if semi else ",", decimal_comma=semi,
                     schema_overrides={"timestamp": pl.String, "value": pl.Float64}, encoding="utf8-lossy")
    return df.rename({df.columns[0]: "timestamp"})


def _day(s: str) -> int:
    return (date.fromisoformat(s[:10]) - START).days


def _skip_days(b: dict) -> set[int]:
    """Gap days and the bad charging period: a day on which the export misses the peak."""
    out = set()
    for g in b["gaps"]:
        a, z = datetime.fromisoformat(g["start_local"]).date(), datetime.fromisoformat(g["end_local"]).date()
        while a <= z:
            out.add((a - START).days)
            a += timedelta(days=1)
    bad = b["bad_charging_period"]
    if bad:
        out |= set(range(_day(bad["start_local"]), _day(bad["end_local"])))
    return out


@pytest.fixture(scope="module")
def sat_tables(demo_dir, demo_truth) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per system: (day index, SAT matrix 260 x days) on the truth's full-charge days, from the CSVs."""
    out = {}
    for sid, b in demo_truth["bess"].items():
        skip = _skip_days(b)
        days = np.array([d for d in map(_day, b["full_charge_days"]) if d not in skip])
        col = {int(d): j for j, d in enumerate(days)}
        sat = np.full((len(b["cells"]), days.size), np.nan)
        for i, c in enumerate(b["cells"]):
            df = _read(demo_dir / "BESS" / sid / f"bms1_p{c['pack']}_v{c['cell']}.csv")
            daily = df.group_by(pl.col("timestamp").str.slice(0, 10).alias("day")).agg(pl.col("value").max())
            for d, v in zip(daily["day"].to_list(), daily["value"].to_list()):
                j = col.get(_day(d))
                if j is not None:
                    sat[i, j] = v
        assert not np.isnan(sat).any(), sid
        out[sid] = (days, sat)
    return out


def _slopes(day: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = day - day.mean()
    return (y - y.mean(axis=1, keepdims=True)) @ x / (x @ x)


def test_generated_daily_median_looks_like_the_reference(sat_tables, demo_truth, reference_stats, model_stats):
    for sid, (days, sat) in sat_tables.items():
        median = np.median(sat, axis=0)
        truth = np.array(demo_truth["bess"][sid]["system_sat"]["median_v"])[days]
        # what the files show is the written system component (1 mV readings, 260 cells)
        assert np.sqrt(np.mean((median - truth) ** 2)) < 0.001, sid
        got = series_stats(days, median)
        for k in ("sd_v", "acf1", "acf_mean", "block_sd_v"):
            lo, hi = np.percentile(model_stats[k], [1, 99])
            assert lo <= got[k] <= hi, (sid, k, got[k], lo, hi)
        assert 3.42 < np.median(median) < 3.46, sid
        # as on the reference (95-99 %), most of an ordinary cell's day-to-day variation is shared
        cells = demo_truth["bess"][sid]["cells"]
        normal = np.array([c["mechanism"] == "none" and c["pack"] != demo_truth["bess"][sid]["damaged_pack"]
                           for c in cells])
        own = np.diff(sat[normal] - median, axis=1).var(axis=1)
        total = np.diff(sat[normal], axis=1).var(axis=1)
        assert np.median(1.0 - own / total) > 0.95, sid


def test_cell_minus_system_median_slopes_match_the_truth(sat_tables, demo_truth):
    signs = set()
    for k, (sid, (days, sat)) in enumerate(sat_tables.items()):
        b = demo_truth["bess"][sid]
        rel = sat - np.median(sat, axis=0)
        bad = b["bad_charging_period"]
        before = days < _day(bad["start_local"]) if bad else np.ones(days.size, bool)
        after = days >= _day(bad["end_local"]) if bad else before
        fit_before = _slopes(days[before], rel[:, before])
        fit_after = _slopes(days[after], rel[:, after])
        cells = b["cells"]
        want = np.array([c["drift_v_per_day"] for c in cells])
        want_after = np.array([c["drift_after_v_per_day"] for c in cells])
        fast = np.array([c["degrading"] for c in cells])
        mech = [c["mechanism"] for c in cells]
        assert sorted(m for m in mech if m != "none") == sorted(MECHANISMS_PER_SYSTEM[SYSTEM_IDS.index(sid)])
        assert [list(x) for x in b["degrading_cells"]] == [[c["pack"], c["cell"]] for c in cells if c["degrading"]]
        for i in np.flatnonzero(fast):
            assert (want[i] > 0) == (mech[i] in RISING), (sid, i, mech[i], want[i])
            assert 5.9e-5 <= abs(want[i]) <= 1.51e-4
            assert fit_before[i] == pytest.approx(want[i], rel=FAST_DRIFT_REL_TOL), (sid, i)
            signs.add(np.sign(want[i]))
        assert np.abs(fit_before - want)[~fast].max() < NORMAL_DRIFT_ABS_TOL_V_PER_DAY, sid
        # after a bad charging period (the damaged pack's cells drift faster down from there)
        tol = np.maximum(NORMAL_DRIFT_ABS_TOL_V_PER_DAY, FAST_DRIFT_REL_TOL * np.abs(want_after))
        assert np.all(np.abs(fit_after - want_after) < tol), sid
        # and one line over the whole period with the event as a level step
        want_whole = np.array([c["drift_whole_v_per_day"] for c in cells])
        keep = before | after
        x = np.column_stack([np.ones(keep.sum()), days[keep], days[keep] >= (_day(bad["end_local"]) if bad else 0)])
        fit_whole = np.linalg.lstsq(x, rel[:, keep].T, rcond=None)[0][1]
        tol = np.maximum(NORMAL_DRIFT_ABS_TOL_V_PER_DAY, FAST_DRIFT_REL_TOL * np.abs(want_whole))
        assert np.all(np.abs(fit_whole - want_whole) < tol), sid
        # the fast cells stand out: no ordinary cell comes near them
        assert np.abs(want[~fast]).max() < 0.25 * np.abs(want[fast]).min(), sid
    assert signs == {-1.0, 1.0}


def test_mechanisms_show_in_the_cells_parameters(demo_truth):
    for b in demo_truth["bess"].values():
        cells = b["cells"]
        none = [c for c in cells if c["mechanism"] == "none"]
        for c in cells:
            if c["mechanism"] == "capacity_fade":
                assert c["capacity_fade_ah_per_day"] > 2 * max(x["capacity_fade_ah_per_day"] for x in none)
            elif c["mechanism"] == "resistance_growth":
                assert c["resistance_growth_ohm_per_day"] > 2 * max(x["resistance_growth_ohm_per_day"] for x in none)
            elif c["mechanism"] == "self_discharge":
                assert c["soc_lag_per_day"] > 2 * max(x["soc_lag_per_day"] for x in none)
        for c in cells:  # plausible LFP 280 Ah cells
            assert 270 < c["capacity_start_ah"] < 290 and 1.5e-4 < c["resistance_start_ohm"] < 3.5e-4


def test_sat_slopes_follow_from_the_cells_ageing_parameters(demo_truth):
    """The written slopes are what the documented physics makes of the written ageing rates."""
    for b in demo_truth["bess"].values():
        cells = b["cells"]
        fade = np.array([c["capacity_fade_ah_per_day"] for c in cells])
        growth = np.array([c["resistance_growth_ohm_per_day"] for c in cells])
        lag = np.array([c["soc_lag_per_day"] for c in cells])
        # smaller capacity -> further up the knee; more I*R at the peak; behind in SOC -> lower
        rate = K_CAP_V * fade / CELL_CAPACITY_AH + I_PEAK_A * growth - K_KNEE_V_PER_SOC * lag
        want = rate - rate.mean()  # the string average is pinned to the system component
        got = np.array([c["sat_slope_v_per_day"] for c in cells])
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=2e-8)


def test_pack_event_is_a_step_in_the_pack_part_only(sat_tables, demo_truth):
    damaged = [sid for sid, b in demo_truth["bess"].items() if b["pack_event"]]
    assert len(damaged) == 1
    for sid, (days, sat) in sat_tables.items():
        b = demo_truth["bess"][sid]
        ev = b["pack_event"]
        if ev is None:
            assert b["damaged_pack"] is None and b["bad_charging_period"] is None
            continue
        assert ev["pack"] == b["damaged_pack"] and ev["day"] == b["bad_charging_period"]["end_local"]
        assert -0.022 < ev["step_v"] < -0.008
        others = [x for p, x in enumerate(ev["pack_part_steps_v"], 1) if p != ev["pack"]]
        assert ev["step_vs_other_packs_v"] == b["bad_charging_period"]["step_v"] == pytest.approx(
            ev["step_v"] - np.mean(others), abs=2e-6)
        packs = np.array([c["pack"] for c in b["cells"]])
        system = np.median(sat, axis=0)
        e, s = _day(ev["day"]), _day(b["bad_charging_period"]["start_local"])
        pre, post = (days >= s - 40) & (days < s), (days >= e) & (days < e + 40)
        for p in np.unique(packs):
            part = np.median(sat[packs == p], axis=0) - system
            step = np.median(part[post]) - np.median(part[pre])
            # the mean over 40 days after includes 20 days of the faster fall: 1-2 mV
            assert step == pytest.approx(ev["pack_part_steps_v"][p - 1], abs=0.003), (p, step)
            if p == ev["pack"]:
                assert step == pytest.approx(ev["step_v"], abs=0.003)
            else:
                assert abs(step) < 0.4 * abs(ev["step_v"]), (p, step)
