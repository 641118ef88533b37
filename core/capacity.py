"""Usable capacity [Ah] by coulomb counting between steep-curve SOC anchors, its trend, and SOH from it.

LFP's voltage is flat between ~20 % and ~90 % SOC, so a BMS's SOC drifts there and is only
re-anchored where the curve is steep: at full charge and at low SOC. A qualifying cycle is a
discharge from a full-charge anchor (SOC >= FULL_ANCHOR_SOC_PCT) to the lowest sample of the next
low-SOC excursion (SOC <= LOW_ANCHOR_SOC_PCT), with no gap in SOC or current between them and a
swing of at least MIN_SWING_PCT. Its capacity is the net charge counted from bms1_c between
the anchors over the SOC swing: C = (Q(t_low) - Q(t_full)) / ((SOC_full - SOC_low) / 100).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from core.energy import EnergyIntervals
from core.results import CapacityEstimate, KpiBasis

FULL_ANCHOR_SOC_PCT = 99.0
LOW_ANCHOR_SOC_PCT = 15.0
MIN_SWING_PCT = 70.0
MIN_CYCLES = 3
# Cycles further than this many robust standard deviations from the trend are left out of it.
OUTLIER_SIGMAS = 5.0
# |SOH from data - BMS SOH| above this many percentage points is an alert.
SOH_ALERT_PP = 3.0
_MS_PER_YEAR = 365.25 * 86_400_000


def cycle_capacities(soc_ts_ms: np.ndarray, soc_pct: np.ndarray, soc_gap_ms: float,
                     current: EnergyIntervals) -> tuple[np.ndarray, np.ndarray]:
    """(low-anchor time [ms], capacity [Ah]) of each qualifying cycle.

    ``current`` are bms1_c intervals (core.energy.power_energy: Ah per sample, + = discharge);
    ``soc_gap_ms`` is the SOC series' gap threshold (core.series.gap_threshold_ms).
    """
    ts = np.asarray(soc_ts_ms, dtype=np.int64)
    soc = np.asarray(soc_pct, dtype=np.float64)
    ok = np.isfinite(soc)
    ts, soc = ts[ok], soc[ok]
    if soc.size < 3 or current.start_ms.size == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    # Cumulative charge Q(t) [Ah] at each current interval start and end, and covered time.
    q_start = np.concatenate([[0.0], np.cumsum(current.energy)[:-1]])
    cov_start = np.concatenate([[0], np.cumsum(current.covered_ms)[:-1]])

    def q_at(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.clip(np.searchsorted(current.start_ms, t, side="right") - 1, 0, current.start_ms.size - 1)
        frac = np.clip((t - current.start_ms[i]) / np.maximum(current.covered_ms[i], 1), 0.0, 1.0)
        return q_start[i] + frac * current.energy[i], cov_start[i] + frac * current.covered_ms[i]

    soc_gap_after = np.diff(ts) > soc_gap_ms  # gap between sample i and i+1
    gaps_before = np.concatenate([[0], np.cumsum(soc_gap_after)])  # gaps before sample i
    low = soc <= LOW_ANCHOR_SOC_PCT
    # runs of low samples: start where low begins
    edges = np.diff(np.concatenate([[0], low.astype(np.int8), [0]]))
    run_starts, run_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    full_idx = np.flatnonzero(soc >= FULL_ANCHOR_SOC_PCT)
    out_t, out_c = [], []
    used_full = -1
    for a, b in zip(run_starts, run_ends):
        k = np.searchsorted(full_idx, a) - 1  # last full anchor before this low run
        if k < 0 or full_idx[k] <= used_full:
            continue
        fa = int(full_idx[k])
        lo = a + int(np.argmin(soc[a:b]))
        used_full = fa
        swing = soc[fa] - soc[lo]
        if swing < MIN_SWING_PCT or gaps_before[lo] != gaps_before[fa]:
            continue
        (qa, qb), (ca, cb) = q_at(np.array([ts[fa], ts[lo]]))
        # the current must cover the whole stretch between the anchors (no current gap)
        if cb - ca < 0.99 * (ts[lo] - ts[fa]):
            continue
        ah = qb - qa
        if ah <= 0:
            continue
        out_t.append(ts[lo])
        out_c.append(ah / (swing / 100.0))
    return np.array(out_t, dtype=np.int64), np.array(out_c, dtype=np.float64)


def estimate_capacity(cycle_ms: np.ndarray, capacity_ah: np.ndarray, *, configured_ah: float | None,
                      bms_soh_pct: float, signals: tuple[str, ...], coverage: float) -> CapacityEstimate:
    """Trend over the qualifying cycles, the latest capacity with a 95 % interval, SOH and its check."""
    n = capacity_ah.size
    method = (f"coulomb counting (bms1_c) from SOC >= {FULL_ANCHOR_SOC_PCT:g} % to the next SOC <= "
              f"{LOW_ANCHOR_SOC_PCT:g} %, swing >= {MIN_SWING_PCT:g} pp; OLS trend over {n} cycles")
    nan = float("nan")
    if n < MIN_CYCLES:
        reason = (f"{n} qualifying cycles (full charge to low SOC without a gap); at least {MIN_CYCLES} "
                  "are needed")
        return CapacityEstimate(cycle_ms, capacity_ah, nan, nan, nan, nan, nan, "", nan, bms_soh_pct, nan, False,
                                KpiBasis("capacity", signals, coverage, method, reason))
    x = (cycle_ms - cycle_ms[0]) / _MS_PER_YEAR
    keep = np.ones(n, dtype=bool)
    med = np.median(capacity_ah)
    mad = 1.4826 * np.median(np.abs(capacity_ah - med))
    if mad > 0:
        keep = np.abs(capacity_ah - med) <= OUTLIER_SIGMAS * mad
    xs, ys = x[keep], capacity_ah[keep]
    if np.ptp(xs) > 0 and xs.size >= 3:
        fit = stats.linregress(xs, ys)
        slope, intercept = float(fit.slope), float(fit.intercept)
        resid = ys - (intercept + slope * xs)
        s = float(np.sqrt(np.sum(resid**2) / (xs.size - 2)))
        x0 = float(xs[-1])
        se = s * np.sqrt(1.0 / xs.size + (x0 - xs.mean()) ** 2 / np.sum((xs - xs.mean()) ** 2))
        latest = intercept + slope * x0
        initial = intercept + slope * float(xs[0])
    else:
        slope, latest = 0.0, float(ys.mean())
        initial = latest
        se = float(ys.std(ddof=1) / np.sqrt(ys.size)) if ys.size > 1 else nan
    half = float(stats.t.ppf(0.975, max(xs.size - 2, 1)) * se)
    ref, source = (configured_ah, "configured") if configured_ah and configured_ah > 0 else (initial, "initial")
    soh = 100.0 * latest / ref
    dis = soh - bms_soh_pct if np.isfinite(bms_soh_pct) else nan
    alert = bool(np.isfinite(dis) and abs(dis) > SOH_ALERT_PP)
    return CapacityEstimate(cycle_ms, capacity_ah, float(latest), float(latest - half), float(latest + half),
                            float(slope), float(ref), source, float(soh), bms_soh_pct, float(dis), alert,
                            KpiBasis("capacity", signals, coverage, method))
