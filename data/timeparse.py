"""Vectorised timestamp parsing: ISO-8601-like strings to exact UTC instants across DST.

Two paths: a Numba kernel reads ``YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z|+hh:mm]`` straight
from the Arrow string buffer (all usual exports); a Polars regex path is the fallback
for the rows it rejects. Wall-clock times without offset are local
(Europe/Berlin): in the October repeated hour the first pass is summer time and the
second pass, detected by file order, winter time; a time inside the March gap is moved
forward by the gap (one hour) and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from data.timekernel import WITH_OFFSET, parse_iso_kernel
from data.tzkernel import local_to_utc_fast
from data.tzmap import fold_shift_ms

UTC_DTYPE = pl.Datetime("ms", "UTC")
_FORMAT = "%Y-%m-%d %H:%M:%S%.f"
_ISO_RE = (
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ]+|$)(?:(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"(?:[.,](\d{1,9}))?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
)
# In the repeated hour a step back in wall time larger than this starts the second pass;
# smaller steps are out-of-order rows (one late 15-min sample must not flip the pass).
FOLD_JUMP_MS = 15 * 60 * 1000


@dataclass(frozen=True)
class ParsedTimes:
    """UTC instants in input order; null where the text is not a timestamp."""

    utc: pl.Series  # Datetime[ms, UTC], named "ts"
    gap_shifted: int  # wall times inside the spring-forward gap, moved forward
    fold_second_pass: int  # rows read as the second pass of the repeated autumn hour


def parse_timestamps(text: pl.Series) -> ParsedTimes:
    """Parse timestamp strings given in file order (the order decides the repeated hour)."""
    wall, ok, off, has_off = _kernel_path(text)
    rest = np.flatnonzero(~ok & text.is_not_null().to_numpy())
    if len(rest):
        w2, ok2, off2, has2 = _regex_path(text.gather(rest))
        wall[rest], ok[rest], off[rest], has_off[rest] = w2, ok2, off2, has2
    utc, gap_n, fold_n = resolve_utc(wall, ok, off, has_off)
    series = pl.Series("ts", utc, dtype=pl.Int64).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")
    if not ok.all():
        series = pl.select(pl.when(pl.Series(ok)).then(series)).to_series().alias("ts")
    return ParsedTimes(series, gap_n, fold_n)


def resolve_utc(wall: np.ndarray, ok: np.ndarray, off: np.ndarray, has_off: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(UTC ms, wall times shifted out of the gap, rows in the fold's second pass) in file order.

    Rows with an offset are exact; rows without are Europe/Berlin wall time (rows not ok
    are left as they are: the caller masks them).
    """
    utc = wall - off
    local = ok & ~has_off
    gap_n = fold_n = 0
    if local.any():
        idx = None if local.all() else np.flatnonzero(local)  # the usual file: all local, no gather
        w = wall if idx is None else wall[idx]
        u, in_fold, in_gap = local_to_utc_fast(w)
        if in_fold.any():
            second = _second_pass(w, in_fold)
            u = u + np.where(second, fold_shift_ms(w), 0)
            fold_n = int(second.sum())
        gap_n = int(in_gap.sum())
        if idx is None:
            utc = u
        else:
            utc[idx] = u
    return utc, gap_n, fold_n


def _second_pass(wall: np.ndarray, in_fold: np.ndarray) -> np.ndarray:
    """Per fold (one per year), rows after the wall clock jumps back are the second pass."""
    second = np.zeros(len(wall), dtype=bool)
    fold_rows = np.flatnonzero(in_fold)
    day = wall[fold_rows] // 86_400_000
    for d in np.unique(day):
        idx = fold_rows[day == d]  # file order
        t = wall[idx]
        prev_max = np.maximum.accumulate(np.concatenate(([t[0]], t[:-1])))
        second[idx] = np.logical_or.accumulate(prev_max - t > FOLD_JUMP_MS)
    return second


def _kernel_path(text: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(wall ms, ok, offset ms, has offset) straight from the Arrow string buffer."""
    n = len(text)
    wall = np.zeros(n, dtype=np.int64)
    off = np.zeros(n, dtype=np.int64)
    flags = np.zeros(n, dtype=np.int8)
    if n == 0:
        return wall, flags > 0, off, flags == WITH_OFFSET
    arr = text.cast(pl.String).to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
    parse_iso_kernel(offsets, data, wall, off, flags)
    if arr.null_count:
        flags[~np.asarray(arr.is_valid())] = 0
    return wall, flags > 0, off, flags == WITH_OFFSET


def _regex_path(text: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(wall ms, ok, offset ms, has offset) for the rows the fixed-width path could not read."""
    g = pl.DataFrame({"t": text.cast(pl.String).str.strip_chars()}).select(
        pl.col("t").str.extract_groups(_ISO_RE)
    ).unnest("t")
    g.columns = ["y", "mo", "d", "H", "M", "S", "f", "off"]
    res = g.select(
        wall=pl.concat_str(
            pl.col("y"), pl.lit("-"), pl.col("mo").str.zfill(2), pl.lit("-"), pl.col("d").str.zfill(2),
            pl.lit(" "), pl.col("H").fill_null("0").str.zfill(2), pl.lit(":"), pl.col("M").fill_null("00"),
            pl.lit(":"), pl.col("S").fill_null("00"),
            pl.when(pl.col("f").is_not_null()).then(pl.lit(".") + pl.col("f")).otherwise(pl.lit("")),
        ).str.to_datetime(_FORMAT, strict=False, time_unit="ms").dt.epoch("ms"),
        off=pl.when(pl.col("off").str.to_uppercase().is_in(["Z", "UTC"])).then(pl.lit(0))
        .when(pl.col("off").is_not_null())
        .then(
            pl.when(pl.col("off").str.slice(0, 1) == "-").then(-1).otherwise(1)
            * (pl.col("off").str.slice(1, 2).cast(pl.Int64, strict=False) * 60
               + pl.col("off").str.replace(":", "").str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0))
            * 60_000
        ),
    )
    ok = res["wall"].is_not_null().to_numpy()
    has_off = (res["off"].is_not_null() & res["wall"].is_not_null()).to_numpy()
    return (res["wall"].fill_null(0).to_numpy().astype(np.int64), ok,
            res["off"].fill_null(0).to_numpy().astype(np.int64), has_off)
