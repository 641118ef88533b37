"""Write pyramid levels as zstd Parquet with row-group statistics, with their checksums."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Rows per row group: a 5-min year of one signal is ~105k rows, so a month-sized range
# touches one or two row groups; cell files start a new row group at every cell.
ROW_GROUP_ROWS = 65_536
ZSTD_LEVEL = 3
DICTIONARY_PAGE_BYTES = 16 << 10


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
    """Appends Arrow tables (many cells, or the whole signal) to one Parquet file of one level.

    Rows are written in row groups of exactly ROW_GROUP_ROWS (the last one shorter); a
    remainder waits for the next append: thousands of tiny row groups cost more to read
    than they prune.
    """

    def __init__(self, version_dir: Path, relpath: str, level: str, sort_keys: tuple[str, ...]):
        self.version_dir, self.relpath, self.level, self.sort_keys = version_dir, relpath, level, sort_keys
        self.path = version_dir / relpath
        self._writer: pq.ParquetWriter | None = None
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._rows = 0
        self._ts_min: int | None = None
        self._ts_max: int | None = None

    def append(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        schema_check(table)
        ts = table.column("ts")
        lo, hi = pc.min_max(ts).values()
        lo, hi = lo.value, hi.value
        self._ts_min = lo if self._ts_min is None else min(self._ts_min, lo)
        self._ts_max = hi if self._ts_max is None else max(self._ts_max, hi)
        self._rows += table.num_rows
        self._buffer.append(table)
        self._buffered += table.num_rows
        if self._buffered >= ROW_GROUP_ROWS:
            self._flush(whole_groups=True)

    def _flush(self, whole_groups: bool = False) -> None:
        if not self._buffer:
            return
        # One chunk per column: the writer is ~8x slower on many small chunks.
        table = pa.concat_tables(self._buffer).combine_chunks() if len(self._buffer) > 1 else self._buffer[0]
        n = table.num_rows - table.num_rows % ROW_GROUP_ROWS if whole_groups else table.num_rows
        rest = table.slice(n)
        self._buffer, self._buffered = ([rest], rest.num_rows) if rest.num_rows else ([], 0)
        table = table.slice(0, n)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            names = table.schema.names
            self._writer = pq.ParquetWriter(
                self.path, table.schema, compression="zstd", compression_level=ZSTD_LEVEL,
                write_statistics=True,
                # Sorted ms timestamps delta-encode to a few bits per row; pack/cell/count
                # repeat in long runs that zstd alone shrinks fastest. Sensor values repeat
                # (a cell voltage has ~1,000 distinct mV readings): a dictionary makes them
                # smaller and the write faster; a small dictionary page limit falls back to
                # plain early for values that do not repeat (means of many samples).
                use_dictionary=[c for c in ("value", "min", "max") if c in names],
                dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES,
                column_encoding={"ts": "DELTA_BINARY_PACKED"},
                sorting_columns=[pq.SortingColumn(names.index(k)) for k in self.sort_keys],
            )
        self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)

    def close(self) -> WrittenFile | None:
        """Finish the file and return its manifest entry (None if nothing was written).

        Durability comes from one filesystem sync before publishing (see data/publish.py),
        not an fsync per file: hundreds of fsyncs would dominate a small ingest.
        """
        self._flush()
        if self._writer is None:
            return None
        self._writer.close()
        return WrittenFile(self.relpath, self.level, self._rows, iso_ms(self._ts_min), iso_ms(self._ts_max),
                           sha256_file(self.path), self.path.stat().st_size)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def schema_check(table: pa.Table) -> None:
    """Guard the store contract: ts must be ms UTC (readers filter on it)."""
    if table.schema.field("ts").type != pa.timestamp("ms", tz="UTC"):
        raise TypeError(f"ts column must be timestamp[ms, UTC], got {table.schema.field('ts').type}")
