"""Aggregate one clean series into the pyramid levels (5min, 15min, 1h UTC bins; 1d local days)."""

from __future__ import annotations

import polars as pl

from data.glossary import LEVELS, LOCAL_TZ, Aggregation
from data.timeparse import UTC_DTYPE

LEVEL_EVERY = {"5min": "5m", "15min": "15m", "1h": "1h"}
LEVEL_SCHEMA = {"ts": UTC_DTYPE, "value": pl.Float64, "min": pl.Float64, "max": pl.Float64, "count": pl.UInt32}


def build_levels(raw: pl.DataFrame, aggregation: Aggregation) -> dict[str, pl.DataFrame]:
    """All levels of one series; ``raw`` must be sorted by ts without duplicates.

    5min is aggregated from raw; coarser levels from 5min (exact: every 5-min bin lies
    inside one 15-min, 1-h and local-day bin, as Europe/Berlin offsets are whole hours).
    The mean is carried up weighted by count, so it equals the mean of the raw samples.
    """
    raw = raw.select("ts", "value")
    out = {"raw": raw}
    five = _from_raw(raw, pl.col("ts").dt.truncate("5m"), aggregation)
    out["5min"] = five
    for level in ("15min", "1h"):
        out[level] = _from_level(five, pl.col("ts").dt.truncate(LEVEL_EVERY[level]), aggregation)
    out["1d"] = _from_level(five, local_day_start(pl.col("ts")), aggregation)
    return {level: out[level] for level in LEVELS}  # KeyError here: a new glossary level needs a rule


def local_day_start(ts: pl.Expr) -> pl.Expr:
    """UTC instant of the local (Europe/Berlin) midnight starting the day of ``ts``."""
    return ts.dt.convert_time_zone(LOCAL_TZ).dt.truncate("1d").dt.convert_time_zone("UTC")


def _value_expr(aggregation: Aggregation, col: str, weighted: bool) -> pl.Expr:
    if aggregation is Aggregation.MEAN:
        if weighted:
            weight = pl.col("count").cast(pl.Float64)
            return (pl.col(col) * weight).sum() / weight.sum()
        return pl.col(col).mean()
    if aggregation is Aggregation.LAST:
        return pl.col(col).last()
    if aggregation is Aggregation.MAX:
        return pl.col(col).max()
    return pl.col(col).min()


def _from_raw(raw: pl.DataFrame, key: pl.Expr, aggregation: Aggregation) -> pl.DataFrame:
    return _finish(
        raw.group_by(key.alias("ts"), maintain_order=True).agg(
            value=_value_expr(aggregation, "value", weighted=False),
            min=pl.col("value").min(),
            max=pl.col("value").max(),
            count=pl.len(),
        )
    )


def _from_level(lower: pl.DataFrame, key: pl.Expr, aggregation: Aggregation) -> pl.DataFrame:
    return _finish(
        lower.group_by(key.alias("ts"), maintain_order=True).agg(
            value=_value_expr(aggregation, "value", weighted=True),
            min=pl.col("min").min(),
            max=pl.col("max").max(),
            count=pl.col("count").cast(pl.Int64).sum(),
        )
    )


def _finish(df: pl.DataFrame) -> pl.DataFrame:
    # Input is time-sorted and every key is monotonic in ts, so maintain_order already sorts.
    return df.select(pl.col(c).cast(t) for c, t in LEVEL_SCHEMA.items())
