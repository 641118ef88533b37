"""Small pure helpers that reshape core results for display (no queries, no plotting)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.results import Matrix
from dashboard.i18n import tr_enum


def sat_to_matrix(sat) -> Matrix:
    """A core SatMatrix (cells x local days) as a labelled Matrix with date columns."""
    return Matrix(rows=tuple(sat.labels), columns=tuple(str(d) for d in sat.days),
                  values=np.asarray(sat.voltage_v, dtype=float), unit="V")


def degradation_frame(fits, lang: str) -> pd.DataFrame:
    """The per-cell degradation table: slope, R², losses, projections and quality labels."""
    from core.cells.labels import Language, cycle_loss_labels, linearity_labels, loss_rate_labels

    language = Language.DE if lang == "de" else Language.EN
    return pd.DataFrame({
        "cell": list(fits.labels),
        "pack": fits.packs,
        "slope_mv_per_day": fits.slope_v_per_day * 1000.0,
        "r2": fits.r2,
        "loss_pct_per_year": fits.loss_pct_per_year,
        "loss_pct_per_efc": fits.loss_pct_per_efc,
        "sat_v_at_5000_efc": fits.sat_v_at_5000_efc,
        "loss_pct_at_5000_efc": fits.loss_pct_at_5000_efc,
        "sat_v_at_10000_efc": fits.sat_v_at_10000_efc,
        "loss_pct_at_10000_efc": fits.loss_pct_at_10000_efc,
        "n_days": fits.n,
        "linearity": linearity_labels(fits.r2, language),
        "loss_rate": loss_rate_labels(fits.loss_pct_per_year, language),
        "cycle_loss": cycle_loss_labels(fits.loss_pct_per_efc, language),
    }).round(5)


def alerts_frame(alerts, lang: str) -> pd.DataFrame:
    """Alerts, most severe first, with the reason in the page's language."""
    rows = [{"where": a.label, "severity": tr_enum("severity", a.severity.value, lang),
             "kind": tr_enum("kind", getattr(a.kind, "value", str(a.kind)), lang),
             "reason": a.reason_de if lang == "de" else a.reason_en, "_rank": a.severity.rank} for a in alerts]
    frame = pd.DataFrame(rows, columns=["where", "severity", "kind", "reason", "_rank"])
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
