"""Fleet ingest rows: whole `bess ingest` processes on the 100-system demo fleet and the in-process peak RSS.

Every row times a whole command as a user runs it (``python -m api.cli ingest ...`` in a
fresh process: imports, Numba cache load, cluster start-up and shut-down included):

* ``--workers 2`` against ``--workers 1`` on the fleet (``bess demo --scale fleet``, cached
  under .bess/bench/): the throughput ratio of adding a worker;
* the peak RSS of each worker process (psutil over the process tree, sampled every 50 ms);
* the default ``bess ingest`` (in process on this machine, see data/distributed.py) against a
  fresh process that does a bare Polars ``read_csv`` of the same files (goal: within 2x);
* the exact peak RSS (getrusage of the child) of the in-process path on the 133 MB / 5.0 M-row
  set: the 6 meters and the first BESS of the small demo (goal: below 300 MB).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.table import Row

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT.parent / ".bess" / "bench"
FLEET_SYSTEMS = 100
TWO_WORKER_SPEEDUP = 1.5
POLARS_WITHIN = 2.0
WORKER_RSS_LIMIT = 1024**3
IN_PROCESS_RSS_LIMIT = 300 * 1024**2
SAMPLE_S = 0.05


@dataclass(frozen=True)
class Tree:
    """A finished command: wall seconds, its own exact peak RSS, and sampled peaks of its children."""

    wall_s: float
    peak_self_bytes: int
    worker_peaks: tuple[int, ...]  # spawned worker processes (multiprocessing spawn_main)
    returncode: int
    stderr: str


def bench_ingest_fleet(quick: bool, small_fleet: Path) -> list[Row]:
    """``small_fleet``: the small demo (its subset is the in-process set); quick: the tiny set for both."""
    from bench.ingest import MemoryRow

    fleet = small_fleet if quick else _fleet()
    subset = small_fleet if quick else _subset(small_fleet)
    files = _csv_files(fleet)
    mb = sum(p.stat().st_size for p in files) / 1e6
    label = f"{'tiny' if quick else str(FLEET_SYSTEMS) + '-system'} fleet ({len(files):,} files, {mb:.0f} MB)"
    rows: list[Row] = []
    one = _ingest(fleet, ["--workers", "1"])
    two = _ingest(fleet, ["--workers", "2"])
    default = _ingest(fleet, [])
    polars = _run([sys.executable, "-c", _POLARS_BARE, str(fleet)])
    for name, t in (("--workers 1", one), ("--workers 2", two), ("default", default), ("polars", polars)):
        if t.returncode != 0:
            return [Row(f"fleet ingest, {label}", error=f"{name} failed: {(t.stderr.strip().splitlines() or ['?'])[-1]}")]
    rows.append(Row(f"fleet ingest, {label}: `bess ingest --workers 2`, whole process", two.wall_s,
                    "`--workers 1`, whole process", one.wall_s,
                    f"{TWO_WORKER_SPEEDUP}x faster with 2 workers", min_speedup=TWO_WORKER_SPEEDUP))
    peak_worker = max(two.worker_peaks, default=0)
    rows.append(MemoryRow(
        f"fleet ingest, {label}: peak RSS per worker (--workers 2, sampled): "
        f"{', '.join(f'{p / 1024**2:.0f} MB' for p in two.worker_peaks)}",
        two.wall_s, target=f"each worker < {WORKER_RSS_LIMIT / 1024**3:.0f} GB",
        peak_bytes=peak_worker or None, limit_bytes=WORKER_RSS_LIMIT))
    rows.append(Row(f"fleet ingest, {label}: `bess ingest` (default: in process here), whole process", default.wall_s,
                    "bare polars read_csv of every file, whole process", polars.wall_s,
                    f"within {POLARS_WITHIN:.0f}x of the bare read", min_speedup=1 / POLARS_WITHIN))
    inproc = _ingest(subset, ["--workers", "0"])
    what = "quick subset" if quick else "133 MB / 5.0 M-row set (6 meters + 1 BESS of the small demo)"
    if inproc.returncode != 0:
        rows.append(Row(f"peak RSS, in-process ingest of the {what}", error=inproc.stderr.strip()[-200:] or "?"))
    else:
        rows.append(MemoryRow(
            f"peak RSS, `bess ingest --workers 0` (in process) of the {what}: "
            f"{inproc.peak_self_bytes / 1024**2:.0f} MB", inproc.wall_s,
            target=f"peak RSS < {IN_PROCESS_RSS_LIMIT / 1024**2:.0f} MB",
            peak_bytes=inproc.peak_self_bytes, limit_bytes=IN_PROCESS_RSS_LIMIT))
    return rows


_POLARS_BARE = """\
import sys
from pathlib import Path
import polars as pl
from data.discover import discover
from data.sniff import sniff
n = 0
for u in discover([Path(sys.argv[1])]).units:
    for f in u.sources:
        sep = sniff(f.path).delimiter or ","
        n += pl.read_csv(f.path, separator=sep, decimal_comma=sep != ",").height
print(n)
"""


def _ingest(root: Path, extra: list[str]) -> Tree:
    store = CACHE / "stores" / "ingest-fleet"
    shutil.rmtree(store, ignore_errors=True)
    try:
        return _run([sys.executable, "-m", "api.cli", "ingest", str(root), "--store", str(store), "--quiet", *extra])
    finally:
        shutil.rmtree(store, ignore_errors=True)


def _run(cmd: list[str]) -> Tree:
    """Run a command in a fresh process; time it; its exact peak RSS (wait4); its workers' sampled."""
    import psutil

    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        me = psutil.Process(proc.pid)
        peaks: dict[int, int] = {}
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                for child in me.children(recursive=True):
                    if "spawn_main" in " ".join(child.cmdline()):
                        peaks[child.pid] = max(peaks.get(child.pid, 0), child.memory_info().rss)
            except psutil.Error:
                pass  # a child that just ended
            time.sleep(SAMPLE_S)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    workers = tuple(sorted((p for p in peaks.values() if p > 50 * 1024**2), reverse=True))  # not the tracker
    return Tree(wall, usage.ru_maxrss * 1024, workers, proc.returncode, stderr)


def _csv_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".csv", ".gz", ".zip"))


def _fleet() -> Path:
    from data.demo.config import config_for
    from data.demo.generate import build_demo

    out = CACHE / f"demo-fleet-{FLEET_SYSTEMS}"
    if not (out / "ground_truth.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        cfg = config_for("fleet", 7, systems=FLEET_SYSTEMS)
        build_demo(out, cfg, progress=False)  # ground_truth.json is written last: a complete fleet
    return out


def _subset(small_fleet: Path) -> Path:
    """The 6 meters and the first BESS of a demo fleet, hard-linked (copied across devices)."""
    from data.demo.config import SYSTEM_IDS

    out = CACHE / "subset-133mb"
    if out.exists():
        return out
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for folder in [small_fleet / "meter", small_fleet / "BESS" / SYSTEM_IDS[0]]:
        shutil.copytree(folder, tmp / folder.relative_to(small_fleet), copy_function=_link_or_copy)
    tmp.rename(out)
    return out


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
