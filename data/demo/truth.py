"""The ground truth written beside the demo CSVs as ``ground_truth.json``.

Schema (stable; times with offset are Berlin wall time, ``*_utc`` end in Z, dates are local
``YYYY-MM-DD``, ranges are half-open ``[start, end)``)::

    {
      "schema_version": 2,
      "seed": int, "scale": "small" | "full" | "fleet", "days": int,
      "start_local": "2023-10-01T00:00:00+02:00", "end_local": "2025-07-01T00:00:00+02:00",
      "meters": {
        "m1": {
          "pv_export": bool,
          "counter_resets": [{"signal", "ts_utc", "value_before", "value_after"}],   # kWh
          "gaps": [{"signals": [..] | null (all), "start_utc", "end_utc", "start_local", "end_local", "reason"}]
        }, ...
      },
      "bess": {
        "ZHPESS232A230002": {
          "nameplate_kwh": 215.0, "packs": 5, "cells_per_pack": 52,
          "cells": [{"pack", "cell", "mechanism", "degrading",
                     "drift_v_per_day", "drift_after_v_per_day", "drift_whole_v_per_day", "deviation_end_v",
                     "sat_start_v", "sat_slope_v_per_day", "sat_step_v", "sat_slope_after_v_per_day",
                     "capacity_start_ah", "capacity_fade_ah_per_day",
                     "resistance_start_ohm", "resistance_growth_ohm_per_day", "soc_lag_per_day"}, ...],  # all 260
          "degrading_cells": [[pack, cell], ...],       # the fast cells, rising and falling
          "damaged_pack": int | null,
          "bad_charging_period": {"start_local", "end_local", "step_v"} | null,
          "pack_event": {"pack", "day", "step_v", "step_vs_other_packs_v", "drift_after_v_per_day",
                         "pack_part_steps_v": [per pack 1..5]} | null,  # null too if < 3 days on a side
          "system_sat": {"level_v", "temperature_amplitude_v",
                         "regimes": [{"start_local", "shift_v"}, ...],
                         "daily_v": [float, ...], "median_v": [float, ...]},   # one per day from day 0
          "full_charge_days": ["YYYY-MM-DD", ...],
          "equivalent_full_cycles": float,
          "charged_kwh": float, "discharged_kwh": float,
          "capacity_ah_initial": 280.0,                 # usable capacity on day 0 [Ah]
          "capacity_fade": {"per_day", "per_efc"},      # cap = initial x (1 - per_day x days - per_efc x EFC_ah)
          "capacity_ah_daily": [float, ...],            # true capacity at each local day's start [Ah], day 0 first
          "charged_ah": float, "discharged_ah": float,  # from the simulated current (bms1_c)
          "equivalent_full_cycles_ah": float,           # (charged_ah + discharged_ah) / 2 / capacity_ah_initial
          "soh_true_pct_end": float,                    # 100 x capacity at the end / initial
          "bms_soh_pct_end": float,                     # what the BMS's bms1_soh says at the end
          "alarms": [{"signal", "value", "start_utc", "end_utc", "start_local", "end_local", "cause"}],
          "gaps": [... as for meters ...]
        }, ...
      },
      "dirt": {"duplicates", "out_of_order", "sentinels", "decimal_comma_files", "iso_offset_files",
               "bom_files", "split_signals", "gaps"}
    }

SAT model (data/demo/sat.py; day d = local days since start_local, day 0 = 2023-10-01)::

    sat_i(d) = system_sat.daily_v[d] + own_i(d) + noise_i(d)          (noise: sd 1 mV, 1-mV readings)
    own_i(d) = sat_start_v - system_sat.level_v + sat_slope_v_per_day * d         before the bad period
             + sat_step_v + (sat_slope_after_v_per_day - sat_slope_v_per_day) * (d - end)
                                                               from bad_charging_period.end_local

``system_sat.daily_v`` is the system component (set-point/end-current regimes, temperature,
day-to-day wander, rare excursions), identical for all cells of the system; it is the string
average of the noise-free SAT. ``system_sat.median_v`` is the noise-free daily median over all
260 cells (it differs from daily_v by the median of the cells' own parts, a few mV).

``drift_v_per_day`` is what the slope of "cell SAT minus the system's daily median SAT" should
find: the least-squares slope of own_i(d) minus the daily median of own over all cells, over the
days before the bad period (all days without one); ``drift_after_v_per_day`` the same from its
end (equal to drift elsewhere); ``drift_whole_v_per_day`` is one line over all days but the bad
period with a free level step at its end (what a whole-period fit with the event as a step
finds; equal to drift in systems without damage). ``deviation_end_v`` is that difference on the
last day. ``mechanism`` is capacity_fade / resistance_growth (rising SAT),
self_discharge (falling) or none; ``degrading`` marks the fast cells (rising about +8e-5 ..
+1.5e-4 V/day, falling -6e-5 .. -8.5e-5 V/day; ordinary cells stay within a few uV/day).
The damaged pack's cells have mechanism none and carry the pack event: ``pack_event.step_v`` is
the step of that pack's part (pack median minus system median) on ``pack_event.day``, the first
day after the bad period, ``step_vs_other_packs_v`` the same step against the mean step of the
other packs' parts (this is ``bad_charging_period.step_v``, as in schema 1: what the pack lost
against the rest of its string), and ``drift_after_v_per_day`` the slope of that part
afterwards; ``pack_part_steps_v`` gives the same step for every pack: the others' parts rise by
2-3 mV, because the damaged pack's cells leave the middle of the distribution and the system
median moves against the other packs. Every cell of the damaged system has a small
``sat_step_v``: the string average is pinned to the system component, so the others rise by a
fifth of the damaged pack's fall (the system median follows them).

The SAT value appears as the daily maximum of the cell's voltage file on each of
``full_charge_days`` only; the days of the bad charging period read 3.60-3.65 V in the damaged
pack. Capacities, resistances and SOC lag age linearly from their day-0 values (cells.py).
Throughput is DC-side (bms1_v x bms1_c):
``equivalent_full_cycles = (charged_kwh + discharged_kwh) / 2 / nameplate_kwh``.
The Ah cycle count is ``equivalent_full_cycles_ah``; the true capacity fades (``capacity_ah_daily``),
while the BMS's bms1_soh follows its own model and may disagree with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from data.demo.bess import BessSim
from data.demo.config import CELL_CAPACITY_AH, CELLS_PER_PACK, NAMEPLATE_KWH, PACKS_PER_BESS, START_LOCAL, DemoConfig
from data.demo.dirt import DirtPlan, Gap
from data.demo.meters import CounterReset
from data.demo.sat import SatModel, sat_truth
from data.demo.sat_system import SAT_LEVEL_V, TEMP_AMPLITUDE_V
from data.demo.timegrid import iso_local, iso_utc, local_date, local_midnight_utc_s
from data.demo.writer import DirtLog

SCHEMA_VERSION = 2


def _gap(g: Gap) -> dict:
    return {"signals": list(g.signals) if g.signals else None, "start_utc": iso_utc(g.start_s),
            "end_utc": iso_utc(g.end_s), "start_local": iso_local(g.start_s),
            "end_local": iso_local(g.end_s), "reason": g.reason}


def _day(d: int) -> str:
    return local_date(START_LOCAL, d).isoformat()


def _sci(x: float) -> float:
    return float(f"{x:.4e}")


def _system_truth(m: SatModel, median_v: np.ndarray) -> dict:
    sy = m.system
    return {"level_v": SAT_LEVEL_V, "temperature_amplitude_v": TEMP_AMPLITUDE_V,
            "regimes": [{"start_local": _day(int(d)), "shift_v": round(float(v), 6)}
                        for d, v in zip(sy.regime_start_day, sy.regime_shift_v)],
            "daily_v": [round(float(v), 6) for v in sy.daily_v],
            "median_v": [round(float(v), 6) for v in median_v]}


def bess_truth(sim: BessSim, plan: DirtPlan) -> dict:
    m = sim.sat
    t = sat_truth(m)
    p = m.cells
    cells = []
    for c in range(PACKS_PER_BESS * CELLS_PER_PACK):
        cells.append({"pack": c // CELLS_PER_PACK + 1, "cell": c % CELLS_PER_PACK + 1,
                      "mechanism": str(m.mechanism[c]), "degrading": bool(m.degrading[c]),
                      "drift_v_per_day": _sci(t.drift_v_per_day[c]),
                      "drift_after_v_per_day": _sci(t.drift_after_v_per_day[c]),
                      "drift_whole_v_per_day": _sci(t.drift_whole_v_per_day[c]),
                      "deviation_end_v": round(float(t.deviation_end_v[c]), 6),
                      "sat_start_v": round(float(t.start_v[c]), 6),
                      "sat_slope_v_per_day": _sci(t.slope_v_per_day[c]),
                      "sat_step_v": round(float(t.step_v[c]), 6),
                      "sat_slope_after_v_per_day": _sci(t.slope_after_v_per_day[c]),
                      "capacity_start_ah": round(float(p.cap_ah[c]), 3),
                      "capacity_fade_ah_per_day": _sci(p.cap_fade_ah_per_day[c]),
                      "resistance_start_ohm": _sci(p.r_ohm[c]),
                      "resistance_growth_ohm_per_day": _sci(p.r_growth_ohm_per_day[c]),
                      "soc_lag_per_day": _sci(p.soc_lag_per_day[c])})
    charged, discharged = sim.throughput_kwh()
    dmg = m.damage
    event = None if t.pack_step_v is None else {
        "pack": dmg.pack, "day": _day(dmg.end_day), "step_v": round(t.pack_step_v, 6),
        "step_vs_other_packs_v": round(t.pack_step_vs_others_v, 6),
        "drift_after_v_per_day": _sci(t.pack_drift_after_v_per_day),
        "pack_part_steps_v": [round(float(x), 6) for x in t.pack_part_steps_v]}
    return {
        "nameplate_kwh": NAMEPLATE_KWH, "packs": PACKS_PER_BESS, "cells_per_pack": CELLS_PER_PACK,
        "cells": cells,
        "degrading_cells": [[c["pack"], c["cell"]] for c in cells if c["degrading"]],
        "damaged_pack": dmg.pack if dmg else None,
        "bad_charging_period": None if dmg is None else {
            "start_local": _day(dmg.start_day), "end_local": _day(dmg.end_day),
            "step_v": None if event is None else event["step_vs_other_packs_v"]},
        "pack_event": event,
        "system_sat": _system_truth(m, t.median_v),
        "full_charge_days": [_day(d) for d in sim.full_charge_days()],
        "equivalent_full_cycles": round((charged + discharged) / 2.0 / NAMEPLATE_KWH, 3),
        "charged_kwh": round(charged, 2), "discharged_kwh": round(discharged, 2),
        **_capacity_truth(sim),
        "alarms": [{"signal": e.signal, "value": e.value, "start_utc": iso_utc(e.start_s),
                    "end_utc": iso_utc(e.end_s), "start_local": iso_local(e.start_s),
                    "end_local": iso_local(e.end_s), "cause": e.cause}
                   for e in sorted(sim.alarms, key=lambda e: (e.start_s, e.signal))],
        "gaps": [_gap(g) for g in plan.gaps if g.system_id == sim.system_id],
    }


def _capacity_truth(sim: BessSim) -> dict:
    charged_ah, discharged_ah = sim.throughput_ah()
    daily = sim.capacity_per_day_ah()
    end_cap = float(sim.string.cap_ah[-1])
    return {
        "capacity_ah_initial": CELL_CAPACITY_AH,
        "capacity_fade": {"per_day": sim.fade_per_day, "per_efc": sim.fade_per_efc},
        "capacity_ah_daily": [round(float(c), 4) for c in daily],
        "charged_ah": round(charged_ah, 3), "discharged_ah": round(discharged_ah, 3),
        "equivalent_full_cycles_ah": round((charged_ah + discharged_ah) / 2.0 / CELL_CAPACITY_AH, 4),
        "soh_true_pct_end": round(100.0 * end_cap / CELL_CAPACITY_AH, 4),
        "bms_soh_pct_end": round(float(sim.soh_pct[-1]), 4),
    }


def meter_truth(meter_id: str, pv_export: bool, resets: list[CounterReset], plan: DirtPlan) -> dict:
    return {"pv_export": pv_export,
            "counter_resets": [{"signal": r.signal, "ts_utc": iso_utc(r.ts_s), "value_before": r.value_before,
                                "value_after": r.value_after} for r in resets],
            "gaps": [_gap(g) for g in plan.gaps if g.system_id == meter_id]}


def write_truth(path: Path, cfg: DemoConfig, meters: dict, bess: dict, plan: DirtPlan, log: DirtLog) -> Path:
    truth = {
        "schema_version": SCHEMA_VERSION, "seed": cfg.seed, "scale": cfg.scale, "days": cfg.days,
        "start_local": iso_local(local_midnight_utc_s(START_LOCAL)),
        "end_local": iso_local(local_midnight_utc_s(local_date(START_LOCAL, cfg.days))),
        "meters": meters, "bess": bess,
        "dirt": {**{k: v for k, v in vars(log).items()}, "gaps": [{"system": g.system_id, **_gap(g)} for g in plan.gaps]},
    }
    path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return path
