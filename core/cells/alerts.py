"""Alerts on cells and packs, with a reason sentence in English and German.

Rules (thresholds in `AlertRules`; "recent" = the last 30 saturation days):

- DRIFT_OUTLIER (cell): the cell's slope is a drift outlier among its peers (|robust z| >= 3.5
  and its 95 % CI excludes the peer median, see `anomalies.drift_scores`; |robust z| >= 5):
  WARNING, CRITICAL from |z| >= 10.
- LOW_SAT / HIGH_SAT (cell): the recent median deviation from the peer median is <= -20 mV /
  >= +20 mV: WARNING, CRITICAL beyond 40 mV. (Cells in a series string end a charge together,
  so a cell sitting 20 mV off its pack holds a different SOC or capacity.)
- HIGH_SPREAD (pack): the recent median of the daily max-min SAT spread in the pack >= 50 mV:
  WARNING, CRITICAL from 100 mV.
- PACK_EVENT (pack): a detected pack step: WARNING, CRITICAL from |step| >= 20 mV.

INFO is part of the scale for callers; these rules raise WARNING and CRITICAL only.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.cells._robust import nanmedian_1d
from core.cells.anomalies import CellDeviations, DriftScores
from core.cells.events import PackEvent
from core.cells.fits import CellFits
from core.cells.labels import Language
from core.cells.trends import DAYS_PER_MONTH, PackTrends


class AlertKind(str, enum.Enum):
    DRIFT_OUTLIER = "drift_outlier"
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

    @property
    def label(self) -> str:
        return f"P{self.pack}" if self.cell is None else f"P{self.pack}C{self.cell}"

    def reason(self, language: Language = Language.EN) -> str:
        return self.reason_en if Language(language) is Language.EN else self.reason_de


@dataclass(frozen=True)
class AlertRules:
    drift_z_critical: float = 10.0
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


def _drift_alerts(fits_labels, packs, cells, drift: DriftScores, slope, rules) -> list[Alert]:
    out = []
    for i in np.flatnonzero(drift.outlier):
        z = float(drift.robust_z[i])
        sev = Severity.CRITICAL if abs(z) >= rules.drift_z_critical else Severity.WARNING
        s_m, p_m = slope[i] * 1e3 * DAYS_PER_MONTH, drift.peer_median_slope_v_per_day[i] * 1e3 * DAYS_PER_MONTH
        en, de = Language.EN, Language.DE
        out.append(Alert(int(packs[i]), int(cells[i]), AlertKind.DRIFT_OUTLIER, sev,
                         f"{fits_labels[i]} drifts at {_num(s_m, 2, en, True)} mV/month, its peers at "
                         f"{_num(p_m, 2, en, True)} mV/month (robust z {_num(z, 1, en)}).",
                         f"{fits_labels[i]} driftet mit {_num(s_m, 2, de, True)} mV/Monat, die Vergleichszellen mit "
                         f"{_num(p_m, 2, de, True)} mV/Monat (robuster z-Wert {_num(z, 1, de)})."))
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


def _event_alerts(events: Sequence[PackEvent], rules) -> list[Alert]:
    out = []
    for ev in events:
        step_mv = ev.step_v * 1e3
        sev = Severity.CRITICAL if abs(step_mv) >= rules.event_critical_step_mv else Severity.WARNING
        day = str(np.datetime64(ev.day, "D"))
        k, n = len(ev.cells_affected), ev.n_cells
        out.append(Alert(ev.pack, None, AlertKind.PACK_EVENT, sev,
                         f"Pack {ev.pack}: SAT step of {_num(step_mv, 1, Language.EN, True)} mV against the other packs "
                         f"from {day}, shared by {k} of {n} cells.",
                         f"Pack {ev.pack}: SAT-Sprung von {_num(step_mv, 1, Language.DE, True)} mV gegenüber den anderen "
                         f"Packs ab {day}, bei {k} von {n} Zellen."))
    return out


def build_alerts(fits: CellFits, deviations: CellDeviations, drift: DriftScores, trends: PackTrends,
                 events: Sequence[PackEvent] = (), *, rules: AlertRules = AlertRules()) -> tuple[Alert, ...]:
    """All alerts of one system, most severe first, then by pack and cell (rules: module docstring)."""
    if not isinstance(fits, CellFits):
        raise ValueError(f"fits must be CellFits, got {type(fits).__name__}")
    n = fits.n_cells
    for name, a in (("deviations", deviations.recent_deviation_mv), ("drift", drift.robust_z)):
        if np.shape(a) != (n,):
            raise ValueError(f"{name} must describe the {n} cells of fits, got shape {np.shape(a)}")
    labels, packs, cells = fits.labels, fits.packs, fits.cells
    alerts = (_drift_alerts(labels, packs, cells, drift, fits.slope_v_per_day, rules)
              + _deviation_alerts(labels, packs, cells, deviations, rules)
              + _spread_alerts(trends, rules) + _event_alerts(events, rules))
    return tuple(sorted(alerts, key=lambda a: (-a.severity.rank, a.pack, a.cell or 0, a.kind.value)))
