"""Small pure helpers that reshape core results for display (no queries, no plotting)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from core.results import Matrix


def deviation_from_pack_median(matrix: Matrix, cells_per_pack: int) -> Matrix:
    """Each cell minus the median of its pack at the same time, in the matrix's unit.

    Used until the core's own deviation matrix is available; rows must be in P1C1..PnCm order.
    """
    v = matrix.values
    out = np.full_like(v, np.nan)
    for start in range(0, v.shape[0], cells_per_pack):
        block = v[start:start + cells_per_pack]
        with np.errstate(all="ignore"):
            # All-NaN columns (no data that day) stay NaN without a warning.
            ok = np.isfinite(block).any(axis=0)
            med = np.full(block.shape[1], np.nan)
            if ok.any():
                med[ok] = np.nanmedian(block[:, ok], axis=0)
        out[start:start + cells_per_pack] = block - med
    return Matrix(rows=matrix.rows, columns=matrix.columns, values=out, unit=matrix.unit)


def to_frame(result: object) -> pd.DataFrame:
    """A core result as a table: a sequence of dataclasses (one row each), a dataclass of
    parallel arrays (one column each), or a dataclass holding one such sequence."""
    if isinstance(result, pd.DataFrame):
        return result
    if isinstance(result, (list, tuple)):
        rows = [_flat(r) for r in result]
        return pd.DataFrame(rows)
    if dataclasses.is_dataclass(result):
        fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
        seqs = {k: v for k, v in fields.items() if isinstance(v, (list, tuple, np.ndarray)) and len(v)}
        lengths = {len(v) for v in seqs.values()}
        if len(lengths) == 1:
            n = lengths.pop()
            cols = {k: (list(v) if not isinstance(v, np.ndarray) or v.ndim == 1 else list(v)) for k, v in seqs.items()}
            scalars = {k: v for k, v in fields.items() if k not in seqs and not isinstance(v, (list, tuple, np.ndarray))}
            frame = pd.DataFrame(cols)
            if all(dataclasses.is_dataclass(x) for x in frame.iloc[:, 0]) and len(cols) == 1:
                return to_frame(list(next(iter(cols.values()))))
            for k, v in scalars.items():
                if isinstance(v, (str, int, float)):
                    frame[k] = v
            return frame.head(n)
        return pd.DataFrame([_flat(result)])
    return pd.DataFrame({"value": [result]})


def _flat(obj: object) -> dict:
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if dataclasses.is_dataclass(v):
                out.update({f"{f.name}_{k}": x for k, x in _flat(v).items()})
            elif hasattr(v, "value") and not isinstance(v, (int, float, str)):
                out[f.name] = v.value  # enums
            elif isinstance(v, np.ndarray):
                continue  # per-row arrays (fit residuals, points) do not fit a table cell
            else:
                out[f.name] = v
        return out
    return {"value": obj}
