"""Local wall time <-> UTC for Europe/Berlin as vectorised NumPy, from the zoneinfo transitions.

Per-row time-zone conversion is the slowest step of parsing; the zone has two
transitions a year, so a ``searchsorted`` over a small cached table is exact and fast.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from data.glossary import LOCAL_TZ

MS_PER_DAY = 86_400_000
_YEAR_MIN, _YEAR_MAX = 1970, 2100
_LOCAL = ZoneInfo(LOCAL_TZ)


def local_instant(t: datetime) -> datetime:
    """The naive-local-time rule: a time without an offset is Europe/Berlin wall time.

    An aware time is returned as is. A wall time in the autumn fold (the repeated hour)
    is its first occurrence (summer time); a wall time in the spring gap is moved forward
    by the gap (02:30 becomes 03:30 CEST). The API's DateTime scalar and the dashboard's
    plot ranges use this function.

    Where it differs by design: the ingest (data/timeparse.resolve_utc, vectorised with
    :func:`local_to_utc`) applies the same gap rule, but reads a fold's rows in file
    order, so rows after the clock jumps back are the second (winter-time) pass; a
    single value has no order to tell, so it takes the first pass.
    """
    return t.replace(tzinfo=_LOCAL) if t.tzinfo is None else t


@lru_cache(maxsize=8)
def transitions(tz_name: str = LOCAL_TZ) -> tuple[np.ndarray, np.ndarray, int]:
    """(UTC instants [ms] of offset changes, offset [ms] after each, offset before the first)."""
    tz = ZoneInfo(tz_name)

    def off(t: datetime) -> int:
        return int(t.astimezone(tz).utcoffset().total_seconds() * 1000)

    t = datetime(_YEAR_MIN, 1, 1, tzinfo=timezone.utc)
    end = datetime(_YEAR_MAX, 1, 1, tzinfo=timezone.utc)
    initial = cur = off(t)
    at, after = [], []
    step = timedelta(days=7)  # no zone changes offset twice within a week
    while t < end:
        nxt = t + step
        o = off(nxt)
        if o != cur:
            lo, hi = t, nxt  # bisect to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if off(mid) == cur else (lo, mid)
            hi = hi.replace(microsecond=0)
            at.append(int(hi.timestamp() * 1000))
            after.append(o)
            cur = o
        t = nxt
    return np.asarray(at, dtype=np.int64), np.asarray(after, dtype=np.int64), initial


def utc_offset_ms(utc_ms: np.ndarray, tz_name: str = LOCAL_TZ) -> np.ndarray:
    """Local UTC offset [ms] in force at each UTC instant."""
    at, after, initial = transitions(tz_name)
    k = np.searchsorted(at, utc_ms, side="right") - 1
    return np.where(k >= 0, after[np.maximum(k, 0)], initial)


def local_to_utc(local_ms: np.ndarray, tz_name: str = LOCAL_TZ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map wall-clock times (ms since epoch as if UTC) to UTC.

    Returns (utc_ms taking the earlier instant in a fold, in_fold, in_gap). For a time in
    the fold, ``utc_ms + (offset_before - offset_after)`` is the later instant. For a time
    in the gap (it does not exist), ``utc_ms`` uses the offset before the change, which
    moves it forward by the size of the gap.
    """
    at, after, initial = transitions(tz_name)
    before = np.concatenate(([initial], after[:-1]))
    lo = at + np.minimum(before, after)  # local start of the special zone of each transition
    hi = at + np.maximum(before, after)
    k = np.searchsorted(lo, local_ms, side="right") - 1
    kk = np.maximum(k, 0)
    special = (k >= 0) & (local_ms < hi[kk])
    off_now = np.where(k >= 0, after[kk], initial)
    off_before = np.where(k >= 0, before[kk], initial)
    in_fold = special & (after[kk] < before[kk])
    in_gap = special & (after[kk] > before[kk])
    # In a special zone use the offset before the change: the earlier instant of a fold,
    # and for a gap the instant one gap-length later than the missing wall time.
    utc = local_ms - np.where(special, off_before, off_now)
    return utc, in_fold, in_gap


def fold_shift_ms(local_ms: np.ndarray, tz_name: str = LOCAL_TZ) -> np.ndarray:
    """For times in a fold: how much later the second pass is than the first [ms]."""
    at, after, initial = transitions(tz_name)
    before = np.concatenate(([initial], after[:-1]))
    lo = at + np.minimum(before, after)
    k = np.maximum(np.searchsorted(lo, local_ms, side="right") - 1, 0)
    return before[k] - after[k]


def local_day_start_utc(utc_ms: np.ndarray, tz_name: str = LOCAL_TZ) -> np.ndarray:
    """UTC instant of the local midnight that starts the local day of each instant."""
    local = utc_ms + utc_offset_ms(utc_ms, tz_name)
    midnight_local = (local // MS_PER_DAY) * MS_PER_DAY
    utc, _fold, _gap = local_to_utc(midnight_local, tz_name)
    return utc
