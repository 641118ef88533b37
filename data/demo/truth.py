"""The ground truth written beside the demo CSVs as ``ground_truth.json``.

Schema (stable; times with offset are Berlin wall time, ``*_utc`` end in Z, dates are local
``YYYY-MM-DD``, ranges are half-open ``[start, end)``)::

    {
      "schema_version": 1,
      "seed": int, "scale": "small" | "full", "days": int,
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
          "cells": [{"pack", "cell", "sat_start_v", "sat_slope_v_per_day", "degrading",
                     "sat_step_v", "sat_slope_after_v_per_day"}, ...],          # all 260
          "degrading_cells": [[pack, cell], ...],
          "damaged_pack": int | null,
          "bad_charging_period": {"start_local", "end_local", "step_v"} | null,
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

SAT model of a cell (day d = local days since start_local, day 0 = 2023-10-01)::

    sat(d) = sat_start_v + sat_slope_v_per_day * d                          before the bad period
           + sat_step_v + (sat_slope_after_v_per_day - sat_slope_v_per_day) * (d - end)
                                                               from bad_charging_period.end_local

plus a day-to-day noise common to the system (sd 4.3 mV, rare upward excursions) and a small
per-cell noise (sd 1 mV); see sat.py. The SAT value appears as the daily maximum of the cell's
voltage file on each of ``full_charge_days`` only; the days of the bad charging period read
3.60-3.65 V in the damaged pack. ``degrading`` cells drift upward fast; the damaged pack's
cells are not flagged ``degrading``, they carry ``sat_step_v`` instead. Throughput is DC-side
(bms1_v x bms1_c): ``equivalent_full_cycles = (charged_kwh + discharged_kwh) / 2 / nameplate_kwh``.
The Ah cycle count is ``equivalent_full_cycles_ah``; the true capacity fades (``capacity_ah_daily``),
while the BMS's bms1_soh follows its own model and may disagree with it.
"""

from __future__ import annotations

import json
from pathlib import Path

from data.demo.bess import BessSim
from data.demo.config import CELL_CAPACITY_AH, CELLS_PER_PACK, NAMEPLATE_KWH, PACKS_PER_BESS, START_LOCAL, DemoConfig
from data.demo.dirt import DirtPlan, Gap
from data.demo.meters import CounterReset
from data.demo.timegrid import iso_local, iso_utc, local_date, local_midnight_utc_s
from data.demo.writer import DirtLog

SCHEMA_VERSION = 1


def _gap(g: Gap) -> dict:
    return {"signals": list(g.signals) if g.signals else None, "start_utc": iso_utc(g.start_s),
            "end_utc": iso_utc(g.end_s), "start_local": iso_local(g.start_s),
            "end_local": iso_local(g.end_s), "reason": g.reason}


def _day(d: int) -> str:
    return local_date(START_LOCAL, d).isoformat()


def bess_truth(sim: BessSim, plan: DirtPlan) -> dict:
    sat = sim.sat
    cells = []
    for c in range(PACKS_PER_BESS * CELLS_PER_PACK):
        cells.append({"pack": c // CELLS_PER_PACK + 1, "cell": c % CELLS_PER_PACK + 1,
                      "sat_start_v": round(float(sat.start_v[c]), 6),
                      "sat_slope_v_per_day": float(f"{sat.slope_v_per_day[c]:.4e}"),
                      "degrading": bool(sat.degrading[c]),
                      "sat_step_v": round(float(sat.step_v[c]), 6),
                      "sat_slope_after_v_per_day": float(f"{sat.slope_after_v_per_day[c]:.4e}")})
    charged, discharged = sim.throughput_kwh()
    dmg = sat.damage
    return {
        "nameplate_kwh": NAMEPLATE_KWH, "packs": PACKS_PER_BESS, "cells_per_pack": CELLS_PER_PACK,
        "cells": cells,
        "degrading_cells": [[c["pack"], c["cell"]] for c in cells if c["degrading"]],
        "damaged_pack": dmg.pack if dmg else None,
        "bad_charging_period": None if dmg is None else {
            "start_local": _day(dmg.start_day), "end_local": _day(dmg.end_day),
            "step_v": round(float(sat.step_v[sat.step_v != 0].mean()), 6)},
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
