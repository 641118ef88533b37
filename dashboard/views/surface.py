"""The cell screen's 3D SAT surface: drawn on the server (turn, tilt, hover, click), or by plotly.js."""

from __future__ import annotations

from typing import Callable

import holoviews as hv
import numpy as np
import panel as pn

from core.results import Matrix
from dashboard import cell_heatmap
from dashboard.i18n import tr
from dashboard.surface_overlay import HEIGHT_PX, WIDTH_PX, surface_overlay, surface_picture, surface_rgb
from dashboard.surface_picture import Picture, View
from dashboard.surface_plot import DayBins, bin_days, bin_note, surface_figure
from dashboard.widgets import info_message


def _bins(matrix: Matrix) -> tuple[DayBins | None, int]:
    """The matrix's day bins (None when it has nothing to draw) and its number of days."""
    days = np.asarray(matrix.columns, dtype="datetime64[D]")
    if days.size == 0 or not np.isfinite(matrix.values).any():
        return None, days.size
    return bin_days(matrix.values, days), days.size


class SurfacePicture:
    """The surface of a matrix (cells x local days, NaN off SAT days) as a server-drawn picture.

    Sliders turn and tilt it (a re-render of a few tens of ms); the pointer names cell, day and
    SAT; a click calls ``on_open(cell name, 'YYYY-MM-DD')`` with the first day of the clicked bin.
    """

    def __init__(self, matrix: Matrix, bins: DayBins, n_days: int, *, lang: str, cells_per_pack: int,
                 first_row: int = 0, on_open: Callable[[str, str], None] | None = None):
        self.matrix, self.bins, self.n_days, self.lang = matrix, bins, n_days, lang
        self.cells_per_pack, self.first_row, self.on_open = cells_per_pack, first_row, on_open
        clim = cell_heatmap.robust_clim(bins.values)
        if clim is None:  # every value the same: a flat surface in the middle of a small range
            v = float(np.nanmedian(bins.values))
            clim = (v - 0.001, v + 0.001)
        self.clim = clim
        self.turn = pn.widgets.IntSlider(name=tr("surface_turn", lang), start=-180, end=180, step=5,
                                         value=int(View.azimuth_deg), width=220, css_classes=["surface-turn"])
        self.tilt = pn.widgets.IntSlider(name=tr("surface_tilt", lang), start=0, end=90, step=5,
                                         value=int(View.elevation_deg), width=220, css_classes=["surface-tilt"])
        self._shown: tuple[View, Picture] | None = None

    def picture(self, azimuth: float, elevation: float) -> Picture:
        """The picture seen from these angles (the last one is kept: both layers ask for it, a click looks it up)."""
        view = View(float(azimuth), float(elevation))
        if self._shown is None or self._shown[0] != view:
            self._shown = (view, surface_picture(self.bins, self.clim, view))
        return self._shown[1]

    def open_at(self, x: float | None = None, y: float | None = None) -> None:
        """Open the cell under plot point (x, y) (pixels, y up) of the picture on screen, if any."""
        if self.on_open is None or self._shown is None or x is None or y is None:
            return
        picture = self._shown[1]
        col, row_top = int(np.floor(x)), HEIGHT_PX - 1 - int(np.floor(y))
        if not (0 <= col < WIDTH_PX and 0 <= row_top < HEIGHT_PX) or picture.row[row_top, col] < 0:
            return
        row, column = int(picture.row[row_top, col]), int(picture.column[row_top, col])
        self.on_open(self.matrix.rows[row], str(self.bins.first_days[column].astype("datetime64[D]")))

    def plot(self) -> hv.DynamicMap:
        """The picture and its hover, axes and colour bar, redrawn when a slider is released."""
        dark = pn.config.theme == "dark"

        def image(azimuth: int, elevation: int) -> hv.RGB:
            return surface_rgb(self.picture(azimuth, elevation))

        def over(azimuth: int, elevation: int) -> hv.Overlay:
            return surface_overlay(self.picture(azimuth, elevation), self.bins, self.clim,
                                   cells_per_pack=self.cells_per_pack, first_row=self.first_row,
                                   unit=self.matrix.unit, lang=self.lang, dark=dark)

        # On release (value_throttled): a drag does not queue a render per step. Two maps: the click
        # (Tap) is taken from the picture's own map (on an overlay's map it never arrives).
        angles = dict(azimuth=self.turn.param.value_throttled, elevation=self.tilt.param.value_throttled)
        drawn = hv.DynamicMap(pn.bind(image, **angles))
        hv.streams.Tap(source=drawn, x=None, y=None).add_subscriber(self.open_at)
        return (drawn * hv.DynamicMap(pn.bind(over, **angles))).opts(
            frame_width=WIDTH_PX, frame_height=HEIGHT_PX, xaxis=None, yaxis=None, default_tools=[],
            toolbar=None, show_grid=False)

    def __panel__(self) -> pn.viewable.Viewable:
        note = pn.pane.Markdown(f"{bin_note(self.bins, self.n_days, self.lang)} "
                                f"{tr('surface_picture_note', self.lang)}",
                                css_classes=["surface-note"], sizing_mode="stretch_width")
        return pn.Column(pn.Row(self.turn, self.tilt), pn.pane.HoloViews(self.plot(), css_classes=["surface-picture"]),
                         note, sizing_mode="stretch_width")


def surface_picture_pane(matrix: Matrix, *, lang: str, cells_per_pack: int, first_row: int = 0,
                         on_open: Callable[[str, str], None] | None = None) -> pn.viewable.Viewable:
    """The server-drawn surface of ``matrix`` (SurfacePicture), or a note when there is nothing to draw.
    ``first_row`` is the system row of the matrix's first row (one pack shown: cells keep their names)."""
    bins, n_days = _bins(matrix)
    if bins is None:
        return info_message(tr("no_data", lang))
    if min(bins.values.shape) < 2:  # a surface is drawn between neighbouring days and cells
        return info_message(tr("surface_too_small", lang))
    return pn.panel(SurfacePicture(matrix, bins, n_days, lang=lang, cells_per_pack=cells_per_pack,
                                   first_row=first_row, on_open=on_open))


def surface_pane(matrix: Matrix, *, lang: str) -> pn.viewable.Viewable:
    """The surface of ``matrix`` (cells x local days, NaN off SAT days) with what one column means.

    A plain plotly.js figure (pn.pane.Plotly), not HoloViews' plotly backend: the figure is a few
    arrays, so the server builds it in milliseconds and the browser draws at most MAX_COLUMNS columns.
    """
    bins, n_days = _bins(matrix)
    if bins is None:
        return info_message(tr("no_data", lang))
    figure = surface_figure(bins, matrix.rows, unit=matrix.unit, title=tr("surface", lang), lang=lang,
                            dark=pn.config.theme == "dark")
    note = pn.pane.Markdown(bin_note(bins, n_days, lang), css_classes=["surface-note"],
                            sizing_mode="stretch_width")
    plot = pn.pane.Plotly(figure, height=600, sizing_mode="stretch_width", css_classes=["surface-plot"])
    return pn.Column(note, plot, sizing_mode="stretch_width")
