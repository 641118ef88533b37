"""A plot with a range stream is drawn once on first display (dashboard.first_render), twice only where
limits were given (HoloViews' own rule: its callback then sees the range they make)."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest
from bokeh.document import Document
from bokeh.io.doc import patch_curdoc

from dashboard.first_render import render_once


@pytest.fixture(scope="module", autouse=True)
def bokeh_backend():
    hv.extension("bokeh", logo=False)
    render_once()


def _plot(obj) -> None:
    """Make the Bokeh plot of ``obj`` in a Document of its own: curdoc() in this process may still be a
    stopped browser-test session's destroyed Document, which the renderer would draw into."""
    own = Document()  # patch_curdoc keeps only a weak reference
    with patch_curdoc(own):
        hv.renderer("bokeh").get_plot(obj)


def _callback_ranges(**opts) -> list:
    """The x ranges a DynamicMap's callback was called with while its plot was made."""
    calls = []

    def curve(x_range):
        calls.append(x_range)
        return hv.Curve((np.arange(10.0), np.arange(10.0) ** 2))

    dmap = hv.DynamicMap(curve, streams=[hv.streams.RangeX()])
    _plot(dmap.opts(**opts) if opts else dmap)
    return calls


def test_a_plot_without_limits_runs_its_callback_once():
    assert _callback_ranges() == [None]


def test_an_overlay_of_two_range_streams_runs_each_callback_once():
    calls = []

    def curve(x_range, k):
        calls.append((k, x_range))
        return hv.Curve((np.arange(10.0), k * np.arange(10.0)))

    a = hv.DynamicMap(lambda x_range: curve(x_range, 1), streams=[hv.streams.RangeX()])
    b = hv.DynamicMap(lambda x_range: curve(x_range, 2), streams=[hv.streams.RangeX()])
    _plot(a * b)
    assert sorted(calls, key=str) == [(1, None), (2, None)]  # the compare screen's plot: was four calls


def test_given_limits_still_reach_the_callback():
    assert _callback_ranges(xlim=(2, 5)) == [None, (2, 5)]
    assert _callback_ranges(xlim=(2, None))[-1][0] == 2  # one end given is a limit too
