"""Find systems and their per-signal CSV files under one or more export roots."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from data.glossary import SystemKind, signal_from_stem, spec_for, system_kind
from data.names import name_problem, normalise_cell

# Plain CSV, and the compressed exports users have: gzip, and a zip holding one CSV.
CSV_SUFFIXES = (".csv", ".csv.gz", ".zip")


class RootError(ValueError):
    """An export root given on the command line does not exist or is not a folder."""


@dataclass(frozen=True)
class SourceFile:
    """One CSV file of one signal, as found on disk."""

    path: Path
    signal: str
    size_bytes: int
    mtime_ns: int


@dataclass(frozen=True)
class Unit:
    """What is built and published together: one scalar signal, or one cell group of a system.

    Each unit is independent of every other, so a distributed engine could map over them.
    """

    system_id: str
    name: str  # signal name, or "cell_v" / "cell_t"
    cell_group: str | None
    sources: tuple[SourceFile, ...]  # sorted by (signal, path): this order decides duplicates


@dataclass(frozen=True)
class SystemSources:
    system_id: str
    kind: SystemKind
    folder: Path
    units: tuple[Unit, ...]


@dataclass(frozen=True)
class Discovery:
    systems: tuple[SystemSources, ...]
    problems: tuple[tuple[str, str], ...] = field(default=())  # (path, reason): not read at all
    notes: tuple[tuple[str, str], ...] = field(default=())  # (path, reason): read, with a warning
    # Files and folders that exist but could not be read: their last good data is kept.
    unreadable: tuple[str, ...] = field(default=())
    empty_roots: tuple[str, ...] = field(default=())  # roots without a single CSV file below them

    @property
    def units(self) -> tuple[Unit, ...]:
        return tuple(u for s in self.systems for u in s.units)


def split_roots(roots: list[str | os.PathLike]) -> list[Path]:
    """Roots as paths; an entry may hold several comma-separated roots."""
    out: list[Path] = []
    for r in roots:
        parts = str(r).split(",") if isinstance(r, str) else [os.fspath(r)]
        out.extend(Path(p) for p in parts if p.strip())
    return out


def check_roots(roots: list[Path], allow_missing: bool = False) -> list[str]:
    """Raise RootError naming every missing root: a silently skipped root would drop its systems.

    With ``allow_missing`` (``--allow-removal``) missing roots are returned instead, to be reported.
    """
    bad = [f"{r} ({'not a folder' if r.exists() else 'does not exist'})" for r in roots if not r.is_dir()]
    if not roots:
        raise RootError("no export root given")
    if bad and not allow_missing:
        raise RootError("export root(s) not usable: " + "; ".join(bad)
                        + "; pass --allow-removal if the systems under it are meant to be removed")
    return bad


def source_stem(name: str) -> str:
    """File name without its export suffix: ``com_ap.csv.gz`` and ``com_ap.zip`` -> ``com_ap``."""
    low = name.lower()
    for suffix in sorted(CSV_SUFFIXES, key=len, reverse=True):
        if low.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name[:-4] if name.lower().endswith(".csv") else name


def discover(roots: list[Path]) -> Discovery:
    """Walk the roots (symlinks followed, loops cut) and group CSV files into systems and units."""
    problems: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []
    unreadable: list[str] = []
    empty_roots: list[str] = []
    found: dict[str, tuple[Path, bool, list[SourceFile]]] = {}
    spelled: dict[tuple[str, str], list[tuple[str, Path]]] = {}  # (system, canonical cell) -> (as named, file)
    for root in roots:
        if not root.is_dir():
            continue  # missing roots were checked (and allowed) by check_roots
        n_before = len(problems)
        any_file = False
        for folder, under_bess, files in _walk(root.resolve(), problems, unreadable):
            any_file = True
            sid = folder.name
            bad_id = name_problem(sid, "system id")
            if bad_id:
                problems.append((str(folder), f"{bad_id}; its {len(files)} file(s) skipped"))
                continue
            if sid in found and found[sid][0] != folder:
                problems.append((str(folder), f"system id {sid!r} also found at {found[sid][0]}; skipped"))
                continue
            entry = found.setdefault(sid, (folder, under_bess, []))
            for p in files:
                try:
                    st = p.stat()
                except OSError as exc:
                    problems.append((str(p), f"cannot stat: {exc.strerror or exc}"))
                    unreadable.append(str(p))
                    continue
                if not os.access(p, os.R_OK):
                    problems.append((str(p), "not readable (permission denied)"))
                    unreadable.append(str(p))
                    continue
                named = signal_from_stem(source_stem(p.name), sid)
                signal, bad = normalise_cell(named)
                bad = bad or name_problem(signal, "signal name")
                if bad:
                    problems.append((str(p), f"{bad}; file skipped"))
                    continue
                if spec_for(signal).cell_group:
                    spelled.setdefault((sid, signal), []).append((named, p))
                entry[2].append(SourceFile(p, signal, st.st_size, st.st_mtime_ns))
        if not any_file and len(problems) == n_before:
            empty_roots.append(str(root))
    for (sid, signal), named in spelled.items():
        if len({n for n, _ in named}) > 1:  # two spellings of one cell, e.g. p1_v1 and p01_v001
            paths = sorted(p for _, p in named)
            names = ", ".join(p.name for p in paths)
            for p in paths:
                notes.append((str(p), f"{names} all name cell {signal} (indices are read as numbers: "
                                      "p01_v001 is p1_v1); their rows are merged by the duplicate rule"))
    systems = []
    for sid in sorted(found):
        folder, under_bess, files = found[sid]
        systems.append(SystemSources(sid, system_kind(sid, under_bess), folder, _units(sid, files)))
    return Discovery(tuple(systems), tuple(problems), tuple(sorted(notes)), tuple(unreadable), tuple(empty_roots))



def _units(system_id: str, files: list[SourceFile]) -> tuple[Unit, ...]:
    by_unit: dict[str, list[SourceFile]] = {}
    groups: dict[str, str | None] = {}
    for f in files:
        group = spec_for(f.signal).cell_group
        name = group or f.signal
        groups[name] = group
        by_unit.setdefault(name, []).append(f)
    return tuple(
        Unit(system_id, name, groups[name], tuple(sorted(by_unit[name], key=lambda f: (f.signal, str(f.path)))))
        for name in sorted(by_unit)
    )


def _walk(root: Path, problems: list[tuple[str, str]], unreadable: list[str]):
    """Yield (folder, under_bess, csv_files) for folders holding CSV files; never loops."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, bool]] = [(root, root.name.upper() == "BESS")]
    while stack:
        folder, under_bess = stack.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            problems.append((str(folder), f"cannot read folder: {exc.strerror or exc}"))
            unreadable.append(str(folder))
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink back up the tree
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append((str(folder), f"cannot list folder: {exc.strerror or exc}"))
            unreadable.append(str(folder))
            continue
        files, subdirs = [], []
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir():
                    subdirs.append(Path(e.path))
                elif e.is_file() and e.name.lower().endswith(CSV_SUFFIXES):
                    files.append(Path(e.path))
                elif e.is_symlink() and e.name.lower().endswith(CSV_SUFFIXES) and not os.path.exists(e.path):
                    problems.append((e.path, "broken symbolic link"))
                elif e.name.lower().endswith(CSV_SUFFIXES):
                    problems.append((e.path, "not a regular file (FIFO, socket or device); skipped"))
            except OSError as exc:
                problems.append((e.path, f"cannot stat: {exc.strerror or exc}"))
                unreadable.append(e.path)
        if files:
            yield folder, under_bess, files
        for d in reversed(subdirs):
            stack.append((d, under_bess or d.name.upper() == "BESS"))
