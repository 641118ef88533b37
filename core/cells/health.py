"""Health breakdown per pack: how many cells are healthy, watched or critical.

Rule: a cell is *critical* when it has a CRITICAL cell alert; *watched* when it has a WARNING
cell alert or was among the cells that stepped in a pack event; *healthy* otherwise. Pack-level
alerts (spread, event) mark the pack, not every cell in it; INFO alerts do not change health.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.cells.alerts import Alert, Severity
from core.cells.events import PackEvent


@dataclass(frozen=True)
class PackHealth:
    pack: int
    n_cells: int
    healthy: int
    watched: int
    critical: int


def health_by_pack(packs: np.ndarray, cells: np.ndarray, alerts: Sequence[Alert],
                   events: Sequence[PackEvent] = ()) -> tuple[PackHealth, ...]:
    """Counts per pack (ascending) under the rule in the module docstring."""
    packs = np.asarray(packs)
    cells = np.asarray(cells)
    if packs.shape != cells.shape or packs.ndim != 1:
        raise ValueError(f"packs and cells must be 1-D of one length, got {packs.shape} and {cells.shape}")
    level: dict[tuple[int, int], int] = {}
    for a in alerts:
        if a.cell is None or a.severity is Severity.INFO:
            continue
        grade = 2 if a.severity is Severity.CRITICAL else 1
        key = (a.pack, a.cell)
        level[key] = max(level.get(key, 0), grade)
    for ev in events:
        for c in ev.cells_affected:
            level[(ev.pack, c)] = max(level.get((ev.pack, c), 0), 1)
    out = []
    for p in np.unique(packs):
        grades = [level.get((int(p), int(c)), 0) for c in cells[packs == p]]
        out.append(PackHealth(pack=int(p), n_cells=len(grades), healthy=grades.count(0),
                              watched=grades.count(1), critical=grades.count(2)))
    return tuple(out)


@dataclass(frozen=True)
class PackSummary:
    """One pack at a glance: health counts, SAT level and spread on its latest saturation day,
    and its best and worst cell by robust |loss rate| (labels; None without a finite rate)."""

    pack: int
    n_cells: int
    healthy: int
    watched: int
    critical: int
    mean_sat_v: float  # NaN without a saturation day
    spread_sat_v: float
    latest_day: np.datetime64 | None
    best_cell: str | None
    worst_cell: str | None


def pack_summary(pack: int, health: Sequence[PackHealth], trends, robust) -> PackSummary:
    """The summary of ``pack`` from the analysis' health counts, pack trends and robust fits."""
    h = next((x for x in health if x.pack == pack), None)
    row = np.flatnonzero(np.asarray(trends.packs) == pack)
    mean = spread = np.nan
    day = None
    if row.size:
        ok = np.flatnonzero(np.isfinite(trends.mean_v[row[0]]))
        if ok.size:
            j = ok[-1]
            mean, spread = float(trends.mean_v[row[0], j]), float(trends.spread_v[row[0], j])
            day = np.datetime64(trends.days[j], "D")
    rows = np.flatnonzero(np.asarray(robust.packs) == pack)
    loss = np.abs(np.asarray(robust.loss_pct_per_year, dtype=np.float64)[rows])
    best = worst = None
    if rows.size and np.isfinite(loss).any():
        best = robust.labels[rows[int(np.nanargmin(loss))]]
        worst = robust.labels[rows[int(np.nanargmax(loss))]]
    return PackSummary(pack=pack, n_cells=h.n_cells if h else int(rows.size), healthy=h.healthy if h else 0,
                       watched=h.watched if h else 0, critical=h.critical if h else 0, mean_sat_v=mean,
                       spread_sat_v=spread, latest_day=day, best_cell=best, worst_cell=worst)
