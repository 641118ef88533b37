"""The cell screen's 3D SAT surface: the SAT matrix binned to calendar-day runs, drawn by plotly.js."""

from __future__ import annotations

import numpy as np
import panel as pn

from core.results import Matrix
from dashboard.i18n import tr
from dashboard.surface_plot import bin_days, bin_note, surface_figure
from dashboard.widgets import info_message


def surface_pane(matrix: Matrix, *, lang: str) -> pn.viewable.Viewable:
    """The surface of ``matrix`` (cells x local days, NaN off SAT days) with what one column means.

    A plain plotly.js figure (pn.pane.Plotly), not HoloViews' plotly backend: the figure is a few
    arrays, so the server builds it in milliseconds and the browser draws at most MAX_COLUMNS columns.
    """
    days = np.asarray(matrix.columns, dtype="datetime64[D]")
    if days.size == 0 or not np.isfinite(matrix.values).any():
        return info_message(tr("no_data", lang))
    bins = bin_days(matrix.values, days)
    figure = surface_figure(bins, matrix.rows, unit=matrix.unit, title=tr("surface", lang), lang=lang,
                            dark=pn.config.theme == "dark")
    note = pn.pane.Markdown(bin_note(bins, days.size, lang), css_classes=["surface-note"],
                            sizing_mode="stretch_width")
    plot = pn.pane.Plotly(figure, height=600, sizing_mode="stretch_width", css_classes=["surface-plot"])
    return pn.Column(note, plot, sizing_mode="stretch_width")
