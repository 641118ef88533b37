"""The cell heatmap: cells x time as an image with named rows, robust colours and the hover's units."""

from __future__ import annotations

import numpy as np
import holoviews as hv
import xarray as xr
from holoviews.operation.datashader import regrid

from core.results import Matrix
from dashboard.i18n import tr
from dashboard.numbers import format_number
from dashboard.plots import tick_formats
from dashboard.timez import iso_to_local_naive


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


def heatmap_image(matrix: Matrix, *, cells_per_pack: int, label: str,
                  extra: dict[str, tuple[np.ndarray, str, str]] | None = None, first_row: int = 0) -> hv.Image:
    """All cells x time as an Image: row 0 is P1C1 (the cell's name comes from the row in the hover).

    ``extra`` adds layers for the hover only: name -> (values shaped like the matrix, label, unit),
    e.g. the deviation from the pack median beside SAT. ``first_row`` is the system row of the
    matrix's first row (one pack shown: rows keep their system numbers, so ticks and hover name them).
    """
    times, values = regular_columns(iso_to_local_naive(matrix.columns), matrix.values.astype(np.float32))
    rows = first_row + np.arange(values.shape[0])
    layers = {"value": (("row", "time"), values)}
    vdims = [hv.Dimension("value", label=label, unit=matrix.unit or None)]
    for name, (more, more_label, unit) in (extra or {}).items():
        _, grid = regular_columns(iso_to_local_naive(matrix.columns), np.asarray(more, dtype=np.float32))
        layers[name] = (("row", "time"), grid)
        vdims.append(hv.Dimension(name, label=more_label, unit=unit or None))
    ds = xr.Dataset(layers, coords={"row": rows, "time": times})
    # rtol: the local wall-clock grid is uniform, but float round-off of ms timestamps is not zero.
    return hv.Image(ds, kdims=["time", "row"], vdims=vdims, rtol=1e-3)


# Colours of values beyond the clipped colour range: outliers stand out instead of flattening the scale.
BELOW_COLOR, ABOVE_COLOR = "#000000", "#ff00ff"
CLIP_PERCENTILES = (1.0, 99.0)


def robust_clim(values: np.ndarray, *, symmetric: bool = False) -> tuple[float, float] | None:
    """Colour range from the 1st to the 99th percentile of the finite values (symmetric: +-99th
    percentile of |v|), so one outlier cell does not flatten the colours of the other 259."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    if symmetric:
        q = float(np.percentile(np.abs(v), CLIP_PERCENTILES[1]))
        return (-q, q) if q > 0 else None
    lo, hi = (float(x) for x in np.percentile(v, CLIP_PERCENTILES))
    return (lo, hi) if hi > lo else None


def heatmap_legend(clim: tuple[float, float] | None, unit: str, lang: str, *, daily: bool) -> str:
    """The text under the heatmap: what the colours span, the outlier colours, and empty days."""
    parts = []
    if clim is not None:
        parts.append(tr("clip_note", lang, low=format_number(clim[0], lang, digits=4),
                        high=format_number(clim[1], lang, digits=4), unit=unit,
                        p_low=f"{CLIP_PERCENTILES[0]:g}", p_high=f"{CLIP_PERCENTILES[1]:g}"))
    if daily:
        parts.append(tr("no_sat_note", lang))
    return " ".join(parts)


def cell_name_js(cells_per_pack: int, var: str) -> str:
    """JavaScript turning a row coordinate (the variable ``var``: Bokeh's ``tick`` or ``value``) into 'P2C9'."""
    return (f"const cpp = {int(cells_per_pack)}; const r = Math.round({var});"
            " if (!isFinite(r) || r < 0) return ''; return 'P' + (Math.floor(r / cpp) + 1) + 'C' + (r % cpp + 1);")


def number_js(decimals: int, lang: str) -> str:
    locale = "de-DE" if lang == "de" else "en-US"
    return (f"return (value == null || !isFinite(value)) ? '–' : Number(value).toLocaleString('{locale}', "
            f"{{minimumFractionDigits: {decimals}, maximumFractionDigits: {decimals}}});")


# Up to this many columns a heatmap is sent as it is: at most one column per screen pixel in a
# desktop window's plot (~900 px wide at 1400 px), so the browser shows every column and redraws a
# zoom without the server (daily SAT: 640 columns over the demo's 21 months). Beyond it, datashader
# averages columns into pixels instead of the browser dropping some.
NATIVE_MAX_COLUMNS = 800


class Regrid(regrid):
    """HoloViews' regrid (what rasterize does to an Image) with datetime coordinates converted to
    integers as one array: HoloViews converts them one value at a time, about 5 ms per thousand
    columns on every zoom (90 ms for two years of hourly columns, more than the regrid itself)."""

    def _get_xarrays(self, element, coords, xtype, ytype):
        arrays = super()._get_xarrays(element, coords, None if xtype == "datetime" else xtype,
                                      None if ytype == "datetime" else ytype)
        times = [d.name for d, kind in zip(element.kdims, (xtype, ytype)) if kind == "datetime"]
        for name, xarr in arrays.items():
            for dim in times:  # assign_coords: a new array, never the element's own data
                coord = xarr[dim]
                ns = np.asarray(coord.values).astype("datetime64[ns]").astype(np.int64)
                xarr = xarr.assign_coords({dim: (coord.dims, ns)})
            arrays[name] = xarr
        return arrays


def rasterized(image: hv.Image, **params):
    """``image`` regridded to the plot's pixels by datashader (the mean of the cells and times in each),
    again on every zoom (a DynamicMap), or once for the ranges and size in ``params``."""
    return Regrid(image, aggregator="mean", precompute=True, **params)


def native_columns(image: hv.Image) -> bool:
    """Whether ``image`` is narrow enough to be drawn as it is (see NATIVE_MAX_COLUMNS)."""
    return image.dimension_values(0, expanded=False).size <= NATIVE_MAX_COLUMNS


def heatmap(image: hv.Image, *, n_packs: int, cells_per_pack: int, title: str, cmap: str = "viridis",
            symmetric: bool = False, height: int = 560, lang: str = "en",
            clim: tuple[float, float] | None = None, packs: tuple[int, ...] | None = None,
            annotations: list | None = None, on_tap=None) -> hv.Overlay:
    """The image (rasterized by datashader when wider than NATIVE_MAX_COLUMNS), pack boundaries as lines.

    Rows are named P<pack>C<cell> on the axis at every zoom (ticks at pack starts when zoomed
    out, down to every cell when zoomed in) and in the hover, with the date (no clock time for
    daily values) and each layer with its unit. ``clim`` clips the colours (robust_clim);
    values beyond it get their own colours, which heatmap_legend explains under the plot.
    ``on_tap(x=, y=)`` is called with the data coordinates of a click (time, row).
    """
    from bokeh.models import AdaptiveTicker, CustomJSHover, CustomJSTickFormatter

    daily = _daily(image)
    cpp = max(int(cells_per_pack), 1)
    vdims = image.vdims
    decimals = {"V": 3, "mV": 1}
    tooltips = [(tr("cell", lang), "$y{cell}"),
                (tr("day" if daily else "time", lang), "$x{custom}" if daily else "$x{%F %H:%M}")]
    # A daily column is centred on its midnight: the hover names the nearest midnight's date (a plain
    # date format would show the day before over the left half of every column).
    day_js = "const d = new Date(Math.round(value / 86400000) * 86400000); return d.toISOString().slice(0, 10);"
    formatters = {"$y": CustomJSHover(code=cell_name_js(cpp, "value")),
                  "$x": CustomJSHover(code=day_js) if daily else "datetime"}
    for i, d in enumerate(vdims):
        field = "@image" if i == 0 else f"@{{{d.name}}}"
        unit = f" {d.unit}" if d.unit else ""
        tooltips.append((f"{d.label}", f"{field}{{num}}{unit}"))
        formatters[field] = CustomJSHover(code=number_js(decimals.get(d.unit or "", 3), lang))
    colorbar_title = f"{vdims[0].label}" + (f" [{vdims[0].unit}]" if vdims[0].unit else "")
    clipping = {"NaN": "transparent"}
    opts = {}
    if clim is not None:  # explained under the plot (heatmap_legend)
        clipping.update(min=BELOW_COLOR, max=ABOVE_COLOR)
        opts["clim"] = clim
    # Ticks at multiples of a pack when zoomed out, of 10, 5, 2 or 1 cells when zoomed in.
    mantissas = sorted({m for m in (1, 2, 5, 10, 20, cpp // 2) if 1 <= m < cpp}) or [1]
    ticker = AdaptiveTicker(base=max(cpp, 2), mantissas=mantissas, min_interval=1, desired_num_ticks=6)
    # Narrow images go to the browser whole and a zoom is drawn there at once; wider ones are
    # rasterized by datashader to the plot's pixels, again on every zoom (a server round trip).
    drawn = image if native_columns(image) else rasterized(image)
    drawn = drawn.opts(
        cmap=cmap, colorbar=True, responsive=True, height=height, tools=["hover"], invert_yaxis=True,
        yticks=ticker, yformatter=CustomJSTickFormatter(code=cell_name_js(cpp, "tick")),
        ylabel=tr("cell", lang), xlabel=tr("day_local" if daily else "time", lang),
        hover_tooltips=tooltips, hover_formatters=formatters,
        # A hook: HoloViews sets the colour bar's title from the dimension after colorbar_opts.
        hooks=[lambda plot, _element: colorbar_in_language(plot, colorbar_title, lang)],
        title=title, symmetric=symmetric and clim is None, clipping_colors=clipping,
        **tick_formats(lang, y_number=False),
        # Bokeh reports a wheel zoom to the server only once the plot has been still for
        # lod_timeout (500 ms by default); 50 ms still merges the ticks of one scroll.
        backend_opts={"plot.lod_interval": 50, "plot.lod_timeout": 50}, **opts,
    )
    # pack boundaries between the packs shown (``packs``: those on screen, default all)
    shown = packs or tuple(range(1, n_packs + 1))
    lines = [hv.HLine(p * cpp - 0.5).opts(color="white", line_width=1.5, line_dash="dashed")
             for p in shown[:-1]]
    if on_tap is not None:
        # on the image itself: a Tap on the product with the overlay below never reaches the figure
        hv.streams.Tap(source=drawn, x=None, y=None).add_subscriber(on_tap)
    return drawn * hv.Overlay(lines + list(annotations or []))


def colorbar_in_language(plot, title: str, lang: str) -> None:
    """The colour bar's title and, in German, its tick labels (set after HoloViews has set its own)."""
    bar = plot.handles.get("colorbar")
    if bar is None:
        return
    bar.title = title
    fmt = tick_formats(lang, x_time=False).get("yformatter")
    if fmt is not None:
        bar.formatter = fmt


def _daily(image: hv.Image) -> bool:
    """Whether the image's columns are whole local days (SAT), not clock times."""
    times = image.dimension_values("time", expanded=False)
    return times.size > 1 and bool(np.all(np.asarray(times, dtype="datetime64[ms]").astype(np.int64)
                                          % 86_400_000 == 0))
