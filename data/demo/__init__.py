"""Demo fleet generator: 6 meters and 3 BESS as real-layout CSV exports plus ground_truth.json.

The ground-truth schema is documented in :mod:`data.demo.truth`; how each cell's SAT follows from
its ageing capacity, resistance and SOC lag in :mod:`data.demo.sat`, and the system-wide
component calibrated against the real reference data in :mod:`data.demo.sat_system`.
"""

from __future__ import annotations

from pathlib import Path

from data.demo.config import config_for
from data.demo.generate import TRUTH_FILE, build_demo

__all__ = ["TRUTH_FILE", "generate_demo"]


def generate_demo(out_dir: Path, *, seed: int = 7, scale: str = "small", progress: bool = True,
                  systems: int | None = None) -> Path:
    """Write the demo fleet under `out_dir` and return the path of its ground-truth JSON.

    Parameters
    ----------
    out_dir : folder to write ``meter/`` and ``BESS/`` into (created if missing).
    seed : same seed, same bytes.
    scale : ``"small"`` (15-min system data, 3-hourly cell voltages plus every end-of-charge
        peak, 6-hourly cell temperatures; under a minute) or ``"full"`` (1-min system data,
        5-min cell data; minutes, for benchmarks) or ``"fleet"`` (``systems`` small systems,
        100 by default: 30 days of small-scale data each, one BESS in five, the rest meters;
        about a minute).
    progress : show a tqdm progress bar.
    systems : fleet only: meters and BESS together (at least 9).
    """
    if systems is not None and scale != "fleet":
        raise ValueError("systems is for scale='fleet'")
    cfg = config_for(scale, seed) if systems is None else config_for(scale, seed, systems=systems)
    return build_demo(Path(out_dir), cfg, progress=progress)
