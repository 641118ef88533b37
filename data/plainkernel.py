"""Numba kernel: the rows of a plain two-column export (ISO timestamp, decimal number) from its bytes.

Nearly every real export is this simple; reading it in one pass over the raw bytes, with
no string columns in between, is what makes ingest fast. The kernel is strict: on any
line it is not sure about it gives up (returns -1) and the tolerant reader in
data/parse.py takes the whole file, so both paths yield the same rows and counts.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from data.timekernel import BAD, NAIVE, _days_from_civil, _days_in_month, parse_iso_one

# Exact binary values of 10**k up to 10**22 (the largest power of ten a double holds exactly).
POW10 = np.array([10.0 ** k for k in range(23)])
# Mantissas up to 2**53 are exact doubles, so m / 10**k is one correctly rounded division.
MAX_EXACT = 2 ** 53
NOT_PLAIN = -1


@njit(cache=True, nogil=True)
def parse_plain_kernel(data, start, sep, decimal_comma, wall_ms, off_ms, flags, values):
    """Parse ``<timestamp><sep><number>`` lines of data[start:]; rows read, or NOT_PLAIN.

    A number is ``-?digits[.digits]`` (with decimal_comma also ``,`` as the point), at most
    2**53 as an integer mantissa and 22 decimals: exactly what the float cast of the
    tolerant path returns for it. Blank lines, quotes, spaces or other columns: NOT_PLAIN.
    """
    n = len(data)
    i = start
    r = 0
    while i < n:
        # The usual line, "YYYY-MM-DD HH:MM:SS<sep><number>", in one pass; anything
        # else (or anything this shortcut doubts) goes through the general line reader.
        if i + 20 < n and data[i + 19] == sep:
            wall, ok = _fixed_width_wall(data, i)
            if ok:
                v, ok, nxt = _number_to_eol(data, i + 20, n, decimal_comma)
                if ok:
                    wall_ms[r] = wall
                    off_ms[r] = 0
                    flags[r] = NAIVE
                    values[r] = v
                    r += 1
                    i = nxt
                    continue
        j = i
        while j < n and data[j] != 10:
            j += 1
        end = j
        if end > i and data[end - 1] == 13:
            end -= 1
        k = i
        while k < end and data[k] != sep:
            if data[k] == 34:
                return NOT_PLAIN
            k += 1
        if k == end:
            return NOT_PLAIN
        wall, off, flag = parse_iso_one(data, i, k)
        if flag == BAD:
            return NOT_PLAIN
        v, ok = _parse_number(data, k + 1, end, decimal_comma)
        if not ok:
            return NOT_PLAIN
        wall_ms[r] = wall
        off_ms[r] = off
        flags[r] = flag
        values[r] = v
        r += 1
        i = j + 1
    return r


@njit(cache=True, inline="always")
def _d2(data, i):
    a = data[i] - 48
    b = data[i + 1] - 48
    if a < 0 or a > 9 or b < 0 or b > 9:
        return -1
    return a * 10 + b


@njit(cache=True, inline="always")
def _fixed_width_wall(data, i):
    """(wall ms, ok) of "YYYY-MM-DD[ T]HH:MM:SS" at data[i:i+19]; the same checks as parse_iso_one."""
    if data[i + 4] != 45 or data[i + 7] != 45 or not (data[i + 10] == 32 or data[i + 10] == 84) \
            or data[i + 13] != 58 or data[i + 16] != 58:
        return 0, False
    c, yy = _d2(data, i), _d2(data, i + 2)
    mo, d = _d2(data, i + 5), _d2(data, i + 8)
    h, mi, s = _d2(data, i + 11), _d2(data, i + 14), _d2(data, i + 17)
    if c < 0 or yy < 0 or mo < 1 or mo > 12 or d < 1 or h < 0 or h > 23 or mi < 0 or mi > 59 or s < 0 or s > 59:
        return 0, False
    y = c * 100 + yy
    leap = (y % 4 == 0) and (y % 100 != 0 or y % 400 == 0)
    if d > _days_in_month(mo) or (mo == 2 and d == 29 and not leap):
        return 0, False
    return ((_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + s * 1000, True


@njit(cache=True, inline="always")
def _number_to_eol(data, i, n, decimal_comma):
    """(value, ok, start of the next line) of a strict decimal running to the end of its line."""
    end = i
    while end < n and data[end] != 10:
        end += 1
    nxt = end + 1 if end < n else n
    if end > i and data[end - 1] == 13:  # CRLF line end
        end -= 1
    v, ok = _parse_number(data, i, end, decimal_comma)
    return v, ok, nxt


@njit(cache=True, inline="always")
def _parse_number(data, i, end, decimal_comma):
    """(value, ok) of a strict decimal in data[i:end]."""
    neg = i < end and data[i] == 45
    if neg:
        i += 1
    m = 0
    digits = 0
    decimals = 0
    seen_point = False
    while i < end:
        c = data[i]
        if 48 <= c <= 57:
            if digits >= 17:
                return 0.0, False
            m = m * 10 + (c - 48)
            digits += 1
            if seen_point:
                decimals += 1
        elif (c == 46 or (decimal_comma and c == 44)) and not seen_point and digits > 0:
            seen_point = True
            if i + 1 >= end:
                return 0.0, False  # "5." : leave it to the tolerant path
        else:
            return 0.0, False
        i += 1
    if digits == 0 or m > MAX_EXACT or decimals > 22:
        return 0.0, False
    v = np.float64(m) / POW10[decimals]
    return (-v if neg else v), True


def parse_plain_reference(data: bytes, start: int, sep: bytes, decimal_comma: bool):
    """Plain-Python oracle of parse_plain_kernel: (wall ms, offset ms, flags, values) or None."""
    import re

    from data.timekernel import NAIVE, WITH_OFFSET, parse_iso_kernel

    number = re.compile(rb"-?[0-9]+(?:[.,][0-9]+)?" if decimal_comma else rb"-?[0-9]+(?:\.[0-9]+)?")
    body = data[start:]
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    walls, offs, flags, values = [], [], [], []
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        if b'"' in line or sep not in line:
            return None
        ts, _, num = line.partition(sep)
        buf = np.frombuffer(ts, dtype=np.uint8) if ts else np.zeros(0, np.uint8)
        w, o, f = np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int8)
        parse_iso_kernel(np.array([0, len(ts)], dtype=np.int64), buf if len(buf) else np.zeros(1, np.uint8), w, o, f)
        if f[0] not in (NAIVE, WITH_OFFSET) or not number.fullmatch(num):
            return None
        digits = num.lstrip(b"-").replace(b",", b"").replace(b".", b"")
        if len(digits) > 17 or int(digits) > MAX_EXACT or len(num.replace(b",", b".").partition(b".")[2]) > 22:
            return None
        walls.append(w[0]), offs.append(o[0]), flags.append(f[0])
        values.append(float(num.replace(b",", b".")))
    return (np.array(walls, np.int64), np.array(offs, np.int64), np.array(flags, np.int8),
            np.array(values, np.float64))
