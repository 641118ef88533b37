"""KPI definitions that must hold for any data: peaks per direction, a bounded load factor, honest trends."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as sps

from core.kpis import _trend_per_year, import_load_factor

# no subnormals: a 5e-324 kW import underflows to a load factor of exactly 0 (not a measurable power)
finite_kw = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@given(arrays(np.float64, st.integers(0, 200), elements=finite_kw | st.just(np.nan)))
@settings(max_examples=300, deadline=None)
def test_load_factor_is_never_negative_and_at_most_one(p):
    lf = import_load_factor(p)
    finite = p[np.isfinite(p)]
    if not (finite > 0).any():
        assert np.isnan(lf)  # no import at all: no load factor, not 0 and not negative
    else:
        assert 0.0 < lf <= 1.0 + 1e-12


@given(arrays(np.float64, st.integers(1, 200), elements=st.floats(0.001, 1e4)))
@settings(max_examples=100, deadline=None)
def test_load_factor_of_an_import_only_meter_is_mean_over_peak(p):
    assert import_load_factor(p) == pytest.approx(np.mean(p) / np.max(p), rel=1e-9)


def test_export_intervals_count_as_zero_demand():
    # 10 kW, export 5 kW, 20 kW, idle: demand 10, 0, 20, 0 -> mean 7.5 over peak 20.
    assert import_load_factor(np.array([10.0, -5.0, 20.0, 0.0])) == pytest.approx(0.375)


def _com_ap_15min(demo_dir, meter: str) -> pd.Series:
    """Independent reference: the demo CSV's power as 15-minute means on the UTC grid."""
    frames = []
    for path in sorted((demo_dir / "meter" / meter).glob("*com_ap*.csv")):
        df = pd.read_csv(path)
        ts = pd.to_datetime(df.iloc[:, 0]).dt.tz_localize("Europe/Berlin", ambiguous="infer",
                                                          nonexistent="shift_forward")
        frames.append(pd.Series(df.iloc[:, 1].to_numpy(dtype=float), index=ts.dt.tz_convert("UTC")))
    s = pd.concat(frames).sort_index()
    s = s[~s.index.duplicated(keep="last")]
    return s.resample("15min").mean().dropna()


def test_pv_meter_peaks_per_direction_and_load_factor_match_the_csv(service, demo_dir, demo_truth):
    pv = next(m for m, t in demo_truth["meters"].items() if t["pv_export"])
    ref = _com_ap_15min(demo_dir, pv)
    k = service.kpis(pv)
    assert k.peak_export_kw > 0 and k.peak_import_kw > 0
    assert k.peak_import_kw == pytest.approx(max(ref.max(), 0.0), rel=1e-3)
    assert k.peak_export_kw == pytest.approx(max(-ref.min(), 0.0), rel=1e-3)
    demand = ref.clip(lower=0.0)
    assert k.load_factor == pytest.approx(demand.mean() / demand.max(), rel=1e-2)
    assert 0 < k.load_factor <= 1


def test_import_only_meter_has_zero_peak_export(service, demo_truth):
    meter = next(m for m, t in demo_truth["meters"].items() if not t["pv_export"])
    k = service.kpis(meter)
    if k.min_power_kw >= 0:
        assert k.peak_export_kw == 0.0
    assert k.peak_import_kw == pytest.approx(k.peak_power_kw)


def test_a_constant_soh_has_no_trend():
    t = np.arange(30.0)
    slope, p = _trend_per_year(t, np.full(30, 97.3))
    assert slope == 0.0 and np.isnan(p)


def test_trend_and_p_value_match_the_textbook_formulas():
    rng = np.random.default_rng(1)
    t = np.arange(0.0, 400.0, 1.0)
    y = 99.0 - 0.002 * t + rng.normal(0, 0.05, t.size)
    slope, p = _trend_per_year(t, y)
    b = np.polyfit(t, y, 1)
    assert slope == pytest.approx(b[0] * 365.25, rel=1e-9)
    resid = y - np.polyval(b, t)
    se = np.sqrt(resid @ resid / (t.size - 2) / np.sum((t - t.mean()) ** 2))
    assert p == pytest.approx(2 * sps.t.sf(abs(b[0] / se), t.size - 2), rel=1e-6, abs=1e-300)
    # Calibrated: pure noise around a constant is called a trend in about 5 % of cases, not more.
    false_trends = [_trend_per_year(t, 99.0 + rng.normal(0, 0.05, t.size))[1] < 0.05 for _ in range(400)]
    assert 0.01 < np.mean(false_trends) < 0.10


def test_one_day_of_rounded_soh_is_not_a_trend(service):
    sid = "ZHPESS232A230002"
    end = service.system(sid).time_range.end
    k = service.kpis(sid, end - timedelta(days=1), end)
    assert not (k.soh_trend_p_value < 0.05)  # NaN or large: the dashboard shows no trend
    whole = service.kpis(sid)
    assert whole.soh_trend_pct_per_year < 0 and whole.soh_trend_p_value < 1e-6  # the demo's real fade



def test_peaks_and_soh_p_value_reach_graphql(service):
    """The schema carries the separate peaks and the SOH trend's p-value that the core computes."""
    from api.schema import schema

    sdl = str(schema)
    for field in ("peakImportKw", "peakExportKw", "sohTrendPValue"):
        assert field in sdl
    meter = next(s for s in service.systems() if s.kind.value == "meter")
    m = service.kpis(meter.id)
    assert m.peak_import_kw >= 0 and m.peak_export_kw >= 0 and 0 <= m.load_factor <= 1
