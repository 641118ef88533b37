"""Smart-meter series: weekday/weekend daily load profiles, seasons, PV export, energy counters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.demo.series import Series
from data.demo.timegrid import TimeAxis
from data.demo.weather import clearness, pv_per_kwp

# (base load kW, daytime extra kW, PV kWp): m1 office, m2 workshop, m3 PV-rich depot, ...
METER_PROFILES: dict[str, tuple[float, float, float]] = {
    "m1": (35.0, 60.0, 0.0),
    "m2": (80.0, 120.0, 0.0),
    "m3": (12.0, 25.0, 180.0),
    "m4": (20.0, 45.0, 0.0),
    "m5": (55.0, 40.0, 0.0),
    "m6": (8.0, 30.0, 0.0),
}
PV_METER = "m3"
RESET_METER = "m4"
COUNTERS = ("pos_ae", "neg_ae", "com_ae")


def meter_profile(meter_id: str) -> tuple[float, float, float]:
    """A fleet's meter m7, m8, ... takes the profile of m1..m6 in turn (m9 is PV-rich like m3)."""
    if meter_id in METER_PROFILES:
        return METER_PROFILES[meter_id]
    return METER_PROFILES[f"m{(int(meter_id[1:]) - 1) % len(METER_PROFILES) + 1}"]


def exports_pv(meter_id: str) -> bool:
    return meter_profile(meter_id)[2] > 0


@dataclass(frozen=True)
class CounterReset:
    signal: str
    ts_s: int  # first sample after the reset
    value_before: float
    value_after: float


def _load_shape(minute: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """0..1 occupancy: weekdays ramp 06:00-08:00, plateau, fall 17:00-19:00; weekends low."""
    h = minute / 60.0
    weekday = np.clip((h - 6.0) / 2.0, 0, 1) * np.clip((19.0 - h) / 2.0, 0, 1)
    sat_sun = 0.25 * np.clip((h - 8.0) / 2.0, 0, 1) * np.clip((15.0 - h) / 2.0, 0, 1)
    return np.where(weekend, sat_sun, weekday)


def meter_series(meter_id: str, axis: TimeAxis, step_min: int, rng: np.random.Generator, *,
                 reset_day: int | None) -> tuple[list[Series], list[CounterReset]]:
    """com_ap (interval mean), pf and counters that integrate com_ap exactly. Counters are
    cumulative kWh: pos_ae import, neg_ae export, com_ae = pos_ae + neg_ae (the usual 'combined
    = |import| + |export|' meter mode, so that it never decreases except at a reset)."""
    base, extra, kwp = meter_profile(meter_id)
    n = len(axis)
    days = int(axis.day_index.max()) + 1
    weekday = (axis.day_index + axis.start_local.weekday()) % 7
    doy = (axis.ts_s / 86_400.0) % 365.25
    season = 1.0 + 0.18 * np.cos(2 * np.pi * (doy - 15.0) / 365.25)
    ar = np.empty(n)
    e = rng.normal(0.0, 0.05, n)
    acc = 0.0
    for i in range(n):  # AR(1) load noise; ~60k steps, cheap enough in plain Python
        acc = 0.9 * acc + e[i]
        ar[i] = acc
    load = (base + extra * _load_shape(axis.minute_of_day, weekday >= 5)) * season * (1.0 + ar)
    load = np.clip(load, 0.2 * base, None)
    pv = np.zeros(n)
    if kwp:
        day_ts = axis.ts_s[np.searchsorted(axis.day_index, np.arange(days))]
        pv = kwp * pv_per_kwp(axis.ts_s + step_min * 30, axis.day_index, clearness(rng, day_ts))
    power = load - pv
    pf = np.clip(0.93 + 0.04 * np.tanh((load - base) / (extra + 1.0)) - 0.02 * (pv > load)
                 + rng.normal(0.0, 0.008, n), 0.5, 1.0)
    dt_h = step_min / 60.0
    pos = np.concatenate([[0.0], np.cumsum(np.clip(power, 0, None) * dt_h)[:-1]])
    neg = np.concatenate([[0.0], np.cumsum(np.clip(-power, 0, None) * dt_h)[:-1]])
    pos += rng.uniform(10_000.0, 400_000.0)
    neg += rng.uniform(0.0, 5_000.0) if kwp else 0.0
    resets: list[CounterReset] = []
    if reset_day is not None:
        # meter swap at 10:00 local: the new counters start near 0 and keep integrating
        hit = np.flatnonzero((axis.day_index == reset_day) & (axis.minute_of_day == 600))
        if hit.size:
            k = int(hit[0])
            for arr in (pos, neg):
                arr[k:] -= arr[k] - round(float(rng.uniform(0.0, 0.5)), 2)
    com = pos + neg
    if reset_day is not None and hit.size:
        for name, arr in zip(COUNTERS, (pos, neg, com)):
            resets.append(CounterReset(name, int(axis.ts_s[k]), round(float(arr[k - 1]), 2), round(float(arr[k]), 2)))
    out = [Series("com_ap", axis, power, 2), Series("pf", axis, pf, 3),
           Series("pos_ae", axis, pos, 2), Series("neg_ae", axis, neg, 2), Series("com_ae", axis, com, 2)]
    return out, resets
