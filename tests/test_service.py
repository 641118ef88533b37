"""The query service on the ingested demo fleet, checked against pandas on the CSVs and the ground truth."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from core.service import BadInputError, QueryService
from data.glossary import SystemKind
from data.store import NotFoundError

UTC = timezone.utc


def _read_csv_utc(path) -> pd.Series:
    """Independent reference reader for the demo's plain naive-local CSVs."""
    df = pd.read_csv(path)
    ts = pd.to_datetime(df.iloc[:, 0])
    local = ts.dt.tz_localize("Europe/Berlin", ambiguous="infer", nonexistent="shift_forward")
    return pd.Series(df.iloc[:, 1].to_numpy(dtype=float), index=local.dt.tz_convert("UTC")).sort_index()


def test_systems_list_kinds_and_cells(service):
    systems = service.systems()
    assert {s.id for s in systems} == {"m1", "m2", "m3", "m4", "m5", "m6",
                                      "ZHPESS232A230002", "ZHPESS232A230003", "ZHPESS232A230007"}
    bess = service.systems(SystemKind.BESS)
    assert len(bess) == 3 and all(s.packs == 5 and s.cells_per_pack == 52 for s in bess)
    m1 = service.system("m1")
    assert m1.kind == SystemKind.METER and m1.signal("com_ap").unit == "kW"
    assert m1.signal("pos_ae").is_counter
    assert m1.time_range.start < m1.time_range.end


def test_unknown_ids_are_not_found(service):
    with pytest.raises(NotFoundError, match="nosuch"):
        service.system("nosuch")
    with pytest.raises(NotFoundError, match="nosignal"):
        service.series("m1", "nosignal")
    with pytest.raises(NotFoundError, match="packs 1..5"):
        service.cell_series("ZHPESS232A230002", 6, 1)


def test_bad_arguments_are_named(service):
    with pytest.raises(BadInputError, match="max_points"):
        service.series("m1", "com_ap", max_points=1)
    with pytest.raises(BadInputError, match="resolution"):
        service.series("m1", "com_ap", resolution="2min")
    with pytest.raises(BadInputError, match="time zone"):
        service.series("m1", "com_ap", start=datetime(2024, 1, 1))
    t = datetime(2024, 1, 2, tzinfo=UTC)
    with pytest.raises(BadInputError, match="empty range"):
        service.series("m1", "com_ap", start=t, end=t)
    with pytest.raises(BadInputError, match="not a BESS"):
        service.cell_matrix("m1")


def test_raw_series_in_a_small_window_equals_the_csv(service, demo_dir):
    start = datetime(2024, 5, 6, tzinfo=UTC)
    end = start + timedelta(days=1)
    s = service.series("m3", "com_ap", start, end, resolution="auto", max_points=2000)
    assert s.resolution == "raw" and s.method == "none"
    ref = _read_csv_utc(demo_dir / "meter/m3/com_ap.csv")
    ref = ref[(ref.index >= start) & (ref.index < end)]
    ref = ref[~ref.index.duplicated(keep="last")]
    np.testing.assert_array_equal(s.timestamps_ms, ref.index.as_unit("ms").asi8)
    np.testing.assert_allclose(s.values, ref.to_numpy())


def test_downsampled_series_keeps_first_last_and_band(service):
    s = service.series("m1", "com_ap", max_points=500)
    assert s.resolution == "1d" and s.method == "lttb"  # 639 daily bins >= 500
    finite = np.isfinite(s.values)
    assert 3 <= finite.sum() <= 500
    assert np.all(np.diff(s.timestamps_ms) > 0)
    assert s.min is not None and np.all(s.min[finite] <= s.values[finite] + 1e-9)
    assert np.all(s.max[finite] >= s.values[finite] - 1e-9)


def test_gap_in_the_data_stays_a_gap(service, demo_truth):
    gap = demo_truth["meters"]["m2"]["gaps"][0]
    g0 = datetime.fromisoformat(gap["start_utc"].replace("Z", "+00:00"))
    g1 = datetime.fromisoformat(gap["end_utc"].replace("Z", "+00:00"))
    s = service.series("m2", "com_ap", g0 - timedelta(days=1), g1 + timedelta(days=1), max_points=5000)
    nan_ts = s.timestamps_ms[np.isnan(s.values)]
    inside = (nan_ts >= g0.timestamp() * 1000 - 3_600_000) & (nan_ts <= g1.timestamp() * 1000 + 3_600_000)
    assert inside.any(), "the meter's offline period must break the line"


def test_cell_matrix_matches_the_cell_csv(service, demo_dir):
    m = service.cell_matrix("ZHPESS232A230002", level="1d", column="max")
    assert m.rows[0] == "P1C1" and m.rows[51] == "P1C52" and m.rows[-1] == "P5C52"
    assert m.values.shape == (260, len(m.columns))
    raw = pd.read_csv(demo_dir / "BESS/ZHPESS232A230002/bms1_p2_v7.csv")
    # Naive timestamps are local wall time, so their date part is the local day.
    daily_max = raw.iloc[:, 1].groupby(pd.to_datetime(raw.iloc[:, 0]).dt.date).max()
    row = m.rows.index("P2C7")
    ours = pd.Series(m.values[row], index=[pd.Timestamp(c).tz_convert("Europe/Berlin").date() for c in m.columns])
    common = daily_max.index.intersection(ours.index)
    assert len(common) > 600
    np.testing.assert_allclose(ours[common].to_numpy(), daily_max[common].to_numpy())


def test_meter_import_matches_counter_reference_across_a_reset(service, demo_dir, demo_truth):
    reset = demo_truth["meters"]["m4"]["counter_resets"][0]
    assert reset["signal"] == "pos_ae"
    k = service.kpis("m4")
    ref = _read_csv_utc(demo_dir / "meter/m4/pos_ae.csv")
    ref = ref[~ref.index.duplicated(keep="last")].to_numpy()
    d = np.diff(ref)
    # Reference rule: a drop is a restart, counting the new value.
    d = np.where(d < 0, ref[1:], d)
    assert k.import_kwh == pytest.approx(d.sum(), rel=1e-6)
    daily = service.daily_energy("m4")
    assert np.all(daily.import_kwh >= 0)
    # No spike: the reset day is not an outlier among its neighbours.
    assert daily.import_kwh.max() < 5 * np.median(daily.import_kwh)
    assert daily.import_kwh.sum() == pytest.approx(k.import_kwh, rel=1e-3)


def test_pv_meter_exports(service, demo_truth, demo_dir):
    pv = [m for m, t in demo_truth["meters"].items() if t["pv_export"]]
    assert pv
    k = service.kpis(pv[0])
    # Independent references from the export CSVs: the export counter's increments (a drop is a
    # restart, counting the new value) and the most negative power sample.
    ref = _read_csv_utc(demo_dir / f"meter/{pv[0]}/neg_ae.csv")
    ref = ref[~ref.index.duplicated(keep="last")].to_numpy()
    d = np.diff(ref)
    d = np.where(d < 0, ref[1:], d)
    assert k.export_kwh == pytest.approx(d.sum(), rel=1e-6) and k.export_kwh > 0
    power = _read_csv_utc(demo_dir / f"meter/{pv[0]}/com_ap.csv")
    assert k.min_power_kw == pytest.approx(power.resample("15min").mean().min(), rel=1e-6)
    assert k.min_power_kw < 0


def test_cycles_from_measured_throughput_match_truth(demo_store, demo_truth, monkeypatch):
    sid = "ZHPESS232A230003"
    truth = demo_truth["bess"][sid]
    monkeypatch.setenv("BESS_NAMEPLATE_KWH", f"{sid}={truth['nameplate_kwh']}")
    c = QueryService(demo_store).cycles(sid)
    assert c.nameplate_kwh == truth["nameplate_kwh"]
    # the energy-based count (PCS AC energy over the kWh nameplate) stays beside the Ah count
    assert c.equivalent_full_cycles_energy == pytest.approx(truth["equivalent_full_cycles"], rel=0.05)
    assert c.discharged_kwh == pytest.approx(truth["discharged_kwh"], rel=0.05)


def test_bess_kpis_are_physical(service):
    k = service.kpis("ZHPESS232A230002")
    assert 0 <= k.soc_min_pct <= k.soc_mean_pct <= k.soc_max_pct <= 100
    assert 0.8 < k.round_trip_efficiency < 1.0
    assert k.round_trip_efficiency_with_aux < k.round_trip_efficiency
    assert k.cycles.equivalent_full_cycles > 100
    assert {t.group for t in k.temperatures} >= {"cells", "pcs_igbt"}
    assert any(a.activations > 0 for a in k.alarms)


def test_estimated_nameplate_is_near_the_cells_energy(service):
    # 260 cells x 3.2 V x 280 Ah = 233 kWh: what SOC counts against, measured from data.
    assert service.nameplate_kwh("ZHPESS232A230002") == pytest.approx(233, rel=0.1)


def test_pinned_view_keeps_reading_its_version_after_a_new_publish(demo_dir, tmp_path):
    from data.ingest import ingest

    root = tmp_path / "exports"
    (root / "meter").mkdir(parents=True)
    src = demo_dir / "meter" / "m3"
    (root / "meter" / "m3").mkdir()
    for f in ("com_ap.csv", "pf.csv"):
        (root / "meter" / "m3" / f).write_bytes((src / f).read_bytes())
    store = tmp_path / "store"
    assert ingest([root], store, progress=False).exit_code == 0
    service = QueryService(store)
    view = service.pinned()
    before = view.snapshot().version
    (root / "meter" / "m3" / "pf.csv").unlink()
    assert ingest([root], store, progress=False).published_version
    assert service.snapshot().version != before
    assert view.snapshot().version == before
    assert view.system("m3").signal("pf") is not None
    assert service.system("m3").signal("pf") is None


def test_concurrent_cache_misses_compute_once():
    import threading
    import time

    from core.service import _VersionCache

    cache, calls, results = _VersionCache(), [], []

    def make():
        calls.append(1)
        time.sleep(0.05)  # long enough that every thread misses while the first computes
        return 42

    threads = [threading.Thread(target=lambda: results.append(cache.get(("k",), make))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 8 and len(calls) == 1


def test_a_failed_computation_is_not_cached():
    from core.service import _VersionCache

    cache, calls = _VersionCache(), []

    def boom():
        calls.append(1)
        raise ValueError("no")

    for _ in range(2):
        with pytest.raises(ValueError):
            cache.get(("k",), boom)
    assert len(calls) == 2
