"""One verdict per cell that agrees with the alerts: severity, a rating text (EN/DE) and the drift numbers.

Rule: a cell's severity is the highest severity of its own cell alerts (drift, deviation);
its rating names what raised it: "fast drift" / "drifting" for a drift alert, "far from its
peers" / "off its peers" for a deviation alert, else "stable". So a CRITICAL cell can never
read as fine, and a cell without alerts never reads as a problem. A cell of a pack with a
pack alert (step, pack drift, spread) keeps its own verdict; the pack's alert speaks for the pack.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from core.cells.alerts import Alert, AlertKind, Severity
from core.cells.labels import Language


class Rating(enum.Enum):
    STABLE = "stable"
    DRIFTING = "drifting"
    FAST_DRIFT = "fast_drift"
    OFF_PEERS = "off_peers"
    FAR_FROM_PEERS = "far_from_peers"
    UNKNOWN = "unknown"


_TEXT = {
    Rating.STABLE: ("stable", "stabil"),
    Rating.DRIFTING: ("drifting", "driftet"),
    Rating.FAST_DRIFT: ("fast drift", "schnelle Drift"),
    Rating.OFF_PEERS: ("off its peers", "abseits der Vergleichszellen"),
    Rating.FAR_FROM_PEERS: ("far from its peers", "weit von den Vergleichszellen"),
    Rating.UNKNOWN: ("unknown", "unbekannt"),
}


def rating_text(rating: Rating, language: Language = Language.EN) -> str:
    return _TEXT[rating][0 if Language(language) is Language.EN else 1]


@dataclass(frozen=True)
class CellVerdict:
    pack: int
    cell: int
    severity: Severity | None
    """Highest severity of the cell's own alerts; None = no alert."""
    rating: Rating


def cell_verdicts(packs: Sequence[int], cells: Sequence[int], alerts: Sequence[Alert],
                  known: Sequence[bool]) -> tuple[CellVerdict, ...]:
    """Verdict of every cell (rows in the given order) under the rule in the module docstring."""
    worst: dict[tuple[int, int], Alert] = {}
    for a in alerts:
        if a.cell is None or a.severity is Severity.INFO:
            continue
        key = (a.pack, a.cell)
        cur = worst.get(key)
        # the more severe alert names the verdict; on a tie drift speaks before deviation
        if cur is None or (a.severity.rank, a.kind is AlertKind.DRIFT_OUTLIER) > (
                cur.severity.rank, cur.kind is AlertKind.DRIFT_OUTLIER):
            worst[key] = a
    out = []
    for p, c, ok in zip(packs, cells, known):
        a = worst.get((int(p), int(c)))
        if a is None:
            rating = Rating.STABLE if ok else Rating.UNKNOWN
            out.append(CellVerdict(int(p), int(c), None, rating))
            continue
        critical = a.severity is Severity.CRITICAL
        if a.kind is AlertKind.DRIFT_OUTLIER:
            rating = Rating.FAST_DRIFT if critical else Rating.DRIFTING
        else:
            rating = Rating.FAR_FROM_PEERS if critical else Rating.OFF_PEERS
        out.append(CellVerdict(int(p), int(c), a.severity, rating))
    return tuple(out)
