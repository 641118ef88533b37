"""Largest-Triangle-Three-Buckets downsampling as a Numba kernel returning indices."""

from __future__ import annotations

import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.extending import intrinsic

MIN_N_OUT = 3
"""LTTB keeps the first and last point and at least one bucket between them."""


@njit(cache=True, inline="always")
def _sum8(y):
    """Sum of y in ndarray's eight-chain `unrolled_fold` order (what tsdownsample's mean uses)."""
    p0 = p1 = p2 = p3 = p4 = p5 = p6 = p7 = 0.0
    n8 = y.shape[0] // 8 * 8
    for i in range(0, n8, 8):
        p0 += y[i]
        p1 += y[i + 1]
        p2 += y[i + 2]
        p3 += y[i + 3]
        p4 += y[i + 4]
        p5 += y[i + 5]
        p6 += y[i + 6]
        p7 += y[i + 7]
    acc = 0.0 + (p0 + p4)
    acc = acc + (p1 + p5)
    acc = acc + (p2 + p6)
    acc = acc + (p3 + p7)
    for i in range(n8, y.shape[0]):
        acc = acc + y[i]
    return acc


@njit(cache=True, inline="always")
def _sum8_skip_nan(y):
    """(`_sum8` of y with NaN as 0.0, count of non-NaN); the NaN count is its own integer loop,
    which vectorizes, where counting inside the chains does not."""
    p0 = p1 = p2 = p3 = p4 = p5 = p6 = p7 = 0.0
    n8 = y.shape[0] // 8 * 8
    for i in range(0, n8, 8):
        v0 = y[i]
        v1 = y[i + 1]
        v2 = y[i + 2]
        v3 = y[i + 3]
        v4 = y[i + 4]
        v5 = y[i + 5]
        v6 = y[i + 6]
        v7 = y[i + 7]
        p0 += v0 if v0 == v0 else 0.0
        p1 += v1 if v1 == v1 else 0.0
        p2 += v2 if v2 == v2 else 0.0
        p3 += v3 if v3 == v3 else 0.0
        p4 += v4 if v4 == v4 else 0.0
        p5 += v5 if v5 == v5 else 0.0
        p6 += v6 if v6 == v6 else 0.0
        p7 += v7 if v7 == v7 else 0.0
    acc = 0.0 + (p0 + p4)
    acc = acc + (p1 + p5)
    acc = acc + (p2 + p6)
    acc = acc + (p3 + p7)
    for i in range(n8, y.shape[0]):
        v = y[i]
        if v == v:
            acc = acc + v
    nan = 0
    for i in range(y.shape[0]):
        nan += y[i] != y[i]
    return acc, y.shape[0] - nan


@njit(cache=True, inline="always")
def _bucket_mean(y, s, e):
    """Mean of the non-NaN y[s:e] (NaN if none), summed as tsdownsample does.

    The plain sum runs first: it is NaN iff a NaN (or inf - inf) is in it, and otherwise
    equals the NaN-skipping sum bit for bit (no NaN, nothing to skip). Only then the
    slower NaN-skipping sum runs, so clean buckets pay one vectorized pass.
    """
    ys = y[s:e]  # a slice: indices from 0 are provably >= 0, so the loops vectorize
    acc = _sum8(ys)
    if acc == acc:
        return acc / ys.shape[0]
    acc, c = _sum8_skip_nan(ys)
    if c == 0:
        return np.nan
    return acc / c


@njit(cache=True, inline="always")
def _x_order_violation(x, s, e):
    """First j in [s, e) with not x[j-1] <= x[j] (decrease or NaN), else -1; s >= 1."""
    # on a slice, so indices are provably >= 0 (no wraparound checks) and the loop vectorizes
    v = x[s - 1:e]
    bad = False
    for k in range(1, v.shape[0]):
        bad |= not (v[k] >= v[k - 1])  # one unordered compare: a decrease or a NaN
    if not bad:
        return -1
    for j in range(s, e):
        if not (x[j] >= x[j - 1]):
            return j
    return -1


BLOCK = 256
"""Points per block of the area argmax: a block's largest area key is one vectorized integer
reduction; only the winning block of a bucket is scanned again (from L1) for the first one."""

_INF_KEY = np.int64(0x7FF0_0000_0000_0000)
"""Bits of +inf. Bits of a non-negative float64 order as the floats do; beyond this is NaN."""


@intrinsic
def _bits(typingctx, v):
    """The IEEE bits of a float64 as int64 (a register bitcast, no memory round trip)."""
    if v != types.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return types.int64(types.float64), codegen


@njit(cache=True, inline="always")
def _area_key(x, y, d1, d2, offset):
    """Order-preserving int64 key of the area |d1*y + d2*x - offset|, -1 for NaN.

    abs() clears the sign bit, so the bits of a non-negative float (or of NaN) compare as
    the floats do; an integer max then vectorizes where a NaN-aware float max does not.
    """
    key = _bits(abs(d1 * y + d2 * x - offset))
    return key if key <= _INF_KEY else np.int64(-1)


@njit(cache=True, inline="always")
def _block_max_key(xs, ys, d1, d2, offset):
    m = np.int64(-1)
    for k in range(xs.shape[0]):
        m = max(m, _area_key(xs[k], ys[k], d1, d2, offset))
    return m


@njit(cache=True, inline="always")
def _first_key(xs, ys, d1, d2, offset, target):
    """First k with area key == target (a branch-free index min; target is in the block)."""
    n = xs.shape[0]
    first = n
    for k in range(n):
        first = min(first, k if _area_key(xs[k], ys[k], d1, d2, offset) == target else n)
    return first


@njit(cache=True, inline="always")
def _argmax_area(x, y, lo, s, d1, d2, offset):
    """First j in [lo, s) maximising |d1*y + d2*x - offset| over non-NaN areas, else -1.

    Blocks of BLOCK points; a strict > keeps the earliest block holding the maximum, and
    the first index inside it is the plain loop's first maximum. The area is recomputed
    by the same expression, so the key compares equal bit for bit.
    """
    best = np.int64(-1)
    b_lo = lo
    for j in range(lo, s, BLOCK):
        je = min(j + BLOCK, s)
        # slices: indices from 0 are provably >= 0 (no wraparound code), so the loop vectorizes
        m = _block_max_key(x[j:je], y[j:je], d1, d2, offset)
        if m > best:
            best = m
            b_lo = j
    if best < 0:
        return -1
    je = min(b_lo + BLOCK, s)
    return b_lo + _first_key(x[b_lo:je], y[b_lo:je], d1, d2, offset, best)


@njit(cache=True, inline="always")
def _pick(x, y, lo, s, e, a, c_y):
    """Bucket [lo, s)'s point: largest triangle with a and the next bucket [s, e)'s (cx, c_y)."""
    cx = (x[s] + x[e - 1]) / 2.0
    ax = x[a]
    ay = y[a]
    if not np.isfinite(c_y):
        c_y = ay
    if not np.isfinite(ay):
        ay = c_y
    d1 = ax - cx
    d2 = c_y - ay
    offset = d1 * ay + d2 * ax
    arg = _argmax_area(x, y, lo, s, d1, d2, offset)
    if arg < 0:  # no area: first non-NaN point, else the first point
        arg = lo
        for j in range(lo, s):
            if y[j] == y[j]:
                return j
    return arg


@njit(cache=True)
def lttb_kernel(x, y, n_out, out):
    """LTTB into out (n_out,) in one streaming pass; returns the first x-order violation or -1.

    Per bucket i: the mean of bucket i+1 and the x-order check of its points read them
    from memory, then bucket i's area argmax re-reads its points from cache (they were
    bucket i+1 one step before), so x and y are read from memory once. A violation is
    x[j] < x[j-1] or NaN (0 if x[0] is NaN); out is then meaningless. Conventions are
    those of `core.kernels.reference.lttb_indices_reference`.
    """
    n = x.shape[0]
    every = (n - 2) / (n_out - 2)
    bad = np.int64(0) if np.isnan(x[0]) else np.int64(-1)
    e = min(int(every) + 1, n)  # end of bucket 0 = start of bucket 1
    if bad < 0:
        bad = _x_order_violation(x, 1, e)
    out[0] = 0
    a = 0
    for i in range(n_out - 2):
        s = int(every * (i + 1)) + 1
        e = min(int(every * (i + 2)) + 1, n)
        if bad < 0:
            bad = _x_order_violation(x, s, e)
        a = _pick(x, y, int(every * i) + 1, s, e, a, _bucket_mean(y, s, e))
        out[i + 1] = a
    if bad < 0 and e < n:  # points past the last next-bucket (float rounding of every)
        bad = _x_order_violation(x, e, n)
    out[n_out - 1] = n - 1
    return bad


def lttb_into(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """LTTB on validated contiguous float64 x, y with 3 <= n_out < len(x); raises on bad x order."""
    out = np.empty(n_out, dtype=np.int64)
    _check_x_result(lttb_kernel(x, y, n_out, out), x)
    return out


def _validate_xy(x: np.ndarray, y: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray, int]:
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"x and y must be 1-D, got shapes {x.shape} and {y.shape}")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape[0]} and {y.shape[0]}")
    if isinstance(n_out, bool) or not isinstance(n_out, (int, np.integer)):
        raise ValueError(f"n_out must be an integer, got {n_out!r}")
    n_out = int(n_out)
    if n_out < MIN_N_OUT:
        raise ValueError(f"n_out must be >= {MIN_N_OUT} (first, last and one bucket), got {n_out}")
    if np.issubdtype(x.dtype, np.datetime64):
        x = x.astype("datetime64[ns]").view(np.int64)
    for name, arr in (("x", x), ("y", y)):
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    return x, y, n_out


def _check_x_result(pos: int, x: np.ndarray) -> None:
    if pos == 0:
        raise ValueError("x must be non-decreasing and not NaN; x[0] is NaN")
    if pos > 0:
        raise ValueError(f"x must be non-decreasing and not NaN; x[{pos}] = {float(x[pos])!r} "
                         f"follows x[{pos - 1}] = {float(x[pos - 1])!r}")


def lttb_indices(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """Indices of the points LTTB keeps when reducing (x, y) to n_out points.

    Parameters
    ----------
    x : (n,) array
        Non-decreasing positions (float, int or datetime64; converted to float64).
    y : (n,) array
        Values; NaN marks a missing point (never chosen while its bucket has a non-NaN
        point, left out of bucket means).
    n_out : int
        Points wanted, >= 3. If n_out >= n all indices are returned.

    Returns
    -------
    np.ndarray of int64, strictly increasing, starting at 0 and ending at n - 1. On finite
    data identical to tsdownsample's ``LTTBDownsampler`` (same buckets, same summation).

    Raises
    ------
    ValueError
        On shape mismatch, n_out < 3, non-numeric input, or x decreasing / NaN.
    """
    x, y, n_out = _validate_xy(x, y, n_out)
    n = x.shape[0]
    if n_out >= n:
        if n > 1 and (np.any(x[1:] < x[:-1]) or np.isnan(x).any()):
            bad = int(np.flatnonzero(~(x[1:] >= x[:-1]))[0]) + 1
            _check_x_result(bad, x)
        return np.arange(n, dtype=np.int64)
    return lttb_into(x, y, n_out)
