"""Aggregate one clean series into the pyramid levels (5min, 15min, 1h UTC bins; 1d local days).

The series is sorted and every bin key is monotonic in time, so each level is a single
``reduceat`` pass over contiguous runs rather than a hash group-by.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from data.glossary import LEVELS, Aggregation
from data.timeparse import UTC_DTYPE
from data.tzmap import local_day_start_utc

BIN_MS = {"5min": 300_000, "15min": 900_000, "1h": 3_600_000}
LEVEL_SCHEMA = {"ts": UTC_DTYPE, "value": pl.Float64, "min": pl.Float64, "max": pl.Float64, "count": pl.UInt32}


def build_levels(raw: pl.DataFrame, aggregation: Aggregation) -> dict[str, pl.DataFrame]:
    """All levels of one series; ``raw`` (ts, value) must be sorted by ts without duplicates.

    5min is aggregated from raw; coarser levels from 5min (exact: every 5-min bin lies
    inside one 15-min, 1-h and local-day bin, as Europe/Berlin offsets are whole hours).
    The mean is carried up weighted by count, so it equals the mean of the raw samples.
    """
    raw = raw.select("ts", "value")
    ts = raw["ts"].dt.epoch("ms").to_numpy()
    v = raw["value"].to_numpy()
    five = _reduce(ts - ts % BIN_MS["5min"], v, v, v, np.ones(len(v), np.int64), aggregation)
    levels = {"raw": raw, "5min": _frame(five)}
    for level in ("15min", "1h"):
        levels[level] = _frame(_reduce(five[0] - five[0] % BIN_MS[level], *five[1:], aggregation))
    levels["1d"] = _frame(_reduce(local_day_start_utc(five[0]), *five[1:], aggregation))
    return {level: levels[level] for level in LEVELS}  # KeyError: a new glossary level needs a rule here


def _reduce(key, value, vmin, vmax, count, aggregation: Aggregation):
    """(bin start ms, value, min, max, count) over runs of equal ``key``."""
    n = len(key)
    if n == 0:
        e = np.zeros(0)
        return np.zeros(0, np.int64), e, e, e, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    ends = np.concatenate((starts[1:], [n]))
    cnt = np.add.reduceat(count, starts)
    if aggregation is Aggregation.MEAN:
        out = np.add.reduceat(value * count, starts) / cnt
    elif aggregation is Aggregation.LAST:
        out = value[ends - 1]
    elif aggregation is Aggregation.MAX:
        out = np.maximum.reduceat(value, starts)
    else:
        out = np.minimum.reduceat(value, starts)
    return key[starts], out, np.minimum.reduceat(vmin, starts), np.maximum.reduceat(vmax, starts), cnt


def _frame(cols) -> pl.DataFrame:
    ts, value, vmin, vmax, count = cols
    return pl.DataFrame(
        {
            "ts": pl.Series(ts, dtype=pl.Int64).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"),
            "value": pl.Series(value, dtype=pl.Float64),
            "min": pl.Series(vmin, dtype=pl.Float64),
            "max": pl.Series(vmax, dtype=pl.Float64),
            "count": pl.Series(count, dtype=pl.Int64).cast(pl.UInt32),
        },
        schema=LEVEL_SCHEMA,
    )
