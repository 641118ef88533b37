"""Fleet ranking: the order of the module docstring, and the counts of one BESS from its cell analysis."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from core.cells import analyze_cells, extract_sat
from core.cells.synthetic import generate_sat_fleet
from core.fleet import FleetRow, cell_counts, coverage_of, rank_fleet


def row(sid, **kw):
    base = dict(system_id=sid, kind="bess", coverage=1.0, last_data=datetime(2025, 6, 30, tzinfo=timezone.utc),
                critical_cells=0, warning_cells=0, ok_cells=260, critical_pack_alerts=0, warning_pack_alerts=0,
                worst_cell=None, worst_cell_drift_v_per_day=None, pack_events=0, efc=None, soh_pct=None, soh_bms_pct=None, problems=0)
    base.update(kw)
    return FleetRow(**base)


def test_rank_order_critical_then_warning_then_drift_then_missing_data_then_problems():
    rows = [row("quiet"), row("meter", kind="meter", ok_cells=0, coverage=0.5),
            row("warn", warning_cells=3), row("crit", critical_cells=1),
            row("pack", critical_pack_alerts=1, worst_cell_drift_v_per_day=1e-5),
            row("drifty", warning_cells=3, worst_cell_drift_v_per_day=-9e-5), row("broken", problems=4)]
    order = [r.system_id for r in rank_fleet(rows)]
    assert order == ["pack", "crit", "drifty", "warn", "meter", "broken", "quiet"]


def test_counts_of_a_synthetic_bess_match_its_truth():
    f = generate_sat_fleet(3, n_fast=4)
    sat = extract_sat(f.daily_max_v, f.days, f.packs, f.cells)
    counts = cell_counts(analyze_cells(sat))
    assert counts["critical_cells"] >= 4 and counts["critical_cells"] + counts["warning_cells"] <= 4 + 2
    assert counts["ok_cells"] + counts["critical_cells"] + counts["warning_cells"] == 260
    assert counts["pack_events"] == 1
    fast = {sat.labels[i] for i in np.flatnonzero(f.fast)}
    assert counts["worst_cell"] in fast and abs(counts["worst_cell_drift_v_per_day"]) > 5e-5


def test_coverage_counts_the_last_30_days():
    assert coverage_of(np.r_[np.zeros(100, bool), np.ones(15, bool), np.zeros(15, bool)]) == 0.5
    assert coverage_of(np.array([], bool)) is None


def test_fleet_query_ranks_the_demo_by_risk(service, demo_truth):
    """GraphQL fleet over a real server: one row per system, the core's order, counts that add up,
    and the BESS with the demo's critical cells ahead of the meters."""
    from api.app import create_app
    from core.service import QueryService
    from test_api_support import GraphQLClient, live_server

    q = """{ fleet { systemId kind coverage lastData criticalCells warningCells okCells criticalPackAlerts
      warningPackAlerts worstCell worstCellDriftVPerDay packEvents efc sohPct sohBmsPct problems } }"""
    with live_server(create_app(QueryService(service.store), token=None, cors_origins=[])) as url:
        client = GraphQLClient(url)
        rows = client.data(q)["fleet"]
        by_id = client.data("{ fleet(sortBy: ID) { systemId } }")["fleet"]
        client.close()
    core = service.fleet()
    assert [r["systemId"] for r in rows] == [r.system_id for r in core]
    assert [r["systemId"] for r in by_id] == sorted(r.system_id for r in core)
    assert {r["systemId"] for r in rows} == {s.id for s in service.systems()}
    bess = [r for r in rows if r["kind"] == "bess"]
    meters = [r for r in rows if r["kind"] == "meter"]
    assert len(bess) == len(demo_truth["bess"]) and meters
    for r in bess:
        assert r["criticalCells"] + r["warningCells"] + r["okCells"] == 260
        degrading = {f"P{p}C{c}" for p, c in demo_truth["bess"][r["systemId"]]["degrading_cells"]}
        if degrading:
            assert r["criticalCells"] >= 1 and r["worstCell"] in degrading
        assert r["efc"] and r["efc"] > 0 and 0 < r["coverage"] <= 1
    first_meter = [r["systemId"] for r in rows].index(meters[0]["systemId"])
    assert all([r["systemId"] for r in rows].index(b["systemId"]) < first_meter for b in bess if b["criticalCells"])
    damaged = next(sid for sid, t in demo_truth["bess"].items() if t["pack_event"])
    assert next(r for r in rows if r["systemId"] == damaged)["packEvents"] == 1
