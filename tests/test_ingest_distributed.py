"""Ingest on a real Dask cluster (2 worker processes on loopback): same bytes as in process, a killed worker."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

from data.distributed import ClusterSpec, auto_workers
from data.ingest import ingest
from data.publish import read_current
from data.store import VERSIONS_DIR, open_snapshot
from tests.ingest_fixtures import bump_mtime, make_fleet

IN_PROCESS = ClusterSpec(workers=0)


@pytest.fixture(scope="module")
def cluster():
    """Two single-thread worker processes under nannies (a killed worker is restarted)."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, silence_logs=50,
                          scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as lc, Client(lc) as client:
            yield lc.scheduler_address, client


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    # Enough work per cell group (4 packs x 8 cells, 5-min data over 12 days) that a task is
    # still running when the kill test looks for one.
    return make_fleet(tmp_path_factory.mktemp("dist") / "exports", days=12, cells=(4, 8))


def version_state(store: Path) -> dict:
    """sha256 of every file of the published version; the manifest without its run's name and time."""
    snap = open_snapshot(store)
    out = {}
    for p in sorted(snap.path.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            out[p.relative_to(snap.path).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    man = json.loads((snap.path / "manifest.json").read_text())
    for key in ("version", "previous_version", "created_utc"):
        man.pop(key)
    for system in man["systems"].values():
        for unit in system["units"].values():
            unit.pop("built_in")
    out["manifest.json"] = man
    return out


@pytest.fixture(scope="module")
def serial_state(exports, tmp_path_factory) -> dict:
    store = tmp_path_factory.mktemp("serial") / "store"
    rep = ingest([exports], store, progress=False, cluster=IN_PROCESS)
    assert rep.exit_code == 0 and rep.error is None
    return version_state(store)


def test_ingest_on_an_existing_scheduler_is_byte_identical_to_a_serial_ingest(cluster, exports, serial_state,
                                                                               tmp_path):
    address, client = cluster
    store = tmp_path / "store"
    rep = ingest([exports], store, progress=False, cluster=ClusterSpec(scheduler=address))
    assert rep.exit_code == 0 and rep.error is None and rep.published_version
    state = version_state(store)
    assert len(state) > 20  # 5 levels x (3 scalar units + 2 cell groups), and the manifest
    assert state == serial_state
    # the work ran on the workers: the scheduler knows the tasks (keys "build-<system>/<unit>-<version>")
    assert "build" in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))


def test_workers_option_starts_its_own_local_cluster_with_the_same_result(exports, serial_state, tmp_path):
    store = tmp_path / "store"
    rep = ingest([exports], store, progress=False, cluster=ClusterSpec(workers=2, worker_memory="1GiB"))
    assert rep.exit_code == 0 and rep.error is None, rep.error
    assert version_state(store) == serial_state


def _ingest_killing_a_worker(address: str, client: Client, exports: Path, store: Path):
    """Run an ingest against the cluster and SIGKILL a worker process while it holds a build task."""
    pids = client.run(os.getpid)
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(
        report=ingest([exports], store, progress=False, cluster=ClusterSpec(scheduler=address))))
    t.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and t.is_alive() and time.monotonic() < deadline:
        busy = {w: keys for w, keys in client.processing().items()
                if any(str(k).startswith("build-") for k in keys)}
        for w in busy:
            if w in pids:
                os.kill(pids[w], signal.SIGKILL)
                killed = w
                break
        time.sleep(0.005)
    t.join(120)
    assert killed is not None, "no build task was seen running: nothing was killed"
    assert not t.is_alive()
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    return result["report"]


def test_a_worker_killed_mid_task_is_survived_and_the_result_is_complete(cluster, exports, serial_state,
                                                                          tmp_path):
    address, client = cluster
    store = tmp_path / "store"
    rep = _ingest_killing_a_worker(address, client, exports, store)
    assert rep.exit_code == 0 and rep.error is None, rep.error
    assert version_state(store) == serial_state


def test_a_lost_task_fails_the_ingest_cleanly_and_publishes_nothing(cluster, exports, tmp_path):
    address, client = cluster
    store = tmp_path / "store"
    first = ingest([exports], store, progress=False, cluster=IN_PROCESS)
    assert first.exit_code == 0
    before = read_current(store)
    for f in sorted(exports.rglob("bms1_p*_v*.csv")):
        bump_mtime(f)
    f.write_text(f.read_text().replace("3.3", "3.4", 1))  # a real change: the cell group is rebuilt
    # no second chance: the first lost worker fails its task (KilledWorker)
    client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 0))
    try:
        rep = _ingest_killing_a_worker(address, client, exports, store)
    finally:
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 1))
    assert rep.exit_code == 2 and rep.published_version is None
    assert "lost the task" in rep.error and "nothing was published" in rep.error
    assert read_current(store) == before
    assert sorted(p.name for p in (store / VERSIONS_DIR).iterdir()) == [before]  # no staging left behind
    assert open_snapshot(store).version == before


def test_scheduler_that_cannot_be_reached_is_a_clear_error_and_changes_nothing(exports, tmp_path, monkeypatch):
    monkeypatch.setattr("data.distributed.CONNECT_TIMEOUT", "2s")  # the test's patience, not the rule
    store = tmp_path / "store"
    rep = ingest([exports], store, progress=False, cluster=ClusterSpec(scheduler="tcp://127.0.0.1:9"))
    assert rep.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in rep.error
    assert read_current(store) is None


def test_small_jobs_stay_in_process_unless_workers_are_asked_for():
    assert auto_workers(ClusterSpec(), 1 << 20, cores=16) == 0
    assert auto_workers(ClusterSpec(), 1 << 40, cores=16) == 16
    # the in-process parser threads already use a small machine's cores
    assert auto_workers(ClusterSpec(), 1 << 40, cores=2) == 0
    assert auto_workers(ClusterSpec(workers=0), 1 << 40) == 0
    assert auto_workers(ClusterSpec(workers=3), 1) == 3
    with pytest.raises(ValueError, match="not both"):
        ClusterSpec(workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="--scheduler"):
        ClusterSpec(scheduler="localhost")
