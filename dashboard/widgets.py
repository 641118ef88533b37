"""Small building blocks shared by the views: KPI tiles, unit scaling, errors, CSV download."""

from __future__ import annotations

import functools
import io
import logging
import math
from html import escape
from typing import Callable

import pandas as pd
import panel as pn
import param

from dashboard.i18n import tr
from dashboard.numbers import scale_unit
from dashboard.quantities import Shown

log = logging.getLogger(__name__)

def format_value(value: float | None, unit: str, *, digits: int = 3) -> str:
    """A KPI value as text with scaled unit; missing values read as an en dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    v, u = scale_unit(float(value), unit)
    text = f"{v:,.{digits}g}" if abs(v) < 10 ** digits else f"{v:,.0f}"
    return f"{text} {u}".strip()


def basis_of(kpis, group: str):
    """The KpiBasis of one group of a MeterKpis/BessKpis result, or None."""
    return next((b for b in getattr(kpis, "basis", ()) if b.group == group), None)


def kpi_tile(label: str | Shown, value: float | None = None, unit: str = "", *, basis=None,
             lang: str = "en") -> str:
    """One KPI as a small card (HTML): label above, scaled value with unit below.

    ``label`` may be a quantities.Shown (label, text and definition in the one format of that
    KPI). With a ``basis`` (core.results.KpiBasis), a missing value reads "no data" with the
    reason on hover, and a present one shows its method and coverage on hover.
    Tiles are HTML inside one pane per screen (:func:`kpi_panel`), not a pane each: 30 Bokeh
    models with their own styles cost the server and the browser more than the whole plot.
    """
    key, help_text = None, ""
    if isinstance(label, Shown):
        key, help_text, missing, text = label.key, label.help, label.missing, label.text
        label = label.label
    else:
        missing = value is None or (isinstance(value, float) and not math.isfinite(value))
        text = format_value(value, unit)
    hover = help_text
    if basis is not None:
        if missing:
            text = tr("no_data", lang)
            hover = basis.reason or basis.method
        else:
            cov = f"; {tr('coverage', lang)} {basis.coverage:.1%}" if math.isfinite(basis.coverage) else ""
            hover = " ".join(x for x in (help_text, f"{', '.join(basis.signals)}: {basis.method}{cov}") if x)
    mark = " ⓘ" if help_text else ""
    classes = " ".join(["kpi-tile"] + ([f"kpi-{key}"] if key else []) + (["kpi-missing"] if missing else []))
    return (f'<div class="{escape(classes, quote=True)}" title="{escape(hover, quote=True)}" style="width:170px;'
            f'height:70px;box-sizing:border-box;border:1px solid rgba(128,128,128,0.35);border-radius:6px;'
            f'padding:4px 10px;margin:5px">'
            f'<div class="kpi-label" style="font-size:0.8em;opacity:0.75">{escape(label)}{mark}</div>'
            f'<div class="kpi-value" style="font-size:1.35em;font-weight:600{";opacity:0.55" if missing else ""}">'
            f'{escape(text)}</div></div>')


def kpi_panel(groups: list[tuple[str, list[str]]], css_classes: list[str] | None = None) -> pn.pane.HTML:
    """Groups of KPI tiles (:func:`kpi_tile`), each under its title, as one HTML pane."""
    body = "".join(f'<div class="kpi-group"><h4 style="margin:8px 5px 2px">{escape(title)}</h4>'
                   f'<div style="display:flex;flex-wrap:wrap">{"".join(tiles)}</div></div>'
                   for title, tiles in groups)
    return pn.pane.HTML(body, sizing_mode="stretch_width", css_classes=["kpi-panel", *(css_classes or [])])


def error_message(exc: BaseException, lang: str) -> pn.pane.Alert:
    """An error as a readable message on the page (the page itself keeps working)."""
    # The message may carry names from the store or the link: escaped, so it is text, never markup.
    return pn.pane.Alert(f"**{tr('error', lang)}:** {escape_markdown(str(exc))}", alert_type="danger",
                         css_classes=["view-error"])


def info_message(text: str) -> pn.pane.Alert:
    return pn.pane.Alert(escape_markdown(text), alert_type="info", css_classes=["view-info"])


_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_MARKDOWN_CHARS = set("\\`*_{}[]()#+-.!|~")


def escape_markdown(text: str) -> str:
    """Text shown literally inside Markdown: HTML's special characters as entities, Markdown's
    markup characters backslash-escaped (so a name can neither add a tag nor a link)."""
    return "".join(_HTML_ENTITIES.get(c) or ("\\" + c if c in _MARKDOWN_CHARS else c) for c in text)


def escape_html(text: object) -> str:
    """A name (system, signal, ...) as text inside HTML, e.g. a table's column title."""
    return escape(str(text), quote=True)


def guarded(method: Callable) -> Callable:
    """Wrap a view method so a failing query becomes a message instead of a broken page.

    A screen that is not on the page skips the update (param.Skip keeps what it showed): only the
    visible screen computes, and a hidden one never asks for a system of the wrong kind.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if not getattr(self, "visible", True):
            raise param.Skip
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # the page must survive any query error; the log keeps the trace
            log.exception("dashboard view %s failed", method.__qualname__)
            return error_message(exc, self.state.lang)

    return wrapper


def kpi_csv_frame(k, lang: str) -> pd.DataFrame:
    """The KPIs behind the tiles as a table: machine key, the label on screen, the core's value at
    full precision in the core's unit (efficiencies as 0..1) and the text the tile shows."""
    from dashboard import quantities

    temps = {f"temperature_{t.group}_{stat}": v for t in getattr(k, "temperatures", ())
             for stat, v in (("mean", t.mean_c), ("max", t.max_c))}
    keys, labels, values, units, texts = [], [], [], [], []
    for shown in quantities.rows(k, lang):
        if shown.key in temps:
            value, unit = temps[shown.key], "°C"
        else:
            q = quantities.QUANTITIES[shown.key]
            value = quantities._value(k, shown.key)
            unit = "1" if q.factor != 1.0 else (tr(q.unit, "en") if q.unit.startswith("unit_") else q.unit)
        keys.append(shown.key)
        labels.append(shown.label)
        values.append(None if value is None or not math.isfinite(float(value)) else float(value))
        units.append(unit)
        texts.append(shown.text)
    return pd.DataFrame({"kpi": keys, "label": labels, "value": values, "unit": units, "shown": texts})


def csv_download(frame: Callable[[], pd.DataFrame], filename: str, label: str) -> pn.widgets.FileDownload:
    """A button that writes the table behind the view (computed when clicked) as CSV."""

    def _csv() -> io.StringIO:
        buf = io.StringIO()
        frame().to_csv(buf, index=False)
        buf.seek(0)
        return buf

    return pn.widgets.FileDownload(callback=_csv, filename=filename, label=label, button_type="default",
                                   width=180, embed=False)
