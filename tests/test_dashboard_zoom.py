"""ZoomSeries: a series plot re-read from the core on zoom, and only on a real zoom."""

from __future__ import annotations

from datetime import datetime, timezone

import holoviews as hv
import numpy as np
from bokeh.document import Document
from bokeh.io.doc import patch_curdoc

from core.results import Series
from dashboard.views.base import ZoomSeries

hv.extension("bokeh")


def _series(start_ms: int, end_ms: int, n: int = 500) -> Series:
    t = np.linspace(start_ms, end_ms, n).astype(np.int64)
    return Series(system_id="m1", signal="p", unit="kW", resolution="5min", method="lttb", timestamps_ms=t,
                  values=np.sin(np.arange(n) / 20.0), min=None, max=None, rows_in_window=n)


START_MS = int(datetime(2025, 6, 1, tzinfo=timezone.utc).timestamp() * 1000)
END_MS = START_MS + 7 * 86_400_000


def _counting_fetch(calls: list):
    def fetch(start, end):
        calls.append((start, end))
        if start is None:
            return _series(START_MS, END_MS)
        return _series(int(start.timestamp() * 1000), int(end.timestamp() * 1000))
    return fetch


def _render(zoom: ZoomSeries) -> None:
    # A Document of its own: curdoc() in this process may still be a stopped browser-test session's
    # destroyed Document (Panel deletes its theme), which the renderer would draw into.
    own = Document()  # patch_curdoc keeps only a weak reference
    with patch_curdoc(own):
        hv.renderer("bokeh").get_plot(zoom.dmap)


def test_first_render_reads_the_series_once():
    # HoloViews reports the plot's own initial extent through the RangeX stream right after the first
    # render; re-reading the core for it cost ~0.1-0.2 s per plot on every page and screen switch.
    calls: list = []
    zoom = ZoomSeries(_counting_fetch(calls), label="Power")
    _render(zoom)
    zoom.dmap.event(x_range=tuple(np.datetime64(t) for t in zoom._span))  # the extent reported back
    assert len(calls) == 1, calls


def test_a_real_zoom_reads_the_window_again():
    calls: list = []
    zoom = ZoomSeries(_counting_fetch(calls), label="Power")
    _render(zoom)
    a, b = zoom._span
    mid = a + (b - a) / 2
    zoom.dmap.event(x_range=(np.datetime64(a), np.datetime64(mid)))
    assert len(calls) == 2
    start, end = calls[-1]
    assert start is not None and end is not None and end > start
    assert zoom.last is not None and len(zoom.last.timestamps_ms) == 500
