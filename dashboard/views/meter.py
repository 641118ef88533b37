"""Meter screen: power with its min/max band (re-read on zoom), power factor, daily energy, KPIs."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from dashboard import plots, quantities
from dashboard.i18n import tr
from dashboard.timez import local_naive
from dashboard.views.base import ViewBase, ZoomSeries
from dashboard.widgets import csv_download, guarded, info_message, kpi_csv_frame, kpi_panel, kpi_tile

POWER_SIGNAL = "com_ap"
PF_SIGNAL = "pf"


class MeterView(ViewBase):
    """One meter: what it drew and fed in, and how."""

    def _fetch(self, signal: str):
        system, max_points = self.state.system, self.state.max_points
        default = self.window()

        def fetch(start, end):
            if start is None:
                start, end = default
            return self.service.series(system, signal, start, end, max_points=max_points, method="minmax_lttb")

        return fetch

    @param.depends("state.system", "state.range", "state.lang")
    @guarded
    def kpis(self):
        lang = self.state.lang
        k = self.service.kpis(self.state.system, *self.window())
        tiles = [kpi_tile(shown, basis=quantities.basis(k, shown.key), lang=lang)
                 for shown in quantities.meter_rows(k, lang)]
        download = csv_download(lambda: kpi_csv_frame(k, lang), f"{self.state.system}_kpis.csv",
                                tr("download_csv", lang))
        download.css_classes = ["kpi-csv"]
        return pn.Column(kpi_panel([(tr("kpis", lang), tiles)]), download, sizing_mode="stretch_width")

    @param.depends("state.system", "state.range", "state.lang", "state.max_points")
    @guarded
    def power(self):
        lang = self.state.lang
        if self.info().signal(POWER_SIGNAL) is None:
            return info_message(tr("no_data", lang))
        zoom = ZoomSeries(self._fetch(POWER_SIGNAL), label=tr("power", lang), height=320, lang=lang,
                          state=self.state)
        self._power = zoom
        download = csv_download(lambda: _series_frame(zoom.last), f"{self.state.system}_power.csv",
                                tr("download_csv", lang))
        return pn.Column(pn.pane.HoloViews(zoom.dmap, sizing_mode="stretch_width", css_classes=["power-plot"]),
                         download, sizing_mode="stretch_width")

    @param.depends("state.system", "state.range", "state.lang", "state.max_points")
    @guarded
    def power_factor(self):
        lang = self.state.lang
        if self.info().signal(PF_SIGNAL) is None:
            return info_message(tr("no_data", lang))
        zoom = ZoomSeries(self._fetch(PF_SIGNAL), label=tr("power_factor", lang), color=plots.PALETTE[2],
                          height=220, ylim=(0, 1.05), lang=lang, state=self.state)
        return pn.pane.HoloViews(zoom.dmap, sizing_mode="stretch_width", css_classes=["pf-plot"])

    @param.depends("state.system", "state.range", "state.lang")
    @guarded
    def energy(self):
        lang = self.state.lang
        daily = self.service.daily_energy(self.state.system, *self.window())
        if not daily.days:
            return info_message(tr("no_data", lang))
        partial = tr("partial_day", lang)
        frame = plots.energy_frame(daily, {"import": tr("import", lang), "export": tr("export", lang),
                                           "aux": tr("aux", lang)}, partial_suffix=partial)
        title = tr("daily_energy" if len(daily.days) <= plots.MAX_DAILY_BARS else "monthly_energy", lang)
        return pn.pane.HoloViews(plots.energy_bars(frame, title=title, lang=lang, partial_suffix=partial),
                                 sizing_mode="stretch_width",
                                 css_classes=["energy-bars"])

    def __panel__(self):
        # the KPIs and the power plot first; what is below fills in after they were sent (ViewBase.later:
        # never above the main plot, which would move under the user's pointer)
        return pn.Column(self.section(self.kpis), self.section(self.power), self.later(self.power_factor),
                         self.later(self.energy), sizing_mode="stretch_width")


def _series_frame(series) -> pd.DataFrame:
    """The series on screen as a table (UTC and local time, value, band)."""
    if series is None:
        return pd.DataFrame()
    out = pd.DataFrame({
        "time_utc": pd.to_datetime(series.timestamps_ms, unit="ms", utc=True),
        "time_local": local_naive(series.timestamps_ms),
        "value": series.values,
    })
    if series.min is not None:
        out["min"], out["max"] = series.min, series.max
    return out.dropna(subset=["value"])
