"""One cell against its peers, ready to draw: its SAT, pack and system medians, drift fit segments and projection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from core.cells.alerts import Alert
from core.cells.analysis import CellAnalysis
from core.cells.drift import WIDE_EVENT_CELLS, LimitStatus
from core.cells.events import PackEvent
from data.glossary import LOCAL_TZ

# How far past the last SAT day the drift's 95 % interval is drawn as a projection band.
PROJECTION_DAYS = 180


@dataclass(frozen=True)
class FitSegment:
    """The drift line over the SAT days it was fitted on between two level steps (pack events).

    The drift fit (core.cells.drift) shares one slope across its segments and gives each its own
    level; the level drawn here is the median of (deviation - slope * x) over the segment's days,
    the robust centre of the segment around that slope. [V]
    """

    start_day: np.datetime64
    end_day: np.datetime64
    start_v: float
    end_v: float


@dataclass(frozen=True)
class CellDetail:
    """Everything the cell view draws for one cell (days are local Europe/Berlin dates)."""

    label: str
    pack: int
    cell: int
    days: np.ndarray
    """datetime64[D] (n_days,): the SAT matrix's days."""
    sat_v: np.ndarray
    """The cell's SAT; NaN off saturation days. [V]"""
    pack_median_v: np.ndarray
    """Median SAT of the cell's pack. [V]"""
    system_median_v: np.ndarray
    """Median SAT of all cells of the system. [V]"""
    deviation_v: np.ndarray
    """SAT minus the system median: what the drift is fitted on. [V]"""
    drift_v_per_day: float
    drift_ci95_low_v_per_day: float
    drift_ci95_high_v_per_day: float
    segments: tuple[FitSegment, ...]
    """The drift line per stretch between level steps; empty when the fit failed (too few days)."""
    projection_days: np.ndarray
    """datetime64[D]: from the last SAT day forward (the band's x)."""
    projection_low_v: np.ndarray
    projection_high_v: np.ndarray
    """Deviation projected at the 95 % interval's ends of the drift, from the last segment's end. [V]"""
    limit_v: float
    """|deviation| at which the deviation alert turns critical. [V]"""
    limit_status: LimitStatus
    limit_date: np.datetime64
    """When |deviation| reaches limit_v at the drift rate (NaT unless limit_status is DATE)."""
    events: tuple[PackEvent, ...]
    """Pack events that step this cell's fit: its own pack's and those of packs of 5+ cells."""
    alerts: tuple[Alert, ...]
    """Alerts of this cell and of its pack."""

    @property
    def sat_days(self) -> np.ndarray:
        """The days the cell has a SAT value (the days a raw-voltage window can be opened on)."""
        return self.days[np.isfinite(self.sat_v)]


def cell_detail(analysis: CellAnalysis, pack: int, cell: int) -> CellDetail:
    """The detail of cell ``cell`` of pack ``pack`` from a system's cell analysis.

    Raises ValueError when the analysis has no such cell.
    """
    sat, drift = analysis.sat, analysis.drift
    rows = np.flatnonzero((sat.packs == pack) & (sat.cells == cell))
    if rows.size != 1:
        raise ValueError(f"the cell analysis has no cell P{pack}C{cell}")
    i = int(rows[0])
    parts, c = drift.parts, drift.cells
    pack_row = int(np.searchsorted(parts.packs, pack))
    pack_median = parts.pack_part_v[pack_row] + parts.system_v
    events = tuple(e for e in analysis.events if e.pack == pack or e.n_cells >= WIDE_EVENT_CELLS)
    rel = parts.relative_v[i]
    slope = float(c.drift_v_per_day[i])
    x = (sat.days - sat.days[0]).astype(np.int64).astype(float)
    segments = _segments(sat.days, x, rel, slope, sorted({np.datetime64(e.day, "D") for e in events}))
    lo, hi = float(c.drift_ci95_low_v_per_day[i]), float(c.drift_ci95_high_v_per_day[i])
    if segments and np.isfinite(lo) and np.isfinite(hi):
        last = segments[-1]
        ahead = np.arange(PROJECTION_DAYS + 1)
        proj_days = last.end_day + ahead.astype("timedelta64[D]")
        proj_lo, proj_hi = last.end_v + lo * ahead, last.end_v + hi * ahead
    else:
        proj_days, proj_lo, proj_hi = np.array([], dtype="datetime64[D]"), np.array([]), np.array([])
    status, date, _, _ = c.limit_dates(drift.rules.limit_v)
    alerts = tuple(a for a in analysis.alerts if a.pack == pack and a.cell in (None, cell))
    return CellDetail(label=sat.labels[i], pack=int(pack), cell=int(cell), days=sat.days, sat_v=sat.voltage_v[i],
                      pack_median_v=pack_median, system_median_v=parts.system_v, deviation_v=rel,
                      drift_v_per_day=slope, drift_ci95_low_v_per_day=lo, drift_ci95_high_v_per_day=hi,
                      segments=segments, projection_days=proj_days, projection_low_v=proj_lo,
                      projection_high_v=proj_hi, limit_v=float(drift.rules.limit_v), limit_status=status[i],
                      limit_date=date[i], events=events, alerts=alerts)


def _segments(days: np.ndarray, x: np.ndarray, y: np.ndarray, slope: float,
              steps: list[np.datetime64]) -> tuple[FitSegment, ...]:
    """The drift line over each stretch between steps that holds values (see FitSegment)."""
    if not np.isfinite(slope):
        return ()
    edges = [days[0]] + [s for s in steps if days[0] < s <= days[-1]] + [days[-1] + np.timedelta64(1, "D")]
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        keep = (days >= a) & (days < b) & np.isfinite(y)
        if not keep.any():
            continue
        level = float(np.median(y[keep] - slope * x[keep]))
        xs = x[keep]
        out.append(FitSegment(start_day=days[keep][0], end_day=days[keep][-1],
                              start_v=level + slope * float(xs[0]), end_v=level + slope * float(xs[-1])))
    return tuple(out)


def local_day_window(day: np.datetime64 | str, *, days_before: int = 1,
                     days_after: int = 1) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local (Europe/Berlin) day ``day`` widened by whole days each side."""
    d = np.datetime64(day, "D").astype(datetime)
    tz = ZoneInfo(LOCAL_TZ)
    start = datetime.combine(d - timedelta(days=days_before), time(0), tz)
    end = datetime.combine(d + timedelta(days=days_after + 1), time(0), tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)
