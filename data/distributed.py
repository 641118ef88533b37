"""Ingest units as Dask tasks: a LocalCluster of worker processes, or an existing scheduler.

One task per independent unit (a scalar signal, or a cell group of one system). A task runs
``data.build.build_unit`` on a worker: it writes that unit's staged Parquet files into the
staging version and returns its ``UnitRecord``. Nothing else happens on the workers: the
manifest and the atomic publish stay on the client, once, at the end (``data.ingest``).

Workers must see the staging folder and the exports at the same paths as the client (one
machine, or a shared filesystem).

Failure rule: a worker that dies while it holds a task (killed, out of memory) loses that task
to the scheduler, which runs it again on another worker; a unit whose task has lost
``ALLOWED_WORKER_DEATHS + 1`` workers (a unit that kills every worker it meets), or a cluster
that goes away, fails the whole ingest with a ``ClusterError`` naming the unit. The ingest
then publishes nothing: CURRENT keeps the previous version (tests/test_ingest_distributed.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from data.build import WORKERS as IN_PROCESS_THREADS, build_unit
from data.discover import Unit
from data.manifest import UnitRecord

# A task that raised (e.g. an NFS hiccup reading an export) runs once more before its unit
# is reported as failed; a lost worker is counted separately, by the scheduler (below).
TASK_RETRIES = 1
# Workers a single task may lose before the scheduler gives up on it (KilledWorker). One:
# a killed worker is survived, a unit that kills two (out of memory each time) stops the run
# instead of taking down the whole cluster one worker after another. Applies to the
# LocalCluster started here; an existing scheduler keeps its own setting.
ALLOWED_WORKER_DEATHS = 1
# `bess ingest` without --workers/--scheduler starts a LocalCluster only for a job of at
# least this many CSV bytes to build AND on a machine with more cores than the in-process
# path already keeps busy (data.build.WORKERS parser threads, up to 4). Measured on this
# 2-core machine (README "Many workers"): starting 2 workers and loading their code costs
# ~5 s (cluster 3.6 s, imports and Numba cache 1.4 s, shut-down ~1 s), and the cluster never
# won: the 133 MB / 5.0 M-row set took 31 s in process and 84 s on 2 workers, the
# 100-system fleet (108 MB, 11,481 files) 62 s and 96 s. In process the parser's two
# threads already fill both cores; the cluster adds process start-up, task traffic and a
# second copy of the loaded code per worker.
AUTO_CLUSTER_MIN_BYTES = 64 << 20


# How long to wait for an existing scheduler to answer.
CONNECT_TIMEOUT = "10s"


class ClusterError(RuntimeError):
    """The Dask cluster could not be started or reached, or lost a unit's task for good."""


@dataclass(frozen=True)
class ClusterSpec:
    """Where the ingest's tasks run: ``workers`` local processes, or an existing ``scheduler``.

    ``workers=None`` and ``scheduler=None``: decided per run by ``auto_workers``.
    ``workers=0``: in process. ``worker_memory``: limit per LocalCluster worker, in bytes
    or a Dask string ("1.5GiB"); "auto" is Dask's own: the machine's memory split evenly.
    """

    workers: int | None = None
    scheduler: str | None = None
    worker_memory: str | int = "auto"

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 0:
            raise ValueError(f"--workers must be 0 or more, got {self.workers}")
        if self.workers and self.scheduler:
            raise ValueError("give --workers or --scheduler, not both")
        if self.scheduler is not None and "://" not in self.scheduler:
            raise ValueError(f"--scheduler must be an address such as tcp://host:8786, got {self.scheduler!r}")


def auto_workers(spec: ClusterSpec, todo_bytes: int, cores: int | None = None) -> int:
    """Local worker processes to start for a run (0: in process); an explicit choice wins."""
    if spec.scheduler or spec.workers is not None:
        return spec.workers or 0
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if todo_bytes < AUTO_CLUSTER_MIN_BYTES or cores <= IN_PROCESS_THREADS:
        return 0
    return cores


@contextmanager
def cluster_client(spec: ClusterSpec, workers: int) -> Iterator:
    """A ``distributed.Client`` on the given scheduler, or on a LocalCluster of ``workers`` processes."""
    import dask
    from distributed import Client, LocalCluster

    if spec.scheduler:
        try:
            client = Client(spec.scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {spec.scheduler}: {exc}") from exc
        with client:
            yield client
        return
    # The scheduler runs in this process, so its config is set here; workers are spawned
    # processes with one thread each (the parser runs its own threads inside a unit).
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_WORKER_DEATHS}):
        try:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   memory_limit=spec.worker_memory, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=50,
                                   # no dashboard; the scheduler's own HTTP routes on a free
                                   # loopback port instead of a fixed 8787 another tool may hold
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                   # one malloc arena per thread kept freed memory per worker
                                   env={"MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system"})
        except (OSError, TimeoutError, ValueError, RuntimeError) as exc:
            raise ClusterError(f"could not start a local Dask cluster of {workers} workers: {exc}") from exc
    with cluster, Client(cluster) as client:
        yield client


def build_on_cluster(client, units: list[Unit], stage: Path, version: str, hashes: dict[Path, str],
                     on_done: Callable[[Unit], None]) -> dict[tuple[str, str], Future]:
    """Run one task per unit; the finished outcomes keyed (system, name), as finished futures.

    A unit whose task raised gets a future holding that exception (the caller reports the
    unit as failed, as in process). A lost task (``KilledWorker``, cancelled, cluster gone)
    cancels the rest and raises ``ClusterError``. ``on_done`` is called as each task ends.
    """
    from distributed import as_completed

    stage = Path(stage).resolve()
    by_key, futures = {}, []
    for u in units:
        own = {f.path: hashes[f.path] for f in u.sources}
        fut = client.submit(build_unit, u, stage, version, own, pure=False, retries=TASK_RETRIES,
                            key=f"build-{u.system_id}/{u.name}-{version}")
        by_key[fut.key] = u
        futures.append(fut)
    out: dict[tuple[str, str], Future] = {}
    try:
        for fut in as_completed(futures):
            u = by_key[fut.key]
            done: Future = Future()
            if fut.status == "error":
                exc = fut.exception()
                if _lost(exc):
                    raise ClusterError(f"the Dask cluster lost the task of {u.system_id}/{u.name}: "
                                       f"{type(exc).__name__}: {exc}; nothing was published")
                done.set_exception(exc)
            elif fut.status != "finished":
                raise ClusterError(f"the task of {u.system_id}/{u.name} ended as {fut.status!r}; "
                                   "nothing was published")
            else:
                rec = fut.result()
                if not isinstance(rec, UnitRecord):
                    raise ClusterError(f"the task of {u.system_id}/{u.name} returned {type(rec).__name__}")
                done.set_result(rec)
            out[(u.system_id, u.name)] = done
            on_done(u)
    except BaseException:
        client.cancel(futures)
        raise
    return out


def _lost(exc: BaseException) -> bool:
    """A failure of the cluster, not of the unit's input: the run stops."""
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError

    return isinstance(exc, (KilledWorker, FutureCancelledError))
