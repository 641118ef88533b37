"""Pure plotting functions: core result objects in, HoloViews objects out (no service calls)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import holoviews as hv

from core.results import DailyEnergy, Series
from dashboard.i18n import tr, tr_enum
from dashboard.numbers import format_number
from dashboard.timez import local_naive

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
