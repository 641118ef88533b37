"""Tolerant parsing of one CSV export file into (ts UTC, value) rows, with every drop counted."""

from __future__ import annotations

import csv
import enum
import io
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from data.decimal import DecimalRule, decimal_rule
from data.glossary import SignalSpec
from data.plainkernel import NOT_PLAIN, parse_plain_kernel
from data.sentinels import sentinels_for
from data.sniff import BOM, SAMPLE_BYTES, Sniffed, sniff_bytes
from data.sources import SourceReadError, read_source
from data.timekernel import WITH_OFFSET
from data.timeparse import UTC_DTYPE, parse_timestamps, resolve_utc

TIMESTAMP_NAMES = ("timestamp", "time", "date", "datetime", "ts", "zeitstempel")
NULL_STRINGS = ("", "nan", "null", "none", "-", "--", "n/a", "na", "#n/a", "nil", "?")
# A column is the value column when at least this share of its non-null cells are numbers.
NUMERIC_SHARE = 0.5
MAX_EXAMPLES = 3
# Plausible time window, the same for every system: BESS and smart-meter telemetry before
# 2000 does not exist, and a time more than two days ahead of the ingest is a device clock
# error. Rows outside are dropped (``implausible_time``) and reported per file, so one
# 1900 or 2099 row cannot stretch a system's range over a century (daily levels, queries).
PLAUSIBLE_FROM_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
PLAUSIBLE_AHEAD_MS = 2 * 86_400_000


def plausible_window_ms() -> tuple[int, int]:
    """[from, to] in UTC ms: the fixed start, and two days after now."""
    return PLAUSIBLE_FROM_MS, int(time.time() * 1000) + PLAUSIBLE_AHEAD_MS


class Drop(enum.StrEnum):
    """Reasons a row is dropped; the keys of every ``dropped`` count (written as their text)."""

    BAD_TIMESTAMP = "bad_timestamp"
    NULL_VALUE = "null_value"
    BAD_VALUE = "bad_value"
    NON_FINITE = "non_finite"
    SENTINEL = "sentinel"
    TRUNCATED_LAST_LINE = "truncated_last_line"
    DECIMAL_MISMATCH = "decimal_mismatch"  # a number written against the file's decimal rule
    IMPLAUSIBLE_TIME = "implausible_time"  # outside the plausible time window
    DUPLICATE_EXACT = "duplicate_exact"
    DUPLICATE_CONFLICT = "duplicate_conflict"


@dataclass(frozen=True)
class ParsedFile:
    """Rows of one file that survived parsing (file order, nulls and sentinels removed)."""

    path: Path
    ts_ms: np.ndarray  # int64, UTC ms since the epoch
    value: np.ndarray  # float64
    rows_read: int
    dropped: dict[str, int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    fatal: str | None = None  # the file gave no rows at all, and why
    gap_shifted: int = 0
    fold_second_pass: int = 0
    out_of_order: int = 0

    @property
    def frame(self) -> pl.DataFrame:
        """The rows as a Polars frame: ts Datetime[ms, UTC], value Float64."""
        return series_frame(self.ts_ms, self.value)


def series_frame(ts_ms: np.ndarray, value: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({
        "ts": pl.Series("ts", ts_ms, dtype=pl.Int64).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"),
        "value": pl.Series("value", value, dtype=pl.Float64),
    })


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema={"ts": UTC_DTYPE, "value": pl.Float64})


_NO_TS = np.zeros(0, np.int64)
_NO_VALUE = np.zeros(0, np.float64)


def parse_file(path: Path, spec: SignalSpec, *, fast: bool = True) -> ParsedFile:
    """Read one export file; never raises for bad content, only reports it.

    ``fast=False`` skips the plain-file kernel (tests compare both paths).
    """
    try:
        data = read_source(path)
    except OSError as exc:
        return _fatal(path, f"cannot read: {exc.strerror or exc}")
    except SourceReadError as exc:
        return _fatal(path, str(exc))
    if b"\r" in data and b"\n" not in data:
        data = data.replace(b"\r", b"\n")  # CR-only line ends (classic Mac exports)
    sn = sniff_bytes(data[:SAMPLE_BYTES], data[-1:])
    if sn.problem:
        return _fatal(path, sn.problem)
    data, line0 = _with_header(data, sn.delimiter)
    if fast:
        parsed = _parse_plain(path, data, sn, spec, line0)
        if parsed is not None:
            return parsed
    try:
        raw = _read_strings(data, sn.delimiter)
    except csv.Error as exc:  # beyond what Polars and the csv module can read: a problem, not a crash
        return _fatal(path, f"unreadable CSV: {exc}")
    if raw.width < 2:
        return _fatal(path, f"only one column {raw.columns}; need timestamp and value")
    if raw.height == 0:
        return _fatal(path, "header only, no data rows")
    return _to_rows(path, raw, sn.delimiter, sn.ends_with_newline, spec, line0)


_DATE_START = re.compile(rb'^\s*"?\d{4}[-/.]\d{1,2}[-/.]\d{1,2}')


def _with_header(data: bytes, sep: str) -> tuple[bytes, int]:
    """(data with a header row, line number of the first data row): a file whose first line is
    already data (starts with a date) gets ``timestamp<sep>value`` put in front, so its first
    row is read, not taken as the header."""
    start = len(BOM) if data.startswith(BOM) else 0
    eol = data.find(b"\n", start)
    first = data[start: eol if eol >= 0 else len(data)]
    if not _DATE_START.match(first):
        return data, 2
    names = ["timestamp", "value"] + [f"column_{i + 3}" for i in range(first.count(sep.encode()) - 1)]
    return sep.join(names).encode() + b"\n" + data[start:], 1


def _fatal(path: Path, reason: str, rows_read: int = 0) -> ParsedFile:
    return ParsedFile(path, _NO_TS, _NO_VALUE, rows_read, {}, (reason,), fatal=reason)


def _parse_plain(path: Path, data: bytes, sn: Sniffed, spec: SignalSpec, line0: int = 2) -> ParsedFile | None:
    """The common file (header, then ``timestamp<sep>number`` lines) straight from its bytes.

    None when the file is anything else: the tolerant reader then decides every row, so
    the result never depends on which path read the file.
    """
    start = len(BOM) if data.startswith(BOM) else 0
    eol = data.find(b"\n", start)
    sep = sn.delimiter.encode()
    header = data[start:eol].rstrip(b"\r")
    names = header.split(sep)
    if eol < 0 or len(names) != 2 or b'"' in header:
        return None
    if names[1].decode("utf-8", errors="replace").strip().lower() in TIMESTAMP_NAMES:
        return None  # the timestamp is the second column: rare, left to the tolerant reader
    if sep != b"," and data.find(b",", eol) >= 0 and data.find(b".", eol) >= 0:
        return None  # both separators: the tolerant reader decides the file's decimal rule
    n_max = data.count(b"\n", eol + 1) + 1
    wall = np.empty(n_max, np.int64)
    off = np.empty(n_max, np.int64)
    flags = np.empty(n_max, np.int8)
    value = np.empty(n_max, np.float64)
    n = parse_plain_kernel(np.frombuffer(data, np.uint8), eol + 1, sep[0], sep != b",", wall, off, flags, value)
    if n == NOT_PLAIN or n == 0:
        return None
    wall, off, flags, value = wall[:n], off[:n], flags[:n], value[:n]
    sentinel = _sentinels(value, spec)
    if sentinel is not None and sentinel[-1] and not sn.ends_with_newline:
        return None  # a cut-off last line that parses as a sentinel is reported as truncated
    utc, gap_n, fold_n = resolve_utc(wall, np.ones(n, bool), off, flags == WITH_OFFSET)
    dropped = {}
    problems = [_gap_problem(gap_n)] if gap_n else []
    outside = _outside_window(utc)
    if outside is not None:
        dropped[Drop.IMPLAUSIBLE_TIME] = int(outside.sum())
        problems.append(_window_problem(utc, outside, line0))
        if sentinel is not None:
            sentinel = sentinel & ~outside
        keep = ~outside
        utc, value = utc[keep], value[keep]
        sentinel = None if sentinel is None else sentinel[keep]
    if sentinel is not None and sentinel.any():
        dropped[Drop.SENTINEL] = int(sentinel.sum())
        utc, value = utc[~sentinel], value[~sentinel]
    dropped = dict(sorted(dropped.items()))
    fatal = None if len(utc) else f"no usable rows ({_summary(dropped)})"
    ooo = int(np.count_nonzero(utc[1:] < utc[:-1]))
    return ParsedFile(path, utc, value, n, dropped, tuple(problems), fatal, gap_n, fold_n, ooo)


def _sentinels(value: np.ndarray, spec: SignalSpec) -> np.ndarray | None:
    """Mask of sentinel values, or None when there is none (the usual case)."""
    codes = np.asarray(sentinels_for(spec))
    # Every code is far from zero: only values that large need the exact comparison.
    big = np.abs(value) >= np.abs(codes).min()
    if not big.any():
        return None
    idx = np.flatnonzero(big)
    hit = np.isin(value[idx], codes)
    if not hit.any():
        return None
    mask = np.zeros(len(value), bool)
    mask[idx[hit]] = True
    return mask


def _outside_window(utc_ms: np.ndarray, ok: np.ndarray | None = None) -> np.ndarray | None:
    """Mask of rows outside the plausible time window, or None when there is none (the usual case)."""
    lo, hi = plausible_window_ms()
    if len(utc_ms) == 0:
        return None
    mask = (utc_ms < lo) | (utc_ms > hi)
    if ok is not None:
        mask &= ok
    return mask if mask.any() else None


def _window_problem(utc_ms: np.ndarray, outside: np.ndarray, line0: int) -> str:
    lo, hi = plausible_window_ms()
    rows = np.flatnonzero(outside)
    ex = ", ".join(f"line {int(i) + line0} ({_iso(int(utc_ms[i]))})" for i in rows[:MAX_EXAMPLES])
    return (f"{len(rows)} row(s) dropped, time outside the plausible window {_iso(lo)[:10]} .. "
            f"{_iso(hi)[:10]} (UTC): {ex}")


def _iso(ms: int) -> str:
    return str(np.datetime64(ms, "ms").astype("datetime64[s]")).replace("T", " ") + " UTC"


def _gap_problem(gap_n: int) -> str:
    return f"{gap_n} local timestamps in the spring-forward gap (do not exist); shifted forward 1 hour"


def _read_strings(data: bytes, sep: str) -> pl.DataFrame:
    """All columns as strings (parsing is done vectorised afterwards); csv module if Polars balks."""
    try:
        return pl.read_csv(
            data, separator=sep, infer_schema=False, truncate_ragged_lines=True,
            encoding="utf8-lossy", raise_if_empty=False, null_values=None, missing_columns="insert",
        )
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        return _read_strings_slow(data, sep)


def _read_strings_slow(data: bytes, sep: str) -> pl.DataFrame:
    text = data.decode("utf-8-sig", errors="replace").replace("\x00", "")
    # newline="": a lone CR (a line end, or a stray one inside a field) is the csv module's to
    # judge; without it csv.reader raises "new-line character seen in unquoted field".
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return pl.DataFrame()
    header = _unique_names(rows[0])
    width = len(header)
    body = [(r + [None] * width)[:width] for r in rows[1:]]
    return pl.DataFrame(body, schema={h: pl.String for h in header}, orient="row")


def _unique_names(names: list[str]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for n in names:
        n = n.strip() or "column"
        seen[n] += 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def pick_columns(raw: pl.DataFrame, decimal_comma: bool) -> tuple[str, str | None]:
    """(timestamp column, value column or None): by name, else first column; first numeric other."""
    names = {c.strip().strip('"').lstrip("\ufeff").lower(): c for c in raw.columns}
    ts_col = next((names[n] for n in TIMESTAMP_NAMES if n in names), raw.columns[0])
    sample = raw.head(1000)
    for c in raw.columns:
        if c == ts_col:
            continue
        if _to_number(sample[c], decimal_comma).null_count() == 0:
            return ts_col, c  # the usual case: every sampled cell is a number
        text = _nullify(sample[c])
        n = text.drop_nulls().len()
        if n and _to_number(text, decimal_comma).drop_nulls().len() >= NUMERIC_SHARE * n:
            return ts_col, c
    return ts_col, None


def _nullify(s: pl.Series) -> pl.Series:
    s = s.str.strip_chars()
    return pl.select(pl.when(s.str.to_lowercase().is_in(NULL_STRINGS)).then(None).otherwise(s)).to_series()


def _to_number(s: pl.Series, decimal_comma: bool) -> pl.Series:
    if decimal_comma:
        s = s.str.replace(",", ".", literal=True)
    return s.cast(pl.Float64, strict=False)


# Per-row drop codes: 0 keeps the row, CODE[reason] drops it for that reason.
_CODED = (Drop.BAD_TIMESTAMP, Drop.NULL_VALUE, Drop.BAD_VALUE, Drop.NON_FINITE, Drop.SENTINEL,
          Drop.TRUNCATED_LAST_LINE, Drop.DECIMAL_MISMATCH, Drop.IMPLAUSIBLE_TIME)
CODE = {reason: i for i, reason in enumerate(_CODED, start=1)}


def _to_rows(path: Path, raw: pl.DataFrame, sep: str, ends_nl: bool, spec: SignalSpec, line0: int = 2) -> ParsedFile:
    decimal_comma = sep != ","
    ts_col, val_col = pick_columns(raw, decimal_comma)
    if val_col is None:
        return _fatal(path, f"no numeric value column among {raw.columns[1:] or raw.columns}", raw.height)
    times = parse_timestamps(raw[ts_col])
    rule = decimal_rule(raw[val_col]) if decimal_comma else None
    value, is_null_text = _values(raw[val_col], decimal_comma, rule)
    mismatch = np.zeros(raw.height, bool) if rule is None else rule.contradicts
    is_null_text &= ~mismatch
    v = value.to_numpy()
    ts_ok = times.utc.is_not_null().to_numpy()
    outside = _outside_window(times.utc.dt.epoch("ms").fill_null(0).to_numpy(), ts_ok)
    # First matching reason wins, in this order: timestamp, null, unparseable, non-finite, sentinel.
    code = np.zeros(raw.height, dtype=np.int8)
    sentinel = value.is_in(pl.Series(sentinels_for(spec), dtype=pl.Float64)).fill_null(False).to_numpy()
    value_null = value.is_null().to_numpy()
    for reason, mask in (
        (Drop.SENTINEL, sentinel),
        (Drop.NON_FINITE, ~value_null & np.isinf(v)),  # nulls are NaN here, and isinf(NaN) is False
        (Drop.BAD_VALUE, value_null & ~is_null_text & ~mismatch),
        (Drop.DECIMAL_MISMATCH, mismatch),
        (Drop.NULL_VALUE, is_null_text),
        (Drop.IMPLAUSIBLE_TIME, np.zeros(raw.height, bool) if outside is None else outside),
        (Drop.BAD_TIMESTAMP, ~ts_ok),
    ):
        code[mask] = CODE[reason]
    last = raw.height - 1
    if not ends_nl and code[last]:
        # A cut-off last line (export interrupted mid-write) is reported as such.
        code[last] = CODE[Drop.TRUNCATED_LAST_LINE]
    counts = np.bincount(code, minlength=len(_CODED) + 1)
    dropped = {reason: int(counts[c]) for reason, c in CODE.items() if counts[c]}
    dropped = dict(sorted(dropped.items()))
    problems = _problems(code, raw[ts_col], raw[val_col], ts_col, val_col, line0, rule)
    implausible = code == CODE[Drop.IMPLAUSIBLE_TIME]
    if outside is not None and implausible.any():
        problems.append(_window_problem(times.utc.dt.epoch("ms").fill_null(0).to_numpy(), implausible, line0))
    if times.gap_shifted:
        problems.append(_gap_problem(times.gap_shifted))
    keep = pl.Series(code == 0)
    ts_ms = times.utc.filter(keep).dt.epoch("ms").to_numpy().astype(np.int64, copy=False)
    good = value.filter(keep).to_numpy().astype(np.float64, copy=False)
    ooo = int(np.count_nonzero(ts_ms[1:] < ts_ms[:-1]))
    fatal = None if len(ts_ms) else f"no usable rows ({_summary(dropped)})"
    return ParsedFile(path, ts_ms, good, raw.height, dropped, tuple(problems), fatal,
                      times.gap_shifted, times.fold_second_pass, ooo)


def _values(col: pl.Series, decimal_comma: bool, rule: DecimalRule | None = None) -> tuple[pl.Series, np.ndarray]:
    """(numbers with null where not a number, mask of cells that are empty or a null string)."""
    if rule is not None and rule.text is not None:
        col = rule.text  # thousands separators removed, the decimal mark made a point
        decimal_comma = False
    value = _to_number(col, decimal_comma)
    is_null_text = np.zeros(len(col), dtype=bool)
    nan = value.is_nan().fill_null(False)
    if nan.any():  # "NaN" casts to a float NaN; exports mean "no reading" by it, like "null"
        is_null_text |= nan.to_numpy()
        value = value.fill_nan(None)
    failed = value.is_null() & ~pl.Series(is_null_text)
    if failed.any():
        # Only the few cells the direct cast missed get the slower string treatment.
        idx = np.flatnonzero(failed.to_numpy())
        text = _nullify(col.gather(idx))
        value = value.scatter(idx, _to_number(text, decimal_comma))
        is_null_text[idx] = text.is_null().to_numpy()
    return value, is_null_text


def _problems(code: np.ndarray, ts_text: pl.Series, v_text: pl.Series, ts_col: str, val_col: str,
              line0: int = 2, rule: DecimalRule | None = None) -> list[str]:
    out = []
    for reason, what, col in (
        (Drop.BAD_TIMESTAMP, f"unparseable timestamp in {ts_col!r}", ts_text),
        (Drop.BAD_VALUE, f"unparseable number in {val_col!r}", v_text),
        (Drop.DECIMAL_MISMATCH,
         f"number contradicts the file's decimal rule ({rule.describe() if rule else ''}) in {val_col!r}", v_text),
        (Drop.TRUNCATED_LAST_LINE, "truncated last line", ts_text),
        (Drop.NON_FINITE, "infinite number", v_text),
    ):
        rows = np.flatnonzero(code == CODE[reason])
        if len(rows):
            ex = ", ".join(f"line {i + line0} {col[int(i)]!r}" for i in rows[:MAX_EXAMPLES])
            out.append(f"{len(rows)} row(s) dropped, {what}: {ex}")
    return out


def _summary(dropped: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in dropped.items()) or "no data rows"
