"""Cell analytics of a BESS: SAT extraction, per-cell fits, pack events, trends, anomalies, alerts, health."""

from core.cells.alerts import Alert, AlertKind, AlertRules, Severity, build_alerts
from core.cells.analysis import CellAnalysis, analyze_cells
from core.cells.anomalies import (CellDeviations, CellRanking, DriftScores, RankedCell, cell_deviations,
                                  drift_scores, rank_cells)
from core.cells.daily_max import DailyMax, daily_max_from_long, daily_max_matrix, daily_max_matrix_reference
from core.cells.events import EventCriteria, PackEvent, detect_pack_events
from core.cells.fits import CellFit, CellFits, FitMethod, fit_cells
from core.cells.health import PackHealth, health_by_pack
from core.cells.labels import (CycleLoss, Language, Linearity, LossRate, cycle_loss_label, grade_cycle_loss,
                               grade_linearity, grade_loss_rate, linearity_label, loss_rate_label)
from core.cells.noise import SatNoise, measure_sat_noise
from core.cells.sat import SatMatrix, extract_sat
from core.cells.trends import PackTrends, pack_trends

__all__ = [
    "Alert", "AlertKind", "AlertRules", "CellAnalysis", "CellDeviations", "CellFit", "CellFits", "CellRanking",
    "CycleLoss", "DailyMax", "DriftScores", "EventCriteria", "FitMethod", "Language", "Linearity", "LossRate",
    "PackEvent", "PackHealth", "PackTrends", "RankedCell", "SatMatrix", "SatNoise", "Severity", "analyze_cells",
    "build_alerts", "cell_deviations", "cycle_loss_label", "daily_max_from_long", "daily_max_matrix",
    "daily_max_matrix_reference", "detect_pack_events", "drift_scores", "extract_sat", "fit_cells",
    "grade_cycle_loss", "grade_linearity", "grade_loss_rate", "health_by_pack", "linearity_label",
    "loss_rate_label", "measure_sat_noise", "pack_trends", "rank_cells",
]
