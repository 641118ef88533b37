"""HoloViews renders a plot with a range stream once on first display, not twice (holoviz/holoviews#6013)."""

from __future__ import annotations

import math
import weakref

_INSTALLED = False


def _given(limit) -> bool:
    """Whether one end of an xlim/ylim was set (HoloViews' default is (nan, nan); None means unset too)."""
    return limit is not None and not (isinstance(limit, float) and math.isnan(limit))


class _TriggersIfLimited(list):
    """A plot's list of streams to trigger right after its first render (Plot._trigger), which keeps a
    stream only when the plot has an xlim or ylim.

    HoloViews (1.23) adds a range stream there "if self.xlim or self.ylim", meaning when limits were
    given, so that a DynamicMap's callback sees the range they make. But the default limits are
    (nan, nan), a non-empty tuple, so every plot with a range stream ran its callback and redrew
    itself a second time right after its first drawing: ~40 ms per series plot of a screen, the
    compare plot twice (measured). Where limits were given the trigger stays, as HoloViews means it.
    """

    def __init__(self, plot) -> None:
        super().__init__()
        self._plot = weakref.ref(plot)

    def append(self, stream) -> None:
        plot = self._plot()
        limits = (*getattr(plot, "xlim", ()), *getattr(plot, "ylim", ())) if plot is not None else (1,)
        if any(_given(limit) for limit in limits):
            super().append(stream)


def render_once() -> None:
    """Install the rule for every HoloViews plot made from now on in this process (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from holoviews.plotting.plot import Plot

    init = Plot.__init__

    def __init__(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        self._trigger = _TriggersIfLimited(self)

    __init__.__wrapped__ = init
    Plot.__init__ = __init__
    _INSTALLED = True
