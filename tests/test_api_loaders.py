"""DataLoaders: a query touching all 260 cells calls the service once per result and reads the store once."""

from __future__ import annotations

from collections import Counter

import pytest

from api.app import create_app
from core.service import QueryService
from data.glossary import SystemKind
from data.store import Snapshot
from test_api_support import GraphQLClient, live_server


class CountingService(QueryService):
    """The real service, counting how often the API calls each cell-analytics method (a spy, not a mock)."""

    def __init__(self, store) -> None:
        super().__init__(store)
        self.calls: Counter[str] = Counter()

    def cell_analysis(self, *args, **kwargs):
        self.calls["cell_analysis"] += 1
        return super().cell_analysis(*args, **kwargs)


ALL_CELLS = """query($id: ID!) { system(id: $id) { ... on Bess { packs { index
  health { healthy bestCell }
  cells { label satVoltage { values } fit(method: ROBUST) { slopeVPerDay r2 } } } } } }"""


@pytest.fixture
def store_reads(monkeypatch):
    """Counts reads of the per-cell voltage table through the store's one read path."""
    reads: Counter[str] = Counter()
    original = Snapshot.read_range

    def counting(self, system_id, level, signal, *args, **kwargs):
        reads[f"{signal}@{level}"] += 1
        return original(self, system_id, level, signal, *args, **kwargs)

    monkeypatch.setattr(Snapshot, "read_range", counting)
    return reads


def test_260_cells_share_one_service_call_and_one_store_read(demo_store, store_reads):
    service = CountingService(demo_store)
    bess_id = service.systems(SystemKind.BESS)[0].id
    with live_server(create_app(service, token=None, cors_origins=[])) as url:
        gql = GraphQLClient(url)
        data = gql.data(ALL_CELLS, {"id": bess_id})
        cells = [c for p in data["system"]["packs"] for c in p["cells"]]
        assert len(cells) == 260 and all(len(c["satVoltage"]["values"]) > 0 for c in cells)
        assert service.calls == Counter(cell_analysis=1)
        assert store_reads["cell_v@1d"] == 1
        # Loaders live per request: the next request asks the service again (its cache answers, no new read).
        gql.data(ALL_CELLS, {"id": bess_id})
        gql.close()
    assert service.calls == Counter(cell_analysis=2)
    assert store_reads["cell_v@1d"] == 1


def test_cell_rows_match_the_system_matrix_and_fits(demo_store):
    service = QueryService(demo_store)
    bess_id = service.systems(SystemKind.BESS)[0].id
    with live_server(create_app(service, token=None, cors_origins=[])) as url:
        gql = GraphQLClient(url)
        data = gql.data("""query($id: ID!) { system(id: $id) { ... on Bess {
            satVoltage { rows columns values }
            degradation(method: ROBUST) { label slopeVPerDay }
            cell(pack: 3, index: 17) { satVoltage { days values } fit(method: ROBUST) { label slopeVPerDay } } } } }""",
                        {"id": bess_id})["system"]
        gql.close()
    m, cell = data["satVoltage"], data["cell"]
    row = m["rows"].index("P3C17")
    n = len(m["columns"])
    assert cell["satVoltage"]["days"] == m["columns"]
    assert cell["satVoltage"]["values"] == m["values"][row * n:(row + 1) * n]
    assert cell["fit"] == next(f for f in data["degradation"] if f["label"] == "P3C17")


RANGED = """query($id: ID!, $a: DateTime, $b: DateTime, $c: DateTime, $d: DateTime) { system(id: $id) { ... on Bess {
  early: satVoltage(from: $a, to: $b) { rows columns values }
  late: satVoltage(from: $c, to: $d) { rows columns values } } } }"""


def test_ranges_are_slices_of_the_one_full_record_analysis(demo_store, store_reads):
    import numpy as np

    from datetime import timezone

    from api.scalars import parse_datetime
    from core.cell_queries import read_sat

    service = CountingService(demo_store)
    info = service.systems(SystemKind.BESS)[0]
    days = service.sat_matrix(info.id).days
    a, b, c = (f"{days[i]}T00:00:00" for i in (10, len(days) // 2, len(days) - 20))
    with live_server(create_app(service, token=None, cors_origins=[])) as url:
        gql = GraphQLClient(url)
        data = gql.data(RANGED, {"id": info.id, "a": a, "b": b, "c": b, "d": c})["system"]
        gql.close()
    # One whole-record analysis (already computed above), no analysis and no read per range.
    assert service.calls == Counter(cell_analysis=2) and store_reads["cell_v@1d"] == 1
    for part, (lo, hi) in (("early", (a, b)), ("late", (b, c))):
        got = data[part]
        # Independent reference: extracting the range alone from the store.
        alone = read_sat(service.snapshot(), info, *(parse_datetime(t).astimezone(timezone.utc) for t in (lo, hi)))
        assert got["columns"] == [str(d) for d in alone.days] and got["columns"]
        assert got["rows"] == list(alone.labels)
        values = np.array([np.nan if v is None else v for v in got["values"]]).reshape(len(got["rows"]), -1)
        assert np.array_equal(values, alone.voltage_v, equal_nan=True)
