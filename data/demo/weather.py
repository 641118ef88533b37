"""Site weather for the demo (Berlin-like): outside temperature and PV output per unit of kWp."""

from __future__ import annotations

import numpy as np

LAT_DEG, LON_DEG = 52.5, 13.4
_YEAR_DAYS = 365.25


def _doy(ts_s: np.ndarray) -> np.ndarray:
    return (ts_s / 86_400.0) % _YEAR_DAYS  # phase only; an epoch-aligned year is close enough


def daily_ar1(rng: np.random.Generator, days: int, sd: float, phi: float) -> np.ndarray:
    """Day-to-day weather anomaly: AR(1) with stationary sd `sd`."""
    e = rng.normal(0.0, sd * np.sqrt(1.0 - phi * phi), days)
    out = np.empty(days)
    acc = rng.normal(0.0, sd)
    for d in range(days):
        acc = phi * acc + e[d]
        out[d] = acc
    return out


def outside_temp_c(ts_s: np.ndarray, day_index: np.ndarray, anomaly_c: np.ndarray) -> np.ndarray:
    """Seasonal (coldest mid-January) and daily (warmest 15:00 UTC) cycles plus weather. [°C]"""
    doy = _doy(ts_s)
    seasonal = 10.0 - 9.5 * np.cos(2 * np.pi * (doy - 15.0) / _YEAR_DAYS)
    hour_utc = (ts_s % 86_400) / 3600.0
    amp = 3.0 + 2.0 * (1 - np.cos(2 * np.pi * (doy - 15.0) / _YEAR_DAYS)) / 2
    daily = amp * np.cos(2 * np.pi * (hour_utc - 13.0) / 24.0)
    return seasonal + daily + anomaly_c[np.clip(day_index, 0, anomaly_c.size - 1)]


def pv_per_kwp(ts_s: np.ndarray, day_index: np.ndarray, clearness: np.ndarray) -> np.ndarray:
    """PV AC output per kWp from the sun's elevation and the day's clearness [0..1]. [kW/kWp]"""
    doy = _doy(ts_s)
    decl = np.radians(23.44) * np.sin(2 * np.pi * (doy - 80.0) / _YEAR_DAYS)
    hour_utc = (ts_s % 86_400) / 3600.0
    hour_angle = np.radians(15.0 * (hour_utc + LON_DEG / 15.0 - 12.0))
    lat = np.radians(LAT_DEG)
    sin_elev = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    return 0.85 * np.clip(sin_elev, 0.0, None) ** 1.2 * clearness[np.clip(day_index, 0, clearness.size - 1)]


def clearness(rng: np.random.Generator, day_ts_s: np.ndarray) -> np.ndarray:
    """Per-day clearness; summers are sunnier than winters."""
    doy = _doy(day_ts_s)
    summer = 0.5 - 0.5 * np.cos(2 * np.pi * (doy - 15.0) / _YEAR_DAYS)
    return np.clip(rng.beta(2.0 + 3.0 * summer, 2.5, day_ts_s.size), 0.05, 1.0)
