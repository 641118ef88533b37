"""Build one unit (a scalar signal, or a cell group of one system) into a version folder."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pyarrow as pa

from data.clean import CleanSeries, duplicate_counts, merge_parts
from data.discover import SourceFile, Unit
from data.glossary import LEVELS, spec_for
from data.manifest import SourceRecord, UnitRecord
from data.parquet_out import LevelWriter
from data.parse import ParsedFile, parse_file
from data.pyramid import group_level_tables, level_tables
from data.store import signal_relpath

WORKERS = max(1, min(4, os.cpu_count() or 1))
# Cells are parsed and aggregated in batches of about this much CSV: large enough that
# the per-call cost of NumPy and Arrow vanishes, small enough to bound memory (a batch
# costs ~6x its CSV size in arrays; two are in flight).
BATCH_BYTES = 24 << 20
# The in-process ingest (`bess ingest` without a cluster) keeps its peak RSS low instead:
# on the 133 MB / 5.0 M-row set (6 meters + 1 BESS of the small demo) peak RSS was 503 MB
# with 24 MB batches, 372 MB with 4 MB and 322 MB with 1 MB (of which ~275 MB is the
# loaded code: Polars, PyArrow, Numba and its compiled kernels). Cell files there are
# ~100-300 kB each, so a 2 MB batch still parses a dozen files per call.
SMALL_BATCH_BYTES = 2 << 20


def build_unit(unit: Unit, version_dir: Path, version: str, hashes: dict[Path, str],
               batch_bytes: int = BATCH_BYTES) -> UnitRecord:
    """Parse, clean and aggregate the unit's files; write its level files under ``version_dir``.

    Memory holds one signal, or one batch of cells (about ``batch_bytes`` of CSV; the next
    one is parsed meanwhile) of a cell group, at a time. The output does not depend on
    ``batch_bytes``.
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
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        writes: list[Future] = []
        for batch in _parsed_batches(order, by_signal, pool, batch_bytes):
            series = []
            for signal, parsed in batch:
                records.extend(_record(f, p, hashes[f.path]) for f, p in zip(by_signal[signal], parsed))
                s = merge_parts([(p.ts_ms, p.value) for p in parsed])
                dropped.update(duplicate_counts(s))
                rows += len(s.ts_ms)
                series.append((signal, s))
            tables = _tables(series, unit.cell_group is not None)
            _wait(writes)  # a writer takes its batches in order
            writes = [pool.submit(writers[lvl].append, table) for lvl, table in tables.items()]
        _wait(writes)
        closed = list(pool.map(LevelWriter.close, (writers[lvl] for lvl in LEVELS)))
    outputs = {lvl: w for lvl, w in zip(LEVELS, closed) if w is not None}
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


def _wait(futures: list[Future]) -> None:
    wait(futures)
    for f in futures:
        f.result()  # re-raise a writer's error here


def _parsed_batches(order: list[str], by_signal: dict[str, list[SourceFile]],
                    pool: ThreadPoolExecutor, batch_bytes: int) -> Iterator[list[tuple[str, list[ParsedFile]]]]:
    """Batches of (signal, parsed files) in order; the next batch is parsed while one is used.

    The file parser releases the GIL for most of its work (file reads, the Numba kernel,
    large NumPy operations), so worker threads overlap.
    """
    batches = _batches(order, by_signal, batch_bytes)

    def submit(batch: list[str]) -> list[tuple[str, list[Future]]]:
        return [(s, [pool.submit(parse_file, f.path, spec_for(s)) for f in by_signal[s]]) for s in batch]

    pending = [submit(b) for b in batches[:2]]
    for i in range(len(batches)):
        ready = pending.pop(0)
        yield [(s, [f.result() for f in futs]) for s, futs in ready]
        if i + 2 < len(batches):
            pending.append(submit(batches[i + 2]))


def _batches(order: list[str], by_signal: dict[str, list[SourceFile]], batch_bytes: int) -> list[list[str]]:
    out: list[list[str]] = [[]]
    size = 0
    for signal in order:
        if size >= batch_bytes:
            out.append([])
            size = 0
        out[-1].append(signal)
        size += sum(f.size_bytes for f in by_signal[signal])
    return out


def _tables(series: list[tuple[str, CleanSeries]], cells: bool) -> dict:
    """Level tables of one batch: a scalar signal alone, cells all at once per aggregation."""
    series = [(s, c) for s, c in series if len(c.ts_ms)]
    if not series:
        return {}
    if not cells:
        (signal, s), = series
        return level_tables(s.ts_ms, s.value, spec_for(signal).aggregation)
    out: dict = {}
    for run in _runs_by_aggregation(series):
        specs = [spec_for(signal) for signal, _ in run]
        lengths = [len(s.ts_ms) for _, s in run]
        group = np.repeat(np.arange(len(run), dtype=np.int32), lengths)
        tables = group_level_tables(
            np.concatenate([s.ts_ms for _, s in run]), np.concatenate([s.value for _, s in run]),
            specs[0].aggregation, group,
            np.array([sp.pack or 0 for sp in specs], np.int16), np.array([sp.cell or 0 for sp in specs], np.int16))
        for lvl, t in tables.items():
            out.setdefault(lvl, []).append(t)
    return {lvl: ts[0] if len(ts) == 1 else pa.concat_tables(ts) for lvl, ts in out.items()}


def _runs_by_aggregation(series: list[tuple[str, CleanSeries]]) -> list[list[tuple[str, CleanSeries]]]:
    runs: list[list[tuple[str, CleanSeries]]] = []
    for item in series:
        agg = spec_for(item[0]).aggregation
        if runs and spec_for(runs[-1][0][0]).aggregation is agg:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


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
        rows_kept=len(p.ts_ms),
        dropped=dict(p.dropped),
        problems=p.problems,
        fatal=p.fatal,
    )
