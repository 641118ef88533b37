"""Ingest benchmark rows: CSV exports to the Parquet pyramid vs pandas and Polars on the same files, and peak memory.

All rows of one run read the same files: the small demo fleet (cached under .bess/bench/,
generated when absent). Ours is the real ``data.ingest.ingest`` into a fresh store (discover,
hash, parse, clean, aggregate five levels, write zstd Parquet, manifest, atomic publish).
Baselines, in the same process and run:

* pandas: per file ``read_csv`` + ``to_datetime`` (ISO-8601) + ``tz_localize`` (Europe/Berlin)
  + ``resample`` to 5min, 15min, 1h (UTC) and 1D (local) with the glossary aggregation plus
  min, max and count. It writes nothing, so the ratio is conservative.
* Polars: bare ``pl.read_csv`` of every file (its separator and decimal comma given), nothing
  else: the throughput ceiling of reading the same CSVs.

The fleet rows (bench/ingest_fleet.py) time whole ``bess ingest`` processes on the
100-system demo fleet (1 vs 2 Dask workers, peak RSS per worker, against a bare Polars read)
and the in-process peak RSS on the 133 MB / 5.0 M-row set. (The peak RSS of the full demo
fleet, 9 GB of CSV, is no longer a row: generating it alone took minutes.)
"""

from __future__ import annotations

import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.table import Row

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".bess" / "bench"
PANDAS_SPEEDUP = 10.0
POLARS_SHARE = 0.5
QUICK_DAYS = 3
QUICK_FILES_PER_SYSTEM = 6


@dataclass(frozen=True)
class MemoryRow(Row):
    """A row whose target is a peak-memory limit (the time column is the run's duration)."""

    peak_bytes: int | None = None
    limit_bytes: int | None = None

    @property
    def met(self) -> bool | None:
        if self.error is not None or self.peak_bytes is None or self.limit_bytes is None:
            return None
        return self.peak_bytes < self.limit_bytes


def bench_ingest(quick: bool) -> list[Row]:
    fleet = _fleet("quick" if quick else "small")
    files = _files(fleet)
    n_rows, t_first, t_ours = _time_ours(fleet, repeats=1)
    t_polars = _median(lambda: _polars_bare(files), repeats=1)
    t_pandas = _median(lambda: _pandas_baseline(files), repeats=1, warm_up=False)
    label = f"{'tiny fleet' if quick else 'small demo fleet'} ({len(files):,} files, {n_rows:,} rows)"
    rows = [
        Row(f"ingest, {label}: {n_rows / t_ours / 1e6:.2f} M rows/s", t_ours,
            "pandas per file: read_csv + to_datetime + tz_localize + resample x4 (agg, min, max, count)",
            t_pandas, f"{PANDAS_SPEEDUP:.0f}x faster", min_speedup=PANDAS_SPEEDUP, compile_s=t_first),
        Row(f"ingest, {label}: throughput vs bare read", t_ours,
            f"polars read_csv only ({n_rows / t_polars / 1e6:.2f} M rows/s)", t_polars,
            f"at least {POLARS_SHARE:.0%} of its throughput (>= {POLARS_SHARE}x)", min_speedup=POLARS_SHARE),
    ]
    from bench.ingest_fleet import bench_ingest_fleet

    rows += bench_ingest_fleet(quick, fleet if quick else _fleet("small"))
    return rows


def _fleet(scale: str) -> Path:
    """The cached demo fleet of one scale; quick: a few files per system of a few days' demo."""
    from data.demo.config import config_for
    from data.demo.generate import build_demo

    out = CACHE / f"demo-{scale}"
    if not (out / "ground_truth.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        cfg = config_for("small", 7, days=QUICK_DAYS) if scale == "quick" else config_for(scale, 7)
        build_demo(out, cfg, progress=False)  # ground_truth.json is written last: a complete fleet
    if scale != "quick":
        return out
    subset = CACHE / "demo-quick-subset"
    if not subset.exists():
        tmp = subset.with_name(subset.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        for folder in sorted({p.parent for p in out.rglob("*.csv")}):
            dest = tmp / folder.relative_to(out)
            dest.mkdir(parents=True)
            for f in sorted(folder.glob("*.csv"))[:QUICK_FILES_PER_SYSTEM]:
                shutil.copy2(f, dest / f.name)
        tmp.rename(subset)
    return subset


def _files(fleet: Path) -> list[tuple[Path, str, str]]:
    """(path, signal, separator) of every export file, as ingest discovers them."""
    from data.discover import discover
    from data.sniff import sniff

    return [(f.path, f.signal, sniff(f.path).delimiter or ",") for u in discover([fleet]).units for f in u.sources]


def _time_ours(fleet: Path, repeats: int) -> tuple[int, float, float]:
    """(rows read, first-run seconds, median seconds) of ingest into a fresh store each run."""
    from data.ingest import ingest

    times, rows = [], 0
    for i in range(repeats + 1):
        store = CACHE / "stores" / f"ingest-{i}"
        shutil.rmtree(store, ignore_errors=True)
        t0 = time.perf_counter()
        report = ingest([fleet], store, progress=False)
        times.append(time.perf_counter() - t0)
        shutil.rmtree(store, ignore_errors=True)
        if report.exit_code != 0:
            raise RuntimeError(f"ingest failed: {report.error or report.format_text()}")
        rows = report.rows_read
    return rows, times[0], statistics.median(times[1:])


def _median(fn, repeats: int, warm_up: bool = True) -> float:
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _polars_bare(files: list[tuple[Path, str, str]]) -> int:
    import polars as pl

    return sum(pl.read_csv(p, separator=sep, decimal_comma=sep != ",").height for p, _, sep in files)


def _pandas_baseline(files: list[tuple[Path, str, str]]) -> int:
    """Read and resample every file with plain pandas (no Parquet written)."""
    import pandas as pd

    from data.glossary import LOCAL_TZ, Aggregation, spec_for

    how = {Aggregation.MEAN: "mean", Aggregation.LAST: "last", Aggregation.MAX: "max", Aggregation.MIN: "min"}
    bins = 0
    for path, signal, sep in files:
        df = pd.read_csv(path, sep=sep, decimal="," if sep != "," else ".", encoding="utf-8-sig")
        try:
            ts = pd.DatetimeIndex(pd.to_datetime(df.iloc[:, 0], format="ISO8601"))
        except ValueError:  # offsets that change across DST: pandas wants them read as UTC
            ts = pd.DatetimeIndex(pd.to_datetime(df.iloc[:, 0], format="ISO8601", utc=True))
        ts = ts.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="shift_forward") if ts.tz is None else ts
        s = pd.Series(pd.to_numeric(df.iloc[:, 1], errors="coerce").to_numpy(), index=ts.tz_convert("UTC"))
        s = s[s.index.notna()].dropna()
        aggs = [how[spec_for(signal).aggregation], "min", "max", "count"]
        for rule in ("5min", "15min", "1h"):
            bins += len(s.resample(rule).agg(aggs))
        bins += len(s.tz_convert(LOCAL_TZ).resample("1D").agg(aggs))
    return bins
