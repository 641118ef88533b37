"""Bounded load on loopback: N concurrent clients send mixed GraphQL queries to a real `bess serve`.

``run_load`` is the generator (also used by a short smoke test); ``bench_load`` is the `make bench`
group: 60 s at concurrency 32 against the demo fleet, zero errors expected, p50/p95/p99 as rows; then
``run_overload`` offers 4x that sustained rate open-loop (arrivals on a clock, not waiting for answers):
accepted requests should keep p99 under 1 s and the rest get 503 (load shedding), with 0 other errors.
The server runs as a subprocess (``python -m api.cli serve``), so `core` never imports `api`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.http_load import Connection, encode, graphql_problem
from bench.table import Row

HOST = "127.0.0.1"  # load never leaves the machine
FULL_SECONDS = 60.0
FULL_CONCURRENCY = 32
MAX_ERROR_EXAMPLES = 5
OVERLOAD_FACTOR = 4.0
OVERLOAD_SECONDS = 30.0
OVERLOAD_MAX_CLIENTS = 256  # open connections of the open-loop generator
ACCEPTED_P99_LIMIT_S = 1.0
RETRY_AFTER_S = 1.0  # what the server's 503 says (api.guard.RETRY_AFTER_S)


@dataclass
class LoadResult:
    """Latencies [s] of every request, and what went wrong."""

    requests: int = 0
    errors: int = 0
    shed: int = 0  # 503 with Retry-After: refused on purpose by load shedding, not failed
    error_examples: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    per_query: dict[str, list[float]] = field(default_factory=dict)
    wall_s: float = 0.0

    def percentile(self, q: float, name: str | None = None) -> float:
        data = self.per_query.get(name, []) if name else self.latencies_s
        return float(np.percentile(np.asarray(data), q)) if data else float("nan")


def mixed_queries(meter: str, bess: str) -> list[tuple[str, dict]]:
    """The request mix: what a dashboard and an integrator ask, light and heavy."""
    m, b = f'system(id: "{meter}")', f'system(id: "{bess}")'
    return [
        ("systems", {"query": "{ systems { id kind levels timeRange { from to } } }"}),
        ("meter series, auto, 2000 pts", {"query": f'{{ {m} {{ series(signal: "com_ap", maxPoints: 2000) '
                                                   "{ timestampsMs values min max } } }"}),
        ("meter series, minmax, 500 pts", {"query": f'{{ {m} {{ series(signal: "com_ap", maxPoints: 500, '
                                                    "downsample: MINMAX_LTTB) { values } } }"}),
        ("meter KPIs", {"query": f"{{ {m} {{ kpis {{ ... on MeterKpis {{ importKwh exportKwh peakPowerKw }} }} }} }}"}),
        ("meter daily energy", {"query": f"{{ {m} {{ dailyEnergy {{ days importKwh exportKwh }} }} }}"}),
        ("BESS KPIs", {"query": f"{{ {b} {{ kpis {{ ... on BessKpis {{ socMeanPct roundTripEfficiency }} }} }} }}"}),
        ("BESS SOC series", {"query": f'{{ {b} {{ series(signal: "bms1_soc", maxPoints: 1000) {{ values }} }} }}'}),
        ("cell voltage matrix, daily", {"query": f"{{ {b} {{ ... on Bess {{ cellVoltageMatrix(resolution: DAY) "
                                                 "{ rows columns values } } } }"}),
    ]


def _host_port(url: str) -> tuple[str, int]:
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError(f"load runs on loopback only ({HOST}), not {url}")
    return HOST, int(url.rsplit(":", 1)[1].rstrip("/"))


async def _send(conn: Connection, name: str, payload: bytes, timeout_s: float) -> tuple[str | None, bool]:
    """(what went wrong or None, whether the server shed the request with 503 + Retry-After)."""
    try:
        answer = await asyncio.wait_for(conn.post("/graphql", payload), timeout_s)
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
        conn.close()  # a half-read answer leaves the connection unusable
        return f"{name}: {type(exc).__name__}: {exc}", False
    return graphql_problem(name, answer)


def run_load(url: str, queries: list[tuple[str, dict]], *, concurrency: int,
             requests_per_worker: int | None = None, duration_s: float | None = None,
             timeout_s: float = 60.0) -> LoadResult:
    """Each of ``concurrency`` clients (one keep-alive connection each) cycles through ``queries``
    (offset by its index) until it sent ``requests_per_worker`` requests or ``duration_s`` passed,
    whichever bound is given (one must be). A shed request makes its client wait Retry-After."""
    if requests_per_worker is None and duration_s is None:
        raise ValueError("give requests_per_worker or duration_s: load must be bounded")
    host, port = _host_port(url)
    result = LoadResult()
    encoded = [(name, encode(body)) for name, body in queries]

    async def client(k: int, deadline: float | None) -> None:
        conn = Connection(host, port)
        sent = 0
        try:
            while True:
                if requests_per_worker is not None and sent >= requests_per_worker:
                    return
                if deadline is not None and time.monotonic() >= deadline:
                    return
                name, payload = encoded[(k + sent) % len(encoded)]
                sent += 1
                t0 = time.perf_counter()
                problem, shed = await _send(conn, name, payload, timeout_s)
                _record(result, name, time.perf_counter() - t0, problem, shed)
                if shed:  # a well-behaved client waits as told (Retry-After) instead of retrying at once
                    await asyncio.sleep(RETRY_AFTER_S)
        finally:
            conn.close()

    async def main() -> None:
        deadline = time.monotonic() + duration_s if duration_s is not None else None
        await asyncio.gather(*(client(k, deadline) for k in range(concurrency)))

    t0 = time.monotonic()
    _run_in_own_thread(main)
    result.wall_s = time.monotonic() - t0
    return result


def _run_in_own_thread(main) -> None:  # noqa: ANN001
    """asyncio.run(main()) in a thread of its own: the caller's thread may already run an event loop
    (Playwright's sync API keeps one running in the test process), where asyncio.run refuses."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="bess-load-client")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _record(result: LoadResult, name: str, dt: float, problem: str | None, shed: bool) -> None:
    """Latencies of accepted requests only; shed and failed ones are counted."""
    result.requests += 1
    if shed:
        result.shed += 1
        return
    if problem:
        result.errors += 1
        if len(result.error_examples) < MAX_ERROR_EXAMPLES:
            result.error_examples.append(problem)
        return
    result.latencies_s.append(dt)
    result.per_query.setdefault(name, []).append(dt)


def run_overload(url: str, queries: list[tuple[str, dict]], *, rate_per_s: float, duration_s: float,
                 timeout_s: float = 60.0) -> LoadResult:
    """Open loop: a request is started every 1/``rate_per_s`` s for ``duration_s`` s whether or not the
    earlier ones were answered (what real clients beyond capacity do), on up to OVERLOAD_MAX_CLIENTS
    keep-alive connections; a request that finds every connection busy counts as an error of the
    generator. Latency runs from the request's scheduled start, so a late start is not hidden."""
    host, port = _host_port(url)
    result = LoadResult()
    encoded = [(name, encode(body)) for name, body in queries]

    async def main() -> None:
        idle: list[Connection] = []
        opened = 0
        tasks = []

        async def one(name: str, payload: bytes, due: float) -> None:
            conn = idle.pop() if idle else Connection(host, port)
            problem, shed = await _send(conn, name, payload, timeout_s)
            _record(result, name, time.perf_counter() - due, problem, shed)
            idle.append(conn)

        t0 = time.perf_counter()
        n = int(rate_per_s * duration_s)
        for i in range(n):
            due = t0 + i / rate_per_s
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            busy = opened - len(idle)
            if not idle and busy >= OVERLOAD_MAX_CLIENTS:
                _record(result, "generator", 0.0, f"no free client connection at request {i}", False)
                continue
            if not idle:
                opened += 1
            name, payload = encoded[i % len(encoded)]
            tasks.append(asyncio.create_task(one(name, payload, due)))
        await asyncio.gather(*tasks)
        for conn in idle:
            conn.close()

    t0 = time.monotonic()
    _run_in_own_thread(main)
    result.wall_s = time.monotonic() - t0
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(store: Path, log_path: Path, startup_timeout_s: float = 300.0, *, workers: int = 1,
                 env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`bess serve [--workers N]` as a subprocess on a free loopback port; returns (process, base URL)
    once /healthz is 200 from ``workers`` distinct worker processes (each warms up on its own)."""
    import httpx

    port = _free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", HOST, "--port", str(port),
                             "--store", str(store), "--workers", str(workers)], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "BESS_API_TOKEN": "", **(env or {})},
                            start_new_session=True)  # its own process group: the workers die with it
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + startup_timeout_s
    ready: set[int] = set()
    while True:
        if proc.poll() is not None:
            _kill_group(proc)
            raise RuntimeError(f"bess serve exited with {proc.returncode}; see {log_path}")
        try:
            r = httpx.get(url + "/healthz", timeout=5)  # a new connection each time: any worker may take it
            if r.status_code == 200:
                ready.add(r.json()["pid"])
                if len(ready) >= workers:
                    return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            _kill_group(proc)
            raise RuntimeError(f"bess serve did not answer /healthz within {startup_timeout_s:.0f} s")
        time.sleep(0.25)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the server and its worker processes (the group start_server made for it)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM (uvicorn's supervisor stops its workers gracefully), then SIGKILL what is left."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(proc)


def _demo_store(workdir: Path) -> Path:
    """$BESS_STORE when it is published, else the small demo fleet ingested into ``workdir``."""
    from data.store import StoreError, open_snapshot

    env = os.environ.get("BESS_STORE")
    if env:
        try:
            open_snapshot(env)
            return Path(env)
        except StoreError:
            pass
    from data.demo import generate_demo
    from data.ingest import ingest

    generate_demo(workdir / "demo", seed=7, scale="small", progress=False)
    report = ingest([workdir / "demo"], workdir / "store", progress=False)
    if report.exit_code != 0:
        raise RuntimeError(report.format_text())
    return workdir / "store"


def _loadavg() -> str:
    """The machine's 1-minute load average: other jobs share these cores, and the numbers depend on it."""
    try:
        return f"load average {os.getloadavg()[0]:.1f}"
    except OSError:
        return "load average n/a"


def bench_load(quick: bool) -> list[Row]:
    """p50/p95/p99 of mixed GraphQL queries at concurrency 32 for 60 s (quick: 8 for 5 s), on one server
    process; then 4x that rate open-loop (overload); then the same closed loop on `--workers 2`."""
    from data.glossary import SystemKind
    from data.store import open_snapshot

    seconds, concurrency = (5.0, 8) if quick else (FULL_SECONDS, FULL_CONCURRENCY)
    overload_s = 5.0 if quick else OVERLOAD_SECONDS
    with tempfile.TemporaryDirectory(prefix="bess-load-") as tmp:
        store = _demo_store(Path(tmp))
        systems = open_snapshot(store).catalog().systems
        meter = next(s.id for s in systems if s.kind == SystemKind.METER and "com_ap" in s.units)
        bess = next(s.id for s in systems if s.kind == SystemKind.BESS)
        queries = mixed_queries(meter, bess)
        proc, url = start_server(store, Path(tmp) / "serve.log")
        try:
            run_load(url, queries, concurrency=4, requests_per_worker=8)  # warm caches
            load_avg = _loadavg()
            result = run_load(url, queries, concurrency=concurrency, duration_s=seconds)
            sustained = (result.requests - result.shed) / result.wall_s
            over_avg = _loadavg()
            over = run_overload(url, queries, rate_per_s=OVERLOAD_FACTOR * sustained, duration_s=overload_s)
        finally:
            stop_server(proc)
        proc, url = start_server(store, Path(tmp) / "serve2.log", workers=2)
        try:
            run_load(url, queries, concurrency=4, requests_per_worker=8)  # both workers warm their caches
            two_avg = _loadavg()
            two = run_load(url, queries, concurrency=concurrency, duration_s=seconds)
        finally:
            stop_server(proc)
    rows = _load_rows(result, f"1 server process, {concurrency} concurrent, {seconds:.0f} s, {load_avg}")
    for name in result.per_query:
        rows.append(Row(benchmark=f"load p50 of {name} (p99 {result.percentile(99, name) * 1e3:.0f} ms, "
                        f"{len(result.per_query[name])} requests)", ours_s=result.percentile(name=name, q=50)))
    rows.append(overload_row(over, OVERLOAD_FACTOR * sustained, over_avg))
    two_rate = (two.requests - two.shed) / two.wall_s
    rows += _load_rows(two, f"`bess serve --workers 2`, {concurrency} concurrent, {seconds:.0f} s, "
                            f"{two_avg}; {two_rate / sustained:.2f}x the accepted rate of 1 process",
                       baseline=result)
    return rows


def _load_rows(result: LoadResult, setup: str, baseline: LoadResult | None = None) -> list[Row]:
    """p50/p95/p99 rows of one closed-loop run (against the same percentile of ``baseline``)."""
    label = (f"mixed GraphQL over HTTP, {setup}: {result.requests} requests, "
             f"{(result.requests - result.shed) / result.wall_s:.0f}/s accepted, {result.errors} errors, "
             f"{result.shed} shed (503, client waits Retry-After)")
    error = None if result.errors == 0 else f"{result.errors} errors, e.g. {result.error_examples[0]}"
    return [Row(benchmark=f"load p{q}: {label}", ours_s=result.percentile(q), target="zero errors", error=error,
                baseline="1 process" if baseline else "–",
                baseline_s=baseline.percentile(q) if baseline else None)
            for q in (50, 95, 99)]


def overload_row(over: LoadResult, rate_per_s: float, load_avg: str = "") -> Row:
    """Accepted p99 at OVERLOAD_FACTOR x the sustained rate, with the 503 and error counts."""
    accepted = len(over.latencies_s)
    label = (f"overload p99 of accepted requests at {OVERLOAD_FACTOR:.0f}x the sustained rate "
             f"({rate_per_s:.0f}/s offered, {over.wall_s:.0f} s{', ' + load_avg if load_avg else ''}): "
             f"{over.requests} requests, {accepted} accepted (p99 {over.percentile(99):.2f} s), "
             f"{over.shed} shed with 503, {over.errors} other errors")
    error = None if over.errors == 0 else f"{over.errors} errors, e.g. {over.error_examples[0]}"
    return Row(benchmark=label, ours_s=over.percentile(99) if accepted else None,
               target=f"p99 < {ACCEPTED_P99_LIMIT_S:.0f} s, 0 errors", limit_s=ACCEPTED_P99_LIMIT_S, error=error)
