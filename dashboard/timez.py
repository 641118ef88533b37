"""UTC <-> Europe/Berlin for display: the store speaks UTC, people read local time."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from data.glossary import LOCAL_TZ
from data.tzmap import local_instant

BERLIN = ZoneInfo(LOCAL_TZ)


def local_naive(ms: np.ndarray) -> np.ndarray:
    """Epoch milliseconds (UTC) as tz-naive Europe/Berlin datetime64[ms] for Bokeh's axes.

    Bokeh draws datetimes as UTC wall clock, so shifting to local wall time is how the axis
    reads in Berlin time without a client-side formatter.
    """
    idx = pd.to_datetime(np.asarray(ms, dtype=np.int64), unit="ms", utc=True)
    return idx.tz_convert(LOCAL_TZ).tz_localize(None).values.astype("datetime64[ms]")


def iso_to_local_naive(columns: tuple[str, ...]) -> np.ndarray:
    """ISO UTC strings (a Matrix's columns) as tz-naive Europe/Berlin datetime64[ms].

    Plain dates ('2024-05-01', the SAT matrix's local days) are already local and kept as midnight.
    """
    if columns and all(len(c) == 10 for c in columns):
        return np.array(columns, dtype="datetime64[D]").astype("datetime64[ms]")
    idx = pd.to_datetime(list(columns), utc=True)
    return idx.tz_convert(LOCAL_TZ).tz_localize(None).values.astype("datetime64[ms]")


def local_to_utc(t: object) -> datetime:
    """A local wall-clock time from a plot range (datetime, numpy datetime64 or ms) as aware UTC."""
    if isinstance(t, (int, float, np.integer, np.floating)):
        ts = pd.Timestamp(int(t), unit="ms")
    else:
        ts = pd.Timestamp(t)
    # Bokeh ranges are float milliseconds: microseconds are finer than any axis needs.
    t = ts.floor("us").to_pydatetime()
    return local_instant(t).astimezone(timezone.utc)
