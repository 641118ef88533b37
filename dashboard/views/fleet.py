"""Fleet screen: every system in one table, most urgent first (core.fleet), a click opens the system."""

from __future__ import annotations

import math

import pandas as pd
import panel as pn
import param

from core.cells.drift import DAYS_PER_MONTH
from core.fleet import FleetRow
from dashboard.i18n import tabulator_locale, tr
from dashboard.numbers import MISSING, format_number
from dashboard.timez import local_naive
from dashboard.views.base import ViewBase
from dashboard.widgets import csv_download, guarded, info_message

# Shown column -> decimals (the CSV keeps full precision).
_DECIMALS = {"coverage_pct": 0, "critical_cells": 0, "warning_cells": 0, "pack_alerts": 0,
             "worst_drift_mv_per_month": 2, "pack_events": 0, "efc": 0, "soh_pct": 1, "problems": 0}
# The clickable columns: the screen each opens, per kind of system.
OPEN_COLUMNS = {"open": {"bess": "bess", "meter": "meter"}, "open_cells": {"bess": "cells"}}


def status_of(row: FleetRow) -> str:
    """critical / warning / ok: the first two numbers of the risk order (core.fleet)."""
    if row.critical_cells + row.critical_pack_alerts:
        return "critical"
    if row.warning_cells + row.warning_pack_alerts:
        return "warning"
    return "ok"


def fleet_frame(rows: list[FleetRow], lang: str) -> pd.DataFrame:
    """The ranked rows as the page shows them (machine column names; titles come from i18n)."""
    def num(x: float | None, scale: float = 1.0) -> float | None:
        return None if x is None or not math.isfinite(x) else x * scale

    last = [pd.Timestamp(local_naive([int(r.last_data.timestamp() * 1000)])[0]).strftime("%Y-%m-%d %H:%M")
            if r.last_data is not None else MISSING for r in rows]
    bess = [r.kind == "bess" for r in rows]
    frame = pd.DataFrame({
        "rank": range(1, len(rows) + 1),
        "system": [r.system_id for r in rows],
        "kind": [tr(f"fleet_kind_{r.kind}", lang) for r in rows],
        "status": [tr(f"fleet_{status_of(r)}", lang) for r in rows],
        "critical_cells": [r.critical_cells if b else None for r, b in zip(rows, bess)],
        "warning_cells": [r.warning_cells if b else None for r, b in zip(rows, bess)],
        "pack_alerts": [r.critical_pack_alerts + r.warning_pack_alerts if b else None for r, b in zip(rows, bess)],
        "worst_cell": [r.worst_cell or MISSING for r in rows],
        "worst_drift_mv_per_month": [num(r.worst_cell_drift_v_per_day, 1000.0 * DAYS_PER_MONTH) for r in rows],
        "pack_events": [r.pack_events if b else None for r, b in zip(rows, bess)],
        "efc": [num(r.efc) for r in rows],
        "soh_pct": [num(r.soh_pct) for r in rows],
        "coverage_pct": [num(r.coverage, 100.0) for r in rows],
        "last_data": last,
        "problems": [r.problems for r in rows],
        "open": [tr("bess" if b else "meter", lang) + " ›" for b in bess],
        "open_cells": [tr("cells", lang) + " ›" if b else "" for b in bess],
    })
    # Numbers as text in the page's language; what a meter does not have reads as a dash.
    for col, decimals in _DECIMALS.items():
        frame[col] = [format_number(x, lang, decimals=decimals) if x is not None and x == x else MISSING
                      for x in frame[col]]
    return frame


def fleet_csv_frame(rows: list[FleetRow]) -> pd.DataFrame:
    """Every field of the core's rows, in the core's units, ranked."""
    frame = pd.DataFrame([r.__dict__ for r in rows])
    frame.insert(0, "rank", range(1, len(rows) + 1))
    return frame


class FleetView(ViewBase):
    """Which of my systems and cells need attention first."""

    @param.depends("state.lang")
    @guarded
    def table(self):
        lang = self.state.lang
        rows = self.service.fleet()
        if not rows:
            return info_message(tr("no_systems", lang))
        frame = fleet_frame(rows, lang)
        table = pn.widgets.Tabulator(
            frame, disabled=True, show_index=False, sizing_mode="stretch_width", css_classes=["fleet-table"],
            layout="fit_data_stretch", pagination="local", page_size=50, selectable=False,
            titles={c: tr(f"fleet_col_{c}", lang) for c in frame.columns},
            # the clickable cells look like links (the click is handled in the session: no reload)
            stylesheets=[".tabulator-cell[tabulator-field^=open] {color: var(--bs-link-color, #0d6efd); "
                         "cursor: pointer; text-decoration: underline}"],
            configuration=tabulator_locale(lang))
        table.on_click(lambda event: self.open(rows, event.row, event.column))
        download = csv_download(lambda: fleet_csv_frame(rows), "fleet.csv", tr("download_csv", lang))
        title = pn.pane.Markdown(f"### {tr('fleet_title', lang)}\n\n{tr('fleet_note', lang)}",
                                 css_classes=["fleet-note"], margin=(0, 10))
        return pn.Column(title, table, download, sizing_mode="stretch_width")

    def open(self, rows: list[FleetRow], index: int, column: str) -> None:
        """A click on a row: its system on the screen of the clicked column (overview or cells)."""
        if index is None or not 0 <= index < len(rows):
            return
        row = rows[index]
        view = OPEN_COLUMNS.get(column, OPEN_COLUMNS["open"]).get(row.kind) or OPEN_COLUMNS["open"].get(row.kind)
        if view is not None:
            self.state.param.update(system=row.system_id, view=view)

    def __panel__(self):
        return pn.Column(self.section(self.table), sizing_mode="stretch_width")
