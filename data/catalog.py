"""The typed catalog of a store version: the only reader of its manifest.json.

Everything the platform knows about a published version without opening a Parquet
file comes from here: systems and their kinds, signals with units, levels, packs
and cells, time ranges, per-file problems and the checksums of every output.
The ingest writes the manifest (data/manifest.py); every other module reads it
through :func:`read_catalog` (or ``Snapshot.catalog()``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from data.glossary import CELL_GROUPS, LEVELS, SystemKind, spec_for, system_kind
from data.manifest import MANIFEST_VERSION, UnitRecord, unit_from_json

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class TimeSpan:
    """Half-open UTC span [start, end) of a system's samples."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class FileProblem:
    """A problem the ingest recorded for one source file (``fatal``: the file gave no rows)."""

    path: str
    message: str
    fatal: bool


@dataclass(frozen=True)
class SystemEntry:
    """One system of a version: its kind, folder and units (scalar signals and cell groups)."""

    id: str
    kind: SystemKind
    folder: str
    units: dict[str, UnitRecord]  # by unit name, sorted

    @property
    def signals(self) -> tuple[UnitRecord, ...]:
        """Scalar signals (not cell groups), by name."""
        return tuple(u for name, u in sorted(self.units.items()) if u.cell_group is None)

    @property
    def levels(self) -> tuple[str, ...]:
        """Pyramid levels written for at least one unit, finest first."""
        return tuple(lv for lv in LEVELS if any(lv in u.outputs for u in self.units.values()))

    @property
    def time_span(self) -> TimeSpan | None:
        """From the earliest row to just after the latest row of any unit and level.

        Level rows are bin starts, so the span opens at the first ``1d`` bin (local midnight),
        which may precede the first sample.
        """
        lo = hi = None
        for u in self.units.values():
            for w in u.outputs.values():
                if w.ts_min and (lo is None or w.ts_min < lo):
                    lo = w.ts_min
                if w.ts_max and (hi is None or w.ts_max > hi):
                    hi = w.ts_max
        if not (lo and hi):
            return None
        # ts_max is the last sample; the half-open range ends just after it.
        return TimeSpan(parse_utc(lo), parse_utc(hi) + timedelta(milliseconds=1))

    @property
    def packs(self) -> int:
        """Highest pack number with cell-voltage data (0 without cells)."""
        return max((p for p, _ in self.cells("cell_v")), default=0)

    @property
    def cells_per_pack(self) -> int:
        """Highest cell number within a pack with cell-voltage data (0 without cells)."""
        return max((c for _, c in self.cells("cell_v")), default=0)

    def cells(self, group: str) -> tuple[tuple[int, int], ...]:
        """(pack, cell) pairs, 1-based and sorted, of the group's files that kept rows."""
        if group not in CELL_GROUPS:
            raise ValueError(f"group must be one of {sorted(CELL_GROUPS)}, got {group!r}")
        unit = self.units.get(group)
        if unit is None or not unit.outputs:
            return ()
        pairs = set()
        for s in unit.sources:
            spec = spec_for(s.signal)
            if s.rows_kept > 0 and spec.pack and spec.cell:
                pairs.add((spec.pack, spec.cell))
        return tuple(sorted(pairs))

    @property
    def problems(self) -> tuple[FileProblem, ...]:
        """Files that gave no rows or lost some, in unit then file order."""
        out = []
        for _, u in sorted(self.units.items()):
            for s in u.sources:
                if s.fatal:
                    out.append(FileProblem(s.path, s.fatal, True))
                elif s.problems:
                    out.append(FileProblem(s.path, "; ".join(s.problems), False))
        return tuple(out)


@dataclass(frozen=True)
class Catalog:
    """A published (or staged) version as typed records."""

    version: str
    previous_version: str | None
    created_utc: str
    manifest_version: int
    pipeline_version: int
    roots: tuple[str, ...]
    systems: tuple[SystemEntry, ...]  # by id

    def system(self, system_id: str) -> SystemEntry | None:
        return next((s for s in self.systems if s.id == system_id), None)

    def units(self) -> dict[tuple[str, str], UnitRecord]:
        """Every unit record, keyed by (system id, unit name)."""
        return {(s.id, name): u for s in self.systems for name, u in s.units.items()}

    def outputs(self) -> dict[str, tuple[str, int]]:
        """relpath -> (sha256, size in bytes) of every file the version lists."""
        return {w.relpath: (w.sha256, w.size_bytes)
                for s in self.systems for u in s.units.values() for w in u.outputs.values()}


def catalog_from_manifest(manifest: dict, source: str = "manifest") -> Catalog:
    """Typed catalog of a manifest dict; ``source`` names it in errors."""
    if manifest.get("manifest_version") != MANIFEST_VERSION:
        raise ValueError(f"{source}: manifest_version {manifest.get('manifest_version')!r} is not "
                         f"{MANIFEST_VERSION}; run 'bess ingest' again to rebuild the store")
    systems = []
    for sid, sd in sorted((manifest.get("systems") or {}).items()):
        kind = SystemKind(sd["kind"]) if sd.get("kind") else system_kind(sid, False)
        units = {name: unit_from_json(sid, name, ud) for name, ud in sorted((sd.get("units") or {}).items())}
        systems.append(SystemEntry(sid, kind, sd.get("folder", ""), units))
    return Catalog(
        version=manifest.get("version", ""),
        previous_version=manifest.get("previous_version"),
        created_utc=manifest.get("created_utc", ""),
        manifest_version=manifest["manifest_version"],
        pipeline_version=manifest.get("pipeline_version", 0),
        roots=tuple(manifest.get("roots") or ()),
        systems=tuple(systems),
    )


def read_catalog(version_dir: str | Path) -> Catalog:
    """The catalog of the version folder ``version_dir`` (cached: published versions are immutable)."""
    path = Path(version_dir) / MANIFEST_FILE
    st = path.stat()
    return _read_cached(str(path), st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _read_cached(path: str, _ino: int, _size: int, _mtime_ns: int) -> Catalog:
    with open(path, encoding="utf-8") as fh:
        manifest = json.load(fh)
    return catalog_from_manifest(manifest, path)


def read_remote_catalog(store, rel: str) -> Catalog:
    """The catalog of the manifest object ``rel`` of a RemoteStore (data/fs.py), cached by its ETag."""
    info = store.info(rel)
    tag = str(info.get("ETag") or info.get("etag") or info.get("mtime") or "")
    return _read_remote_cached(store, rel, tag, int(info.get("size") or 0))


@functools.lru_cache(maxsize=16)
def _read_remote_cached(store, rel: str, _tag: str, _size: int) -> Catalog:
    return catalog_from_manifest(json.loads(store.read_bytes(rel)), store.key(rel))


def parse_utc(text: str) -> datetime:
    """An ISO UTC timestamp of the manifest ('...Z') as an aware datetime."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
