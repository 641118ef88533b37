"""The bad-input corpus of the reliability tests: each case a file (or folder) and its expected outcome.

Every case lives in its own system folder (``meter/<case>/`` or ``BESS/<case>/``) so that
one case cannot change another's unit, except the cases marked ``beside_clean``, which sit
next to the clean files of a clean system to prove that a bad neighbour changes nothing.
Outcomes:

* ``rows``    - every data row is kept, no problem reported for the file;
* ``counted`` - rows kept, the dropped rows are counted per file and reason in the manifest
  (``sources[].dropped``) and in the report's totals, without a per-file warning;
* ``partial`` - some rows kept, the file is reported (not fatal) with a reason;
* ``fatal``   - no rows, the file is reported as fatal with a reason;
* ``refused`` - refused at discovery (a name outside the allowed set, a cell index out of
  range): reported as fatal with a reason (on ``reported_at`` when the folder is refused),
  never in the manifest;
* ``skipped`` - nothing to read and nothing lost (e.g. a symlink loop): no crash, no rows.

The builder is deterministic (seeded); :func:`write_corpus` returns the cases it wrote,
:func:`write_clean` the clean fleet every case is compared against.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

SEED = 20240331
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
CLEAN_METER = "m1"
CLEAN_BESS = "ZHPESS232A230002"
CLEAN_ROWS = 96 * 3  # three days of 15-min rows per clean signal
LARGE_ROWS = 200_000


@dataclass(frozen=True)
class Case:
    """One corpus entry: where it is written, what it contains, what the ingest must report."""

    name: str
    relpath: str  # file (or folder, for loops) under the export root
    make: Callable[[Path], None]  # writes the case at root / relpath
    outcome: str  # rows | partial | fatal | skipped
    reason: str | None = None  # substring of the reported reason (lower case)
    rows_kept: int | None = None  # rows of this file that must reach the store
    dropped: dict[str, int] = field(default_factory=dict)  # per-file drop counts, exactly
    note: str = ""
    reported_at: str | None = None  # what the report names, when not relpath (a refused folder)

    @property
    def system(self) -> str:
        return Path(self.relpath).parts[1]


def _local(i: int, step_min: int = 15) -> str:
    return (datetime(2024, 1, 10) + timedelta(minutes=step_min * i)).strftime("%Y-%m-%d %H:%M:%S")


def _lines(header: str, rows: list[str], *, newline: str = "\n", end: bool = True) -> bytes:
    text = newline.join([header, *rows]) + (newline if end else "")
    return text.encode("utf-8")


def _text(content: bytes | str) -> Callable[[Path], None]:
    data = content.encode("utf-8") if isinstance(content, str) else content

    def make(p: Path) -> None:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

    return make


def _series(n: int, fmt=lambda i: f"{_local(i)},{1.0 + i % 7:.3f}") -> list[str]:
    return [fmt(i) for i in range(n)]


def _counter_rows(values: list[float], start: datetime = datetime(2024, 2, 1)) -> list[str]:
    return [f"{(start + timedelta(minutes=15 * i)):%Y-%m-%d %H:%M:%S},{v:.3f}" for i, v in enumerate(values)]


def counter_with_drop(kind: str) -> list[float]:
    """Two days of 15-min counter snapshots rising 1.5 kWh per step, with a reset or a wrap midway.

    The true energy per step is always 1.5 kWh; a correct interval rule gives 1.5 at the drop too.
    """
    n, step = 192, 1.5
    if kind == "reset":
        before = [50_000.0 + step * i for i in range(96)]
        return before + [step * (i + 1) for i in range(n - 96)]  # restarted from 0
    bits = {"wrap16": 16, "wrap23": 23, "wrap32": 32}[kind]
    modulus = 2.0**bits
    start = modulus - step * 96 + 0.75  # crosses the register width between rows 95 and 96
    return [(start + step * i) % modulus for i in range(n)]


def _counter(kind: str) -> Callable[[Path], None]:
    """pos_ae with a reset or wrap, beside a plain neg_ae (daily energy needs both counters)."""

    def make(p: Path) -> None:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(_lines("timestamp,value", _counter_rows(counter_with_drop(kind))))
        (p.parent / "neg_ae.csv").write_bytes(_lines("timestamp,value", _counter_rows([10.0] * 192)))

    return make


def _symlink_loop(p: Path) -> None:
    p.mkdir(parents=True, exist_ok=True)
    (p / "com_ap.csv").write_bytes(_lines("timestamp,value", _series(8)))
    os.symlink("..", p / "back_up")  # loop: loop/back_up -> loop's parent, which holds loop
    os.symlink(".", p / "self")


def _large_bad_end(p: Path) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", encoding="utf-8") as fh:
        fh.write("timestamp,value\n")
        base = datetime(2023, 4, 1)  # no DST change within the file's 139 days
        for i in range(LARGE_ROWS - 1):
            fh.write(f"{base + timedelta(minutes=i):%Y-%m-%d %H:%M:%S},{(i % 1000) / 10:.1f}\n")
        fh.write(f"{base + timedelta(minutes=LARGE_ROWS - 1):%Y-%m-%d %H:%M:%S},not-a-number\n")  # the one bad row, with its newline


def _binary(p: Path) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(random.Random(SEED).randbytes(20_000))


def _latin1(p: Path) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{_local(i)};{i},5" for i in range(10)]
    p.write_bytes(("Zeitstempel;Zählerstand Wärme [kW]\n" + "\n".join(rows) + "\n").encode("cp1252"))


def _gzip(content: bytes) -> Callable[[Path], None]:
    return _text(gzip.compress(content, mtime=0))


def _zip(members: dict[str, bytes]) -> Callable[[Path], None]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return _text(buf.getvalue())


def _two_spellings(p: Path) -> None:
    """bms1_p01_v001.csv beside bms1_p1_v1.csv: one cell, the same rows twice."""
    rows = _lines("timestamp,value", [f"{_local(i)},{3.3 + i / 1000:.3f}" for i in range(6)])
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(rows)
    (p.parent / "bms1_p1_v1.csv").write_bytes(rows)


LONG_STEM = "s" * 251
XSS = "<img src=x onerror=alert(1)>"


def _cases() -> list[Case]:
    ts = "timestamp,value"
    cases = [
        Case("clean_iso", "meter/c_clean/com_ap.csv", _text(_lines(ts, _series(20))), "rows", rows_kept=20),
        Case("utf8_bom", "meter/c_bom/com_ap.csv", _text(b"\xef\xbb\xbf" + _lines(ts, _series(12))), "rows",
             rows_kept=12),
        Case("crlf_line_endings", "meter/c_crlf/com_ap.csv", _text(_lines(ts, _series(12), newline="\r\n")),
             "rows", rows_kept=12),
        Case("semicolon_decimal_comma", "meter/c_semicolon/com_ap.csv",
             _text(_lines("timestamp;value", [f"{_local(i)};{i},25" for i in range(10)])), "rows", rows_kept=10),
        Case("tab_delimiter", "meter/c_tab/com_ap.csv",
             _text(_lines("timestamp\tvalue", [f"{_local(i)}\t{i}.5" for i in range(10)])), "rows", rows_kept=10),
        Case("german_header_decimal_comma", "meter/c_german/com_ap.csv",
             _text(_lines("Zeitstempel;Wirkleistung [kW]", [f"{_local(i)};{i},75" for i in range(10)])),
             "rows", rows_kept=10),
        Case("latin1_german_header", "meter/c_latin1/com_ap.csv", _latin1, "rows", rows_kept=10,
             note="cp1252 bytes in the header are not valid UTF-8; the data rows are"),
        Case("timestamp_not_first_column", "meter/c_tscol/com_ap.csv",
             _text(_lines("value,Timestamp", [f"{i}.0,{_local(i)}" for i in range(10)])), "rows", rows_kept=10),
        Case("offsets_z_and_fraction", "meter/c_offsets/com_ap.csv",
             _text(_lines(ts, ["2024-06-01T10:00:00+02:00,1", "2024-06-01T08:15:00Z,2",
                               "2024-06-01 10:30:00.250,3", "2024-06-01T10:45:00.5+02:00,4"])),
             "rows", rows_kept=4),
        Case("ragged_extra_columns", "meter/c_ragged/com_ap.csv",
             _text(_lines("timestamp,value,comment", [f"{_local(i)},{i},x,extra" if i % 3 == 0 else
                                                      f"{_local(i)},{i}" for i in range(9)])), "rows", rows_kept=9),
        Case("out_of_order", "meter/c_ooo/com_ap.csv",
             _text(_lines(ts, [_series(10)[i] for i in (3, 0, 1, 2, 9, 4, 8, 5, 6, 7)])), "rows", rows_kept=10),
        Case("empty_values", "meter/c_emptyval/com_ap.csv",
             _text(_lines(ts, [f"{_local(i)}," if i in (2, 5) else f"{_local(i)},{i}" for i in range(10)])),
             "counted", rows_kept=8, dropped={"null_value": 2}),
        Case("null_strings", "meter/c_nulls/com_ap.csv",
             _text(_lines(ts, [f"{_local(i)},{v}" for i, v in
                               enumerate(["1", "NaN", "null", "-", "2", "N/A", "none", "3"])])),
             "counted", rows_kept=3, dropped={"null_value": 5}, note="NaN is a null string like the others"),
        Case("sentinels_power", "meter/c_sentinel/com_ap.csv",
             _text(_lines(ts, [f"{_local(i)},{v}" for i, v in
                               enumerate(["1.5", "65535", "-32768", "6553.5", "2.5", "4294967295", "327.67"])])),
             "counted", rows_kept=2, dropped={"sentinel": 5}),
        Case("sentinel_cell_voltage", "BESS/c_cellsent/bms1_p1_v1.csv",
             _text(_lines(ts, [f"{_local(i)},{v}" for i, v in enumerate(["3.31", "65.535", "3.32", "-32.768"])])),
             "counted", rows_kept=2, dropped={"sentinel": 2}),
        Case("counter_65535_is_a_reading", "meter/c_ctr65535/pos_ae.csv",
             _text(_lines(ts, _counter_rows([65534.0, 65535.0, 65536.5]))), "rows", rows_kept=3,
             note="65535 kWh is an ordinary counter value, not a sentinel"),
        Case("non_finite", "meter/c_inf/com_ap.csv",
             _text(_lines(ts, [f"{_local(i)},{v}" for i, v in enumerate(["1", "inf", "-inf", "2", "1e400"])])),
             "partial", reason="infinite", rows_kept=2, dropped={"non_finite": 3},
             note="1e400 overflows to inf; found kept as +-inf by this corpus, fixed in 8276ba6"),
        Case("bad_numbers", "meter/c_badnum/com_ap.csv",
             _text(_lines(ts, [f"{_local(i)},{v}" for i, v in enumerate(["1", "abc", "2", "1.2.3", "3"])])),
             "partial", reason="unparseable number", rows_kept=3, dropped={"bad_value": 2}),
        Case("bad_timestamps", "meter/c_badts/com_ap.csv",
             _text(_lines(ts, ["2024-01-10 00:00:00,1", "yesterday,2", "2024-13-01 00:00:00,3",
                               "2024-02-30 10:00:00,4", "2024-01-10 00:15:00,5"])),
             "partial", reason="unparseable timestamp", rows_kept=2, dropped={"bad_timestamp": 3}),
        Case("truncated_last_line", "meter/c_trunc/com_ap.csv",
             _text(_lines(ts, _series(10) + ["2024-01-10 02:3"], end=False)),
             "partial", reason="truncated last line", rows_kept=10, dropped={"truncated_last_line": 1}),
        Case("duplicates_exact", "meter/c_dupx/com_ap.csv",
             _text(_lines(ts, _series(5) + _series(5)[1:3])), "rows", rows_kept=7,
             note="per-file rows_kept counts rows before the merge; the unit keeps 5 (2 duplicate_exact)"),
        Case("duplicates_conflict_last_wins", "meter/c_dupc/com_ap.csv",
             _text(_lines(ts, _series(5) + [f"{_local(1)},99.0"])), "rows", rows_kept=6,
             note="unit keeps 5 rows, the later 99.0 wins at row 1 (1 duplicate_conflict)"),
        Case("split_monthly_part1", "meter/c_split/com_ap_2024-01.csv",
             _text(_lines(ts, _series(6))), "rows", rows_kept=6),
        Case("split_monthly_part2", "meter/c_split/com_ap_2024-02.csv",
             _text(_lines(ts, [f"{(datetime(2024, 2, 1) + timedelta(minutes=15 * i)):%Y-%m-%d %H:%M:%S},{i}"
                               for i in range(4)])), "rows", rows_kept=4),
        Case("dst_spring_forward", "meter/c_dst_spring/com_ap.csv",
             _text(_lines(ts, [f"2024-03-31 {h},{i}" for i, h in enumerate(
                 ["01:30:00", "01:45:00", "03:00:00", "03:15:00", "03:30:00"])])), "rows", rows_kept=5,
             note="a 15-min series across the missing hour: 5 rows, 15 min apart in UTC"),
        Case("dst_spring_gap_time", "meter/c_dst_gap/com_ap.csv",
             _text(_lines(ts, ["2024-03-31 01:45:00,1", "2024-03-31 02:15:00,2", "2024-03-31 03:30:00,3"])),
             "partial", reason="spring-forward gap", rows_kept=3,
             note="02:15 does not exist in Berlin; kept, shifted forward one hour, and reported"),
        Case("dst_autumn_repeated_hour", "meter/c_dst_autumn/com_ap.csv",
             _text(_lines(ts, [f"2024-10-27 {h},{i}" for i, h in enumerate(
                 ["01:30:00", "01:45:00", "02:00:00", "02:15:00", "02:30:00", "02:45:00",
                  "02:00:00", "02:15:00", "02:30:00", "02:45:00", "03:00:00"])])), "rows", rows_kept=11,
             note="the repeated hour read twice: 11 distinct UTC instants 15 min apart"),
        Case("counter_reset", "meter/c_reset/pos_ae.csv",
             _counter("reset"), "rows", rows_kept=192),
        Case("counter_wrap16", "meter/c_wrap16/pos_ae.csv",
             _counter("wrap16"), "rows", rows_kept=192),
        Case("counter_wrap23", "meter/c_wrap23/pos_ae.csv",
             _counter("wrap23"), "rows", rows_kept=192),
        Case("counter_wrap32", "meter/c_wrap32/pos_ae.csv",
             _counter("wrap32"), "rows", rows_kept=192),
        Case("zero_bytes", "meter/c_zero/com_ap.csv", _text(b""), "fatal", reason="empty", rows_kept=0),
        Case("whitespace_only", "meter/c_blank/com_ap.csv", _text(b"\n \r\n\t\n"), "fatal", reason="empty",
             rows_kept=0),
        Case("bom_only", "meter/c_bomonly/com_ap.csv", _text(b"\xef\xbb\xbf"), "fatal", reason="empty", rows_kept=0),
        Case("header_only", "meter/c_header/com_ap.csv", _text(b"timestamp,value\n"), "fatal", reason="header only",
             rows_kept=0),
        Case("one_column", "meter/c_onecol/com_ap.csv", _text(_lines("timestamp", [_local(i) for i in range(5)])),
             "fatal", reason="one column", rows_kept=0),
        Case("no_numeric_column", "meter/c_nonum/com_ap.csv",
             _text(_lines("timestamp,state", [f"{_local(i)},on" for i in range(5)])), "fatal",
             reason="no numeric value column", rows_kept=0),
        Case("all_timestamps_bad", "meter/c_allbadts/com_ap.csv",
             _text(_lines(ts, [f"t{i},{i}" for i in range(5)])), "fatal", reason="no usable rows", rows_kept=0,
             dropped={"bad_timestamp": 5}),
        Case("binary_garbage", "meter/c_binary/com_ap.csv", _binary, "fatal", reason="binary", rows_kept=0),
        Case("nul_bytes_in_text", "meter/c_nul/com_ap.csv",
             _text(_lines(ts, _series(5)) + b"\x00\x00\x00"), "fatal", reason="binary", rows_kept=0,
             note="NUL bytes mark a file as binary: reported, not guessed at"),
        Case("garbage_beside_clean", f"meter/{CLEAN_METER}/garbage_ap.csv", _binary, "fatal", reason="binary",
             rows_kept=0, note="a bad neighbour in a clean system"),
        Case("empty_beside_clean", f"BESS/{CLEAN_BESS}/bms1_soh.csv", _text(b""), "fatal", reason="empty",
             rows_kept=0),
        Case("large_file_bad_last_row", "meter/c_large/com_ap.csv", _large_bad_end, "partial",
             reason="unparseable number", rows_kept=LARGE_ROWS - 1, dropped={"bad_value": 1}),
        Case("non_ascii_names", "meter/Zähler_Süd/com_ap_größe.csv", _text(_lines(ts, _series(7))), "rows",
             rows_kept=7, note="non-ASCII folder (system id) and file name"),
        Case("non_ascii_cjk_name", "meter/c_电表/com_ap.csv", _text(_lines(ts, _series(3))), "rows", rows_kept=3),
        Case("symlink_loop", "meter/c_loop", _symlink_loop, "rows", rows_kept=8,
             note="links back up the tree are followed once, never looped; the file is read once"),
        # -- issue 13: found by a red-team pass, each stopped the whole ingest or lost data --
        Case("year_zero_row", "meter/c_year0/com_ap.csv",
             _text(_lines(ts, ["0001-01-01T00:00:00Z,9"] + _series(5))), "partial", reason="plausible window",
             rows_kept=5, dropped={"implausible_time": 1},
             note="raised ValueError: year 0 (local day of 0001-01-01) and stopped the ingest"),
        Case("year_1900_row", "meter/c_1900/com_ap.csv",
             _text(_lines(ts, _series(5) + ["1900-01-01 00:00:00,9", "2199-01-01 00:00:00,9"])), "partial",
             reason="plausible window", rows_kept=5, dropped={"implausible_time": 2},
             note="a 1900 (or 2199) row stretched the system over centuries and broke daily queries"),
        Case("cell_index_overflow", "BESS/c_p40000/bms1_p40000_v1.csv", _text(_lines(ts, _series(4))), "refused",
             reason="pack number 40000", rows_kept=0, note="overflowed the Int16 pack column and stopped the ingest"),
        Case("cell_pack_zero", "BESS/c_pack0/bms1_p0_v1.csv", _text(_lines(ts, _series(4))), "refused",
             reason="packs count from 1", rows_kept=0, note="was ingested, then every cell query failed"),
        Case("cell_zero", "BESS/c_cell0/bms1_p1_v0.csv", _text(_lines(ts, _series(4))), "refused",
             reason="cells count from 1", rows_kept=0),
        Case("cell_two_spellings", "BESS/c_spell/bms1_p01_v001.csv", _two_spellings, "partial",
             reason="all name cell bms1_p1_v1", rows_kept=6,
             note="p01_v001 and p1_v1 counted as two cells (rows doubled); now one cell, duplicates merged"),
        Case("cell_two_spellings_other", "BESS/c_spell/bms1_p1_v1.csv", lambda p: None, "partial",
             reason="all name cell bms1_p1_v1", rows_kept=6, note="written by cell_two_spellings"),
        Case("long_file_stem", f"meter/c_long/{LONG_STEM}.csv", _text(_lines(ts, _series(4))), "refused",
             reason="too long", rows_kept=0, note="a 251-character stem broke the staging path"),
        Case("markup_system_name", f"meter/{XSS}/com_ap.csv", _text(_lines(ts, _series(4))), "refused",
             reason="outside the allowed set", rows_kept=0, reported_at=f"meter/{XSS}",
             note="stored XSS: the name reached a table column title on the Compare screen"),
        Case("markup_signal_name", "meter/c_xsssig/<b onmouseover=alert(1)>.csv", _text(_lines(ts, _series(4))),
             "refused", reason="outside the allowed set", rows_kept=0),
        Case("decimal_comma_with_thousands", "meter/c_thousands/com_ap.csv",
             _text(_lines("timestamp;value", [f"{_local(i)};{v}" for i, v in
                                              enumerate(["2.000", "1.500", "1.234,5", "3,5", "-1.000,25"])])),
             "rows", rows_kept=5, note="2.000 was read as 2.0 and 1.234,5 rejected; a German export means 2000"),
        Case("decimal_rule_contradicted", "meter/c_contra/com_ap.csv",
             _text(_lines("timestamp;value", [f"{_local(i)};{v}" for i, v in
                                              enumerate(["1,5", "2,25", "3,75", "4.5", "5,5"])])),
             "partial", reason="decimal rule", rows_kept=4, dropped={"decimal_mismatch": 1}),
        Case("gzip_export", "meter/c_gzip/com_ap.csv.gz", _gzip(_lines(ts, _series(9))), "rows", rows_kept=9,
             note="was skipped silently"),
        Case("zip_export", "meter/c_zip/com_ap.zip", _zip({"com_ap.csv": _lines(ts, _series(7))}), "rows",
             rows_kept=7, note="was skipped silently"),
        Case("zip_of_two_files", "meter/c_zip2/com_ap.zip",
             _zip({"a.csv": _lines(ts, _series(2)), "b.csv": _lines(ts, _series(2))}), "fatal",
             reason="zip archive holds 2 csv files", rows_kept=0),
        Case("damaged_gzip", "meter/c_badgz/com_ap.csv.gz", _text(b"not gzip at all\n"), "fatal",
             reason="damaged gzip", rows_kept=0),
        Case("cr_only_line_endings", "meter/c_cr/com_ap.csv", _text(_lines(ts, _series(8), newline="\r")),
             "rows", rows_kept=8, note="lost every row, with the wrong reason"),
        Case("no_header_row", "meter/c_nohead/com_ap.csv", _text("".join(f"{r}\n" for r in _series(6))),
             "rows", rows_kept=6, note="silently lost its first row (read as the header)"),
        Case("huge_finite_values", "meter/c_huge/com_ap.csv",
             _text(_lines(ts, [f"{_local(i, 1)},1.7e308" for i in range(4)])), "rows", rows_kept=4,
             note="four 1.7e308 in one 5-min bin: the mean became inf in the levels"),
    ]
    return cases


CASES: tuple[Case, ...] = tuple(_cases())


def write_clean(root: Path) -> list[Path]:
    """A small clean fleet: one meter (power, pf, counters) and one BESS (SOC, PCS power, 4 cells)."""
    rng = random.Random(SEED)
    files: dict[str, list[str]] = {}
    start = datetime(2024, 3, 30)  # spans the spring DST change, in local time
    stamps = [start + timedelta(minutes=15 * i) for i in range(CLEAN_ROWS)]
    # local wall times that do not exist (the March gap) are left out, as a real meter does
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    stamps = [t for t in stamps if t.replace(tzinfo=berlin).astimezone(timezone.utc).astimezone(berlin)
              .replace(tzinfo=None) == t]
    imp = exp = 1000.0
    m = {"com_ap": [], "pf": [], "pos_ae": [], "neg_ae": []}
    for t in stamps:
        p = rng.uniform(-5, 20)
        imp += max(p, 0) / 4
        exp += max(-p, 0) / 4
        s = f"{t:%Y-%m-%d %H:%M:%S}"
        m["com_ap"].append(f"{s},{p:.3f}")
        m["pf"].append(f"{s},{rng.uniform(0.85, 1.0):.3f}")
        m["pos_ae"].append(f"{s},{imp:.3f}")
        m["neg_ae"].append(f"{s},{exp:.3f}")
    for sig, rows in m.items():
        files[f"meter/{CLEAN_METER}/{sig}.csv"] = rows
    b: dict[str, list[str]] = {"bms1_soc": [], "pcs1_ap": []}
    cells = {f"bms1_p{p}_v{c}": [] for p in (1, 2) for c in (1, 2)}
    for i, t in enumerate(stamps):
        s = f"{t:%Y-%m-%d %H:%M:%S}"
        b["bms1_soc"].append(f"{s},{50 + 40 * ((i % 96) / 96 - 0.5):.2f}")
        b["pcs1_ap"].append(f"{s},{rng.uniform(-50, 50):.2f}")
        for k in cells:
            cells[k].append(f"{s},{rng.uniform(3.2, 3.45):.4f}")
    for sig, rows in {**b, **cells}.items():
        files[f"BESS/{CLEAN_BESS}/{sig}.csv"] = rows
    out = []
    for rel, rows in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(_lines("timestamp,value", rows))
        out.append(p)
    return out


def write_corpus(root: Path, cases: tuple[Case, ...] = CASES) -> tuple[Case, ...]:
    """The clean fleet plus every case, under one export root."""
    write_clean(root)
    for c in cases:
        c.make(root / c.relpath)
    return cases


def write_inputs(root: Path) -> None:
    """Input A: the clean fleet plus two more packs of cells (more units, a longer ingest)."""
    write_clean(root)
    src = root / "BESS" / CLEAN_BESS / "bms1_p1_v1.csv"
    for p in (3, 4):
        for c in range(1, 9):
            lines = src.read_text().splitlines()
            body = [f"{ln.rsplit(',', 1)[0]},{3.3 + 0.001 * (p * 10 + c + i % 7):.4f}" for i, ln in enumerate(lines[1:])]
            (src.parent / f"bms1_p{p}_v{c}.csv").write_text("\n".join([lines[0], *body]) + "\n")


def change_inputs(root: Path) -> None:
    """Input B: one signal changed, one added, one removed, all cells of pack 3 changed."""
    m = root / "meter" / CLEAN_METER
    lines = (m / "com_ap.csv").read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",123.456"
    (m / "com_ap.csv").write_text("\n".join(lines) + "\n")
    (m / "pf.csv").unlink()
    (m / "com_ae.csv").write_text((m / "pos_ae.csv").read_text())
    for p in (root / "BESS" / CLEAN_BESS).glob("bms1_p3_v*.csv"):
        p.write_text(p.read_text().replace(",3.3", ",3.2"))
