"""Counter intervals and power integration against plain NumPy references."""

import numpy as np
import pytest

from core.energy import counter_intervals, integrate_power_kwh


def test_monotone_counter_gives_plain_differences():
    v = np.array([10.0, 12.5, 12.5, 20.0])
    np.testing.assert_allclose(counter_intervals(v), [np.nan, 2.5, 0.0, 7.5])


def test_reset_counts_energy_since_restart_and_never_negative():
    v = np.array([1000.0, 1010.0, 3.0, 8.0])
    iv = counter_intervals(v)
    np.testing.assert_allclose(iv, [np.nan, 10.0, 3.0, 5.0])
    assert np.nanmin(iv) >= 0


@pytest.mark.parametrize("bits", [16, 23, 32])
def test_rollover_at_register_width_gives_no_spike(bits):
    modulus = 2.0**bits
    v = np.array([modulus - 30.0, modulus - 10.0, 5.0, 25.0])
    np.testing.assert_allclose(counter_intervals(v), [np.nan, 20.0, 15.0, 20.0])


def test_missing_snapshot_gives_missing_interval_not_zero():
    v = np.array([1.0, np.nan, 3.0, 4.0])
    iv = counter_intervals(v)
    assert np.isnan(iv[1]) and np.isnan(iv[2]) and iv[3] == 1.0


def test_short_inputs():
    assert counter_intervals(np.array([])).size == 0
    assert np.isnan(counter_intervals(np.array([5.0]))).all()


def test_integrate_power_holds_each_bin_and_skips_gaps():
    ts_ms = np.array([0, 900_000, 1_800_000, 9_000_000], dtype=np.int64)  # 15 min steps, then a 2 h gap
    p_kw = np.array([4.0, -8.0, 2.0, 1.0])
    e = integrate_power_kwh(ts_ms, p_kw, max_step_s=3 * 900)
    np.testing.assert_allclose(e, [1.0, -2.0, 0.0, 0.0])
