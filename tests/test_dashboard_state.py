"""The dashboard's absolute window and zoom parameters: local days to UTC, across DST, and bad values refused."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from dashboard.state import DashboardState, absolute_window, format_zoom, parse_zoom, window

BERLIN = ZoneInfo("Europe/Berlin")


def _utc(y, m, d, h=0):
    return datetime(y, m, d, h, tzinfo=BERLIN).astimezone(timezone.utc)


def test_absolute_window_spans_whole_local_days_also_on_the_dst_day():
    start, end = absolute_window("2025-03-30", "2025-03-30")  # clocks go forward: a 23-hour day
    assert start == _utc(2025, 3, 30) == datetime(2025, 3, 29, 23, tzinfo=timezone.utc)
    assert end == _utc(2025, 3, 31) == datetime(2025, 3, 30, 22, tzinfo=timezone.utc)
    assert (end - start).total_seconds() == 23 * 3600


def test_absolute_window_replaces_the_preset_and_may_be_open_at_one_end():
    data_end = datetime(2025, 6, 30, 22, tzinfo=timezone.utc)
    assert window("7d", data_end, "2025-01-01", "") == (_utc(2025, 1, 1), None)
    assert window("7d", data_end, "", "2025-01-31") == (None, _utc(2025, 2, 1))
    assert window("7d", data_end)[0] == datetime(2025, 6, 23, 22, tzinfo=timezone.utc)


def test_a_window_ending_before_it_starts_is_refused_with_both_dates():
    with pytest.raises(ValueError, match="2025-02-01..2025-01-01"):
        absolute_window("2025-02-01", "2025-01-01")


def test_zoom_round_trips_and_bad_values_are_refused_by_the_state():
    a, b = datetime(2025, 6, 3, 8, 0), datetime(2025, 6, 4, 18, 30)
    assert parse_zoom(format_zoom(a, b)) == (a, b)
    assert parse_zoom("") is None
    state = DashboardState()
    for bad in ("2025-06-03..2025-06-04", "<script>", "2025-13-01T00:00"):
        with pytest.raises(ValueError):
            state.zoom = bad if bad != "2025-13-01T00:00" else f"{bad}..{bad}"
            parse_zoom(state.zoom)
    with pytest.raises(ValueError):
        state.date_from = "01.06.2025"
