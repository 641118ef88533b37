"""Alerts on cells and packs, with a reason sentence in English and German.

Rules (thresholds in `AlertRules`; "recent" = the last 30 saturation days):

- DRIFT_OUTLIER (cell): the cell drifts away from its pack: the slope of SAT minus the pack
  median (Huber line, Newey-West 95 % interval, see `core.cells.drift`) excludes 0 and reaches
  0.5 mV/month: WARNING, CRITICAL from 2 mV/month (`DriftRules`). The reason states the drift
  against the system's peers, its interval and the mechanism hint.
- PACK_DRIFT (pack): the pack part (pack median minus system median) drifts by the same rule.
- LOW_SAT / HIGH_SAT (cell): the recent median deviation from the peer median is <= -20 mV /
  >= +20 mV: WARNING, CRITICAL beyond 40 mV. (Cells in a series string end a charge together,
  so a cell sitting 20 mV off its pack holds a different SOC or capacity.)
- HIGH_SPREAD (pack): the recent median of the daily max-min SAT spread in the pack >= 50 mV:
  WARNING, CRITICAL from 100 mV.
- PACK_EVENT (pack): a detected pack step: WARNING, CRITICAL from |step| >= 20 mV.

INFO is part of the scale for callers; these rules raise WARNING and CRITICAL only.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.cells._robust import nanmedian_1d
from core.cells.anomalies import CellDeviations
from core.cells.drift import DriftAnalysis, DriftGrade, Mechanism
from core.cells.events import PackEvent
from core.cells.labels import Language
from core.cells.trends import DAYS_PER_MONTH, PackTrends


class AlertKind(str, enum.Enum):
    DRIFT_OUTLIER = "drift_outlier"
    PACK_DRIFT = "pack_drift"
    LOW_SAT = "low_sat"
    HIGH_SAT = "high_sat"
    HIGH_SPREAD = "high_spread"
    PACK_EVENT = "pack_event"


class Severity(str, enum.Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ("info", "warning", "critical").index(self.value)


@dataclass(frozen=True)
class Alert:
    pack: int
    cell: int | None
    """1-based cell within the pack; None for a pack-level alert."""
    kind: AlertKind
    severity: Severity
    reason_en: str
    reason_de: str
    first_day: np.datetime64 | None = None
    """First local day of the data that raised the alert (the fitted days, the recent window, the
    days around a step): where a link to the cell's series should open."""
    last_day: np.datetime64 | None = None
    """Last local day of that data."""

    @property
    def label(self) -> str:
        return f"P{self.pack}" if self.cell is None else f"P{self.pack}C{self.cell}"

    def reason(self, language: Language = Language.EN) -> str:
        return self.reason_en if Language(language) is Language.EN else self.reason_de


@dataclass(frozen=True)
class AlertRules:
    sat_deviation_warning_mv: float = 20.0
    sat_deviation_critical_mv: float = 40.0
    spread_warning_mv: float = 50.0
    spread_critical_mv: float = 100.0
    event_critical_step_mv: float = 20.0
    recent_sat_days: int = 30

    def __post_init__(self) -> None:
        pairs = (("sat_deviation", self.sat_deviation_warning_mv, self.sat_deviation_critical_mv),
                 ("spread", self.spread_warning_mv, self.spread_critical_mv))
        for name, warn, crit in pairs:
            if not 0 < warn <= crit:
                raise ValueError(f"{name}: need 0 < warning <= critical, got {warn} and {crit}")
        if self.recent_sat_days < 1:
            raise ValueError(f"recent_sat_days must be >= 1, got {self.recent_sat_days}")


def _num(x: float, digits: int, language: Language, sign: bool = False) -> str:
    s = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    return s.replace(".", ",") if language is Language.DE else s


_MECHANISM_TEXT = {
    Mechanism.RISING: ("rising: capacity fade or resistance growth seen at top of charge",
                       "steigend: Kapazitätsverlust oder Widerstandsanstieg am Ladeende"),
    Mechanism.FALLING: ("falling: self-discharge, micro-short or SOC lag",
                        "fallend: Selbstentladung, Mikrokurzschluss oder SOC-Rückstand"),
    Mechanism.NONE: ("no significant drift", "keine signifikante Drift"),
}


def mechanism_text(m: Mechanism, language: Language = Language.EN) -> str:
    """The mechanism hint in a language."""
    return _MECHANISM_TEXT[Mechanism(m)][0 if Language(language) is Language.EN else 1]


def _mv_month(v_per_day: float, language: Language) -> str:
    return _num(v_per_day * 1e3 * DAYS_PER_MONTH, 2, language, True)


def _severity(grade: DriftGrade) -> Severity | None:
    return {DriftGrade.DRIFTING: Severity.WARNING, DriftGrade.FAST: Severity.CRITICAL}.get(grade)


def _drift_alerts(drift: DriftAnalysis) -> list[Alert]:
    out = []
    c = drift.cells
    en, de = Language.EN, Language.DE
    for i, grade in enumerate(c.grade):
        sev = _severity(grade)
        if sev is None:
            continue
        own, lo, hi = c.own_drift_v_per_day[i], c.own_ci95_low_v_per_day[i], c.own_ci95_high_v_per_day[i]
        d, dl, dh = c.drift_v_per_day[i], c.drift_ci95_low_v_per_day[i], c.drift_ci95_high_v_per_day[i]
        m = c.mechanism[i] if c.mechanism[i] is not Mechanism.NONE else (
            Mechanism.RISING if own > 0 else Mechanism.FALLING)
        out.append(Alert(int(c.packs[i]), int(c.cells[i]), AlertKind.DRIFT_OUTLIER, sev,
                         f"{c.labels[i]} drifts from its pack at {_mv_month(own, en)} mV/month (95 % "
                         f"{_mv_month(lo, en)}..{_mv_month(hi, en)}); against the system's peers "
                         f"{_mv_month(d, en)} mV/month ({_mv_month(dl, en)}..{_mv_month(dh, en)}). "
                         f"{mechanism_text(m, en).capitalize()}.",
                         f"{c.labels[i]} driftet gegenüber seinem Pack mit {_mv_month(own, de)} mV/Monat (95 % "
                         f"{_mv_month(lo, de)}..{_mv_month(hi, de)}); gegenüber dem System "
                         f"{_mv_month(d, de)} mV/Monat ({_mv_month(dl, de)}..{_mv_month(dh, de)}). "
                         f"{mechanism_text(m, de).capitalize()}."))
    for p in drift.packs:
        sev = _severity(p.grade)
        if sev is None:
            continue
        t = p.trend
        out.append(Alert(p.pack, None, AlertKind.PACK_DRIFT, sev,
                         f"Pack {p.pack} drifts against the rest of the system at "
                         f"{_mv_month(t.slope_v_per_day, en)} mV/month (95 % {_mv_month(t.ci95_low_v_per_day, en)}.."
                         f"{_mv_month(t.ci95_high_v_per_day, en)}).",
                         f"Pack {p.pack} driftet gegenüber dem übrigen System mit "
                         f"{_mv_month(t.slope_v_per_day, de)} mV/Monat (95 % {_mv_month(t.ci95_low_v_per_day, de)}.."
                         f"{_mv_month(t.ci95_high_v_per_day, de)})."))
    return out


def _deviation_alerts(labels, packs, cells, dev: CellDeviations, rules) -> list[Alert]:
    out = []
    recent = dev.recent_deviation_mv
    n = rules.recent_sat_days
    for i in np.flatnonzero(np.abs(np.nan_to_num(recent)) >= rules.sat_deviation_warning_mv):
        d = float(recent[i])
        sev = Severity.CRITICAL if abs(d) >= rules.sat_deviation_critical_mv else Severity.WARNING
        kind = AlertKind.HIGH_SAT if d > 0 else AlertKind.LOW_SAT
        en_word, de_word = ("above", "über") if d > 0 else ("below", "unter")
        out.append(Alert(int(packs[i]), int(cells[i]), kind, sev,
                         f"{labels[i]} ends its charges {_num(abs(d), 1, Language.EN)} mV {en_word} its peers' median "
                         f"(median of the last {n} saturation days).",
                         f"{labels[i]} beendet die Ladung {_num(abs(d), 1, Language.DE)} mV {de_word} dem Median der Vergleichszellen "
                         f"(Median der letzten {n} Sättigungstage)."))
    return out


def _spread_alerts(trends: PackTrends, rules) -> list[Alert]:
    out = []
    n = rules.recent_sat_days
    for i, p in enumerate(trends.packs):
        s = trends.spread_v[i]
        s = s[np.isfinite(s)][-n:]
        spread_mv = nanmedian_1d(s) * 1e3
        if not spread_mv >= rules.spread_warning_mv:
            continue
        sev = Severity.CRITICAL if spread_mv >= rules.spread_critical_mv else Severity.WARNING
        out.append(Alert(int(p), None, AlertKind.HIGH_SPREAD, sev,
                         f"Pack {int(p)}: SAT spread (max - min) of {_num(spread_mv, 1, Language.EN)} mV "
                         f"(median of the last {n} saturation days).",
                         f"Pack {int(p)}: SAT-Spreizung (Max - Min) von {_num(spread_mv, 1, Language.DE)} mV "
                         f"(Median der letzten {n} Sättigungstage)."))
    return out


def _event_alerts(events: Sequence[PackEvent], rules, days: np.ndarray) -> list[Alert]:
    """One alert per event; its days are a month either side of the step (within the record)."""
    out = []
    month = np.timedelta64(30, "D")
    for ev in events:
        step_mv = ev.step_v * 1e3
        sev = Severity.CRITICAL if abs(step_mv) >= rules.event_critical_step_mv else Severity.WARNING
        day = str(np.datetime64(ev.day, "D"))
        k, n = len(ev.cells_affected), ev.n_cells
        out.append(Alert(ev.pack, None, AlertKind.PACK_EVENT, sev,
                         f"Pack {ev.pack}: SAT step of {_num(step_mv, 1, Language.EN, True)} mV against the other packs "
                         f"from {day}, shared by {k} of {n} cells.",
                         f"Pack {ev.pack}: SAT-Sprung von {_num(step_mv, 1, Language.DE, True)} mV gegenüber den anderen "
                         f"Packs ab {day}, bei {k} von {n} Zellen.",
                         first_day=max(days[0], np.datetime64(ev.day, "D") - month),
                         last_day=min(days[-1], np.datetime64(ev.day, "D") + month)))
    return out


def _span(days: np.ndarray, has: np.ndarray, last_n: int | None = None) -> tuple[np.datetime64 | None, ...]:
    idx = np.flatnonzero(has)
    if last_n is not None:
        idx = idx[-last_n:]
    return (days[idx[0]], days[idx[-1]]) if idx.size else (None, None)


def _with_days(a: Alert, drift: DriftAnalysis, dev: CellDeviations, trends: PackTrends, rules: AlertRules) -> Alert:
    """The alert with the days whose data raised it (see `Alert.first_day`)."""
    days, c = drift.parts.days, drift.cells
    row = np.flatnonzero((c.packs == a.pack) & (c.cells == (a.cell or -1)))
    prow = np.flatnonzero(drift.parts.packs == a.pack)
    if a.kind is AlertKind.DRIFT_OUTLIER and row.size:
        first, last = _span(days, np.isfinite(drift.parts.relative_v[row[0]]))
    elif a.kind is AlertKind.PACK_DRIFT and prow.size:
        first, last = _span(days, np.isfinite(drift.parts.pack_part_v[prow[0]]))
    elif a.kind in (AlertKind.LOW_SAT, AlertKind.HIGH_SAT) and row.size:
        first, last = _span(days, np.isfinite(dev.deviation_mv[row[0]]), rules.recent_sat_days)
    elif a.kind is AlertKind.HIGH_SPREAD:
        trow = np.flatnonzero(trends.packs == a.pack)
        first, last = _span(trends.days, np.isfinite(trends.spread_v[trow[0]]), rules.recent_sat_days)
    else:  # PACK_EVENT: set where it is made
        return a
    return dataclasses.replace(a, first_day=first, last_day=last)


def build_alerts(drift: DriftAnalysis, deviations: CellDeviations, trends: PackTrends,
                 events: Sequence[PackEvent] = (), *, rules: AlertRules = AlertRules()) -> tuple[Alert, ...]:
    """All alerts of one system, most severe first, then by pack and cell (rules: module docstring)."""
    if not isinstance(drift, DriftAnalysis):
        raise ValueError(f"drift must be a DriftAnalysis, got {type(drift).__name__}")
    c = drift.cells
    n = c.n_cells
    if np.shape(deviations.recent_deviation_mv) != (n,):
        raise ValueError(f"deviations must describe the {n} cells of drift, got shape "
                         f"{np.shape(deviations.recent_deviation_mv)}")
    alerts = (_drift_alerts(drift) + _deviation_alerts(c.labels, c.packs, c.cells, deviations, rules)
              + _spread_alerts(trends, rules) + _event_alerts(events, rules, drift.parts.days))
    alerts = [_with_days(a, drift, deviations, trends, rules) for a in alerts]
    return tuple(sorted(alerts, key=lambda a: (-a.severity.rank, a.pack, a.cell or 0, a.kind.value)))
