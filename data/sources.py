"""Read the bytes of one export file: plain CSV, gzip (``.csv.gz``) or a zip holding one CSV."""

from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import Path

# Decompressed bytes one file may hold: far above any real export (a year of 1-s data is
# ~1 GB of CSV), low enough that a decompression bomb is reported, not held in memory.
MAX_DECOMPRESSED_BYTES = 4 << 30


class SourceReadError(ValueError):
    """The file is an archive that cannot be read as one CSV (the message says why)."""


def read_source(path: Path) -> bytes:
    """The CSV bytes of ``path``; OSError when unreadable, SourceReadError for a bad archive."""
    name = path.name.lower()
    if name.endswith(".gz"):
        return _gunzip(path)
    if name.endswith(".zip"):
        return _unzip(path)
    return path.read_bytes()


def _gunzip(path: Path) -> bytes:
    out = bytearray()
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                out += chunk
                if len(out) > MAX_DECOMPRESSED_BYTES:
                    raise SourceReadError(f"gzip file expands beyond {MAX_DECOMPRESSED_BYTES >> 30} GiB; not read")
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise SourceReadError(f"damaged gzip file: {exc}") from None
    return bytes(out)


def _unzip(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir() and not i.filename.split("/")[-1].startswith(".")
                       and not i.filename.startswith("__MACOSX/")]
            csvs = [i for i in members if i.filename.lower().endswith(".csv")] or members
            if len(csvs) != 1:
                names = ", ".join(i.filename for i in csvs[:5]) or "none"
                raise SourceReadError(f"zip archive holds {len(csvs)} CSV files ({names}); "
                                      "only a zip of one CSV is read: unpack it into the system folder")
            info = csvs[0]
            if info.file_size > MAX_DECOMPRESSED_BYTES:
                raise SourceReadError(f"zip member {info.filename} expands to {info.file_size} bytes; not read")
            with zf.open(info) as fh:
                data = fh.read(MAX_DECOMPRESSED_BYTES + 1)
            if len(data) > MAX_DECOMPRESSED_BYTES:
                raise SourceReadError(f"zip member {info.filename} expands beyond its stated size; not read")
            return data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, zlib.error) as exc:
        raise SourceReadError(f"damaged or unsupported zip file: {exc}") from None
    except RuntimeError as exc:  # encrypted member
        raise SourceReadError(f"zip file cannot be read: {exc}") from None
