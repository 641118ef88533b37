"""BESS overview: KPI tiles by subsystem (BMS, PCS, aux/thermal, environment/safety), series, alarms."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from dashboard import plots, quantities
from dashboard.i18n import tr
from dashboard.views.base import ViewBase, ZoomSeries
from dashboard.widgets import csv_download, guarded, info_message, kpi_csv_frame, kpi_panel, kpi_tile
from dashboard.views.meter import _series_frame

_QUICK_DEFAULT = "bms1_soc"


class BessView(ViewBase):
    """One battery system at a glance."""

    quick_signal = param.String(default=_QUICK_DEFAULT, doc="Signal in the quick series viewer.")

    @param.depends("state.system", "state.range", "state.lang")
    @guarded
    def kpis(self):
        lang = self.state.lang
        k = self.service.kpis(self.state.system, *self.window())
        groups = {g: [kpi_tile(quantities.show(k, f, lang), basis=quantities.basis(k, f), lang=lang)
                      for f in fields]
                  for g, fields in quantities.BESS_GROUPS.items()}
        for group, shown in quantities.temperatures(k, lang):
            target = "group_aux" if group in quantities.THERMAL_GROUPS else "group_env"
            groups[target].insert(len(groups[target]) - (2 if target == "group_env" else 0), kpi_tile(shown))
        download = csv_download(lambda: kpi_csv_frame(k, lang), f"{self.state.system}_kpis.csv",
                                tr("download_csv", lang))
        download.css_classes = ["kpi-csv"]
        return pn.Column(kpi_panel([(tr(g, lang), tiles) for g, tiles in groups.items()]), download,
                         css_classes=["bess-kpis"], sizing_mode="stretch_width")

    @param.depends("state.system", "state.lang")
    def picker(self):
        if not self.visible:
            raise param.Skip
        info = self.info()
        names = [s.name for s in info.signals if not s.is_alarm and not s.is_counter]
        if self.quick_signal not in names and names:
            self.quick_signal = _QUICK_DEFAULT if _QUICK_DEFAULT in names else names[0]
        return pn.widgets.Select.from_param(self.param.quick_signal, options=names,
                                            name=tr("quick_series", self.state.lang), width=300)

    @param.depends("state.system", "state.range", "state.lang", "state.max_points", "quick_signal")
    @guarded
    def quick(self):
        lang, system, sig = self.state.lang, self.state.system, self.quick_signal
        if self.info().signal(sig) is None:
            return info_message(tr("no_data", lang))
        default = self.window()

        def fetch(start, end):
            if start is None:
                start, end = default
            return self.service.series(system, sig, start, end, max_points=self.state.max_points,
                                       method="minmax_lttb")

        zoom = ZoomSeries(fetch, label=f"{sig} – {self.info().signal(sig).description}", height=300, lang=lang,
                          state=self.state)
        download = csv_download(lambda: _series_frame(zoom.last), f"{system}_{sig}.csv", tr("download_csv", lang))
        return pn.Column(pn.pane.HoloViews(zoom.dmap, sizing_mode="stretch_width", css_classes=["quick-plot"]),
                         download, sizing_mode="stretch_width")

    @param.depends("state.system", "state.range", "state.lang")
    @guarded
    def alarms(self):
        lang, system = self.state.lang, self.state.system
        start, end = self.window()
        frames = []
        for sig in self.info().signals:
            if sig.is_alarm:
                # method none: downsampling could drop a short alarm; the level's max keeps it.
                s = self.service.series(system, sig.name, start, end, max_points=2000, method="none")
                frames.append(plots.alarm_spans(s))
        spans = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if spans.empty:
            return info_message(tr("no_alarms", lang))
        return pn.pane.HoloViews(plots.alarm_segments(spans, title=tr("alarm_timeline", lang), lang=lang),
                                 sizing_mode="stretch_width", css_classes=["alarm-timeline"])

    def __panel__(self):
        # KPIs and the quick series first; the alarms below fill in after (ViewBase.later: never above
        # the main plot, which would move under the user's pointer)
        return pn.Column(self.section(self.kpis), self.picker, self.section(self.quick),
                         self.later(self.alarms), sizing_mode="stretch_width")
