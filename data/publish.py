"""Store safety: the ingest lock, staging folders, atomic publish of CURRENT, pruning old versions.

read_current, recover_current, clean_leftovers and prune_versions also take a RemoteStore
(data/fs.py) and then act on the object store (data/publish_remote.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from data.fs import RemoteStore
from data.manifest import fsync_dir
from data.store import CURRENT_FILE, MANIFEST_FILE, STAGING_DIR, VERSIONS_DIR, StoreError

try:  # syncfs(2) flushes one filesystem; os.sync() would flush all of them
    _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    _LIBC.syncfs.argtypes = [ctypes.c_int]
except (OSError, AttributeError):
    _LIBC = None

LOCK_FILE = ".ingest.lock"
KEEP_VERSIONS = 3  # readers holding an older Snapshot keep working for a few publishes
_VERSION_RE = re.compile(r"^(\d{6,})-")


class StoreLockedError(StoreError):
    """Another ingest holds the store lock."""


class StoreLock:
    """An exclusive, non-blocking flock on <store>/.ingest.lock; the OS drops it if we are killed."""

    def __init__(self, root: Path):
        self.path = root / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> StoreLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise StoreLockedError(
                    f"another ingest is running on store {self.path.parent} (lock {self.path} held by pid {holder}); "
                    "wait for it to finish"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def read_current(root: Path | RemoteStore) -> str | None:
    if isinstance(root, RemoteStore):
        from data import publish_remote
        return publish_remote.read_current(root)
    try:
        v = (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return v or None


def version_number(name: str) -> int:
    m = _VERSION_RE.match(name)
    return int(m.group(1)) if m else -1


def is_complete(version_dir: Path) -> bool:
    """A version is complete when its manifest (written last, before the rename) reads as JSON."""
    try:
        with open(version_dir / MANIFEST_FILE, encoding="utf-8") as fh:
            return isinstance(json.load(fh), dict)
    except (OSError, ValueError):
        return False


def recover_current(root: Path | RemoteStore) -> str | None:
    """Point a missing, empty or dangling CURRENT at the newest complete version; say so (None: nothing done).

    Runs under the lock, before clean_leftovers: without CURRENT every version would look
    unpublished, and clean-up must never delete a complete version.
    """
    if isinstance(root, RemoteStore):
        from data import publish_remote
        return publish_remote.recover_current(root)
    current = read_current(root)
    versions = root / VERSIONS_DIR
    if (current and is_complete(versions / current)) or not versions.is_dir():
        return None
    complete = sorted((p.name for p in versions.iterdir() if is_complete(p)), key=version_number)
    if not complete:
        return None
    newest = complete[-1]
    _write_current(root, newest)
    what = f"named {current!r}, which is missing or incomplete" if current else "was missing"
    return f"{CURRENT_FILE} {what}; recovered it from the newest complete version {newest}"


def clean_leftovers(root: Path | RemoteStore) -> list[str]:
    """Remove what a killed ingest left: staging folders, temp CURRENT files, unpublished versions.

    Runs under the lock. A version newer than CURRENT was renamed into place but never
    published (killed between the two steps); no reader can hold it. Without a CURRENT
    (see recover_current) only incomplete versions are removed.
    """
    if isinstance(root, RemoteStore):
        from data import publish_remote
        return publish_remote.clean_leftovers(root)
    removed = []
    staging = root / STAGING_DIR
    if staging.exists():
        for p in staging.iterdir():
            _remove(p)
            removed.append(str(p))
    for p in root.glob(CURRENT_FILE + ".tmp*"):
        p.unlink(missing_ok=True)
        removed.append(str(p))
    current = read_current(root)
    cur_n = version_number(current) if current else -1
    versions = root / VERSIONS_DIR
    if versions.exists():
        for p in versions.iterdir():
            if current is None and is_complete(p):
                continue
            if p.name != current and version_number(p.name) > cur_n:
                _remove(p)
                removed.append(str(p))
    return removed


def new_version_name(root: Path, now: datetime) -> str:
    names = [p.name for d in (VERSIONS_DIR, STAGING_DIR) if (root / d).exists() for p in (root / d).iterdir()]
    n = max((version_number(x) for x in names), default=0) + 1
    return f"{max(n, 1):06d}-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def staging_dir(root: Path, version: str) -> Path:
    d = root / STAGING_DIR / version
    d.mkdir(parents=True, exist_ok=False)
    return d


def link_or_copy(src: Path, dst: Path) -> None:
    """Reuse an unchanged output: a hard link shares the bytes; copy if links are unsupported."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def publish(root: Path, staged: Path, version: str) -> None:
    """Move a complete staged version into versions/ and point CURRENT at it, atomically."""
    sync_filesystem(staged)
    _fsync_tree(staged)
    versions = root / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    target = versions / version
    os.rename(staged, target)
    fsync_dir(versions)
    fsync_dir(staged.parent)
    _write_current(root, version)


def _write_current(root: Path, version: str) -> None:
    tmp = root / f"{CURRENT_FILE}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / CURRENT_FILE)  # the single atomic step readers see
    fsync_dir(root)


def prune_versions(root: Path | RemoteStore, keep: int = KEEP_VERSIONS) -> list[str]:
    """Delete all but the newest ``keep`` versions (never the one CURRENT names)."""
    if isinstance(root, RemoteStore):
        from data import publish_remote
        return publish_remote.prune_versions(root, keep)
    current = read_current(root)
    versions = root / VERSIONS_DIR
    if not versions.exists():
        return []
    names = sorted((p.name for p in versions.iterdir()), key=version_number, reverse=True)
    removed = []
    for name in names[keep:]:
        if name != current:
            _remove(versions / name)
            removed.append(name)
    return removed


def sync_filesystem(path: Path) -> None:
    """Flush every written file of the filesystem holding ``path`` to disk (one call, not one per file)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC is not None and _LIBC.syncfs(fd) == 0:
            return
    finally:
        os.close(fd)
    os.sync()


def _fsync_tree(top: Path) -> None:
    """Files are fsynced as they are written; the folders holding them need it too."""
    for dirpath, _dirs, _files in os.walk(top, topdown=False):
        fsync_dir(Path(dirpath))


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
