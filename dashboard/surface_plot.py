"""The 3D SAT surface as a plain plotly.js figure: cells x calendar-day bins (median SAT per bin)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from dashboard.i18n import tr

# A WebGL surface of 260 cells x 640 days is 166k vertices: drawn in software GL (headless, no GPU)
# it takes seconds and cannot be read point by point anyway. 150 columns keep a year's seasons visible.
MAX_COLUMNS = 150
VIRIDIS = "Viridis"  # the colour meaning of the heatmap's SAT view: low SAT dark blue, high yellow


@dataclass(frozen=True)
class DayBins:
    """A cells x days matrix reduced to runs of whole calendar days (each bin the median of its days)."""

    first_days: np.ndarray
    """datetime64[D] (n_bins,): the first calendar day of each bin."""
    days_per_bin: int
    """Calendar days each bin spans (the last bin may run past the last day of data)."""
    values: np.ndarray
    """float64 (n_rows, n_bins): per row the median over the bin's days, NaN days left out;
    NaN where the row has no finite value in the bin."""
    columns_per_bin: np.ndarray
    """int64 (n_bins,): how many input columns (days with a column in the matrix) fell into the bin."""


def bin_days(values: np.ndarray, days: np.ndarray, max_columns: int = MAX_COLUMNS) -> DayBins:
    """Median of ``values`` (rows x days) over consecutive runs of ``k`` calendar days, k the smallest
    whole number of days that gives at most ``max_columns`` bins over the span first..last day.

    Bins are laid on the calendar, not on the column count, so a gap in ``days`` stays a gap (an
    all-NaN bin) instead of pulling later days earlier. ``k`` is 1 when the span already fits.
    """
    values = np.asarray(values, dtype=float)
    days = np.asarray(days, dtype="datetime64[D]")
    if isinstance(max_columns, bool) or not isinstance(max_columns, (int, np.integer)) or max_columns < 1:
        raise ValueError(f"max_columns must be a whole number >= 1, got {max_columns!r}")
    if values.ndim != 2 or days.ndim != 1 or values.shape[1] != days.size:
        raise ValueError(f"values must be rows x days with one column per day: values {values.shape}, "
                         f"days {days.shape}")
    if days.size and np.isnat(days).any():
        raise ValueError("days contain NaT")
    if days.size > 1 and not np.all(np.diff(days) > np.timedelta64(0, "D")):
        raise ValueError("days must be strictly increasing")
    if days.size == 0:
        return DayBins(first_days=days, days_per_bin=1, values=values[:, :0].copy(),
                       columns_per_bin=np.zeros(0, dtype=np.int64))
    offset = (days - days[0]).astype(np.int64)
    span_days = int(offset[-1]) + 1
    k = max(1, math.ceil(span_days / max_columns))
    n_bins = math.ceil(span_days / k)
    which = offset // k
    out = np.full((values.shape[0], n_bins), np.nan)
    counts = np.bincount(which, minlength=n_bins).astype(np.int64)
    bounds = np.searchsorted(which, np.arange(n_bins + 1))  # days are sorted, so each bin is one slice
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN bin (no SAT day) stays NaN
        for b in np.flatnonzero(counts):
            out[:, b] = np.nanmedian(values[:, bounds[b]:bounds[b + 1]], axis=1)
    first = days[0] + np.arange(n_bins) * np.timedelta64(k, "D")
    return DayBins(first_days=first, days_per_bin=k, values=out, columns_per_bin=counts)


def bin_note(bins: DayBins, n_days: int, lang: str) -> str:
    """What one column of the surface is, in words (shown with the plot)."""
    if bins.days_per_bin == 1:
        return tr("surface_note_daily", lang)
    return tr("surface_note_binned", lang, k=bins.days_per_bin, n_days=n_days, n_bins=bins.first_days.size)


def surface_figure(bins: DayBins, labels: tuple[str, ...], *, unit: str, title: str, lang: str,
                   dark: bool = False) -> dict:
    """A plotly.js figure (plain dict, arrays as NumPy) of ``bins``: x the bins' first days, y the
    cells by name, z and colour the SAT. Hover: cell, the bin's days, SAT with its unit."""
    if len(labels) != bins.values.shape[0]:
        raise ValueError(f"{len(labels)} labels for {bins.values.shape[0]} rows")
    date_fmt = "%d.%m.%Y" if lang == "de" else "%Y-%m-%d"
    if bins.days_per_bin == 1:
        when = f"%{{x|{date_fmt}}}"
    else:
        when = tr("surface_hover_days", lang, first=f"%{{x|{date_fmt}}}", k=bins.days_per_bin)
    sat = tr("sat", lang)
    hover = f"%{{y}}<br>{when}<br>{sat}: %{{z:.4f}} {unit}<extra></extra>"
    z_title = f"{sat} [{unit}]"
    font = _font_colour(dark)
    axis = dict(color=font, gridcolor="#555555" if dark else "#d0d0d0", backgroundcolor="rgba(0,0,0,0)",
                showbackground=False)
    trace = {
        "type": "surface",
        # float32: 0.2 µV resolution at 4 V, far below the BMS's mV readings; halves what the page loads
        "z": bins.values.astype(np.float32),
        "x": [str(d) for d in bins.first_days],
        "y": list(labels),
        "colorscale": VIRIDIS,
        "colorbar": {"title": {"text": z_title}, "tickfont": {"color": font}},
        "hovertemplate": hover,
        "connectgaps": False,  # a day without SAT is a hole, not an invented value
    }
    layout = {
        "title": {"text": title, "font": {"color": font}},
        "separators": ",." if lang == "de" else ".,",  # decimal comma in German (0,941)
        "font": {"color": font},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "height": 600,
        "margin": {"l": 0, "r": 0, "t": 40, "b": 0},
        "scene": {
            # Few ticks: plotly.js turns every 3D label into triangles on the CPU (a second on a
            # software-GL page for a dozen labels), and more would overlap in the perspective anyway.
            "xaxis": {**axis, "title": {"text": tr("day_local", lang)}, "type": "date",
                      "tickformat": date_fmt, "nticks": 6},
            # every cell is a category (hover names it); a tick per ~26 cells keeps the labels apart
            "yaxis": {**axis, "title": {"text": tr("cell", lang)}, "type": "category", "nticks": 10},
            "zaxis": {**axis, "title": {"text": z_title}, "nticks": 4},
            "aspectmode": "manual",
            "aspectratio": {"x": 1.6, "y": 1.0, "z": 0.6},
            "camera": {"eye": {"x": 1.5, "y": 1.5, "z": 0.9}},  # a little further back: all cell ticks in view
        },
    }
    return {"data": [trace], "layout": layout}


def _font_colour(dark: bool) -> str:
    """The theme's text colour (Panel's dark Bokeh theme's tick labels on the dark page)."""
    if not dark:
        return "#444444"
    from panel.theme import DarkTheme

    return DarkTheme.bokeh_theme._json["attrs"]["Axis"]["major_label_text_color"]
