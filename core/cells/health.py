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
