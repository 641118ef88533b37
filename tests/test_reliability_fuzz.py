"""Fuzzing the CSV parser with Hypothesis (fixed seed, fixed budget): every input gives rows or a reported
problem, never an exception; the rows it keeps are finite, UTC, and free of sentinels.

Schemathesis against the GraphQL schema belongs to the API's own tests (see RELIABILITY.md).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.glossary import spec_for
from data.parse import ParsedFile, parse_file
from data.sentinels import sentinels_for
from data.timeparse import UTC_DTYPE

FUZZ = settings(derandomize=True, max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_counter = itertools.count()
SIGNALS = ("com_ap", "pos_ae", "bms1_p1_v1", "pf", "bms1_soc")


def _write(tmp_path: Path, data: bytes) -> Path:
    p = tmp_path / f"f{next(_counter)}.csv"
    p.write_bytes(data)
    return p


def check_outcome(parsed: ParsedFile, signal: str) -> None:
    """The contract of parse_file on any input."""
    assert parsed.frame.schema == pl.Schema({"ts": UTC_DTYPE, "value": pl.Float64})
    dropped = sum(parsed.dropped.values())
    if parsed.frame.height == 0:
        assert parsed.fatal and parsed.fatal.strip(), "no rows and no reason"
    else:
        assert parsed.fatal is None
        v = parsed.frame["value"].to_numpy()
        assert np.isfinite(v).all(), "a non-finite value was kept"
        assert not set(v.tolist()) & set(sentinels_for(spec_for(signal))), "a sentinel was kept"
        assert parsed.frame["ts"].null_count() == 0 and parsed.frame["value"].null_count() == 0
    assert parsed.rows_read >= parsed.frame.height
    if parsed.fatal is None:  # every row read is either kept or counted under a reason
        assert parsed.rows_read == parsed.frame.height + dropped
    for reason, n in parsed.dropped.items():
        assert n > 0 and reason


@FUZZ
@given(data=st.binary(max_size=2048), signal=st.sampled_from(SIGNALS))
def test_random_bytes_never_raise(tmp_path, data, signal):
    check_outcome(parse_file(_write(tmp_path, data), spec_for(signal)), signal)


_BASE = datetime(2024, 3, 30)
_timestamps = st.one_of(
    st.integers(0, 4 * 24 * 4).map(lambda i: f"{_BASE + timedelta(minutes=15 * i):%Y-%m-%d %H:%M:%S}"),
    st.integers(0, 4 * 24 * 4).map(lambda i: f"{_BASE + timedelta(minutes=15 * i):%Y-%m-%dT%H:%M:%S}+01:00"),
    st.integers(0, 4 * 24 * 4).map(lambda i: f"{_BASE + timedelta(minutes=15 * i):%Y-%m-%dT%H:%M:%S.%f}Z"),
    st.integers(0, 200).map(lambda i: f"2024-10-27 0{1 + i % 3}:{(i * 15) % 60:02d}:00"),  # the repeated hour
    st.sampled_from(["", "-", "2024-02-30 00:00:00", "24:00", "2024-13-01", "31.03.2024 02:15", "nan", "1e9"]),
    st.text(max_size=25),
)
_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False, width=64).map(repr),
    st.integers(-10**12, 10**12).map(str),
    st.sampled_from(["65535", "-32768", "6553.5", "65.535", "4294967295", "NaN", "null", "-", "", "N/A",
                     "1,5", "1.234,5", "1e400", "inf", "-Infinity", "0x10", " 7 ", "+3"]),
    st.text(max_size=10),
)


@st.composite
def csv_files(draw):
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(st.sampled_from([["timestamp", "value"], ["Zeitstempel", "Wirkleistung [kW]"], ["time", "v"],
                                   ["value", "ts"], ["a", "b", "c"], ["timestamp"]]))
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        cells = [draw(_timestamps), draw(_numbers)]
        if header[0] == "value":
            cells.reverse()
        cells += [draw(_numbers) for _ in range(draw(st.integers(0, 2)))]
        rows.append(delim.join(c.replace(delim, "") if delim != "," or "," not in c else f'"{c}"' for c in cells))
    text = "\n".join([delim.join(header), *rows])
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = text.replace("\n", newline) + draw(st.sampled_from(["", newline]))
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(text)))
        text = text[:cut]  # a truncated export
    prefix = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    encoding = draw(st.sampled_from(["utf-8", "cp1252"]))
    return prefix + text.encode(encoding, errors="replace")


@settings(FUZZ, max_examples=100)
@given(data=csv_files(), signal=st.sampled_from(SIGNALS))
def test_valid_ish_csvs_give_rows_or_a_reported_problem(tmp_path, data, signal):
    check_outcome(parse_file(_write(tmp_path, data), spec_for(signal)), signal)


@FUZZ
@given(values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50),
       delim=st.sampled_from([",", ";"]))
def test_well_formed_files_keep_every_value_exactly(tmp_path, values, delim):
    """The round trip: what was written (with ``,`` or ``;`` + decimal comma) is what is read."""
    lines = ["timestamp" + delim + "value"]
    for i, v in enumerate(values):
        num = repr(v) if delim == "," else repr(v).replace(".", ",")
        lines.append(f"{_BASE + timedelta(minutes=15 * i):%Y-%m-%d %H:%M:%S}{delim}{num}")
    parsed = parse_file(_write(tmp_path, ("\n".join(lines) + "\n").encode()), spec_for("com_ap"))
    assert parsed.fatal is None and parsed.dropped == {}
    assert parsed.frame["value"].to_list() == values


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "1e400", "-1e999"])
def test_non_finite_numbers_are_dropped_and_counted(tmp_path, text):
    data = f"timestamp,value\n2024-01-10 00:00:00,1\n2024-01-10 00:15:00,{text}\n".encode()
    parsed = parse_file(_write(tmp_path, data), spec_for("com_ap"))
    check_outcome(parsed, "com_ap")
    assert parsed.dropped == {"non_finite": 1}
