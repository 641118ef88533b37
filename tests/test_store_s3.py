"""The store on an object store (s3://bucket/prefix), against a real S3 server on loopback (moto's server).

Ingest, QueryService and the GraphQL HTTP server read and write through the URL; the results
are compared with the same data in a local store. A re-ingest is seen by a running server, a
second writer is refused, and a publish killed before its CURRENT never becomes visible.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from api.app import create_app
from core.service import QueryService
from data.fs import RemoteStore
from data.info import describe_store
from data.ingest import ingest
from data.objlock import ObjectLock
from data.publish import StoreLockedError, read_current
from data.store import CorruptDataError, open_snapshot
from data.verify import store_health, verify_snapshot
from tests.s3_server import CREDENTIALS, S3Server
from tests.test_api_support import GraphQLClient, live_server

BUCKET = "bess-test"
REPO = Path(__file__).resolve().parents[1]
T0, T1 = datetime(2024, 5, 1, tzinfo=timezone.utc), datetime(2024, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """moto's S3 server on 127.0.0.1:<free port>, with the environment a BESS-OS process needs to use it."""
    server = S3Server().start()
    with pytest.MonkeyPatch.context() as mp:
        for k, v in CREDENTIALS.items():
            mp.setenv(k, v)
        for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            mp.delenv(k, raising=False)
        mp.setenv("BESS_S3_ENDPOINT_URL", server.endpoint)
        mp.setenv("BESS_CACHE_DIR", str(tmp_path_factory.mktemp("s3cache")))
        import boto3

        boto3.client("s3", endpoint_url=server.endpoint).create_bucket(Bucket=BUCKET)
        yield server
    server.stop()


@pytest.fixture(scope="module")
def meters(demo_dir) -> Path:
    """The demo's six meters (a small, real-layout export root)."""
    return demo_dir / "meter"


@pytest.fixture(scope="module")
def two_meters(meters, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("two") / "meter"
    for m in ("m1", "m2"):
        shutil.copytree(meters / m, root / m)
    return root


@pytest.fixture(scope="module")
def local_meters(meters, tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("local-meters")
    assert ingest([meters], store, progress=False).exit_code == 0
    return store


@pytest.fixture(scope="module")
def s3_meters(s3, meters) -> str:
    url = f"s3://{BUCKET}/fleet/meters"
    report = ingest([meters], url, progress=False)
    assert report.exit_code == 0 and report.published_version, report.format_text()
    return url


def _fs():
    return RemoteStore.parse(f"s3://{BUCKET}").fs


def test_ingest_writes_the_same_bytes_as_a_local_ingest_and_they_verify(s3_meters, local_meters):
    snap, local = open_snapshot(s3_meters), open_snapshot(local_meters)
    assert snap.remote and not local.remote
    outputs = snap.catalog().outputs()
    assert outputs == local.catalog().outputs() and len(outputs) > 30  # every file: same sha256 and size
    fs = _fs()
    for rel, (sha, size) in list(outputs.items())[:5]:  # hash the objects themselves, not the cache
        data = fs.cat_file(f"{s3_meters}/versions/{snap.version}/{rel}")
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha
    assert verify_snapshot(snap) == []
    assert store_health(snap).status == "ok"
    # the report is on the store, the lock object is gone
    latest = json.loads(fs.cat_file(f"{s3_meters}/reports/latest.json"))
    assert latest["published_version"] == snap.version and latest["store"] == s3_meters
    assert latest["report_path"].startswith(f"{s3_meters}/reports/ingest-")
    assert not fs.exists(f"{s3_meters}/.ingest.lock")
    # `bess info` reads the same catalog (its first line names the store)
    assert describe_store(s3_meters).splitlines()[1:] == describe_store(local_meters).splitlines()[1:]
    assert describe_store(s3_meters).startswith(f"store {s3_meters}  version {snap.version}")


def test_an_unchanged_reingest_publishes_nothing(s3_meters, meters):
    before = read_current(RemoteStore.parse(s3_meters))
    report = ingest([meters], s3_meters, progress=False)
    assert report.exit_code == 0 and report.published_version is None and report.current_version == before
    assert read_current(RemoteStore.parse(s3_meters)) == before


def test_query_service_on_s3_answers_as_on_the_local_store(s3_meters, local_meters):
    remote, local = QueryService(s3_meters), QueryService(local_meters)
    assert [s.id for s in remote.systems()] == [s.id for s in local.systems()] == [f"m{i}" for i in range(1, 7)]
    for sid in ("m1", "m4"):
        a, b = remote.series(sid, "com_ap", T0, T1), local.series(sid, "com_ap", T0, T1)
        assert a.resolution == b.resolution and a.rows_in_window == b.rows_in_window > 0
        np.testing.assert_array_equal(a.timestamps_ms, b.timestamps_ms)
        np.testing.assert_array_equal(a.values, b.values)
        assert remote.kpis(sid, T0, T1) == local.kpis(sid, T0, T1)
    raw = open_snapshot(s3_meters).read_range("m2", "raw", "pos_ae", T0, T1)
    assert raw.equals(open_snapshot(local_meters).read_range("m2", "raw", "pos_ae", T0, T1)) and raw.height > 0


def test_a_corrupted_object_is_never_served(s3, s3_meters):
    url = f"s3://{BUCKET}/fleet/corrupt"
    fs = _fs()
    fs.copy(s3_meters, url, recursive=True)
    snap = open_snapshot(url)
    rel = "systems/m3/raw/com_ap.parquet"
    obj = f"{url}/versions/{snap.version}/{rel}"
    data = bytearray(fs.cat_file(obj))
    data[len(data) // 2] ^= 0xFF  # same size, one flipped byte
    fs.pipe_file(obj, bytes(data))
    with pytest.raises(CorruptDataError, match="fails its checksum"):
        snap.read_range("m3", "raw", "com_ap")
    assert snap.read_range("m3", "raw", "pos_ae").height > 0  # the rest is served
    assert any(p.startswith(f"{url}/versions/{snap.version}/{rel}: checksum mismatch") for p in verify_snapshot(snap))
    assert store_health(snap).status == "degraded"


_QUERY = """{ systems { id } system(id: "m1") {
  series(signal: "com_ap", from: "2024-05-06", to: "2024-05-13", maxPoints: 300) { timestampsMs values resolution }
  kpis(from: "2024-05-01", to: "2024-06-01") { ... on MeterKpis { importKwh exportKwh peakPowerKw } } } }"""


def test_graphql_server_reads_s3_and_sees_a_new_version(s3, two_meters, meters, local_meters):
    url = f"s3://{BUCKET}/fleet/live"
    first = ingest([two_meters], url, progress=False)
    assert first.exit_code == 0, first.format_text()
    service = QueryService(url)
    with live_server(create_app(service, token=None, cors_origins=[])) as base, \
            live_server(create_app(QueryService(local_meters), token=None, cors_origins=[])) as local_base:
        gql, local_gql = GraphQLClient(base), GraphQLClient(local_base)
        body = gql(_QUERY)
        assert "errors" not in body, body
        assert [s["id"] for s in body["data"]["systems"]] == ["m1", "m2"]
        expected = local_gql(_QUERY)["data"]
        assert body["data"]["system"] == expected["system"]  # same answers as from a local store
        pinned = service.pinned()  # a request in flight during the publish keeps its version

        second = ingest([meters], url, progress=False)
        assert second.exit_code == 0 and second.published_version, second.format_text()
        assert second.published_version != first.published_version
        body = gql(_QUERY)  # the running server's next request reads the new CURRENT
        assert body["data"] == expected
        assert [s.id for s in pinned.systems()] == ["m1", "m2"]
        assert pinned.series("m2", "com_ap", T0, T1).rows_in_window > 0  # the old version is still there
        import httpx

        health = httpx.get(f"{base}/healthz", timeout=30).json()
        assert health["status"] == "ok" and second.published_version in json.dumps(health)


def test_a_second_writer_is_refused(s3, s3_meters, meters):
    store = RemoteStore.parse(s3_meters)
    before = read_current(store)
    with ObjectLock(store):
        report = ingest([meters], s3_meters, progress=False)
        assert report.exit_code == 2 and "another ingest is running" in report.error
        with pytest.raises(StoreLockedError):
            ObjectLock(store).__enter__()
    assert read_current(store) == before

    # Two writers at the same instant: the conditional put lets exactly one in.
    barrier, results, release = threading.Barrier(2), [], threading.Event()

    def writer() -> None:
        barrier.wait()
        try:
            with ObjectLock(store):
                results.append("held")
                release.wait(30)
        except StoreLockedError:
            results.append("refused")
            release.set()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["held", "refused"]
    assert not _fs().exists(f"{s3_meters}/.ingest.lock")  # released


def test_an_expired_lock_is_taken_over_once_and_its_holder_cannot_publish(s3, s3_meters):
    store = RemoteStore.parse(s3_meters)
    fs = _fs()
    stale = {"owner": "dead", "host": "gone", "pid": 1, "expires_utc": "2020-01-01T00:00:00+00:00"}
    fs.pipe_file(store.key(".ingest.lock"), json.dumps(stale).encode())
    with ObjectLock(store) as lock:
        assert "took over the expired store lock of gone pid 1" in lock.took_over
        lock.check()  # still ours
        with pytest.raises(StoreLockedError, match="another ingest is running"):
            ObjectLock(store).__enter__()  # not expired: refused
        fs.pipe_file(store.key(".ingest.lock"), json.dumps({**stale, "owner": "thief"}).encode())
        with pytest.raises(StoreLockedError, match="no longer ours"):
            lock.check()


def test_a_killed_publish_is_never_visible_and_the_next_ingest_cleans_it(s3, two_meters, meters, tmp_path):
    url = f"s3://{BUCKET}/fleet/killed"
    store = RemoteStore.parse(url)
    first = ingest([two_meters], url, progress=False)
    assert first.exit_code == 0
    v1 = first.published_version
    s3.hold_put("/fleet/killed/CURRENT")  # the writer is killed at its last step: all else is uploaded
    env = {**os.environ, "PYTHONPATH": str(REPO), "BESS_LOCK_TTL_S": "3"}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "ingest", str(meters), "--store", url, "--quiet"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert s3.held.wait(300), proc.communicate(timeout=5)[0] if proc.poll() is not None else "no CURRENT put"
        versions = store.names("versions")
        killed = [v for v in versions if v != v1]
        assert len(killed) == 1 and store.exists(f"versions/{killed[0]}/manifest.json")  # uploaded, complete
        assert open_snapshot(url).version == v1
        assert [s.id for s in QueryService(url).systems()] == ["m1", "m2"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        s3.release()
    assert read_current(store) == v1 and [s.id for s in QueryService(url).systems()] == ["m1", "m2"]

    deadline = time.monotonic() + 120
    while True:  # the killed writer's lock expires after its 3 s time-to-live
        report = ingest([meters], url, progress=False)
        if "another ingest is running" not in (report.error or "") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert report.exit_code == 0 and report.published_version, report.format_text()
    assert any("took over the expired store lock" in n for n in report.store_notes)
    assert killed[0] not in store.names("versions")  # the never-published upload is cleaned away
    assert sorted(store.names("versions")) == sorted([v1, report.published_version])
    assert [s.id for s in QueryService(url).systems()] == [f"m{i}" for i in range(1, 7)]
    assert verify_snapshot(open_snapshot(url)) == []


def test_prune_keeps_the_newest_versions_on_s3(s3, two_meters, meters):
    from data.publish import KEEP_VERSIONS, prune_versions

    url = f"s3://{BUCKET}/fleet/prune"
    store = RemoteStore.parse(url)
    published = []
    for root in (two_meters, meters, two_meters, meters, two_meters):
        report = ingest([root], url, progress=False)
        assert report.exit_code == 0 and report.published_version, report.format_text()
        published.append(report.published_version)
    assert sorted(store.names("versions")) == sorted(published[-KEEP_VERSIONS:])
    store.write_bytes("CURRENT", (published[-3] + "\n").encode())  # a rollback to an older one
    assert prune_versions(store, keep=1) == [published[-2]]
    assert sorted(store.names("versions")) == sorted([published[-3], published[-1]])


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=full, capture_output=True, text=True,
                          timeout=300)


def test_bad_store_urls_and_missing_credentials_are_clear_errors(s3, s3_meters, two_meters, tmp_path):
    r = _cli("info", "--store", "s3://")
    assert r.returncode == 2 and "store URL 's3://' names no bucket" in r.stderr and "Traceback" not in r.stderr
    r = _cli("ingest", str(two_meters), "--store", "s3://", "--quiet")
    assert r.returncode == 2 and "names no bucket" in r.stdout
    no_creds = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "x"), "AWS_CONFIG_FILE": str(tmp_path / "y")}
    r = _cli("info", "--store", s3_meters, **no_creds)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"store {s3_meters}" in r.stderr and "AWS_ACCESS_KEY_ID" in r.stderr
    r = _cli("ingest", str(two_meters), "--store", f"s3://{BUCKET}-missing/x", "--quiet")
    assert r.returncode == 2 and f"store s3://{BUCKET}-missing/x" in r.stdout and "bucket does not exist" in r.stdout
    r = _cli("ingest", str(two_meters), "--store", "memory://bucket/x", "--quiet")
    assert r.returncode == 2 and "memory:// stores can be read, not written" in r.stdout
    r = _cli("info", "--store", s3_meters)  # and with credentials, the same command works
    assert r.returncode == 0 and r.stdout.startswith(f"store {s3_meters}  version "), r.stderr


def test_bess_serve_process_on_an_s3_url(s3, s3_meters, tmp_path):
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "serve.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--store", s3_meters], env={**os.environ, "PYTHONPATH": str(REPO),
                                                             "BESS_API_TOKEN": "", "BESS_CORS_ORIGINS": ""},
                                stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                health = httpx.get(f"{url}/healthz", timeout=5)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
        r = httpx.post(f"{url}/graphql", json={"query": "{ systems { id } }"}, timeout=60)
        assert [s["id"] for s in r.json()["data"]["systems"]] == [f"m{i}" for i in range(1, 7)]
        assert f"serving store {s3_meters}" in log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_lost_or_dangling_current_on_s3_is_recovered_by_the_next_ingest(s3, s3_meters, meters):
    from data.store import ManifestError, NoStoreError

    url = f"s3://{BUCKET}/fleet/recover"
    fs = _fs()
    fs.copy(s3_meters, url, recursive=True)
    store = RemoteStore.parse(url)
    v1 = read_current(store)
    store.remove("CURRENT")
    with pytest.raises(NoStoreError, match="no published store"):
        open_snapshot(url)
    report = ingest([meters], url, progress=False)  # nothing changed: only CURRENT is put back
    assert report.exit_code == 0 and report.published_version is None, report.format_text()
    assert any(f"CURRENT was missing; recovered it from the newest complete version {v1}" in n
               for n in report.store_notes)
    assert open_snapshot(url).version == v1

    store.remove(f"versions/{v1}/manifest.json")  # the only version is incomplete now
    with pytest.raises(ManifestError, match="missing"):
        open_snapshot(url).catalog()
    report = ingest([meters], url, progress=False)
    assert report.exit_code == 0 and report.published_version, report.format_text()
    assert report.published_version > v1  # numbered after the damaged one, which is pruned later, never reused
    snap = open_snapshot(url)
    assert snap.version == report.published_version and verify_snapshot(snap) == []
    assert snap.catalog().outputs() == open_snapshot(s3_meters).catalog().outputs()
