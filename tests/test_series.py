"""The series pipeline (core/series.py): level choice, gap breaks, range checks and the cell pivot."""

import numpy as np
import pytest

from core.series import choose_level, gap_starts, insert_gap_breaks
from data.glossary import LEVELS

DAY_S = 86400


@pytest.mark.parametrize(
    ("window_s", "max_points", "expected"),
    [
        (600 * DAY_S, 500, "1d"),  # 600 daily bins >= 500
        (600 * DAY_S, 2000, "1h"),  # 14,400 hourly bins
        (30 * DAY_S, 2000, "15min"),  # 2,880 quarter hours; 720 hours would be too few
        (7 * DAY_S, 2000, "5min"),  # 2,016 five-minute bins
        (1 * DAY_S, 2000, "raw"),  # a small window gets raw data
    ],
)
def test_auto_picks_coarsest_level_with_enough_bins(window_s, max_points, expected):
    assert choose_level(window_s, max_points, LEVELS) == expected


def test_auto_skips_missing_levels():
    assert choose_level(30 * DAY_S, 2000, ("raw", "1h", "1d")) == "raw"
    assert choose_level(30 * DAY_S, 2000, ("1h", "1d")) == "1h"


def test_invalid_max_points():
    with pytest.raises(ValueError, match="max_points"):
        choose_level(DAY_S, 0, LEVELS)


def test_gap_marked_between_chosen_points():
    ts = np.array([0, 10, 20, 30, 1000, 1010, 1020], dtype=np.int64)
    gaps = gap_starts(ts)
    assert gaps.tolist() == [3]
    chosen = np.array([0, 2, 5, 6])
    out_ts, (vals,) = insert_gap_breaks(ts, chosen, gaps, [np.arange(7.0)])
    assert out_ts.tolist() == [0, 20, 515, 1010, 1020]
    assert np.isnan(vals[2]) and vals.tolist()[:2] == [0.0, 2.0] and vals.tolist()[3:] == [5.0, 6.0]


def test_no_gap_in_regular_series():
    ts = np.arange(0, 1000, 10, dtype=np.int64)
    assert gap_starts(ts).size == 0


def test_pivot_cells_equals_a_pandas_pivot():
    from datetime import datetime, timedelta, timezone

    import polars as pl

    from core.series import pivot_cells
    from data.glossary import cell_key

    rng = np.random.default_rng(3)
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rows = [(t0 + timedelta(days=int(d)), int(p), int(c), float(rng.normal(3.3, 0.01)))
            for p in (1, 2, 10) for c in (1, 2, 52) for d in rng.choice(9, size=5, replace=False)]
    df = pl.DataFrame(rows, schema={"ts": pl.Datetime("ms", "UTC"), "pack": pl.Int16, "cell": pl.Int16,
                                    "max": pl.Float64}, orient="row")
    ref = df.to_pandas().pivot_table(index=["pack", "cell"], columns="ts", values="max")
    got = pivot_cells(df, "max")
    assert list(zip(got.packs, got.cells)) == list(ref.index)
    assert np.array_equal(got.values, ref.to_numpy(), equal_nan=True)
    # Fixed rows: a cell without data is a NaN row, a cell outside the rows is dropped.
    keys = np.array([cell_key(1, 1), cell_key(1, 3), cell_key(2, 52)])
    fixed = pivot_cells(df, "max", keys)
    assert np.isnan(fixed.values[1]).all()
    assert np.array_equal(fixed.values[[0, 2]], ref.loc[[(1, 1), (2, 52)]].to_numpy(), equal_nan=True)


def test_cell_key_orders_by_pack_then_cell():
    from data.glossary import cell_key

    pairs = [(1, 52), (2, 1), (1, 1), (10, 3), (2, 32767)]
    assert sorted(pairs) == sorted(pairs, key=lambda pc: cell_key(*pc))
    assert len({cell_key(*pc) for pc in pairs}) == len(pairs)
