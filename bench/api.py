"""API benchmark rows: p50/p95 over HTTP of the system list, a 2,000-point series and the SAT heatmap.

The server is a real `bess serve` subprocess on loopback (core never imports api). The store is the
small demo fleet (20 months, 3 BESS of 260 cells) plus one meter `m7` sampled every 5 minutes over
20 months, written as real-layout CSV and ingested by the real ingest. The bounded-load rows
(concurrency 32, zero errors) are the `load` group (bench/load.py).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from bench.load import start_server, stop_server
from bench.table import Row

FIVE_MIN_METER = "m7"
SERIES_TARGET_S = 0.020
SAT_TARGET_S = 0.050
FULL_DAYS = 608  # 20 months
QUICK_DAYS = 60


def write_five_minute_meter(root: Path, *, days: int, seed: int = 11) -> Path:
    """A meter's active power every 5 min over ``days`` days as `meter/m7/com_ap.csv` (UTC offsets)."""
    rng = np.random.default_rng(seed)
    start = datetime(2023, 10, 1, tzinfo=timezone.utc)
    n = days * 288
    t = np.arange(n)
    hours = (t % 288) / 12.0
    power = 40 + 25 * np.sin((hours - 6) / 24 * 2 * np.pi).clip(0) + rng.normal(0, 3, n)
    folder = root / "meter" / FIVE_MIN_METER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "com_ap.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("timestamp,value\n")
        for i in range(n):
            fh.write(f"{(start + timedelta(minutes=5 * i)).isoformat()},{power[i]:.2f}\n")
    return path


def _store(workdir: Path, days: int) -> Path:
    from data.demo.config import config_for
    from data.demo.generate import build_demo
    from data.ingest import ingest

    build_demo(workdir / "demo", config_for("small", 7, days=days), progress=False)
    write_five_minute_meter(workdir / "extra", days=days)
    report = ingest([workdir / "demo", workdir / "extra"], workdir / "store", progress=False)
    if report.exit_code != 0:
        raise RuntimeError(report.format_text())
    return workdir / "store"


def _latencies(client, body: dict, repeats: int) -> list[float]:
    import time

    out = []
    for _ in range(repeats + 2):
        t0 = time.perf_counter()
        r = client.post("/graphql", json=body)
        content = r.content  # the whole body has arrived
        out.append(time.perf_counter() - t0)
        if r.status_code != 200 or b'"errors"' in content[:200]:
            raise RuntimeError(f"HTTP {r.status_code}: {content[:300]!r}")
    return out[2:]  # the first two warm caches


def bench_api(quick: bool) -> list[Row]:
    import httpx

    repeats = 15 if quick else 100
    days = QUICK_DAYS if quick else FULL_DAYS
    months, rows_5min = days / 30.4, days * 288
    with tempfile.TemporaryDirectory(prefix="bess-bench-api-") as tmp:
        store = _store(Path(tmp), days)
        proc, url = start_server(store, Path(tmp) / "serve.log")
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                bess = client.post("/graphql", json={"query": "{ systems(kind: BESS) { id } }"}).json()
                bess_id = bess["data"]["systems"][0]["id"]
                cases = [
                    ("system list", {"query": "{ systems { id kind timeRange { from to } } }"}, None),
                    (f"series: {months:.0f} months of 5-min data ({rows_5min / 1e3:.0f}k rows) -> 2,000 points, LTTB",
                     {"query": f'{{ system(id: "{FIVE_MIN_METER}") {{ series(signal: "com_ap", resolution: FIVE_MIN, '
                               "maxPoints: 2000) { timestampsMs values min max } } }"}, SERIES_TARGET_S),
                    ("SAT heatmap: 260 cells x all days, satVoltage { rows columns values }",
                     {"query": f'{{ system(id: "{bess_id}") {{ ... on Bess {{ satVoltage {{ rows columns values }} }} }} }}'},
                     SAT_TARGET_S),
                ]
                rows = []
                for name, body, limit in cases:
                    lat = np.asarray(_latencies(client, body, repeats))
                    size = len(client.post("/graphql", json=body).content)
                    p50, p95 = float(np.percentile(lat, 50)), float(np.percentile(lat, 95))
                    label = f"GraphQL over HTTP, {name} ({size / 1e3:,.0f} kB, {len(lat)} requests)"
                    rows.append(Row(f"{label}: p50", ours_s=p50, limit_s=limit,
                                    target=f"p50 < {limit * 1e3:.0f} ms" if limit else "–"))
                    rows.append(Row(f"{label}: p95", ours_s=p95))
        finally:
            stop_server(proc)
    return rows


if __name__ == "__main__":
    for row in bench_api(quick=True):
        print(row.benchmark, f"{row.ours_s * 1e3:.1f} ms", row.met)
