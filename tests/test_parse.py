"""Parsing rules of one CSV export file: every bad-input case is read or reported, never fatal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest

from data.glossary import spec_for
from data.parse import Drop, parse_file
from data.sentinels import sentinels_for
from data.timeparse import _regex_path, parse_timestamps
from tests.ingest_fixtures import local_quarter_hours, series_csv, write

POWER = spec_for("com_ap")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def parse_text(tmp_path, text, signal="com_ap", name=None):
    return parse_file(write(tmp_path / (name or f"{signal}.csv"), text), spec_for(signal))


def values(p) -> list[float]:
    return p.frame["value"].to_list()


def test_plain_file_reads_exact_instants_and_values(tmp_path):
    p = parse_text(tmp_path, "timestamp,value\n2024-01-15 10:00:00,1.5\n2024-01-15 10:15:00,-2\n")
    assert p.fatal is None and p.dropped == {}
    assert p.frame.schema == pl.Schema({"ts": pl.Datetime("ms", "UTC"), "value": pl.Float64})
    assert p.frame["ts"].to_list() == [utc(2024, 1, 15, 9, 0), utc(2024, 1, 15, 9, 15)]  # CET = UTC+1
    assert values(p) == [1.5, -2.0]


def test_utf8_bom_is_ignored(tmp_path):
    p = parse_text(tmp_path, "\ufefftimestamp,value\n2024-07-01 12:00:00,4\n")
    assert p.fatal is None and values(p) == [4.0]
    assert p.frame["ts"][0] == utc(2024, 7, 1, 10, 0)  # CEST = UTC+2


def test_german_header_semicolon_and_decimal_comma(tmp_path):
    text = "\ufeffZeitstempel;Wirkleistung [kW]\n2024-07-01 12:00:00;1,25\n2024-07-01 12:15:00;-0,5\n"
    p = parse_text(tmp_path, text)
    assert p.fatal is None
    assert values(p) == [1.25, -0.5]


def test_tab_delimiter(tmp_path):
    p = parse_text(tmp_path, "time\tpower\n2024-07-01 12:00:00\t3.5\n")
    assert values(p) == [3.5]


@pytest.mark.parametrize("null", ["NaN", "null", "-", "", "n/a", "NULL", " nan "])
def test_null_strings_become_dropped_nulls(tmp_path, null):
    p = parse_text(tmp_path, f"timestamp,value\n2024-01-01 00:00:00,{null}\n2024-01-01 00:15:00,7\n")
    assert values(p) == [7.0]
    assert p.dropped == {Drop.NULL_VALUE: 1}
    assert p.problems == ()  # nulls are normal in exports: counted, not listed as problems


def test_unparseable_value_is_reported_with_its_line(tmp_path):
    p = parse_text(tmp_path, "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:15:00,12abc\n")
    assert p.dropped == {Drop.BAD_VALUE: 1}
    assert "line 3" in p.problems[0] and "12abc" in p.problems[0]


@pytest.mark.parametrize("sentinel", ["65535", "-32768", "32767", "6553.5", "-3276.8", "4294967295", "655.35"])
def test_power_sentinels_are_dropped(tmp_path, sentinel):
    p = parse_text(tmp_path, f"timestamp,value\n2024-01-01 00:00:00,{sentinel}\n2024-01-01 00:15:00,5\n")
    assert values(p) == [5.0]
    assert p.dropped == {Drop.SENTINEL: 1}


def test_cell_voltage_sentinel_at_millivolt_scale(tmp_path):
    text = "ts,v\n2024-01-01 00:00:00,65.535\n2024-01-01 00:01:00,3.301\n2024-01-01 00:02:00,65535\n"
    p = parse_text(tmp_path, text, signal="bms1_p1_v1")
    assert values(p) == [3.301]
    assert p.dropped == {Drop.SENTINEL: 2}


def test_counter_keeps_16_bit_readings_but_drops_32_bit_codes(tmp_path):
    # 65535 kWh is an ordinary meter reading; uint32 max is not.
    text = "timestamp,value\n2024-01-01 00:00:00,65535\n2024-01-01 00:15:00,4294967295\n2024-01-01 00:30:00,6553.5\n"
    p = parse_text(tmp_path, text, signal="pos_ae")
    assert values(p) == [65535.0, 6553.5]
    assert p.dropped == {Drop.SENTINEL: 1}


def test_sentinel_lists_differ_by_unit():
    assert 65.535 in sentinels_for(spec_for("bms1_p2_v7"))
    assert 65.535 not in sentinels_for(spec_for("com_ap"))  # 65.535 kW can be a real reading
    assert 65535 not in sentinels_for(spec_for("com_ae"))


def test_truncated_last_line_is_dropped_and_named(tmp_path):
    p = parse_text(tmp_path, "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:15:00,2\n2024-01-01 00:3")
    assert values(p) == [1.0, 2.0]
    assert p.dropped == {Drop.TRUNCATED_LAST_LINE: 1}
    assert "truncated last line" in p.problems[0] and "line 4" in p.problems[0]


def test_last_line_without_newline_but_complete_is_kept(tmp_path):
    p = parse_text(tmp_path, "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:15:00,2")
    assert values(p) == [1.0, 2.0] and p.dropped == {}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty file"),
        ("\n\n", "empty file"),
        ("timestamp,value\n", "header only"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (bytes(range(256)) * 20, "binary"),
        ("timestamp,value\n2024-01-01 00:00:00,abc\n2024-01-01 00:15:00,def\n", "no numeric value column"),
        ("justonecolumn\n1\n2\n", "one column"),
    ],
)
def test_unusable_files_are_reported_not_raised(tmp_path, content, reason):
    p = parse_text(tmp_path, content)
    assert p.fatal is not None and reason in p.fatal
    assert p.frame.height == 0


def test_offsets_and_z_give_exact_instants(tmp_path):
    text = ("timestamp,value\n2024-03-31T03:15:00+02:00,1\n2024-03-31T01:16:00Z,2\n"
            "2024-03-31 00:17:00-01:00,3\n2024-03-31T03:18:00+0200,4\n")
    p = parse_text(tmp_path, text)
    assert p.frame["ts"].to_list() == [utc(2024, 3, 31, 1, 15), utc(2024, 3, 31, 1, 16), utc(2024, 3, 31, 1, 17),
                                        utc(2024, 3, 31, 1, 18)]


def test_fractional_seconds_are_kept_to_the_millisecond(tmp_path):
    p = parse_text(tmp_path, "timestamp,value\n2024-01-01T00:00:00.25Z,1\n2024-01-01 01:00:00.123456,2\n")
    assert p.frame["ts"].to_list() == [utc(2024, 1, 1, 0, 0, 0, 250_000), utc(2024, 1, 1, 0, 0, 0, 123_000)]


def test_first_column_is_the_timestamp_when_no_column_is_named_so(tmp_path):
    p = parse_text(tmp_path, "when,power\n2024-01-01 00:00:00,3\n")
    assert values(p) == [3.0]


def test_named_timestamp_column_need_not_be_first(tmp_path):
    p = parse_text(tmp_path, "value,Timestamp\n3,2024-01-01 00:00:00\n")
    assert values(p) == [3.0] and p.frame["ts"][0] == utc(2023, 12, 31, 23, 0)


def test_value_is_the_first_other_numeric_column(tmp_path):
    p = parse_text(tmp_path, "timestamp,status,unit,power\n2024-01-01 00:00:00,ok,kW,2.5\n2024-01-01 00:15:00,ok,kW,3\n")
    assert values(p) == [2.5, 3.0]


def test_bad_timestamps_are_dropped_and_reported(tmp_path):
    p = parse_text(tmp_path, "timestamp,value\n2024-13-01 00:00:00,1\nyesterday,2\n2024-01-01 00:00:00,3\n")
    assert values(p) == [3.0]
    assert p.dropped == {Drop.BAD_TIMESTAMP: 2}
    assert "line 2" in p.problems[0] and "yesterday" in p.problems[0]


def test_spring_forward_day_has_92_distinct_quarter_hours(tmp_path):
    times = local_quarter_hours("2024-03-31")
    assert len(times) == 92
    p = parse_text(tmp_path, series_csv(times, range(92)))
    ts = p.frame["ts"]
    assert ts.n_unique() == 92 and p.gap_shifted == 0
    assert ts.min() == utc(2024, 3, 30, 23, 0) and ts.max() == utc(2024, 3, 31, 21, 45)
    assert (ts.diff().drop_nulls() == timedelta(minutes=15)).all()


def test_fall_back_day_has_100_distinct_quarter_hours_in_file_order(tmp_path):
    times = local_quarter_hours("2024-10-27")
    assert len(times) == 100 and times.count("2024-10-27 02:15:00") == 2
    p = parse_text(tmp_path, series_csv(times, range(100)))
    ts = p.frame["ts"]
    assert ts.n_unique() == 100 and p.fold_second_pass == 4
    assert (ts.diff().drop_nulls() == timedelta(minutes=15)).all()  # first pass CEST, then CET
    assert ts.min() == utc(2024, 10, 26, 22, 0) and ts.max() == utc(2024, 10, 27, 22, 45)


def test_fall_back_with_an_out_of_order_row_still_resolves_both_passes(tmp_path):
    times = local_quarter_hours("2024-10-27")
    i = times.index("2024-10-27 02:30:00")
    times[i], times[i + 1] = times[i + 1], times[i]  # 02:45 before 02:30 in the first pass
    p = parse_text(tmp_path, series_csv(times, range(100)))
    assert p.frame["ts"].n_unique() == 100 and p.out_of_order == 1


def test_time_in_the_spring_gap_is_moved_forward_and_reported(tmp_path):
    p = parse_text(tmp_path, "timestamp,value\n2024-03-31 01:45:00,1\n2024-03-31 02:30:00,2\n")
    assert p.frame["ts"].to_list() == [utc(2024, 3, 31, 0, 45), utc(2024, 3, 31, 1, 30)]  # 03:30 CEST
    assert p.gap_shifted == 1 and "spring-forward gap" in " ".join(p.problems)


def test_numba_kernel_matches_a_plain_python_reference():
    rng = np.random.default_rng(42)
    secs = rng.integers(0, 40 * 365 * 86400, 3000)
    ms = rng.integers(0, 1000, 3000)
    naive = [datetime(1990, 1, 1) + timedelta(seconds=int(s), milliseconds=int(m)) for s, m in zip(secs, ms)]
    offs = rng.integers(-12, 14, 3000) * 30
    text = [f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}{'+' if o >= 0 else '-'}{abs(o) // 60:02d}:{abs(o) % 60:02d}"
            for t, o in zip(naive, offs)]
    got = parse_timestamps(pl.Series(text)).utc.to_list()
    want = [(t - timedelta(minutes=int(o))).replace(tzinfo=timezone.utc) for t, o in zip(naive, offs)]
    assert got == want


def test_regex_fallback_agrees_with_the_kernel():
    text = pl.Series(["2024-05-01 10:00:00", "2024-05-01T10:00:00.5Z", "2024-05-01 10:00+01:00", "2024/05/01 10:00:00"])
    wall, ok, off, has_off = _regex_path(text)
    k = parse_timestamps(text).utc.dt.epoch("ms").to_numpy()
    assert ok.all()
    # regex gives wall time and offset; the kernel path already applied them (and local time).
    assert k[1] == wall[1] - off[1] and k[2] == wall[2] - off[2]


def _random_plain_file(rng, n: int, *, sep: str, crlf: bool, bom: bool, offsets: bool, last_newline: bool) -> str:
    start = datetime(2024, 10, 26, 12, 0)  # across the October fold
    steps = np.cumsum(rng.choice([60, 300, 900], n))
    decimals = rng.integers(0, 5, n)
    vals = rng.normal(0, 500, n)
    lines = []
    for s, d, v in zip(steps, decimals, vals):
        t = start + timedelta(seconds=int(s))
        ts = f"{t:%Y-%m-%dT%H:%M:%S}Z" if offsets and s % 2 else f"{t:%Y-%m-%d %H:%M:%S}"
        num = f"{v:.{d}f}"
        lines.append(f"{ts}{sep}{num.replace('.', ',') if sep == ';' and d % 2 else num}")
    nl = "\r\n" if crlf else "\n"
    text = ("\ufeff" if bom else "") + f"timestamp{sep}value{nl}" + nl.join(lines)
    return text + (nl if last_newline else "")


@pytest.mark.parametrize("seed", range(6))
def test_plain_file_kernel_gives_what_the_tolerant_reader_gives(tmp_path, seed):
    rng = np.random.default_rng(seed)
    for k, sep in enumerate([",", ";", "\t"]):
        text = _random_plain_file(rng, 500, sep=sep, crlf=bool(seed % 2), bom=seed == 2, offsets=seed >= 3,
                                  last_newline=seed != 4)
        path = write(tmp_path / f"f{k}.csv", text)
        for signal in ("com_ap", "bms1_p1_v3", "pos_ae"):
            fast, slow = parse_file(path, spec_for(signal)), parse_file(path, spec_for(signal), fast=False)
            np.testing.assert_array_equal(fast.ts_ms, slow.ts_ms)
            np.testing.assert_array_equal(fast.value.view(np.int64), slow.value.view(np.int64))  # same bits
            assert (fast.rows_read, fast.dropped, fast.problems, fast.fatal) == \
                   (slow.rows_read, slow.dropped, slow.problems, slow.fatal)
            assert (fast.gap_shifted, fast.fold_second_pass, fast.out_of_order) == \
                   (slow.gap_shifted, slow.fold_second_pass, slow.out_of_order)


@pytest.mark.parametrize("text", [
    "timestamp,value\n2024-01-01 00:00:00,65535\n2024-01-01 00:15:00,1\n2024-01-01 00:30:00,65535",
    "timestamp,value\n2024-01-01 00:00:00,1\n\n2024-01-01 00:15:00,2\n",
    "timestamp,value\n2024-01-01 00:00:00,1.\n2024-01-01 00:15:00,+2\n2024-01-01 00:30:00, 3\n",
    "timestamp,value\n2024-01-01 00:00:00,12345678901234567890\n2024-01-01 00:15:00,0.1234567890123456789012345\n",
    'timestamp,value\n"2024-01-01 00:00:00",1\n2024-01-01 00:15:00,-0\n',
    "timestamp,value,extra\n2024-01-01 00:00:00,1,x\n",
    "value,timestamp\n1,2024-01-01 00:00:00\n",
    "timestamp,value\n2024-03-31 02:30:00,1\n2024-10-27 02:30:00,2\n2024-10-27 02:15:00,3\n",
])
def test_files_the_kernel_declines_or_takes_read_the_same_on_both_paths(tmp_path, text):
    path = write(tmp_path / "x.csv", text)
    fast, slow = parse_file(path, POWER), parse_file(path, POWER, fast=False)
    assert fast.frame.equals(slow.frame)
    assert (fast.rows_read, fast.dropped, fast.problems, fast.fatal, fast.gap_shifted, fast.fold_second_pass) == \
           (slow.rows_read, slow.dropped, slow.problems, slow.fatal, slow.gap_shifted, slow.fold_second_pass)


def test_plain_kernel_matches_its_python_reference():
    from data.plainkernel import parse_plain_kernel, parse_plain_reference

    rng = np.random.default_rng(9)
    for sep, dec in ((b",", False), (b";", True)):
        text = _random_plain_file(rng, 300, sep=sep.decode(), crlf=False, bom=False, offsets=True, last_newline=True)
        data = text.encode()
        start = data.index(b"\n") + 1
        want = parse_plain_reference(data, start, sep, dec)
        n = data.count(b"\n") + 1
        out = (np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int8), np.empty(n, np.float64))
        got = parse_plain_kernel(np.frombuffer(data, np.uint8), start, sep[0], dec, *out)
        assert got == len(want[0])
        for g, w in zip(out, want):
            np.testing.assert_array_equal(g[:got], w)
    bad = b"timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:15:00,1e5\n"
    out = (np.empty(3, np.int64), np.empty(3, np.int64), np.empty(3, np.int8), np.empty(3, np.float64))
    assert parse_plain_reference(bad, 16, b",", False) is None
    assert parse_plain_kernel(np.frombuffer(bad, np.uint8), 16, 44, False, *out) == -1


def test_local_time_kernel_matches_the_numpy_reference():
    from data.tzkernel import local_to_utc_fast
    from data.tzmap import local_to_utc, transitions

    rng = np.random.default_rng(4)
    at, _, _ = transitions()
    near = (at[:, None] + np.arange(-3 * 3_600_000, 3 * 3_600_000, 60_000)[None, :]).ravel()
    anywhere = rng.integers(-10**12, 4 * 10**12, 20_000)
    for local in (near, near[::-1].copy(), anywhere, np.sort(anywhere), np.zeros(0, np.int64)):
        for got, want in zip(local_to_utc_fast(local), local_to_utc(local)):
            np.testing.assert_array_equal(got, want)


# -- issue 13: decimal rule per file, formats users have, plausible time window ------------------

def both_paths(tmp_path, text: str | bytes, name: str = "com_ap.csv"):
    """Parse with the fast path and the tolerant reader; they must agree row for row."""
    path = write(tmp_path / name, text)
    fast, slow = parse_file(path, POWER), parse_file(path, POWER, fast=False)
    assert values(fast) == values(slow) and fast.dropped == slow.dropped and fast.problems == slow.problems
    return fast


def test_decimal_comma_file_reads_dots_as_thousands_separators(tmp_path):
    rows = ["2.000", "1.500", "1.234,5", "3,5", "12.345.678"]
    p = both_paths(tmp_path, series_csv(local_quarter_hours("2024-01-10")[:5], rows, "timestamp;value", ";"))
    assert values(p) == [2000.0, 1500.0, 1234.5, 3.5, 12345678.0] and p.dropped == {}


def test_rows_against_the_files_decimal_rule_are_dropped_and_reported_by_line(tmp_path):
    rows = ["1,5", "2,25", "4.5", "3,75", "1.25"]
    p = both_paths(tmp_path, series_csv(local_quarter_hours("2024-01-10")[:5], rows, "timestamp;value", ";"))
    assert values(p) == [1.5, 2.25, 3.75]
    assert p.dropped == {Drop.DECIMAL_MISMATCH: 2}
    (problem,) = p.problems
    assert "decimal comma" in problem and "line 4 '4.5'" in problem and "line 6 '1.25'" in problem


def test_decimal_point_file_with_semicolons_reads_commas_as_thousands(tmp_path):
    rows = ["1,234.5", "2.25", "3.5", "7,5"]
    p = both_paths(tmp_path, series_csv(local_quarter_hours("2024-01-10")[:4], rows, "timestamp;value", ";"))
    assert values(p) == [1234.5, 2.25, 3.5]
    assert p.dropped == {Drop.DECIMAL_MISMATCH: 1} and "line 5 '7,5'" in p.problems[0]


def test_one_separator_kind_keeps_the_per_cell_reading(tmp_path):
    """3.312 in a ';' file without any comma is a cell voltage, not 3312."""
    times = local_quarter_hours("2024-01-10")[:2]
    p = both_paths(tmp_path, series_csv(times, ["3.312", "3.301"], "timestamp;value", ";"))
    assert values(p) == [3.312, 3.301]


def test_cr_only_line_endings_keep_every_row(tmp_path):
    p = both_paths(tmp_path, b"timestamp,value\r2024-01-10 00:00:00,1\r2024-01-10 00:15:00,2\r")
    assert values(p) == [1.0, 2.0] and p.problems == ()


def test_file_without_a_header_row_keeps_its_first_row(tmp_path):
    p = both_paths(tmp_path, "2024-01-10 00:00:00,1\n2024-01-10 00:15:00,2\n2024-01-10 00:30:00,oops\n")
    assert values(p) == [1.0, 2.0]
    assert p.problems == ("1 row(s) dropped, unparseable number in 'value': line 3 'oops'",)  # its real line


def test_gzip_and_single_file_zip_exports_are_read(tmp_path):
    import gzip
    import io
    import zipfile

    text = b"timestamp,value\n2024-01-10 00:00:00,1.5\n2024-01-10 00:15:00,2.5\n"
    assert values(both_paths(tmp_path, gzip.compress(text), "com_ap.csv.gz")) == [1.5, 2.5]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("export/com_ap.csv", text)
    assert values(both_paths(tmp_path, buf.getvalue(), "com_ap.zip")) == [1.5, 2.5]


def test_times_outside_the_plausible_window_are_dropped_and_reported(tmp_path):
    from data.parse import PLAUSIBLE_FROM_MS, plausible_window_ms

    text = ("timestamp,value\n0001-01-01T00:00:00Z,1\n1900-01-01 00:00:00,2\n1999-12-31T23:59:59Z,3\n"
            "2000-01-01T00:00:00Z,4\n2024-01-10 00:00:00,5\n2999-01-01 00:00:00,6\n")
    p = both_paths(tmp_path, text)
    assert values(p) == [4.0, 5.0]
    assert p.dropped == {Drop.IMPLAUSIBLE_TIME: 4}
    assert "line 2 (0001-01-01 00:00:00 UTC)" in p.problems[0] and "plausible window 2000-01-01" in p.problems[0]
    lo, hi = plausible_window_ms()
    assert lo == PLAUSIBLE_FROM_MS == int(utc(2000, 1, 1).timestamp() * 1000)
    assert hi > datetime.now(timezone.utc).timestamp() * 1000


def test_a_stray_carriage_return_is_read_not_raised(tmp_path):
    """Found by the fuzz test in CI: a stray quote, then a lone CR inside a field. The csv fallback
    raised "new-line character seen in unquoted field"; now the file gets a reason, as any other."""
    from tests.test_reliability_fuzz import check_outcome

    p = parse_text(tmp_path, b'timestamp,value\n2024-03-30 00:00:00,0"\n2024-03-30 00:00:00,\r0')
    check_outcome(p, "com_ap")
    assert p.fatal and "value" in p.fatal
