"""Benchmark row of the SAT query: the 1d level's daily max read + extract_sat, as QueryService runs it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from bench.table import Row, time_call


def bench_cells(quick: bool) -> list[Row]:
    """SAT matrix of one demo BESS (260 cells, ~640 days) from the store, against pandas doing the same."""
    import pandas as pd

    from bench.load import _demo_store
    from core.cell_queries import read_sat
    from core.cells import extract_sat
    from core.service import QueryService
    from data.glossary import LOCAL_TZ, SystemKind

    k = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="bess-cells-") as tmp:
        service = QueryService(_demo_store(Path(tmp)))
        snap = service.snapshot()
        info = service.systems(SystemKind.BESS)[0]
        cell_file = snap.file(info.id, "1d", "cell_v")
        soc_file = snap.file(info.id, "1d", "bms1_soc") if snap.has(info.id, "1d", "bms1_soc") else None

        def ours():
            # Exactly what QueryService.cell_analysis reads before its analysis (the sat part).
            return read_sat(snap, info, None, None)

        def baseline():
            df = pd.read_parquet(cell_file, columns=["ts", "pack", "cell", "max"])
            wide = df.pivot_table(index=["pack", "cell"], columns="ts", values="max", aggfunc="max")
            local = wide.columns.tz_convert(LOCAL_TZ)
            days = np.array(local.strftime("%Y-%m-%d"), dtype="datetime64[D]")
            soc = None
            if soc_file is not None:
                s = pd.read_parquet(soc_file, columns=["ts", "max"]).set_index("ts")["max"]
                soc = s.reindex(wide.columns).to_numpy(dtype=np.float64)
            packs = wide.index.get_level_values("pack").to_numpy(np.int64)
            cells = wide.index.get_level_values("cell").to_numpy(np.int64)
            return extract_sat(wide.to_numpy(dtype=np.float64), days, packs, cells, soc_max_pct=soc)

        c_o, t_o = time_call(ours, k)
        _, t_b = time_call(baseline, k)
        got, want = ours(), baseline()
        if not (np.array_equal(got.voltage_v, want.voltage_v, equal_nan=True) and np.array_equal(got.days, want.days)):
            raise AssertionError("read_sat disagrees with the pandas baseline")
        size = f"{got.voltage_v.shape[0]} cells x {got.voltage_v.shape[1]} days"
    return [Row(f"SAT query, one system: 1d-level max read + extract_sat, {size} (demo store)", t_o,
                "pandas read_parquet + pivot_table + same extract_sat", t_b, "as fast or faster (>= 1x)",
                min_speedup=1.0, compile_s=c_o)]
