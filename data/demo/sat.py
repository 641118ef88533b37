"""Per-cell SAT (end-of-charge peak) voltage, produced by each cell's ageing capacity, resistance and SOC lag.

A system's cells sit in one series string. The charger ends a full charge on the string (its
voltage set-point, end current and temperature: the system component of sat_system.py), so the
*average* cell always ends at the system component, and each cell ends above or below it by
how it differs from the string average (d = local day since 2023-10-01)::

    sat_i(d) = system_v(d) + own_i(d) + noise_i(d)
    own_i(d) = g_i(d) - mean_j g_j(d)
    g_i(d)   = K_CAP_V * (-capacity_i(d) / Q_nominal)        smaller cell: driven further up the knee
             + I_PEAK_A * resistance_i(d)                    more I*R at the peak current
             + K_KNEE_V_PER_SOC * (soc_offset_i - lag_i(d))  a cell behind in SOC ends lower

- K_KNEE_V_PER_SOC = 1.2 V per unit SOC: slope of the LFP charge curve's top knee (the relaxed
  OCV of physics.py rises 1.0-1.5 V per unit SOC over its last 3 %; under charge it is steeper).
- K_CAP_V = K_KNEE_V_PER_SOC * (1 - ALIGN_SOC) = 0.6 V per unit capacity deficit: cells are
  assembled at mid SOC and the passive balancer cannot re-align them, so a cell 1 % smaller than
  the string average climbs 0.5 % SOC further up the knee on every full charge (+6 mV).
- I_PEAK_A = 90 A: the charge current when the string reaches the knee (60-95 kW at ~850 V).
- Capacity, resistance and lag age linearly (cells.CellParams), so own_i(d) is a straight line,
  plus, in a pack damaged by a bad charging period, a step and a steeper fall from its end.

Mechanisms (``mechanism`` per cell; rates are drift against peers, V/day):

- ``capacity_fade``: capacity falls 5-9 % of nominal per year faster than its peers: SAT rises;
- ``resistance_growth``: a loosening terminal or busbar adds 0.5-0.9 mOhm over the period: SAT rises;
- ``self_discharge``: a micro-short leaks ~1 mA more than the balancer returns, the cell lags in
  SOC by 0.5-0.7 % per 100 days: SAT falls;
- ``none``: ordinary spread of ageing, |drift| of a few uV/day.

The fast cells drift by DRIFT_V_PER_DAY: rising ones by +8e-5 .. +1.5e-4 V/day (+50..95 mV over
21 months), falling ones by -6e-5 .. -8.5e-5 V/day (-40..-55 mV; they must stay on the knee);
MECHANISMS_PER_SYSTEM gives each system rising and falling ones. The drift against the median
of all cells is within 1 % of the rate drawn (the string average moves by 1/260 of it). The damaged
pack, after its bad charging period (3.60-3.65 V during it, lithium plating), loses 0.8-1.7 %
SOC at once and then lags faster: a step of -10..-20 mV and an extra -4e-5..-8e-5 V/day in its
pack part. Because the string's average is pinned to the system component, every other cell of
that system rises by a fifth of that (the string constraint); the system median follows them.

Calibration of the cell parts against /work/shared/reference/sat_daily_*.csv (cell minus the
daily median of the five cells, days with SAT >= 3.40 V):

- offsets from the median -5..+7 mV -> capacity spread 0.6 % (3.6 mV), SOC spread 0.2 %
  (2.4 mV), resistance spread 6 % (1.4 mV): about 4.5 mV sd;
- robust sd of the day-to-day change of cell minus median / sqrt(2): 1.0 mV ->
  CELL_DAY_SD_V = 1 mV (the readings are then rounded to 1 mV like the reference);
- slopes of cell minus median -15..+29 uV/day on 10 real cells, first-half vs second-half
  differences 7-40 uV/day: ordinary demo cells drift by a few uV/day (sd ~5e-6 V/day), so
  that the fast cells (>= 6e-5) stand out the way a failing cell would.

The system component's calibration (spread, month-long shifts, autocorrelation) is in
sat_system.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from data.demo.cells import ALIGN_SOC, R_CELL_OHM, CellParams, draw_cell_params
from data.demo.config import CELL_CAPACITY_AH, N_CELLS
from data.demo.sat_system import SAT_LEVEL_V, SystemSat, draw_system_sat

K_KNEE_V_PER_SOC = 1.2
K_CAP_V = K_KNEE_V_PER_SOC * (1.0 - ALIGN_SOC)
I_PEAK_A = 90.0
CAP_SD = 0.006
SOC_OFFSET_SD = 0.002
CELL_DAY_SD_V = 0.0010
# Ordinary ageing: shared by all cells (cancels against the string average) plus a small spread.
CAP_FADE_PER_DAY = 0.02 / 365.0  # of nominal capacity
CAP_FADE_SD_PER_DAY = 5e-6  # -> 3e-6 V/day of drift against peers
R_GROWTH_PER_DAY = 0.10 / 365.0  # of nominal resistance
R_GROWTH_SD_OHM_PER_DAY = 2e-8  # -> 1.8e-6 V/day
SOC_LAG_SD_PER_DAY = 2.5e-6  # -> 3e-6 V/day
# |drift against peers| of the fast cells. Falling cells stay slower: at 8.5e-5 V/day a cell ends
# 55 mV below its peers after 21 months (4.5 % behind in SOC), still on the knee even on the
# system's lowest days; further down its SAT would meet its own relaxed OCV (~3.34 V) and stop
# falling linearly. Growing resistance stops at 1.2e-4 so that its I*R under a partial charge
# stays below 3.40 V.
DRIFT_V_PER_DAY = {"capacity_fade": (8e-5, 1.5e-4), "resistance_growth": (8e-5, 1.2e-4),
                   "self_discharge": (6e-5, 8.5e-5)}
MECHANISMS = ("capacity_fade", "resistance_growth", "self_discharge", "none")
MECHANISMS_PER_SYSTEM = (("capacity_fade", "resistance_growth", "self_discharge"),
                         ("capacity_fade", "self_discharge"),
                         ("resistance_growth", "self_discharge"))  # 7 cells fleet-wide, both signs
DAMAGE_STEP_V = (-0.020, -0.010)
DAMAGE_EXTRA_SLOPE = (-8e-5, -4e-5)
OVERVOLTAGE_V = (3.60, 3.65)  # what the damaged pack reads during its bad charging days


@dataclass(frozen=True)
class Damage:
    pack: int  # 1-based
    start_day: int  # first bad charging day
    end_day: int  # first day after the bad period (half-open)


@dataclass(frozen=True)
class SatModel:
    """SAT truth of one system: cell parameters, system component, own parts and the daily SAT."""

    cells: CellParams
    system: SystemSat
    mechanism: np.ndarray  # (260,) str, one of MECHANISMS
    degrading: np.ndarray  # (260,) bool: the fast cells, rising or falling
    damage: Damage | None
    pack_of: np.ndarray  # (260,) 1-based pack of each cell
    own_v: np.ndarray  # (260, days) noise-free SAT minus the system component
    daily_v: np.ndarray  # (260, days) the peak each cell reaches on a full charge that day

    @property
    def days(self) -> int:
        return self.own_v.shape[1]


def own_sat_v(cells: CellParams, day: np.ndarray) -> np.ndarray:
    """Noise-free SAT of every cell minus the system component, (260, len(day)). [V]"""
    q = cells.capacity_ah(day)
    r = cells.resistance_ohm(day)
    pos = cells.soc_offset[:, None] - cells.soc_lag(day)
    g = -K_CAP_V * q / CELL_CAPACITY_AH + I_PEAK_A * r + K_KNEE_V_PER_SOC * pos
    return g - g.mean(axis=0, keepdims=True)


def _age_cells(rng: np.random.Generator, base: CellParams, mechanism: np.ndarray, damage: Damage | None,
               pack_of: np.ndarray) -> CellParams:
    """Ageing rates: ordinary spread for all, a fast mechanism for the degrading cells, the damage."""
    fade = CELL_CAPACITY_AH * (CAP_FADE_PER_DAY + rng.normal(0.0, CAP_FADE_SD_PER_DAY, N_CELLS))
    growth = R_CELL_OHM * R_GROWTH_PER_DAY + rng.normal(0.0, R_GROWTH_SD_OHM_PER_DAY, N_CELLS)
    lag = rng.normal(0.0, SOC_LAG_SD_PER_DAY, N_CELLS)
    unit = rng.random(N_CELLS)  # |drift| each mechanism should produce, within its range
    rate = np.zeros(N_CELLS)
    for mech, (lo, hi) in DRIFT_V_PER_DAY.items():
        rate = np.where(mechanism == mech, lo + (hi - lo) * unit, rate)
    # each mechanism's extra rate gives `rate` of SAT change through its own term of g_i
    fade = np.where(mechanism == "capacity_fade", fade + rate / K_CAP_V * CELL_CAPACITY_AH, fade)
    growth = np.where(mechanism == "resistance_growth", growth + rate / I_PEAK_A, growth)
    lag = np.where(mechanism == "self_discharge", lag + rate / K_KNEE_V_PER_SOC, lag)
    lag_step = np.zeros(N_CELLS)
    lag_after = np.zeros(N_CELLS)
    end = -1
    if damage is not None:
        hit = pack_of == damage.pack
        lag_step[hit] = -rng.uniform(*DAMAGE_STEP_V, hit.sum()) / K_KNEE_V_PER_SOC
        lag_after[hit] = -rng.uniform(*DAMAGE_EXTRA_SLOPE, hit.sum()) / K_KNEE_V_PER_SOC
        end = damage.end_day
    return dataclasses.replace(base, cap_fade_ah_per_day=fade, r_growth_ohm_per_day=growth,
                               soc_lag_per_day=lag, lag_step=lag_step, lag_after_per_day=lag_after,
                               damage_end_day=end)


def draw_sat_model(rng: np.random.Generator, days: int, *, mechanisms: tuple[str, ...], damage: Damage | None,
                   cells_per_pack: int) -> SatModel:
    """Draw one system: its cells and their ageing, its system component, its daily SAT."""
    pack_of = np.arange(N_CELLS) // cells_per_pack + 1
    base = draw_cell_params(rng, cells_per_pack, cap_sd=CAP_SD, soc_offset_sd=SOC_OFFSET_SD)
    eligible = np.flatnonzero(pack_of != (damage.pack if damage else 0))
    mechanism = np.full(N_CELLS, "none", dtype=object)
    mechanism[rng.choice(eligible, len(mechanisms), replace=False)] = mechanisms
    cells = _age_cells(rng, base, mechanism, damage, pack_of)
    system = draw_system_sat(rng, days)
    own = own_sat_v(cells, np.arange(days))
    daily = system.daily_v[None, :] + own + rng.normal(0.0, CELL_DAY_SD_V, (N_CELLS, days))
    if damage is not None:
        bad = np.arange(damage.start_day, min(damage.end_day, days))
        hit = pack_of == damage.pack
        daily[np.ix_(hit, bad)] = rng.uniform(*OVERVOLTAGE_V, (hit.sum(), bad.size))
    return SatModel(cells, system, mechanism.astype(str), mechanism != "none", damage, pack_of, own, daily)


@dataclass(frozen=True)
class SatTruth:
    """What an analysis of cell minus system median should find, from the noise-free model."""

    start_v: np.ndarray  # (260,) SAT_LEVEL_V + own part on day 0
    slope_v_per_day: np.ndarray  # (260,) own slope before any damage
    step_v: np.ndarray  # (260,) own step at the end of the bad period (0 without damage)
    slope_after_v_per_day: np.ndarray  # (260,) own slope from the end of the bad period
    drift_v_per_day: np.ndarray  # (260,) slope of own minus the cells' median, before any damage
    drift_after_v_per_day: np.ndarray  # (260,) the same from the end of the bad period
    drift_whole_v_per_day: np.ndarray  # (260,) one line over all days but the bad period, level step at its end
    deviation_end_v: np.ndarray  # (260,) own minus the cells' median on the last day
    median_v: np.ndarray  # (days,) noise-free daily median SAT over all cells
    pack_step_v: float | None  # step of the damaged pack's part (pack median - system median)
    pack_drift_after_v_per_day: float | None  # slope of that pack part after the bad period
    pack_part_steps_v: np.ndarray | None  # (packs,) the same step of every pack's part
    pack_step_vs_others_v: float | None  # the damaged pack's step against the mean of the other packs' steps


def _slope(day: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS slope of each row of y over day (0 with fewer than two days)."""
    if day.size < 2:
        return np.zeros(y.shape[0])
    x = day - day.mean()
    return (y - y.mean(axis=1, keepdims=True)) @ x / (x @ x)


def _slope_with_step(day: np.ndarray, y: np.ndarray, step_day: int) -> np.ndarray:
    """OLS slope of each row of y over day, with a free level step from step_day on."""
    x = np.column_stack([np.ones(day.size), day - day.mean(), (day >= step_day).astype(float)])
    coef, *_ = np.linalg.lstsq(x, y.T, rcond=None)
    return coef[1]


def sat_truth(m: SatModel) -> SatTruth:
    days = np.arange(m.days)
    own = m.own_v
    rel = own - np.median(own, axis=0, keepdims=True)
    before = days < (m.damage.start_day if m.damage else m.days)
    after = days >= (m.damage.end_day if m.damage else 0)
    if before.sum() < 2:
        before = np.ones(m.days, bool)
    if after.sum() < 2:
        after = before
    slope = _slope(days[before], own[:, before])
    slope_after = _slope(days[after], own[:, after])
    step = np.zeros(N_CELLS)
    pack_step = pack_drift = part_steps = vs_others = None
    whole = _slope(days[before], rel[:, before])
    # the pack's step needs a few days on both sides of the bad period (short test runs lack them)
    if m.damage is not None and m.damage.start_day >= 3 and m.days - m.damage.end_day >= 3:
        e = m.damage.end_day
        line_before = own[:, 0] + slope * e
        step = own[:, e] - line_before
        # Every pack's part steps a little too: the damaged pack's cells leave the middle of the
        # distribution, so the system median moves against the other packs (+2-3 mV).
        packs = np.unique(m.pack_of)
        parts = np.array([np.median(own[m.pack_of == p], axis=0) for p in packs]) - np.median(own, axis=0)
        k = min(60, int(before.sum()), int(after.sum()))
        part_steps = np.empty(packs.size)
        for j in range(packs.size):
            pre = np.polyfit(days[before][-k:], parts[j, before][-k:], 1)
            post = np.polyfit(days[after][:k], parts[j, after][:k], 1)
            part_steps[j] = np.polyval(post, e) - np.polyval(pre, e)
        hit = int(np.flatnonzero(packs == m.damage.pack)[0])
        pack_step = float(part_steps[hit])
        vs_others = float(part_steps[hit] - np.delete(part_steps, hit).mean())
        keep = before | after
        whole = _slope_with_step(days[keep], rel[:, keep], e)
        pack_drift = float(_slope(days[after], parts[hit][None, after])[0])
    return SatTruth(
        start_v=SAT_LEVEL_V + own[:, 0], slope_v_per_day=slope, step_v=step, slope_after_v_per_day=slope_after,
        drift_v_per_day=_slope(days[before], rel[:, before]),
        drift_after_v_per_day=_slope(days[after], rel[:, after]), drift_whole_v_per_day=whole,
        deviation_end_v=rel[:, -1], median_v=np.median(own, axis=0) + m.system.daily_v,
        pack_step_v=pack_step, pack_drift_after_v_per_day=pack_drift, pack_part_steps_v=part_steps,
        pack_step_vs_others_v=vs_others)
