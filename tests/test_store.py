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
