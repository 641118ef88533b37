"""Cell health against peers: the SAT split into system, pack and cell parts, drift with honest intervals.

Why: on real systems 95-99 % of a cell's day-to-day SAT variation is shared by every cell
(charge set-point, end current, temperature move the whole system by tens of mV for weeks).
A slope of the raw SAT mostly measures that shared part. So each saturation day is split:

- system part  s(d) = median over all cells of SAT(d);
- pack part    p(d) = median over the pack's cells of SAT(d) - s(d);
- relative SAT r(d) = SAT(d) - s(d) of each cell ("against its peers").

A cell's *drift* is the slope of r, a pack's drift the slope of p, the *system trend* the slope
of s (reported on its own, as what it most likely is: operation, not cell ageing). Every slope
is a Huber line with a level term per pack event of its pack (and, for every cell, per event of a
pack of 5 or more cells: when they leave the middle, the system median moves too) and an interval
(`core.cells.trend_fit`). Adding any component shared by all cells changes r and p by nothing,
so the cell and pack numbers are the same with or without it.

Alerts are raised on a cell's *own* part, SAT minus its pack median: a damaged pack that drifts
as a whole is one pack alert, not 52 cell alerts. The reported drift and deviation are against
the system (the peers an operator compares with); `severity` and `label` come from the alerts.

Operator numbers per cell (defaults in `DriftRules`):

- drift [V/day] with its 95 % interval, and per equivalent full cycle when cycles are measured;
- deviation: median of r over the last 30 saturation days [V];
- mechanism hint from the sign of a significant drift: rising = capacity fade or resistance
  growth (the cell reaches the top-of-charge knee first), falling = self-discharge, micro-short
  or SOC lag;
- limit date: when |deviation| reaches `limit_v` (40 mV by default, the deviation at which the
  deviation alert turns critical) at the drift rate, with the dates from the interval's ends;
  "already" when it is there, "never" when the drift is not significant, moves away from the
  limit, or would need more than 20 years;
- deviation at 5,000 and 10,000 EFC (from the first day), clipped to +-100 mV: beyond that a
  cell is out of its string's balancing range and a straight line says nothing more.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.cells._robust import nanmedian_axis0, nanmedian_axis1, readonly
from core.cells.events import PackEvent
from core.cells.sat import SatMatrix
from core.cells.trend_fit import HAC_LAG_DAYS, TrendFits, fit_trends

DAYS_PER_MONTH = 365.25 / 12.0
RECENT_SAT_DAYS = 30
DEFAULT_LIMIT_V = 0.040
LIMIT_HORIZON_DAYS = 20 * 365
PROJECTION_EFC = (5_000.0, 10_000.0)
PROJECTION_CLIP_V = 0.100
WIDE_EVENT_CELLS = 5


class Mechanism(str, enum.Enum):
    """Most likely cause of a significant drift, from its sign (see the module docstring)."""

    RISING = "rising"
    """Capacity fade or resistance growth seen at top of charge."""
    FALLING = "falling"
    """Self-discharge, micro-short or SOC lag."""
    NONE = "none"
    """No significant drift."""


class LimitStatus(str, enum.Enum):
    ALREADY = "already"
    DATE = "date"
    NEVER = "never"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DriftRules:
    """Thresholds of drift grading and the deviation limit (documented in README, "Analysis")."""

    warning_v_per_month: float = 0.0005
    """A significant own drift of at least 0.5 mV/month is watched (WARNING): ~6 mV a year."""
    critical_v_per_month: float = 0.002
    """... of at least 2 mV/month is CRITICAL: the 40 mV limit within ~1.5 years."""
    limit_v: float = DEFAULT_LIMIT_V
    recent_sat_days: int = RECENT_SAT_DAYS
    lag_days: int = HAC_LAG_DAYS

    def __post_init__(self) -> None:
        if not 0 < self.warning_v_per_month <= self.critical_v_per_month:
            raise ValueError("need 0 < warning_v_per_month <= critical_v_per_month, got "
                             f"{self.warning_v_per_month} and {self.critical_v_per_month}")
        if not (np.isfinite(self.limit_v) and self.limit_v > 0):
            raise ValueError(f"limit_v must be a positive number of volts, got {self.limit_v}")
        if self.recent_sat_days < 1:
            raise ValueError(f"recent_sat_days must be >= 1, got {self.recent_sat_days}")


class DriftGrade(enum.Enum):
    STABLE = "stable"
    DRIFTING = "drifting"
    FAST = "fast"
    UNKNOWN = "unknown"


_GRADE_TEXT = {DriftGrade.STABLE: ("stable", "stabil"), DriftGrade.DRIFTING: ("drifting", "driftet"),
               DriftGrade.FAST: ("fast drift", "schnelle Drift"), DriftGrade.UNKNOWN: ("unknown", "unbekannt")}


def grade_text(grade: DriftGrade, german: bool = False) -> str:
    """The grade as a word (English, or German)."""
    return _GRADE_TEXT[grade][1 if german else 0]


def grade_drift(slope_v_per_day: float, ci_low: float, ci_high: float, rules: DriftRules = DriftRules()) -> DriftGrade:
    """STABLE unless the interval excludes 0 and the rate reaches the warning (DRIFTING) or critical (FAST) rate."""
    if not (np.isfinite(slope_v_per_day) and np.isfinite(ci_low) and np.isfinite(ci_high)):
        return DriftGrade.UNKNOWN
    per_month = abs(slope_v_per_day) * DAYS_PER_MONTH
    if ci_low <= 0.0 <= ci_high or per_month < rules.warning_v_per_month:
        return DriftGrade.STABLE
    return DriftGrade.FAST if per_month >= rules.critical_v_per_month else DriftGrade.DRIFTING


@dataclass(frozen=True)
class SatParts:
    """The SAT split into shared and own parts; NaN off saturation days."""

    days: np.ndarray
    """datetime64[D] (n_days,), as the SAT matrix."""
    system_v: np.ndarray
    """(n_days,) median over all cells. [V]"""
    packs: np.ndarray
    """(n_packs,) pack numbers, ascending."""
    pack_part_v: np.ndarray
    """(n_packs, n_days) pack median minus the system part. [V]"""
    relative_v: np.ndarray
    """(n_cells, n_days) cell SAT minus the system part ("against its peers"). [V]"""
    own_v: np.ndarray
    """(n_cells, n_days) cell SAT minus its pack median. [V]"""


def split_sat(sat: SatMatrix) -> SatParts:
    """System, pack and cell parts of a SAT matrix (see the module docstring)."""
    if not isinstance(sat, SatMatrix):
        raise ValueError(f"sat must be a SatMatrix, got {type(sat).__name__}")
    v = sat.voltage_v
    system = nanmedian_axis0(v)
    packs = sat.pack_numbers
    pack_med = np.vstack([nanmedian_axis0(v[sat.packs == p]) for p in packs])
    row_of_pack = np.searchsorted(packs, sat.packs)
    out = SatParts(days=sat.days, system_v=system, packs=packs, pack_part_v=pack_med - system[None, :],
                   relative_v=v - system[None, :], own_v=v - pack_med[row_of_pack])
    readonly(out.system_v, out.pack_part_v, out.relative_v, out.own_v)
    return out


@dataclass(frozen=True)
class Trend:
    """One slope with its Newey-West interval."""

    slope_v_per_day: float
    ci95_low_v_per_day: float
    ci95_high_v_per_day: float
    n: int


@dataclass(frozen=True)
class PackDrift:
    pack: int
    trend: Trend
    grade: DriftGrade


@dataclass(frozen=True)
class CellDrifts:
    """Per cell (rows of the SAT matrix), against the system; arrays (n_cells,)."""

    packs: np.ndarray
    cells: np.ndarray
    labels: tuple[str, ...]
    drift_v_per_day: np.ndarray
    """Slope of SAT minus the system median (Huber, level steps at pack events). [V/day]"""
    drift_ci95_low_v_per_day: np.ndarray
    drift_ci95_high_v_per_day: np.ndarray
    """Newey-West 95 % interval of the drift. [V/day]"""
    own_drift_v_per_day: np.ndarray
    """Slope of SAT minus the pack median: what the cell does that its pack does not. [V/day]"""
    own_ci95_low_v_per_day: np.ndarray
    own_ci95_high_v_per_day: np.ndarray
    grade: tuple[DriftGrade, ...]
    """Grade of the own drift: what the cell alerts are raised on."""
    deviation_v: np.ndarray
    """Median of SAT minus the system median over the last `recent_sat_days` saturation days. [V]"""
    mechanism: tuple[Mechanism, ...]
    n: np.ndarray
    """int64, saturation days used."""
    last_day: np.datetime64
    efc_per_day: float | None
    """Measured equivalent full cycles per day; None when unknown."""

    @property
    def n_cells(self) -> int:
        return self.drift_v_per_day.shape[0]

    def drift_v_per_efc(self) -> np.ndarray:
        """Drift per equivalent full cycle; NaN without measured cycles. [V/EFC]"""
        if self.efc_per_day is None:
            return np.full(self.n_cells, np.nan)
        return self.drift_v_per_day / self.efc_per_day

    def deviation_at_efc_v(self, efc: float, days_recorded: float) -> np.ndarray:
        """Deviation after `efc` cycles from the first day at the drift rate, clipped to +-100 mV; NaN without cycles. [V]"""
        if self.efc_per_day is None:
            return np.full(self.n_cells, np.nan)
        days_ahead = float(efc) / self.efc_per_day - float(days_recorded)
        return np.clip(self.deviation_v + self.drift_v_per_day * days_ahead, -PROJECTION_CLIP_V, PROJECTION_CLIP_V)

    def limit_dates(self, limit_v: float = DEFAULT_LIMIT_V) -> tuple[list[LimitStatus], np.ndarray, np.ndarray, np.ndarray]:
        """(status, date, earliest, latest) of |deviation| reaching `limit_v` per cell (rules: module docstring).

        Dates are datetime64[D] arrays, NaT where there is no date (status ALREADY, NEVER, UNKNOWN);
        `latest` is NaT when the slow end of the interval never gets there.
        """
        if not (np.isfinite(limit_v) and limit_v > 0):
            raise ValueError(f"limit_v must be a positive number of volts, got {limit_v}")
        n = self.n_cells
        date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        early, late = date.copy(), date.copy()
        status = []
        for i in range(n):
            d, s = self.deviation_v[i], self.drift_v_per_day[i]
            lo, hi = self.drift_ci95_low_v_per_day[i], self.drift_ci95_high_v_per_day[i]
            if not (np.isfinite(d) and np.isfinite(s) and np.isfinite(lo) and np.isfinite(hi)):
                status.append(LimitStatus.UNKNOWN)
                continue
            if abs(d) >= limit_v:
                status.append(LimitStatus.ALREADY)
                continue
            if lo <= 0.0 <= hi:
                status.append(LimitStatus.NEVER)
                continue
            target = np.sign(s) * limit_v
            fast, slow = (hi, lo) if s > 0 else (lo, hi)
            days = (target - d) / s
            if days > LIMIT_HORIZON_DAYS:
                status.append(LimitStatus.NEVER)
                continue
            status.append(LimitStatus.DATE)
            date[i] = self.last_day + np.timedelta64(int(np.ceil(days)), "D")
            early[i] = self.last_day + np.timedelta64(int(np.ceil((target - d) / fast)), "D")
            t_slow = (target - d) / slow
            if t_slow <= LIMIT_HORIZON_DAYS:
                late[i] = self.last_day + np.timedelta64(int(np.ceil(t_slow)), "D")
        return status, date, early, late


@dataclass(frozen=True)
class SystemTrend:
    """The slope of the system part: shared by all cells, so operation (set-point, end current,
    temperature) rather than cell ageing; see `note`."""

    trend: Trend
    level_shift_share: float
    """Share of the system part's day-to-day variance explained by monthly means (0..1); high
    values mean level shifts, as set-point or end-current changes make. [1]"""
    note_en: str
    note_de: str


@dataclass(frozen=True)
class DriftAnalysis:
    parts: SatParts
    cells: CellDrifts
    packs: tuple[PackDrift, ...]
    system: SystemTrend
    rules: DriftRules


def _calendar(sat: SatMatrix) -> tuple[np.ndarray, np.ndarray]:
    """(column index of each SAT day on a full calendar grid, x of that grid) so HAC lags are days."""
    offsets = (sat.days - sat.days[0]).astype(np.int64)
    n = int(offsets[-1]) + 1 if offsets.size else 0
    return offsets, np.arange(n, dtype=np.float64)


def _on_grid(values: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    out = np.full(values.shape[:-1] + (n,), np.nan)
    out[..., cols] = values
    return out


def _steps_by_row(row_packs: np.ndarray, events: Sequence[PackEvent], day0: np.datetime64) -> list[np.ndarray]:
    """x of the level steps of each row: its own pack's events, and every event of a pack of at least
    `WIDE_EVENT_CELLS` cells (when that many cells leave the middle, the system median that every
    cell is measured against moves too; a one-cell pack, as in the reference files, moves only itself)."""
    own: dict[int, list[float]] = {}
    wide: list[float] = []
    for ev in events:
        if not isinstance(ev, PackEvent):
            raise ValueError(f"events must be PackEvent, got {type(ev).__name__}")
        x = float((np.datetime64(ev.day, "D") - day0).astype(np.int64))
        own.setdefault(ev.pack, []).append(x)
        if ev.n_cells >= WIDE_EVENT_CELLS:
            wide.append(x)
    return [np.unique(own.get(int(p), []) + wide) for p in row_packs]


def _recent_median(a: np.ndarray, k: int) -> np.ndarray:
    ok = np.isfinite(a)
    rank_from_end = np.cumsum(ok[:, ::-1], axis=1)[:, ::-1]
    return nanmedian_axis1(np.where(ok & (rank_from_end <= k), a, np.nan))


def _mechanism(slope: float, lo: float, hi: float) -> Mechanism:
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0.0 <= hi:
        return Mechanism.NONE
    return Mechanism.RISING if slope > 0 else Mechanism.FALLING


def _level_shift_share(x: np.ndarray, y: np.ndarray, days: np.ndarray) -> float:
    """R² of calendar-month means of a series: the share of its variance that month-long levels explain."""
    ok = np.isfinite(y)
    if ok.sum() < 3:
        return float("nan")
    months = days.astype("datetime64[M]")[ok]
    yy = y[ok]
    uniq, inv = np.unique(months, return_inverse=True)
    means = np.bincount(inv, weights=yy) / np.bincount(inv)
    ss_tot = float(((yy - yy.mean()) ** 2).sum())
    ss_res = float(((yy - means[inv]) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def _system_note(share: float, trend: Trend) -> tuple[str, str]:
    def mv(x: float) -> str:
        return f"{x * 1e3 * DAYS_PER_MONTH:+.2f}"

    m, lo, hi = mv(trend.slope_v_per_day), mv(trend.ci95_low_v_per_day), mv(trend.ci95_high_v_per_day)
    pct = f"{100.0 * share:.0f}" if np.isfinite(share) else "?"

    def de(s: str) -> str:
        return s.replace(".", ",")

    en = (f"All cells together move by {m} mV/month (95 % {lo}..{hi}); monthly level shifts "
          f"explain {pct} % of the day-to-day variation. A change shared by every cell comes from "
          "operation (charge set-point, end current, temperature), not from cell ageing; cell health is "
          "judged against this system part.")
    text_de = (f"Alle Zellen zusammen bewegen sich um {de(m)} mV/Monat (95 % {de(lo)}..{de(hi)}); "
               f"monatliche Niveausprünge erklären {pct} % der Tag-zu-Tag-Schwankung. Eine Änderung, die "
          "alle Zellen teilen, kommt aus dem Betrieb (Ladeschlussspannung, Ladeendstrom, Temperatur), nicht aus "
          "der Zellalterung; die Zellgesundheit wird gegen diesen Systemanteil bewertet.")
    return en, text_de


def analyze_drift(sat: SatMatrix, events: Sequence[PackEvent] = (), *, efc_per_day: float | None = None,
                  rules: DriftRules = DriftRules()) -> DriftAnalysis:
    """Decomposition, cell and pack drift, system trend of one system (see the module docstring)."""
    if not isinstance(sat, SatMatrix):
        raise ValueError(f"sat must be a SatMatrix, got {type(sat).__name__}")
    if efc_per_day is not None and not (np.isfinite(efc_per_day) and efc_per_day > 0):
        raise ValueError(f"efc_per_day must be a positive number or None, got {efc_per_day}")
    parts = split_sat(sat)
    cols, x = _calendar(sat)
    n_grid = x.size
    steps = _steps_by_row(sat.packs, events, sat.days[0])

    level = _on_grid(parts.system_v, cols, n_grid)

    def fit(rows: np.ndarray, row_steps: list[np.ndarray], with_level: bool = True) -> TrendFits:
        return fit_trends(x, _on_grid(rows, cols, n_grid), steps_x=row_steps,
                          covariate=level if with_level else None, lag_days=rules.lag_days)

    rel = fit(parts.relative_v, steps)
    own = fit(parts.own_v, steps)
    pack_fit = fit(parts.pack_part_v, _steps_by_row(parts.packs, events, sat.days[0]))
    sys_fit = fit(parts.system_v[None, :], [np.empty(0)], with_level=False)

    grades = tuple(grade_drift(s, lo, hi, rules) for s, lo, hi in zip(own.slope, own.ci95_low, own.ci95_high))
    mech = tuple(_mechanism(s, lo, hi) for s, lo, hi in zip(rel.slope, rel.ci95_low, rel.ci95_high))
    cells = CellDrifts(packs=sat.packs, cells=sat.cells, labels=sat.labels, drift_v_per_day=rel.slope,
                       drift_ci95_low_v_per_day=rel.ci95_low, drift_ci95_high_v_per_day=rel.ci95_high,
                       own_drift_v_per_day=own.slope, own_ci95_low_v_per_day=own.ci95_low,
                       own_ci95_high_v_per_day=own.ci95_high, grade=grades,
                       deviation_v=_recent_median(parts.relative_v, rules.recent_sat_days), mechanism=mech,
                       n=rel.n, last_day=sat.days[-1], efc_per_day=efc_per_day)
    readonly(cells.deviation_v)
    packs = tuple(PackDrift(pack=int(p), trend=Trend(float(pack_fit.slope[i]), float(pack_fit.ci95_low[i]),
                                                     float(pack_fit.ci95_high[i]), int(pack_fit.n[i])),
                            grade=grade_drift(pack_fit.slope[i], pack_fit.ci95_low[i], pack_fit.ci95_high[i], rules))
                  for i, p in enumerate(parts.packs))
    sys_trend = Trend(float(sys_fit.slope[0]), float(sys_fit.ci95_low[0]), float(sys_fit.ci95_high[0]),
                      int(sys_fit.n[0]))
    share = _level_shift_share(x, parts.system_v, sat.days)
    en, de = _system_note(share, sys_trend)
    return DriftAnalysis(parts=parts, cells=cells, packs=packs,
                         system=SystemTrend(trend=sys_trend, level_shift_share=share, note_en=en, note_de=de),
                         rules=rules)
