"""BESS overview: KPI tiles by subsystem (BMS, PCS, aux/thermal, environment/safety), series, alarms."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from dashboard import plots
from dashboard.i18n import tr
from dashboard.views.base import ViewBase, ZoomSeries
from dashboard.widgets import basis_of, csv_download, guarded, info_message, kpi_group, kpi_tile
from dashboard.views.meter import _series_frame

# Temperature groups of core.kpis shown under aux/thermal; the rest are environment.
_THERMAL = {"cells", "hvac_outside", "hvac_outlet_water", "pcs_igbt"}
_QUICK_DEFAULT = "bms1_soc"


class BessView(ViewBase):
    """One battery system at a glance."""

    quick_signal = param.String(default=_QUICK_DEFAULT, doc="Signal in the quick series viewer.")

    @param.depends("state.system", "state.range", "state.lang")
    @guarded
    def kpis(self):
        lang = self.state.lang
        k = self.service.kpis(self.state.system, *self.window())
        c = k.cycles
        temps = {t.group: t for t in k.temperatures}
        b = {g: basis_of(k, g) for g in ("soc", "soh_bms", "ac_energy", "ac_efficiency", "dc_efficiency", "aux",
                                    "pcs_power")}
        cap = k.capacity

        def tile(key, value, unit, group):
            return kpi_tile(tr(key, lang), value, unit, basis=b[group] if isinstance(group, str) else group,
                            lang=lang)

        bms = [
            tile("soc_min", k.soc_min_pct, "%", "soc"),
            tile("soc_mean", k.soc_mean_pct, "%", "soc"),
            tile("soc_max", k.soc_max_pct, "%", "soc"),
            tile("soh", k.soh_latest_pct, "%", "soh_bms"),
            tile("soh_trend", k.soh_trend_pct_per_year, "%/a", "soh_bms"),
            tile("soh_data", cap.soh_pct if cap else None, "%", cap.basis if cap else b["soh_bms"]),
            tile("capacity_ah", cap.capacity_ah if cap else None, "Ah", cap.basis if cap else b["soh_bms"]),
            tile("cycles", c.equivalent_full_cycles, "", c.basis),
            kpi_tile(tr("nameplate", lang), c.nameplate_kwh, "kWh"),
            tile("rte_dc", 100 * k.round_trip_efficiency_dc, "%", "dc_efficiency"),
            tile("rte_dc_aux", 100 * k.round_trip_efficiency_dc_with_aux, "%", "dc_efficiency"),
        ]
        pcs = [
            tile("peak_discharge", k.pcs_peak_discharge_kw, "kW", "pcs_power"),
            tile("peak_charge", k.pcs_peak_charge_kw, "kW", "pcs_power"),
            tile("charged", c.charged_kwh, "kWh", "ac_energy"),
            tile("discharged", c.discharged_kwh, "kWh", "ac_energy"),
            tile("rte", 100 * k.round_trip_efficiency, "%", "ac_efficiency"),
        ]
        aux = [tile("aux_energy", k.aux_kwh, "kWh", "aux"),
               tile("rte_aux", 100 * k.round_trip_efficiency_with_aux, "%", "ac_efficiency")]
        env = []
        for group, t in temps.items():
            target = aux if group in _THERMAL else env
            target.append(kpi_tile(tr("temp_mean", lang, group=group), t.mean_c, "°C"))
            target.append(kpi_tile(tr("temp_max", lang, group=group), t.max_c, "°C"))
        env.append(kpi_tile(tr("alarm_activations", lang), float(sum(a.activations for a in k.alarms)), ""))
        env.append(kpi_tile(tr("alarm_time", lang), sum(a.active_seconds for a in k.alarms) / 3600.0, "h"))
        return pn.Column(kpi_group(tr("group_bms", lang), bms), kpi_group(tr("group_pcs", lang), pcs),
                         kpi_group(tr("group_aux", lang), aux), kpi_group(tr("group_env", lang), env),
                         css_classes=["bess-kpis"], sizing_mode="stretch_width")

    @param.depends("state.system", "state.lang")
    def picker(self):
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

        zoom = ZoomSeries(fetch, label=f"{sig} – {self.info().signal(sig).description}", height=300)
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
        return pn.pane.HoloViews(plots.alarm_segments(spans, title=tr("alarm_timeline", lang)),
                                 sizing_mode="stretch_width", css_classes=["alarm-timeline"])

    def __panel__(self):
        return pn.Column(self.section(self.kpis), self.picker, self.section(self.quick),
                         self.section(self.alarms), sizing_mode="stretch_width")
