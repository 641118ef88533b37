"""Time axes of the demo: UTC instants (epoch seconds), their Berlin wall time, and text forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from data.glossary import LOCAL_TZ

_TZ = ZoneInfo(LOCAL_TZ)
SECONDS_PER_DAY = 86_400


def local_midnight_utc_s(day: date) -> int:
    """Epoch seconds of local midnight starting `day` (Berlin midnight is never in a DST gap)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=_TZ).timestamp())


def utc_grid_s(start_utc_s: int, end_utc_s: int, step_min: int) -> np.ndarray:
    """Half-open regular grid [start, end) in epoch seconds."""
    return np.arange(start_utc_s, end_utc_s, step_min * 60, dtype=np.int64)


def _as_datetime(ts_s: np.ndarray) -> pl.Series:
    return pl.Series("ts", ts_s * 1000, dtype=pl.Int64).cast(pl.Datetime("ms", "UTC"))


def local_naive_s(ts_s: np.ndarray) -> np.ndarray:
    """Berlin wall time of each instant, as epoch seconds of the naive local clock."""
    local = _as_datetime(ts_s).dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)
    return local.dt.epoch("ms").to_numpy() // 1000


@dataclass(frozen=True)
class TimeAxis:
    """One sampling axis (sorted UTC epoch seconds) with its local calendar view, computed once."""

    ts_s: np.ndarray
    start_local: date

    def __len__(self) -> int:
        return len(self.ts_s)

    @cached_property
    def _local_s(self) -> np.ndarray:
        return local_naive_s(self.ts_s)

    @cached_property
    def day_index(self) -> np.ndarray:
        """Local calendar day of each sample, counted from start_local."""
        origin = int(datetime(self.start_local.year, self.start_local.month, self.start_local.day,
                              tzinfo=timezone.utc).timestamp())
        return ((self._local_s - origin) // SECONDS_PER_DAY).astype(np.int64)

    @cached_property
    def minute_of_day(self) -> np.ndarray:
        """Local wall-clock minute of the day (0..1439); the repeated October hour repeats."""
        return ((self._local_s % SECONDS_PER_DAY) // 60).astype(np.int64)

    @cached_property
    def text_local(self) -> pl.Series:
        """Naive local wall time, the way most real exports write it."""
        return format_local(self.ts_s)

    def take(self, idx: np.ndarray) -> TimeAxis:
        return TimeAxis(self.ts_s[idx], self.start_local)


def format_local(ts_s: np.ndarray) -> pl.Series:
    local = _as_datetime(ts_s).dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)
    return local.dt.to_string("%Y-%m-%d %H:%M:%S").alias("timestamp")


def format_iso_offset(ts_s: np.ndarray) -> pl.Series:
    """ISO 8601 with the local UTC offset, e.g. 2024-03-31T03:15:00+02:00."""
    local = _as_datetime(ts_s).dt.convert_time_zone(LOCAL_TZ)
    return local.dt.to_string("%Y-%m-%dT%H:%M:%S%:z").alias("timestamp")


def iso_utc(ts_s: int) -> str:
    return datetime.fromtimestamp(int(ts_s), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(ts_s: int) -> str:
    """Local wall time with offset, unambiguous across DST."""
    return datetime.fromtimestamp(int(ts_s), _TZ).isoformat()


def local_date(start_local: date, day_index: int) -> date:
    return start_local + timedelta(days=int(day_index))
