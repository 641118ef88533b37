"""Numba kernel for batched, NaN-aware Theil–Sen fits, matching `scipy.stats.theilslopes` bit for bit."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, error_model="numpy")
def _round_half_even(v):
    # np.round(v) (what theilslopes uses to place its CI ranks) rounds halves to even.
    f = np.floor(v)
    d = v - f
    if d > 0.5:
        return f + 1.0
    if d < 0.5:
        return f
    return f + 1.0 if (f % 2.0) != 0.0 else f


@njit(cache=True, error_model="numpy")
def _select(a, lo, hi, k):
    """Place the k-th smallest of a[lo:hi] at a[k], smaller-or-equal left, greater-or-equal right."""
    # pivot: median of three pseudo-random elements; slopes arrive row by row, partly
    # ordered, which makes fixed positions (first/middle/last) poor pivots
    state = np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(hi - lo)
    while hi - lo > 16:
        span = np.uint64(hi - lo)
        state ^= state >> np.uint64(12)
        state ^= state << np.uint64(25)
        state ^= state >> np.uint64(27)
        r = state * np.uint64(0x2545F4914F6CDD1D)
        i0 = lo + int(r % span)
        i1 = lo + int((r >> np.uint64(21)) % span)
        i2 = lo + int((r >> np.uint64(42)) % span)
        x0 = a[i0]
        x1 = a[i1]
        x2 = a[i2]
        if x0 < x1:
            if x1 < x2:
                p = i1
            elif x0 < x2:
                p = i2
            else:
                p = i0
        else:
            if x0 < x2:
                p = i0
            elif x1 < x2:
                p = i2
            else:
                p = i1
        pivot = a[p]
        a[p] = a[lo]
        a[lo] = pivot
        # Hoare partition: equal keys are split on both sides, so runs of ties stay O(n log n)
        i = lo
        j = hi
        while True:
            i += 1
            while i < hi and a[i] < pivot:
                i += 1
            j -= 1
            while a[j] > pivot:
                j -= 1
            if i >= j:
                break
            t = a[i]
            a[i] = a[j]
            a[j] = t
        a[lo] = a[j]
        a[j] = pivot
        if j == k:
            return
        if k < j:
            hi = j
        else:
            lo = j + 1
    # insertion sort of the small remainder
    for i in range(lo + 1, hi):
        v = a[i]
        j = i - 1
        while j >= lo and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@njit(cache=True, error_model="numpy")
def _select_min(a, lo, hi):
    """Move the smallest of a[lo:hi] to a[lo]."""
    m = lo
    for i in range(lo + 1, hi):
        if a[i] < a[m]:
            m = i
    t = a[lo]
    a[lo] = a[m]
    a[m] = t


@njit(cache=True, error_model="numpy")
def _tie_term(sorted_v, m):
    """sum of k (k-1) (2k+5) over runs of k equal values (Sen 1968, eq. 2.6)."""
    total = 0.0
    run = 1
    for i in range(1, m + 1):
        if i < m and sorted_v[i] == sorted_v[i - 1]:
            run += 1
        else:
            if run > 1:
                total += run * (run - 1) * (2 * run + 5) * 1.0
            run = 1
    return total


@njit(cache=True, error_model="numpy")
def _median_sorted(v, m):
    if m % 2 == 1:
        return v[m // 2]
    return (v[m // 2 - 1] + v[m // 2]) / 2.0


@njit(cache=True, error_model="numpy")
def _select_four(a, lo, hi, r_l, k_lo, k_hi, r_u):
    """Order statistics r_l <= k_lo <= k_hi <= r_u of a[lo:hi] (ranks relative to lo) in place."""
    _select(a, lo, hi, lo + k_lo)
    if k_hi != k_lo:
        _select_min(a, lo + k_hi, hi)
    if r_l < k_lo:
        _select(a, lo, lo + k_lo, lo + r_l)
    if r_u > k_hi:
        _select(a, lo + k_hi + 1, hi, lo + r_u)


SAMPLE = 4096
"""Random pairwise slopes drawn to bracket the wanted ranks before the one pass over all pairs."""

SMALL_PAIRS = 8 * SAMPLE
"""Up to this many pairs, select directly in the full set of slopes."""


@njit(cache=True, error_model="numpy")
def _all_slopes(xs, ys, m, buf):
    """Every slope (y[j] - y[i]) / (x[j] - x[i]) with x[j] > x[i] into buf; returns their count."""
    strictly = True
    for i in range(1, m):
        if xs[i] == xs[i - 1]:
            strictly = False
            break
    nt = 0
    if strictly:
        for i in range(m - 1):
            xi = xs[i]
            yi = ys[i]
            base = nt - i - 1
            for j in range(i + 1, m):
                buf[base + j] = (ys[j] - yi) / (xs[j] - xi)
            nt += m - 1 - i
    else:
        for i in range(m - 1):
            xi = xs[i]
            yi = ys[i]
            for j in range(i + 1, m):
                dx = xs[j] - xi
                if dx > 0.0:
                    buf[nt] = (ys[j] - yi) / dx
                    nt += 1
    return nt


@njit(cache=True, error_model="numpy")
def _bracketed_strict(xs, ys, m, lo_v, hi_v, row, work):
    below = 0
    w = 0
    for i in range(m - 1):
        xi = xs[i]
        yi = ys[i]
        n = m - 1 - i
        # a row of slopes into a small buffer first, so the division vectorizes
        for j in range(n):
            row[j] = (ys[i + 1 + j] - yi) / (xs[i + 1 + j] - xi)
        cb = 0
        for j in range(n):
            cb += np.int64(row[j] < lo_v)
        below += cb
        for j in range(n):
            v = row[j]
            if v >= lo_v and v <= hi_v:
                work[w] = v
                w += 1
    return below, w


@njit(cache=True, error_model="numpy")
def _bracketed_ties(xs, ys, m, lo_v, hi_v, work):
    below = 0
    w = 0
    for i in range(m - 1):
        xi = xs[i]
        yi = ys[i]
        for j in range(i + 1, m):
            dx = xs[j] - xi
            if dx > 0.0:  # equal x: no slope (as theilslopes)
                v = (ys[j] - yi) / dx
                if v < lo_v:
                    below += 1
                elif v <= hi_v:
                    work[w] = v
                    w += 1
    return below, w


@njit(cache=True, error_model="numpy")
def _bracketed_slopes(xs, ys, m, strictly, lo_v, hi_v, row, work):
    """One pass over all pairs: count slopes below lo_v, keep those in [lo_v, hi_v] in work."""
    if strictly:
        return _bracketed_strict(xs, ys, m, lo_v, hi_v, row, work)
    return _bracketed_ties(xs, ys, m, lo_v, hi_v, work)


@njit(cache=True, error_model="numpy")
def _sample_slopes(xs, ys, m, nt, sample):
    """Fill sample with slopes of pseudo-random pairs (fixed seed, so results are reproducible)."""
    state = np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(m * 1000003 + nt)
    k = 0
    tries = 0
    while k < SAMPLE and tries < 64 * SAMPLE:
        tries += 1
        # xorshift64*
        state ^= state >> np.uint64(12)
        state ^= state << np.uint64(25)
        state ^= state >> np.uint64(27)
        r = state * np.uint64(0x2545F4914F6CDD1D)
        i = int(r % np.uint64(m))
        j = int((r >> np.uint64(32)) % np.uint64(m))
        if xs[i] == xs[j]:
            continue
        if i > j:
            i, j = j, i
        sample[k] = (ys[j] - ys[i]) / (xs[j] - xs[i])
        k += 1
    return k


@njit(cache=True, error_model="numpy")
def _theil_sen_one(xs, ys, m, z, buf, row, sample, work):
    """Theil–Sen on the first m points of xs (non-decreasing) and ys; returns slope, intercept, lo, hi.

    Selection: for many pairs, a sorted random sample of slopes brackets the wanted ranks;
    one fused pass computes all slopes and keeps only those inside the bracket; the ranks
    are selected there. If the bracket missed (unlucky sample) all slopes are stored and
    selected in full, so the result is always exact.
    """
    nan = np.nan
    # pairs with x[j] > x[i], from the runs of equal x
    ties_pairs = 0
    run = 1
    for i in range(1, m + 1):
        if i < m and xs[i] == xs[i - 1]:
            run += 1
        else:
            ties_pairs += run * (run - 1) // 2
            run = 1
    nt = m * (m - 1) // 2 - ties_pairs
    if nt == 0:
        return nan, nan, nan, nan

    ysorted = np.sort(ys[:m])
    sigsq = (1.0 / 18.0) * ((m * (m - 1) * (2 * m + 5)) - _tie_term(xs, m) - _tie_term(ysorted, m))
    k_lo = (nt - 1) // 2
    k_hi = nt // 2
    have_ci = sigsq >= 0.0  # theilslopes: sqrt of a negative -> int(nan) -> ValueError -> NaN CI
    r_u = k_hi
    r_l = k_lo
    if have_ci:
        sigma = np.sqrt(sigsq)
        r_u = min(int(_round_half_even((nt - z * sigma) / 2.0)), nt - 1)
        r_l = max(int(_round_half_even((nt + z * sigma) / 2.0)) - 1, 0)
    # theilslopes' ranks sit around the median; keep the selection order valid in any case
    r_l = min(r_l, k_lo)
    r_u = max(r_u, k_hi)

    done = False
    if nt > SMALL_PAIRS:
        ns = _sample_slopes(xs, ys, m, nt, sample)
        if ns == SAMPLE:
            sample.sort()
            margin = int(2.0 * np.sqrt(SAMPLE)) + 8  # ~4 standard errors of a sample quantile
            ia = int(r_l / nt * SAMPLE) - margin
            ib = int(r_u / nt * SAMPLE) + 1 + margin
            lo_v = -np.inf if ia < 0 else sample[ia]
            hi_v = np.inf if ib >= SAMPLE else sample[ib]
            below, w = _bracketed_slopes(xs, ys, m, ties_pairs == 0, lo_v, hi_v, row, work)
            if below <= r_l and below + w > r_u:
                _select_four(work, 0, w, r_l - below, k_lo - below, k_hi - below, r_u - below)
                v_l = work[r_l - below]
                v_lo = work[k_lo - below]
                v_hi = work[k_hi - below]
                v_u = work[r_u - below]
                done = True
    if not done:
        _all_slopes(xs, ys, m, buf)
        _select_four(buf, 0, nt, r_l, k_lo, k_hi, r_u)
        v_l = buf[r_l]
        v_lo = buf[k_lo]
        v_hi = buf[k_hi]
        v_u = buf[r_u]
    med = v_lo if k_hi == k_lo else (v_lo + v_hi) / 2.0
    inter = _median_sorted(ysorted, m) - med * _median_sorted(xs, m)
    if not have_ci:
        return med, inter, nan, nan
    return med, inter, v_l, v_u


@njit(cache=True, parallel=True, error_model="numpy")
def theil_sen_batch_kernel(x, y, min_points, z, n_chunks, slope, intercept, lo, hi, n_used):
    """x: (n_points,) non-decreasing; y: (n_series, n_points), NaN = missing. Writes into the outputs."""
    n_series, n_points = y.shape
    max_pairs = max(n_points * (n_points - 1) // 2, 1)
    for c in prange(n_chunks):
        # scratch once per chunk of series, not per series
        xs = np.empty(n_points)
        ys = np.empty(n_points)
        buf = np.empty(max_pairs)
        work = np.empty(max_pairs)
        sample = np.empty(SAMPLE)
        row = np.empty(n_points)
        for s in range(c * n_series // n_chunks, (c + 1) * n_series // n_chunks):
            m = 0
            for i in range(n_points):
                v = y[s, i]
                if not np.isnan(v):
                    xs[m] = x[i]
                    ys[m] = v
                    m += 1
            n_used[s] = m
            if m < min_points:
                slope[s] = np.nan
                intercept[s] = np.nan
                lo[s] = np.nan
                hi[s] = np.nan
                continue
            a, b, c_l, c_h = _theil_sen_one(xs, ys, m, z, buf, row, sample, work)
            slope[s] = a
            intercept[s] = b
            lo[s] = c_l
            hi[s] = c_h
