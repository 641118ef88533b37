"""Build one unit (a scalar signal, or a cell group of one system) into a version folder."""

from __future__ import annotations

import os
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from data.clean import duplicate_counts, merge_parts
from data.discover import SourceFile, Unit
from data.glossary import LEVELS, spec_for
from data.manifest import SourceRecord, UnitRecord
from data.parquet_out import LevelWriter
from data.parse import ParsedFile, parse_file
from data.pyramid import level_tables
from data.store import signal_relpath

WORKERS = max(1, min(4, os.cpu_count() or 1))
PREFETCH = 2 * WORKERS


def build_unit(unit: Unit, version_dir: Path, version: str, hashes: dict[Path, str]) -> UnitRecord:
    """Parse, clean and aggregate the unit's files; write its level files under ``version_dir``.

    Memory holds one signal (one cell, for a cell group) at a time.
    """
    by_signal: dict[str, list[SourceFile]] = {}
    for f in unit.sources:
        by_signal.setdefault(f.signal, []).append(f)
    order = sorted(by_signal, key=_cell_order) if unit.cell_group else sorted(by_signal)
    sort_keys = ("pack", "cell", "ts") if unit.cell_group else ("ts",)
    writers = {lvl: LevelWriter(version_dir, signal_relpath(unit.system_id, lvl, unit.name), lvl, sort_keys)
               for lvl in LEVELS}
    records: list[SourceRecord] = []
    dropped: Counter[str] = Counter()
    rows = 0
    for signal, parsed, series, levels in _prepared(order, by_signal, unit.cell_group is not None):
        records.extend(_record(f, p, hashes[f.path]) for f, p in zip(by_signal[signal], parsed))
        dropped.update(duplicate_counts(series))
        rows += series.frame.height
        for lvl, table in levels.items():
            writers[lvl].append(table)
    outputs = {lvl: w for lvl in LEVELS if (w := writers[lvl].close()) is not None}
    spec = spec_for(order[0])
    return UnitRecord(
        system_id=unit.system_id,
        name=unit.name,
        cell_group=unit.cell_group,
        unit=spec.unit,
        aggregation=spec.aggregation.value,
        key="",  # filled in by the caller, who computed it before deciding to build
        built_in=version,
        rows=rows,
        dropped=dict(sorted(dropped.items())),
        sources=tuple(records),
        outputs=outputs,
    )


def _prepare(signal: str, files: list[SourceFile]):
    spec = spec_for(signal)
    parsed = [parse_file(f.path, spec) for f in files]
    series = merge_parts([p.frame for p in parsed])
    levels = {}
    if series.frame.height:
        cell = (spec.pack, spec.cell) if spec.cell_group else None
        ts = series.frame["ts"].dt.epoch("ms").to_numpy()
        levels = level_tables(ts, series.frame["value"].to_numpy(), spec.aggregation, cell)
    return signal, parsed, series, levels


def _prepared(order: list[str], by_signal: dict[str, list[SourceFile]], parallel: bool):
    """Yield prepared signals in order; cells are prepared a few at a time on worker threads.

    Polars, NumPy and the Numba kernel release the GIL, so threads overlap; the window
    bounds memory to PREFETCH signals (the writers must still append in cell order).
    """
    if not parallel or len(order) < 2:
        for signal in order:
            yield _prepare(signal, by_signal[signal])
        return
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        pending: deque = deque()
        for signal in order:
            pending.append(pool.submit(_prepare, signal, by_signal[signal]))
            if len(pending) >= PREFETCH:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _cell_order(signal: str) -> tuple[int, int]:
    spec = spec_for(signal)
    return (spec.pack or 0, spec.cell or 0)


def _record(f: SourceFile, p: ParsedFile, digest: str) -> SourceRecord:
    return SourceRecord(
        path=str(f.path),
        name=f.path.name,
        signal=f.signal,
        size_bytes=f.size_bytes,
        mtime_ns=f.mtime_ns,
        sha256=digest,
        rows_read=p.rows_read,
        rows_kept=p.frame.height,
        dropped=dict(p.dropped),
        problems=p.problems,
        fatal=p.fatal,
    )
