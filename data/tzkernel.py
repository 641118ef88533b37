"""Numba kernel: Europe/Berlin wall time to UTC per row, the one-pass twin of data/tzmap.local_to_utc.

Exports are in time order, so the transition in force rarely changes from one row to
the next; the kernel keeps it and falls back to a binary search when it does not fit.
``data.tzmap.local_to_utc`` (vectorised NumPy) is the reference it is tested against.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from data.glossary import LOCAL_TZ
from data.tzmap import transitions


@njit(cache=True, nogil=True)
def local_to_utc_kernel(local_ms, lo, hi, before, after, initial, utc, in_fold, in_gap):
    """Fill utc, in_fold, in_gap like tzmap.local_to_utc (lo: local start of each transition's zone)."""
    m = len(lo)
    k = -1
    for r in range(len(local_ms)):
        x = local_ms[r]
        if not ((k < 0 or lo[k] <= x) and (k + 1 >= m or x < lo[k + 1])):
            k = np.searchsorted(lo, x, side="right") - 1
        if k < 0:
            utc[r] = x - initial
            in_fold[r] = False
            in_gap[r] = False
            continue
        special = x < hi[k]
        in_fold[r] = special and after[k] < before[k]
        in_gap[r] = special and after[k] > before[k]
        utc[r] = x - (before[k] if special else after[k])


def local_to_utc_fast(local_ms: np.ndarray, tz_name: str = LOCAL_TZ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(utc ms taking the earlier instant in a fold, in_fold, in_gap), as tzmap.local_to_utc."""
    at, after, initial = transitions(tz_name)
    before = np.concatenate(([initial], after[:-1]))
    lo = at + np.minimum(before, after)
    hi = at + np.maximum(before, after)
    local_ms = np.ascontiguousarray(local_ms, dtype=np.int64)
    n = len(local_ms)
    utc = np.empty(n, np.int64)
    in_fold = np.empty(n, np.bool_)
    in_gap = np.empty(n, np.bool_)
    local_to_utc_kernel(local_ms, lo, hi, before, after, np.int64(initial), utc, in_fold, in_gap)
    return utc, in_fold, in_gap
