"""data/discover.py: export trees to systems and units, with every skipped file named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from data.discover import RootError, check_roots, discover, split_roots
from data.glossary import SystemKind
from tests.ingest_fixtures import BESS_ID, make_fleet, write


def test_a_fleet_becomes_systems_kinds_and_units(tmp_path):
    make_fleet(tmp_path, cells=(2, 3))
    found = discover([tmp_path])
    assert [(s.system_id, s.kind) for s in found.systems] == [(BESS_ID, SystemKind.BESS), ("m1", SystemKind.METER)]
    m1 = next(s for s in found.systems if s.system_id == "m1")
    units = {u.name: u for u in m1.units}
    assert sorted(units) == ["com_ap", "pos_ae"]
    # Split exports ("m1_com_ap_2024-05", "m1_com_ap_part2") are one signal, one unit.
    assert [f.path.name for f in units["com_ap"].sources] == ["m1_com_ap_2024-05.csv", "m1_com_ap_part2.csv"]
    bess = {u.name: u for u in next(s for s in found.systems if s.system_id == BESS_ID).units}
    assert sorted(bess) == ["bms1_soc", "cell_t", "cell_v"]
    assert bess["cell_v"].cell_group == "cell_v" and len(bess["cell_v"].sources) == 6
    assert {f.signal for f in bess["cell_v"].sources} == {f"bms1_p{p}_v{c}" for p in (1, 2) for c in (1, 2, 3)}
    f = units["com_ap"].sources[0]
    assert (f.size_bytes, f.mtime_ns) == (f.path.stat().st_size, f.path.stat().st_mtime_ns)
    assert found.problems == ()


def test_an_id_starting_with_zhpess_is_a_bess_outside_a_bess_folder(tmp_path):
    write(tmp_path / "site" / "ZHPESS000000000001" / "bms1_soc.csv", "timestamp,value\n2024-01-01 00:00:00,50\n")
    write(tmp_path / "site" / "meterA" / "com_ap.csv", "timestamp,value\n2024-01-01 00:00:00,1\n")
    kinds = {s.system_id: s.kind for s in discover([tmp_path]).systems}
    assert kinds == {"ZHPESS000000000001": SystemKind.BESS, "meterA": SystemKind.METER}


def test_skipped_files_and_folders_are_named(tmp_path):
    write(tmp_path / "m1" / "com_ap.csv", "timestamp,value\n2024-01-01 00:00:00,1\n")
    write(tmp_path / "other" / "m1" / "pf.csv", "timestamp,value\n2024-01-01 00:00:00,1\n")  # same id twice
    (tmp_path / "m1" / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    os.mkfifo(tmp_path / "m1" / "pipe.csv")
    write(tmp_path / "m1" / ".hidden.csv", "x")
    write(tmp_path / "m1" / "notes.txt", "x")
    (tmp_path / "m1" / "loop").symlink_to(tmp_path)  # a symlink back up the tree
    found = discover([tmp_path])
    problems = dict(found.problems)
    assert problems[str(tmp_path / "m1" / "gone.csv")] == "broken symbolic link"
    assert "not a regular file" in problems[str(tmp_path / "m1" / "pipe.csv")]
    assert "also found at" in problems[str(tmp_path / "other" / "m1")]
    assert [s.system_id for s in found.systems] == ["m1"]
    assert [f.path.name for u in found.units for f in u.sources] == ["com_ap.csv"]


def test_roots_are_split_on_commas_and_checked(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    assert split_roots([f"{a},{b}", Path("/x,y")]) == [a, b, Path("/x,y")]  # a Path is never split
    check_roots([a])
    with pytest.raises(RootError, match=rf"{b} \(does not exist\)"):
        check_roots([a, b])
    (tmp_path / "f").write_text("x")
    with pytest.raises(RootError, match="not a folder"):
        check_roots([tmp_path / "f"])
    with pytest.raises(RootError, match="no export root"):
        check_roots([])
