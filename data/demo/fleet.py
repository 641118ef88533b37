"""Fleet-wide health and events: which pack is damaged and when, which cells degrade and how, alarms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.demo.bess import AlarmEvent
from data.demo.config import START_LOCAL, DemoConfig, rng_for
from data.demo.sat import MECHANISMS_PER_SYSTEM, Damage, SatModel, draw_sat_model
from data.demo.timegrid import local_date, local_midnight_utc_s
from data.glossary import CELLS_PER_PACK, PACKS_PER_BESS

BAD_PERIOD_DAYS = 4
_FIRE_CAUSES = ("smoke detector self-test", "fire panel communication fault", "aerosol unit check")
_PCS_CODES = ((17, "grid over-voltage trip, auto-reset"), (203, "IGBT over-temperature warning"))


@dataclass(frozen=True)
class FleetHealth:
    damaged_system: str
    sat: dict[str, SatModel]
    alarms: dict[str, tuple[AlarmEvent, ...]]  # random alarms; over-voltage ones come from bess.py


def draw_fleet_health(cfg: DemoConfig) -> FleetHealth:
    rng = rng_for(cfg.seed, "fleet-health")
    # drawn among the first three, as in the 3-BESS demo (same seed, same draws)
    damaged = cfg.system_ids[int(rng.integers(len(MECHANISMS_PER_SYSTEM)))]
    pack = int(rng.integers(1, PACKS_PER_BESS + 1))
    # mid-period, so that the step and the faster drift after it are both long enough to see
    start = int(cfg.days * 0.5) + int(rng.integers(-10, 11) if cfg.days > 100 else 0)
    damage = Damage(pack, start, min(start + BAD_PERIOD_DAYS, cfg.days))
    sat, alarms = {}, {}
    for i, sid in enumerate(cfg.system_ids):
        sat[sid] = draw_sat_model(rng_for(cfg.seed, sid, "sat"), cfg.days,
                                  mechanisms=MECHANISMS_PER_SYSTEM[i % len(MECHANISMS_PER_SYSTEM)],
                                  damage=damage if sid == damaged else None, cells_per_pack=CELLS_PER_PACK)
        alarms[sid] = _random_alarms(rng_for(cfg.seed, sid, "alarms"), cfg.days)
    return FleetHealth(damaged, sat, alarms)


def _random_alarms(rng: np.random.Generator, days: int) -> tuple[AlarmEvent, ...]:
    out = []
    for cause in rng.choice(_FIRE_CAUSES, 2):
        day = int(rng.integers(0, days))
        t0 = local_midnight_utc_s(local_date(START_LOCAL, day)) + int(rng.integers(8, 16)) * 3600 + 600
        out.append(AlarmEvent("fa1_bms_alarm", t0, t0 + int(rng.integers(1, 12)) * 900, 1, str(cause)))
    for code, cause in _PCS_CODES:
        day = int(rng.integers(0, days))
        # at 23:15 local, after the evening discharge window: the PCS is idle when it trips
        t0 = local_midnight_utc_s(local_date(START_LOCAL, day)) + 23 * 3600 + 900
        out.append(AlarmEvent("pcs1_errcode", t0, t0 + int(rng.integers(1, 5)) * 900, code, cause))
    return tuple(sorted(out, key=lambda e: e.start_s))
