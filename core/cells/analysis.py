"""One call for the query service: events, fits, trends, deviations, drift, rankings, alerts and health of a system."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cells.alerts import Alert, AlertRules, build_alerts
from core.cells.anomalies import CellDeviations, CellRanking, cell_deviations, rank_cells
from core.cells.drift import DriftAnalysis, DriftRules, analyze_drift
from core.cells.events import EventCriteria, PackEvent, detect_pack_events
from core.cells.fits import DEFAULT_GUARD_DAYS, CellFits, FitMethod, fit_cells
from core.cells.health import PackHealth, health_by_pack
from core.cells.sat import SatMatrix
from core.cells.trends import PackTrends, pack_trends
from core.cells.verdict import CellVerdict, cell_verdicts


@dataclass(frozen=True)
class CellAnalysis:
    sat: SatMatrix
    events: tuple[PackEvent, ...]
    ols: CellFits
    robust: CellFits
    trends: PackTrends
    deviations: CellDeviations
    drift: DriftAnalysis
    """System, pack and cell parts; drift against peers with Newey-West intervals (what alerts use)."""
    ranking: CellRanking
    alerts: tuple[Alert, ...]
    health: tuple[PackHealth, ...]
    verdicts: tuple[CellVerdict, ...]
    """Per cell (SAT matrix rows): severity and rating, in agreement with the alerts."""


def analyze_cells(sat: SatMatrix, *, efc_per_day: float | None = None,
                  event_criteria: EventCriteria = EventCriteria(), guard_days: int = DEFAULT_GUARD_DAYS,
                  rules: AlertRules = AlertRules(), drift_rules: DriftRules = DriftRules()) -> CellAnalysis:
    """Everything the cell view shows for one system, fits made around detected pack events."""
    events = detect_pack_events(sat, criteria=event_criteria)
    ols = fit_cells(sat, FitMethod.OLS, events=events, guard_days=guard_days, efc_per_day=efc_per_day)
    robust = fit_cells(sat, FitMethod.ROBUST, events=events, guard_days=guard_days, efc_per_day=efc_per_day)
    trends = pack_trends(sat, events=events, guard_days=guard_days)
    deviations = cell_deviations(sat, recent_sat_days=rules.recent_sat_days)
    drift = analyze_drift(sat, events, efc_per_day=efc_per_day, rules=drift_rules)
    alerts = build_alerts(drift, deviations, trends, events, rules=rules)
    return CellAnalysis(sat=sat, events=events, ols=ols, robust=robust, trends=trends, deviations=deviations,
                        drift=drift, ranking=rank_cells(robust, deviations), alerts=alerts,
                        health=health_by_pack(sat.packs, sat.cells, alerts, events),
                        verdicts=cell_verdicts(sat.packs, sat.cells, alerts, np.isfinite(drift.cells.drift_v_per_day)))
