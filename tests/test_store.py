"""Store safety: the ingest lock, checksum verification, leftovers of killed runs, the manifest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from data.ingest import ingest
from data.manifest import MANIFEST_VERSION
from data.publish import StoreLock, StoreLockedError
from data.store import open_snapshot
from data.verify import verify_snapshot
from tests.ingest_fixtures import BESS_ID, make_fleet


@pytest.fixture
def store(tmp_path) -> Path:
    make_fleet(tmp_path / "exports", days=2)
    s = tmp_path / "store"
    assert ingest([tmp_path / "exports"], s, progress=False).exit_code == 0
    return s


def test_second_ingest_while_locked_fails_clearly(store, tmp_path):
    with StoreLock(store):
        rep = ingest([tmp_path / "exports"], store, progress=False)
    assert rep.exit_code == 2 and "another ingest is running" in rep.error and str(store) in rep.error
    with StoreLock(store), pytest.raises(StoreLockedError):
        StoreLock(store).__enter__()


def test_verify_detects_a_corrupted_parquet_file(store):
    snap = open_snapshot(store)
    assert verify_snapshot(snap) == []
    target = snap.file(BESS_ID, "raw", "cell_v")
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, size unchanged
    target.write_bytes(bytes(data))
    problems = verify_snapshot(snap)
    assert len(problems) == 1 and "cell_v.parquet" in problems[0] and "checksum" in problems[0]


def test_verify_detects_missing_truncated_and_stray_files(store):
    snap = open_snapshot(store)
    snap.file("m1", "1d", "com_ap").unlink()
    p = snap.file("m1", "1h", "pos_ae")
    p.write_bytes(p.read_bytes()[:-10])
    shutil.copy(snap.file("m1", "5min", "com_ap"), snap.path / "systems" / "m1" / "5min" / "extra.parquet")
    text = "\n".join(verify_snapshot(snap))
    assert "1d/com_ap.parquet: missing" in text
    assert "1h/pos_ae.parquet: size" in text
    assert "extra.parquet: not listed in the manifest" in text


def test_leftovers_of_a_killed_run_are_cleaned_and_ignored(store, tmp_path):
    current = open_snapshot(store).version
    (store / "staging" / "000099-junk" / "systems").mkdir(parents=True)
    (store / "CURRENT.tmp-123").write_text("000099-junk\n")
    unpublished = store / "versions" / "000050-20990101T000000Z"
    shutil.copytree(store / "versions" / current, unpublished)  # renamed into place, CURRENT never switched
    assert open_snapshot(store).version == current  # readers never see any of it
    (tmp_path / "exports" / "meter" / "m1" / "pos_ae.csv").write_text("timestamp,value\n2024-05-01 00:00:00,1\n")
    rep = ingest([tmp_path / "exports"], store, progress=False)
    assert rep.exit_code == 0
    assert list((store / "staging").iterdir()) == []
    assert not (store / "CURRENT.tmp-123").exists() and not unpublished.exists()
    assert verify_snapshot(open_snapshot(store)) == []


def test_manifest_records_sources_and_outputs(store):
    m = open_snapshot(store).manifest()
    assert m["manifest_version"] == MANIFEST_VERSION
    unit = m["systems"]["m1"]["units"]["com_ap"]
    src = unit["sources"][0]
    assert {"path", "size_bytes", "mtime_ns", "sha256", "rows_read", "rows_kept", "dropped", "problems"} <= set(src)
    raw = unit["outputs"]["raw"]
    assert raw["relpath"] == "systems/m1/raw/com_ap.parquet" and raw["rows"] == 2 * 96
    assert raw["ts_min"] == "2024-05-01T00:00:00.000Z" and len(raw["sha256"]) == 64
    assert unit["aggregation"] == "mean" and unit["unit"] == "kW"


# -- issue 13: store faults surfaced, CURRENT recovered -------------------------------------------

def _two_versions(store: Path, tmp_path: Path) -> list[str]:
    from tests.ingest_fixtures import bump_mtime, write

    p = tmp_path / "exports" / "meter" / "m1" / "pos_ae.csv"
    write(p, p.read_text().replace(",1", ",2", 3))
    bump_mtime(p)
    assert ingest([tmp_path / "exports"], store, progress=False).published_version
    return sorted(x.name for x in (store / "versions").iterdir())


def test_removing_current_never_deletes_a_complete_version_and_is_recovered(store, tmp_path):
    versions = _two_versions(store, tmp_path)
    assert len(versions) == 2
    (store / "CURRENT").unlink()
    rep = ingest([tmp_path / "exports"], store, progress=False)
    assert rep.error is None
    assert all((store / "versions" / v / "manifest.json").is_file() for v in versions)  # none deleted
    assert any(f"recovered it from the newest complete version {versions[-1]}" in n for n in rep.store_notes)
    assert "CURRENT was missing" in rep.format_text()
    assert open_snapshot(store).version == versions[-1]  # unchanged input: nothing new to publish


def test_current_naming_a_deleted_version_is_recovered_from_the_newest_complete_one(store, tmp_path):
    versions = _two_versions(store, tmp_path)
    shutil.rmtree(store / "versions" / versions[-1])
    rep = ingest([tmp_path / "exports"], store, progress=False)
    assert rep.error is None and any(versions[0] in n for n in rep.store_notes)
    assert (store / "versions" / versions[0] / "manifest.json").is_file()
    assert verify_snapshot(open_snapshot(store)) == []


def test_healthz_reports_a_deleted_parquet_file_as_degraded_and_the_rest_is_served(store):
    from api.http import health
    from core.service import QueryService

    svc = QueryService(store)
    status, body = health(svc)
    assert status == 200 and body["status"] == "ok"
    snap = open_snapshot(store)
    gone = snap.file("m1", "raw", "pos_ae")
    gone.unlink()
    from data import verify

    verify._quick.clear()  # the cheap check is cached a few seconds; do not wait for it
    status, body = health(svc)
    assert status == 200 and body["status"] == "degraded", body
    assert body["problems"] == ["systems/m1/raw/pos_ae.parquet: missing"]
    assert str(store) not in str(body)  # no server paths on the public endpoint
    assert svc.series("m1", "com_ap", method="none").values.size  # the intact part is served
    from data.store import CorruptDataError

    with pytest.raises(CorruptDataError, match="listed in the manifest .* but missing"):
        snap.file("m1", "raw", "pos_ae")


def test_verification_on_start_finds_a_flipped_byte_and_healthz_reports_it(store):
    from api.http import health
    from core.service import QueryService
    from data.verify import start_verification

    snap = open_snapshot(store)
    target = snap.path / "systems" / BESS_ID / "1h" / "cell_t.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # size unchanged: only the checksum pass can see it
    target.write_bytes(bytes(data))
    thread = start_verification(snap)
    assert thread is not None
    thread.join(timeout=120)
    status, body = health(QueryService(store))
    assert status == 200 and body["status"] == "degraded" and body["store"]["checksums_verified"] is True
    assert body["problems"] == [f"systems/{BESS_ID}/1h/cell_t.parquet: checksum mismatch (file corrupted or modified)"]


def test_fresh_server_healthz_says_clearly_that_nothing_is_published_yet(tmp_path):
    from api.http import health
    from core.service import QueryService

    status, body = health(QueryService(tmp_path / "empty-store"))
    assert status == 503 and body["status"] == "unavailable"
    assert body["reason"].startswith("no data published yet") and "bess ingest" in body["reason"]


@pytest.mark.parametrize("damage", [b"{\"systems\": {\"m1\": ", b"[1, 2]", b"{\"systems\": {\"m1\": {\"units\": 5}}}"])
def test_damaged_manifest_gives_bess_info_a_clear_error_not_a_traceback(store, damage):
    import subprocess
    import sys

    snap = open_snapshot(store)
    (snap.path / "manifest.json").write_bytes(damage)
    r = subprocess.run([sys.executable, "-m", "api.cli", "info", "--store", str(store)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "manifest" in r.stderr and "damaged" in r.stderr, r.stderr
    from api.http import health
    from core.service import QueryService

    _, body = health(QueryService(store))
    assert body["status"] in ("unavailable", "degraded") and "manifest" in str(body), body
