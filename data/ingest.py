"""`bess ingest`: CSV exports in, a new Parquet pyramid version out, incremental and atomic."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from data.build import build_unit
from data.discover import Discovery, RootError, Unit, check_roots, discover, split_roots
from data.manifest import (
    UnitRecord, build_manifest, unit_key, units_of, write_json_durably,
)
from data.publish import (
    StoreLock, clean_leftovers, link_or_copy, new_version_name, now_utc, prune_versions, publish,
    read_current, staging_dir,
)
from data.parquet_out import sha256_file
from data.report import FileIssue, IngestReport, save_report
from data.store import MANIFEST_FILE, VERSIONS_DIR, Snapshot, StoreError, resolve_store_root


def ingest(roots: list[Path], store: str | os.PathLike | None, *, progress: bool = True) -> IngestReport:
    """Ingest all exports under ``roots`` into the store; never raises for bad input files."""
    t0 = time.monotonic()
    started = now_utc()
    root = resolve_store_root(store)
    roots = split_roots(list(roots))
    base = dict(started_utc=started.strftime("%Y-%m-%dT%H:%M:%SZ"), roots=tuple(map(str, roots)), store=str(root))
    try:
        check_roots(roots)
        with StoreLock(root):
            report = _ingest_locked(roots, root, started, t0, base, progress)
    except (RootError, StoreError, OSError) as exc:
        report = _error_report(base, t0, read_current(root) if root.exists() else None, str(exc))
        if not root.is_dir():
            return report
    try:
        path = save_report(root, report, started.strftime("%Y%m%dT%H%M%SZ"))
    except OSError as exc:
        print(f"bess ingest: could not save the report in {root}: {exc}", file=sys.stderr)
        return report
    return replace(report, report_path=str(path))


def _error_report(base: dict, t0: float, current: str | None, error: str) -> IngestReport:
    return IngestReport(**base, duration_s=time.monotonic() - t0, published_version=None, current_version=current,
                        files_seen=0, files_ingested=0, files_unchanged=0, rows_read=0, rows_kept=0,
                        rows_dropped=(), file_issues=(), units_built=(), units_unchanged=0, units_removed=(),
                        systems_updated=(), error=error)


def _previous(root: Path) -> tuple[str | None, dict[tuple[str, str], UnitRecord]]:
    current = read_current(root)
    if current is None:
        return None, {}
    try:
        return current, units_of(Snapshot(root, current).manifest())
    except (OSError, ValueError, KeyError, TypeError):
        return current, {}  # unreadable manifest: rebuild everything rather than trust it


def _hashes(found: Discovery, prev_units: dict[tuple[str, str], UnitRecord]) -> dict[Path, str]:
    """Content hash per file; reused from the previous manifest when path, size and mtime match."""
    known = {(s.path, s.size_bytes, s.mtime_ns): s.sha256 for u in prev_units.values() for s in u.sources}
    out = {}
    for u in found.units:
        for f in u.sources:
            digest = known.get((str(f.path), f.size_bytes, f.mtime_ns))
            if digest is None:
                try:
                    digest = sha256_file(f.path)  # the content signature that decides a rebuild
                except OSError as exc:
                    digest = f"unreadable:{exc.errno}"  # parse_file reports it
            out[f.path] = digest
    return out


def _ingest_locked(roots: list[Path], root: Path, started, t0: float, base: dict, progress: bool) -> IngestReport:
    clean_leftovers(root)
    current, prev_units = _previous(root)
    found = discover(roots)
    hashes = _hashes(found, prev_units)
    keys = {(u.system_id, u.name): unit_key(u.name, [(f.signal, f.path.name, hashes[f.path]) for f in u.sources])
            for u in found.units}
    reusable = {k for k, key in keys.items()
                if k in prev_units and prev_units[k].key == key and _outputs_present(root, prev_units[k])}
    removed = sorted(set(prev_units) - set(keys))
    systems = {s.system_id: (s.kind.value, str(s.folder)) for s in found.systems}
    unchanged = current is not None and len(reusable) == len(keys) and not removed and prev_units \
        and _same_systems(root, current, systems)
    published = None
    if unchanged:
        records = [prev_units[k] for k in sorted(keys)]
        built: list[str] = []
    else:
        version = new_version_name(root, started)
        stage = staging_dir(root, version)
        records, built = _build_all(found.units, reusable, prev_units, keys, hashes, root, stage, version, progress)
        if not any(r.rows for r in records):
            # Publishing an empty version would hide the data of the previous one.
            shutil.rmtree(stage, ignore_errors=True)
            return _summarise(base, t0, found, records, built, reusable, removed, None, current)
        manifest = build_manifest(version=version, previous=current, created_utc=base["started_utc"],
                                  roots=[str(r.resolve()) for r in roots], systems=systems, units=records)
        write_json_durably(stage / MANIFEST_FILE, manifest)
        publish(root, stage, version)
        prune_versions(root)
        published = current = version
    return _summarise(base, t0, found, records, built, reusable, removed, published, current)


def _build_all(units: tuple[Unit, ...], reusable: set, prev_units: dict, keys: dict, hashes: dict,
               root: Path, stage: Path, version: str, progress: bool) -> tuple[list[UnitRecord], list[str]]:
    """Build (or link forward) every unit; a few units at a time, records in unit order.

    Units are independent, so while one writes Parquet (native code, GIL released) another
    parses or aggregates, within a memory budget (BUDGET_BYTES).
    """
    records, built = [], []
    bar = tqdm(total=len(units), desc="ingest", unit="signal", file=sys.stderr, disable=not progress, leave=False)
    pending: deque = deque()

    def finish_one() -> None:
        u, result = pending.popleft()
        k = (u.system_id, u.name)
        bar.set_postfix_str(f"{u.system_id}/{u.name}", refresh=False)
        if isinstance(result, UnitRecord):
            records.append(result)
        else:
            records.append(replace(result.result(), key=keys[k]))
            built.append(f"{u.system_id}/{u.name}")
        bar.update()

    budget = _ByteBudget(BUDGET_BYTES)
    with ThreadPoolExecutor(max_workers=UNITS_IN_FLIGHT) as pool:
        for u in units:
            k = (u.system_id, u.name)
            if k in reusable:
                prev = prev_units[k]
                src = _version_dir_of(root, prev)
                for w in prev.outputs.values():
                    link_or_copy(src / w.relpath, stage / w.relpath)
                pending.append((u, prev))
            else:
                pending.append((u, pool.submit(_build_one, u, stage, version, hashes, budget)))
            while len(pending) > UNITS_IN_FLIGHT:
                finish_one()
        while pending:
            finish_one()
    bar.close()
    return records, built


# One unit at a time: each worker thread gets its own malloc arena, and freed memory left in
# four arenas pushed a full-fleet ingest to 3.4 GB peak RSS (1.6 GB with one worker).
UNITS_IN_FLIGHT = 1
# CSV bytes of scalar units built at once (memory is several times that, and more with
# each thread's malloc arena); a cell group, or a signal larger than this, takes the whole
# budget: it runs alone, parallel inside (data/build.py). A full-fleet ingest measured
# 1.6 GB peak RSS this way, 3.3 GB with 64 MB of large signals in flight.
BUDGET_BYTES = 16 << 20


class _ByteBudget:
    """Admit work while the bytes in flight stay within a budget (one oversized item alone)."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0
        self.cond = threading.Condition()

    def acquire(self, n: int) -> int:
        n = min(n, self.limit)
        with self.cond:
            self.cond.wait_for(lambda: self.used + n <= self.limit)
            self.used += n
        return n

    def release(self, n: int) -> None:
        with self.cond:
            self.used -= n
            self.cond.notify_all()


def _build_one(u: Unit, stage: Path, version: str, hashes: dict, budget: _ByteBudget) -> UnitRecord:
    want = budget.limit if u.cell_group is not None else sum(f.size_bytes for f in u.sources)
    got = budget.acquire(want)
    try:
        return build_unit(u, stage, version, hashes)
    finally:
        budget.release(got)


def _version_dir_of(root: Path, rec: UnitRecord) -> Path:
    """Reused outputs are linked from the current version (their first home may be pruned)."""
    return root / VERSIONS_DIR / (read_current(root) or rec.built_in)


def _outputs_present(root: Path, rec: UnitRecord) -> bool:
    """Reused outputs must be intact: a corrupted one is rebuilt, never linked forward."""
    d = _version_dir_of(root, rec)
    for w in rec.outputs.values():
        p = d / w.relpath
        if not p.is_file() or p.stat().st_size != w.size_bytes or sha256_file(p) != w.sha256:
            return False
    return True


def _same_systems(root: Path, current: str, systems: dict[str, tuple[str, str]]) -> bool:
    """Kinds and folders unchanged too (a moved root is a new manifest, though no data changes)."""
    try:
        m = Snapshot(root, current).manifest()
    except (OSError, ValueError):
        return False
    return {sid: (s["kind"], s["folder"]) for sid, s in m["systems"].items()} == systems


def _summarise(base: dict, t0: float, found: Discovery, records: list[UnitRecord], built: list[str],
               reusable: set, removed: list, published: str | None, current: str | None) -> IngestReport:
    dropped: Counter[str] = Counter()
    issues = [FileIssue(path, reason, True) for path, reason in found.problems]
    rows_read = rows_kept = ingested = unchanged_files = 0
    for rec in records:
        dropped.update(rec.dropped)
        reused = (rec.system_id, rec.name) in reusable
        for s in rec.sources:
            dropped.update(s.dropped)
            rows_read += s.rows_read
            rows_kept += s.rows_kept
            ingested += s.rows_kept > 0
            unchanged_files += reused
            if s.fatal:
                issues.append(FileIssue(s.path, s.fatal, True))
            elif s.problems:
                issues.append(FileIssue(s.path, "; ".join(s.problems), False))
    return IngestReport(
        **base,
        duration_s=round(time.monotonic() - t0, 3),
        published_version=published,
        current_version=current,
        files_seen=sum(len(u.sources) for u in found.units),
        files_ingested=ingested,
        files_unchanged=unchanged_files,
        rows_read=rows_read,
        rows_kept=rows_kept,
        rows_dropped=tuple(sorted(dropped.items())),
        file_issues=tuple(issues),
        units_built=tuple(built),
        units_unchanged=len(records) - len(built),
        units_removed=tuple(f"{s}/{n}" for s, n in removed),
        systems_updated=tuple(sorted({b.split("/", 1)[0] for b in built} | {s for s, _ in removed})),
    )
