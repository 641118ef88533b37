"""`bess ingest`: CSV exports in, a new Parquet pyramid version out, incremental and atomic."""

from __future__ import annotations

import errno
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

from data.build import SMALL_BATCH_BYTES, build_unit
from data.distributed import ClusterError, ClusterSpec, auto_workers, build_on_cluster, cluster_client
from data.discover import Discovery, RootError, Unit, check_roots, discover, split_roots
from data.fs import RemoteStore
from data.glossary import LEVELS, spec_for
from data.memory import lean_allocators, release_free_memory
from data.manifest import (
    SourceRecord, UnitRecord, build_manifest, unit_key, write_json_durably,
)
from data.names import name_problem
from data.publish import (
    StoreLock, clean_leftovers, link_or_copy, new_version_name, now_utc, prune_versions, publish,
    read_current, recover_current, staging_dir,
)
from data.parquet_out import sha256_file
from data.report import FileIssue, IngestReport, save_report
from data.store import MANIFEST_FILE, VERSIONS_DIR, Snapshot, StoreError, resolve_store_root, signal_relpath


def ingest(roots: list[Path], store: str | os.PathLike | None, *, progress: bool = True,
           allow_removal: bool = False, cluster: ClusterSpec | None = None) -> IngestReport:
    """Ingest all exports under ``roots`` into the store; never raises for bad input files.

    ``allow_removal``: a missing or empty root is meant (its systems are removed) rather
    than an error (an unmounted share must not empty the store).
    ``cluster``: where the units are built (``data.distributed``): a LocalCluster of worker
    processes, an existing Dask scheduler, or (default) in process unless the job and the
    machine are large enough (``data.distributed.auto_workers``). The result is the same
    bytes either way; only the manifest's version name and times differ between runs.
    """
    cluster = ClusterSpec() if cluster is None else cluster
    t0 = time.monotonic()
    started = now_utc()
    try:
        root = resolve_store_root(store)
    except StoreError as exc:  # a malformed store URL
        return _error_report(dict(started_utc=started.strftime("%Y-%m-%dT%H:%M:%SZ"), roots=tuple(map(str, roots)),
                                  store=str(store)), t0, None, str(exc))
    if isinstance(root, RemoteStore):  # s3://...: same ingest on a local mirror, then upload (data/ingest_remote.py)
        from data.ingest_remote import ingest_to_url
        return ingest_to_url(roots, root, progress=progress, allow_removal=allow_removal, cluster=cluster)
    roots = split_roots(list(roots))
    base = dict(started_utc=started.strftime("%Y-%m-%dT%H:%M:%SZ"), roots=tuple(map(str, roots)), store=str(root))
    try:
        missing = check_roots(roots, allow_missing=allow_removal)
        with StoreLock(root):
            report = _ingest_locked(roots, root, started, t0, base, progress, allow_removal, missing, cluster)
    except (RootError, StoreError, OSError, ClusterError) as exc:
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
        return current, Snapshot(root, current).catalog().units()
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


def _ingest_locked(roots: list[Path], root: Path, started, t0: float, base: dict, progress: bool,
                   allow_removal: bool = False, missing: list[str] = (),
                   cluster: ClusterSpec = ClusterSpec()) -> IngestReport:
    notes = [f"export root {m} skipped (--allow-removal): its systems are removed" for m in missing]
    recovered = recover_current(root)
    if recovered:
        notes.append(recovered)
    clean_leftovers(root)
    current, prev_units = _previous(root)
    found = discover(roots)
    if found.empty_roots and not allow_removal:
        raise RootError("export root(s) hold no CSV file (not mounted?): " + "; ".join(found.empty_roots)
                        + "; nothing was changed. Pass --allow-removal if their systems are meant to be removed")
    notes += [f"export root {r} holds no CSV file; its systems are removed (--allow-removal)"
              for r in found.empty_roots]
    hashes = _hashes(found, prev_units)
    keys = {(u.system_id, u.name): unit_key(u.name, [(f.signal, f.path.name, hashes[f.path]) for f in u.sources])
            for u in found.units}
    kept = {k: why for k, why in _keep_last_good(found, prev_units, roots).items()
            if _outputs_present(root, prev_units[k])}
    for k in kept:
        keys[k] = prev_units[k].key
    units = _with_kept_units(found.units, kept, prev_units)
    reusable = {k for k, key in keys.items()
                if k in prev_units and prev_units[k].key == key and _outputs_present(root, prev_units[k])}
    removed = sorted(set(prev_units) - set(keys))
    systems = {s.system_id: (s.kind.value, str(s.folder)) for s in found.systems}
    systems.update({k[0]: sd for k in kept if k[0] not in systems for sd in [_prev_system(root, current, k[0])]})
    unchanged = current is not None and len(reusable) == len(keys) and not removed and prev_units \
        and _same_systems(root, current, systems)
    published = None
    issues = [FileIssue(path, reason, False) for path, reason in found.notes]
    kept_notes = [f"{s}/{n}: {why}" for (s, n), why in sorted(kept.items())]
    if unchanged:
        records = [prev_units[k] for k in sorted(keys)]
        built: list[str] = []
    else:
        version = new_version_name(root, started)
        stage = staging_dir(root, version)
        try:
            records, built = _build_all(units, reusable, prev_units, keys, hashes, root, stage, version, progress,
                                        issues, kept_notes, cluster)
        except BaseException:
            # Never published; removed now rather than by the next run's clean-up.
            shutil.rmtree(stage, ignore_errors=True)
            raise
        if not any(r.rows for r in records):
            # Publishing an empty version would hide the data of the previous one.
            shutil.rmtree(stage, ignore_errors=True)
            return _summarise(base, t0, found, records, built, reusable, removed, None, current,
                              issues, kept_notes, notes)
        manifest = build_manifest(version=version, previous=current, created_utc=base["started_utc"],
                                  roots=[str(r.resolve()) for r in roots], systems=systems, units=records)
        write_json_durably(stage / MANIFEST_FILE, manifest)
        publish(root, stage, version)
        prune_versions(root)
        published = current = version
    return _summarise(base, t0, found, records, built, reusable, removed, published, current,
                      issues, kept_notes, notes)


def _keep_last_good(found: Discovery, prev_units: dict[tuple[str, str], UnitRecord],
                    roots: list[Path]) -> dict[tuple[str, str], str]:
    """Units of the previous version whose data stays although this run could not read it, and why.

    A unit is kept when one of its files (or a folder above it) is present but unreadable,
    or when it is no longer found although a file of it is still there, under one of this
    run's roots (e.g. now refused). Only a unit whose files are really gone (or whose root
    is no longer given) is removed.
    """
    unreadable = [Path(p) for p in found.unreadable]
    resolved = [r.resolve() for r in roots]
    found_keys = {(u.system_id, u.name) for u in found.units}
    kept = {}
    for k, rec in prev_units.items():
        if name_problem(k[0], "system id") or (rec.cell_group is None and name_problem(k[1], "signal name")):
            continue  # a name refused today is not carried forward
        paths = [Path(s.path) for s in rec.sources]
        hit = next((p for p in paths if any(p == u or u in p.parents for u in unreadable)), None)
        if hit is not None:
            kept[k] = f"source {hit} present but unreadable; last good data kept"
        elif k not in found_keys and rec.outputs and any(
                os.path.lexists(p) and any(r in p.parents for r in resolved) for p in paths):
            kept[k] = "source files present but not read this run; last good data kept"
    return kept


def _with_kept_units(units: tuple[Unit, ...], kept: dict, prev_units: dict) -> tuple[Unit, ...]:
    """The units to build or link, in (system, name) order; kept units stand in for their new form."""
    out = {(u.system_id, u.name): u for u in units}
    for k in kept:
        rec = prev_units[k]
        out[k] = Unit(k[0], k[1], rec.cell_group, ())
    return tuple(out[k] for k in sorted(out))


def _prev_system(root: Path, current: str | None, system_id: str) -> tuple[str, str]:
    try:
        entry = Snapshot(root, current).catalog().system(system_id)
        return entry.kind.value, entry.folder
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "meter", ""


# OSErrors that concern the store, not one input: the whole ingest fails with exit code 2.
_STORE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


def _build_all(units: tuple[Unit, ...], reusable: set, prev_units: dict, keys: dict, hashes: dict,
               root: Path, stage: Path, version: str, progress: bool, issues: list[FileIssue] | None = None,
               kept_notes: list[str] | None = None,
               cluster: ClusterSpec = ClusterSpec()) -> tuple[list[UnitRecord], list[str]]:
    """Build (or link forward) every unit; records in unit order.

    In process: one unit at a time (threads inside it), within a memory budget
    (BUDGET_BYTES). On a Dask cluster (``data.distributed``): one task per unit to build.
    """
    records, built = [], []
    bar = tqdm(total=len(units), desc="ingest", unit="signal", file=sys.stderr, disable=not progress, leave=False)
    pending: deque = deque()

    issues = [] if issues is None else issues
    kept_notes = [] if kept_notes is None else kept_notes

    def link_forward(prev: UnitRecord) -> None:
        src = _version_dir_of(root, prev)
        for w in prev.outputs.values():
            link_or_copy(src / w.relpath, stage / w.relpath)

    def finish_one(tick: bool = True) -> None:
        u, result = pending.popleft()
        k = (u.system_id, u.name)
        step = bar.update if tick else (lambda: None)
        bar.set_postfix_str(f"{u.system_id}/{u.name}", refresh=False)
        if isinstance(result, UnitRecord):
            records.append(result)
            step()
            return
        try:
            rec = replace(result.result(), key=keys[k])
            unread = [s for s in rec.sources if (s.fatal or "").startswith("cannot read")]
            why = f"{unread[0].path}: {unread[0].fatal}" if unread else None
        except Exception as exc:  # noqa: BLE001 - one unit's failure must not stop the others
            if isinstance(exc, OSError) and exc.errno in _STORE_ERRNOS:
                raise
            _remove_outputs(stage, u)
            reason = f"could not be built ({type(exc).__name__}: {exc})"
            if k not in prev_units or not _outputs_present(root, prev_units[k]):
                records.append(_failed_unit(u, keys[k], version, hashes, reason))
                step()
                return
            for f in u.sources:
                issues.append(FileIssue(str(f.path), f"{reason}; last good data kept", True))
        else:
            if why is None or k not in prev_units or not _outputs_present(root, prev_units[k]):
                records.append(rec)
                built.append(f"{u.system_id}/{u.name}")
                step()
                return
            _remove_outputs(stage, u)
            reason = f"source {why}"
            issues.extend(FileIssue(s.path, f"{s.fatal}; last good data kept", True) for s in unread)
        prev = prev_units[k]
        link_forward(prev)
        records.append(prev)
        kept_notes.append(f"{u.system_id}/{u.name}: {reason}; last good data kept")
        step()

    todo = [u for u in units if (u.system_id, u.name) not in reusable]
    workers = auto_workers(cluster, sum(f.size_bytes for u in todo for f in u.sources))
    if todo and (workers or cluster.scheduler):
        # Tasks finish in any order: the bar follows them; records are then taken in unit order.
        with cluster_client(cluster, workers) as client:
            done = build_on_cluster(client, todo, stage, version, hashes, on_done=lambda u: bar.update())
        for u in units:
            k = (u.system_id, u.name)
            if k in reusable:
                link_forward(prev_units[k])
                pending.append((u, prev_units[k]))
            else:
                pending.append((u, done[k]))
            finish_one(tick=k in reusable)
        bar.close()
        return records, built
    lean_allocators()
    budget = _ByteBudget(BUDGET_BYTES)
    with ThreadPoolExecutor(max_workers=UNITS_IN_FLIGHT) as pool:
        for u in units:
            k = (u.system_id, u.name)
            if k in reusable:
                prev = prev_units[k]
                link_forward(prev)
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
        return build_unit(u, stage, version, hashes, SMALL_BATCH_BYTES)
    finally:
        budget.release(got)
        release_free_memory()


def _remove_outputs(stage: Path, u: Unit) -> None:
    """What a failed build left in the staging version: never published, never listed."""
    for lvl in LEVELS:
        (stage / signal_relpath(u.system_id, lvl, u.name)).unlink(missing_ok=True)


def _failed_unit(u: Unit, key: str, version: str, hashes: dict, reason: str) -> UnitRecord:
    """The record of a unit whose build failed: every file named with the reason, no outputs."""
    spec = spec_for(u.sources[0].signal) if u.sources else spec_for(u.name)
    sources = tuple(SourceRecord(str(f.path), f.path.name, f.signal, f.size_bytes, f.mtime_ns, hashes[f.path],
                                 0, 0, {}, (reason,), reason) for f in u.sources)
    return UnitRecord(u.system_id, u.name, u.cell_group, spec.unit, spec.aggregation.value, key, version, 0, {},
                      sources, {})


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
        catalog = Snapshot(root, current).catalog()
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return {s.id: (s.kind.value, s.folder) for s in catalog.systems} == systems


def _summarise(base: dict, t0: float, found: Discovery, records: list[UnitRecord], built: list[str],
               reusable: set, removed: list, published: str | None, current: str | None,
               extra: list[FileIssue] = (), kept: list[str] = (), notes: list[str] = ()) -> IngestReport:
    dropped: Counter[str] = Counter()
    issues = [FileIssue(path, reason, True) for path, reason in found.problems] + list(extra)
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
        units_kept=tuple(kept),
        store_notes=tuple(notes),
    )
