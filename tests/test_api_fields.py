"""Every field of the schema over HTTP against a real server on loopback and the real demo store."""

from __future__ import annotations

import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest

from api.app import create_app
from core.service import QueryService
from core.cells.labels import Language as CoreLanguage
from core.cells.verdict import rating_text
from data.glossary import SystemKind
from test_api_support import GraphQLClient, live_server

BERLIN = ZoneInfo("Europe/Berlin")
OFFSET_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


@pytest.fixture(scope="module")
def base_url(service):
    with live_server(create_app(QueryService(service.store), token=None, cors_origins=[])) as url:
        yield url


@pytest.fixture(scope="module")
def gql(base_url):
    client = GraphQLClient(base_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def meter(service):
    return next(s for s in service.systems(SystemKind.METER) if s.signal("com_ap"))


@pytest.fixture(scope="module")
def bess(service):
    return service.systems(SystemKind.BESS)[0]


def as_json(a) -> list:
    """What a float array looks like after JSON: NaN becomes null."""
    return [None if isinstance(v, float) and math.isnan(v) else v for v in np.asarray(a).tolist()]


def num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else pytest.approx(x, rel=1e-12, abs=1e-12)


def test_systems_lists_every_system_with_kind_signals_and_time_range(gql, service):
    got = gql.data("{ systems { id kind levels signals { name unit aggregation description isCounter isAlarm }"
                   " timeRange { from to } } }")["systems"]
    want = service.systems()
    assert [s["id"] for s in got] == [s.id for s in want]
    for g, w in zip(got, want):
        assert g["kind"] == w.kind.name
        assert g["levels"] == list(w.levels)
        assert [(s["name"], s["unit"], s["aggregation"].lower(), s["isCounter"], s["isAlarm"]) for s in g["signals"]] \
            == [(s.name, s.unit, s.aggregation.value, s.is_counter, s.is_alarm) for s in w.signals]
        assert OFFSET_RE.match(g["timeRange"]["from"]) and OFFSET_RE.match(g["timeRange"]["to"])
        assert datetime.fromisoformat(g["timeRange"]["from"]) == w.time_range.start


@pytest.mark.parametrize("kind", ["METER", "BESS"])
def test_systems_filters_by_kind(gql, service, kind):
    got = gql.data("query($k: SystemKind) { systems(kind: $k) { id kind __typename } }", {"k": kind})["systems"]
    assert got and {s["kind"] for s in got} == {kind}
    assert {s["__typename"] for s in got} == {"Meter" if kind == "METER" else "Bess"}
    assert [s["id"] for s in got] == [s.id for s in service.systems(SystemKind[kind])]


SERIES = """query($id: ID!, $sig: String!, $from: DateTime, $to: DateTime, $res: Resolution!, $n: Int!,
                  $ds: Downsample!) {
  system(id: $id) { id series(signal: $sig, from: $from, to: $to, resolution: $res, maxPoints: $n, downsample: $ds)
    { signal unit resolution downsample rowsInWindow timestampsMs values min max } } }"""


@pytest.mark.parametrize("res, n, ds", [("FIFTEEN_MIN", 10_000, "NONE"), ("AUTO", 300, "LTTB"),
                                        ("FIVE_MIN", 500, "MINMAX_LTTB"), ("RAW", 400, "LTTB"), ("DAY", 50, "LTTB")])
def test_series_equals_the_query_service_and_input_without_offset_is_berlin(gql, service, meter, res, n, ds):
    start_local, end_local = "2024-03-20T00:00:00", "2024-04-05T00:00:00"  # spans the spring DST change
    got = gql.data(SERIES, {"id": meter.id, "sig": "com_ap", "from": start_local, "to": end_local,
                            "res": res, "n": n, "ds": ds})["system"]["series"]
    start = datetime(2024, 3, 20, tzinfo=BERLIN)
    end = datetime(2024, 4, 5, tzinfo=BERLIN)
    want = service.series(meter.id, "com_ap", start, end, resolution=res.lower().replace("five_min", "5min")
                          .replace("fifteen_min", "15min").replace("day", "1d"), max_points=n, method=ds.lower())
    assert got["timestampsMs"] == want.timestamps_ms.tolist()
    assert got["values"] == as_json(want.values)
    assert got["min"] == (as_json(want.min) if want.min is not None else None)
    assert got["max"] == (as_json(want.max) if want.max is not None else None)
    assert (got["unit"], got["rowsInWindow"], got["signal"]) == ("kW", want.rows_in_window, "com_ap")
    assert got["resolution"] != "AUTO" and got["downsample"] == want.method.upper()
    assert 0 < len(got["timestampsMs"]) <= n + 50  # gap breaks may add a few null points
    # half-open [from, to): every sample lies inside, none at `to`
    assert min(got["timestampsMs"]) >= start.timestamp() * 1000
    assert max(got["timestampsMs"]) < end.timestamp() * 1000


def test_series_offsets_are_honoured(gql, meter):
    q = SERIES
    utc = gql.data(q, {"id": meter.id, "sig": "com_ap", "from": "2024-06-01T00:00:00Z", "to": "2024-06-02T00:00:00Z",
                       "res": "FIFTEEN_MIN", "n": 200, "ds": "NONE"})["system"]["series"]
    assert utc["timestampsMs"][0] == int(datetime.fromisoformat("2024-06-01T00:00:00+00:00").timestamp() * 1000)
    assert len(utc["timestampsMs"]) == 96
    local = gql.data(q, {"id": meter.id, "sig": "com_ap", "from": "2024-06-01T02:00:00+02:00",
                         "to": "2024-06-02T02:00:00+02:00", "res": "FIFTEEN_MIN", "n": 200, "ds": "NONE"})
    assert local["system"]["series"]["timestampsMs"] == utc["timestampsMs"]


def test_meter_kpis_daily_energy_and_alarms(gql, service, meter):
    q = """query($id: ID!) { system(id: $id) { __typename
      kpis(from: "2024-01-01", to: "2024-02-01") { __typename ... on MeterKpis { importKwh exportKwh netKwh peakPowerKw
        meanPowerKw minPowerKw meanPowerFactor loadFactor } }
      ... on Meter { dailyEnergy(from: "2024-01-01", to: "2024-02-01") { days importKwh exportKwh auxKwh } }
      alarms { signal activations activeSeconds } } }"""
    got = gql.data(q, {"id": meter.id})["system"]
    start, end = datetime(2024, 1, 1, tzinfo=BERLIN), datetime(2024, 2, 1, tzinfo=BERLIN)
    k = service.kpis(meter.id, start, end)
    assert got["kpis"]["__typename"] == "MeterKpis"
    assert got["kpis"]["importKwh"] == num(k.import_kwh) and got["kpis"]["loadFactor"] == num(k.load_factor)
    d = service.daily_energy(meter.id, start, end)
    de = got["dailyEnergy"]
    assert de["days"] == list(d.days) and len(de["days"]) == 31
    assert de["days"][0] == "2024-01-01" and all(re.match(r"^\d{4}-\d\d-\d\d$", x) for x in de["days"])
    assert de["importKwh"] == as_json(d.import_kwh) and de["exportKwh"] == as_json(d.export_kwh)
    assert de["auxKwh"] is None
    assert got["alarms"] == [{"signal": a.signal, "activations": a.activations, "activeSeconds": a.active_seconds}
                             for a in service.alarms(meter.id)]


def test_bess_kpis_cycles_energy_and_nameplate(gql, service, bess):
    q = """query($id: ID!) { system(id: $id) { ... on Bess {
      packCount cellsPerPack nameplateKwh
      cycles(from: "2024-01-01", to: "2024-07-01") { equivalentFullCycles chargedKwh dischargedKwh nameplateKwh days }
      kpis(from: "2024-01-01", to: "2024-07-01") { ... on BessKpis { socMinPct socMeanPct socMaxPct sohLatestPct
        sohTrendPctPerYear roundTripEfficiency roundTripEfficiencyWithAux auxKwh pcsPeakDischargeKw pcsPeakChargeKw
        cycles { equivalentFullCycles } temperatures { group meanC maxC } alarms { signal activations activeSeconds } } }
      dailyEnergy(from: "2024-01-01", to: "2024-01-08") { days importKwh exportKwh auxKwh } } } }"""
    got = gql.data(q, {"id": bess.id})["system"]
    start, end = datetime(2024, 1, 1, tzinfo=BERLIN), datetime(2024, 7, 1, tzinfo=BERLIN)
    assert (got["packCount"], got["cellsPerPack"]) == (bess.packs, bess.cells_per_pack) == (5, 52)
    assert got["nameplateKwh"] == num(service.nameplate_kwh(bess.id))
    c = service.cycles(bess.id, start, end)
    assert got["cycles"]["equivalentFullCycles"] == num(c.equivalent_full_cycles)
    assert got["cycles"]["chargedKwh"] == num(c.charged_kwh) and got["cycles"]["chargedKwh"] > 0
    k = service.kpis(bess.id, start, end)
    assert got["kpis"]["socMeanPct"] == num(k.soc_mean_pct)
    assert [t["group"] for t in got["kpis"]["temperatures"]] == [t.group for t in k.temperatures]
    assert [a["signal"] for a in got["kpis"]["alarms"]] == [a.signal for a in k.alarms]
    assert len(got["dailyEnergy"]["days"]) == 7 and got["dailyEnergy"]["auxKwh"] is not None


def test_packs_and_cells(gql, service, bess):
    q = """query($id: ID!) { system(id: $id) { ... on Bess {
      packs { index cells { pack index label } }
      pack(index: 2) { index cell(index: 7) { label } }
      cell(pack: 5, index: 52) { pack index label
        voltage(from: "2024-05-01", to: "2024-05-03", maxPoints: 5000, downsample: NONE) { unit signal timestampsMs values }
        temperature(from: "2024-05-01", to: "2024-05-03", resolution: HOUR) { unit values resolution } } } } }"""
    got = gql.data(q, {"id": bess.id})["system"]
    assert [p["index"] for p in got["packs"]] == [1, 2, 3, 4, 5]
    labels = [c["label"] for p in got["packs"] for c in p["cells"]]
    assert len(labels) == 260 and labels[0] == "P1C1" and labels[-1] == "P5C52"
    assert got["pack"] == {"index": 2, "cell": {"label": "P2C7"}}
    cell = got["cell"]
    assert (cell["pack"], cell["index"], cell["label"]) == (5, 52, "P5C52")
    want = service.cell_series(bess.id, 5, 52, start=datetime(2024, 5, 1, tzinfo=BERLIN),
                               end=datetime(2024, 5, 3, tzinfo=BERLIN), max_points=5000, method="none")
    assert cell["voltage"]["values"] == as_json(want.values) and cell["voltage"]["unit"] == "V"
    assert cell["voltage"]["signal"] == "cell_v:P5C52"
    assert cell["temperature"]["unit"] == "°C" and cell["temperature"]["resolution"] == "HOUR"
    want_t = service.cell_series(bess.id, 5, 52, group="cell_t", start=datetime(2024, 5, 1, tzinfo=BERLIN),
                                 end=datetime(2024, 5, 3, tzinfo=BERLIN), resolution="1h")
    assert cell["temperature"]["values"] == as_json(want_t.values) and len(want_t.values) > 0


def test_cell_voltage_matrix_is_flat_row_major_with_labels(gql, service, bess):
    q = """query($id: ID!) { system(id: $id) { ... on Bess {
      cellVoltageMatrix(from: "2024-05-01", to: "2024-06-01") { rows columns values unit } } } }"""
    m = gql.data(q, {"id": bess.id})["system"]["cellVoltageMatrix"]
    want = service.cell_matrix(bess.id, start=datetime(2024, 5, 1, tzinfo=BERLIN), end=datetime(2024, 6, 1, tzinfo=BERLIN))
    assert m["rows"] == list(want.rows) and len(m["rows"]) == 260
    assert m["columns"] == list(want.columns) and len(m["columns"]) == 31
    assert len(m["values"]) == 260 * 31 and m["unit"] == "V"
    assert m["values"][3 * 31 + 4] == num(want.values[3, 4])  # row 3, column 4


def test_graphiql_and_get_queries(base_url):
    page = httpx.get(f"{base_url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    r = httpx.get(f"{base_url}/graphql", params={"query": "{ systems { id } }"})
    assert r.status_code == 200 and r.json()["data"]["systems"]


def test_healthz_reports_the_published_version(base_url, service):
    r = httpx.get(f"{base_url}/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["version"]
    assert body["store"]["version"] == service.snapshot().version
    assert body["store"]["systems"] == len(service.systems())


def test_cell_analytics_equal_the_query_service(gql, service, bess):
    q = """query($id: ID!) { system(id: $id) { ... on Bess {
      satVoltage { rows columns values unit saturationDay dayMedianV }
      ols: degradation { pack cell label method slopeVPerDay interceptV r2 n lossPctPerYear quality lossRating
        slopeStderrVPerDay slopeCi95LowVPerDay slopeCi95HighVPerDay lossPctPerEfc fitStartDay }
      robust: degradation(method: ROBUST, language: DE) { label method slopeVPerDay quality lossRating }
      alerts { pack cell label kind severity reason }
      alertsDe: alerts(language: DE) { reason }
      events { pack date stepV cellsAffected nCells }
      packTrends { days packs { pack meanV spreadV stdV rateVPerMonth rateStderrVPerMonth rateCi95LowVPerMonth
        rateCi95HighVPerMonth r2 n } }
      satDeviation { rows columns values unit }
      pack(index: 1) { health { nCells healthy watched critical meanSatV spreadSatV latestDay bestCell worstCell } } } } }"""
    got = gql.data(q, {"id": bess.id})["system"]
    sat = service.sat_matrix(bess.id)
    m = got["satVoltage"]
    assert m["rows"] == list(sat.labels) and len(m["rows"]) == 260 and m["unit"] == "V"
    assert m["columns"] == [str(d) for d in sat.days] and re.match(r"^\d{4}-\d\d-\d\d$", m["columns"][0])
    assert m["values"] == as_json(sat.voltage_v.ravel())
    assert m["saturationDay"] == sat.saturation_day.tolist()
    ols = service.degradation(bess.id, "ols")
    assert [f["label"] for f in got["ols"]] == list(ols.labels)
    assert [f["slopeVPerDay"] for f in got["ols"]] == as_json(ols.slope_v_per_day)
    assert [f["lossPctPerYear"] for f in got["ols"]] == as_json(ols.loss_pct_per_year)
    assert {f["method"] for f in got["ols"]} == {"OLS"} and {f["method"] for f in got["robust"]} == {"ROBUST"}
    robust = service.degradation(bess.id, "robust")
    assert [f["slopeVPerDay"] for f in got["robust"]] == as_json(robust.slope_v_per_day)
    # quality is the cell's verdict (agrees with its alerts), in the language asked
    verdicts = service.cell_analysis(bess.id).verdicts
    assert [f["quality"] for f in got["ols"]] == [rating_text(v.rating, CoreLanguage.EN) for v in verdicts]
    assert [f["quality"] for f in got["robust"]] == [rating_text(v.rating, CoreLanguage.DE) for v in verdicts]
    alerts = service.alerts(bess.id)
    assert [(a["pack"], a["cell"], a["kind"].lower(), a["severity"].lower(), a["reason"]) for a in got["alerts"]] \
        == [(a.pack, a.cell, a.kind.value, a.severity.value, a.reason_en) for a in alerts]
    assert [a["reason"] for a in got["alertsDe"]] == [a.reason_de for a in alerts]
    assert [(e["pack"], e["date"]) for e in got["events"]] == [(e.pack, str(e.day)) for e in service.events(bess.id)]
    trends = service.pack_trends(bess.id)
    assert [p["pack"] for p in got["packTrends"]["packs"]] == trends.packs.tolist()
    assert got["packTrends"]["packs"][0]["meanV"] == as_json(trends.mean_v[0])
    assert len(got["satDeviation"]["values"]) == 260 * len(got["satDeviation"]["columns"])
    h = got["pack"]["health"]
    core_h = service.pack_health(bess.id)[0]
    assert (h["nCells"], h["healthy"], h["watched"], h["critical"]) == (
        core_h.n_cells, core_h.healthy, core_h.watched, core_h.critical)
    assert h["bestCell"].startswith("P1C") and h["worstCell"].startswith("P1C") and h["meanSatV"] > 3.0


def test_the_damaged_pack_and_degrading_cells_of_the_demo_are_visible(gql, demo_truth):
    """The demo's ground truth shows through the API: the damaged pack has an event, and the degrading
    cells (rising and falling) are the ones with the fastest drift against their peers."""
    q = """query($id: ID!) { system(id: $id) { ... on Bess { events { pack date stepV }
      drift { pack cell driftVPerDay } } } }"""
    for sid, truth in demo_truth["bess"].items():
        got = gql.data(q, {"id": sid})["system"]
        if truth["damaged_pack"]:
            assert truth["damaged_pack"] in {e["pack"] for e in got["events"]}
        degrading = {tuple(c) for c in truth["degrading_cells"]}
        ranked = sorted(got["drift"], key=lambda f: -abs(f["driftVPerDay"] or 0.0))
        assert {(f["pack"], f["cell"]) for f in ranked[:len(degrading)]} == degrading
