"""Shared argument types of the schema and their conversion to core arguments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.errors import BAD_INPUT, LIMIT, ApiError
from api.limits import MAX_POINTS, check_range
from api.scalars import DateTime
from api.types import Downsample, FitMethod, Language, Resolution, Series
from core.results import SystemInfo
from data.glossary import LEVEL_SECONDS

SignalName = Annotated[str, strawberry.argument(description="Signal name, one of the system's signals (e.g. com_ap).")]
From = Annotated[DateTime | None, strawberry.argument(
    name="from", description="Start of the half-open range [from, to), inclusive; default: start of the data.")]
To = Annotated[DateTime | None, strawberry.argument(
    description="End of the half-open range [from, to), exclusive; default: end of the data.")]
MaxPoints = Annotated[int, strawberry.argument(
    description=f"Most points to return [count], 2..{MAX_POINTS}; more rows are downsampled.")]
ResolutionArg = Annotated[Resolution, strawberry.argument(description="Pyramid level to read; AUTO by default.")]
DownsampleArg = Annotated[Downsample, strawberry.argument(description="Downsampling method; LTTB by default.")]
MethodArg = Annotated[FitMethod, strawberry.argument(description="OLS (default) or ROBUST (Theil-Sen).")]
LanguageArg = Annotated[Language, strawberry.argument(description="Language of labels: EN (default) or DE.")]


def checked_range(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """The range, refused when empty or longer than the cap."""
    if start is not None and end is not None and end <= start:
        raise ApiError(BAD_INPUT, f"empty range: to {end.isoformat()} is not after from {start.isoformat()}")
    check_range(start, end)
    return start, end


def checked_series_range(system: SystemInfo, start: datetime | None, end: datetime | None,
                         resolution: Resolution) -> tuple[datetime | None, datetime | None]:
    """As :func:`checked_range`, plus a cap on the rows an explicit resolution would read."""
    checked_range(start, end)
    if resolution is not Resolution.AUTO:
        lo, hi = data_window(system, start, end)
        if lo is not None and hi is not None and hi > lo:
            check_range(lo, hi, step_s=LEVEL_SECONDS[resolution.value])  # step 0 for raw
    return start, end


def data_window(system: SystemInfo, start: datetime | None, end: datetime | None):
    """The range clipped to the system's data (open ends filled from it)."""
    r = system.time_range
    if r is None:
        return start, end
    return (max(start, r.start) if start else r.start), (min(end, r.end) if end else r.end)


def series_capped(s, max_points: int) -> Series:
    """Without downsampling a window may hold more rows than asked for: refuse rather than flood."""
    if s.values.size > max_points:
        raise ApiError(LIMIT, f"{s.values.size} points in the range exceed maxPoints={max_points} "
                       "with downsample NONE; shorten the range or downsample")
    return Series.of(s)
