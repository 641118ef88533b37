"""The fleet summary as Dask tasks: a real LocalCluster of 2 worker processes gives the same rows as the
in-process path, the service caches it per store version, and an unreachable scheduler falls back."""

from __future__ import annotations

import pytest

from core.fleet import SCHEDULER_ENV, fleet_rows
from core.service import QueryService


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    # 2 worker processes of 1 thread: every row is pickled to and from another process
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # not a fixed 8787 another tool holds
                      memory_limit="1GiB") as lc, Client(lc, set_as_default=False) as client:
        yield client


def _row_tasks(stream) -> list[dict]:  # noqa: ANN001
    return [t for t in stream.data if "_row_task" in str(t["key"])]


@pytest.mark.slow
def test_dask_rows_equal_in_process_rows(demo_store, cluster):
    from distributed import get_task_stream

    local = fleet_rows(QueryService(demo_store).pinned())
    with get_task_stream(client=cluster) as stream:
        on_cluster = fleet_rows(QueryService(demo_store).pinned(), scheduler=cluster)
    assert len(local) == 9 and on_cluster == local  # frozen dataclasses: every field, in risk order
    assert any(r.critical_cells for r in local)  # the comparison covers BESS with findings, not only meters
    assert len(_row_tasks(stream)) == 9  # one task per system, run on the cluster


@pytest.mark.slow
def test_service_fleet_uses_the_configured_scheduler_and_caches_per_version(demo_store, cluster, monkeypatch):
    from distributed import get_task_stream

    monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler.address)
    service = QueryService(demo_store)
    with get_task_stream(client=cluster) as stream:
        first = service.pinned().fleet()
    assert len(_row_tasks(stream)) == 9  # the rows were Dask tasks
    with get_task_stream(client=cluster) as stream:
        again = service.pinned().fleet()
    assert again is first and _row_tasks(stream) == []  # same version: the cached rows, no new tasks


def test_an_unreachable_scheduler_falls_back_to_in_process(demo_store, monkeypatch):
    monkeypatch.setattr("core.fleet.CONNECT_TIMEOUT_S", 1)
    rows = fleet_rows(QueryService(demo_store).pinned(), scheduler="tcp://127.0.0.1:9")  # nothing listens
    assert len(rows) == 9 and rows == fleet_rows(QueryService(demo_store).pinned())
