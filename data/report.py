"""The ingest report: what was read, what was dropped and why, what was published."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from data.manifest import write_json_durably
from data.store import REPORTS_DIR

MAX_TEXT_ISSUES = 40

EXIT_OK = 0
EXIT_NOTHING_INGESTED = 1
EXIT_STORE_ERROR = 2


@dataclass(frozen=True)
class FileIssue:
    """A file that could not be read at all (fatal) or lost some rows (the reason says which)."""

    path: str
    reason: str
    fatal: bool


@dataclass(frozen=True)
class IngestReport:
    started_utc: str
    duration_s: float
    roots: tuple[str, ...]
    store: str
    published_version: str | None  # None: nothing published (unchanged input, or an error)
    current_version: str | None  # what CURRENT names after this run
    files_seen: int
    files_ingested: int  # files that contributed rows to the store (rebuilt or unchanged)
    files_unchanged: int
    rows_read: int
    rows_kept: int
    rows_dropped: tuple[tuple[str, int], ...]  # (reason, rows), whole store
    file_issues: tuple[FileIssue, ...]
    units_built: tuple[str, ...]  # "system/signal" rebuilt in this run
    units_unchanged: int
    units_removed: tuple[str, ...]  # in the previous version, no longer in the input
    systems_updated: tuple[str, ...]
    error: str | None = None
    report_path: str | None = None
    # "system/signal: why": could not be read this run, the previous version's data is kept
    units_kept: tuple[str, ...] = ()
    store_notes: tuple[str, ...] = ()  # e.g. CURRENT recovered, a root allowed to be missing

    @property
    def exit_code(self) -> int:
        """Non-zero only when the store could not be written or nothing could be ingested."""
        if self.error:
            return EXIT_STORE_ERROR
        return EXIT_OK if self.files_ingested else EXIT_NOTHING_INGESTED

    def to_json(self) -> dict:
        d = asdict(self)
        d["rows_dropped"] = dict(self.rows_dropped)
        d["exit_code"] = self.exit_code
        return d

    def format_text(self) -> str:
        if self.error:
            lines = [f"ingest failed: {self.error}"]
        elif self.published_version:
            lines = [f"published version {self.published_version} to {self.store}"]
        else:
            lines = [f"store {self.store} unchanged (version {self.current_version}): no source file changed"]
        lines.append(
            f"files: {self.files_ingested} ingested of {self.files_seen} found "
            f"({self.files_unchanged} unchanged), {sum(1 for i in self.file_issues if i.fatal)} unreadable; "
            f"rows: {self.rows_kept:,} kept of {self.rows_read:,} read; {self.duration_s:.1f} s"
        )
        if self.rows_dropped:
            lines.append("rows dropped: " + ", ".join(f"{k} {v:,}" for k, v in self.rows_dropped))
        if self.units_built:
            lines.append(f"rebuilt {len(self.units_built)} signal(s) in {len(self.systems_updated)} system(s): "
                         + ", ".join(self.systems_updated) + f"; {self.units_unchanged} unchanged")
        for note in self.store_notes:
            lines.append(f"note: {note}")
        if self.units_removed:
            lines.append("removed (no longer in the input): " + ", ".join(self.units_removed))
        if self.units_kept:
            lines.append(f"kept the last good data of {len(self.units_kept)} signal(s) that could not be read:")
            lines.extend(f"  {k}" for k in self.units_kept[:MAX_TEXT_ISSUES])
        if self.file_issues:
            lines.append(f"{len(self.file_issues)} file(s) with problems:")
            for i in self.file_issues[:MAX_TEXT_ISSUES]:
                lines.append(f"  {'ERROR' if i.fatal else 'warn '} {i.path}: {i.reason}")
            if len(self.file_issues) > MAX_TEXT_ISSUES:
                lines.append(f"  ... and {len(self.file_issues) - MAX_TEXT_ISSUES} more in the JSON report")
        if self.report_path:
            lines.append(f"report: {self.report_path}")
        return "\n".join(lines)


def save_report(root: Path, report: IngestReport, stamp: str) -> Path:
    """Write reports/ingest-<UTC>.json and reports/latest.json; returns the first path."""
    d = root / REPORTS_DIR
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"ingest-{stamp}.json"
    n = 1
    while path.exists():  # two runs within one second keep both reports
        n += 1
        path = d / f"ingest-{stamp}-{n}.json"
    data = {**report.to_json(), "report_path": str(path)}
    write_json_durably(path, data)
    write_json_durably(d / "latest.json", data)
    return path


def load_latest(root: Path) -> dict:
    with open(root / REPORTS_DIR / "latest.json", encoding="utf-8") as fh:
        return json.load(fh)
