"""One decimal rule per file, decided from the whole value column (``;`` and tab exports).

A German export writes ``1.234,5`` (``.`` groups thousands, ``,`` is the decimal mark);
an English one ``1,234.5``. Cells are evidence for one rule: ``3,31`` and ``1.234,5`` for
the decimal comma, ``3.31`` and ``1,234.5`` for the decimal point. ``2.000`` or ``1,500``
(one separator, then exactly three digits) fit both and decide nothing. The rule with more
evidence wins (a tie: the decimal comma, the convention of ``;`` exports); every cell is
then read by it (``2.000`` is 2000 in a decimal-comma file), and the cells that are
evidence for the other rule contradict the file: they are dropped and reported
(``decimal_mismatch``). A column with only one kind of separator keeps the per-cell
reading (``,`` or ``.`` as the decimal mark), so ``3.312`` stays 3.312.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

_SIGN = r"^[+-]?"
_COMMA_EVIDENCE = (
    _SIGN + r"(\d+,\d{1,2}|\d+,\d{4,}|\d{4,},\d+|,\d+)$",  # 3,31  1,2345  1234,5
    _SIGN + r"\d{1,3}(\.\d{3})+,\d+$",  # 1.234,5
    _SIGN + r"\d{1,3}(\.\d{3}){2,}$",  # 1.234.567
)
_POINT_EVIDENCE = (
    _SIGN + r"(\d+\.\d{1,2}|\d+\.\d{4,}|\d{4,}\.\d+|\.\d+)$",
    _SIGN + r"\d{1,3}(,\d{3})+\.\d+$",
    _SIGN + r"\d{1,3}(,\d{3}){2,}$",
)
_GROUPED_DOT = _SIGN + r"\d{1,3}(\.\d{3})+(,\d+)?$"  # read with "." as thousands separator
_GROUPED_COMMA = _SIGN + r"\d{1,3}(,\d{3})+(\.\d+)?$"


@dataclass(frozen=True)
class DecimalRule:
    comma: bool  # True: "," is the decimal mark and "." groups thousands
    text: pl.Series | None  # the column rewritten for a plain float cast; None: read per cell as before
    contradicts: np.ndarray  # bool per row: written against the rule

    def describe(self) -> str:
        return ("decimal comma, '.' groups thousands" if self.comma else "decimal point, ',' groups thousands") \
            + ", decided from the whole column"


def _any(s: pl.Series, patterns: tuple[str, ...]) -> pl.Series:
    out = s.str.contains(patterns[0])
    for p in patterns[1:]:
        out = out | s.str.contains(p)
    return out.fill_null(False)


def decimal_rule(col: pl.Series) -> DecimalRule:
    """The rule of one value column of a ``;`` or tab separated file."""
    n = len(col)
    none = DecimalRule(True, None, np.zeros(n, bool))
    if not (col.str.contains(",", literal=True).any() and col.str.contains(".", literal=True).any()):
        return none  # one kind of separator (nearly every file): per-cell reading, as always
    s = col.str.strip_chars()
    comma_ev, point_ev = _any(s, _COMMA_EVIDENCE), _any(s, _POINT_EVIDENCE)
    comma = int(comma_ev.sum()) >= int(point_ev.sum())
    if comma:
        grouped = s.str.contains(_GROUPED_DOT).fill_null(False)
        fixed = pl.select(pl.when(grouped).then(s.str.replace_all(".", "", literal=True)).otherwise(s)).to_series()
        text = fixed.str.replace(",", ".", literal=True)
        against = point_ev
    else:
        grouped = s.str.contains(_GROUPED_COMMA).fill_null(False)
        text = pl.select(pl.when(grouped).then(s.str.replace_all(",", "", literal=True)).otherwise(s)).to_series()
        against = comma_ev
    mask = against.to_numpy()
    text = pl.select(pl.when(pl.Series(mask)).then(None).otherwise(text)).to_series()
    return DecimalRule(comma, text, mask)
