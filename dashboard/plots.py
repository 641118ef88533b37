"""Pure plotting functions: core result objects in, HoloViews objects out (no service calls)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import holoviews as hv
import xarray as xr
from holoviews.operation.datashader import rasterize

from core.results import DailyEnergy, Matrix, Series
from dashboard.i18n import tr, tr_enum
from dashboard.numbers import format_number
from dashboard.timez import iso_to_local_naive, local_naive

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
# Time axes show Europe/Berlin wall time (dashboard.timez); the label says so.
TIME_LABEL = "Time (Europe/Berlin)"
# Bars per period stay readable up to about two months of days; longer ranges are shown per month.
MAX_DAILY_BARS = 62


def fix_dark_theme() -> None:
    """Complete Panel's dark Bokeh theme: it colours legend labels but not legend titles, which stay
    Bokeh's dark grey on the dark background (WCAG AA fails; tests/test_dashboard_browser.py checks)."""
    from panel.theme import DarkTheme

    attrs = DarkTheme.bokeh_theme._json["attrs"]
    legend = attrs.setdefault("Legend", {})
    legend.setdefault("title_text_color", legend.get("label_text_color", "#E0E0E0"))


def tick_formats(lang: str, *, x_time: bool = True, y_number: bool = True) -> dict:
    """HoloViews options that draw tick labels in the page's language: German numbers as 3,45 and
    1.000, German dates as 05.09.2024 / 09.2024 (English keeps Bokeh's defaults)."""
    if lang != "de":
        return {}
    from bokeh.models import CustomJSTickFormatter, DatetimeTickFormatter

    out = {}
    if x_time:
        out["xformatter"] = DatetimeTickFormatter(days="%d.%m.", months="%m.%Y", years="%Y", hours="%H:%M",
                                                  hourmin="%H:%M", minutes="%H:%M", context_which="all")
    if y_number:
        # The browser's own German number format (BokehJS's numbro ignores language="de").
        out["yformatter"] = CustomJSTickFormatter(
            code="return Number(tick).toLocaleString('de-DE', {maximumFractionDigits: 6});")
    return out


def series_plot(series: Series, *, label: str, color: str = PALETTE[0], band_label: str = "min/max",
                height: int = 300, axis_label: str | None = None,
                time_label: str = TIME_LABEL, lang: str = "en") -> hv.Overlay:
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
    ticks = tick_formats(lang)
    return hv.Overlay(parts).opts(
        hv.opts.Curve(responsive=True, height=height, tools=["hover"], show_grid=True, **ticks),
        hv.opts.Area(responsive=True, height=height, **ticks),
    )


PARTIAL_GREYS = ("#9e9e9e", "#bdbdbd", "#d0d0d0")


def energy_frame(daily: DailyEnergy, names: dict[str, str], partial_suffix: str | None = None) -> pd.DataFrame:
    """Long table (period, kind, energy_kwh) per day, or per month when the range is long.

    ``names`` maps 'import', 'export', 'aux' to the shown labels (a missing key drops the kind).
    With ``partial_suffix``, a day below the coverage threshold (``daily.partial``) gets its kind
    labelled ``"<kind> <suffix>"``, so `energy_bars` draws it grey (per-day bars only).
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
    per_day = len(wide) == len(daily.days)
    long = wide.drop(columns="day").melt(id_vars="period", var_name="kind", value_name="energy_kwh")
    if partial_suffix and per_day and daily.partial is not None:
        partial = np.tile(np.asarray(daily.partial, dtype=bool), len(long) // max(len(wide), 1))
        long.loc[partial, "kind"] = long.loc[partial, "kind"] + f" {partial_suffix}"
    return long


def energy_bars(frame: pd.DataFrame, *, title: str, group: str = "kind", height: int = 300,
                lang: str = "en", partial_suffix: str | None = None) -> hv.Bars:
    """Grouped bars of a long (period, <group>, energy_kwh) table."""
    ydim = hv.Dimension("energy_kwh", label=tr("energy", lang), unit="kWh")
    kdims = [hv.Dimension("period", label=tr("period", lang)), hv.Dimension(group, label=tr("energy_kind", lang))]
    bars = hv.Bars(frame, kdims, ydim)
    # one colour per kind in order of appearance; the kinds of partial days (see energy_frame) are grey
    kinds = list(dict.fromkeys(frame[group]))
    whole = [k for k in kinds if not (partial_suffix and k.endswith(f" {partial_suffix}"))]
    colours = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(whole)}
    greys = iter(PARTIAL_GREYS * len(kinds))
    colours.update({k: next(greys) for k in kinds if k not in colours})
    return bars.opts(title=title, responsive=True, height=height, tools=["hover"], xrotation=60,
                     **tick_formats(lang, x_time=False),
                     show_legend=True, legend_position="top_left", multi_level=False,
                     color=group, cmap=colours, line_alpha=0, hooks=[_group_labels_like_ticks])


def _group_labels_like_ticks(plot, _element) -> None:
    """Grouped bars label their periods with the axis's group labels, which come out black in every
    theme (unreadable on the dark theme): give them the dark theme's tick label colour there."""
    import panel as pn
    from panel.theme import DarkTheme

    if pn.config.theme != "dark":
        return
    color = DarkTheme.bokeh_theme._json["attrs"]["Axis"]["major_label_text_color"]
    for axis in plot.state.xaxis:
        if hasattr(axis, "group_text_color"):
            axis.group_text_color = axis.subgroup_text_color = color


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
    drawn = image if native_columns(image) else rasterize(image, aggregator="mean", precompute=True)
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


def alarm_segments(spans: pd.DataFrame, *, title: str, height: int = 260, lang: str = "en") -> hv.Segments:
    """Active alarm intervals as horizontal bars, one row per alarm signal.

    ``spans`` has columns signal, start, end (local naive datetimes).
    """
    seg = hv.Segments(spans, ["start", "signal", "end", "signal"])
    return seg.opts(line_width=8, color="#d62728", responsive=True, height=height, title=title,
                    **tick_formats(lang, y_number=False),
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


def fit_plot(days: np.ndarray, values: np.ndarray, fit, row: int, *, title: str, unit: str = "V",
             lang: str = "en") -> hv.Overlay:
    """Measured SAT points of one cell on their dates, its fitted line only over the days it was
    fitted (from ``fit.fit_start_day``: a pack event's step is left out) and the 95 % band of the slope.

    ``fit`` is a core CellFits (x = days since ``fit.day0``), ``row`` the cell's row in it.
    """
    tdim = hv.Dimension("time", label=tr("day_local", lang))
    ydim = hv.Dimension("sat", label=tr("sat", lang), unit=unit)
    days = np.asarray(days, dtype="datetime64[D]")
    pts = hv.Scatter((days.astype("datetime64[ms]"), values), tdim, ydim, label=tr("measured", lang)).opts(
        size=4, alpha=0.6)
    parts = [pts]
    slope, intercept = float(fit.slope_v_per_day[row]), float(fit.intercept_v[row])
    fitted = days[(days >= fit.fit_start_day[row]) & np.isfinite(values)]
    if np.isfinite(slope) and fitted.size:
        x = (fitted - fit.day0).astype(np.int64).astype(float)
        line = intercept + slope * x
        # the slope's interval turns the line about its centre (the mean fitted day)
        xc = float(x.mean())
        yc = intercept + slope * xc
        lo = yc + float(fit.slope_ci95_low_v_per_day[row]) * (x - xc)
        hi = yc + float(fit.slope_ci95_high_v_per_day[row]) * (x - xc)
        t = fitted.astype("datetime64[ms]")
        if np.isfinite(lo).all() and np.isfinite(hi).all():
            parts.append(hv.Area((t, np.minimum(lo, hi), np.maximum(lo, hi)), tdim, [ydim, "high"],
                                 label=tr("slope_band", lang)).opts(color="#d62728", alpha=0.15, line_alpha=0))
        parts.append(hv.Curve((t[[0, -1]], line[[0, -1]]), tdim, ydim, label=tr("fit_line", lang)).opts(
            color="#d62728", line_width=2))
    ticks = tick_formats(lang)
    return hv.Overlay(parts).opts(hv.opts.Scatter(tools=["hover"], **ticks), hv.opts.Curve(**ticks),
                                  hv.opts.Area(**ticks)).opts(
        title=title, responsive=True, height=280, show_grid=True, legend_position="top_left")


# -- annotations: pack events and alerts on series and on the heatmap ----------------------------

EVENT_COLOR = "#ff7f0e"
ALERT_COLOR = "#d62728"
# On the heatmap the alert outline must stand apart from every colour map and the outlier colours.
HEATMAP_ALERT_COLOR = "#00e676"


def _day(d) -> np.datetime64:
    """A local date as midnight on the tz-naive local axis every plot uses (dashboard.timez)."""
    return np.datetime64(d, "D").astype("datetime64[ms]")


def event_text(event, lang: str) -> str:
    return tr("event_hover", lang, pack=f"P{event.pack}", day=str(event.day),
              step=format_number(1000.0 * event.step_v, lang, digits=1))


def alert_text(alert, lang: str) -> str:
    severity = tr_enum("severity", alert.severity.value, lang)
    return f"{alert.label} ({severity}): {alert.reason_de if lang == 'de' else alert.reason_en}"


def series_annotations(events, alerts, *, lang: str = "en") -> list:
    """Alerts as shaded spans over the days that raised them, pack events as dashed vertical lines;
    each says what it is on hover. Overlay them on any plot with a local time x axis."""
    what = [(tr("annotation", lang), "@what")]
    parts = []
    spans = merged_alert_spans(alerts, lang)
    if spans:
        frame = pd.DataFrame(spans, columns=["start", "end", "what"])
        parts.append(hv.VSpans(frame, ["start", "end"], ["what"]).opts(
            color=ALERT_COLOR, alpha=0.10, tools=["hover"], hover_tooltips=what, apply_ranges=False))
    if events:
        frame = pd.DataFrame({"day": [_day(e.day) for e in events], "what": [event_text(e, lang) for e in events]})
        parts.append(hv.VLines(frame, ["day"], ["what"]).opts(
            color=EVENT_COLOR, line_dash="dashed", line_width=2, tools=["hover"], hover_tooltips=what,
            apply_ranges=False))
    return parts


# Alerts named in one merged span's hover; the rest are counted.
SPAN_ALERTS_NAMED = 4


def merged_alert_spans(alerts, lang: str) -> list[tuple[np.datetime64, np.datetime64, str]]:
    """(start, end, text) per run of overlapping alert days: one shade per run instead of one per
    alert (dozens of alerts over the same fitted days stacked their transparency into a solid
    red that hid the plot); the hover names the run's first alerts and counts the others."""
    days = sorted((_day(a.first_day), _day(a.last_day) + np.timedelta64(1, "D"), alert_text(a, lang))
                  for a in alerts if a.first_day is not None and a.last_day is not None)
    runs: list[list] = []
    for start, end, text in days:
        if runs and start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], end)
            runs[-1][2].append(text)
        else:
            runs.append([start, end, [text]])
    out = []
    for start, end, texts in runs:
        shown = "; ".join(texts[:SPAN_ALERTS_NAMED])
        if len(texts) > SPAN_ALERTS_NAMED:
            shown += " " + tr("more_alerts", lang, n=len(texts) - SPAN_ALERTS_NAMED)
        out.append((start, end, shown))
    return out


def heatmap_annotations(events, alerts, *, cells_per_pack: int, rows: tuple[int, int], lang: str = "en") -> list:
    """Pack events as dashed lines over their pack's rows, alerts as outlines around the rows (a cell,
    or its whole pack) and days that raised them; only those within ``rows`` = [first, last)."""
    cpp = max(int(cells_per_pack), 1)
    lo, hi = rows
    what = [(tr("annotation", lang), "@what")]
    parts = []

    def span(pack: int, cell: int | None) -> tuple[float, float]:
        first = (pack - 1) * cpp + (cell - 1 if cell else 0)
        last = first + 1 if cell else pack * cpp
        return max(first, lo) - 0.5, min(last, hi) - 0.5

    boxes = []
    for a in alerts:
        if a.first_day is None or a.last_day is None:
            continue
        y0, y1 = span(a.pack, a.cell)
        if y1 > y0:
            boxes.append((_day(a.first_day) - np.timedelta64(12, "h"), y0,
                          _day(a.last_day) + np.timedelta64(12, "h"), y1, alert_text(a, lang)))
    if boxes:
        frame = pd.DataFrame(boxes, columns=["x0", "y0", "x1", "y1", "what"])
        parts.append(hv.Rectangles(frame, ["x0", "y0", "x1", "y1"], ["what"]).opts(
            fill_alpha=0, line_color=HEATMAP_ALERT_COLOR, line_width=1.5, tools=["hover"], hover_tooltips=what,
            apply_ranges=False))  # an alert of other days must not stretch the window to its days
    lines = []
    for e in events:
        y0, y1 = span(e.pack, None)
        if y1 > y0:
            x = _day(e.day) - np.timedelta64(12, "h")  # the step is between the day before and the event day
            lines.append((x, y0, x, y1, event_text(e, lang)))
    if lines:
        frame = pd.DataFrame(lines, columns=["x0", "y0", "x1", "y1", "what"])
        parts.append(hv.Segments(frame, ["x0", "y0", "x1", "y1"], ["what"]).opts(
            color=EVENT_COLOR, line_width=3, line_dash="dashed", tools=["hover"], hover_tooltips=what,
            apply_ranges=False))
    return parts


def day_span(day) -> hv.VSpan:
    """One local day shaded (the SAT day a raw-voltage window is opened around)."""
    return hv.VSpan(_day(day), _day(day) + np.timedelta64(1, "D")).opts(color="#9e9e9e", alpha=0.15)


def annotation_legend(lang: str, *, heatmap: bool) -> str:
    """What the annotations are (under the plot; Bokeh's legend would list every span)."""
    alert = HEATMAP_ALERT_COLOR if heatmap else ALERT_COLOR
    key = "annotation_legend_heatmap" if heatmap else "annotation_legend_series"
    return tr(key, lang, alert=f'<span style="color:{alert}">■</span>',
              event=f'<span style="color:{EVENT_COLOR}">┆</span>')


# -- one cell in detail ---------------------------------------------------------------------------

def sat_vs_peers(detail, *, title: str, lang: str = "en", height: int = 300) -> hv.Overlay:
    """The cell's SAT against its pack's and the system's median SAT over the local days."""
    t = detail.days.astype("datetime64[ms]")
    tdim = hv.Dimension("time", label=tr("day_local", lang))
    ydim = hv.Dimension("sat", label=tr("sat", lang), unit="V")
    curves = []
    for values, label, color, width in ((detail.system_median_v, tr("system_median", lang), "#7f7f7f", 1.5),
                                        (detail.pack_median_v, tr("pack_median", lang, pack=f"P{detail.pack}"),
                                         PALETTE[2], 1.5),
                                        (detail.sat_v, detail.label, PALETTE[0], 2)):
        ok = np.isfinite(values)  # non-SAT days are NaN: the line joins the SAT days
        curves.append(hv.Curve((t[ok], values[ok]), tdim, ydim, label=label).opts(color=color, line_width=width))
    ticks = tick_formats(lang)
    return hv.Overlay(curves + series_annotations(detail.events, detail.alerts, lang=lang)).opts(
        hv.opts.Curve(tools=["hover"], **ticks),
        hv.opts.Overlay(title=title, responsive=True, height=height, show_grid=True, legend_position="top_left"))


def drift_plot(detail, *, title: str, lang: str = "en", height: int = 300) -> hv.Overlay:
    """The cell's deviation from the system median [mV], its drift line over each fitted segment
    (split at pack events), the 95 % projection band ahead and the deviation limits."""
    mv = 1000.0
    t = detail.days.astype("datetime64[ms]")
    tdim = hv.Dimension("time", label=tr("day_local", lang))
    ydim = hv.Dimension("deviation", label=tr("deviation", lang), unit="mV")
    ok = np.isfinite(detail.deviation_v)
    parts = [hv.Scatter((t[ok], mv * detail.deviation_v[ok]), tdim, ydim, label=tr("measured", lang)).opts(
        size=3, alpha=0.5, color=PALETTE[0])]
    fit_label = tr("drift_fit", lang)
    for seg in detail.segments:
        parts.append(hv.Curve(([_day(seg.start_day), _day(seg.end_day)], [mv * seg.start_v, mv * seg.end_v]),
                              tdim, ydim, label=fit_label).opts(color=ALERT_COLOR, line_width=2.5))
    if detail.projection_days.size:
        band = hv.Area((detail.projection_days.astype("datetime64[ms]"), mv * detail.projection_low_v,
                        mv * detail.projection_high_v), tdim, [ydim, "high"], label=tr("projection_band", lang))
        parts.append(band.opts(color=ALERT_COLOR, alpha=0.2, line_alpha=0))
    limit = mv * detail.limit_v
    parts.append(hv.HLines([-limit, limit]).opts(color="#7f7f7f", line_dash="dotted", line_width=1.5))
    parts += series_annotations(detail.events, detail.alerts, lang=lang)
    ticks = tick_formats(lang)
    return hv.Overlay(parts).opts(
        hv.opts.Curve(tools=["hover"], **ticks), hv.opts.Scatter(tools=["hover"], **ticks),
        hv.opts.Overlay(title=title, responsive=True, height=height, show_grid=True, legend_position="top_left"))
