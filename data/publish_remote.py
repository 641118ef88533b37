"""Publish, recover, clean and prune versions of a store on an object store (the remote half of data/publish.py).

An object store has no rename, so a version is uploaded in place under ``versions/<version>/``:
its data files first, its manifest next (a version is complete only with it), and ``CURRENT``
last, in one PUT, which is atomic on S3. Readers go through ``CURRENT`` only, so a version
whose upload was killed is never seen; the next ingest removes it (it is newer than CURRENT).
"""

from __future__ import annotations

import json
from pathlib import Path

from data.catalog import MANIFEST_FILE, catalog_from_manifest
from data.fs import RemoteStore
from data.publish import KEEP_VERSIONS, version_number
from data.store import CURRENT_FILE, STAGING_DIR, VERSIONS_DIR


def read_current(store: RemoteStore) -> str | None:
    try:
        v = store.read_text(CURRENT_FILE).strip()
    except FileNotFoundError:
        return None
    return v or None


def is_complete(store: RemoteStore, version: str) -> bool:
    """Complete: its manifest (uploaded after every data file) reads as a JSON object."""
    try:
        return isinstance(json.loads(store.read_bytes(f"{VERSIONS_DIR}/{version}/{MANIFEST_FILE}")), dict)
    except (OSError, ValueError):
        return False


def write_current(store: RemoteStore, version: str) -> None:
    store.write_bytes(CURRENT_FILE, (version + "\n").encode())  # the single atomic step readers see


def recover_current(store: RemoteStore) -> str | None:
    """Point a missing, empty or dangling CURRENT at the newest complete version (None: nothing done)."""
    current = read_current(store)
    if current and is_complete(store, current):
        return None
    complete = sorted((v for v in store.names(VERSIONS_DIR) if is_complete(store, v)), key=version_number)
    if not complete:
        return None
    write_current(store, complete[-1])
    what = f"named {current!r}, which is missing or incomplete" if current else "was missing"
    return f"{CURRENT_FILE} {what}; recovered it from the newest complete version {complete[-1]}"


def clean_leftovers(store: RemoteStore) -> list[str]:
    """Remove what a killed ingest left: versions newer than CURRENT (never published), staging objects.

    Without a CURRENT (see recover_current) only incomplete versions are removed.
    """
    removed = []
    for name in store.names(STAGING_DIR):
        store.remove(f"{STAGING_DIR}/{name}")
        removed.append(store.key(f"{STAGING_DIR}/{name}"))
    current = read_current(store)
    cur_n = version_number(current) if current else -1
    for name in store.names(VERSIONS_DIR):
        if current is None and is_complete(store, name):
            continue
        if name != current and version_number(name) > cur_n:
            store.remove(f"{VERSIONS_DIR}/{name}")
            removed.append(store.key(f"{VERSIONS_DIR}/{name}"))
    return removed


def prune_versions(store: RemoteStore, keep: int = KEEP_VERSIONS) -> list[str]:
    """Delete all but the newest ``keep`` versions (never the one CURRENT names)."""
    current = read_current(store)
    names = sorted(store.names(VERSIONS_DIR), key=version_number, reverse=True)
    removed = []
    for name in names[keep:]:
        if name != current:
            store.remove(f"{VERSIONS_DIR}/{name}")
            removed.append(name)
    return removed


def upload_version(store: RemoteStore, version_dir: Path, version: str, previous: str | None,
                   before_publish=lambda: None) -> None:
    """Upload a complete local version folder as ``versions/<version>/`` and point CURRENT at it.

    Outputs identical to the previous version's (same path, size and sha256) are copied on the
    server. ``before_publish`` runs after the upload and before CURRENT is written (the lock check).
    """
    manifest = json.loads((version_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    outputs = catalog_from_manifest(manifest, str(version_dir / MANIFEST_FILE)).outputs()
    prev_outputs = {}
    if previous:
        try:
            prev_manifest = json.loads(store.read_bytes(f"{VERSIONS_DIR}/{previous}/{MANIFEST_FILE}"))
            prev_outputs = catalog_from_manifest(prev_manifest).outputs()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            prev_outputs = {}  # unreadable: upload everything
    target = f"{VERSIONS_DIR}/{version}"
    copies, uploads = [], []
    for rel, sha_size in sorted(outputs.items()):
        if prev_outputs.get(rel) == sha_size:
            copies.append((f"{VERSIONS_DIR}/{previous}/{rel}", f"{target}/{rel}"))
        else:
            uploads.append((version_dir / rel, f"{target}/{rel}"))
    store.copy_objects(copies)
    store.put_files(uploads)
    store.put_files([(version_dir / MANIFEST_FILE, f"{target}/{MANIFEST_FILE}")])  # complete from here on
    before_publish()
    write_current(store, version)
