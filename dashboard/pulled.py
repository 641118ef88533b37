"""A session counts as connected for Panel from the moment the browser has pulled its document."""

from __future__ import annotations

from functools import wraps

_INSTALLED = False


def send_changes_after_pull() -> None:
    """Make Panel send every model change made after a session's document was pulled (idempotent).

    Panel (1.9) treats a session as connected only when the browser reports "document_ready", after
    it has rendered the whole first document, and drops the changes made before that as "in the
    document when it is serialized". But the browser pulled (serialized) the document earlier: a
    part filled in, or a state fixed after the browser reported its URL, in between never reached
    the page, and a later patch that refers to it fails there ("reference ... isn't known").
    """
    global _INSTALLED
    if _INSTALLED:
        return
    from bokeh.server.session import ServerSession
    from panel.io.state import state

    pull = ServerSession._handle_pull

    @wraps(pull)
    async def pull_then_connected(self, message, connection):
        reply = await pull(self, message, connection)  # the document serialized, under its lock
        state._connected[self.document] = True  # from now on a change is a patch, not part of the pull
        return reply

    ServerSession._handle_pull = pull_then_connected
    _INSTALLED = True
