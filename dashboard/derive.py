"""Small pure helpers that reshape core results for display (no queries, no plotting)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.results import Matrix
from dashboard.i18n import tr, tr_enum


def sat_to_matrix(sat) -> Matrix:
    """A core SatMatrix (cells x local days) as a labelled Matrix with date columns."""
    return Matrix(rows=tuple(sat.labels), columns=tuple(str(d) for d in sat.days),
                  values=np.asarray(sat.voltage_v, dtype=float), unit="V")


def degradation_frame(fits, verdicts, lang: str) -> pd.DataFrame:
    """The raw per-cell fits (OLS or Theil-Sen of the SAT itself), rated by the cell's verdict.

    No projections and no R²/loss grades: on daily SAT R² measures signal-to-noise and a raw loss
    is dominated by what every cell shares; the drift table says what a cell does (drift_frame).
    """
    from core.cells.labels import Language
    from core.cells.verdict import rating_text

    language = Language.DE if lang == "de" else Language.EN
    return pd.DataFrame({
        "cell": list(fits.labels),
        "rating": [rating_text(v.rating, language) for v in verdicts],
        "slope_mv_per_day": fits.slope_v_per_day * 1000.0,
        "r2": fits.r2,
        "loss_pct_per_year": fits.loss_pct_per_year,
        "loss_pct_per_efc": fits.loss_pct_per_efc,
        "n_days": fits.n,
    }).round(5)


def drift_frame(analysis, lang: str, limit_v: float = 0.040) -> pd.DataFrame:
    """Every cell against its peers, key columns only (fits the page): rating, drift [mV/month] with its
    95 % interval, today's deviation [mV], mechanism and the date its deviation reaches the limit."""
    from core.cells.alerts import mechanism_text
    from core.cells.drift import DAYS_PER_MONTH, LimitStatus
    from core.cells.labels import Language
    from core.cells.verdict import rating_text

    language = Language.DE if lang == "de" else Language.EN
    c = analysis.drift.cells
    status, date, _, _ = c.limit_dates(limit_v)
    words = {LimitStatus.ALREADY: tr("limit_already", lang), LimitStatus.NEVER: tr("limit_never", lang),
             LimitStatus.UNKNOWN: "–"}
    per_month = 1000.0 * DAYS_PER_MONTH
    frame = pd.DataFrame({
        "cell": list(c.labels),
        "rating": [rating_text(v.rating, language) for v in analysis.verdicts],
        "drift_mv_per_month": c.drift_v_per_day * per_month,
        "ci95_low_mv_per_month": c.drift_ci95_low_v_per_day * per_month,
        "ci95_high_mv_per_month": c.drift_ci95_high_v_per_day * per_month,
        "deviation_mv": c.deviation_v * 1000.0,
        "mechanism": [mechanism_text(m, language).split(":")[0] for m in c.mechanism],
        "limit_date": [str(date[i]) if s is LimitStatus.DATE else words[s] for i, s in enumerate(status)],
        "_rank": [-(v.severity.rank if v.severity else -1) for v in analysis.verdicts],
    })
    # the cells that need attention first, then by pack and cell
    return frame.sort_values("_rank", kind="stable").drop(columns="_rank").round(3)


def alert_link(system: str, alert, lang: str) -> str:
    """A link that opens the alert's cell (or pack) in the cell view, over a range that holds the
    days that raised it (the shortest preset that reaches back to its first day)."""
    from urllib.parse import urlencode

    query = {"view": "cells", "system": system, "pack": alert.pack, "lang": lang}
    if alert.cell is not None:
        query["cell"] = alert.cell
        query["sel"] = alert.label  # opens the cell's detail (dashboard.views.cell_detail)
    first, last = getattr(alert, "first_day", None), getattr(alert, "last_day", None)
    span = int((last - first).astype("timedelta64[D]").astype(int)) if first is not None and last is not None else None
    query["range"] = "all" if span is None or span > 30 else ("1m" if span > 7 else "7d")
    return "?" + urlencode(query)


def alerts_frame(alerts, lang: str, system: str = "") -> pd.DataFrame:
    """Alerts, most severe first, with the reason in the page's language and a link to the cell."""
    rows = [{"where": a.label, "severity": tr_enum("severity", a.severity.value, lang),
             "kind": tr_enum("kind", getattr(a.kind, "value", str(a.kind)), lang),
             "reason": a.reason_de if lang == "de" else a.reason_en,
             "days": (f"{a.first_day} – {a.last_day}" if getattr(a, "first_day", None) is not None else "–"),
             "open": alert_link(system, a, lang), "_rank": a.severity.rank} for a in alerts]
    frame = pd.DataFrame(rows, columns=["where", "severity", "kind", "reason", "days", "open", "_rank"])
    return frame.sort_values("_rank", ascending=False, kind="stable").drop(columns="_rank")


def health_frame(health) -> pd.DataFrame:
    return pd.DataFrame([{"pack": f"P{h.pack}", "healthy": h.healthy, "watched": h.watched,
                          "critical": h.critical, "n_cells": h.n_cells} for h in health])


def events_frame(events) -> pd.DataFrame:
    return pd.DataFrame([{"pack": f"P{e.pack}", "day": str(e.day), "step_mv": 1000.0 * e.step_v,
                          "cells_affected": len(e.cells_affected), "n_cells": e.n_cells} for e in events],
                        columns=["pack", "day", "step_mv", "cells_affected", "n_cells"])


def trends_frame(trends) -> pd.DataFrame:
    """Pack SAT rates per month (with their 95 % interval) as a table."""
    return pd.DataFrame({
        "pack": [f"P{p}" for p in trends.packs],
        "rate_mv_per_month": 1000.0 * trends.rate_v_per_month,
        "ci95_low_mv_per_month": 1000.0 * trends.rate_ci95_low_v_per_month,
        "ci95_high_mv_per_month": 1000.0 * trends.rate_ci95_high_v_per_month,
        "r2": trends.r2,
        "n_days": trends.n,
    }).round(4)
