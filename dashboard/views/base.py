"""What every screen shares: the session's state, the query service and the chosen window."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

import holoviews as hv
import pandas as pd
import panel as pn
import param

from core.results import Series, SystemInfo
from dashboard import plots
from dashboard.i18n import tr
from dashboard.state import DashboardState, format_zoom, parse_zoom, window
from dashboard.timez import local_naive, local_to_utc

log = logging.getLogger(__name__)


class ScreenSection(pn.param.ParamMethod):
    """A view method's part of the page that stands still while its screen is not on the page.

    Panel re-evaluates a part on every change of what it depends on, with its spinner on and off
    around it. When the page switches screens, the system changes too, and each part of the screen
    being left did that for nothing (`guarded` skips it): two patches and ~70 ms each, 0.5 s of a
    switch from the meter screen (measured).
    """

    def _replace_pane(self, *args, force=False):
        owner = getattr(self.object, "__self__", None)
        if not getattr(owner, "visible", True):
            return
        return super()._replace_pane(*args, force=force)


class ViewBase(pn.viewable.Viewer):
    """Base of the screens; subclasses add @param.depends methods and a __panel__ layout."""

    state = param.ClassSelector(class_=DashboardState, doc="The session's shared inputs (URL-synced).")
    service = param.Parameter(doc="core.service.QueryService answering every question, in process.")
    screen = param.String(default="", doc="The state.view this object shows (set by the page).")
    active = param.Boolean(default=True, doc="False once the page replaced this object (it never computes again).")

    @property
    def visible(self) -> bool:
        """Whether this screen is the one on the page: a hidden one must not compute (its state may
        name a system of another kind, and its work would delay the visible screen)."""
        return self.active and (not self.screen or self.state.view == self.screen)

    def part(self, cls: type[ViewBase], **params) -> ViewBase:
        """A view inside this one (same state, service and screen), retired with it."""
        child = cls(state=self.state, service=self.service, screen=self.screen, active=self.active, **params)
        self.param.watch(lambda event: setattr(child, "active", event.new), "active")
        return child

    def info(self, system_id: str | None = None) -> SystemInfo:
        return self.service.system(system_id or self.state.system)

    def window(self, system_id: str | None = None) -> tuple[datetime | None, datetime | None]:
        rng = self.info(system_id).time_range
        return window(self.state.range, rng.end if rng else None, self.state.date_from, self.state.date_to)

    def section(self, fn: Callable, *, defer: bool = False, lazy: bool = False, **kwargs) -> pn.param.ParamMethod:
        """A reactive part of the page with Panel's own loading spinner while it recomputes.

        ``defer`` fills the part in after the page is shown, so the first thing an operator
        looks at is not held back by everything below it. ``lazy`` builds it only once it is
        on screen (a tab that is never opened costs nothing). A part of a screen that is not on
        the page stands still (ScreenSection).
        """
        options = dict(loading_indicator=True, defer_load=defer, lazy=lazy, **kwargs)
        if hasattr(fn, "__self__") and hasattr(fn, "_dinfo"):  # a view method declaring what it depends on
            return ScreenSection(fn, **options)
        return pn.panel(fn, **options)

    def later(self, fn: Callable, *, build: bool = False, min_height: int = 100, drawn: bool = True,
              **kwargs) -> pn.Column:
        """A section computed in a later turn of the server than the screen's main plot.

        The server sends what one callback changed when that callback ends: built in the same turn,
        the main plot waited for the KPIs, tables and second plots below it (a screen arrived
        whole, 4-7 s after the click). Here the section is a spinner at first and fills itself in
        once the browser has drawn the main plot (in the order the screen lists them); outside a
        server session it is built at once.
        Use it only below the main plot: a part filled in above it would push the plot down, away
        from where the user is pointing (a wheel zoom then lands on the wrong element).
        ``fn`` is a view method (a reactive section), or with ``build`` a function returning the part.
        ``drawn=False``, for a part inside another one being filled in: two turns on instead, after
        Panel has sent the enclosing part (its model update is a next-turn callback, queued when the
        enclosing part is set), so the two come in turns of their own.
        """
        holder = pn.Column(sizing_mode="stretch_width", min_height=min_height, loading=True)

        def fill() -> None:
            if self.active:
                holder.objects = [fn() if build else self.section(fn, **kwargs)]
            holder.param.update(loading=False, min_height=None)

        if drawn:
            session_later(fill, after_drawn=True)
        else:
            session_later(lambda: session_later(fill))
        return holder


def session_later(fn: Callable[[], None], *, after_drawn: bool = False, after_assets: bool = False) -> None:
    """Run ``fn`` in a later turn of this session's server (``after_drawn``: once the browser has drawn
    the screen's main plot, dashboard.drawn; ``after_assets``: once the browser has fetched the page's
    scripts, dashboard.assets_first); outside a server session, at once.

    A turn's changes go to the browser when it ends, so work split over turns arrives piece by piece.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        fn()
        return
    from panel.io.state import set_curdoc

    from dashboard.assets_first import after_assets as when_fetched
    from dashboard.drawn import after_drawn as when_drawn

    def run() -> None:
        with set_curdoc(doc):
            try:
                fn()
            except Exception:  # noqa: BLE001 -- a part that fails must not end the session's other callbacks
                log.exception("dashboard: a deferred part failed")

    if after_drawn:
        when_drawn(doc, run)
    elif after_assets:
        when_fetched(doc, run)
    else:
        doc.add_next_tick_callback(run)


class ZoomSeries:
    """A series plot re-read from the core (right level, re-downsampled) whenever the x range changes.

    ``fetch(start, end)`` returns the Series for a UTC window (None = the view's own window);
    the last Series shown is kept for the CSV download of what is on screen.

    With a ``state``, the zoom goes in its ``zoom`` parameter (and so in the URL), and a page
    opened with one starts zoomed there.
    """

    def __init__(self, fetch: Callable[[datetime | None, datetime | None], Series], *, label: str,
                 color: str = plots.PALETTE[0], height: int = 300, ylim: tuple | None = None,
                 axis_label: str | None = None, lang: str = "en", state: DashboardState | None = None) -> None:
        self._fetch, self._label, self._color, self._height, self._ylim = fetch, label, color, height, ylim
        self._state = state
        self._axis = {"axis_label": axis_label, "time_label": tr("time", lang), "band_label": tr("band", lang),
                      "lang": lang}
        self._xlim = parse_zoom(state.zoom) if state is not None else None
        # The first read happens now, so a failing query surfaces in the calling view as a message.
        if self._xlim is not None:
            self._first = self.last = fetch(local_to_utc(self._xlim[0]), local_to_utc(self._xlim[1]))
        else:
            self._first = self.last = fetch(None, None)
        self._span = _local_span(self._first)
        self._first_overlay: hv.Overlay | None = None
        self.dmap = hv.DynamicMap(self._render, streams=[hv.streams.RangeX()])

    def _is_shown(self, a: datetime, b: datetime) -> bool:
        """Whether a..b is the window first shown (within 1 %): the plot's own extent reported back."""
        shown = self._xlim or self._span
        if shown is None:
            return False
        tol = (shown[1] - shown[0]) * 0.01
        return abs(a - shown[0]) <= tol and abs(b - shown[1]) <= tol

    def _remember(self, a: datetime, b: datetime) -> None:
        """Put a real zoom in the URL (called only for one: _render returns first for the plot's own
        extent reported back)."""
        if self._state is not None:
            self._state.zoom = format_zoom(a, b)

    def _render(self, x_range=None) -> hv.Overlay:
        if x_range is None or None in x_range:
            return self._first_plot()
        try:
            a, b = (pd.Timestamp(x).to_pydatetime() for x in x_range)
        except (ValueError, TypeError, OverflowError) as exc:  # a range Bokeh could not give as times
            log.debug("zoom %s not understood: %s", x_range, exc)
            return self._first_plot()
        if self._is_shown(a, b):
            # HoloViews reports the plot's first extent right after drawing it: nothing to re-read
            # (that re-read cost 0.1-0.2 s per plot on every page and screen switch).
            return self._first_plot()
        self._remember(a, b)
        try:
            series = self._fetch(local_to_utc(x_range[0]), local_to_utc(x_range[1]))
        except Exception as exc:  # a zoom that fails keeps the plot and says why in its title
            log.warning("re-reading %s on zoom failed: %s", self._label, exc)
            return plots.series_plot(self._first, label=self._label, color=self._color,
                                     height=self._height, **self._axis).opts(title=str(exc))
        self.last = series
        return self._plot(series)

    def _first_plot(self) -> hv.Overlay:
        """The plot of the first read, built once."""
        self.last = self._first
        if self._first_overlay is None:
            self._first_overlay = self._plot(self._first)
        return self._first_overlay

    def _plot(self, series: Series) -> hv.Overlay:
        plot = plots.series_plot(series, label=self._label, color=self._color, height=self._height, **self._axis)
        if self._ylim is not None:
            plot = plot.opts(hv.opts.Curve(ylim=self._ylim))
        if self._xlim is not None:
            plot = plot.opts(hv.opts.Curve(xlim=self._xlim), hv.opts.Area(xlim=self._xlim))
        return plot


def _local_span(series: Series):
    """First and last time of a series as naive local datetimes (the axis's clock), or None."""
    if series is None or len(series.timestamps_ms) == 0:
        return None
    t = local_naive(series.timestamps_ms[[0, -1]])
    return pd.Timestamp(t[0]).to_pydatetime(), pd.Timestamp(t[1]).to_pydatetime()
