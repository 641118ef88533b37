"""The page shell: Panel's Bootstrap template with its scripts last, and only the scripts it needs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import panel as pn

from dashboard.state import DashboardState, url_flag

TEMPLATE_FILE = Path(__file__).parent / "templates" / "page.html"


class FastTemplate(pn.template.BootstrapTemplate):
    """BootstrapTemplate whose <body> is painted before the JavaScript loads (templates/page.html)."""

    _template = TEMPLATE_FILE


def trim_scripts() -> None:
    """Ship neither bokeh-mathjax (1.8 MB, the largest script of the page), nor bokeh-gl (190 kB),
    nor es-module-shims.

    Panel adds MathJax to every page with an HTML or Markdown pane, in case the text holds LaTeX;
    ours never does (names and numbers only). WebGL is off for our plots (dashboard.app), so its
    bundle is never used. Parsing them cost about half a second per page load in headless Chromium.
    es-module-shims is there for Panel's ESM components (JSComponent, ReactComponent, AnyWidget),
    which no screen uses; in shim mode it watches every DOM change of the page for module scripts,
    and Bokeh's rendering makes thousands: 0.1-0.2 s of a screen's time (measured, cells and compare).
    """
    import bokeh.resources
    import panel.io.resources as resources
    from panel.models.esm import ReactiveESM

    resources._panel_use_mathjax = lambda roots: False  # noqa: ARG005 -- Panel's 'auto' rule, made 'never'
    bokeh.resources.Resources._default_components = [
        c for c in bokeh.resources.Resources._default_components if c != "bokeh-gl"]
    ReactiveESM.__javascript_raw__ = []  # its subclasses add no script files of their own


def page_extensions(state: DashboardState) -> tuple[str, ...]:
    """The JavaScript libraries this page loads besides Bokeh and Panel.

    plotly.js (4.6 MB) takes about a second to parse in headless Chromium, more than the
    cell heatmap itself, so only pages opened with the 3D surface on carry it.
    """
    # Any screen: a link with surface=true may open on another screen and switch to the cells later.
    return ("tabulator", "plotly") if state.surface else ("tabulator",)


def page_kind(query: bytes) -> bool:
    """What tells pages with other scripts apart (dashboard.early): whether the query asks for the
    WebGL surface, as state_from_request reads it (page_extensions)."""
    values = parse_qs(query.decode("utf-8", errors="replace")).get("surface")
    return bool(values) and url_flag(values[0])
