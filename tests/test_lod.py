"""Level-of-detail choice and gap breaks."""

import numpy as np
import pytest

from core.lod import choose_level, gap_starts, insert_gap_breaks
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
