"""Energy intervals from cumulative counters: never negative, no spike at a reset or rollover."""

from __future__ import annotations

import numpy as np

# Register widths seen on meters: a rollover wraps at one of these [counter units].
WRAP_MODULI = (2.0**16, 2.0**23, 2.0**32)
# A previous value within this fraction of a modulus below it may have rolled over.
WRAP_NEAR_FRACTION = 0.9


def counter_intervals(values: np.ndarray) -> np.ndarray:
    """Energy between consecutive snapshots of a cumulative counter.

    The rule (documented in README): the interval is ``v[i] - v[i-1]`` when that is >= 0.
    A drop is either a *rollover* (the previous value was within 10 % below a register
    width of 2^16, 2^23 or 2^32 and the new value is small), giving ``modulus - v[i-1] + v[i]``,
    or a *reset* (the counter restarted from zero), giving ``v[i]``: the energy counted since
    the restart. The first interval, and any interval next to a missing snapshot, is NaN.
    Output has the same length as the input; element i is the energy in (t[i-1], t[i]].
    """
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    if v.size < 2:
        return out
    prev, cur = v[:-1], v[1:]
    d = cur - prev
    drop = d < 0
    interval = d.copy()
    if np.any(drop):
        rolled = np.zeros(d.shape, dtype=bool)
        wrapped = np.full(d.shape, np.nan)
        for modulus in WRAP_MODULI:
            cand = drop & ~rolled & (prev >= WRAP_NEAR_FRACTION * modulus) & (prev < modulus) & (cur < (1 - WRAP_NEAR_FRACTION) * modulus)
            wrapped[cand] = modulus - prev[cand] + cur[cand]
            rolled |= cand
        interval = np.where(drop & rolled, wrapped, interval)
        interval = np.where(drop & ~rolled, cur, interval)  # reset: energy since the restart
    out[1:] = interval
    return out


def integrate_power_kwh(ts_ms: np.ndarray, power_kw: np.ndarray, *, max_step_s: float) -> np.ndarray:
    """Energy of each step [kWh] by holding each bin's mean power for its step (left rule).

    Steps longer than ``max_step_s`` (gaps) contribute nothing rather than a guess.
    Element i is the energy from t[i] to t[i+1]; the last element is 0.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)
    p = np.asarray(power_kw, dtype=np.float64)
    out = np.zeros(p.shape)
    if p.size < 2:
        return out
    step_s = np.diff(ts) / 1000.0
    valid = (step_s <= max_step_s) & np.isfinite(p[:-1])
    out[:-1] = np.where(valid, p[:-1] * step_s / 3600.0, 0.0)
    return out
