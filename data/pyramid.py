"""Aggregate one clean series into the pyramid levels (5min, 15min, 1h UTC bins; 1d local days).

The series is sorted and every bin key is monotonic in time, so each level is a single
``reduceat`` pass over contiguous runs rather than a hash group-by.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from data.glossary import LEVELS, Aggregation
from data.timeparse import UTC_DTYPE
from data.tzmap import local_day_start_utc

BIN_MS = {"5min": 300_000, "15min": 900_000, "1h": 3_600_000}
LEVEL_SCHEMA = {"ts": UTC_DTYPE, "value": pl.Float64, "min": pl.Float64, "max": pl.Float64, "count": pl.UInt32}


def build_levels(raw: pl.DataFrame, aggregation: Aggregation) -> dict[str, pl.DataFrame]:
    """All levels of one series as Polars frames; ``raw`` (ts, value) sorted, no duplicate ts."""
    ts = raw["ts"].dt.epoch("ms").to_numpy()
    levels = level_arrays(ts, raw["value"].to_numpy(), aggregation)
    return {"raw": raw.select("ts", "value"), **{lvl: _frame(levels[lvl]) for lvl in LEVELS[1:]}}


def level_arrays(ts_ms: np.ndarray, value: np.ndarray, aggregation: Aggregation) -> dict[str, tuple]:
    """Levels above raw as (bin start ms, value, min, max, count) arrays.

    5min is aggregated from raw; coarser levels from 5min (exact: every 5-min bin lies
    inside one 15-min, 1-h and local-day bin, as Europe/Berlin offsets are whole hours).
    The mean is carried up weighted by count, so it equals the mean of the raw samples.
    """
    five = _reduce(ts_ms - ts_ms % BIN_MS["5min"], value, value, value, np.ones(len(value), np.int64), aggregation)
    levels = {"5min": five}
    for level in ("15min", "1h"):
        levels[level] = _reduce(five[0] - five[0] % BIN_MS[level], *five[1:], aggregation)
    levels["1d"] = _reduce(local_day_start_utc(five[0]), *five[1:], aggregation)
    return {level: levels[level] for level in LEVELS[1:]}  # KeyError: a new glossary level needs a rule


def level_tables(ts_ms: np.ndarray, value: np.ndarray, aggregation: Aggregation,
                 cell: tuple[int, int] | None = None) -> dict[str, pa.Table]:
    """All levels as Arrow tables in the store schema (with pack, cell first for a cell)."""
    out = {"raw": _table({"ts": ts_ms, "value": value}, cell)}
    for level, (ts, v, lo, hi, n) in level_arrays(ts_ms, value, aggregation).items():
        out[level] = _table({"ts": ts, "value": v, "min": lo, "max": hi, "count": n}, cell)
    return out


_ARROW_TYPES = {"ts": pa.timestamp("ms", tz="UTC"), "value": pa.float64(), "min": pa.float64(),
                "max": pa.float64(), "count": pa.uint32()}


def _table(cols: dict[str, np.ndarray], cell: tuple[int, int] | None) -> pa.Table:
    arrays, names = [], []
    if cell is not None:
        n = len(cols["ts"])
        for name, x in zip(("pack", "cell"), cell):
            arrays.append(pa.array(np.full(n, x, dtype=np.int16)))
            names.append(name)
    for name, x in cols.items():
        arrays.append(pa.array(x.astype(np.uint32) if name == "count" else x, type=_ARROW_TYPES[name]))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


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
