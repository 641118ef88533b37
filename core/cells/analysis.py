"""One call for the query service: events, fits, trends, deviations, drift, rankings, alerts and health of a system."""

from __future__ import annotations

from dataclasses import dataclass

from core.cells.alerts import Alert, AlertRules, build_alerts
from core.cells.anomalies import CellDeviations, CellRanking, DriftScores, cell_deviations, drift_scores, rank_cells
from core.cells.events import EventCriteria, PackEvent, detect_pack_events
from core.cells.fits import DEFAULT_GUARD_DAYS, CellFits, FitMethod, fit_cells
from core.cells.health import PackHealth, health_by_pack
from core.cells.sat import SatMatrix
from core.cells.trends import PackTrends, pack_trends


@dataclass(frozen=True)
class CellAnalysis:
    sat: SatMatrix
    events: tuple[PackEvent, ...]
    ols: CellFits
    robust: CellFits
    trends: PackTrends
    deviations: CellDeviations
    drift: DriftScores
    """Drift outliers are judged on the robust fits (outlier days do not move them)."""
    ranking: CellRanking
    alerts: tuple[Alert, ...]
    health: tuple[PackHealth, ...]


def analyze_cells(sat: SatMatrix, *, efc_per_day: float | None = None,
                  event_criteria: EventCriteria = EventCriteria(), guard_days: int = DEFAULT_GUARD_DAYS,
                  rules: AlertRules = AlertRules()) -> CellAnalysis:
    """Everything the cell view shows for one system, fits made around detected pack events."""
    events = detect_pack_events(sat, criteria=event_criteria)
    ols = fit_cells(sat, FitMethod.OLS, events=events, guard_days=guard_days, efc_per_day=efc_per_day)
    robust = fit_cells(sat, FitMethod.ROBUST, events=events, guard_days=guard_days, efc_per_day=efc_per_day)
    trends = pack_trends(sat, events=events, guard_days=guard_days)
    deviations = cell_deviations(sat, recent_sat_days=rules.recent_sat_days)
    drift = drift_scores(robust)
    alerts = build_alerts(robust, deviations, drift, trends, events, rules=rules)
    return CellAnalysis(sat=sat, events=events, ols=ols, robust=robust, trends=trends, deviations=deviations,
                        drift=drift, ranking=rank_cells(robust, deviations), alerts=alerts,
                        health=health_by_pack(sat.packs, sat.cells, alerts, events))
