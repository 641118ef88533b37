"""Pure plotting functions: core result objects in, HoloViews objects out (no service calls)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import holoviews as hv
import xarray as xr
from holoviews.operation.datashader import rasterize

from core.results import DailyEnergy, Matrix, Series
from dashboard.i18n import tr
from dashboard.timez import iso_to_local_naive, local_naive

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
# Time axes show Europe/Berlin wall time (dashboard.timez); the label says so.
TIME_LABEL = "Time (Europe/Berlin)"
# Bars per period stay readable up to about two months of days; longer ranges are shown per month.
MAX_DAILY_BARS = 62


def series_plot(series: Series, *, label: str, color: str = PALETTE[0], band_label: str = "min/max",
                height: int = 300, axis_label: str | None = None,
                time_label: str = TIME_LABEL) -> hv.Overlay:
    """A line with its min/max band where the level keeps one; NaNs break the line at gaps.

    ``label`` names the line (legend); ``axis_label`` the y axis (default: the label).
    """
    t = local_naive(series.timestamps_ms)
    ydim = hv.Dimension("value", label=axis_label or label, unit=series.unit or None)
    tdim = hv.Dimension("time", label=time_label)
    curve = hv.Curve((t, series.values), tdim, ydim, label=label).opts(color=color, line_width=1.5)
    parts = [curve]
    if series.min is not None and series.max is not None:
        band = hv.Area((t, series.min, series.max), tdim, [ydim, "max"], label=f"{label} {band_label}")
        parts.insert(0, band.opts(color=color, alpha=0.2, line_alpha=0))
    return hv.Overlay(parts).opts(
        hv.opts.Curve(responsive=True, height=height, tools=["hover"], show_grid=True),
        hv.opts.Area(responsive=True, height=height),
    )


def energy_frame(daily: DailyEnergy, names: dict[str, str]) -> pd.DataFrame:
    """Long table (period, kind, energy_kwh) per day, or per month when the range is long.

    ``names`` maps 'import', 'export', 'aux' to the shown labels (a missing key drops the kind).
    """
    cols = {"import": daily.import_kwh, "export": daily.export_kwh, "aux": daily.aux_kwh}
    wide = pd.DataFrame({"day": pd.to_datetime(list(daily.days))})
    for key, arr in cols.items():
        if arr is not None and key in names:
            wide[names[key]] = np.asarray(arr, dtype=float)
    if len(wide) > MAX_DAILY_BARS:
        wide = wide.groupby(wide["day"].dt.to_period("M")).sum(numeric_only=True).reset_index()
        wide["period"] = wide["day"].astype(str)
    else:
        wide["period"] = wide["day"].dt.strftime("%Y-%m-%d")
    long = wide.drop(columns="day").melt(id_vars="period", var_name="kind", value_name="energy_kwh")
    return long


def energy_bars(frame: pd.DataFrame, *, title: str, group: str = "kind", height: int = 300,
                lang: str = "en") -> hv.Bars:
    """Grouped bars of a long (period, <group>, energy_kwh) table."""
    ydim = hv.Dimension("energy_kwh", label=tr("energy", lang), unit="kWh")
    kdims = [hv.Dimension("period", label=tr("period", lang)), hv.Dimension(group, label=tr("energy_kind", lang))]
    bars = hv.Bars(frame, kdims, ydim)
    return bars.opts(title=title, responsive=True, height=height, tools=["hover"], xrotation=60,
                     show_legend=True, legend_position="top_left", multi_level=False,
                     color=hv.Cycle(list(PALETTE)), line_alpha=0)


def regular_columns(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Place columns on a uniform time grid (missing bins become NaN columns).

    An Image assumes evenly spaced columns; gaps in the data would otherwise squeeze time.
    The step is the median spacing; a DST fold maps two bins onto one column (the later wins).
    """
    if times.size < 2:
        return times, values
    t = times.astype("datetime64[ms]").astype(np.int64)
    step = int(np.median(np.diff(t)))
    if step <= 0:
        return times, values
    idx = np.rint((t - t[0]) / step).astype(np.int64)
    n = int(idx[-1]) + 1
    grid_times = (t[0] + step * np.arange(n)).astype("datetime64[ms]")
    if n == t.size and np.array_equal(idx, np.arange(n)):
        return grid_times, values
    grid = np.full((values.shape[0], n), np.nan, dtype=values.dtype)
    grid[:, idx] = values
    return grid_times, grid


def heatmap_image(matrix: Matrix, *, cells_per_pack: int, label: str) -> hv.Image:
    """All cells x time as an Image: row 0 is P1C1; pack and cell ride along for the hover."""
    times, values = regular_columns(iso_to_local_naive(matrix.columns), matrix.values.astype(np.float32))
    n_rows, n_cols = values.shape
    rows = np.arange(n_rows)
    cpp = max(cells_per_pack, 1)
    pack = np.broadcast_to((rows // cpp + 1)[:, None], (n_rows, n_cols)).astype(np.float32)
    cell = np.broadcast_to((rows % cpp + 1)[:, None], (n_rows, n_cols)).astype(np.float32)
    ds = xr.Dataset(
        {"value": (("row", "time"), values), "pack": (("row", "time"), pack), "cell": (("row", "time"), cell)},
        coords={"row": rows, "time": times},
    )
    vdim = hv.Dimension("value", label=label, unit=matrix.unit or None)
    # rtol: the local wall-clock grid is uniform, but float round-off of ms timestamps is not zero.
    return hv.Image(ds, kdims=["time", "row"], vdims=[vdim, "pack", "cell"], rtol=1e-3)


def heatmap(image: hv.Image, *, n_packs: int, cells_per_pack: int, title: str, cmap: str = "viridis",
            symmetric: bool = False, height: int = 560, lang: str = "en") -> hv.Overlay:
    """The image rasterized by datashader (again on every zoom), pack boundaries as lines."""
    raster = rasterize(image, aggregator="mean", precompute=True).opts(
        cmap=cmap, colorbar=True, responsive=True, height=height, tools=["hover"], invert_yaxis=True,
        yticks=[(p * cells_per_pack, f"P{p + 1}C1") for p in range(n_packs)], ylabel=tr("cell", lang),
        xlabel=tr("day_local" if _daily(image) else "time", lang),
        title=title, symmetric=symmetric, clipping_colors={"NaN": "transparent"},
        # Bokeh reports a wheel zoom to the server only once the plot has been still for
        # lod_timeout (500 ms by default); 50 ms still merges the ticks of one scroll.
        backend_opts={"plot.lod_interval": 50, "plot.lod_timeout": 50},
    )
    lines = [hv.HLine(p * cells_per_pack - 0.5).opts(color="white", line_width=1.5, line_dash="dashed")
             for p in range(1, n_packs)]
    return raster * hv.Overlay(lines)


def _daily(image: hv.Image) -> bool:
    """Whether the image's columns are whole local days (SAT), not clock times."""
    times = image.dimension_values("time", expanded=False)
    return times.size > 1 and bool(np.all(np.asarray(times, dtype="datetime64[ms]").astype(np.int64)
                                          % 86_400_000 == 0))


def sat_surface(matrix: Matrix, *, title: str, max_columns: int = 300, lang: str = "en") -> hv.Surface:
    """SAT over cells (y) and days (x) as a 3D surface for the Plotly backend.

    Columns are thinned to ``max_columns`` because a WebGL mesh of 260 x 600 turns sluggish.
    """
    values = matrix.values
    step = max(1, int(np.ceil(values.shape[1] / max_columns)))
    z = values[:, ::step]
    x = np.arange(values.shape[1])[::step]
    y = np.arange(values.shape[0])
    surf = hv.Surface((x, y, z), kdims=[hv.Dimension("day", label=tr("days_since_first", lang)),
                                        hv.Dimension("cell", label=tr("cell", lang))],
                      vdims=[hv.Dimension("sat", label=tr("sat", lang), unit=matrix.unit)])
    return surf.opts(title=title, cmap="viridis", colorbar=True, width=800, height=560, backend="plotly")


def alarm_segments(spans: pd.DataFrame, *, title: str, height: int = 260, lang: str = "en") -> hv.Segments:
    """Active alarm intervals as horizontal bars, one row per alarm signal.

    ``spans`` has columns signal, start, end (local naive datetimes).
    """
    seg = hv.Segments(spans, ["start", "signal", "end", "signal"])
    return seg.opts(line_width=8, color="#d62728", responsive=True, height=height, title=title,
                    tools=["hover"], xlabel=tr("time", lang), ylabel=tr("signal_axis", lang))


def alarm_spans(series: Series) -> pd.DataFrame:
    """Runs of non-zero values of an alarm series as (signal, start, end) rows."""
    t = local_naive(series.timestamps_ms)
    on = np.nan_to_num(series.values) != 0
    if not on.any():
        return pd.DataFrame({"signal": [], "start": [], "end": []})
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    # A run holds until the next sample; the last sample holds for one median step.
    step = np.median(np.diff(t)) if t.size > 1 else np.timedelta64(60_000, "ms")
    t_end = np.concatenate([t[1:], [t[-1] + step]])
    return pd.DataFrame({"signal": series.signal, "start": t[starts], "end": t_end[ends - 1]})


def fit_plot(days: np.ndarray, values: np.ndarray, slope_per_day: float, intercept: float, *,
             title: str, unit: str = "V", lang: str = "en") -> hv.Overlay:
    """Measured points of one cell and its fitted line (days since the first SAT day on x)."""
    xdim = hv.Dimension("day", label=tr("days_since_first", lang))
    ydim = hv.Dimension("sat", label=tr("sat", lang), unit=unit)
    pts = hv.Scatter((days, values), xdim, ydim, label=tr("measured", lang)).opts(size=4, alpha=0.6)
    x = np.array([np.nanmin(days), np.nanmax(days)]) if len(days) else np.array([0.0, 1.0])
    line = hv.Curve((x, intercept + slope_per_day * x), xdim, ydim, label=tr("fit_line", lang)).opts(
        color="#d62728", line_width=2)
    return (pts * line).opts(title=title, responsive=True, height=280, show_grid=True)
