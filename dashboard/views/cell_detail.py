"""The opened cell (state.sel): its SAT against its pack and the system, its drift fit, and its raw voltage around a SAT day."""

from __future__ import annotations

import re

import numpy as np
import panel as pn
import param

from core.cell_detail import local_day_window
from core.cells.drift import DAYS_PER_MONTH, LimitStatus
from dashboard import plots
from dashboard.i18n import tr
from dashboard.numbers import format_number
from dashboard.views.base import ViewBase
from dashboard.widgets import guarded, info_message

_LABEL = re.compile(r"^P(\d+)C(\d+)$")


def parse_label(label: str) -> tuple[int, int] | None:
    """(pack, cell) of 'P2C9'; None for '' or anything else."""
    m = _LABEL.match(label or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def nearest_day(days: np.ndarray, wanted: str) -> np.datetime64 | None:
    """The day of ``days`` nearest to ``wanted`` (ISO date; '' = the last day); None without days."""
    if days.size == 0:
        return None
    if not wanted:
        return days[-1]
    target = np.datetime64(wanted, "D")
    return days[int(np.argmin(np.abs((days - target).astype(np.int64))))]


class CellDetailView(ViewBase):
    """Shown under the heatmap once a cell is opened (a click on it, or an alert's link)."""

    @param.depends("state.system", "state.sel", "state.day", "state.lang", "state.max_points")
    @guarded
    def detail(self):
        s, lang = self.state, self.state.lang
        where = parse_label(s.sel)
        if where is None:
            return pn.pane.Markdown(tr("tap_hint", lang), css_classes=["cell-detail-hint"])
        pack, cell = where
        d = self.service.cell_detail(s.system, pack, cell)
        close = pn.widgets.Button(name=tr("close_cell", lang), width=90, css_classes=["cell-detail-close"])
        close.on_click(lambda _event: s.param.update(sel="", day=""))
        head = pn.Row(pn.pane.Markdown(f"### {tr('cell_detail', lang, cell=d.label)}"), close,
                      sizing_mode="stretch_width")
        peers = pn.pane.HoloViews(plots.sat_vs_peers(d, title=tr("sat_vs_peers", lang, cell=d.label), lang=lang),
                                  sizing_mode="stretch_width", css_classes=["cell-sat-peers"], linked_axes=False)
        drift = pn.pane.HoloViews(plots.drift_plot(d, title=self._drift_title(d), lang=lang),
                                  sizing_mode="stretch_width", css_classes=["cell-drift"], linked_axes=False)
        notes = [plots.annotation_legend(lang, heatmap=False)]
        if d.limit_status is LimitStatus.DATE:
            notes.append(tr("limit_reached_on", lang, limit=format_number(1000 * d.limit_v, lang, digits=0),
                            date=str(d.limit_date)))
        parts = [head, peers, drift, pn.pane.Markdown(" ".join(notes), css_classes=["annotation-legend"],
                                                      sizing_mode="stretch_width")]
        parts += self._raw(d)
        return pn.Column(*parts, sizing_mode="stretch_width", css_classes=["cell-detail"])

    def _drift_title(self, d) -> str:
        lang = self.state.lang

        def per_month(v: float) -> str:
            return format_number(1000.0 * DAYS_PER_MONTH * v, lang, digits=2) if np.isfinite(v) else "–"

        return tr("drift_title", lang, cell=d.label, drift=per_month(d.drift_v_per_day),
                  low=per_month(d.drift_ci95_low_v_per_day), high=per_month(d.drift_ci95_high_v_per_day),
                  limit=format_number(1000.0 * d.limit_v, lang, digits=0))

    def _raw(self, d) -> list:
        """A SAT-day picker and the cell's voltage over that local day and one day each side."""
        s, lang = self.state, self.state.lang
        days = d.sat_days
        day = nearest_day(days, s.day)
        if day is None:
            return [info_message(tr("no_sat_days", lang, cell=d.label))]
        options = [str(x) for x in days[::-1]]  # latest first
        picker = pn.widgets.Select(name=tr("sat_day", lang), options=options, value=str(day), width=160,
                                   css_classes=["sat-day"])
        picker.param.watch(lambda event: setattr(s, "day", event.new), "value")
        start, end = local_day_window(day)
        series = self.service.cell_series(s.system, d.pack, d.cell, start=start, end=end,
                                          max_points=s.max_points, method="minmax_lttb")
        title = tr("raw_around_day", lang, cell=d.label, day=str(day))
        plot = plots.series_plot(series, label=title, axis_label=tr("cell_voltage", lang),
                                 time_label=tr("time", lang), band_label=tr("band", lang), lang=lang)
        # the chosen day itself, shaded
        mark = plots.day_span(day)
        return [picker, pn.pane.HoloViews((plot * mark).opts(title=title), sizing_mode="stretch_width",
                                          css_classes=["cell-raw-day"], linked_axes=False)]
