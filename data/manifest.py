"""The manifest.json of a store version: what was read from where, and what was written.

Schema (``manifest_version`` 1)::

    {
      "manifest_version": 1,
      "pipeline_version": 1,            # bumped when parsing/aggregation changes: forces a rebuild
      "version": "000002-20250101T120000Z",
      "previous_version": "000001-..." | null,
      "created_utc": "2025-01-01T12:00:00Z",
      "roots": ["/abs/export/root", ...],
      "systems": {
        "<system_id>": {
          "kind": "meter" | "bess",
          "folder": "/abs/path/of/system/folder",
          "units": {                    # a scalar signal, or a cell group ("cell_v", "cell_t")
            "<unit>": {
              "cell_group": null | "cell_v" | "cell_t",
              "unit": "kW", "aggregation": "mean",
              "key": "<sha256 of pipeline version + file names + content hashes>",
              "built_in": "<version that computed these outputs>",
              "rows": 1234,             # raw rows kept after cleaning
              "dropped": {"duplicate_exact": 2, "duplicate_conflict": 1},
              "sources": [{
                "path": "/abs/.../com_ap.csv", "name": "com_ap.csv", "signal": "com_ap",
                "size_bytes": 1, "mtime_ns": 1, "sha256": "<hex of the whole file>",
                "rows_read": 10, "rows_kept": 9,
                "dropped": {"null_value": 1}, "problems": ["..."], "fatal": null | "why no rows"
              }],
              "outputs": {"<level>": {"relpath": "systems/m1/raw/com_ap.parquet", "rows": 9,
                          "ts_min": "2024-...Z", "ts_max": "2024-...Z",
                          "sha256": "<hex>", "size_bytes": 1}}
            }}}}
    }
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from data.parquet_out import WrittenFile

MANIFEST_VERSION = 1
PIPELINE_VERSION = 2  # 2: levels from raw samples in one kernel pass, full row groups, value dictionaries


@dataclass(frozen=True)
class SourceRecord:
    path: str
    name: str
    signal: str
    size_bytes: int
    mtime_ns: int
    sha256: str
    rows_read: int
    rows_kept: int
    dropped: dict[str, int]
    problems: tuple[str, ...]
    fatal: str | None


@dataclass(frozen=True)
class UnitRecord:
    system_id: str
    name: str
    cell_group: str | None
    unit: str
    aggregation: str
    key: str
    built_in: str
    rows: int
    dropped: dict[str, int]
    sources: tuple[SourceRecord, ...]
    outputs: dict[str, WrittenFile]


def unit_key(name: str, files: list[tuple[str, str, str]]) -> str:
    """Key of a unit from (signal, file name, content hash) of its sources.

    File names, not absolute paths: moving the export root does not force a rebuild.
    """
    h = hashlib.sha256(f"pipeline={PIPELINE_VERSION};unit={name}".encode())
    for signal, fname, digest in sorted(files):
        h.update(f"\n{signal}\t{fname}\t{digest}".encode())
    return h.hexdigest()


def unit_to_json(u: UnitRecord) -> dict:
    return {
        "cell_group": u.cell_group,
        "unit": u.unit,
        "aggregation": u.aggregation,
        "key": u.key,
        "built_in": u.built_in,
        "rows": u.rows,
        "dropped": dict(sorted(u.dropped.items())),
        "sources": [{**asdict(s), "problems": list(s.problems)} for s in u.sources],
        "outputs": {lvl: {k: v for k, v in asdict(w).items() if k != "level"} for lvl, w in u.outputs.items()},
    }


def unit_from_json(system_id: str, name: str, d: dict) -> UnitRecord:
    return UnitRecord(
        system_id=system_id,
        name=name,
        cell_group=d["cell_group"],
        unit=d["unit"],
        aggregation=d["aggregation"],
        key=d["key"],
        built_in=d["built_in"],
        rows=d["rows"],
        dropped=dict(d["dropped"]),
        sources=tuple(SourceRecord(**{**s, "problems": tuple(s["problems"])}) for s in d["sources"]),
        outputs={lvl: WrittenFile(level=lvl, **w) for lvl, w in d["outputs"].items()},
    )


def build_manifest(*, version: str, previous: str | None, created_utc: str, roots: list[str],
                   systems: dict[str, tuple[str, str]], units: list[UnitRecord]) -> dict:
    """The manifest dict; ``systems`` maps id -> (kind, folder)."""
    out: dict = {
        "manifest_version": MANIFEST_VERSION,
        "pipeline_version": PIPELINE_VERSION,
        "version": version,
        "previous_version": previous,
        "created_utc": created_utc,
        "roots": roots,
        "systems": {},
    }
    for sid in sorted(systems):
        kind, folder = systems[sid]
        out["systems"][sid] = {"kind": kind, "folder": folder, "units": {}}
    for u in sorted(units, key=lambda u: (u.system_id, u.name)):
        out["systems"][u.system_id]["units"][u.name] = unit_to_json(u)
    return out


def units_of(manifest: dict) -> dict[tuple[str, str], UnitRecord]:
    """All unit records of a manifest, keyed by (system id, unit name)."""
    if manifest.get("manifest_version") != MANIFEST_VERSION:
        return {}  # an unknown manifest format is never reused: everything is rebuilt
    return {
        (sid, name): unit_from_json(sid, name, ud)
        for sid, sd in manifest["systems"].items()
        for name, ud in sd["units"].items()
    }


def write_json_durably(path: Path, data: dict) -> None:
    """Write JSON via a temp file, fsync, then rename: never a half-written file at ``path``."""
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
