"""Simulation of one BESS: schedule, string integration, thermal state, aux load, SOH, alarms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from data.demo.cells import R_CELL_OHM, CellParams, CellSamples
from data.demo.config import CELL_CAPACITY_AH, N_CELLS, NAMEPLATE_KWH, DemoConfig, rng_for
from data.demo.physics import StringResult, integrate_string
from data.demo.sat import SatModel
from data.demo.schedule import DayPlan, plan_days, steps_from_plan
from data.demo.timegrid import TimeAxis
from data.demo.weather import daily_ar1, outside_temp_c

PCS_EFF = 0.975
HEAT_K_PER_A2 = 1.5e-4  # steady-state cell heating: 150 A -> ~3.4 K above the room
HEAT_TAU_H = 0.67
PEAK_BEFORE_END_S = 20  # the end-of-charge sample lies just before the step end, off every grid
# True capacity fade [fraction per day, fraction per equivalent full cycle]; drawn per system.
FADE_PER_DAY = (2e-5, 4e-5)
FADE_PER_EFC = (2e-5, 5e-5)
# One system fades this much faster with cycling than the others while its BMS SOH does not
# show it: field audits find BMS SOH figures far off, and the analytics must catch that.
FAST_FADE_FACTOR = 5.0


@dataclass(frozen=True)
class AlarmEvent:
    signal: str
    start_s: int
    end_s: int
    value: int
    cause: str


@dataclass(frozen=True)
class BessSim:
    system_id: str
    axis: TimeAxis  # simulation grid (= fast system-signal grid)
    dt_h: float
    plan: DayPlan
    string: StringResult
    outside_c: np.ndarray
    room_c: np.ndarray
    heat_k: np.ndarray
    aux_kw: np.ndarray
    soh_pct: np.ndarray
    cells: CellParams
    sat: SatModel
    alarms: tuple[AlarmEvent, ...]
    fade_per_day: float = 0.0
    fade_per_efc: float = 0.0

    @property
    def peak_steps(self) -> np.ndarray:
        return np.flatnonzero(self.string.run_end)

    def peak_ts_s(self) -> np.ndarray:
        return self.axis.ts_s[self.peak_steps] + int(self.dt_h * 3600) - PEAK_BEFORE_END_S

    def full_charge_days(self) -> np.ndarray:
        ends = self.peak_steps
        return np.unique(self.axis.day_index[ends[self.string.run_kind[ends] == 2]])

    def throughput_kwh(self) -> tuple[float, float]:
        """(charged, discharged) DC energy over the whole simulation. [kWh]"""
        e = self.string.power_kw * self.dt_h
        return float(-e[e < 0].sum()), float(e[e > 0].sum())

    def throughput_ah(self) -> tuple[float, float]:
        """(charged, discharged) charge through the string over the whole simulation. [Ah]"""
        q = self.string.current_a * self.dt_h
        return float(-q[q < 0].sum()), float(q[q > 0].sum())

    def capacity_per_day_ah(self) -> np.ndarray:
        """True usable capacity at the start of each simulated local day. [Ah]"""
        first = np.searchsorted(self.axis.day_index, np.arange(int(self.axis.day_index[-1]) + 1))
        return self.string.cap_ah[first]

    def samples(self, steps: np.ndarray, peak: np.ndarray) -> CellSamples:
        """String state at grid steps (peak False) or at the end-of-charge instant of run ends."""
        st = self.string
        return CellSamples(
            soc=np.where(peak, st.soc_end[steps], st.soc[steps]),
            current_a=st.current_a[steps],
            day=self.axis.day_index[steps],
            full_run=st.run_kind[steps] == 2,
            is_peak=peak,
            room_c=self.room_c[steps],
            heat_k=self.heat_k[steps],
        )


def simulate_bess(cfg: DemoConfig, system_id: str, axis: TimeAxis, sat: SatModel,
                  rng: np.random.Generator, *, alarms: tuple[AlarmEvent, ...]) -> BessSim:
    days = cfg.days
    dt_h = cfg.sim_step_min / 60.0
    forced = np.zeros(days, bool)
    if sat.damage is not None:
        forced[sat.damage.start_day:sat.damage.end_day] = True
    plan = plan_days(rng, days, forced_full=forced)
    mode, p_req, target = steps_from_plan(plan, axis.day_index, axis.minute_of_day)
    # A stream of its own, so the fade draw leaves every other draw of the demo unchanged.
    fade_rng = rng_for(cfg.seed, system_id, "capacity-fade")
    fade_day = float(fade_rng.uniform(*FADE_PER_DAY))
    fade_efc = float(fade_rng.uniform(*FADE_PER_EFC)) * (FAST_FADE_FACTOR if _fast_fading(cfg, system_id) else 1.0)
    string = integrate_string(mode, p_req, target, soc0=0.5, cap_ah=CELL_CAPACITY_AH,
                              r_cell_ohm=R_CELL_OHM, n_cells=N_CELLS, dt_h=dt_h,
                              fade_per_day=fade_day, fade_per_efc=fade_efc)
    outside = outside_temp_c(axis.ts_s, axis.day_index, daily_ar1(rng, days, 3.0, 0.7))
    # HVAC holds the container near 24 °C; it loses a little ground to the season.
    room = 24.0 + 0.2 * (outside - 10.0)
    alpha = 1.0 - np.exp(-dt_h / HEAT_TAU_H)
    heat = lfilter([alpha], [1.0, alpha - 1.0], HEAT_K_PER_A2 * string.current_a ** 2)
    aux = (1.2 + 0.12 * np.clip(outside - 18.0, 0, None) + 0.15 * np.clip(12.0 - outside, 0, None)
           + 0.25 * heat + rng.normal(0.0, 0.05, axis.ts_s.size))
    efc = np.cumsum(np.abs(string.power_kw) * dt_h) / (2.0 * NAMEPLATE_KWH)
    soh = 100.0 - 0.3 - 0.004 * efc - 0.002 * axis.day_index
    return BessSim(system_id, axis, dt_h, plan, string, outside, room, heat, np.clip(aux, 0.3, None),
                   soh, sat.cells, sat,
                   alarms + _overvoltage_alarms(sat, axis, string, dt_h), fade_day, fade_efc)


def _overvoltage_alarms(sat: SatModel, axis: TimeAxis, string: StringResult, dt_h: float
                        ) -> tuple[AlarmEvent, ...]:
    """The BMS flags cell over-voltage around each full charge of the bad charging period."""
    if sat.damage is None:
        return ()
    out = []
    for k in np.flatnonzero(string.run_end & (string.run_kind == 2)):
        if sat.damage.start_day <= axis.day_index[k] < sat.damage.end_day:
            end = int(axis.ts_s[k] + dt_h * 3600)
            out.append(AlarmEvent("bms1_alarm_flag", end - 1800, end + 2700, 1,
                                  f"cell over-voltage in pack {sat.damage.pack}"))
    return tuple(out)


def _fast_fading(cfg: DemoConfig, system_id: str) -> bool:
    """The third BESS of every three fades fast (the last one of the 3-BESS demo)."""
    return cfg.system_ids.index(system_id) % 3 == 2
