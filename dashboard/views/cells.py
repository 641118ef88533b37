"""Cell screen ("PackPulse"): 260-cell heatmaps, SAT surface, health, trends, degradation, alerts."""

from __future__ import annotations

import functools
import operator
import warnings

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

from core.results import Matrix
from dashboard import cell_heatmap, plots
from dashboard.derive import (alerts_frame, degradation_frame, drift_frame, events_frame, health_frame, sat_to_matrix,
                              trends_frame)
from dashboard.i18n import tr
from dashboard.state import HEATMAPS
from dashboard.views.base import ViewBase, ZoomSeries, session_later
from dashboard.views.cell_detail import CellDetailView
from dashboard.views.meter import _series_frame
from dashboard.views.surface import surface_pane, surface_picture_pane
from dashboard.quantities import number_text
from dashboard.tables import data_table
from dashboard.widgets import csv_download, guarded, info_message


class CellView(ViewBase):
    """Cell-level battery health of one BESS."""

    plotly_ready = param.Boolean(default=False, constant=True,
                                 doc="Whether the page loaded plotly.js, which the 3D surface needs.")
    fit_method = param.Selector(default="ols", objects=["ols", "robust"], doc="Regression of the degradation table.")

    # -- controls ---------------------------------------------------------------------------

    @param.depends("state.system", "state.lang")
    def controls(self):
        lang, s = self.state.lang, self.state
        info = self.info()
        packs = {tr("all_packs", lang): 0, **{f"P{p}": p for p in range(1, info.packs + 1)}}
        if s.pack > info.packs:
            s.pack = 0
        return pn.Row(
            pn.widgets.RadioButtonGroup.from_param(s.param.heatmap, options={tr(k, lang): k for k in HEATMAPS},
                                                   name=tr("heatmap_kind", lang), css_classes=["heatmap-kind"]),
            pn.widgets.Select.from_param(s.param.level, options=[lv for lv in info.levels], name=tr("level", lang),
                                         width=110),
            pn.widgets.Select.from_param(s.param.pack, options=packs, name=tr("pack", lang), width=120,
                                         css_classes=["pack-select"]),
            sizing_mode="stretch_width",
        )

    # -- heatmap ----------------------------------------------------------------------------

    def _matrix(self) -> tuple[Matrix, str, str, bool]:
        """The matrix on screen, its label, colour map and whether the colours centre on zero."""
        s, lang = self.state, self.state.lang
        start, end = self.window()
        if s.heatmap == "sat":
            return sat_to_matrix(self.service.sat_matrix(s.system, start, end)), tr("sat", lang), "viridis", False
        if s.heatmap == "deviation":
            return self.service.deviation_matrix(s.system, start, end), tr("deviation", lang), "RdBu_r", True
        m = self.service.cell_matrix(s.system, level=s.level, start=start, end=end)
        return m, f"{tr('raw', lang)} ({s.level})", "viridis", False

    def _deviation_like(self, sat: Matrix) -> np.ndarray:
        """The deviation matrix [mV] on the SAT matrix's rows and columns (NaN where it has none)."""
        dev = self.service.deviation_matrix(self.state.system, *self.window())
        scale = 1000.0 if dev.unit == "V" else 1.0
        out = np.full(sat.values.shape, np.nan)
        rows = {r: i for i, r in enumerate(dev.rows)}
        cols = {c: j for j, c in enumerate(dev.columns)}
        ri = [(i, rows[r]) for i, r in enumerate(sat.rows) if r in rows]
        cj = [(j, cols[c]) for j, c in enumerate(sat.columns) if c in cols]
        if ri and cj:
            (si, di), (sj, dj) = zip(*ri), zip(*cj)
            out[np.ix_(si, sj)] = scale * np.asarray(dev.values)[np.ix_(di, dj)]
        return out

    @param.depends("state.system", "state.range", "state.lang", "state.heatmap", "state.level", "state.pack")
    @guarded
    def heatmap(self):
        info = self.info()
        try:
            m, label, cmap, symmetric = self._matrix()
        except LookupError as exc:
            return info_message(str(exc))
        if not m.columns:
            return info_message(tr("no_data", self.state.lang))
        lang, pack = self.state.lang, self.state.pack
        m, first_row = _pack_rows(m, pack)
        extra = None
        if self.state.heatmap == "sat":
            # The hover shows beside each SAT the deviation the deviation heatmap shows.
            extra = {"deviation": (self._deviation_like(m), tr("deviation", lang), "mV")}
        image = cell_heatmap.heatmap_image(m, cells_per_pack=info.cells_per_pack, label=label, extra=extra,
                                           first_row=first_row)
        clim = cell_heatmap.robust_clim(m.values, symmetric=symmetric)
        analysis_packs = (pack,) if pack else None
        notes = plots.heatmap_annotations(self._events(), self._alerts(), cells_per_pack=info.cells_per_pack,
                                          rows=(first_row, first_row + len(m.rows)), lang=lang)
        plot = cell_heatmap.heatmap(image, n_packs=info.packs, cells_per_pack=info.cells_per_pack,
                                    title=f"{tr('heatmap', lang)}: {label}" + (f" – P{pack}" if pack else ""),
                                    cmap=cmap, symmetric=symmetric, lang=lang, clim=clim, packs=analysis_packs,
                                    annotations=notes,
                                    # a click on a cell opens it (state.sel, in the URL) on the clicked day
                                    on_tap=functools.partial(self._open_cell, cells_per_pack=info.cells_per_pack,
                                                             n_rows=info.packs * info.cells_per_pack,
                                                             daily=self.state.heatmap != "raw"))
        text = cell_heatmap.heatmap_legend(clim, m.unit, lang, daily=self.state.heatmap != "raw")
        legend = pn.pane.Markdown(f"{text} {plots.annotation_legend(lang, heatmap=True)}",
                                  css_classes=["heatmap-legend"], sizing_mode="stretch_width")
        download = csv_download(lambda: _matrix_frame(m), f"{self.state.system}_{self.state.heatmap}.csv",
                                tr("download_csv", self.state.lang))
        return pn.Column(pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["cell-heatmap"]),
                         legend, download, sizing_mode="stretch_width")

    def _open_cell(self, x=None, y=None, *, cells_per_pack: int, n_rows: int, daily: bool) -> None:
        """Open the clicked cell: its row's name and the clicked local day go into the state (and URL)."""
        if x is None or y is None:
            return
        row = int(round(float(y)))
        if not 0 <= row < n_rows:
            return
        t = pd.Timestamp(x, unit="ms") if isinstance(x, (int, float, np.integer, np.floating)) else pd.Timestamp(x)
        # a daily column is centred on its midnight: the nearest midnight is the clicked day
        day = (t + pd.Timedelta(hours=12)).floor("D") if daily else t.floor("D")
        cpp = max(int(cells_per_pack), 1)
        self.state.param.update(sel=f"P{row // cpp + 1}C{row % cpp + 1}", day=day.strftime("%Y-%m-%d"))

    def _events(self) -> tuple:
        """Pack events of the system, or of the chosen pack only."""
        pack = self.state.pack
        return tuple(e for e in self.service.events(self.state.system) if not pack or e.pack == pack)

    def _alerts(self) -> tuple:
        """Alerts of the system, or of the chosen pack only."""
        pack = self.state.pack
        return tuple(a for a in self.service.alerts(self.state.system) if not pack or a.pack == pack)

    # -- SAT overview and surface ----------------------------------------------------------

    @param.depends("state.system", "state.range", "state.lang", "state.pack")
    @guarded
    def sat_overview(self):
        m = sat_to_matrix(self.service.sat_matrix(self.state.system, *self.window()))
        info, pack = self.info(), self.state.pack
        rows = range(m.values.shape[0]) if pack == 0 else range((pack - 1) * info.cells_per_pack,
                                                                  pack * info.cells_per_pack)
        from dashboard.timez import iso_to_local_naive

        t = iso_to_local_naive(m.columns)
        ydim = hv.Dimension("sat", label=tr("sat", self.state.lang), unit=m.unit)
        tdim = hv.Dimension("time", label=tr("day_local", self.state.lang))
        if pack == 0:
            # All packs: the median cell of each pack keeps the chart readable.
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days (no saturation) stay NaN
                lines = {f"P{p + 1}": np.nanmedian(m.values[p * info.cells_per_pack:(p + 1) * info.cells_per_pack],
                                                   axis=0) for p in range(info.packs)}
        else:
            lines = {m.rows[r]: m.values[r] for r in rows}
        # Non-saturation days are NaN; dropping them joins the saturation days into one line.
        curves = {k: hv.Curve((t[np.isfinite(v)], v[np.isfinite(v)]), tdim, ydim) for k, v in lines.items()}
        key = hv.Dimension("cell", label=tr("pack" if pack == 0 else "cell", self.state.lang))
        overlay = hv.NdOverlay(curves, kdims=key).opts(
            hv.opts.Curve(line_width=1, tools=["hover"], responsive=True, height=320,
                          **plots.tick_formats(self.state.lang)),
            hv.opts.NdOverlay(responsive=True, height=320, show_legend=pack == 0,
                              title=tr("sat_overview", self.state.lang)))
        notes = plots.series_annotations(self._events(), self._alerts(), lang=self.state.lang)
        plot = functools.reduce(operator.mul, notes, overlay)
        legend = pn.pane.Markdown(plots.annotation_legend(self.state.lang, heatmap=False),
                                  css_classes=["annotation-legend"], sizing_mode="stretch_width")
        return pn.Column(pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["sat-overview"]),
                         legend, sizing_mode="stretch_width")

    @param.depends("state.surface", watch=True)
    def _load_plotly(self):
        """Reload the page when the surface is switched on in a page without plotly.js.

        The browser reloads the URL it has, so the query says surface=true first: the URL sync, a
        watcher of the same parameter, ran after this one, and its change then reached the browser
        after the reload (about one click in four in headless Chromium), which brought the page back
        without plotly.js and with the toggle off. The reload goes in the next turn, a message of its
        own: in the same message as the query, the browser navigated twice and the first was aborted.
        """
        if self.state.surface and not self.plotly_ready and pn.state.location is not None:
            location = pn.state.location
            location.update_query(surface="true")  # as the sync writes it: the sync then changes nothing
            session_later(lambda: setattr(location, "reload", True))

    @param.depends("state.system", "state.range", "state.lang", "state.surface", "state.pack")
    @guarded
    def surface(self):
        """The 3D surface (of the chosen pack, as the heatmap): drawn on the server at once, or by
        plotly.js when the page was opened for it."""
        if self.state.surface and not self.plotly_ready:
            return info_message(tr("surface_reload", self.state.lang))
        m, first_row = _pack_rows(sat_to_matrix(self.service.sat_matrix(self.state.system, *self.window())),
                                  self.state.pack)
        if self.state.surface:
            return surface_pane(m, lang=self.state.lang)
        return surface_picture_pane(m, lang=self.state.lang, cells_per_pack=self.info().cells_per_pack,
                                    first_row=first_row,
                                    on_open=lambda cell, day: self.state.param.update(sel=cell, day=day))

    # -- tables of the cell analytics --------------------------------------------------------

    def _table(self, frame: pd.DataFrame, name: str, css: str, empty: str = "no_data"):
        lang = self.state.lang
        if frame.empty:
            return info_message(tr(empty, lang))
        table = data_table(frame, lang, css=css)
        download = csv_download(lambda: frame, f"{self.state.system}_{name}.csv", tr("download_csv", lang))
        return pn.Column(table, download, sizing_mode="stretch_width")

    @param.depends("state.system", "state.lang")
    @guarded
    def health(self):
        lang = self.state.lang
        frame = health_frame(self.service.pack_health(self.state.system))
        long = frame.melt(id_vars="pack", value_vars=["healthy", "watched", "critical"], var_name="status",
                          value_name="cells")
        long["status"] = long["status"].map(lambda k: tr(k, lang))
        kdims = [hv.Dimension("pack", label=tr("pack", lang)), hv.Dimension("status", label=tr("status", lang))]
        bars = hv.Bars(long, kdims, hv.Dimension("cells", label=tr("cell_count", lang))).opts(
            stacked=True, responsive=True, height=260, tools=["hover"], cmap=["#2ca02c", "#ff7f0e", "#d62728"],
            title=tr("health", lang), legend_position="right")
        return pn.Column(pn.pane.HoloViews(bars, sizing_mode="stretch_width", css_classes=["health-bars"]),
                         self._table(frame, "pack_health", "pack-health"), sizing_mode="stretch_width")

    @param.depends("state.system", "state.lang")
    @guarded
    def trends(self):
        from dashboard.timez import iso_to_local_naive

        tr_ = self.service.pack_trends(self.state.system)
        t = iso_to_local_naive(tuple(str(d) for d in tr_.days))
        # Non-saturation days are NaN; dropping them connects the points so a sparse pack still draws a line.
        lang = self.state.lang
        ydim = hv.Dimension("sat", label=tr("pack_mean_sat", lang), unit="V")
        tdim = hv.Dimension("time", label=tr("day_local", lang))
        curves = {f"P{p}": hv.Curve((t[np.isfinite(tr_.mean_v[i])], tr_.mean_v[i][np.isfinite(tr_.mean_v[i])]),
                                    tdim, ydim) for i, p in enumerate(tr_.packs)}
        plot = hv.NdOverlay(curves, kdims=hv.Dimension("pack", label=tr("pack", lang))).opts(
            hv.opts.Curve(tools=["hover"], line_width=1.5, **plots.tick_formats(lang)),
            hv.opts.NdOverlay(responsive=True, height=300, title=tr("pack_trends", self.state.lang),
                              legend_position="right"))
        return pn.Column(pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["pack-trends-plot"]),
                         self._table(trends_frame(tr_), "pack_trends", "pack-trends"), sizing_mode="stretch_width")

    @param.depends("state.system", "state.lang", "fit_method", "state.pack")
    @guarded
    def degradation(self):
        lang = self.state.lang
        analysis = self.service.cell_analysis(self.state.system)
        fits = self.service.degradation(self.state.system, self.fit_method)
        return pn.Column(
            pn.pane.Markdown(f"**{tr('drift_table', lang)}**"),
            self._table(_of_pack(drift_frame(analysis, lang), self.state.pack), "drift", "drift-table"),
            pn.pane.Markdown(f"**{tr('raw_fits', lang)}**"),
            self._table(_of_pack(degradation_frame(fits, analysis.verdicts, lang), self.state.pack),
                        f"degradation_{self.fit_method}", "degradation"), sizing_mode="stretch_width")

    @param.depends("state.system", "state.lang", "fit_method", "state.pack", "state.cell")
    @guarded
    def fit(self):
        s, info = self.state, self.info()
        pack = s.pack or 1
        row = (pack - 1) * info.cells_per_pack + s.cell - 1
        fits = self.service.degradation(s.system, self.fit_method)
        sat = self.service.sat_matrix(s.system)
        loss = f"{number_text(fits.loss_pct_per_year[row], s.lang, 2)} {tr('unit_pct_per_year', s.lang)}"
        plot = plots.fit_plot(sat.days, sat.voltage_v[row], fits, row,
                              title=f"{tr('fit_plot', s.lang)}: P{pack}C{s.cell} ({self.fit_method}, "
                                    f"R² {number_text(fits.r2[row], s.lang, 2)}, {loss})",
                              lang=s.lang)
        notes = plots.series_annotations([e for e in self.service.events(s.system) if e.pack == pack],
                                         [a for a in self.service.alerts(s.system)
                                          if a.pack == pack and a.cell in (None, s.cell)], lang=s.lang)
        return pn.pane.HoloViews(functools.reduce(operator.mul, notes, plot),
                                 sizing_mode="stretch_width", css_classes=["fit-plot"])

    @param.depends("state.system", "state.lang", "state.pack")
    @guarded
    def alerts(self):
        alerts = self._alerts()
        return self._table(alerts_frame(alerts, self.state.lang, self.state.system), "alerts", "alerts",
                           empty="no_alerts")

    @param.depends("state.system", "state.lang", "state.pack")
    @guarded
    def events(self):
        return self._table(events_frame(self._events()), "events", "pack-events", empty="no_events")

    # -- raw cell voltage --------------------------------------------------------------------

    @param.depends("state.system", "state.lang")
    def cell_picker(self):
        info, s = self.info(), self.state
        return pn.Row(
            pn.widgets.IntInput.from_param(s.param.pack, name=tr("pack", s.lang), start=0, end=info.packs, width=100),
            pn.widgets.IntInput.from_param(s.param.cell, name=tr("cell", s.lang), start=1, end=info.cells_per_pack,
                                           width=100),
        )

    @param.depends("state.system", "state.range", "state.lang", "state.max_points", "state.pack", "state.cell")
    @guarded
    def cell_viewer(self):
        s, lang = self.state, self.state.lang
        pack = s.pack or 1
        default = self.window()

        def fetch(start, end):
            if start is None:
                start, end = default
            return self.service.cell_series(s.system, pack, s.cell, start=start, end=end,
                                            max_points=s.max_points, method="minmax_lttb")

        zoom = ZoomSeries(fetch, label=f"{tr('cell_viewer', lang)} P{pack}C{s.cell}", height=280, lang=lang)
        notes = plots.series_annotations([e for e in self.service.events(s.system) if e.pack == pack],
                                         [a for a in self.service.alerts(s.system)
                                          if a.pack == pack and a.cell in (None, s.cell)], lang=lang)
        download = csv_download(lambda: _series_frame(zoom.last), f"{s.system}_P{pack}C{s.cell}.csv",
                                tr("download_csv", lang))
        return pn.Column(pn.pane.HoloViews(functools.reduce(operator.mul, notes, zoom.dmap),
                                           sizing_mode="stretch_width", css_classes=["cell-viewer"]),
                         download, sizing_mode="stretch_width")

    def _tabs(self) -> pn.Tabs:
        """The analysis tabs. Each tab is built when first opened; the open one is filled in a turn
        of its own after the tabs: built with them, its plot held the server for ~0.6 s in one
        turn, and every other request (a zoom, another visitor's page) waited behind it."""
        lang = self.state.lang
        tab = lambda fn, **kw: self.section(fn, lazy=True, **kw)  # noqa: E731
        surface = pn.Column(
            # The class sits on the section: the section swaps its content in place when toggled.
            tab(self.surface, css_classes=["sat-surface"]),
            pn.widgets.Toggle.from_param(self.state.param.surface, name=tr("show_surface", lang), width=380,
                                         css_classes=["surface-toggle"]),
            sizing_mode="stretch_width")
        degradation = pn.Column(
            pn.widgets.RadioButtonGroup.from_param(self.param.fit_method, options=["ols", "robust"]),
            tab(self.degradation), self.cell_picker, tab(self.fit), sizing_mode="stretch_width")
        contents = [
            (tr("sat_overview", lang), tab(self.sat_overview)),
            (tr("surface", lang), surface),
            (tr("health", lang), tab(self.health)),
            (tr("pack_trends", lang), tab(self.trends)),
            (tr("degradation", lang), degradation),
            (tr("alerts", lang), tab(self.alerts)),
            (tr("events", lang), tab(self.events)),
            (tr("cell_viewer", lang),
             pn.Column(self.cell_picker, tab(self.cell_viewer), sizing_mode="stretch_width")),
        ]
        active = 1 if self.state.surface else 0
        title, content = contents[active]
        contents[active] = (title, self.later(lambda: content, build=True, drawn=False))
        return pn.Tabs(*contents, dynamic=True, active=active, sizing_mode="stretch_width", css_classes=["cell-tabs"])

    def __panel__(self):
        # Only the heatmap is in the first render; the cell detail and the tabs fill in after it
        # was drawn (ViewBase.later), so nothing queues before the heatmap.
        detail = self.part(CellDetailView)  # retired with this screen (it computed on after a switch)
        return pn.Column(self.controls, self.section(self.heatmap), self.later(detail.detail),
                         self.later(self._tabs, build=True), sizing_mode="stretch_width")


def _pack_rows(m: Matrix, pack: int) -> tuple[Matrix, int]:
    """The rows of one pack (0 = all) and the system row number of the first of them."""
    if not pack:
        return m, 0
    keep = [i for i, r in enumerate(m.rows) if r.startswith(f"P{pack}C")]
    if not keep:
        raise LookupError(f"no cells of pack {pack}")
    return Matrix(rows=tuple(m.rows[i] for i in keep), columns=m.columns, values=np.asarray(m.values)[keep],
                  unit=m.unit), keep[0]


def _of_pack(frame: pd.DataFrame, pack: int) -> pd.DataFrame:
    """Rows of a per-cell table (column 'cell', 'P2C9') of one pack (0 = all)."""
    return frame if not pack else frame[frame["cell"].str.startswith(f"P{pack}C")]


def _matrix_frame(m: Matrix) -> pd.DataFrame:
    """The matrix on screen as a long table (cell, time UTC, value)."""
    frame = pd.DataFrame(m.values, index=list(m.rows), columns=list(m.columns))
    long = frame.reset_index(names="cell").melt(id_vars="cell", var_name="time_utc", value_name=f"value_{m.unit}")
    return long.dropna()
