"""What the page shows (view, systems, range, language, ...) and its sync with the URL."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import panel as pn
import param

from core.series import DEFAULT_MAX_POINTS, MAX_POINTS
from dashboard.i18n import LANGUAGES
from dashboard.timez import local_to_utc
from data.glossary import LEVELS

VIEWS = ("fleet", "meter", "compare", "bess", "cells")
RANGES = ("1d", "7d", "1m", "all")
_RANGE_DAYS = {"1d": 1, "7d": 7, "1m": 30}
HEATMAPS = ("sat", "deviation", "raw")
# Parameters that make a link shareable (hover and the like are transient): the absolute window
# (date_from/date_to, local days) and the zoom of the series plots go along.
URL_PARAMS = ("view", "system", "other", "range", "date_from", "date_to", "zoom", "lang", "max_points", "pack",
              "cell", "heatmap", "level", "surface", "refresh", "sel", "day")
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})?$")
# A zoom window: two local (Europe/Berlin) times to the minute, "2025-03-01T08:00..2025-03-02T12:30".
_ZOOM = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\.\.\d{4}-\d{2}-\d{2}T\d{2}:\d{2})?$")
ZOOM_FORMAT = "%Y-%m-%dT%H:%M"


class DashboardState(param.Parameterized):
    """The page's shared inputs; one instance per browser session, mirrored in the URL query."""

    view = param.Selector(default="fleet", objects=list(VIEWS),
                          doc="Which screen is shown; the fleet ranked by risk first (what needs attention).")
    system = param.String(default="", doc="Id of the system the view is about.")
    other = param.String(default="", doc="Id of the second system in the compare view.")
    range = param.Selector(default="all", objects=list(RANGES),
                           doc="Range preset, counted back from the system's last sample.")
    date_from = param.String(default="", regex=_DAY.pattern,
                             doc="First local day of an absolute window (YYYY-MM-DD); set, it replaces the preset.")
    date_to = param.String(default="", regex=_DAY.pattern,
                           doc="Last local day (inclusive) of an absolute window (YYYY-MM-DD).")
    zoom = param.String(default="", regex=_ZOOM.pattern,
                        doc="The series plots' zoomed x range (local time), so a link reopens the same window.")
    refresh = param.Boolean(default=True,
                            doc="Auto-refresh: redraw the screen when an ingest publishes a new store version.")
    lang = param.Selector(default="en", objects=list(LANGUAGES), doc="Label language.")
    max_points = param.Integer(default=DEFAULT_MAX_POINTS, bounds=(100, MAX_POINTS),
                               doc="Most points drawn per series line (downsampled in the core).")
    pack = param.Integer(default=0, bounds=(0, 99), doc="Pack in the cell view (0 = all packs).")
    cell = param.Integer(default=1, bounds=(1, 999), doc="Cell within the pack for the raw cell viewer.")
    heatmap = param.Selector(default="deviation", objects=list(HEATMAPS),
                             doc="What the cell heatmap colours; deviation from peers first: what every cell "
                                 "shares (set-point, temperature) is gone, so a drifting cell or stepped pack shows.")
    level = param.Selector(default="1d", objects=list(LEVELS),
                           doc="Pyramid level of the raw cell-voltage heatmap.")
    surface = param.Boolean(default=False,
                            doc="Draw the 3D SAT surface with the interactive WebGL viewer (only pages opened "
                                "with it on load plotly.js); off: the server-drawn picture.")
    sel = param.String(default="", regex=r"^(P\d{1,3}C\d{1,4})?$",
                       doc="The cell opened in the cell view ('P2C9'; '' = none): a click on the heatmap or an alert.")
    day = param.String(default="", regex=r"^(\d{4}-\d{2}-\d{2})?$",
                       doc="The SAT day whose raw voltage the opened cell shows ('' = its last SAT day).")


def window(preset: str, data_end: datetime | None, date_from: str = "",
           date_to: str = "") -> tuple[datetime | None, datetime | None]:
    """[start, end) of a range preset, ending at the data's last sample; (None, None) for all.

    An absolute window (local days, either end may be open) replaces the preset: from the start
    of ``date_from`` to the end of ``date_to`` in Europe/Berlin, as UTC.
    """
    if date_from or date_to:
        return absolute_window(date_from, date_to)
    if preset == "all" or data_end is None:
        return None, None
    return data_end - timedelta(days=_RANGE_DAYS[preset]), data_end


def absolute_window(date_from: str, date_to: str) -> tuple[datetime | None, datetime | None]:
    """UTC [start, end) of local days date_from..date_to (inclusive); an empty end is open."""
    start = local_to_utc(datetime.combine(date.fromisoformat(date_from), time())) if date_from else None
    end = (local_to_utc(datetime.combine(date.fromisoformat(date_to) + timedelta(days=1), time()))
           if date_to else None)
    if start is not None and end is not None and end <= start:
        raise ValueError(f"date range {date_from}..{date_to}: the end lies before the start")
    return start, end


def parse_zoom(text: str) -> tuple[datetime, datetime] | None:
    """The zoom parameter as two naive local datetimes, or None when unset."""
    if not text:
        return None
    a, b = (datetime.strptime(x, ZOOM_FORMAT) for x in text.split(".."))
    return (a, b) if b > a else None


def format_zoom(start: datetime, end: datetime) -> str:
    return f"{start.strftime(ZOOM_FORMAT)}..{end.strftime(ZOOM_FORMAT)}"


def sync_url(state: DashboardState) -> None:
    """Mirror the shareable parameters in the URL query (both ways) when served."""
    loc = pn.state.location
    if loc is not None:
        loc.sync(state, {name: name for name in URL_PARAMS}, on_error=lambda bad: _apply_valid(state, bad))


def quiet_link_echo(raw_search: str) -> None:
    """Keep the browser from re-applying a link's replaced values (call after the page's state is final).

    When it connects, the browser reports its URL; if the server replaced values of the link (an
    unknown system, a default second system), that report differs from the server's query and
    re-applies the link's values, which are replaced again: two rebuilds of the screen, sent while
    the first document is still being drawn (measured: the parts below the plot 13 s late instead
    of 5 s). So the served query stays the link's own until the page is drawn, and the corrected
    one is put in the address bar then.
    """
    loc = pn.state.location
    if loc is None or loc.search == raw_search or pn.state.curdoc is None:
        return
    fixed = loc.search
    with param.discard_events(loc):  # no watcher: the state keeps its corrected values
        loc.search = raw_search

    def correct() -> None:
        loc.search = fixed  # its values equal the state's: nothing but the address bar changes

    pn.state.onload(correct)


def url_flag(raw: str) -> bool:
    """A yes/no URL parameter's value (surface=true, refresh=0)."""
    return raw.lower() in ("true", "1")


def state_from_request(state: DashboardState) -> list[str]:
    """Apply the page request's query before anything renders; returns the names of the parameters
    whose values could not be used (they keep their defaults, and the page says so).

    Without this the default screen is built first and replaced once the browser reports its
    URL, which costs the first visitor the render time of a screen they never asked for.
    """
    args = pn.state.session_args or {}
    values, bad = {}, []
    for name in URL_PARAMS:
        if name in args and args[name]:
            try:  # decoding is inside: ?system=%ff is bytes that are not UTF-8
                raw = args[name][0]
                raw = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                if name in ("surface", "refresh"):
                    values[name] = url_flag(raw)
                else:
                    values[name] = state.param[name].deserialize(raw) if name in ("max_points", "pack", "cell") else raw
            except (ValueError, TypeError):  # UnicodeDecodeError is a ValueError
                bad.append(name)
    return bad + _apply_valid(state, values)


def _apply_valid(state: DashboardState, values: dict) -> list[str]:
    """Apply the URL values one by one so one bad value (view=foo) does not drop the others; returns the
    names of those refused."""
    bad = []
    for name, value in values.items():
        try:
            state.param.update(**{name: value})
        except (ValueError, TypeError):
            bad.append(name)  # a hand-edited link keeps the default for what it got wrong
    return bad
