"""Vectorised timestamp parsing: ISO-8601-like strings to exact UTC instants across DST."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from data.glossary import LOCAL_TZ

# Covers "2024-03-31 02:15:00" and "...:00.250"; anything else takes the regex path below.
FAST_FORMAT = "%Y-%m-%d %H:%M:%S%.f"
_ISO_RE = (
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ]+|$)(?:(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"(?:[.,](\d{1,9}))?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
)
# In the October repeated hour a step back in local time larger than this starts the second
# (CET) pass; smaller steps are out-of-order rows (one 15-min sample late must not flip it).
FOLD_JUMP_MS = 15 * 60 * 1000
HOUR_MS = 3_600_000
UTC_DTYPE = pl.Datetime("ms", "UTC")


@dataclass(frozen=True)
class ParsedTimes:
    """UTC instants in input order; null where the text is not a timestamp."""

    utc: pl.Series
    gap_shifted: int  # local times inside the March gap, moved forward one hour
    fold_second_pass: int  # rows read as the second (CET) pass of the October repeated hour


def parse_timestamps(text: pl.Series) -> ParsedTimes:
    """Parse timestamp strings (file order matters for the October repeated hour)."""
    text = text.cast(pl.String).str.strip_chars()
    naive = text.str.to_datetime(FAST_FORMAT, strict=False, time_unit="ms")
    offset_min = pl.Series(values=[None] * len(text), dtype=pl.Int32) if len(text) else pl.Series([], dtype=pl.Int32)
    failed = naive.is_null() & text.is_not_null()
    if failed.any():
        naive, offset_min = _slow_path(text, naive, failed)
    df = pl.DataFrame({"naive": naive, "off": offset_min}).with_row_index("i")
    local = df.filter(pl.col("off").is_null() & pl.col("naive").is_not_null())
    local = local.with_columns(
        utc=pl.col("naive").dt.replace_time_zone(LOCAL_TZ, ambiguous="null", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    gap_shifted = fold_second = 0
    unresolved = local.filter(pl.col("utc").is_null())
    if unresolved.height:
        fixed, gap_shifted, fold_second = _resolve_dst(unresolved)
        local = local.update(fixed, on="i")
    with_off = df.filter(pl.col("off").is_not_null()).select(
        "i", utc=(pl.col("naive") - pl.duration(minutes=pl.col("off"))).dt.replace_time_zone("UTC")
    )
    utc = (
        df.select("i")
        .join(pl.concat([local.select("i", "utc"), with_off]), on="i", how="left")
        .sort("i")["utc"]
        .cast(UTC_DTYPE)
    )
    return ParsedTimes(utc.alias("ts"), gap_shifted, fold_second)


def _slow_path(text: pl.Series, naive: pl.Series, failed: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Regex path for rows the fast format missed: 'T', offsets, 'Z', short times, date only."""
    g = pl.DataFrame({"t": text}).select(pl.col("t").str.extract_groups(_ISO_RE)).unnest("t")
    g.columns = ["y", "mo", "d", "H", "M", "S", "f", "off"]
    canon = g.select(
        pl.concat_str(
            pl.col("y"), pl.lit("-"), pl.col("mo").str.zfill(2), pl.lit("-"), pl.col("d").str.zfill(2),
            pl.lit(" "), pl.col("H").fill_null("0").str.zfill(2), pl.lit(":"), pl.col("M").fill_null("00"),
            pl.lit(":"), pl.col("S").fill_null("00"),
            pl.when(pl.col("f").is_not_null()).then(pl.lit(".") + pl.col("f")).otherwise(pl.lit("")),
        ).str.to_datetime(FAST_FORMAT, strict=False, time_unit="ms")
    ).to_series()
    off = g.select(
        pl.when(pl.col("off").str.to_uppercase().is_in(["Z", "UTC"]))
        .then(pl.lit(0))
        .when(pl.col("off").is_not_null())
        .then(
            pl.when(pl.col("off").str.slice(0, 1) == "-").then(-1).otherwise(1)
            * (
                pl.col("off").str.slice(1, 2).cast(pl.Int32, strict=False) * 60
                + pl.col("off").str.replace(":", "").str.slice(3, 2).cast(pl.Int32, strict=False).fill_null(0)
            )
        )
        .cast(pl.Int32)
    ).to_series()
    naive = pl.select(pl.when(failed).then(canon).otherwise(naive)).to_series()
    off = pl.select(pl.when(failed & canon.is_not_null()).then(off).otherwise(None)).to_series().cast(pl.Int32)
    return naive, off


def _resolve_dst(rows: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """Rows whose local time is ambiguous (October) or non-existent (March), in file order."""
    early = rows["naive"].dt.replace_time_zone(LOCAL_TZ, ambiguous="earliest", non_existent="null")
    gap = early.is_null().to_numpy()
    # March gap: the clock never showed this time; shift forward one hour so nothing is lost.
    shifted = (rows["naive"] + timedelta(hours=1)).dt.replace_time_zone(
        LOCAL_TZ, ambiguous="earliest", non_existent="null"
    )
    utc_ms = np.where(gap, _epoch_ms(shifted), _epoch_ms(early))
    naive_ms = _epoch_ms(rows["naive"])
    day = naive_ms // 86_400_000
    second = np.zeros(len(rows), dtype=bool)
    for d in np.unique(day[~gap]):
        idx = np.flatnonzero((day == d) & ~gap)  # already in file order
        t = naive_ms[idx]
        prev_max = np.maximum.accumulate(np.concatenate(([t[0]], t[:-1])))
        second[idx] = np.logical_or.accumulate(prev_max - t > FOLD_JUMP_MS)
    utc_ms = utc_ms + np.where(second, HOUR_MS, 0)
    fixed = pl.DataFrame({"i": rows["i"], "utc": pl.Series(utc_ms).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")})
    return fixed, int(gap.sum()), int(second.sum())


def _epoch_ms(s: pl.Series) -> np.ndarray:
    return s.dt.epoch("ms").fill_null(0).to_numpy()
