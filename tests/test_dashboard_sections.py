"""Parts of a screen: they recompute while their screen is on the page, and stand still after."""

from __future__ import annotations

import panel as pn
import param

from dashboard.state import DashboardState
from dashboard.views.base import ScreenSection, ViewBase
from dashboard.widgets import guarded


class _Counting(ViewBase):
    calls = param.Integer(default=0)

    @param.depends("state.system")
    @guarded
    def part(self):
        self.calls += 1
        return pn.pane.Markdown(self.state.system)


def _screen() -> tuple[DashboardState, _Counting, ScreenSection, list]:
    state = DashboardState(view="meter", system="m1")
    view = _Counting(state=state, service=None, screen="meter")
    section = view.section(view.part)
    spinner: list[bool] = []
    section._inner_layout.param.watch(lambda e: spinner.append(e.new), "loading")
    return state, view, section, spinner


def test_a_part_of_the_screen_on_the_page_recomputes_with_its_spinner():
    state, view, section, spinner = _screen()
    assert isinstance(section, ScreenSection) and view.calls == 1
    state.system = "m2"
    assert view.calls == 2 and spinner == [True, False]


def test_a_part_of_a_screen_left_neither_computes_nor_shows_its_spinner():
    # A switch changes the view and then the system: the screen left used to turn each part's
    # spinner on and off (two patches, ~70 ms each) although `guarded` skipped the work.
    state, view, section, spinner = _screen()
    state.param.update(view="bess")
    state.system = "ZHPESS232A230002"
    assert view.calls == 1 and spinner == []
    state.view = "meter"  # back on the page (the same object, e.g. within one page's turn)
    state.system = "m3"
    assert view.calls == 2


def test_a_retired_screen_retires_its_parts():
    state = DashboardState(view="cells", system="ZHPESS232A230002")
    screen = ViewBase(state=state, service=None, screen="cells")
    inner = screen.part(_Counting)
    assert inner.screen == "cells" and inner.visible
    screen.active = False  # the page built a new screen object
    assert not inner.active and not inner.visible
    section = inner.section(inner.part)
    calls = inner.calls
    state.system = "ZHPESS232A230003"
    assert inner.calls == calls and section is not None
