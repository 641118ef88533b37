"""The naive-local-time rule (data.tzmap.local_instant) and its users agree with the ingest's table."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from api.scalars import parse_datetime
from dashboard.timez import local_to_utc as dashboard_local_to_utc
from data.tzmap import local_instant, local_to_utc

WALL_TIMES = [
    "2024-05-01T12:00:00",  # summer time
    "2024-01-15T08:30:00",  # winter time
    "2024-10-27T02:30:00",  # autumn fold: the hour 02:00-03:00 happens twice
    "2024-03-31T02:30:00",  # spring gap: 02:00-03:00 does not exist
]


def _table_utc(wall: str) -> datetime:
    """The ingest's vectorised rule: earlier instant in a fold, moved forward in a gap."""
    ms = int(np.datetime64(wall, "ms").astype(np.int64))
    utc, _fold, _gap = local_to_utc(np.array([ms], np.int64))
    return datetime.fromtimestamp(int(utc[0]) / 1000, tz=timezone.utc)


@pytest.mark.parametrize("wall", WALL_TIMES)
def test_api_dashboard_and_ingest_read_a_naive_time_alike(wall):
    expected = _table_utc(wall)
    assert local_instant(datetime.fromisoformat(wall)).astimezone(timezone.utc) == expected
    assert parse_datetime(wall).astimezone(timezone.utc) == expected
    assert dashboard_local_to_utc(np.datetime64(wall, "ms")) == expected
    assert dashboard_local_to_utc(float(np.datetime64(wall, "ms").astype(np.int64))) == expected


def test_fold_is_the_first_pass_and_gap_moves_forward():
    fold = local_instant(datetime(2024, 10, 27, 2, 30)).astimezone(timezone.utc)
    assert fold == datetime(2024, 10, 27, 0, 30, tzinfo=timezone.utc)  # 02:30 CEST (UTC+2)
    gap = local_instant(datetime(2024, 3, 31, 2, 30)).astimezone(timezone.utc)
    assert gap == datetime(2024, 3, 31, 1, 30, tzinfo=timezone.utc)  # = 03:30 CEST


def test_an_aware_time_is_kept():
    t = datetime(2024, 10, 27, 1, 30, tzinfo=timezone.utc)
    assert local_instant(t) is t
