"""The page shell: Panel's Bootstrap template with its scripts last, and only the scripts it needs."""

from __future__ import annotations

from pathlib import Path

import panel as pn

TEMPLATE_FILE = Path(__file__).parent / "templates" / "page.html"


class FastTemplate(pn.template.BootstrapTemplate):
    """BootstrapTemplate whose <body> is painted before the JavaScript loads (templates/page.html)."""

    _template = TEMPLATE_FILE


def trim_scripts() -> None:
    """Ship neither bokeh-mathjax (1.8 MB, the largest script of the page) nor bokeh-gl (190 kB).

    Panel adds MathJax to every page with an HTML or Markdown pane, in case the text holds LaTeX;
    ours never does (names and numbers only). WebGL is off for our plots (dashboard.app), so its
    bundle is never used. Parsing them cost about half a second per page load in headless Chromium.
    """
    import bokeh.resources
    import panel.io.resources as resources

    resources._panel_use_mathjax = lambda roots: False  # noqa: ARG005 -- Panel's 'auto' rule, made 'never'
    bokeh.resources.Resources._default_components = [
        c for c in bokeh.resources.Resources._default_components if c != "bokeh-gl"]
