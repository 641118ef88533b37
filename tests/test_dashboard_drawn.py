"""The drawn gate: parts below a screen's main plot wait until the browser reports the screen drawn."""

from __future__ import annotations

from bokeh.document import Document
from bokeh.events import DocumentReady
from bokeh.plotting import figure
from bokeh.server.callbacks import NextTickCallback, TimeoutCallback

from dashboard.drawn import FALLBACK_MS, after_drawn, watch_page


def _page() -> tuple[Document, figure]:
    doc = Document()
    plot = figure()
    doc.add_root(plot)
    watch_page(doc)  # as the dashboard does while it builds the page
    return doc, plot


def _scheduled(doc: Document, kind: type) -> list:
    return [cb for cb in doc.session_callbacks if isinstance(cb, kind)]


def _run_ticks(doc: Document) -> None:
    for tick in _scheduled(doc, NextTickCallback):
        tick.callback()


def test_first_page_parts_wait_for_document_ready_not_the_first_plot_size():
    doc, plot = _page()
    ran: list[str] = []
    after_drawn(doc, lambda: ran.append("kpis"))
    after_drawn(doc, lambda: ran.append("table"))
    assert _scheduled(doc, NextTickCallback) == []
    # A plot reports its size before the page reports itself ready; Panel drops the changes made
    # before that report (the browser then never receives the parts), so the gate still waits.
    plot.set_from_json("inner_width", 600)  # as BokehJS's patch sets it
    assert _scheduled(doc, NextTickCallback) == []
    doc.callbacks.trigger_event(DocumentReady())
    assert len(_scheduled(doc, NextTickCallback)) == 2
    _run_ticks(doc)  # (the server runs them in the order added; session_callbacks is a set)
    assert sorted(ran) == ["kpis", "table"]
    assert _scheduled(doc, NextTickCallback) == []  # a next-tick callback leaves the list once run


def test_after_a_switch_parts_wait_for_the_new_plot_drawn():
    doc, plot = _page()
    doc.callbacks.trigger_event(DocumentReady())
    ran: list[str] = []
    after_drawn(doc, lambda: ran.append("energy"))
    (fallback,) = _scheduled(doc, TimeoutCallback)  # in case the new screen draws no plot
    assert fallback.timeout == FALLBACK_MS
    plot.width = 640  # a change of another property is not the drawn report
    assert _scheduled(doc, NextTickCallback) == []
    plot.set_from_json("inner_width", 600)
    assert _scheduled(doc, TimeoutCallback) == []  # the fallback is cancelled
    _run_ticks(doc)
    assert ran == ["energy"]
    plot.set_from_json("inner_width", 610)  # a later resize schedules nothing again
    assert _scheduled(doc, NextTickCallback) == []


def test_without_a_plot_the_fallback_releases_the_parts():
    doc, _plot = _page()
    doc.callbacks.trigger_event(DocumentReady())
    ran: list[str] = []
    after_drawn(doc, lambda: ran.append("message"))
    (fallback,) = _scheduled(doc, TimeoutCallback)
    fallback.callback()
    _run_ticks(doc)
    assert ran == ["message"]


class _Session:
    def __init__(self, connections: int) -> None:
        self.connection_count = connections


class _Context:
    def __init__(self, connections: int) -> None:
        self.session = _Session(connections)


def test_parts_of_a_page_closed_meanwhile_are_skipped():
    doc, _plot = _page()
    ran: list[str] = []
    after_drawn(doc, lambda: ran.append("energy"))
    doc.callbacks.trigger_event(DocumentReady())
    context = _Context(connections=0)  # the browser left (its websocket closed) before the part's turn
    doc._session_context = lambda: context
    _run_ticks(doc)
    assert ran == []
    after_drawn(doc, lambda: ran.append("alarms"))
    context.session.connection_count = 1  # a page still open gets its part
    doc.callbacks.trigger_event(DocumentReady())  # (released again, as after a switch)
    _run_ticks(doc)
    assert ran == ["alarms"]
