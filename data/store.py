"""Layout of the Parquet pyramid store and its read side (one snapshot per reader).

Layout (all paths relative to the store root: a local folder, or an object-store URL such as
``s3://bucket/prefix``, see data/fs.py)::

    <store>/
      CURRENT                       # one line: the published version's folder name
      versions/<version>/
        manifest.json               # see data/manifest.py
        systems/<system_id>/<level>/<signal>.parquet
        systems/<system_id>/<level>/cell_v.parquet   # all 260 cell voltages, long format
        systems/<system_id>/<level>/cell_t.parquet   # all cell temperatures, long format
      reports/                      # ingest reports (json), newest also as latest.json
      staging/                      # versions being written; never read
      .ingest.lock                  # flock held by the running ingest (data/publish.py);
                                    # on an object store a lock object (data/objlock.py)

Scalar signal files have columns ``ts`` (Datetime[ms, UTC], bin start for levels),
``value`` (Float64) and, on every level but raw, ``min``, ``max`` (Float64) and
``count`` (UInt32, raw samples in the bin). Cell-group files add ``pack`` and
``cell`` (Int16, 1-based) and are sorted by (pack, cell, ts), so that row-group
statistics prune both by cell and by time. ``1d`` bins are local (Europe/Berlin)
calendar days; their ``ts`` is the UTC instant of local midnight.

A version is published by writing it under ``staging/`` and then atomically replacing
``CURRENT``; readers resolve ``CURRENT`` once (a :class:`Snapshot`) and keep reading
that version, which stays on disk for a few publishes after it is replaced.
``data.verify.verify_snapshot(snapshot)`` checks a version against its manifest checksums.

On an object store (data/fs.py) the same layout holds. A version is uploaded data files
first, its manifest next, and ``CURRENT`` (one PUT, atomic) last (data/publish_remote.py);
readers fetch each file once, check it against the manifest and keep it in a local cache.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from data.catalog import MANIFEST_FILE, Catalog, read_catalog, read_remote_catalog
from data.fs import CACHE_ENV, RemoteStore, fetch_verified, is_url, prune_cache
from data.glossary import CELL_GROUPS, LEVELS, cell_key
from data.parquet_out import sha256_file

STORE_ENV = "BESS_STORE"
DEFAULT_STORE = Path(".bess/store")

CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"
STAGING_DIR = "staging"
REPORTS_DIR = "reports"


class StoreError(Exception):
    """The store is missing, unpublished or inconsistent."""


class CorruptDataError(StoreError):
    """A store file does not match the checksum its manifest recorded; it is never served."""


class NoStoreError(StoreError):
    """Nothing is published yet at the store root (no CURRENT)."""


class ManifestError(StoreError, ValueError):
    """A version's manifest.json is missing, not JSON or not a manifest (a ValueError too, for old callers)."""


class NotFoundError(KeyError):
    """An unknown system, signal or level was asked for."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return str(self.args[0]) if self.args else ""


StoreRoot = Path | RemoteStore


def resolve_store_root(store: str | os.PathLike | RemoteStore | None = None) -> StoreRoot:
    """The store root: the argument, else $BESS_STORE, else ./.bess/store.

    A URL (``s3://bucket/prefix``) gives a RemoteStore, anything else a local Path.
    """
    if isinstance(store, RemoteStore):
        return store
    text = os.fspath(store) if store else os.environ.get(STORE_ENV)
    if not text:
        return DEFAULT_STORE
    if is_url(text):
        try:
            return RemoteStore.parse(text)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
    return Path(text[len("file://"):] if text.startswith("file://") else text)


def signal_relpath(system_id: str, level: str, signal: str) -> str:
    """Path of one signal (or cell group) file inside a version folder."""
    if level not in LEVELS:
        raise NotFoundError(f"unknown level {level!r}; known: {', '.join(LEVELS)}")
    return f"systems/{system_id}/{level}/{signal}.parquet"


def _utc(t: datetime) -> datetime:
    """``t`` in UTC. Any aware datetime is accepted: Polars refuses to compare a zone such as
    Europe/Berlin (ZoneInfo) with the store's UTC column, so it is converted here."""
    if t.tzinfo is None:
        raise ValueError(f"timestamp {t!r} has no time zone; the store speaks UTC-aware datetimes")
    return t.astimezone(timezone.utc)


@dataclass(frozen=True)
class Snapshot:
    """One published version of the store; all reads through it see the same data."""

    root: StoreRoot
    version: str

    @property
    def remote(self) -> bool:
        return isinstance(self.root, RemoteStore)

    @property
    def path(self) -> Path | str:
        """The version folder (a URL string on an object store)."""
        if isinstance(self.root, RemoteStore):
            return self.root.key(self.rel)
        return self.root / VERSIONS_DIR / self.version

    @property
    def rel(self) -> str:
        """The version folder relative to the store root."""
        return f"{VERSIONS_DIR}/{self.version}"

    def catalog(self) -> Catalog:
        """The version's typed catalog (data/catalog.py): how code reads the manifest.

        A damaged manifest (not JSON, or JSON of the wrong shape) is a ManifestError naming it.
        """
        try:
            if isinstance(self.root, RemoteStore):
                return read_remote_catalog(self.root, f"{self.rel}/{MANIFEST_FILE}")
            return read_catalog(self.path)
        except FileNotFoundError:
            if not isinstance(self.root, RemoteStore):
                raise
            # open_snapshot checks a remote manifest once per version, not per request
            raise ManifestError(f"store {self.root} names version {self.version!r} but {self.where(MANIFEST_FILE)} "
                                "is missing; run 'bess ingest' to recover") from None
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, ManifestError):
                raise
            raise ManifestError(f"manifest {self.path / MANIFEST_FILE} is damaged ({type(exc).__name__}: {exc}); "
                                "run 'bess ingest' to rebuild the store") from None

    def manifest(self) -> dict:
        """The raw manifest JSON, for tests of the written format; code reads :meth:`catalog`."""
        where = self.where(MANIFEST_FILE)
        try:
            if isinstance(self.root, RemoteStore):
                m = json.loads(self.root.read_bytes(f"{self.rel}/{MANIFEST_FILE}"))
            else:
                with open(self.path / MANIFEST_FILE, encoding="utf-8") as fh:
                    m = json.load(fh)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ManifestError(f"manifest {where} is damaged (not valid JSON: {exc}); "
                                "run 'bess ingest' to rebuild the store") from None
        if not isinstance(m, dict) or not isinstance(m.get("systems", {}), dict):
            raise ManifestError(f"manifest {where} is damaged (not a manifest object); "
                                "run 'bess ingest' to rebuild the store")
        return m

    def where(self, rel: str) -> Path | str:
        """A file of the version as a path or URL, for messages."""
        return self.root.key(f"{self.rel}/{rel}") if isinstance(self.root, RemoteStore) else self.path / rel

    def file(self, system_id: str, level: str, signal: str) -> Path:
        """Path of one output, checked against the manifest's sha256 before it is first served.

        On an object store: the path of its verified local copy (data/fs.py: fetch_verified).
        """
        rel = signal_relpath(system_id, level, signal)
        if isinstance(self.root, RemoteStore):
            return _remote_file(self, rel, system_id, level, signal)
        p = self.path / rel
        if not p.exists():
            if rel in _expected_outputs(self):  # listed but gone: the store is damaged, say so
                record_fault(self, rel, "missing")
                raise CorruptDataError(f"{p} is listed in the manifest of version {self.version} but missing; "
                                       "not served. Run 'bess ingest' again to rebuild it.")
            raise NotFoundError(f"no data for system {system_id!r}, signal {signal!r}, level {level!r}")
        _verify_once(self, rel, p)
        return p

    def has(self, system_id: str, level: str, signal: str) -> bool:
        rel = signal_relpath(system_id, level, signal)
        if isinstance(self.root, RemoteStore):  # the manifest lists every object: no request per question
            return rel in _expected_outputs(self)
        return (self.path / rel).exists()

    def scan(self, system_id: str, level: str, signal: str) -> pl.LazyFrame:
        """Lazy scan of one signal or cell-group file."""
        return pl.scan_parquet(self.file(system_id, level, signal))

    def read_range(
        self,
        system_id: str,
        level: str,
        signal: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        cells: list[tuple[int, int]] | None = None,
        columns: list[str] | None = None,
    ) -> pl.DataFrame:
        """Rows with ``start <= ts < end`` (half-open), pushed down to row groups.

        ``cells`` (pairs of 1-based pack, cell) filters a cell-group file.
        """
        lf = self.scan(system_id, level, signal)
        if start is not None:
            lf = lf.filter(pl.col("ts") >= _utc(start))
        if end is not None:
            lf = lf.filter(pl.col("ts") < _utc(end))
        if cells is not None:
            if signal not in CELL_GROUPS:
                raise ValueError(f"cells= only applies to cell groups {list(CELL_GROUPS)}, not {signal!r}")
            keys = [cell_key(p, c) for p, c in cells]
            lf = lf.filter(cell_key(pl.col("pack").cast(pl.Int64), pl.col("cell").cast(pl.Int64)).is_in(keys))
        if columns is not None:
            lf = lf.select(columns)
        return lf.collect()


# Published versions are immutable, so a file whose (inode, size, mtime) was verified once need
# not be hashed again; any rewrite of the file changes that key and forces a new check.
_VERIFIED: set[tuple[str, int, int, int]] = set()
_EXPECTED: dict[str, dict[str, tuple[str, int]]] = {}
_VERIFY_LOCK = threading.Lock()
_MAX_EXPECTED_VERSIONS = 8


def _expected_outputs(snap: Snapshot) -> dict[str, tuple[str, int]]:
    """relpath -> (sha256, size) of every output the version's manifest lists."""
    key = str(snap.path)
    with _VERIFY_LOCK:
        if key in _EXPECTED:
            return _EXPECTED[key]
    out = snap.catalog().outputs()
    with _VERIFY_LOCK:
        while len(_EXPECTED) >= _MAX_EXPECTED_VERSIONS:
            _EXPECTED.pop(next(iter(_EXPECTED)))
        _EXPECTED[key] = out
    return out


def _remote_file(snap: Snapshot, rel: str, system_id: str, level: str, signal: str) -> Path:
    expected = _expected_outputs(snap).get(rel)
    if expected is None:
        raise NotFoundError(f"no data for system {system_id!r}, signal {signal!r}, level {level!r}")
    sha, size = expected
    try:
        return fetch_verified(snap.root, f"{snap.rel}/{rel}", snap.root.cache_dir(snap.version) / rel, sha, size)
    except FileNotFoundError:
        record_fault(snap, rel, "missing")
        raise CorruptDataError(f"{snap.where(rel)} is listed in the manifest of version {snap.version} but missing; "
                               "not served. Run 'bess ingest' again to rebuild it.") from None
    except ValueError:
        record_fault(snap, rel, "fails its checksum (corrupted or modified)")
        raise CorruptDataError(
            f"{snap.where(rel)} fails its checksum (manifest of version {snap.version}); not served. "
            "Run 'bess ingest' again to rebuild it."
        ) from None


def _verify_once(snap: Snapshot, rel: str, path: Path) -> None:
    st = path.stat()
    key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    if key in _VERIFIED:
        return
    expected = _expected_outputs(snap).get(rel)
    if expected is None:
        raise CorruptDataError(f"{path} is not listed in the manifest of version {snap.version}; not served")
    sha, size = expected
    if st.st_size != size or sha256_file(path) != sha:
        record_fault(snap, rel, "fails its checksum (corrupted or modified)")
        raise CorruptDataError(
            f"{path} fails its checksum (manifest of version {snap.version}); not served. "
            "Run 'bess ingest' again to rebuild it."
        )
    with _VERIFY_LOCK:
        _VERIFIED.add(key)


# Store faults found while serving or verifying, per version folder: relpath -> what is wrong.
# /healthz reports them (data/verify.py: store_health); the rest of the version is served.
_FAULTS: dict[str, dict[str, str]] = {}


def record_fault(snap: Snapshot, rel: str, what: str) -> None:
    with _VERIFY_LOCK:
        _FAULTS.setdefault(str(snap.path), {})[rel] = what


def recorded_faults(snap: Snapshot) -> dict[str, str]:
    with _VERIFY_LOCK:
        return dict(_FAULTS.get(str(snap.path), {}))


def open_snapshot(store: str | os.PathLike | RemoteStore | None = None) -> Snapshot:
    """Resolve CURRENT once; raise StoreError with the path when nothing is published."""
    root = resolve_store_root(store)
    if isinstance(root, RemoteStore):
        return _open_remote(root)
    current = root / CURRENT_FILE
    try:
        version = current.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NoStoreError(
            f"no published store at {root} (missing {current}); run 'bess ingest ROOT --store {root}'"
        ) from None
    snap = Snapshot(root=root, version=version)
    if not version:
        raise ManifestError(f"store {root}: {current} is empty; run 'bess ingest' to recover it")
    if not (snap.path / MANIFEST_FILE).exists():
        raise ManifestError(f"store {root} names version {version!r} but {snap.path / MANIFEST_FILE} is missing; "
                            "run 'bess ingest' to recover")
    return snap


# Cached files of this many versions per remote store are kept locally (as many as the store keeps).
CACHED_VERSIONS = 3


def _open_remote(root: RemoteStore) -> Snapshot:
    """CURRENT of an object store: one GET per call, so a new version is seen on the next request."""
    current = root.key(CURRENT_FILE)
    try:
        version = root.read_text(CURRENT_FILE).strip()
    except FileNotFoundError:
        raise NoStoreError(
            f"no published store at {root} (missing {current}); run 'bess ingest ROOT --store {root}'"
        ) from None
    except OSError as exc:
        raise StoreError(str(exc) if str(root) in str(exc) else f"store {root} cannot be read ({exc})") from None
    if not version:
        raise ManifestError(f"store {root}: {current} is empty; run 'bess ingest' to recover it")
    snap = Snapshot(root=root, version=version)
    if not root.cache_dir(version).is_dir():  # first look at this version: drop the cache of old ones
        try:
            if not root.exists(f"{snap.rel}/{MANIFEST_FILE}"):
                raise ManifestError(f"store {root} names version {version!r} but {snap.where(MANIFEST_FILE)} is "
                                    "missing; run 'bess ingest' to recover")
        except OSError as exc:
            raise StoreError(f"store {root} cannot be read ({exc})") from None
        try:
            root.cache_dir(version).mkdir(parents=True, exist_ok=True)
            keep = sorted((p.name for p in root.cache_dir(version).parent.iterdir()), reverse=True)[:CACHED_VERSIONS]
            prune_cache(root, set(keep) | {version})
        except OSError as exc:
            raise StoreError(f"the local cache {root.cache_dir(version).parent} of store {root} cannot be written "
                             f"({exc}); set {CACHE_ENV} to a writable folder") from None
    return snap
