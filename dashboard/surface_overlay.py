"""The server-drawn 3D SAT surface as a HoloViews overlay: the picture, a hover layer, axes and a colour bar."""

from __future__ import annotations

import numpy as np
import holoviews as hv

from dashboard import cell_heatmap
from dashboard.i18n import tr
from dashboard.numbers import format_number
from dashboard.surface_picture import BOX_X, BOX_Y, BOX_Z, Picture, View, render
from dashboard.surface_plot import DayBins

WIDTH_PX, HEIGHT_PX = 900, 540  # drawn 1:1 on screen (frame_width/height): no rescaling blur
HOVER_STEP_PX = 2  # the hover layer has one value per 2 x 2 pixels: a quarter of the bytes, same names
DAY_TICKS = 5


def viridis_rgb() -> np.ndarray:
    """Bokeh's Viridis256 as uint8 (256, 3): the heatmap's colour map."""
    from bokeh.palettes import Viridis256

    return np.array([_rgb(h) for h in Viridis256], dtype=np.uint8)


def _rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' as three 0-255 integers."""
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def surface_picture(bins: DayBins, clim: tuple[float, float], view: View) -> Picture:
    """The bins' surface seen from ``view``, outliers beyond ``clim`` in the heatmap's outlier colours."""
    return render(bins.values, clim, viridis_rgb(), width=WIDTH_PX, height=HEIGHT_PX, view=view,
                  below=_rgb(cell_heatmap.BELOW_COLOR), above=_rgb(cell_heatmap.ABOVE_COLOR))


def _plot_xy(picture: Picture, x, y, z) -> tuple[np.ndarray, np.ndarray]:
    """Plot coordinates (pixels, y up, pixel centres at .5) of world points."""
    px, py = picture.project(x, y, z)
    return px + 0.5, (HEIGHT_PX - 1 - py) + 0.5


def surface_rgb(picture: Picture) -> hv.RGB:
    """The picture itself, one data unit per screen pixel."""
    return hv.RGB(picture.rgba, bounds=(0, 0, WIDTH_PX, HEIGHT_PX), kdims=["px", "py"]).opts(
        frame_width=WIDTH_PX, frame_height=HEIGHT_PX, xaxis=None, yaxis=None, tools=["tap"], default_tools=[],
        toolbar=None, show_grid=False)


def surface_overlay(picture: Picture, bins: DayBins, clim: tuple[float, float], *, cells_per_pack: int,
                    unit: str, lang: str, first_row: int = 0, dark: bool = False) -> hv.Overlay:
    """What goes over the picture: its hover layer (cell, day, SAT) with the colour bar, and base-edge
    axes with labels. ``first_row``: the system row of the bins' first row (cells keep their names)."""
    return _hover_layer(picture, bins, clim, cells_per_pack=cells_per_pack, first_row=first_row, unit=unit,
                        lang=lang) * \
        _axes(picture, bins, clim, cells_per_pack=cells_per_pack, first_row=first_row, unit=unit, lang=lang,
              dark=dark)


def _hover_layer(picture: Picture, bins: DayBins, clim, *, cells_per_pack: int, first_row: int, unit: str,
                 lang: str) -> hv.Image:
    """An invisible image over the picture whose hover names the cell, the bin's day and the SAT.

    It also carries the colour bar (same colour map and range as the picture)."""
    from bokeh.models import CustomJSHover

    s = HOVER_STEP_PX
    value = picture.value[::s, ::s][::-1].astype(np.float32)  # rows bottom-up: the image's y runs up
    row = picture.row[::s, ::s][::-1]
    col = picture.column[::s, ::s][::-1]
    drawn = row >= 0
    first_day = bins.first_days.astype("datetime64[D]").astype(np.int64)
    day = np.where(drawn, first_day[np.clip(col, 0, None)], np.nan).astype(np.float32)  # days since 1970
    cell = np.where(drawn, row + first_row, np.nan).astype(np.float32)  # system row: the name's arithmetic
    xs = np.arange(value.shape[1]) * s + s / 2
    ys = HEIGHT_PX - (np.arange(value.shape[0])[::-1] * s + s / 2)
    sat = hv.Dimension("sat", label=tr("sat", lang), unit=unit or None)
    bar_title = f"{sat.label} [{unit}]" if unit else sat.label
    image = hv.Image((xs, ys, value, cell, day), kdims=["px", "py"], vdims=[sat, "cell", "day"])
    day_js = "const d = new Date(Math.round(value) * 86400000); return d.toISOString().slice(0, 10);"
    when = tr("day", lang) if bins.days_per_bin == 1 else tr("surface_bin_from", lang, k=bins.days_per_bin)
    tooltips = [(tr("cell", lang), "@{cell}{name}"), (when, "@{day}{date}"),
                (f"{sat.label}", "@image{num}" + (f" {unit}" if unit else ""))]
    formatters = {"@{cell}": CustomJSHover(code=cell_heatmap.cell_name_js(cells_per_pack, "value")),
                  "@{day}": CustomJSHover(code=day_js),
                  "@image": CustomJSHover(code=cell_heatmap.number_js(4, lang))}
    return image.opts(cmap="viridis", clim=clim, alpha=0.0, colorbar=True, tools=["hover"],
                      hover_tooltips=tooltips, hover_formatters=formatters,
                      clipping_colors={"NaN": "transparent", "min": cell_heatmap.BELOW_COLOR,
                                       "max": cell_heatmap.ABOVE_COLOR},
                      hooks=[lambda plot, _element: cell_heatmap.colorbar_in_language(plot, bar_title, lang)])


def _axes(picture: Picture, bins: DayBins, clim, *, cells_per_pack: int, first_row: int, unit: str, lang: str,
          dark: bool) -> hv.Overlay:
    """The base edges nearest the viewer with day and pack labels, and a SAT scale on the base
    corner furthest left on screen."""
    colour = "#dddddd" if dark else "#444444"
    hx, hy, hz = BOX_X / 2, BOX_Y / 2, BOX_Z / 2
    n_cols, n_rows = bins.values.shape[1], bins.values.shape[0]
    # the front edges: of the two base edges along each axis, the one nearer the viewer
    depth = lambda x, y, z: picture.project.depth(x, y, z)  # noqa: E731
    y_front = -hy if depth(0, -hy, -hz) < depth(0, hy, -hz) else hy
    x_front = -hx if depth(-hx, 0, -hz) < depth(hx, 0, -hz) else hx
    # the SAT scale on the base corner furthest left on screen, beside the surface rather than over it
    corners = [(cx, cy) for cx in (-hx, hx) for cy in (-hy, hy)]
    x_back, y_back = min(corners, key=lambda c: float(picture.project(c[0], c[1], -hz)[0]))
    segments, labels = [], []

    def edge(p, q):
        (x0, x1), (y0, y1) = _plot_xy(picture, *zip(p, q))
        segments.append((x0, y0, x1, y1))

    def label(x, y, z, text, away=(0.0, 0.0, 0.0), left_px=0.0):
        # pushed outwards from the box's centre line so the text clears the edge
        (px,), (py,) = _plot_xy(picture, [x + away[0]], [y + away[1]], [z + away[2]])
        labels.append((px - left_px, py, text))

    edge((-hx, y_front, -hz), (hx, y_front, -hz))
    edge((x_front, -hy, -hz), (x_front, hy, -hz))
    edge((x_back, y_back, -hz), (x_back, y_back, hz))
    push = 0.09
    date_fmt = "%d.%m.%Y" if lang == "de" else "%Y-%m-%d"
    for c in np.unique(np.linspace(0, n_cols - 1, min(DAY_TICKS, n_cols)).round().astype(int)):
        x = (c / max(n_cols - 1, 1) - 0.5) * BOX_X
        day = bins.first_days[c].astype("datetime64[D]").item()
        label(x, y_front, -hz, day.strftime(date_fmt), away=(0, np.sign(y_front) * push, 0))
    cpp = max(int(cells_per_pack), 1)
    # a label at each pack's first row (one pack shown: its first row and a few of its cells)
    step = cpp if n_rows > cpp else max(1, cpp // 4)
    for r in range(0, n_rows, step):
        y = (r / max(n_rows - 1, 1) - 0.5) * BOX_Y
        system_row = r + first_row
        name = f"P{system_row // cpp + 1}" + (f"C{system_row % cpp + 1}" if step < cpp else "")
        label(x_front, y, -hz, name, away=(np.sign(x_front) * push, 0, 0))
    for frac in (0.0, 0.5, 1.0):
        v = clim[0] + frac * (clim[1] - clim[0])
        label(x_back, y_back, -hz + frac * BOX_Z, format_number(v, lang, decimals=3), left_px=30)
    label(0, y_front, -hz, tr("day_local", lang), away=(0, np.sign(y_front) * push * 3.2, 0))
    label(x_front, 0, -hz, tr("cell", lang), away=(np.sign(x_front) * push * 3.2, 0, 0))
    label(x_back, y_back, hz, f"{tr('sat', lang)} [{unit}]" if unit else tr("sat", lang),
          away=(0, 0, push))
    lines = hv.Segments(segments, kdims=["px", "py", "px1", "py1"]).opts(color=colour, line_width=1)
    text = hv.Labels(labels, kdims=["px", "py"], vdims=["text"]).opts(text_color=colour, text_font_size="9pt")
    return lines * text
