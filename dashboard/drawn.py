"""Work for the parts below a screen's main plot waits until the browser has drawn that plot."""

from __future__ import annotations

import logging
from typing import Callable
from weakref import WeakKeyDictionary

from bokeh.document import Document
from bokeh.document.events import DocumentChangedEvent, ModelChangedEvent

log = logging.getLogger(__name__)

# How long parts added after the page's first drawing wait at most [ms] for a plot to report itself
# drawn: a screen switched to whose main part is a table or a message draws no plot.
FALLBACK_MS = 1500


class DrawnGate:
    """Holds callbacks of one session's document until the browser has drawn the screen.

    First page: the callbacks run once the browser reports "document_ready" (every view of the
    first document rendered). Not earlier, although plots report their size before: until that
    report Panel (1.9) drops model changes made under its hold as "serialized with the document
    when the session connects", but the browser pulled the document already, so the parts filled
    in then never reached it.
    Later (a screen switched to): BokehJS reports each new plot's size (``inner_width``) once it has
    laid the plot out, i.e. drawn it; the callbacks run then, or FALLBACK_MS after being added.
    Before that, the server's work for the parts below competes with the drawing twice: on the
    server (a callback holds the event loop, and with it the main plot's data; measured 0.5-0.9 s)
    and in the browser (their patches arrive while it draws).
    """

    def __init__(self, doc: Document) -> None:
        self._doc = doc
        self._waiting: list[Callable[[], None]] = []
        self._timeout = None
        self._page_ready = False
        doc.on_change(self._on_change)
        doc.on_event("document_ready", self._on_ready)

    def add(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (in a server turn of its own) once the screen was drawn, or by the fallback."""
        self._waiting.append(callback)
        if self._page_ready and self._timeout is None:
            self._timeout = self._doc.add_timeout_callback(self.release, FALLBACK_MS)

    def _on_ready(self, _event) -> None:
        self._page_ready = True
        self.release()

    def _on_change(self, event: DocumentChangedEvent) -> None:
        if (self._page_ready and self._waiting and isinstance(event, ModelChangedEvent)
                and event.attr == "inner_width"):
            self.release()

    def release(self) -> None:
        """Schedule every waiting callback, in the order added, each in a server turn of its own
        (after the event being handled: Panel's own "document_ready" handler runs first)."""
        if self._timeout is not None:
            try:
                self._doc.remove_timeout_callback(self._timeout)
            except ValueError:  # already run (this is the fallback running) or removed
                pass
            self._timeout = None
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            self._doc.add_next_tick_callback(self._while_open(callback))

    def _while_open(self, callback: Callable[[], None]) -> Callable[[], None]:
        """``callback``, skipped if the page was closed meanwhile: a visitor who opened another page
        right after the main plot waited ~0.5 s for the parts of the one they had left."""
        def run() -> None:
            session = getattr(self._doc.session_context, "session", None)
            if session is not None and session.connection_count == 0:
                log.debug("dashboard: page closed, a waiting part skipped")
                return
            callback()

        return run


_GATES: WeakKeyDictionary[Document, DrawnGate] = WeakKeyDictionary()


def watch_page(doc: Document) -> DrawnGate:
    """The gate of ``doc``'s session, made on first use. Call it while the page is built: a gate made
    after the page's "document_ready" would not know it came, and parts added to it on a screen
    without a plot would then wait for the fallback."""
    gate = _GATES.get(doc)
    if gate is None:
        from panel.io.state import state

        gate = _GATES[doc] = DrawnGate(doc)
        gate._page_ready = bool(state._connected.get(doc))  # made late all the same: do not wait for ever
    return gate


def after_drawn(doc: Document, callback: Callable[[], None]) -> None:
    """Run ``callback`` in a later turn of ``doc``'s session, once the browser has drawn the screen."""
    watch_page(doc).add(callback)
