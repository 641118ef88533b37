"""The `make bench` fleet group: the fleet summary over the simulated fleet (100 systems), computed in
process and as Dask tasks on a 2-process LocalCluster, and the cached `fleet` GraphQL query over HTTP.

Every row reads the store the fleet demo (``bess demo --scale fleet --systems 100``) ingests to.
Computing a fleet is a cold run (a fresh QueryService, no cached analyses); the GraphQL row is what a
dashboard pays once the version's summary is cached.
"""

from __future__ import annotations

import inspect
import tempfile
import time
from pathlib import Path

from bench.table import Row, time_call

FLEET_SYSTEMS = 100
QUICK_SYSTEMS = 9
QUERY = "{ fleet(sortBy: RISK) { systemId kind coverage criticalCells warningCells worstCell efc sohPct problems } }"


def fleet_store(workdir: Path, systems: int) -> tuple[Path, str]:
    """(store, what it holds): the fleet demo of ``systems`` systems ingested into ``workdir``; the small
    demo (9 systems) where this build's generator has no fleet scale yet."""
    from data.demo import generate_demo
    from data.ingest import ingest

    demo = workdir / "demo"
    if "systems" in inspect.signature(generate_demo).parameters:
        generate_demo(demo, seed=7, scale="fleet", systems=systems, progress=False)
        what = f"fleet demo, {systems} systems (30 days each)"
    else:
        generate_demo(demo, seed=7, scale="small", progress=False)
        what = "small demo, 9 systems (no fleet scale in this build's generator)"
    report = ingest([demo], workdir / "store", progress=False)
    if report.exit_code != 0:
        raise RuntimeError(report.format_text())
    return workdir / "store", what


def bench_fleet(quick: bool) -> list[Row]:
    from distributed import Client, LocalCluster

    from core.fleet import fleet_rows
    from core.service import QueryService

    systems = QUICK_SYSTEMS if quick else FLEET_SYSTEMS
    repeats = 1  # each run is a cold summary of the whole fleet: minutes on a shared 2-core machine
    with tempfile.TemporaryDirectory(prefix="bess-fleet-") as tmp:
        store, what = fleet_store(Path(tmp), systems)
        n = len(QueryService(store).systems())
        first_local, local_s = time_call(lambda: fleet_rows(QueryService(store).pinned()), repeats)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # not a fixed 8787 another tool holds
                          memory_limit="1GiB") as lc, Client(lc, set_as_default=False) as client:
            first_dask, dask_s = time_call(lambda: fleet_rows(QueryService(store).pinned(), scheduler=client),
                                           repeats)
            same = fleet_rows(QueryService(store).pinned(), scheduler=client) == fleet_rows(
                QueryService(store).pinned())
        p50 = _graphql_p50(store, Path(tmp) / "serve.log", 5 if quick else 50)
    rows = [
        Row(benchmark=f"fleet summary, cold, in process ({what}; {n} rows)", ours_s=local_s,
            compile_s=first_local),
        Row(benchmark=f"fleet summary, cold, Dask LocalCluster of 2 worker processes (same {n} rows: {same})",
            ours_s=dask_s, baseline="in process", baseline_s=local_s, compile_s=first_dask,
            error=None if same else "Dask rows differ from the in-process rows"),
        Row(benchmark=f"`fleet(sortBy: RISK)` GraphQL over HTTP p50, cached per store version ({n} rows)",
            ours_s=p50, target="p50 < 100 ms", limit_s=0.1),
    ]
    return rows


def _graphql_p50(store: Path, log: Path, requests: int) -> float:
    """p50 of the fleet query through a real `bess serve` on loopback (its first request computes and
    caches the summary)."""
    import statistics

    import httpx

    from bench.load import start_server, stop_server

    proc, url = start_server(store, log, env={"BESS_WARM_UP": "0"})
    try:
        with httpx.Client(base_url=url, timeout=900) as client:
            r = client.post("/graphql", json={"query": QUERY})
            if r.status_code != 200 or r.json().get("errors"):
                raise RuntimeError(f"fleet query failed: {r.status_code} {r.text[:300]}")
            times = []
            for _ in range(requests):
                t0 = time.perf_counter()
                client.post("/graphql", json={"query": QUERY}).raise_for_status()
                times.append(time.perf_counter() - t0)
    finally:
        stop_server(proc)
    return statistics.median(times)
