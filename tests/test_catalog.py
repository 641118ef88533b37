"""The typed catalog (data/catalog.py) against the Parquet files and CSV exports it describes."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import polars as pl
import pytest

from data.catalog import catalog_from_manifest, read_catalog
from data.glossary import LEVELS, SystemKind
from data.ingest import ingest
from data.store import open_snapshot
from tests.ingest_fixtures import BESS_ID, make_fleet, series_csv, utc_minutes, write


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalog")
    make_fleet(root / "exports", days=2, cells=(3, 4))
    # Pack 3 cell 4's voltage file has no usable row: the catalog must not count that cell,
    # and must list the file as a fatal problem.
    write(root / "exports" / "BESS" / BESS_ID / "bms1_p3_v4.csv", "timestamp,value\nnot a time,abc\n")
    write(root / "exports" / "meter" / "m1" / "neg_ae.csv", series_csv(utc_minutes("2024-05-01T00:00:00", 4, 15),
                                                                     [1, 2, "x", 4]))
    assert ingest([root / "exports"], root / "store", progress=False).exit_code in (0, 1)
    return root / "store"


def test_systems_kinds_and_signals_match_the_export_tree(store):
    cat = open_snapshot(store).catalog()
    assert [s.id for s in cat.systems] == sorted([BESS_ID, "m1"])
    assert cat.system("m1").kind is SystemKind.METER and cat.system(BESS_ID).kind is SystemKind.BESS
    assert [u.name for u in cat.system("m1").signals] == ["com_ap", "neg_ae", "pos_ae"]
    assert [u.name for u in cat.system(BESS_ID).signals] == ["bms1_soc"]  # cell groups are not signals
    assert {u.name: u.unit for u in cat.system("m1").signals}["com_ap"] == "kW"
    assert cat.system("nope") is None


def test_packs_and_cells_equal_a_scan_of_the_cell_file(store):
    snap = open_snapshot(store)
    entry = snap.catalog().system(BESS_ID)
    df = pl.read_parquet(snap.file(BESS_ID, "1d", "cell_v"))
    scanned = sorted(set(zip(df["pack"].to_list(), df["cell"].to_list())))
    assert list(entry.cells("cell_v")) == scanned
    assert (3, 4) not in entry.cells("cell_v") and (3, 4) in entry.cells("cell_t")
    assert entry.packs == df["pack"].max() == 3
    assert entry.cells_per_pack == df["cell"].max() == 4
    assert open_snapshot(store).catalog().system("m1").packs == 0
    with pytest.raises(ValueError, match="group must be one of"):
        entry.cells("cell_x")


def test_levels_and_time_span_match_the_files(store):
    snap = open_snapshot(store)
    entry = snap.catalog().system("m1")
    on_disk = tuple(lv for lv in LEVELS if (snap.path / "systems" / "m1" / lv).is_dir())
    assert entry.levels == on_disk == LEVELS
    ts = pl.concat([pl.read_parquet(snap.file("m1", lv, u.name), columns=["ts"])
                    for u in entry.signals for lv in LEVELS])["ts"]
    assert entry.time_span.start == ts.min()
    # The span is half-open: it ends one millisecond after the last row.
    assert (entry.time_span.end - ts.max()).total_seconds() == pytest.approx(0.001)
    # The first 1d bin opens at local (Berlin, CEST) midnight, before the first sample at 00:00 UTC.
    assert entry.time_span.start == datetime(2024, 4, 30, 22, tzinfo=timezone.utc)


def test_problems_name_the_bad_files(store):
    cat = open_snapshot(store).catalog()
    bess = {p.path.rsplit("/", 1)[-1]: p for p in cat.system(BESS_ID).problems}
    assert bess["bms1_p3_v4.csv"].fatal
    meter = {p.path.rsplit("/", 1)[-1]: p for p in cat.system("m1").problems}
    assert not meter["neg_ae.csv"].fatal and meter["neg_ae.csv"].message


def test_outputs_list_every_file_with_its_checksum(store):
    snap = open_snapshot(store)
    outputs = snap.catalog().outputs()
    files = sorted(p.relative_to(snap.path).as_posix() for p in (snap.path / "systems").rglob("*.parquet"))
    assert sorted(outputs) == files
    for rel, (sha, size) in outputs.items():
        data = (snap.path / rel).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (sha, size)


def test_header_fields_and_units_round_trip_the_manifest(store):
    snap = open_snapshot(store)
    raw = json.loads((snap.path / "manifest.json").read_text(encoding="utf-8"))
    cat = read_catalog(snap.path)
    assert (cat.version, cat.created_utc, cat.manifest_version, cat.pipeline_version) == (
        raw["version"], raw["created_utc"], raw["manifest_version"], raw["pipeline_version"])
    assert cat.version == snap.version
    assert {f"{s}/{n}" for s, n in cat.units()} == {
        f"{s}/{n}" for s, sd in raw["systems"].items() for n in sd["units"]}


def test_an_unknown_manifest_version_is_refused_with_the_file_name(store):
    raw = json.loads((open_snapshot(store).path / "manifest.json").read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match=r"old\.json: manifest_version 99"):
        catalog_from_manifest({**raw, "manifest_version": 99}, "old.json")
