"""Writes one Series as CSV in the real export layout, applying the planned dirt and logging it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from data.demo.config import rng_for
from data.demo.dirt import SENTINEL, DirtPlan
from data.demo.series import Series
from data.demo.timegrid import format_iso_offset, iso_local

OOO_ROWS = 12
N_DUPLICATES = 4


@dataclass
class DirtLog:
    """What was actually injected, file by file (becomes ground_truth.json's "dirt")."""

    duplicates: list[dict] = field(default_factory=list)
    out_of_order: list[dict] = field(default_factory=list)
    sentinels: list[dict] = field(default_factory=list)
    decimal_comma_files: list[str] = field(default_factory=list)
    iso_offset_files: list[str] = field(default_factory=list)
    bom_files: list[str] = field(default_factory=list)
    split_signals: list[dict] = field(default_factory=list)


@dataclass
class CsvWriter:
    out: Path
    plan: DirtPlan
    seed: int
    log: DirtLog = field(default_factory=DirtLog)
    files: int = 0
    rows: int = 0

    def write(self, folder: str, system_id: str, s: Series, *, stem: str | None = None) -> None:
        """Write `s` under <out>/<folder>/<system_id>/ (folder is 'meter' or 'BESS')."""
        key = (system_id, s.signal)
        stem = stem or s.signal
        rel_dir = f"{folder}/{system_id}"
        rel = f"{rel_dir}/{stem}.csv"
        rng = rng_for(self.seed, "file-dirt", rel)
        ts = s.axis.ts_s
        keep = np.ones(ts.size, bool)
        for g in self.plan.gaps:
            if g.system_id == system_id and (g.signals is None or s.signal in g.signals):
                keep &= (ts < g.start_s) | (ts >= g.end_s)
        idx = np.flatnonzero(keep)
        values = s.values
        if key in self.plan.sentinels:
            values = values.copy()
            pos = np.sort(rng.choice(idx[idx.size // 4: 3 * idx.size // 4], 2, replace=False))
            values[pos] = SENTINEL
            self.log.sentinels.append({"file": rel, "value": SENTINEL, "ts_local": [iso_local(t) for t in ts[pos]]})
        if key in self.plan.duplicates:
            pos = np.sort(rng.choice(idx.size - 1, N_DUPLICATES, replace=False))
            self.log.duplicates.append({"file": rel, "n_rows": N_DUPLICATES,
                                        "ts_local": [iso_local(t) for t in ts[idx[pos]]]})
            idx = np.insert(idx, pos + 1, idx[pos])
        if key in self.plan.out_of_order:
            p = int(rng.integers(idx.size // 3, 2 * idx.size // 3))
            self.log.out_of_order.append({"file": rel, "first_row": p + 1, "n_rows": OOO_ROWS,
                                          "first_ts_local": iso_local(ts[idx[p]])})
            idx[p:p + OOO_ROWS] = idx[p:p + OOO_ROWS][::-1].copy()
        whole = idx.size == ts.size and not (key in self.plan.duplicates or key in self.plan.out_of_order)
        if key in self.plan.iso_offset:
            text = format_iso_offset(ts[idx])
            self.log.iso_offset_files.append(rel)
        else:
            text = s.axis.text_local if whole else s.axis.text_local.gather(idx)
        vals = values[idx]
        col = pl.Series("value", vals.astype(np.int64)) if s.decimals is None else pl.Series("value", vals)
        frame = pl.DataFrame([text.alias("timestamp"), col])
        if key in self.plan.monthly_split:
            months = text.str.slice(0, 7)
            parts = [(f"{s.signal}_{m}", frame.filter(months == m)) for m in months.unique(maintain_order=True)]
        elif key in self.plan.part_split:
            half = frame.height // 2
            parts = [(stem, frame.slice(0, half)), (f"{stem}_part2", frame.slice(half))]
        else:
            parts = [(stem, frame)]
        if len(parts) > 1:
            self.log.split_signals.append({"system": system_id, "signal": s.signal,
                                           "files": [f"{rel_dir}/{p}.csv" for p, _ in parts]})
        comma = system_id in self.plan.decimal_comma
        bom = key in self.plan.bom
        target = self.out / rel_dir
        target.mkdir(parents=True, exist_ok=True)
        for part_stem, part in parts:
            part.write_csv(target / f"{part_stem}.csv", include_bom=bom, separator=";" if comma else ",",
                           decimal_comma=comma, float_precision=s.decimals)
            self.files += 1
            self.rows += part.height
            if comma:
                self.log.decimal_comma_files.append(f"{rel_dir}/{part_stem}.csv")
            if bom:
                self.log.bom_files.append(f"{rel_dir}/{part_stem}.csv")

