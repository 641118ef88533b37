"""Tables as the page shows them: translated headers, locale number formats, translated pagination."""

from __future__ import annotations

import pandas as pd
import panel as pn

from dashboard.i18n import tabulator_locale, tr
from dashboard.numbers import tabulator_number

# Decimals shown per numeric column of the dashboard's tables (dashboard.derive); the CSV keeps
# full precision and the machine-readable column names.
DECIMALS: dict[str, int] = {
    "slope_mv_per_day": 4, "r2": 3, "loss_pct_per_year": 2, "loss_pct_per_efc": 5,
    "sat_v_at_5000_efc": 3, "loss_pct_at_5000_efc": 2, "sat_v_at_10000_efc": 3, "loss_pct_at_10000_efc": 2,
    "n_days": 0, "healthy": 0, "watched": 0, "critical": 0, "n_cells": 0, "step_mv": 1, "cells_affected": 0,
    "rate_mv_per_month": 2, "ci95_low_mv_per_month": 2, "ci95_high_mv_per_month": 2,
    "drift_mv_per_month": 2, "deviation_mv": 1,
}


def column_title(column: str, lang: str) -> str:
    """The header of a table column (its machine name is kept for the CSV)."""
    return tr(f"col_{column}", lang)


def data_table(frame: pd.DataFrame, lang: str, *, css: str, page_size: int | None = 15) -> pn.widgets.Tabulator:
    """A read-only table of a derive.*_frame in the page's language."""
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and c in DECIMALS]
    return pn.widgets.Tabulator(
        frame, disabled=True, show_index=False, pagination="local" if page_size else None,
        page_size=page_size, sizing_mode="stretch_width", css_classes=[css], layout="fit_data_stretch",
        titles={c: column_title(c, lang) for c in frame.columns},
        formatters={**{c: tabulator_number(lang, DECIMALS[c]) for c in numeric},
                    # a link column ("open") holds same-page URLs: Tabulator's link formatter, no script
                    **({"open": {"type": "link", "label": tr("open", lang), "target": "_self"}}
                       if "open" in frame.columns else {})},
        configuration=tabulator_locale(lang))
