"""Work for the parts below a screen's main plot waits until the browser has drawn that plot."""

from __future__ import annotations

import logging
from typing import Callable
from weakref import WeakKeyDictionary

from bokeh.document import Document
from bokeh.document.events import DocumentChangedEvent, ModelChangedEvent

log = logging.getLogger(__name__)

# How long the waiting parts wait at most [ms] after the page has reported itself drawn: a screen
# whose main part is a table or a message draws no plot, so no plot reports its size.
FALLBACK_MS = 1500


class DrawnGate:
    """Holds callbacks of one session's document until the browser reports a plot laid out.

    BokehJS reports each plot's size (``inner_width``) once it has laid the plot out, i.e. drawn
    it. Before that, the server's work for the parts below would compete with the drawing twice:
    on the server (a callback holds the event loop: the main plot's data buffers, or the whole first
    document, wait unsent; measured 0.5-0.9 s) and in the browser (their patches arrive while it
    draws). Without a plot, the callbacks run FALLBACK_MS after the page's "document_ready" (its
    first drawing done), or after being added if that came earlier.
    """

    def __init__(self, doc: Document) -> None:
        self._doc = doc
        self._waiting: list[Callable[[], None]] = []
        self._timeout = None
        self._page_ready = False
        doc.on_change(self._on_change)
        doc.on_event("document_ready", self._on_ready)

    def add(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (in a server turn of its own) once a plot was drawn, or by the fallback."""
        self._waiting.append(callback)
        if self._page_ready:
            self._arm()

    def _arm(self) -> None:
        if self._timeout is None and self._waiting:
            self._timeout = self._doc.add_timeout_callback(self.release, FALLBACK_MS)

    def _on_ready(self, _event) -> None:
        self._page_ready = True
        self._arm()

    def _on_change(self, event: DocumentChangedEvent) -> None:
        if self._waiting and isinstance(event, ModelChangedEvent) and event.attr == "inner_width":
            self.release()

    def release(self) -> None:
        """Schedule every waiting callback, in the order added, each in a server turn of its own."""
        if self._timeout is not None:
            try:
                self._doc.remove_timeout_callback(self._timeout)
            except ValueError:  # already run (this is the fallback running) or removed
                pass
            self._timeout = None
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            self._doc.add_next_tick_callback(callback)


_GATES: WeakKeyDictionary[Document, DrawnGate] = WeakKeyDictionary()


def after_drawn(doc: Document, callback: Callable[[], None]) -> None:
    """Run ``callback`` in a later turn of ``doc``'s session, once the browser has drawn a plot."""
    gate = _GATES.get(doc)
    if gate is None:
        gate = _GATES[doc] = DrawnGate(doc)
    gate.add(callback)
