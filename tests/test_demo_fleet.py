"""`bess demo --scale fleet --systems N`: N systems in the real layout, with ground truth, that ingest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main
from data.demo.config import N_CELLS, SYSTEM_IDS, config_for
from data.discover import discover
from data.distributed import ClusterSpec
from data.ingest import ingest
from data.store import open_snapshot

SYSTEMS = 12  # 3 BESS (the minimum, one in five otherwise) and 9 meters


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fleet") / "exports"
    assert main(["demo", "--scale", "fleet", "--systems", str(SYSTEMS), "--out", str(out), "--quiet"]) == 0
    return out


def test_fleet_has_the_asked_number_of_systems_in_the_export_layout(fleet):
    meters = sorted(p.name for p in (fleet / "meter").iterdir())
    bess = sorted(p.name for p in (fleet / "BESS").iterdir())
    assert len(meters) + len(bess) == SYSTEMS
    assert len(bess) == 3 and bess[:3] == sorted(SYSTEM_IDS)
    assert set(meters) == {f"m{i}" for i in range(1, 10)}
    found = discover([fleet])
    assert not found.problems
    assert {s.system_id for s in found.systems} == set(meters) | set(bess)
    for s in found.systems:
        if s.system_id in bess:
            cells = {f.signal for u in s.units if u.cell_group for f in u.sources}
            assert len(cells) == 2 * N_CELLS  # a voltage and a temperature file per cell


def test_fleet_ground_truth_names_every_system_and_its_scale(fleet):
    truth = json.loads((fleet / "ground_truth.json").read_text())
    assert truth["scale"] == "fleet" and truth["days"] == 30
    assert set(truth["meters"]) == {p.name for p in (fleet / "meter").iterdir()}
    assert set(truth["bess"]) == {p.name for p in (fleet / "BESS").iterdir()}
    # m9 takes the PV-rich profile of m3 (m1..m6 in turn): it exports, and its truth says so
    assert truth["meters"]["m9"]["pv_export"] and truth["meters"]["m3"]["pv_export"]
    assert not truth["meters"]["m7"]["pv_export"]


def test_fleet_ingests_every_system(fleet, tmp_path):
    rep = ingest([fleet], tmp_path / "store", progress=False, cluster=ClusterSpec(workers=0))
    assert rep.exit_code == 0 and rep.error is None
    man = open_snapshot(tmp_path / "store").manifest()
    assert len(man["systems"]) == SYSTEMS
    # the m9 export counter really counts what its PV exported: positive energy over 30 days
    m9 = open_snapshot(tmp_path / "store").read_range("m9", "raw", "neg_ae")
    assert m9["value"].max() > m9["value"].min()


def test_fleet_size_is_checked():
    with pytest.raises(ValueError, match="at least 9 systems"):
        config_for("fleet", 7, systems=8)
    assert len(config_for("fleet", 7, systems=100).system_ids) == 20
    assert len(config_for("fleet", 7, systems=100).meter_ids) == 80
    assert main(["demo", "--systems", "5", "--out", "/nonexistent/never-written"]) == 2
