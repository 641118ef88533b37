"""Check a published version against its manifest: every file present, intact and readable."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from data.fs import fetch_verified
from data.parquet_out import sha256_file
from data.store import (
    MANIFEST_FILE, ManifestError, NoStoreError, Snapshot, StoreError, record_fault, recorded_faults,
)

log = logging.getLogger(__name__)
# The cheap check of /healthz (every listed file present, with its size) is repeated at most this often.
QUICK_CHECK_S = 5.0


def verify_snapshot(snapshot: Snapshot) -> list[str]:
    """Problems found (empty when the version is intact): missing, resized, corrupted or stray files."""
    try:
        units = snapshot.catalog().units()
    except (OSError, ValueError) as exc:  # ManifestError is a ValueError: damaged or unknown version
        return [f"{snapshot.where(MANIFEST_FILE)}: manifest unreadable: {exc}"]
    if snapshot.remote:
        return _verify_remote(snapshot, units)
    problems: list[str] = []
    expected: set[str] = set()
    for rec in units.values():
        for w in rec.outputs.values():
            expected.add(w.relpath)
            problems.extend(_check_file(snapshot.path / w.relpath, w.size_bytes, w.sha256, w.rows))
    systems = snapshot.path / "systems"
    if systems.exists():
        for p in sorted(systems.rglob("*")):
            rel = p.relative_to(snapshot.path).as_posix()
            if p.is_file() and rel not in expected:
                problems.append(f"{p}: not listed in the manifest")
    return problems


def _verify_remote(snapshot: Snapshot, units: dict) -> list[str]:
    """verify_snapshot on an object store: one listing for presence and sizes, then every object
    fetched once, hashed and kept in the local cache (data/fs.py: fetch_verified)."""
    store = snapshot.root
    present = store.sizes(snapshot.rel)
    problems: list[str] = []
    expected: set[str] = set()
    for rec in units.values():
        for w in rec.outputs.values():
            expected.add(w.relpath)
            where = snapshot.where(w.relpath)
            if w.relpath not in present:
                problems.append(f"{where}: missing")
                continue
            if present[w.relpath] != w.size_bytes:
                problems.append(f"{where}: size {present[w.relpath]} bytes, manifest says {w.size_bytes}")
                continue
            try:
                local = fetch_verified(store, f"{snapshot.rel}/{w.relpath}",
                                       store.cache_dir(snapshot.version) / w.relpath, w.sha256, w.size_bytes)
            except FileNotFoundError:
                problems.append(f"{where}: missing")
                continue
            except ValueError:
                problems.append(f"{where}: checksum mismatch (file corrupted or modified)")
                continue
            try:
                n = pq.ParquetFile(local).metadata.num_rows
            except Exception as exc:  # noqa: BLE001 - any failure to open is the finding itself
                problems.append(f"{where}: not readable as Parquet: {exc}")
                continue
            if n != w.rows:
                problems.append(f"{where}: {n} rows, manifest says {w.rows}")
    problems.extend(f"{snapshot.where(rel)}: not listed in the manifest" for rel in sorted(present)
                    if rel.startswith("systems/") and rel not in expected)
    return problems


def _check_file(path: Path, size: int, sha256: str, rows: int) -> list[str]:
    if not path.is_file():
        return [f"{path}: missing"]
    actual = path.stat().st_size
    if actual != size:
        return [f"{path}: size {actual} bytes, manifest says {size}"]
    if sha256_file(path) != sha256:
        return [f"{path}: checksum mismatch (file corrupted or modified)"]
    try:
        n = pq.ParquetFile(path).metadata.num_rows
    except Exception as exc:  # noqa: BLE001 - any failure to open is the finding itself
        return [f"{path}: not readable as Parquet: {exc}"]
    return [] if n == rows else [f"{path}: {n} rows, manifest says {rows}"]


@dataclass(frozen=True)
class StoreHealth:
    """The state of one published version as /healthz reports it (paths relative to the version)."""

    status: str  # "ok" or "degraded" (some files missing or damaged; the rest is served)
    problems: tuple[str, ...]
    checksums_verified: bool  # the full checksum pass over every file has finished


_lock = threading.Lock()
_quick: dict[str, tuple[float, tuple[str, ...]]] = {}
_full: dict[str, bool] = {}  # version path -> finished


def store_health(snapshot: Snapshot) -> StoreHealth:
    """Health of a version: a cheap size check now, checksum faults found so far, and a full
    verification started in the background the first time a version is looked at."""
    start_verification(snapshot)
    key = str(snapshot.path)
    now = time.monotonic()
    with _lock:
        hit = _quick.get(key)
    if hit is None or now - hit[0] > QUICK_CHECK_S:
        hit = (now, tuple(_quick_check(snapshot)))
        with _lock:
            _quick[key] = hit
    # A file found missing while serving and put back since is no longer a fault.
    faults = {rel: what for rel, what in recorded_faults(snapshot).items()
              if what != "missing" or not _exists(snapshot, rel)}
    for line in hit[1]:
        rel, _, what = line.partition(": ")
        faults.setdefault(rel, what)
    problems = tuple(f"{rel}: {what}" for rel, what in sorted(faults.items()))
    with _lock:
        done = _full.get(key, False)
    return StoreHealth("degraded" if problems else "ok", problems, done)


def start_verification(snapshot: Snapshot) -> threading.Thread | None:
    """Verify every checksum of a version once, in a daemon thread; faults go to the store's record."""
    key = str(snapshot.path)
    with _lock:
        if key in _full:
            return None
        _full[key] = False

    def run() -> None:
        try:
            for problem in verify_snapshot(snapshot):
                path, _, what = problem.partition(": ")
                rel = _relative(snapshot, path)
                record_fault(snapshot, rel, what)
                log.warning("store verification: %s", problem)
        except (OSError, StoreError) as exc:
            log.warning("store verification of %s failed: %s", snapshot.path, exc)
        finally:
            with _lock:
                _full[key] = True

    t = threading.Thread(target=run, name=f"verify-{snapshot.version}", daemon=True)
    t.start()
    return t


def _exists(snapshot: Snapshot, rel: str) -> bool:
    if snapshot.remote:
        return snapshot.root.exists(f"{snapshot.rel}/{rel}")
    return (snapshot.path / rel).exists()


def _relative(snapshot: Snapshot, path: str) -> str:
    """A problem's path relative to the version folder (unchanged when it lies elsewhere)."""
    base = str(snapshot.path)
    if not path.startswith(base):
        return path
    if snapshot.remote:
        return path[len(base):].lstrip("/")
    return Path(path).relative_to(snapshot.path).as_posix()


def _quick_check(snapshot: Snapshot) -> list[str]:
    """``relpath: what`` for every listed output that is missing or has the wrong size (no hashing)."""
    snapshot.manifest()  # not JSON at all: a ManifestError for the caller, as the raw read raises it
    try:
        units = snapshot.catalog().units()
    except ManifestError as exc:  # JSON of the wrong shape, or an unknown manifest_version
        return [f"{MANIFEST_FILE}: damaged ({exc})"]
    if snapshot.remote:  # one listing instead of a request per file
        present = snapshot.root.sizes(snapshot.rel)
        return [f"{w.relpath}: missing" if w.relpath not in present else
                f"{w.relpath}: size {present[w.relpath]} bytes, manifest says {w.size_bytes}"
                for rec in units.values() for w in rec.outputs.values()
                if present.get(w.relpath) != w.size_bytes]
    out = []
    for rec in units.values():
        for w in rec.outputs.values():
            try:
                size = (snapshot.path / w.relpath).stat().st_size
            except FileNotFoundError:
                out.append(f"{w.relpath}: missing")
                continue
            except OSError as exc:
                out.append(f"{w.relpath}: cannot be read ({exc.strerror or exc})")
                continue
            if size != w.size_bytes:
                out.append(f"{w.relpath}: size {size} bytes, manifest says {w.size_bytes}")
    return out


def unavailable_reason(exc: BaseException) -> str:
    """Why no version can be served, in words for /healthz (no server paths)."""
    if isinstance(exc, NoStoreError):
        return ("no data published yet: this server's store is empty. Run 'bess ingest EXPORT_ROOT --store STORE' "
                "to publish the first version; /healthz turns ok by itself")
    if isinstance(exc, ManifestError):
        return "the published version's manifest is missing or damaged; run 'bess ingest' to rebuild the store"
    return "the store cannot be read (see the server log); run 'bess ingest' to rebuild it"
