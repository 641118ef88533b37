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


LEAF = 24
"""Subranges up to this size are insertion-sorted instead of partitioned."""


@njit(cache=True, error_model="numpy")
def _select_ranks(a, b, n, ranks, out):
    """out[q] <- the ranks[q]-th smallest of a[:n] (ranks ascending); a[:n] and b[:n] are scratch.

    Quickselect for all ranks at once. Each round copies a subrange from one buffer into the
    other with a three-way partition whose write positions advance by comparison results:
    no branch on the data. Slopes are full of ties and near-random, so the branches of an
    in-place Hoare partition mispredicted on about every other element and made this the
    costliest step of a fit; the equal run also ends a round at once when a rank lands in it.
    """
    nq = ranks.shape[0]
    # pending subranges hold disjoint, non-empty sets of ranks: at most nq at a time
    stack = np.empty((nq + 1, 5), dtype=np.int64)
    stack[0, 0] = 0
    stack[0, 1] = n
    stack[0, 2] = 0
    stack[0, 3] = nq
    stack[0, 4] = 0
    top = 1
    state = np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(n)
    while top > 0:
        top -= 1
        lo = stack[top, 0]
        hi = stack[top, 1]
        q0 = stack[top, 2]
        q1 = stack[top, 3]
        src = a if stack[top, 4] == 0 else b
        dst = b if stack[top, 4] == 0 else a
        if hi - lo <= LEAF:
            for i in range(lo + 1, hi):
                v = src[i]
                j = i - 1
                while j >= lo and src[j] > v:
                    src[j + 1] = src[j]
                    j -= 1
                src[j + 1] = v
            for q in range(q0, q1):
                out[q] = src[ranks[q]]
            continue
        # pivot: median of three pseudo-random elements (slopes arrive partly ordered)
        span = np.uint64(hi - lo)
        state ^= state >> np.uint64(12)
        state ^= state << np.uint64(25)
        state ^= state >> np.uint64(27)
        r = state * np.uint64(0x2545F4914F6CDD1D)
        x0 = src[lo + int(r % span)]
        x1 = src[lo + int((r >> np.uint64(21)) % span)]
        x2 = src[lo + int((r >> np.uint64(42)) % span)]
        p = max(min(x0, x1), min(max(x0, x1), x2))
        # every element is written at both ends; only the end whose test holds moves on,
        # so [l, r] is left holding the elements equal to p (their values are not needed)
        left = lo
        right = hi - 1
        for i in range(lo, hi):
            v = src[i]
            dst[left] = v
            dst[right] = v
            left += np.int64(v < p)
            right -= np.int64(v > p)
        qa = q0
        while qa < q1 and ranks[qa] < left:
            qa += 1
        qb = qa
        while qb < q1 and ranks[qb] <= right:
            out[qb] = p
            qb += 1
        side = 1 - stack[top, 4]
        if qa > q0:
            stack[top, 0] = lo
            stack[top, 1] = left
            stack[top, 2] = q0
            stack[top, 3] = qa
            stack[top, 4] = side
            top += 1
        if q1 > qb:
            stack[top, 0] = right + 1
            stack[top, 1] = hi
            stack[top, 2] = qb
            stack[top, 3] = q1
            stack[top, 4] = side
            top += 1


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
        # slices: indices provably in range, so both loops vectorize (division included)
        r = row[:n]
        yy = ys[i + 1:m]
        xx = xs[i + 1:m]
        cb = 0
        for j in range(n):
            v = (yy[j] - yi) / (xx[j] - xi)
            r[j] = v
            cb += np.int64(v < lo_v)
        below += cb
        # branch-free compaction: always store, advance only inside the bracket (a branch
        # here mispredicts on ~1 slope in 8 and doubled the cost of the whole pass)
        for j in range(n):
            v = r[j]
            work[w] = v
            w += np.int64((v >= lo_v) & (v <= hi_v))
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
                below += np.int64(v < lo_v)
                work[w] = v
                w += np.int64((v >= lo_v) & (v <= hi_v))
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

    ranks = np.empty(4, dtype=np.int64)
    vals = np.empty(4)
    done = False
    if nt > SMALL_PAIRS:
        ns = _sample_slopes(xs, ys, m, nt, sample)
        if ns == SAMPLE:
            margin = int(2.0 * np.sqrt(SAMPLE)) + 8  # ~4 standard errors of a sample quantile
            ia = int(r_l / nt * SAMPLE) - margin
            ib = int(r_u / nt * SAMPLE) + 1 + margin
            # two order statistics of the sample, not a full sort of it (buf is free here)
            ranks[0] = min(max(ia, 0), SAMPLE - 1)
            ranks[1] = min(max(ib, 0), SAMPLE - 1)
            _select_ranks(sample, buf, SAMPLE, ranks[:2], vals)
            lo_v = -np.inf if ia < 0 else vals[0]
            hi_v = np.inf if ib >= SAMPLE else vals[1]
            below, w = _bracketed_slopes(xs, ys, m, ties_pairs == 0, lo_v, hi_v, row, work)
            if below <= r_l and below + w > r_u:
                ranks[0] = r_l - below
                ranks[1] = k_lo - below
                ranks[2] = k_hi - below
                ranks[3] = r_u - below
                _select_ranks(work, buf, w, ranks, vals)
                done = True
    if not done:
        _all_slopes(xs, ys, m, buf)
        ranks[0] = r_l
        ranks[1] = k_lo
        ranks[2] = k_hi
        ranks[3] = r_u
        _select_ranks(buf, work, nt, ranks, vals)
    v_l = vals[0]
    v_lo = vals[1]
    v_hi = vals[2]
    v_u = vals[3]
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
