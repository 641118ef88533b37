"""KPIs through the real ingest and store: gaps never become energy, missing signals are null with reasons."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from api.types import BessKpis as GqlBessKpis
from api.types import MeterKpis as GqlMeterKpis
from core.service import QueryService
from data.ingest import ingest

STEP = timedelta(minutes=15)


def _write(path: Path, times: list[datetime], values) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{t:%Y-%m-%d %H:%M:%S},{v:.3f}" for t, v in zip(times, values)]
    path.write_text("timestamp,value\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _quarter_hours(start: datetime, days: int) -> list[datetime]:
    return [start + i * STEP for i in range(days * 96)]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    # A meter with a 3-month outage (summer: no DST change inside the covered days). Import rises
    # 2 kWh per quarter hour; during the outage the counter advances 100 MWh.
    before = _quarter_hours(datetime(2024, 5, 1), 5)
    after = _quarter_hours(datetime(2024, 8, 1), 5)
    imp = list(1000.0 + 2.0 * np.arange(len(before))) + list(1000.0 + 2.0 * len(before) + 100_000.0
                                                                + 2.0 * np.arange(len(after)))
    _write(root / "meter/gapm/pos_ae.csv", before + after, imp)
    _write(root / "meter/gapm/neg_ae.csv", before + after, [5.0] * len(imp))
    _write(root / "meter/gapm/com_ap.csv", before + after, [8.0] * len(imp))
    # A BESS with BMS signals only: no PCS, no auxiliary meter.
    t = _quarter_hours(datetime(2024, 5, 1), 6)
    phase = np.arange(len(t)) % 96
    current = np.where(phase < 32, -50.0, np.where(phase < 64, 50.0, 0.0))
    soc = 50.0 + np.cumsum(-current) * 0.25 / 2000.0 * 100.0  # swings 50 -> 70 -> 50 %
    _write(root / "BESS/NOPCS1/bms1_c.csv", t, current)
    _write(root / "BESS/NOPCS1/bms1_v.csv", t, [832.0] * len(t))
    _write(root / "BESS/NOPCS1/bms1_soc.csv", t, soc)
    out = tmp_path_factory.mktemp("store")
    report = ingest([root], out, progress=False)
    assert report.exit_code == 0, report.format_text()
    return out


def test_meter_import_over_a_months_long_gap_is_the_covered_days_only(store):
    svc = QueryService(store)
    k = svc.kpis("gapm")
    # 10 covered days of 96 x 2 kWh; the interval across the outage is unattributed
    # each 5-day block's last snapshot (23:45) closes no interval inside the block: 2 x 479 intervals
    assert k.import_kwh == pytest.approx(2 * 479 * 2.0)
    assert k.import_unattributed_kwh == pytest.approx(100_000.0 + 2.0)
    assert [(u.signal, u.kind) for u in k.unattributed] == [("pos_ae", "rise"), ("neg_ae", "rise")]
    energy = next(b for b in k.basis if b.group == "energy")
    assert energy.reason is None and 0.0 < energy.coverage < 0.2
    daily = svc.daily_energy("gapm")
    assert np.nanmax(daily.import_kwh) == pytest.approx(96 * 2.0)
    assert np.nansum(daily.import_kwh) == pytest.approx(k.import_kwh)
    outage = [d for d, c in zip(daily.days, daily.coverage) if c == 0]
    assert "2024-06-15" in outage and daily.partial[daily.days.index("2024-06-15")]
    # the last day before the outage ends at 23:45 without a next snapshot: partial
    assert daily.partial[daily.days.index("2024-05-05")]
    assert not daily.partial[daily.days.index("2024-05-04")]


def test_meter_range_ending_at_midnight_includes_the_last_quarter_hour(store):
    svc = QueryService(store)
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    d = svc.daily_energy("gapm", datetime(2024, 5, 2, tzinfo=berlin), datetime(2024, 5, 3, tzinfo=berlin))
    assert d.days == ("2024-05-02",) and d.import_kwh[0] == 96 * 2.0 and d.coverage[0] == 1.0
    h = svc.daily_energy("gapm", datetime(2024, 5, 2, tzinfo=berlin), datetime(2024, 5, 3, tzinfo=berlin), "1h")
    assert len(h.days) == 24 and np.all(h.import_kwh == 8.0)


def test_bess_without_pcs_signals_gives_null_kpis_with_reasons(store):
    k = QueryService(store).kpis("NOPCS1")
    basis = {b.group: b for b in k.basis}
    for value in (k.cycles.charged_kwh, k.cycles.discharged_kwh, k.round_trip_efficiency, k.pcs_peak_charge_kw,
                  k.aux_kwh, k.round_trip_efficiency_with_aux):
        assert np.isnan(value)  # never 0 for a missing signal
    assert "pcs1_ap" in basis["ac_energy"].reason and "pcs1_ap" in basis["pcs_power"].reason
    assert "aux_m_pos_ae" in basis["aux"].reason
    assert basis["soc"].reason is None and basis["soc"].coverage == pytest.approx(1.0, abs=0.01)
    # DC throughput is measured (bms1_v x bms1_c): 6 days of 8 h at 50 A x 832 V each way
    assert k.dc_charged_kwh == pytest.approx(6 * 8 * 50 * 832 / 1000, rel=1e-6)
    # no capacity in Ah is configured and no cycle reaches full charge: no cycle count, with a reason
    assert np.isnan(k.cycles.equivalent_full_cycles) and k.cycles.basis.reason
    g = GqlBessKpis.of(k)
    assert g.round_trip_efficiency is None and g.cycles.charged_kwh is None and g.aux_kwh is None
    assert {b.group: b.reason for b in g.basis}["ac_energy"] == basis["ac_energy"].reason


def test_configured_capacity_counts_cycles_from_current(store, monkeypatch):
    monkeypatch.setenv("BESS_CAPACITY_AH", "NOPCS1=200")
    c = QueryService(store).cycles("NOPCS1")
    # 6 days x (400 Ah charged + 400 Ah discharged) / (2 x 200 Ah) = 12 cycles, by hand
    assert c.equivalent_full_cycles == pytest.approx(12.0, rel=1e-9)
    assert c.capacity_source == "configured" and c.basis.signals == ("bms1_c",)


def test_meter_kpis_convert_with_basis_and_unattributed(store):
    g = GqlMeterKpis.of(QueryService(store).kpis("gapm"))
    assert g.import_unattributed_kwh == pytest.approx(100_002.0)
    assert [b.group for b in g.basis] == ["energy", "power", "power_factor"]
    assert g.mean_power_factor is None and "pf" in g.basis[2].reason


def test_kpi_tile_shows_no_data_with_the_reason_on_hover(store):
    from html import escape

    from dashboard.widgets import basis_of, kpi_tile

    k = QueryService(store).kpis("NOPCS1")
    basis = basis_of(k, "ac_energy")
    tile = kpi_tile("Charged", k.cycles.charged_kwh, "kWh", basis=basis, lang="en")
    assert ">no data<" in tile and f'title="{escape(basis.reason, quote=True)}"' in tile
    assert 'class="kpi-tile kpi-missing"' in tile
    soc = kpi_tile("SOC mean", k.soc_mean_pct, "%", basis=basis_of(k, "soc"), lang="de")
    assert "no data" not in soc and "keine Daten" not in soc and "Abdeckung" in soc and "kpi-missing" not in soc


def test_graphql_states_null_with_reason_and_books_hours(store):
    from api.app import create_app
    from test_api_support import GraphQLClient, live_server

    q = """{ b: system(id: "NOPCS1") { kpis { ... on BessKpis { roundTripEfficiency auxKwh
                 cycles { chargedKwh equivalentFullCycles basis { reason } }
                 basis { group coverage reason } } } }
             m: system(id: "gapm") {
               dailyEnergy(from: "2024-05-02T00:00:00+02:00", to: "2024-05-02T03:00:00+02:00", bucket: HOUR) {
                 days importKwh coverage partial }
               kpis { ... on MeterKpis { importUnattributedKwh unattributed { signal from to energyKwh kind } } } } }"""
    with live_server(create_app(QueryService(store), token=None, cors_origins=[])) as url:
        client = GraphQLClient(url)
        try:
            got = client.data(q)
        finally:
            client.close()
    b = got["b"]["kpis"]
    assert b["roundTripEfficiency"] is None and b["auxKwh"] is None and b["cycles"]["chargedKwh"] is None
    reasons = {g["group"]: g["reason"] for g in b["basis"]}
    assert "pcs1_ap" in reasons["ac_energy"] and reasons["soc"] is None
    d = got["m"]["dailyEnergy"]
    assert d["days"] == ["2024-05-01T22:00:00Z", "2024-05-01T23:00:00Z", "2024-05-02T00:00:00Z"]
    assert d["importKwh"] == [8.0, 8.0, 8.0] and d["coverage"] == [1.0, 1.0, 1.0] and d["partial"] == [False] * 3
    [u] = [u for u in got["m"]["kpis"]["unattributed"] if u["signal"] == "pos_ae"]
    assert u["energyKwh"] == pytest.approx(100_002.0) and u["kind"] == "rise"
    assert u["from"].startswith("2024-05-05T23:45") and u["to"].startswith("2024-08-01T00:00")
