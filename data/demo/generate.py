"""Orchestrates the demo: simulate each meter and BESS, stream their CSVs out, write the truth."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from data.demo.bess import simulate_bess
from data.demo.bess_series import cell_series, system_series
from data.demo.config import N_CELLS, START_LOCAL, DemoConfig, rng_for
from data.demo.dirt import plan_dirt
from data.demo.fleet import draw_fleet_health
from data.demo.meters import RESET_METER, exports_pv, meter_series
from data.demo.timegrid import TimeAxis, local_date, local_midnight_utc_s, utc_grid_s
from data.demo.truth import bess_truth, meter_truth, write_truth
from data.demo.writer import CsvWriter

TRUTH_FILE = "ground_truth.json"
_SYSTEM_SIGNALS = 34  # for the progress total only


def build_demo(out_dir: Path, cfg: DemoConfig, *, progress: bool = True) -> Path:
    """Write the demo fleet for `cfg` under `out_dir`; returns the ground-truth path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start_s = local_midnight_utc_s(START_LOCAL)
    end_s = local_midnight_utc_s(local_date(START_LOCAL, cfg.days))
    plan = plan_dirt(cfg)
    writer = CsvWriter(out_dir, plan, cfg.seed)
    total = len(cfg.meter_ids) * 5 + len(cfg.system_ids) * (_SYSTEM_SIGNALS + 2 * N_CELLS)
    bar = tqdm(total=total, disable=not progress, desc="bess demo", unit="file")

    meters = {}
    meter_axis = TimeAxis(utc_grid_s(start_s, end_s, cfg.meter_step_min), START_LOCAL)
    reset_day = int(rng_for(cfg.seed, "reset-day").integers(cfg.days // 3, 2 * cfg.days // 3 + 1))
    for mid in cfg.meter_ids:
        series, resets = meter_series(mid, meter_axis, cfg.meter_step_min, rng_for(cfg.seed, mid, "meter"),
                                      reset_day=reset_day if mid == RESET_METER else None)
        for s in series:
            writer.write("meter", mid, s, stem=f"{mid}_{s.signal}" if mid in plan.prefixed_meters else None)
            bar.update()
        meters[mid] = meter_truth(mid, exports_pv(mid), resets, plan)

    health = draw_fleet_health(cfg)
    sim_axis = TimeAxis(utc_grid_s(start_s, end_s, cfg.sim_step_min), START_LOCAL)
    bess = {}
    for sid in cfg.system_ids:
        sim = simulate_bess(cfg, sid, sim_axis, health.sat[sid], rng_for(cfg.seed, sid, "bess"),
                            alarms=health.alarms[sid])
        for s in system_series(sim, cfg, sid):
            writer.write("BESS", sid, s)
            bar.update()
        for s in cell_series(sim, cfg, sid):
            writer.write("BESS", sid, s)
            bar.update()
        bess[sid] = bess_truth(sim, plan)
        del sim  # bounded memory: one system at a time
    bar.close()
    return write_truth(out_dir / TRUTH_FILE, cfg, meters, bess, plan, writer.log)
