"""End-to-end ingest: layout, merging, report, idempotent and incremental re-runs, a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from data.glossary import LEVELS
from data.info import describe_store
from data.parquet_out import ROW_GROUP_ROWS
from data.ingest import ingest
from data.store import open_snapshot
from data.verify import verify_snapshot
from tests.ingest_fixtures import BESS_ID, bump_mtime, make_fleet, series_csv, tree_state, utc_minutes, write

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fleet(tmp_path) -> Path:
    return make_fleet(tmp_path / "exports")


def run(roots, store):
    return ingest([Path(r) for r in roots], store, progress=False)


def test_first_ingest_publishes_the_documented_layout(fleet, tmp_path):
    store = tmp_path / "store"
    rep = run([fleet], store)
    assert rep.exit_code == 0 and rep.error is None and rep.published_version
    snap = open_snapshot(store)
    man = snap.manifest()
    assert man["systems"]["m1"]["kind"] == "meter" and man["systems"][BESS_ID]["kind"] == "bess"
    assert set(man["systems"][BESS_ID]["units"]) == {"bms1_soc", "cell_v", "cell_t"}
    for level in LEVELS:
        assert snap.has("m1", level, "com_ap") and snap.has(BESS_ID, level, "cell_v")
        assert not (snap.path / f"systems/{BESS_ID}/{level}/bms1_p1_v1.parquet").exists()
    raw = snap.read_range("m1", "raw", "com_ap")
    assert raw.schema == pl.Schema({"ts": pl.Datetime("ms", "UTC"), "value": pl.Float64})
    five = snap.read_range(BESS_ID, "5min", "cell_v")
    assert five.schema == pl.Schema({"pack": pl.Int16, "cell": pl.Int16, "ts": pl.Datetime("ms", "UTC"),
                                     "value": pl.Float64, "min": pl.Float64, "max": pl.Float64, "count": pl.UInt32})
    assert five.select("pack", "cell", "ts").equals(five.select("pack", "cell", "ts").sort("pack", "cell", "ts"))
    assert verify_snapshot(snap) == []


def test_split_exports_of_one_signal_are_merged(fleet, tmp_path):
    run([fleet], tmp_path / "store")
    snap = open_snapshot(tmp_path / "store")
    raw = snap.read_range("m1", "raw", "com_ap")
    assert raw.height == 3 * 96 and raw["ts"].is_sorted() and raw["ts"].n_unique() == raw.height
    names = [s["name"] for s in snap.manifest()["systems"]["m1"]["units"]["com_ap"]["sources"]]
    assert names == ["m1_com_ap_2024-05.csv", "m1_com_ap_part2.csv"]


def test_read_range_takes_any_aware_datetime(fleet, tmp_path):
    """A Europe/Berlin window reads the same rows as its UTC twin (Polars refused a ZoneInfo
    datetime against the UTC column); a naive one is refused with the reason."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    run([fleet], tmp_path / "store")
    snap = open_snapshot(tmp_path / "store")
    raw = snap.read_range("m1", "raw", "com_ap")
    start_utc, end_utc = raw["ts"][10], raw["ts"][40]
    berlin = ZoneInfo("Europe/Berlin")
    local = snap.read_range("m1", "raw", "com_ap", start_utc.astimezone(berlin), end_utc.astimezone(berlin))
    utc = snap.read_range("m1", "raw", "com_ap", start_utc.astimezone(timezone.utc), end_utc.astimezone(timezone.utc))
    assert local.height == 30 and local.equals(utc)
    with pytest.raises(ValueError, match="no time zone"):
        snap.read_range("m1", "raw", "com_ap", datetime(2024, 5, 1))


def test_cell_matrix_reads_only_the_asked_cells(fleet, tmp_path):
    make_fleet(fleet, cells=(5, 52), days=1)  # overwrite: 260 cells, one day
    run([fleet], tmp_path / "store")
    snap = open_snapshot(tmp_path / "store")
    df = snap.read_range(BESS_ID, "1h", "cell_v", cells=[(1, 1), (5, 52)])
    assert sorted(set(zip(df["pack"], df["cell"]))) == [(1, 1), (5, 52)]
    assert df.height == 2 * 24
    md = pq.ParquetFile(snap.file(BESS_ID, "raw", "cell_v")).metadata
    names = md.schema.to_arrow_schema().names

    def admits(rg, name, x):
        st = md.row_group(rg).column(names.index(name)).statistics
        return st.has_min_max and st.min <= x <= st.max

    groups = range(md.num_row_groups)
    assert md.num_row_groups >= 2 and all(md.row_group(g).num_rows <= ROW_GROUP_ROWS for g in groups)
    # sorted by (pack, cell, ts): statistics let a reader skip the row groups of other cells
    assert [g for g in groups if admits(g, "pack", 1) and admits(g, "cell", 1)] == [0]
    assert all(md.row_group(g).column(names.index("ts")).statistics.has_min_max for g in groups)


def test_duplicates_across_files_follow_the_documented_rule(tmp_path):
    root = tmp_path / "exports"
    t = utc_minutes("2024-05-01T00:00:00", 4, 15)
    write(root / "m2" / "com_ap_part1.csv", series_csv(t, [1, 2, 3, 4]))
    write(root / "m2" / "com_ap_part2.csv", series_csv(t[2:] + t[1:2], [3, 40, 2]))  # exact, conflict, exact
    rep = run([root], tmp_path / "store")
    raw = open_snapshot(tmp_path / "store").read_range("m2", "raw", "com_ap")
    assert raw["value"].to_list() == [1, 2, 3, 40]  # the later file wins the conflict
    assert dict(rep.rows_dropped) == {"duplicate_conflict": 1, "duplicate_exact": 2}


def test_report_is_printed_and_saved_with_exact_reasons(fleet, tmp_path):
    write(fleet / "meter" / "m1" / "pf.csv", "")
    write(fleet / "meter" / "m1" / "neg_ae.csv", b"\x00\x01\x02\x03binary")
    write(fleet / "meter" / "m1" / "com_ae.csv", "timestamp,value\n2024-05-01 00:00:00,1\n2024-05-01 00:15:00,-\n")
    store = tmp_path / "store"
    rep = run([fleet], store)
    assert rep.exit_code == 0
    issues = {Path(i.path).name: i.reason for i in rep.file_issues}
    assert "empty file" in issues["pf.csv"] and "binary" in issues["neg_ae.csv"]
    assert "com_ae.csv" not in issues  # a null value is counted, not a problem
    assert dict(rep.rows_dropped)["null_value"] == 1
    saved = json.loads((store / "reports" / "latest.json").read_text())
    assert saved["files_ingested"] == rep.files_ingested and saved["exit_code"] == 0
    assert Path(saved["report_path"]).exists() and Path(saved["report_path"]).name.startswith("ingest-")
    text = rep.format_text()
    assert "pf.csv: empty file" in text and "published version" in text


def test_rerun_on_unchanged_input_changes_no_byte(fleet, tmp_path):
    store = tmp_path / "store"
    first = run([fleet], store)
    before = tree_state(store / "versions"), (store / "CURRENT").read_bytes(), (store / "CURRENT").stat().st_mtime_ns
    for p in fleet.rglob("*.csv"):
        bump_mtime(p)  # touched but same content: still nothing to do
    again = run([fleet], store)
    after = tree_state(store / "versions"), (store / "CURRENT").read_bytes(), (store / "CURRENT").stat().st_mtime_ns
    assert again.published_version is None and again.current_version == first.published_version
    assert again.units_built == () and again.exit_code == 0
    assert after == before


def test_changed_file_rebuilds_only_its_signal(fleet, tmp_path):
    store = tmp_path / "store"
    run([fleet], store)
    old = open_snapshot(store)
    f = fleet / "meter" / "m1" / "pos_ae.csv"
    f.write_text(f.read_text() + "2024-05-04 02:00:00,99999\n")
    rep = run([fleet], store)
    new = open_snapshot(store)
    assert rep.units_built == ("m1/pos_ae",) and new.version != old.version
    for level in LEVELS:
        assert new.read_range("m1", level, "pos_ae")["value"].max() == 99999
        for sys_id, sig in (("m1", "com_ap"), (BESS_ID, "cell_v"), (BESS_ID, "bms1_soc")):
            a, b = old.file(sys_id, level, sig), new.file(sys_id, level, sig)
            assert os.path.samefile(a, b)  # hard link: the unchanged output was not rewritten
    assert verify_snapshot(new) == [] and verify_snapshot(old) == []  # readers of the old one keep working


def test_only_three_versions_are_kept(fleet, tmp_path):
    store = tmp_path / "store"
    f = fleet / "meter" / "m1" / "pos_ae.csv"
    for i in range(5):
        f.write_text(f.read_text() + f"2024-05-0{4 + i} 00:00:00,{100000 + i}\n")
        run([fleet], store)
    versions = sorted(p.name for p in (store / "versions").iterdir())
    assert len(versions) == 3 and open_snapshot(store).version == versions[-1]


def test_missing_root_is_a_clear_error(fleet, tmp_path):
    rep = run([fleet, tmp_path / "nope"], tmp_path / "store")
    assert rep.exit_code == 2 and "nope" in rep.error and "does not exist" in rep.error
    assert not (tmp_path / "store" / "CURRENT").exists()


def test_nothing_ingestable_exits_non_zero_and_keeps_the_store(fleet, tmp_path):
    store = tmp_path / "store"
    run([fleet], store)
    version = open_snapshot(store).version
    bad = tmp_path / "bad"
    write(bad / "m9" / "com_ap.csv", "timestamp,value\n")
    rep = run([bad], store)
    assert rep.exit_code == 1 and rep.published_version is None
    assert open_snapshot(store).version == version


def test_discovery_kinds_comma_roots_non_ascii_and_symlink_loops(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    t = utc_minutes("2024-05-01T00:00:00", 3, 15)
    write(a / "Zähler-Süd" / "com_ap.csv", series_csv(t, [1, 2, 3]))
    write(a / "bess" / "anlage1" / "bms1_soc.csv", series_csv(t, [50, 51, 52]))
    write(b / "ZHPESS99" / "bms1_soc.csv", series_csv(t, [50, 51, 52]))
    os.symlink(a, a / "Zähler-Süd" / "loop")
    rep = ingest([f"{a},{b}"], tmp_path / "store", progress=False)
    systems = open_snapshot(tmp_path / "store").manifest()["systems"]
    assert {k: v["kind"] for k, v in systems.items()} == {"Zähler-Süd": "meter", "anlage1": "bess", "ZHPESS99": "bess"}
    assert rep.exit_code == 0


def test_broken_link_is_reported_not_fatal(fleet, tmp_path):
    os.symlink(tmp_path / "gone.csv", fleet / "meter" / "m1" / "pf.csv")
    rep = run([fleet], tmp_path / "store")
    assert rep.exit_code == 0
    assert [i.reason for i in rep.file_issues if i.path.endswith("pf.csv")] == ["broken symbolic link"]


def test_unreadable_file_is_reported_not_fatal(fleet, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    p = write(fleet / "meter" / "m1" / "pf.csv", "timestamp,value\n2024-05-01 00:00:00,1\n")
    p.chmod(0)
    try:
        rep = run([fleet], tmp_path / "store")
    finally:
        p.chmod(0o644)
    assert rep.exit_code == 0 and any("pf.csv" in i.path for i in rep.file_issues)


def test_describe_store_lists_systems_signals_levels_in_local_time(fleet, tmp_path):
    run([fleet], tmp_path / "store")
    text = describe_store(tmp_path / "store")
    assert f"{BESS_ID} (bess)" in text and "m1 (meter)" in text
    assert "cell_v" in text and "6 cells" in text
    assert "2024-05-01 02:00 CEST" in text  # first sample 00:00 UTC shown in Europe/Berlin
    assert "raw 288" in text and "1d 4" in text  # 3 UTC days touch 4 local days


def _ingest_cmd(roots: Path, store: Path) -> list[str]:
    code = ("import sys; from pathlib import Path; from data.ingest import ingest; "
            f"sys.exit(ingest([Path({str(roots)!r})], {str(store)!r}, progress=False).exit_code)")
    return [sys.executable, "-c", code]


def test_killed_ingest_leaves_the_store_as_before_or_after(tmp_path):
    roots = tmp_path / "exports"
    make_fleet(roots, cells=(5, 52), days=14)
    store = tmp_path / "store"
    assert run([roots], store).exit_code == 0
    before = open_snapshot(store)
    before_soc = before.read_range(BESS_ID, "raw", "bms1_soc")
    rng = np.random.default_rng(11)
    for p in sorted((roots / "BESS" / BESS_ID).glob("*.csv")):  # change everything: a long rebuild
        lines = p.read_text().splitlines()
        lines[1] = lines[1].rsplit(",", 1)[0] + f",{rng.uniform(20, 30):.1f}"
        p.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(_ingest_cmd(roots, store), cwd=ROOT, env=env)
    staging = store / "staging"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if any(staging.rglob("*.parquet")):
            break
        time.sleep(0.005)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert killed, "ingest finished before it could be killed; the test needs a larger fleet"
    snap = open_snapshot(store)
    assert snap.version == before.version  # killed before publishing: the previous version stands
    assert verify_snapshot(snap) == []
    assert snap.read_range(BESS_ID, "raw", "bms1_soc").equals(before_soc)
    rep = run([roots], store)  # the next run cleans up and finishes the job
    assert rep.exit_code == 0 and rep.published_version
    assert list(staging.iterdir()) == []
    assert verify_snapshot(open_snapshot(store)) == []


def test_cli_ingest_and_info(fleet, tmp_path):
    store = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "api.cli", "ingest", str(fleet), "--store", str(store), "--quiet"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "published version" in out.stdout
    info = subprocess.run([sys.executable, "-m", "api.cli", "info", "--store", str(store)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert info.returncode == 0 and "m1 (meter)" in info.stdout


# -- issue 13: names at ingest ---------------------------------------------------------------

@pytest.mark.parametrize("name, ok", [
    ("m1", True), ("ZHPESS232A230002", True), ("Zähler_Süd", True), ("c_电表", True), ("Hall 3 (north)", True),
    ("com_ap+", True), ("<img src=x onerror=alert(1)>", False), ("a\"b", False), ("a'b", False), ("a&b", False),
    ("a;b", False), ("a\\b", False), (".hidden", False), (" lead", False), ("trail ", False), ("", False),
    ("x" * 101, False), ("ä" * 100, True), ("\u202eevil", False), ("tab\there", False),
])
def test_names_outside_the_documented_set_are_refused(name, ok):
    from data.names import name_problem

    assert (name_problem(name, "system id") is None) == ok, name_problem(name, "system id")


@pytest.mark.parametrize("signal, canonical, problem", [
    ("bms1_p1_v1", "bms1_p1_v1", None), ("bms1_p01_v001", "bms1_p1_v1", None), ("bms1_p05_t052", "bms1_p5_t52", None),
    ("bms1_p0_v1", None, "packs count from 1"), ("bms1_p1_v0", None, "cells count from 1"),
    ("bms1_p40000_v1", None, "pack number 40000"), ("bms1_p1_v1000", None, "cell number 1000"),
    ("bms1_soc", "bms1_soc", None),
])
def test_cell_indices_are_normalised_and_zero_or_absurd_ones_refused(signal, canonical, problem):
    from data.names import normalise_cell

    got, why = normalise_cell(signal)
    if problem is None:
        assert (got, why) == (canonical, None)
    else:
        assert problem in why


def test_cell_index_spellings_are_one_cell_in_the_store_and_reported(tmp_path):
    bess = tmp_path / "ex" / "BESS" / BESS_ID
    times = utc_minutes("2024-05-01T00:00:00", 4, 5)
    write(bess / "bms1_p1_v1.csv", series_csv(times, [3.30, 3.31, 3.32, 3.33]))
    write(bess / "bms1_p01_v001.csv", series_csv(times, [3.30, 3.31, 3.32, 3.33]))
    write(bess / "bms1_p1_v2.csv", series_csv(times, [3.40, 3.41, 3.42, 3.43]))
    write(bess / "bms1_p0_v3.csv", series_csv(times, [3.5] * 4))
    rep = ingest([tmp_path / "ex"], tmp_path / "store", progress=False)
    cells = open_snapshot(tmp_path / "store").read_range(BESS_ID, "raw", "cell_v")
    assert sorted(set(cells.select("pack", "cell").rows())) == [(1, 1), (1, 2)] and cells.height == 8
    issues = {Path(i.path).name: i for i in rep.file_issues}
    assert issues["bms1_p0_v3.csv"].fatal and "packs count from 1" in issues["bms1_p0_v3.csv"].reason
    assert not issues["bms1_p01_v001.csv"].fatal and "all name cell bms1_p1_v1" in issues["bms1_p01_v001.csv"].reason
    assert set(issues) == {"bms1_p0_v3.csv", "bms1_p01_v001.csv", "bms1_p1_v1.csv"}
