"""Compare screen: two systems of any kind, signals overlaid, KPIs side by side, grouped energy."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param

from core.results import BessKpis, MeterKpis
from data.glossary import SystemKind
from dashboard import plots, quantities
from dashboard.i18n import tr
from dashboard.numbers import MISSING
from dashboard.views.base import ViewBase, ZoomSeries
from dashboard.widgets import csv_download, escape_html, guarded, info_message, kpi_csv_frame

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

        return window(self.state.range, max(ends) if ends else None, self.state.date_from, self.state.date_to)

    @param.depends("state.system", "state.other", "state.lang")
    def pickers(self):
        if not self.visible:
            raise param.Skip
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
        pairs = ((self.state.system, self.signal_a), (self.state.other, self.signal_b))
        signals = [self._signal(sys_id, chosen) for sys_id, chosen in pairs]
        # One y axis for both: it names the signals; the legend names each line's own system.
        axis = " / ".join(dict.fromkeys(signals))
        for i, ((sys_id, _), sig) in enumerate(zip(pairs, signals)):

            def fetch(start, end, sys_id=sys_id, sig=sig):
                if start is None:
                    start, end = default
                return self.service.series(sys_id, sig, start, end, max_points=self.state.max_points,
                                           method="minmax_lttb")

            zooms.append(ZoomSeries(fetch, label=f"{sys_id}: {sig}", color=plots.PALETTE[i], height=340,
                                    axis_label=axis, lang=self.state.lang, state=self.state))
        # One RangeX per curve keeps each re-read on zoom; the overlay shares the axis.
        both = (zooms[0].dmap * zooms[1].dmap).opts(hv.opts.Curve(show_legend=True))
        return pn.pane.HoloViews(both, sizing_mode="stretch_width", css_classes=["compare-plot"])

    @param.depends("state.system", "state.other", "state.range", "state.lang")
    @guarded
    def kpi_table(self):
        lang = self.state.lang
        start, end = self._window_both()
        # Tabulator renders column titles as HTML: a system id is text.
        kpis = {s: self.service.kpis(s, start, end) for s in (self.state.system, self.state.other)}
        frame = kpi_frame({escape_html(s): k for s, k in kpis.items()}, lang)
        table = pn.widgets.Tabulator(frame, disabled=True, show_index=False, sizing_mode="stretch_width",
                                     css_classes=["compare-kpis"], layout="fit_data_stretch")
        download = csv_download(lambda: compare_csv_frame(kpis, lang),
                                f"compare_{self.state.system}_{self.state.other}.csv", tr("download_csv", lang))
        download.css_classes = ["compare-csv"]
        return pn.Column(table, download, sizing_mode="stretch_width")

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
        return pn.pane.HoloViews(plots.energy_bars(frame, title=title, lang=lang), sizing_mode="stretch_width",
                                 css_classes=["compare-energy"])

    @param.depends("state.system", "state.other", "state.lang")
    def body(self):
        """The comparison, or why there is none: a system compared with itself says nothing."""
        if not self.visible:
            raise param.Skip
        if self.state.system == self.state.other:
            return info_message(tr("compare_same", self.state.lang, system=self.state.system))
        # the overlay first; the table and energy fill in after it was sent (ViewBase.later)
        return pn.Column(self.pickers, self.section(self.overlay), self.later(self.kpi_table),
                         self.later(self.energy), sizing_mode="stretch_width")

    def __panel__(self):
        return pn.panel(self.body, sizing_mode="stretch_width")


def kpi_frame(kpis: dict[str, MeterKpis | BessKpis], lang: str) -> pd.DataFrame:
    """KPIs of each system side by side: one row per quantity (union over both kinds, in display
    order), one column per system, each value in its one format (quantities.QUANTITIES)."""
    per_system = {sys_id: {s.label: s.text for s in quantities.rows(k, lang)} for sys_id, k in kpis.items()}
    labels: list[str] = []
    for shown in per_system.values():
        labels += [label for label in shown if label not in labels]
    frame = pd.DataFrame({sys_id: [shown.get(label, MISSING) for label in labels]
                          for sys_id, shown in per_system.items()})
    frame.insert(0, tr("kpis", lang), labels)
    return frame


def compare_csv_frame(kpis: dict[str, MeterKpis | BessKpis], lang: str) -> pd.DataFrame:
    """The compare table as CSV: one row per system and KPI, the core's value at full precision
    in its unit beside the text the table shows (widgets.kpi_csv_frame)."""
    parts = []
    for sys_id, k in kpis.items():
        f = kpi_csv_frame(k, lang)
        f.insert(0, "system", sys_id)
        parts.append(f)
    return pd.concat(parts, ignore_index=True)
