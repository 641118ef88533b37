"""Fleet constants and the per-scale sampling configuration of the demo generator."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from data.glossary import CELLS_PER_PACK, PACKS_PER_BESS

SYSTEM_IDS: tuple[str, ...] = ("ZHPESS232A230002", "ZHPESS232A230003", "ZHPESS232A230007")
METER_IDS: tuple[str, ...] = ("m1", "m2", "m3", "m4", "m5", "m6")

START_LOCAL = date(2023, 10, 1)
# Half-open: the last simulated local day is 2025-06-30.
END_LOCAL = date(2025, 7, 1)
FULL_PERIOD_DAYS = (END_LOCAL - START_LOCAL).days  # 639

N_CELLS = PACKS_PER_BESS * CELLS_PER_PACK  # 260 in series
CELL_CAPACITY_AH = 280.0
CELL_NOMINAL_V = 3.2
# Spec-sheet usable energy; 260 x 3.2 V x 280 Ah = 233 kWh gross.
NAMEPLATE_KWH = 215.0
SCALES = ("small", "full", "fleet")
# `bess demo --scale fleet`: many small systems (30 days of 15-minute data, cells as in small),
# one BESS in FLEET_BESS_EVERY systems, the rest meters.
FLEET_DAYS = 30
FLEET_SYSTEMS = 100
FLEET_BESS_EVERY = 5


@dataclass(frozen=True)
class DemoConfig:
    """What to simulate and how densely to sample it. Steps are in minutes."""

    seed: int
    scale: str
    days: int = FULL_PERIOD_DAYS  # local days from START_LOCAL; tests use fewer
    sim_step_min: int = 15  # physics step; also the fast system-signal grid
    slow_step_min: int = 60  # slow system signals (temperatures, phases, HVAC, alarms heartbeat)
    cell_v_step_min: int = 180  # cell voltage grid, plus the exact end-of-charge samples
    cell_t_step_min: int = 360  # cell temperature grid
    meter_step_min: int = 15
    system_ids: tuple[str, ...] = SYSTEM_IDS  # the BESS; the first three carry the planned dirt
    meter_ids: tuple[str, ...] = METER_IDS  # m1..m6 carry the planned dirt and roles (PV, reset)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {self.scale!r}")
        if not 1 <= self.days <= FULL_PERIOD_DAYS:
            raise ValueError(f"days must be in 1..{FULL_PERIOD_DAYS}, got {self.days}")
        for name in ("slow_step_min", "cell_v_step_min", "cell_t_step_min"):
            if getattr(self, name) % self.sim_step_min:
                raise ValueError(f"{name}={getattr(self, name)} is not a multiple of sim_step_min")
        if self.meter_step_min % 15:
            raise ValueError("meter_step_min must be a multiple of 15")
        if len(self.system_ids) < len(SYSTEM_IDS) or not set(METER_IDS) <= set(self.meter_ids):
            raise ValueError(f"a demo needs at least {len(SYSTEM_IDS)} BESS and the meters {', '.join(METER_IDS)}")


def config_for(scale: str, seed: int, *, days: int = FULL_PERIOD_DAYS, systems: int = FLEET_SYSTEMS) -> DemoConfig:
    """The sampling configuration of a named scale (small: quick demo, full: benchmarks, fleet: many systems).

    ``systems`` counts meters and BESS together (fleet only); ``days`` defaults to
    FLEET_DAYS for the fleet.
    """
    if scale == "fleet":
        n_bess = max(len(SYSTEM_IDS), systems // FLEET_BESS_EVERY)
        n_meters = systems - n_bess
        if n_meters < len(METER_IDS):
            raise ValueError(f"a fleet has at least {len(SYSTEM_IDS) + len(METER_IDS)} systems, got {systems}")
        return DemoConfig(seed=seed, scale=scale, days=min(days, FLEET_DAYS),
                          system_ids=fleet_bess_ids(n_bess), meter_ids=tuple(f"m{i}" for i in range(1, n_meters + 1)))
    if systems != FLEET_SYSTEMS:
        raise ValueError("--systems is for --scale fleet")
    if scale == "small":
        return DemoConfig(seed=seed, scale=scale, days=days)
    if scale == "full":
        return DemoConfig(seed=seed, scale=scale, days=days, sim_step_min=1, slow_step_min=1,
                          cell_v_step_min=5, cell_t_step_min=5)
    raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")


def fleet_bess_ids(n: int) -> tuple[str, ...]:
    """BESS serial numbers of a fleet: the demo's three first, then the series continued."""
    more = (f"ZHPESS232A23{i:04d}" for i in range(8, 10_000))
    return (SYSTEM_IDS + tuple(next(more) for _ in range(max(0, n - len(SYSTEM_IDS)))))[:n]


def rng_for(seed: int, *keys: int | str) -> np.random.Generator:
    """An independent random stream per component, stable across runs and Python processes.

    Strings are hashed with CRC-32 because Python's own str hash is salted per process.
    """
    words = [int(seed)] + [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))
