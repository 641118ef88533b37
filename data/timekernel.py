"""Numba kernel: ISO-8601-like timestamp bytes (an Arrow string buffer) to wall-clock ms and offsets.

One pass over the bytes, no per-row Python; it is the hot loop of CSV ingest. The
Polars regex path in data/timeparse.py stays as the reference and the fallback.
"""

from __future__ import annotations

from numba import njit

BAD, NAIVE, WITH_OFFSET = 0, 1, 2


@njit(cache=True, inline="always")
def _digits(data, i, end, max_n):
    """(value, next index, number of digits read) of up to max_n ASCII digits."""
    v = 0
    n = 0
    while i < end and n < max_n and 48 <= data[i] <= 57:
        v = v * 10 + (data[i] - 48)
        i += 1
        n += 1
    return v, i, n


@njit(cache=True)
def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit(cache=True, nogil=True)
def parse_iso_kernel(offsets, data, wall_ms, off_ms, flags):
    """Fill wall_ms (ms since epoch of the wall-clock time), off_ms and flags per row."""
    for r in range(len(offsets) - 1):
        wall_ms[r], off_ms[r], flags[r] = parse_iso_one(data, offsets[r], offsets[r + 1])


@njit(cache=True, inline="always")
def parse_iso_one(data, i, end):
    """(wall ms, offset ms, flag) of the timestamp in data[i:end]; flag BAD if it is not one."""
    while i < end and (data[i] == 32 or data[i] == 9 or data[i] == 34):
        i += 1
    while end > i and (data[end - 1] == 32 or data[end - 1] == 9 or data[end - 1] == 34
                       or data[end - 1] == 13):
        end -= 1
    y, i, n = _digits(data, i, end, 4)
    if n != 4 or i >= end or not (data[i] == 45 or data[i] == 47):
        return 0, 0, BAD
    mo, i, n = _digits(data, i + 1, end, 2)
    if n == 0 or i >= end or not (data[i] == 45 or data[i] == 47):
        return 0, 0, BAD
    d, i, n = _digits(data, i + 1, end, 2)
    if n == 0:
        return 0, 0, BAD
    h = mi = s = ms = 0
    if i < end and (data[i] == 84 or data[i] == 32):
        while i < end and (data[i] == 84 or data[i] == 32):
            i += 1
        h, i, n = _digits(data, i, end, 2)
        if n == 0 or i >= end or data[i] != 58:
            return 0, 0, BAD
        mi, i, n = _digits(data, i + 1, end, 2)
        if n != 2:
            return 0, 0, BAD
        if i < end and data[i] == 58:
            s, i, n = _digits(data, i + 1, end, 2)
            if n != 2:
                return 0, 0, BAD
            if i < end and (data[i] == 46 or data[i] == 44):
                i += 1
                scale = 100
                n = 0
                while i < end and 48 <= data[i] <= 57:
                    if n < 3:
                        ms += (data[i] - 48) * scale
                        scale //= 10
                    i += 1
                    n += 1
                if n == 0:
                    return 0, 0, BAD
    while i < end and data[i] == 32:
        i += 1
    off = 0
    has_off = False
    if i < end:
        c = data[i]
        if c == 90 or c == 122:  # Z
            i += 1
            has_off = True
        elif c == 85 and i + 2 < end and data[i + 1] == 84 and data[i + 2] == 67:  # UTC
            i += 3
            has_off = True
        elif c == 43 or c == 45:
            sign = 1 if c == 43 else -1
            oh, i, n = _digits(data, i + 1, end, 2)
            if n != 2:
                return 0, 0, BAD
            om = 0
            if i < end and data[i] == 58:
                i += 1
            if i < end:
                om, i, n = _digits(data, i, end, 2)
                if n != 2:
                    return 0, 0, BAD
            off = sign * (oh * 60 + om) * 60_000
            has_off = True
        else:
            return 0, 0, BAD
    if i != end:
        return 0, 0, BAD
    if mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or s > 59:
        return 0, 0, BAD
    leap = (y % 4 == 0) and (y % 100 != 0 or y % 400 == 0)
    if d > _days_in_month(mo) or (mo == 2 and d == 29 and not leap):
        return 0, 0, BAD
    days = _days_from_civil(y, mo, d)
    return ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms, off, WITH_OFFSET if has_off else NAIVE


@njit(cache=True, inline="always")
def _days_in_month(mo):
    if mo == 2:
        return 29
    if mo == 4 or mo == 6 or mo == 9 or mo == 11:
        return 30
    return 31
