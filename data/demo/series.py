"""One signal's samples on a time axis, with the precision it is written at."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.demo.timegrid import TimeAxis


@dataclass(frozen=True)
class Series:
    signal: str
    axis: TimeAxis
    values: np.ndarray
    decimals: int | None  # None: written as integers (flags, codes)
