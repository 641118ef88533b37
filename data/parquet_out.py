"""Write pyramid levels as zstd Parquet with row-group statistics, fsynced, with their checksums."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

# Rows per row group: a 5-min year of one signal is ~105k rows, so a month-sized range
# touches one or two row groups; cell files start a new row group at every cell.
ROW_GROUP_ROWS = 65_536
ZSTD_LEVEL = 3


@dataclass(frozen=True)
class WrittenFile:
    """One Parquet file in a version folder, as recorded in the manifest."""

    relpath: str
    level: str
    rows: int
    ts_min: str | None  # ISO-8601 UTC, e.g. "2024-03-31T00:00:00.000Z"
    ts_max: str | None
    sha256: str
    size_bytes: int


def iso_ms(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class LevelWriter:
    """Appends frames (one cell, or the whole signal) to one Parquet file of one level."""

    def __init__(self, version_dir: Path, relpath: str, level: str, sort_keys: tuple[str, ...]):
        self.version_dir, self.relpath, self.level, self.sort_keys = version_dir, relpath, level, sort_keys
        self.path = version_dir / relpath
        self._writer: pq.ParquetWriter | None = None
        self._rows = 0
        self._ts_min: int | None = None
        self._ts_max: int | None = None

    def append(self, df: pl.DataFrame) -> None:
        if df.height == 0:
            return
        table = df.to_arrow()
        if self._writer is None:
            schema_check(table)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            names = table.schema.names
            self._writer = pq.ParquetWriter(
                self.path, table.schema, compression="zstd", compression_level=ZSTD_LEVEL,
                write_statistics=True,
                # Sorted ms timestamps delta-encode to a few bits per row; pack/cell/count
                # repeat, so dictionaries suit them; float values compress best plain.
                use_dictionary=[c for c in ("pack", "cell", "count") if c in names],
                column_encoding={"ts": "DELTA_BINARY_PACKED"},
                sorting_columns=[pq.SortingColumn(names.index(k)) for k in self.sort_keys],
            )
        self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self._rows += df.height
        ts = df["ts"].dt.epoch("ms")
        lo, hi = ts.min(), ts.max()
        self._ts_min = lo if self._ts_min is None else min(self._ts_min, lo)
        self._ts_max = hi if self._ts_max is None else max(self._ts_max, hi)

    def close(self) -> WrittenFile | None:
        """Finish the file, fsync it and return its manifest entry (None if nothing was written)."""
        if self._writer is None:
            return None
        self._writer.close()
        digest, size = sha256_and_fsync(self.path)
        return WrittenFile(self.relpath, self.level, self._rows, iso_ms(self._ts_min), iso_ms(self._ts_max),
                           digest, size)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def sha256_and_fsync(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb+") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
        os.fsync(fh.fileno())
    return h.hexdigest(), size


def schema_check(table: pa.Table) -> None:
    """Guard the store contract: ts must be ms UTC (readers filter on it)."""
    if table.schema.field("ts").type != pa.timestamp("ms", tz="UTC"):
        raise TypeError(f"ts column must be timestamp[ms, UTC], got {table.schema.field('ts').type}")
