"""Bess.drift, Bess.systemTrend and pack drift over HTTP against a real server and the demo store, checked
against the core's own analysis (the API only formats) and against the demo's ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from api.app import create_app
from core.service import QueryService
from data.glossary import SystemKind
from test_api_support import GraphQLClient, live_server

DRIFT = """query($id: ID!, $lang: Language, $limit: Float) { system(id: $id) { ... on Bess {
  drift(language: $lang, limitMv: $limit) { pack cell label rating severity driftVPerDay driftCi95LowVPerDay
    driftCi95HighVPerDay driftMvPerMonth ownDriftVPerDay driftVPerEfc deviationV deviationAt5000EfcV
    deviationAt10000EfcV mechanism limitStatus limitDate limitDateEarliest limitDateLatest n }
  systemTrend(language: $lang) { slopeVPerDay ci95LowVPerDay ci95HighVPerDay levelShiftShare note }
  alerts { label kind severity fromDate toDate }
  packs { index health { driftVPerDay driftCi95LowVPerDay driftCi95HighVPerDay driftRating } }
} } }"""


@pytest.fixture(scope="module")
def gql(service):
    with live_server(create_app(QueryService(service.store), token=None, cors_origins=[])) as url:
        client = GraphQLClient(url)
        yield client
        client.close()


@pytest.fixture(scope="module")
def bess_id(service):
    return next(s.id for s in service.systems(SystemKind.BESS))


def test_drift_rows_are_the_core_numbers_and_agree_with_alerts(gql, service, bess_id):
    got = gql.data(DRIFT, {"id": bess_id, "lang": "EN", "limit": 40.0})["system"]
    rows = got["drift"]
    a = service.cell_analysis(bess_id)
    c = a.drift.cells
    assert [r["label"] for r in rows] == list(c.labels)
    np.testing.assert_allclose([r["driftVPerDay"] for r in rows], c.drift_v_per_day, rtol=1e-12)
    np.testing.assert_allclose([r["deviationV"] for r in rows], c.deviation_v, rtol=1e-12)
    for r in rows:
        assert r["driftCi95LowVPerDay"] <= r["driftVPerDay"] <= r["driftCi95HighVPerDay"]
        assert abs(r["deviationAt10000EfcV"]) <= 0.1 + 1e-12 and abs(r["deviationAt5000EfcV"]) <= 0.1 + 1e-12
        assert r["limitStatus"] in {"ALREADY", "DATE", "NEVER", "UNKNOWN"}
        assert (r["limitDate"] is not None) == (r["limitStatus"] == "DATE")
    # labels agree with alerts: a cell with a critical alert never reads "stable", one without never reads a problem
    worst = {}
    for al in got["alerts"]:
        assert al["fromDate"] <= al["toDate"]  # every alert links to the days that raised it
        rank = {"INFO": 0, "WARNING": 1, "CRITICAL": 2}[al["severity"]]
        worst[al["label"]] = max(worst.get(al["label"], 0), rank)
    for r in rows:
        w = worst.get(r["label"], 0)
        if w == 2:
            assert r["severity"] == "CRITICAL" and r["rating"] in {"fast drift", "far from its peers"}
        if w == 0:
            assert r["severity"] is None and r["rating"] == "stable"


def test_system_trend_german_and_pack_drift(gql, bess_id):
    got = gql.data(DRIFT, {"id": bess_id, "lang": "DE", "limit": 40.0})["system"]
    t = got["systemTrend"]
    assert t["ci95LowVPerDay"] <= t["slopeVPerDay"] <= t["ci95HighVPerDay"]
    assert "Zellalterung" in t["note"] and "mV/Monat" in t["note"]
    assert {r["rating"] for r in got["drift"]} <= {"stabil", "driftet", "schnelle Drift", "abseits der Vergleichszellen",
                                                   "weit von den Vergleichszellen", "unbekannt"}
    for p in got["packs"]:
        h = p["health"]
        assert h["driftCi95LowVPerDay"] <= h["driftVPerDay"] <= h["driftCi95HighVPerDay"]
        assert h["driftRating"] in {"stable", "drifting", "fast drift"}


def test_a_smaller_limit_comes_sooner_and_a_bad_limit_is_bad_input(gql, bess_id):
    wide = {r["label"]: r for r in gql.data(DRIFT, {"id": bess_id, "limit": 80.0})["system"]["drift"]}
    tight = {r["label"]: r for r in gql.data(DRIFT, {"id": bess_id, "limit": 5.0})["system"]["drift"]}
    both = [k for k in wide if wide[k]["limitStatus"] == "DATE" and tight[k]["limitStatus"] == "DATE"]
    assert all(tight[k]["limitDate"] <= wide[k]["limitDate"] for k in both)
    assert sum(r["limitStatus"] == "ALREADY" for r in tight.values()) >= sum(
        r["limitStatus"] == "ALREADY" for r in wide.values())
    err = gql.error(DRIFT, {"id": bess_id, "limit": 0.0})
    assert err["extensions"]["code"] == "BAD_INPUT" and "limitMv" in err["message"]
