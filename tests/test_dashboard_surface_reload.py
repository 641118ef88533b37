"""Switching the WebGL surface on in a page without plotly.js reloads it with surface=true in the URL:
the browser reloads the URL it has, so the query changes before the reload is asked for."""

from __future__ import annotations

import panel as pn
from panel.io.location import Location

from dashboard.state import DashboardState
from dashboard.views.cells import CellView


def test_the_url_says_surface_true_before_the_reload(monkeypatch, service):
    location = Location(search="?view=cells&system=ZHPESS232A230002&surface=false&range=7d")
    monkeypatch.setattr(type(pn.state), "location", property(lambda _state: location))
    changes: list[tuple[str, object]] = []
    location.param.watch(lambda event: changes.append((event.name, event.new)), ["search", "reload"])
    state = DashboardState(view="cells", system="ZHPESS232A230002", range="7d")
    view = CellView(state=state, service=service, screen="cells", plotly_ready=False)

    state.surface = True

    assert [name for name, _ in changes] == ["search", "reload"]  # in this order: what the browser applies
    assert "surface=true" in changes[0][1] and "range=7d" in changes[0][1] and changes[1][1] is True
    assert view.plotly_ready is False


def test_a_page_with_plotly_does_not_reload(monkeypatch, service):
    location = Location(search="?view=cells&surface=true")
    monkeypatch.setattr(type(pn.state), "location", property(lambda _state: location))
    state = DashboardState(view="cells", system="ZHPESS232A230002")
    CellView(state=state, service=service, screen="cells", plotly_ready=True)
    state.surface = True
    assert location.reload is False
