"""Aggregate clean series into the pyramid levels (5min, 15min, 1h UTC bins; 1d local days).

The series is sorted and every bin key is monotonic in time, so each level is a single
pass over contiguous runs (data/levelkernel.py) rather than a hash group-by.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from data.glossary import LEVEL_SECONDS, LEVELS, Aggregation
from data.levelkernel import BY_HOUR_TABLE, BY_KEYS, HOUR_MS, LAST, MAX, MEAN, MIN, reduce_level
from data.timeparse import UTC_DTYPE
from data.tzmap import local_day_start_utc

# Fixed-width levels; "1d" is the local calendar day (23 to 25 hours), binned by its own table.
BIN_MS = {lv: LEVEL_SECONDS[lv] * 1000 for lv in LEVELS if lv not in ("raw", "1d")}
LEVEL_SCHEMA = {"ts": UTC_DTYPE, "value": pl.Float64, "min": pl.Float64, "max": pl.Float64, "count": pl.UInt32}


def build_levels(raw: pl.DataFrame, aggregation: Aggregation) -> dict[str, pl.DataFrame]:
    """All levels of one series as Polars frames; ``raw`` (ts, value) sorted, no duplicate ts."""
    ts = raw["ts"].dt.epoch("ms").to_numpy()
    levels = level_arrays(ts, raw["value"].to_numpy(), aggregation)
    return {"raw": raw.select("ts", "value"), **{lvl: _frame(levels[lvl][:5]) for lvl in LEVELS[1:]}}


def level_arrays(ts_ms: np.ndarray, value: np.ndarray, aggregation: Aggregation,
                 group: np.ndarray | None = None) -> dict[str, tuple]:
    """Levels above raw as (bin start ms, value, min, max, count, group) arrays.

    Every level is aggregated from the raw samples (the mean is the mean of the raw
    samples in the bin). ``group`` (e.g. the cell of each row of many cells, each sorted
    by time, one after the other) keeps bins of different groups apart; its entry per
    level is None without it.
    """
    ts_ms = np.ascontiguousarray(ts_ms, dtype=np.int64)
    value = np.ascontiguousarray(value, dtype=np.float64)
    g = np.zeros(len(ts_ms), np.int32) if group is None else np.ascontiguousarray(group)
    agg = _AGG_CODE[aggregation]
    out = {level: reduce_level(ts_ms, value, g, agg, BIN_MS[level]) for level in BIN_MS}
    out["1d"] = reduce_level(ts_ms, value, g, agg, *_local_day_table(ts_ms))
    if agg == MEAN:
        for t in out.values():
            _finite_means(value, t[1], t[4])
    if group is None:
        out = {level: t[:5] + (None,) for level, t in out.items()}
    return {level: out[level] for level in LEVELS[1:]}  # KeyError: a new glossary level needs a rule


def _finite_means(value: np.ndarray, means: np.ndarray, counts: np.ndarray) -> None:
    """Recompute, in place, the means whose running sum overflowed (values near 1.8e308).

    The raw values are finite, so their mean is too; the kernel's plain sum (kept for
    speed and exact results everywhere else) can overflow. Bins are runs of rows in
    order, so a bin's rows start where the counts before it end. Each bin is summed as
    sum(v / n), which cannot overflow.
    """
    bad = np.flatnonzero(~np.isfinite(means))
    if not len(bad):
        return
    ends = np.cumsum(counts, dtype=np.int64)
    for j in bad:
        n = int(counts[j])
        means[j] = np.sum(value[ends[j] - n: ends[j]] / n)


_AGG_CODE = {Aggregation.MEAN: MEAN, Aggregation.LAST: LAST, Aggregation.MAX: MAX, Aggregation.MIN: MIN}
# Local days are looked up per UTC hour (Europe/Berlin changes offset on whole hours, so an
# hour lies inside one local day); beyond this span the day is computed per row instead.
MAX_TABLE_HOURS = 4_000_000


def _local_day_table(ts_ms: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(bin mode, first hour, table) for reduce_level_kernel's local-day level."""
    if len(ts_ms) == 0:
        return BY_HOUR_TABLE, 0, None
    lo, hi = int(ts_ms.min()), int(ts_ms.max())
    h0, h1 = lo - lo % HOUR_MS, hi - hi % HOUR_MS
    hours = (h1 - h0) // HOUR_MS + 1
    if hours > MAX_TABLE_HOURS:
        return BY_KEYS, 0, local_day_start_utc(ts_ms)
    return BY_HOUR_TABLE, h0, local_day_start_utc(h0 + np.arange(hours, dtype=np.int64) * HOUR_MS)


def level_tables(ts_ms: np.ndarray, value: np.ndarray, aggregation: Aggregation,
                 cell: tuple[int, int] | None = None) -> dict[str, pa.Table]:
    """All levels as Arrow tables in the store schema (with pack, cell first for a cell)."""
    out = {"raw": _table({"ts": ts_ms, "value": value}, cell)}
    for level, (ts, v, lo, hi, n, _group) in level_arrays(ts_ms, value, aggregation).items():
        out[level] = _table({"ts": ts, "value": v, "min": lo, "max": hi, "count": n}, cell)
    return out


def group_level_tables(ts_ms: np.ndarray, value: np.ndarray, aggregation: Aggregation,
                       group: np.ndarray, pack: np.ndarray, cell: np.ndarray) -> dict[str, pa.Table]:
    """All levels of many cells at once; ``group`` indexes ``pack`` and ``cell`` (Int16 arrays)."""
    out = {"raw": _cells_table({"ts": ts_ms, "value": value}, pack[group], cell[group])}
    for level, (ts, v, lo, hi, n, g) in level_arrays(ts_ms, value, aggregation, group).items():
        out[level] = _cells_table({"ts": ts, "value": v, "min": lo, "max": hi, "count": n}, pack[g], cell[g])
    return out


_ARROW_TYPES = {"ts": pa.timestamp("ms", tz="UTC"), "value": pa.float64(), "min": pa.float64(),
                "max": pa.float64(), "count": pa.uint32()}


def _table(cols: dict[str, np.ndarray], cell: tuple[int, int] | None) -> pa.Table:
    if cell is None:
        return _cells_table(cols, None, None)
    n = len(cols["ts"])
    return _cells_table(cols, np.full(n, cell[0], dtype=np.int16), np.full(n, cell[1], dtype=np.int16))


def _cells_table(cols: dict[str, np.ndarray], pack: np.ndarray | None, cell: np.ndarray | None) -> pa.Table:
    arrays, names = [], []
    if pack is not None:
        arrays += [_arrow(pack, np.int16, pa.int16()), _arrow(cell, np.int16, pa.int16())]
        names += ["pack", "cell"]
    for name, x in cols.items():
        arrays.append(_arrow(x, _NUMPY_TYPES[name], _ARROW_TYPES[name]))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


_NUMPY_TYPES = {"ts": np.int64, "value": np.float64, "min": np.float64, "max": np.float64, "count": np.uint32}


def _arrow(x: np.ndarray, dtype, typ: pa.DataType) -> pa.Array:
    """An Arrow array on the NumPy buffer (no nulls, NaN stays NaN, as ``pa.array`` of NumPy).

    Not ``pa.array``: it first checks for pandas objects, which imports pandas (40 MB of
    peak RSS in an ingest that never uses it).
    """
    x = np.ascontiguousarray(x, dtype=dtype)
    return pa.Array.from_buffers(typ, len(x), [None, pa.py_buffer(x)])


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
