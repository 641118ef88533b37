"""Energy intervals from cumulative counters and power: gap-aware, booked by their start, with coverage.

The counter rule (README "Counter rule"): consecutive snapshots v[i-1] -> v[i] give one interval.

- A rise is energy.
- A *rollover*: v[i-1] lies in the top 10 % of a register width (2^16, 2^23, 2^32) and v[i] in
  its bottom 10 %: the interval is ``width - v[i-1] + v[i]``.
- *Jitter*: a drop of at most ``max(1 unit, 1 % of v[i-1])``: the counter did not restart. Energy
  is counted from the counter's high-water mark, so the interval is 0 and the next rises count only
  what lies above the old peak (no spike; the total is the same as without the jitter).
- A *reset*: v[i] is below 10 % of v[i-1]: the counter restarted from zero; the interval is v[i].
- Any other drop (the counter jumped back to an unknown base) books nothing and is flagged ``drop``.

An interval whose span is a gap (by the series' gap rule, core.series.gap_threshold_ms) is never
booked to a bucket: its energy is *unattributed* and reported with its range. Intervals are
booked to the bucket of their start, so a local day is counter(D+1 00:00) - counter(D 00:00).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

import numpy as np

from core.series import gap_threshold_ms
from core.results import UnattributedEnergy
from data.glossary import LEVEL_SECONDS, LOCAL_TZ

# Register widths seen on meters: a rollover wraps at one of these [counter units].
WRAP_MODULI = (2.0**16, 2.0**23, 2.0**32)
# A previous value within this fraction of a modulus below it may have rolled over.
WRAP_NEAR_FRACTION = 0.9
# A drop of at most this much is meter jitter, not a reset [counter units, fraction of the value].
JITTER_MAX_UNITS = 1.0
JITTER_MAX_FRACTION = 0.01
# A drop to below this fraction of the previous value is a restart from zero.
RESET_MAX_FRACTION = 0.1
# A local day with data for less than this fraction of its length is partial.
PARTIAL_DAY_COVERAGE = 0.99

_LOCAL = ZoneInfo(LOCAL_TZ)
_BUCKET_MS = {"15min": 900_000, "1h": 3_600_000}


class IntervalKind(IntEnum):
    """How the interval between two counter snapshots was read."""

    RISE = 0
    JITTER = 1
    RESET = 2
    ROLLOVER = 3
    DROP = 4


@dataclass(frozen=True)
class EnergyIntervals:
    """Parallel arrays, one element per interval [start_ms, end_ms) (epoch ms UTC)."""

    start_ms: np.ndarray  # int64
    end_ms: np.ndarray  # int64
    energy: np.ndarray  # float64 [counter units, kWh]; signed only for power intervals
    kind: np.ndarray  # int8 IntervalKind (RISE for power intervals)
    in_gap: np.ndarray  # bool: spans a gap, energy unattributed
    covered_ms: np.ndarray  # int64: time this interval stands for with data (0 in a gap)

    @property
    def measured(self) -> np.ndarray:
        return np.where(self.in_gap, 0.0, self.energy)


@dataclass(frozen=True)
class Buckets:
    """Energy booked per bucket (local day, hour or quarter hour) with the bucket's coverage."""

    starts_ms: np.ndarray  # int64 bucket starts, epoch ms UTC
    labels: tuple[str, ...]  # local date YYYY-MM-DD for days, ISO UTC for hours/15 min
    energy: np.ndarray  # float64; NaN where the bucket has no data at all
    coverage: np.ndarray  # float64 0..1: covered time / bucket length


def _empty() -> EnergyIntervals:
    z = np.zeros(0)
    return EnergyIntervals(z.astype(np.int64), z.astype(np.int64), z, z.astype(np.int8), z.astype(bool),
                           z.astype(np.int64))


def _kinds(prev: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kind of each step and, for rollovers, the register width it wrapped at."""
    kind = np.full(prev.shape, IntervalKind.RISE, dtype=np.int8)
    modulus = np.zeros(prev.shape)
    drop = cur < prev
    if not drop.any():
        return kind, modulus
    jitter = drop & ((prev - cur) <= np.maximum(JITTER_MAX_UNITS, JITTER_MAX_FRACTION * np.abs(prev)))
    rolled = np.zeros(prev.shape, dtype=bool)
    for m in WRAP_MODULI:
        cand = drop & ~jitter & ~rolled & (prev >= WRAP_NEAR_FRACTION * m) & (prev < m) & (cur < (1 - WRAP_NEAR_FRACTION) * m)
        modulus[cand] = m
        rolled |= cand
    reset = drop & ~jitter & ~rolled & (cur < RESET_MAX_FRACTION * prev)
    kind[jitter] = IntervalKind.JITTER
    kind[rolled] = IntervalKind.ROLLOVER
    kind[reset] = IntervalKind.RESET
    kind[drop & ~jitter & ~rolled & ~reset] = IntervalKind.DROP
    return kind, modulus


def counter_energy(ts_ms: np.ndarray, values: np.ndarray, *, level: str = "raw") -> EnergyIntervals:
    """Intervals between consecutive valid snapshots of a cumulative counter (see the module rule).

    Missing snapshots (NaN) are skipped: the interval spans from the last valid one to the next.
    ``level`` is the pyramid level read; it sets the floor of the gap rule as for series.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    ts, v = ts[ok], v[ok]
    if v.size < 2:
        return _empty()
    prev, cur = v[:-1], v[1:]
    kind, modulus = _kinds(prev, cur)
    # Unwrap into one continuous counter: each segment (started by a reset, rollover or drop)
    # is lifted by an offset so that the boundary books exactly what the rule says.
    new_seg = np.flatnonzero(kind >= IntervalKind.RESET) + 1  # index into v of a segment's first value
    starts = np.concatenate([[0], new_seg])
    seg_max = np.maximum.reduceat(v, starts)  # the raw high-water mark of each segment
    add = np.zeros(starts.size)
    b_kind = kind[new_seg - 1]
    prev_max = seg_max[:-1]
    add[1:] = np.select(
        [b_kind == IntervalKind.ROLLOVER, b_kind == IntervalKind.RESET],
        [modulus[new_seg - 1], prev_max],
        default=prev_max - v[new_seg],  # drop: the new base books nothing
    )
    offset = np.cumsum(add)
    seg_of = np.repeat(np.arange(starts.size), np.diff(np.concatenate([starts, [v.size]])))
    high_water = np.maximum.accumulate(v + offset[seg_of])
    energy = np.diff(high_water)
    steps = np.diff(ts)
    in_gap = steps > gap_threshold_ms(ts, level)
    covered = np.where(in_gap, 0, steps).astype(np.int64)
    return EnergyIntervals(ts[:-1], ts[1:], energy, kind, in_gap, covered)


def power_energy(ts_ms: np.ndarray, power_kw: np.ndarray, *, level: str) -> EnergyIntervals:
    """Signed energy [kWh] of each power bin or sample, holding its value for its width (left rule).

    A bin's width is the level's bin length, or the typical sampling step when that is longer;
    a step longer than that (a gap, or a missing bin) still holds only one width: the time
    after it has no data and counts against coverage rather than being guessed.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)
    p = np.asarray(power_kw, dtype=np.float64)
    ok = np.isfinite(p)
    ts, p = ts[ok], p[ok]
    if p.size == 0:
        return _empty()
    steps = np.diff(ts)
    typical_ms = float(np.median(steps)) if steps.size else 0.0
    hold_ms = int(max(LEVEL_SECONDS[level] * 1000, typical_ms))
    if hold_ms <= 0:
        return _empty()
    width = np.minimum(np.append(steps, hold_ms), hold_ms).astype(np.int64)
    energy = p * width / 3_600_000.0
    zeros = np.zeros(p.size)
    return EnergyIntervals(ts, ts + width, energy, zeros.astype(np.int8), zeros.astype(bool), width)


def unattributed(iv: EnergyIntervals, signal: str) -> tuple[UnattributedEnergy, ...]:
    """The intervals that span a gap, as ranges with the energy counted across them."""
    out = []
    for i in np.flatnonzero(iv.in_gap):
        out.append(UnattributedEnergy(signal, _dt(iv.start_ms[i]), _dt(iv.end_ms[i]), float(iv.energy[i]),
                                      IntervalKind(int(iv.kind[i])).name.lower()))
    return tuple(out)


def totals(iv: EnergyIntervals) -> tuple[float, float]:
    """(measured, unattributed) energy of all intervals."""
    return float(iv.measured.sum()), float(iv.energy[iv.in_gap].sum())


def book(iv: EnergyIntervals, bucket: str = "day", *, energy: np.ndarray | None = None,
         first_ms: int | None = None, last_ms: int | None = None) -> Buckets:
    """Book each interval's measured energy to the bucket of its start (local day, 1h or 15min).

    Every bucket from the first to the last interval start (or ``first_ms``/``last_ms``) is
    listed; a bucket without data has NaN energy and coverage 0. ``energy`` replaces the
    interval energies (e.g. the positive part of power intervals).
    """
    e = iv.measured if energy is None else np.where(iv.in_gap, 0.0, energy)
    lo = int(iv.start_ms.min()) if first_ms is None and iv.start_ms.size else first_ms
    hi = int(iv.start_ms.max()) if last_ms is None and iv.start_ms.size else last_ms
    if lo is None or hi is None:
        return Buckets(np.zeros(0, np.int64), (), np.zeros(0), np.zeros(0))
    edges = bucket_edges_ms(lo, hi, bucket)
    idx = np.searchsorted(edges, iv.start_ms, side="right") - 1
    inside = (idx >= 0) & (idx < edges.size - 1)
    n = edges.size - 1
    total = np.bincount(idx[inside], weights=e[inside], minlength=n)
    covered = np.bincount(idx[inside], weights=iv.covered_ms[inside], minlength=n)
    coverage = np.clip(covered / np.diff(edges), 0.0, 1.0)
    total = np.where(coverage > 0, total, np.nan)
    if bucket == "day":
        labels = tuple(_dt(t).astimezone(_LOCAL).date().isoformat() for t in edges[:-1])
    else:
        labels = tuple(_dt(t).strftime("%Y-%m-%dT%H:%M:%SZ") for t in edges[:-1])
    return Buckets(edges[:-1], labels, total, coverage)


def bucket_edges_ms(lo_ms: int, hi_ms: int, bucket: str) -> np.ndarray:
    """Bucket boundaries covering [lo, hi]: local midnights for days, UTC multiples otherwise.

    Berlin's offsets are whole hours, so UTC hours and quarter hours are local ones too, and the
    repeated autumn hour is two distinct buckets.
    """
    if bucket in _BUCKET_MS:
        step = _BUCKET_MS[bucket]
        first = lo_ms // step * step
        return np.arange(first, (hi_ms // step + 2) * step, step, dtype=np.int64)
    if bucket != "day":
        raise ValueError(f"bucket must be day, 1h or 15min, got {bucket!r}")
    d0 = _dt(lo_ms).astimezone(_LOCAL).date()
    d1 = _dt(hi_ms).astimezone(_LOCAL).date()
    days = [d0 + timedelta(days=k) for k in range((d1 - d0).days + 2)]
    return np.array([local_midnight_ms(d) for d in days], dtype=np.int64)


def local_midnight_ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=_LOCAL).timestamp() * 1000)


def _dt(ms) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000.0, tz=UTC)


def counter_intervals(values: np.ndarray) -> np.ndarray:
    """Energy between consecutive snapshots by the counter rule, ignoring time (element 0 is NaN).

    Kept for callers without timestamps; gap handling needs :func:`counter_energy`.
    """
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(v))
    if ok.size < 2:
        return out
    iv = counter_energy(ok.astype(np.int64), v[ok])
    out[ok[1:]] = iv.energy
    # an interval next to a missing snapshot is missing, not merged across it
    out[ok[1:][np.diff(ok) > 1]] = np.nan
    return out


def integrate_power_kwh(ts_ms: np.ndarray, power_kw: np.ndarray, *, max_step_s: float) -> np.ndarray:
    """Energy of each step [kWh] by holding each bin's mean power for its step (left rule).

    Steps longer than ``max_step_s`` (gaps) contribute nothing rather than a guess.
    Element i is the energy from t[i] to t[i+1]; the last element is 0.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)
    p = np.asarray(power_kw, dtype=np.float64)
    out = np.zeros(p.shape)
    if p.size < 2:
        return out
    step_s = np.diff(ts) / 1000.0
    valid = (step_s <= max_step_s) & np.isfinite(p[:-1])
    out[:-1] = np.where(valid, p[:-1] * step_s / 3600.0, 0.0)
    return out
