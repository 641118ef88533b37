"""Compare screen: two systems of any kind, signals overlaid, KPIs side by side, grouped energy."""

from __future__ import annotations

import dataclasses
import math

import holoviews as hv
import pandas as pd
import panel as pn
import param

from core.results import BessKpis, MeterKpis
from data.glossary import SystemKind
from dashboard import plots
from dashboard.i18n import tr
from dashboard.views.base import ViewBase, ZoomSeries
from dashboard.widgets import escape_html, format_value, guarded, info_message

# The signal a system is compared by unless the user picks another: its power.
DEFAULT_SIGNAL = {SystemKind.METER: "com_ap", SystemKind.BESS: "pcs1_ap"}


class CompareView(ViewBase):
    """Two systems side by side; power by default, any scalar signal on request."""

    signal_a = param.String(default="", doc="Signal of the first system (empty = its power).")
    signal_b = param.String(default="", doc="Signal of the second system (empty = its power).")

    def _signal(self, system_id: str, chosen: str) -> str:
        info = self.info(system_id)
        if chosen and info.signal(chosen) is not None:
            return chosen
        return DEFAULT_SIGNAL[info.kind]

    def _window_both(self):
        """One window for both: the preset counted back from the later of the two ends."""
        ends = [self.info(s).time_range.end for s in (self.state.system, self.state.other)
                if self.info(s).time_range]
        from dashboard.state import window

        return window(self.state.range, max(ends) if ends else None)

    @param.depends("state.system", "state.other", "state.lang")
    def pickers(self):
        lang = self.state.lang
        out = []
        for sys_id, pname in ((self.state.system, "signal_a"), (self.state.other, "signal_b")):
            try:
                info = self.info(sys_id)
            except Exception:
                continue
            names = [s.name for s in info.signals if not s.is_alarm and not s.is_counter]
            if getattr(self, pname) not in names:
                setattr(self, pname, DEFAULT_SIGNAL[info.kind] if DEFAULT_SIGNAL[info.kind] in names else names[0])
            out.append(pn.widgets.Select.from_param(self.param[pname], options=names,
                                                    name=f"{tr('signal', lang)} ({sys_id})", width=260))
        return pn.Row(*out)

    @param.depends("state.system", "state.other", "state.range", "state.lang", "state.max_points",
                   "signal_a", "signal_b")
    @guarded
    def overlay(self):
        default = self._window_both()
        zooms = []
        for i, (sys_id, chosen) in enumerate(((self.state.system, self.signal_a), (self.state.other, self.signal_b))):
            sig = self._signal(sys_id, chosen)

            def fetch(start, end, sys_id=sys_id, sig=sig):
                if start is None:
                    start, end = default
                return self.service.series(sys_id, sig, start, end, max_points=self.state.max_points,
                                           method="minmax_lttb")

            zooms.append(ZoomSeries(fetch, label=f"{sys_id} {sig}", color=plots.PALETTE[i], height=340))
        # One RangeX per curve keeps each re-read on zoom; the overlay shares the axis.
        both = (zooms[0].dmap * zooms[1].dmap).opts(hv.opts.Curve(show_legend=True))
        return pn.pane.HoloViews(both, sizing_mode="stretch_width", css_classes=["compare-plot"])

    @param.depends("state.system", "state.other", "state.range", "state.lang")
    @guarded
    def kpi_table(self):
        lang = self.state.lang
        start, end = self._window_both()
        cols = {}
        for sys_id in (self.state.system, self.state.other):
            # Tabulator renders column titles as HTML: a system id is text.
            cols[escape_html(sys_id)] = _kpi_rows(self.service.kpis(sys_id, start, end), lang)
        frame = pd.DataFrame(cols).reset_index(names=tr("kpis", lang)).fillna("–")
        return pn.widgets.Tabulator(frame, disabled=True, show_index=False, sizing_mode="stretch_width",
                                    css_classes=["compare-kpis"], layout="fit_data_stretch")

    @param.depends("state.system", "state.other", "state.range", "state.lang")
    @guarded
    def energy(self):
        lang = self.state.lang
        start, end = self._window_both()
        frames = []
        for sys_id in (self.state.system, self.state.other):
            daily = self.service.daily_energy(sys_id, start, end)
            if daily.days:
                f = plots.energy_frame(daily, {"import": tr("import", lang), "export": tr("export", lang)})
                f["kind"] = sys_id + " " + f["kind"]
                frames.append(f)
        if not frames:
            return info_message(tr("no_data", lang))
        frame = pd.concat(frames, ignore_index=True)
        long = frame["period"].nunique() > plots.MAX_DAILY_BARS or frame["period"].str.len().max() == 7
        title = tr("monthly_energy" if long else "daily_energy", lang)
        return pn.pane.HoloViews(plots.energy_bars(frame, title=title), sizing_mode="stretch_width",
                                 css_classes=["compare-energy"])

    def __panel__(self):
        return pn.Column(self.pickers, self.section(self.overlay), self.section(self.kpi_table),
                         self.section(self.energy), sizing_mode="stretch_width")


_FIELD_KEYS = {
    "import_kwh": "import", "export_kwh": "export", "net_kwh": "net", "peak_power_kw": "peak_power",
    "mean_power_kw": "mean_power", "min_power_kw": "min_power", "mean_power_factor": "mean_pf",
    "load_factor": "load_factor", "soc_min_pct": "soc_min", "soc_mean_pct": "soc_mean", "soc_max_pct": "soc_max",
    "soh_latest_pct": "soh", "soh_trend_pct_per_year": "soh_trend", "round_trip_efficiency": "rte",
    "round_trip_efficiency_with_aux": "rte_aux", "aux_kwh": "aux_energy",
    "pcs_peak_discharge_kw": "peak_discharge", "pcs_peak_charge_kw": "peak_charge",
}
_KPI_UNITS = {"_kwh": "kWh", "_kw": "kW", "_pct": "%", "_c": "°C"}


def _kpi_rows(k: MeterKpis | BessKpis, lang: str) -> dict[str, str]:
    """Flat, formatted KPIs of either kind (nested cycles and temperatures flattened)."""
    out: dict[str, str] = {}
    for f in dataclasses.fields(k):
        v = getattr(k, f.name)
        if f.name == "cycles":
            out[tr("cycles", lang)] = format_value(v.equivalent_full_cycles, "")
            out[tr("charged", lang)] = format_value(v.charged_kwh, "kWh")
            out[tr("discharged", lang)] = format_value(v.discharged_kwh, "kWh")
        elif f.name == "temperatures":
            for g in v:
                out[f"T {g.group} (mean)"] = format_value(g.mean_c, "°C")
        elif f.name == "alarms":
            out[tr("alarm_activations", lang)] = str(sum(a.activations for a in v))
        elif isinstance(v, (int, float)):
            unit = next((u for suffix, u in _KPI_UNITS.items() if f.name.endswith(suffix)), "")
            if f.name.endswith("_per_year"):
                unit = "%/a"
            out[tr(_FIELD_KEYS.get(f.name, f.name), lang)] = format_value(v, unit) if not (isinstance(v, float) and math.isnan(v)) else "–"
    return out
