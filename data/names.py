"""The character set allowed in system ids and signal names, checked at ingest.

A name is 1 to ``MAX_NAME_CHARS`` characters (and at most ``MAX_NAME_BYTES`` bytes in
UTF-8, so that ``<name>.parquet`` fits in any file system's 255-byte file name) of:
letters and digits of any script (Unicode categories L and N: ``Zähler_Süd``, ``c_电表``),
space, and ``_ - . ( ) +``. It does not start with ``.`` or a space and does not end with a
space. Everything else (``< > & " ' / \\ = ; ,``, control characters, ...) is refused: such a
name is markup or a path, not a meter or a signal, and it would reach every page, URL and
file path the platform writes.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 200
ALLOWED_PUNCTUATION = frozenset(" _-.()+")
ALLOWED_TEXT = "letters and digits (any script), space and _ - . ( ) +"

# Cell signals: pack and cell numbers count from 1; a BESS has a handful of packs of some
# dozens of cells (5 x 52 here). Larger numbers are typos or overflow codes, and the store
# keeps pack and cell as Int16 and keys cells by pack * 1000 + cell.
MAX_PACK = 99
MAX_CELL = 999
_CELL_RE = re.compile(r"^(?P<pre>bms1_p)(?P<pack>\d+)_(?P<kind>[vt])(?P<cell>\d+)$")


def name_problem(name: str, what: str) -> str | None:
    """Why ``name`` is not allowed as a ``what`` ("system id", "signal name"), or None."""
    if not name:
        return f"empty {what}"
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return (f"{what} of {len(name)} characters is too long (at most {MAX_NAME_CHARS} characters, "
                f"{MAX_NAME_BYTES} bytes in UTF-8)")
    bad = sorted({c for c in name if c not in ALLOWED_PUNCTUATION and unicodedata.category(c)[0] not in "LN"})
    if bad:
        shown = " ".join(repr(c) for c in bad[:8])
        return f"{what} {name!r} has characters outside the allowed set ({ALLOWED_TEXT}): {shown}"
    if name[0] in ". " or name[-1] == " ":
        return f"{what} {name!r} must not start with '.' or a space, nor end with a space"
    return None


def normalise_cell(signal: str) -> tuple[str, str | None]:
    """(canonical name, problem): ``bms1_p01_v001`` -> ``bms1_p1_v1``; pack/cell 0 or too large is a problem."""
    m = _CELL_RE.match(signal)
    if not m:
        return signal, None
    pack, cell = int(m["pack"]), int(m["cell"])
    if not 1 <= pack <= MAX_PACK:
        return signal, f"pack number {pack} in {signal!r} outside 1..{MAX_PACK} (packs count from 1)"
    if not 1 <= cell <= MAX_CELL:
        return signal, f"cell number {cell} in {signal!r} outside 1..{MAX_CELL} (cells count from 1)"
    return f"{m['pre']}{pack}_{m['kind']}{cell}", None
