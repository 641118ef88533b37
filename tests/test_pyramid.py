"""Pyramid levels against a plain pandas reference: mean/min/max/last/count per bin, local days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from data.glossary import LEVELS, Aggregation
from data.pyramid import LEVEL_SCHEMA, build_levels

PANDAS_RULE = {"5min": "5min", "15min": "15min", "1h": "1h"}


def irregular_series(seed: int, n: int = 4000) -> pl.DataFrame:
    """Irregular samples over 2024-10-25 .. 2024-10-29 (crosses the October DST change), with gaps."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-10-25T00:00:00Z").value // 1_000_000
    steps = rng.choice([20_000, 60_000, 170_000, 300_000, 3_600_000 * 3], size=n, p=[0.3, 0.4, 0.2, 0.09, 0.01])
    ts = start + np.cumsum(steps)
    return pl.DataFrame({
        "ts": pl.Series(ts).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"),
        "value": rng.normal(10, 3, n),
    })


def pandas_reference(df: pl.DataFrame, level: str, agg: Aggregation) -> pd.DataFrame:
    s = pd.Series(df["value"].to_numpy(), index=pd.DatetimeIndex(df["ts"].to_numpy(), tz="UTC"))
    if level == "1d":
        g = s.tz_convert("Europe/Berlin").resample("1D")
    else:
        g = s.resample(PANDAS_RULE[level])
    out = pd.DataFrame({"mean": g.mean(), "min": g.min(), "max": g.max(), "last": g.last(), "count": g.count()})
    out = out[out["count"] > 0]
    out.index = out.index.tz_convert("UTC")
    out["value"] = out[{Aggregation.MEAN: "mean", Aggregation.LAST: "last",
                        Aggregation.MAX: "max", Aggregation.MIN: "min"}[agg]]
    return out


@pytest.mark.parametrize("agg", list(Aggregation))
@pytest.mark.parametrize("level", ["5min", "15min", "1h", "1d"])
def test_levels_match_pandas(level, agg):
    df = irregular_series(seed=3)
    got = build_levels(df, agg)[level]
    ref = pandas_reference(df, level, agg)
    assert got["ts"].dt.epoch("ms").to_list() == [t.value // 1_000_000 for t in ref.index]
    np.testing.assert_allclose(got["value"].to_numpy(), ref["value"].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(got["min"].to_numpy(), ref["min"].to_numpy())
    np.testing.assert_array_equal(got["max"].to_numpy(), ref["max"].to_numpy())
    np.testing.assert_array_equal(got["count"].to_numpy(), ref["count"].to_numpy())


def test_local_days_start_at_local_midnight_and_the_fall_back_day_is_25_hours():
    df = irregular_series(seed=5)
    day = build_levels(df, Aggregation.MEAN)["1d"]
    starts = day["ts"].dt.convert_time_zone("Europe/Berlin")
    assert (starts.dt.hour() == 0).all() and (starts.dt.minute() == 0).all()
    lengths_h = (day["ts"].diff().dt.total_hours()).drop_nulls().to_list()
    assert 25 in lengths_h  # 2024-10-27 lasts 25 hours


def test_schema_and_order_of_every_level():
    levels = build_levels(irregular_series(seed=1, n=500), Aggregation.MEAN)
    assert tuple(levels) == LEVELS
    assert levels["raw"].schema == pl.Schema({"ts": pl.Datetime("ms", "UTC"), "value": pl.Float64})
    for level in LEVELS[1:]:
        assert levels[level].schema == pl.Schema(LEVEL_SCHEMA)
        assert levels[level]["ts"].is_sorted() and levels[level]["ts"].n_unique() == levels[level].height
        assert levels[level]["count"].sum() == 500


def test_empty_series_gives_empty_levels():
    empty = pl.DataFrame(schema={"ts": pl.Datetime("ms", "UTC"), "value": pl.Float64})
    assert all(f.height == 0 for f in build_levels(empty, Aggregation.LAST).values())


@pytest.mark.parametrize("agg", list(Aggregation))
def test_level_kernel_matches_the_numpy_reference_over_many_groups(agg):
    from data.levelkernel import BY_KEYS, reduce_level, reduce_level_reference
    from data.pyramid import _AGG_CODE
    from data.tzmap import local_day_start_utc

    frames = [irregular_series(seed=s, n=n) for s, n in ((1, 700), (2, 1), (3, 2500), (4, 40))]
    ts = np.concatenate([f["ts"].dt.epoch("ms").to_numpy() for f in frames])
    value = np.concatenate([f["value"].to_numpy() for f in frames])
    group = np.repeat(np.arange(len(frames), dtype=np.int32), [f.height for f in frames])
    code = _AGG_CODE[agg]
    for bin_ms, keys in ((300_000, ts - ts % 300_000), (3_600_000, ts - ts % 3_600_000),
                         (BY_KEYS, local_day_start_utc(ts))):
        got = reduce_level(ts, value, group, code, bin_ms, 0, keys if bin_ms == BY_KEYS else None)
        want = reduce_level_reference(keys, group, value, code)
        for i, (g, w) in enumerate(zip(got, want)):
            if i == 1 and agg is Aggregation.MEAN:  # the kernel sums in row order, NumPy pairwise
                np.testing.assert_allclose(g, w, rtol=1e-13)
            else:
                np.testing.assert_array_equal(g, w)
            assert g.dtype == w.dtype


def test_many_cells_at_once_equal_each_cell_alone():
    from data.pyramid import group_level_tables, level_tables

    frames = [irregular_series(seed=s, n=300 + 50 * s) for s in range(5)]
    ts = np.concatenate([f["ts"].dt.epoch("ms").to_numpy() for f in frames])
    value = np.concatenate([f["value"].to_numpy() for f in frames])
    group = np.repeat(np.arange(5, dtype=np.int32), [f.height for f in frames])
    pack, cell = np.array([1, 1, 2, 2, 3], np.int16), np.array([1, 2, 1, 2, 1], np.int16)
    together = group_level_tables(ts, value, Aggregation.MEAN, group, pack, cell)
    for level in LEVELS:
        alone = [level_tables(f["ts"].dt.epoch("ms").to_numpy(), f["value"].to_numpy(), Aggregation.MEAN,
                              (int(pack[i]), int(cell[i])))[level] for i, f in enumerate(frames)]
        assert together[level].equals(pa.concat_tables(alone))


def test_means_of_huge_finite_values_stay_finite():
    """1.7e308 summed twice overflows; the mean of finite values is finite and exact here."""
    ts = pl.Series(np.arange(6, dtype=np.int64) * 60_000 + 1_704_067_200_000).cast(pl.Datetime("ms")) \
        .dt.replace_time_zone("UTC")
    values = [1.7e308, 1.7e308, 1.7e308, -1.7e308, 1.0e308, 1.0e308]
    levels = build_levels(pl.DataFrame({"ts": ts, "value": values}), Aggregation.MEAN)
    for level in LEVELS[1:]:
        df = levels[level]
        assert np.isfinite(df["value"].to_numpy()).all(), level
    v = np.array(values)
    assert levels["5min"]["value"].to_list() == [pytest.approx(np.sum(v[:5] / 5)), 1.0e308]  # minutes 0-4, 5
    assert levels["1h"]["value"].to_list() == [pytest.approx(np.sum(v / 6))]
    assert levels["1h"]["max"].to_list() == [1.7e308] and levels["1h"]["min"].to_list() == [-1.7e308]
