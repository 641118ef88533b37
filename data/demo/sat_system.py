"""System-wide SAT component: what every cell of one system shares at the end of a charge.

The charger ends a full charge on the *string*: a CV set-point divided over the cells, an end
current, the temperature of the container. All three move the end-of-charge voltage of every
cell by the same amount, day by day and in month-long regimes (a set-point or end-current change
by the integrator or the EMS, a season). Nothing here is cell ageing.

Model (voltages in V, d = local day since the start)::

    system_v(d) = SAT_LEVEL_V + regime_v(d) + temperature_v(d) + wander_v(d) + day_v(d) + excursion_v(d)

- ``regime_v``: piecewise constant, regimes of REGIME_DAYS (uniform) days; each regime's level
  is a mean-reverting AR(1) over regimes (REGIME_RHO, stationary sd REGIME_SD_V), so a low
  regime tends to be followed by another low one, as in the reference's year at 3.42 V;
- ``temperature_v``: a seasonal term, highest in mid-January (a cold container polarises more),
  amplitude TEMP_AMPLITUDE_V;
- ``wander_v``: AR(1) over days (WANDER_PHI), its sd scaled per regime by a log-normal factor
  (some months are calm, others vary by +-20 mV within the month, as spring 2025 did);
- ``day_v``: how the charge ended that day (end current reached, timing): DAY_SD_V, and on
  ODD_DAY_SHARE of days ODD_DAY_SD_V more (a PV-led or late charge): the reference's day-to-day
  changes are heavy-tailed (sd 10 mV, robust sd 6 mV);
- ``excursion_v``: rare upward days (EXCURSION_SHARE, EXCURSION_V).

The total is kept inside SYSTEM_RANGE_V: a string median below 3.40 V would no longer be
a full-charge day for the analysis, above 3.50 V is outside what this LFP chemistry shows.

Calibration against /work/shared/reference/sat_daily_*.csv (two systems x 5 cells, ~580
days, days with SAT >= 3.40 V), statistic of the daily median over the system's cells:

===================================  =========  =========  ===============================
statistic                            ...230002  ...230003  model: median of 200 draws of
                                                           580 days (p10-p90)
===================================  =========  =========  ===============================
sd of the daily median [mV]          16.2       15.5       15.0 (11.7-19.3)
lag-1 autocorrelation                0.79       0.80       0.81 (0.70-0.89)
lag-7 autocorrelation                0.69       0.65       0.64 (0.47-0.79)
lag-30 autocorrelation               0.55       0.41       0.42 (0.17-0.66)
mean autocorrelation, lags 1..30     0.62       0.54       0.56 (0.35-0.74)
sd of 30-day means [mV]              13.4       12.2       12.3 (8.1-17.3)
30-day means, R^2                    0.67       0.60       0.64 (0.46-0.79)
robust sd of day-to-day change [mV]  5.9        5.9        5.9 (4.4-5.9)
===================================  =========  =========  ===============================

(Autocorrelations on the daily grid, pairs of days both present; the robust sd is 1.4826 x MAD
of 1-mV readings, hence its steps.) A single 20-month series holds only 6-10 regimes, so one
system's figures scatter widely around the model's; both reference systems lie inside the
model's 5-95 % range on every statistic.

Level shifts seen in the reference (both systems alike): 3.447-3.449 V Oct 2023-Jan 2024,
-25 mV from Feb 2024, about 3.42 V for a year, +40 mV in spring 2025, back -30 mV in June.
tests/test_demo_sat.py checks the model's figures against the reference's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The reference's daily medians average 3.433-3.434 V; 6 mV higher keeps the low regimes above
# the 3.40 V saturation threshold more often than the clip below does.
SAT_LEVEL_V = 3.440
REGIME_DAYS = (25, 110)
REGIME_SD_V = 0.016
REGIME_RHO = 0.6
TEMP_AMPLITUDE_V = 0.003
TEMP_PEAK_DAY = 106  # 2024-01-15 from the 2023-10-01 start
WANDER_PHI = 0.85
WANDER_SD_V = 0.0065
WANDER_SCALE_SD = 0.45  # sd of the log of the per-regime wander scale
DAY_SD_V = 0.002  # how the end of charge falls on an ordinary day (end current, timing)
ODD_DAY_SHARE = 0.12  # days whose charge ended otherwise (a PV-led or late charge, a warm noon)
ODD_DAY_SD_V = 0.015
EXCURSION_SHARE = 0.01
EXCURSION_V = (0.012, 0.030)
SYSTEM_RANGE_V = (3.405, 3.495)


@dataclass(frozen=True)
class SystemSat:
    """The system-wide SAT component of one system, identical for all its cells."""

    regime_start_day: np.ndarray
    """int (n_regimes,): first day of each set-point/end-current regime; the first is 0."""
    regime_shift_v: np.ndarray
    """(n_regimes,): the regime's level relative to SAT_LEVEL_V. [V]"""
    temperature_v: np.ndarray
    """(days,): seasonal (temperature) part. [V]"""
    daily_v: np.ndarray
    """(days,): the whole component, SAT_LEVEL_V included: the string-average SAT of the day. [V]"""


def draw_system_sat(rng: np.random.Generator, days: int) -> SystemSat:
    """Draw one system's component for `days` local days."""
    starts = [0]
    while True:
        nxt = starts[-1] + int(rng.integers(REGIME_DAYS[0], REGIME_DAYS[1] + 1))
        if nxt >= days:
            break
        starts.append(nxt)
    starts = np.array(starts, np.int64)
    innov = rng.normal(0.0, REGIME_SD_V * np.sqrt(1.0 - REGIME_RHO ** 2), starts.size)
    shift = np.empty(starts.size)
    shift[0] = rng.normal(0.0, REGIME_SD_V)
    for k in range(1, starts.size):
        shift[k] = REGIME_RHO * shift[k - 1] + innov[k]
    regime_of_day = np.searchsorted(starts, np.arange(days), side="right") - 1
    scale = np.exp(rng.normal(0.0, WANDER_SCALE_SD, starts.size))[regime_of_day]
    eps = rng.normal(0.0, WANDER_SD_V * np.sqrt(1.0 - WANDER_PHI ** 2), days) * scale
    wander = np.empty(days)
    prev = rng.normal(0.0, WANDER_SD_V)
    for d in range(days):
        prev = WANDER_PHI * prev + eps[d]
        wander[d] = prev
    temperature = TEMP_AMPLITUDE_V * np.cos(2.0 * np.pi * (np.arange(days) - TEMP_PEAK_DAY) / 365.25)
    day_noise = rng.normal(0.0, DAY_SD_V, days)
    odd = rng.random(days) < ODD_DAY_SHARE
    day_noise[odd] += rng.normal(0.0, ODD_DAY_SD_V, int(odd.sum()))
    excursion = np.where(rng.random(days) < EXCURSION_SHARE, rng.uniform(*EXCURSION_V, days), 0.0)
    daily = np.clip(SAT_LEVEL_V + shift[regime_of_day] + temperature + wander + day_noise + excursion, *SYSTEM_RANGE_V)
    return SystemSat(starts, shift, temperature, daily)
