"""Look at the first bytes of a CSV file: empty, binary, encoding, delimiter, last-line state."""

from __future__ import annotations

import os
from itertools import islice
from dataclasses import dataclass
from pathlib import Path

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
BOM = b"\xef\xbb\xbf"
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 13))


@dataclass(frozen=True)
class Sniffed:
    delimiter: str | None  # None when the file is unusable (see problem)
    header: str
    ends_with_newline: bool
    problem: str | None = None  # why the file cannot be read at all


def sniff(path: Path) -> Sniffed:
    """Decide how to read a file from its first 64 KiB (and its last byte)."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
        if size > len(head):
            fh.seek(-1, os.SEEK_END)
        last = fh.read(1) if size > len(head) else head[-1:]
    return sniff_bytes(head, last)


def sniff_bytes(head: bytes, last: bytes) -> Sniffed:
    """As :func:`sniff`, from a file's first SAMPLE_BYTES bytes and its last byte."""
    if not head.strip(BOM + b" \r\n\t"):
        return Sniffed(None, "", True, "empty file (no header, no data)")
    if _looks_binary(head):
        return Sniffed(None, "", True, "binary or garbage content, not a text CSV")
    text = head[len(BOM):] if head.startswith(BOM) else head
    lines = list(islice((ln for ln in text[:8192].decode("utf-8", errors="replace").splitlines() if ln.strip()), 2))
    header = lines[0]
    # Count in the header and the first data line: a ";" header over "," decimals is still ";".
    probe = lines[:2]
    counts = {d: min(ln.count(d) for ln in probe) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    if counts[best] == 0:
        best_header = max(DELIMITERS, key=lambda d: header.count(d))
        if header.count(best_header) == 0:
            return Sniffed(None, header, True, f"only one column (header {header[:60]!r}); need timestamp and value")
        best = best_header
    return Sniffed(best, header, last in (b"\n", b"\r"))


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    # Control bytes other than whitespace are rare in text and common in binary.
    sample = head[:4096]
    bad = len(sample) - len(sample.translate(None, _CONTROL))
    if bad > 0.02 * min(len(head), 4096):
        return True
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte char at the sample's end is fine; a high share of invalid bytes is not.
        if exc.start < len(head[:4096]) - 4:
            invalid = head[:4096].decode("utf-8", errors="replace").count("\ufffd")
            return invalid > 0.05 * min(len(head), 4096)
    return False
