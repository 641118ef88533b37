"""Check a published version against its manifest: every file present, intact and readable."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from data.manifest import units_of
from data.parquet_out import sha256_file
from data.store import MANIFEST_FILE, Snapshot


def verify_snapshot(snapshot: Snapshot) -> list[str]:
    """Problems found (empty when the version is intact): missing, resized, corrupted or stray files."""
    try:
        manifest = snapshot.manifest()
    except (OSError, ValueError) as exc:
        return [f"{snapshot.path / MANIFEST_FILE}: manifest unreadable: {exc}"]
    units = units_of(manifest)
    if not units and manifest.get("systems"):
        return [f"{snapshot.path / MANIFEST_FILE}: unknown manifest_version {manifest.get('manifest_version')!r}"]
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
