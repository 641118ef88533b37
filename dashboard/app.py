"""The page (template, navigation, URL state) and its mounting into the one FastAPI server."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import holoviews as hv
import panel as pn
import param
from panel.io.callbacks import PeriodicCallback

from core.results import SystemInfo
from data.glossary import SystemKind
from dashboard.i18n import tr
from dashboard.page import FastTemplate, page_extensions, page_kind
from dashboard.state import (RANGES, URL_PARAMS, VIEWS, DashboardState, quiet_link_echo, state_from_request,
                             sync_url)
from dashboard.drawn import watch_page
from dashboard.views.base import session_later
from dashboard.widgets import error_message, info_message

log = logging.getLogger(__name__)

# Which systems each screen can show; fleet and compare take any kind.
_VIEW_KINDS = {"fleet": None, "meter": SystemKind.METER, "compare": None, "bess": SystemKind.BESS,
               "cells": SystemKind.BESS}
# How often an open page looks for a newly published store version [ms] (reading one small pointer file).
REFRESH_PERIOD_MS = 3000
# What a new screen, system or window forgets: the zoom belongs to the window it was made in.
_UNZOOM = ["view", "system", "other", "range", "date_from", "date_to"]


def _extensions() -> None:
    """Load the front-end pieces once per process (Panel keeps this in its own config)."""
    hv.extension("bokeh", logo=False)  # the 3D surface is a plain plotly.js figure (views/surface.py)
    # HoloViews draws with WebGL by default. Our series are downsampled to a few thousand points,
    # which a 2D canvas draws at once; and where the browser has no GPU (VMs, remote desktops,
    # headless Chromium) WebGL is emulated in software: blitting it took 0.47 s of a page load here.
    hv.renderer("bokeh").webgl = False
    # global_loading_spinner: the served HTML's body carries Panel's spinner until Bokeh has rendered,
    # so a visitor sees progress at once instead of a white page.
    pn.extension("plotly", "tabulator", loading_indicator=True, notifications=False, global_loading_spinner=True)
    from dashboard.first_render import render_once
    from dashboard.page import trim_scripts
    from dashboard.plots import fix_dark_theme

    fix_dark_theme()
    trim_scripts()
    render_once()  # each series plot drawn once on first display, not twice
    # HoloViews waits 100 ms (in 50 ms steps) for more range events before re-rasterizing a zoom;
    # the plots already merge the ticks of one scroll in the browser (lod_timeout, see plots.heatmap).
    from holoviews.plotting.bokeh.callbacks import RangeXYCallback

    RangeXYCallback.debounce = None


class Dashboard(pn.viewable.Viewer):
    """The one page: sidebar with navigation and inputs, the chosen screen in the main area."""

    state = param.ClassSelector(class_=DashboardState, doc="The session's shared, URL-synced inputs.")
    service = param.Parameter(doc="core.service.QueryService, called in process.")
    plotly = param.Boolean(default=False, doc="Whether this page loaded plotly.js (see page_extensions).")
    bad_link = param.List(default=[], doc="URL parameters whose values could not be used (shown once).")
    defer = param.Boolean(default=True, doc="Serve the page first and compute the screen in the next server turn.")
    version = param.String(default="", doc="The store version the screen shows (auto-refresh redraws on a new one).")

    def __init__(self, **params) -> None:
        params.setdefault("state", DashboardState())
        super().__init__(**params)
        self._view: tuple[str, str, pn.viewable.Viewer] | None = None  # (screen, version, object)
        # Also when the browser reports its URL (Location sync): an unknown or undecodable id there
        # falls back to a valid one instead of an error on every part of the screen.
        self.state.param.watch(self._fix_system, ["view", "system", "other"])
        # The link's own window is applied before these watch: the first _fix_system (a default second
        # system filled in) must not drop the link's zoom, which the browser would then report back
        # while the first screen is still being sent (BokehJS: "reference ... isn't known").
        self._fix_system()
        self.state.param.watch(self._unzoom, _UNZOOM)
        self.state.param.watch(self._undate, ["range"])
        try:
            self.version = self.service.snapshot().version
        except Exception:  # no store yet: the main area says so; a later publish is picked up
            self.version = ""

    def _unzoom(self, *_events) -> None:
        self.state.zoom = ""

    def _undate(self, *_events) -> None:
        """A preset chosen replaces an absolute window."""
        self.state.param.update(date_from="", date_to="")

    def check_version(self) -> None:
        """The periodic callback: a newly published store version redraws the screen (auto-refresh on)."""
        if not self.state.refresh:
            return
        try:
            version = self.service.snapshot().version
        except Exception:  # noqa: BLE001 -- a store being replaced or unreachable: try again next time
            log.debug("store version check failed", exc_info=True)
            return
        if version != self.version:
            log.info("dashboard auto-refresh: store version %s -> %s", self.version, version)
            self.version = version

    # -- systems per view -----------------------------------------------------------------

    def systems_for(self, view: str) -> list[SystemInfo]:
        kind = _VIEW_KINDS[view]
        return self.service.systems(kind)

    def _fix_system(self, *_events) -> None:
        """Keep the chosen systems valid for the screen (a meter id makes no sense on the BESS screen)."""
        try:
            ids = [s.id for s in self.systems_for(self.state.view)]
            every = [s.id for s in self.service.systems()]
        except Exception:  # no store yet: the main area says so
            return
        self._show_for_view(ids)  # the system list of the screen's kind first: the choice must be one of them
        updates = {}
        if ids and self.state.system not in ids:
            updates["system"] = ids[0]
        mine = updates.get("system", self.state.system)
        if every and (self.state.other not in every or ("system" in updates and self.state.other == mine)):
            # a fallback never pairs a system with itself (Compare refuses that); a user's own choice stays
            updates["other"] = next((s for s in every if s != mine), every[0])
        if updates:
            self.state.param.update(**updates)

    # -- sidebar --------------------------------------------------------------------------

    @param.depends("state.lang", "version")
    def controls(self):
        """The sidebar's widgets, built once per language and store version. A screen switch only
        changes which of them show and the system list (_show_for_view): rebuilt on every switch,
        the sidebar was sent and drawn again (date pickers and all) before the new screen."""
        lang, s = self.state.lang, self.state
        nav = pn.widgets.RadioButtonGroup.from_param(
            s.param.view, options={tr(v, lang): v for v in VIEWS}, name=tr("view", lang),
            orientation="vertical", button_type="primary", button_style="outline",
            sizing_mode="stretch_width", css_classes=["nav"])
        try:
            every = [x.id for x in self.service.systems()]
        except Exception:
            every = []
        self._system_select = pn.widgets.Select.from_param(s.param.system, options=[s.system],
                                                           name=tr("system", lang), css_classes=["system-select"])
        self._other_select = pn.widgets.Select.from_param(s.param.other, options=every or [s.other],
                                                          name=tr("second_system", lang))
        self._window_widgets = [
            pn.widgets.RadioButtonGroup.from_param(s.param.range, options={tr(r, lang): r for r in RANGES},
                                                   name=tr("range", lang), css_classes=["range"]),
            *self.date_pickers(lang),
            pn.widgets.IntInput.from_param(s.param.max_points, name=tr("max_points", lang), step=500),
        ]
        self._show_for_view()
        return pn.Column(
            nav, self._system_select, self._other_select, *self._window_widgets,
            pn.widgets.RadioButtonGroup.from_param(s.param.lang, options={"English": "en", "Deutsch": "de"},
                                                   name=tr("language", lang), css_classes=["lang"]),
            pn.Row(pn.widgets.Checkbox.from_param(s.param.refresh, name=tr("auto_refresh", lang),
                                                  css_classes=["auto-refresh"]),
                   pn.widgets.TooltipIcon(value=tr("auto_refresh_help", lang))),
            sizing_mode="stretch_width")

    def _show_for_view(self, ids: list[str] | None = None) -> None:
        """Show the sidebar's inputs the screen uses, with the systems of its kind to choose from
        (``ids``, when the caller has them; the fleet shows every system over its whole record; only
        Compare has a second system)."""
        select = getattr(self, "_system_select", None)
        if select is None:  # before the sidebar is built
            return
        view = self.state.view
        if ids is None:
            try:
                ids = [x.id for x in self.systems_for(view)]
            except Exception:
                ids = []
        select.param.update(options=ids or [self.state.system], visible=view != "fleet")
        self._other_select.visible = view == "compare"
        for widget in self._window_widgets:
            widget.visible = view != "fleet"

    def date_pickers(self, lang: str) -> list:
        """From/to day pickers for an absolute window, two-way with state.date_from/date_to (strings in the URL)."""
        s = self.state
        out = []
        for watcher in getattr(self, "_picker_watchers", []):  # the sidebar is rebuilt: drop the old pickers' links
            s.param.unwatch(watcher)
        self._picker_watchers = []
        for name, css in (("date_from", "date-from"), ("date_to", "date-to")):
            value = getattr(s, name)
            picker = pn.widgets.DatePicker(name=tr(name, lang), value=date.fromisoformat(value) if value else None,
                                           css_classes=[css], sizing_mode="stretch_width")

            def _to_state(event, name=name) -> None:
                setattr(s, name, event.new.isoformat() if event.new else "")

            def _to_picker(event, picker=picker) -> None:
                picker.value = date.fromisoformat(event.new) if event.new else None

            picker.param.watch(_to_state, "value")
            self._picker_watchers.append(s.param.watch(_to_picker, name))
            out.append(picker)
        clear = pn.widgets.Button(name=tr("clear_dates", lang), button_type="light", css_classes=["clear-dates"],
                                  sizing_mode="stretch_width")
        clear.on_click(lambda _e: s.param.update(date_from="", date_to=""))
        return [pn.pane.Markdown(f"**{tr('absolute_range', lang)}**", margin=(5, 10, 0, 10)), *out, clear]

    def theme_link_html(self) -> str:
        """A plain link to the same page in the other theme (Panel reads ?theme= on load)."""
        dark = pn.config.theme == "dark"
        query = {p: getattr(self.state, p) for p in URL_PARAMS}
        query["theme"] = "default" if dark else "dark"
        label = tr("theme_light" if dark else "theme_dark", self.state.lang)
        return (f'<a class="theme-link" style="color: inherit; text-decoration: underline" '
                f'href="?{urlencode(query)}">{label}</a>')

    def theme_link(self) -> pn.pane.HTML:
        """The theme link, its address kept current in place (a new pane per change was built,
        sent and drawn twice in every screen switch: once for the screen, once for the system)."""
        link = pn.pane.HTML(self.theme_link_html(), margin=(10, 10))
        self.state.param.watch(lambda *_: setattr(link, "object", self.theme_link_html()), list(URL_PARAMS))
        return link

    # -- main area ------------------------------------------------------------------------

    def view_for(self, name: str) -> pn.viewable.Viewer:
        """The screen object for ``name`` at the current store version.

        A new one per visit (and per store version): the one it replaces is deactivated, so only
        the visible screen computes (widgets.guarded skips the others), and a screen shown again
        never shows what it computed for another system or window while hidden.
        """
        if self._view is not None and self._view[:2] == (name, self.version):
            return self._view[2]
        from dashboard.views import bess, cells, compare, fleet, meter

        cls = {"fleet": fleet.FleetView, "meter": meter.MeterView, "compare": compare.CompareView,
               "bess": bess.BessView, "cells": cells.CellView}[name]
        extra = {"plotly_ready": self.plotly} if name == "cells" else {}
        view = cls(state=self.state, service=self.service, screen=name, **extra)
        if self._view is not None:
            self._view[2].active = False
        self._view = (name, self.version, view)
        return view

    @param.depends("state.view", "version")
    def main(self):
        try:
            if not self.systems_for(self.state.view):
                return info_message(tr("no_systems", self.state.lang))
            view = self.view_for(self.state.view)
        except Exception as exc:  # a missing store or a broken view is a message, never a broken page
            log.exception("dashboard main area failed")
            return error_message(exc, self.state.lang)
        if self.bad_link:  # names only (never the values: they are whatever the link carried)
            note = pn.pane.Alert(tr("bad_link", self.state.lang, names=", ".join(self.bad_link)),
                                 alert_type="warning", css_classes=["link-warning"])
            return pn.Column(note, view, sizing_mode="stretch_width")
        return view

    def __panel__(self):
        template = FastTemplate(
            title=tr("title", self.state.lang), sidebar_width=280,
            sidebar=[pn.panel(self.controls), self.theme_link()], main=[self.main_area()])
        return template

    def main_area(self) -> pn.viewable.Viewable:
        """The screen, computed after the page was served, while the browser parses its scripts.

        Built in the page's own turn, it held the HTML back; deferred to the browser's "document
        ready" (Panel's defer_load), it started only after ~2 s of script loading, with the server
        idle meanwhile; computed in the session's next turn, it held back the scripts themselves
        (dashboard.assets_first). Computed once they are fetched, it is usually in the document by
        the time the browser asks for it.
        """
        section = lambda: pn.panel(self.main, loading_indicator=True, sizing_mode="stretch_width")  # noqa: E731
        if not self.defer:
            return section()
        holder = pn.Column(sizing_mode="stretch_width", min_height=400, loading=True)
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            watch_page(pn.state.curdoc)  # before "document_ready" can come (dashboard.drawn)

        def fill() -> None:
            holder.objects = [section()]
            holder.param.update(loading=False, min_height=None)

        session_later(fill, after_assets=True)
        return holder


def build_page(service) -> pn.template.BaseTemplate:
    """One session's page: state from the URL, navigation, the chosen screen."""
    state = DashboardState()
    bad = state_from_request(state)
    # Called inside the session, pn.extension names the libraries of this page only.
    extensions = page_extensions(state)
    pn.extension(*extensions)
    raw_search = pn.state.location.search if pn.state.location is not None else ""
    sync_url(state)
    asked = (state.system, state.other)
    dash = Dashboard(state=state, service=service, plotly="plotly" in extensions, bad_link=bad)
    quiet_link_echo(raw_search)
    # A link whose values were replaced is re-applied once the browser reports its URL; a screen
    # deferred until then would be patched while it is first sent (BokehJS: "reference ... isn't
    # known"), so such a page is built at once, as before (rare: a hand-edited or stale link).
    dash.defer = not (bad or any(a and a != b for a, b in zip(asked, (state.system, state.other))))
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        # background: Panel would otherwise mark the (process-wide) busy state on every run, which
        # updated every open page's busy indicator every 3 s (0.5 s of the server's time per page load).
        PeriodicCallback(callback=dash.check_version, period=REFRESH_PERIOD_MS, background=True).start()
    return dash.__panel__()


def safe_page(service):
    """build_page, or a plain message when it fails: Panel would put the traceback (with server
    paths) on the page; here it goes to the log only."""
    try:
        return build_page(service)
    except Exception:  # noqa: BLE001 -- whatever failed, the visitor gets a message and no internals
        log.exception("dashboard page failed")
        lang = "de" if _first_arg("lang") == "de" else "en"
        return pn.pane.Alert(tr("page_failed", lang), alert_type="danger", css_classes=["view-error"])


def _first_arg(name: str) -> str:
    try:
        return (pn.state.session_args or {}).get(name, [b""])[0].decode("utf-8", "replace")
    except Exception:  # noqa: BLE001
        return ""


def add_dashboard(app, service, *, path: str = "/", title: str = "BESS-OS") -> None:
    """Mount the dashboard on a FastAPI ``app`` at ``path`` (default ``/``).

    Parameters
    ----------
    app : fastapi.FastAPI
        The server's one ASGI app (GraphQL is mounted beside it by the composition root).
    service : core.service.QueryService
        Answers every query in process; shared by all sessions (it is stateless apart from
        caches keyed by the store version).
    path : str
        URL path of the page. Bokeh's websocket lives at ``<path>ws`` and Panel's static
        resources under ``/static``; mount GraphQL and /healthz on other paths.

    Call :func:`warm_up` once at startup so the first visitor does not pay for JIT compiles.
    """
    from panel.io.fastapi import add_applications

    from dashboard.assets_first import count_asset_requests
    from dashboard.early import paint_early
    from dashboard.pulled import send_changes_after_pull

    _extensions()
    send_changes_after_pull()
    route = path if path.startswith("/") else "/" + path
    add_applications({route: lambda: safe_page(service)}, app=app, title=title)
    early = paint_early(app, route, page_kind)  # the page's spinner is on screen before the session is built
    # after the warm-ups (api.app.create_app): the first visitor's page gets its scripts early too
    app.state.after_warm_up = [*getattr(app.state, "after_warm_up", []), lambda: early.prime(route)]
    count_asset_requests(app, route)  # a new page's screen is computed once its scripts are fetched
    _add_favicon(app)


def _add_favicon(app) -> None:
    """Serve Panel's icon at /favicon.ico: browsers ask for it and a 404 shows up as a console error."""
    if any(getattr(r, "path", None) == "/favicon.ico" for r in app.routes):
        return
    from fastapi.responses import FileResponse

    icon = Path(pn.__file__).parent / "dist" / "images" / "favicon.ico"

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(icon)


def warm_up(service) -> None:
    """Compile and run once what the first page view needs (Numba kernels, datashader's regrid).

    Without this the first cell heatmap of a fresh server takes several seconds, nearly all
    of it first-call JIT compilation. Safe to call with an empty store.
    """
    from dashboard.warm import warm_up as _warm

    _warm(service)
