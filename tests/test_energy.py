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


# -- gap-aware counters, booked by interval start (truths written by hand) ---------------------

from datetime import datetime  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from core.energy import PARTIAL_DAY_COVERAGE, IntervalKind, book, counter_energy, power_energy, totals, unattributed  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
Q_MS = 900_000


def _local_ms(y, mo, d, h=0, mi=0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=BERLIN).timestamp() * 1000)


def _grid(start_ms: int, end_ms: int, step_ms: int = Q_MS) -> np.ndarray:
    return np.arange(start_ms, end_ms, step_ms, dtype=np.int64)


def test_months_long_gap_is_unattributed_never_booked_to_a_day():
    # 2 days at 1 kWh per quarter hour, a 90-day outage during which the counter advances
    # 100 MWh, then 2 more days. Truth: 192 + 192 kWh on the covered days, 100 MWh unattributed.
    before = _grid(_local_ms(2024, 1, 1), _local_ms(2024, 1, 3) + 1)  # through 3 Jan 00:00
    after = _grid(_local_ms(2024, 4, 2), _local_ms(2024, 4, 4) + 1)
    v_before = 5_000.0 + np.arange(before.size)
    v_after = v_before[-1] + 100_000.0 + np.arange(after.size)
    iv = counter_energy(np.concatenate([before, after]), np.concatenate([v_before, v_after]))
    measured, lost = totals(iv)
    assert measured == pytest.approx(384.0) and lost == pytest.approx(100_000.0)
    gaps = unattributed(iv, "pos_ae")
    assert len(gaps) == 1 and gaps[0].energy_kwh == pytest.approx(100_000.0) and gaps[0].kind == "rise"
    assert gaps[0].start == datetime(2024, 1, 3, tzinfo=BERLIN) and gaps[0].end == datetime(2024, 4, 2, tzinfo=BERLIN)
    days = book(iv)
    e = dict(zip(days.labels, days.energy))
    assert e["2024-01-01"] == 96 and e["2024-01-02"] == 96 and e["2024-04-02"] == 96 and e["2024-04-03"] == 96
    # the last snapshot before the outage (3 Jan 00:00) opens the gap interval: 3 Jan has no data
    assert np.isnan(e["2024-01-03"]) and np.isnan(e["2024-02-15"])
    assert np.nanmax(days.energy) == 96  # no day carries the outage's energy
    cov = dict(zip(days.labels, days.coverage))
    assert cov["2024-01-02"] == 1.0 and cov["2024-02-15"] == 0.0


def test_reset_inside_a_gap_books_only_the_energy_since_the_restart_as_unattributed():
    before = _grid(_local_ms(2024, 5, 1), _local_ms(2024, 5, 2) + 1)
    after = _grid(_local_ms(2024, 7, 1), _local_ms(2024, 7, 2) + 1)
    v = np.concatenate([80_000.0 + 2.0 * np.arange(before.size), 7.0 + 2.0 * np.arange(after.size)])
    iv = counter_energy(np.concatenate([before, after]), v)
    gaps = unattributed(iv, "pos_ae")
    assert [(g.kind, g.energy_kwh) for g in gaps] == [("reset", 7.0)]
    days = dict(zip(book(iv).labels, book(iv).energy))
    assert days["2024-05-01"] == 192.0 and days["2024-07-01"] == 192.0
    assert np.nanmin(iv.energy) >= 0


@pytest.mark.parametrize("bits", [16, 23, 32])
def test_rollover_inside_the_day_and_inside_a_gap(bits):
    m = 2.0**bits
    ts = _grid(_local_ms(2024, 2, 1), _local_ms(2024, 2, 2) + 1)
    v = (m - 40.5 + 1.5 * np.arange(ts.size)) % m  # wraps after 27 steps
    iv = counter_energy(ts, v)
    assert book(iv).energy[0] == pytest.approx(96 * 1.5)
    assert (iv.kind == IntervalKind.ROLLOVER).sum() == 1
    # the same wrap across a 10-day outage: one unattributed interval of the true 3 kWh + wrap
    ts2 = np.array([ts[0], ts[1], ts[2], ts[2] + 10 * 86_400_000, ts[2] + 10 * 86_400_000 + Q_MS])
    v2 = np.array([m - 30.0, m - 28.0, m - 26.0, 4.0, 6.0])
    g = unattributed(counter_energy(ts2, v2), "pos_ae")
    assert [(x.kind, x.energy_kwh) for x in g] == [("rollover", 30.0)]


def test_jitter_gives_zero_then_recovers_never_a_spike():
    ts = _grid(_local_ms(2024, 3, 1), _local_ms(2024, 3, 1, 2) + 1)  # 9 snapshots
    # 0.1 kWh backward step at a normal value and just below 2^16 (not a reset, not a rollover)
    for base in (1234.0, 65_530.0):
        v = base + np.array([0.0, 1.0, 2.0, 1.9, 3.0, 4.0, 3.95, 5.0, 6.0])
        iv = counter_energy(ts, v)
        np.testing.assert_allclose(iv.energy, [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], atol=1e-9)
        assert (iv.kind == IntervalKind.JITTER).sum() == 2
        assert iv.energy.sum() == pytest.approx(v[-1] - v[0])  # nothing invented, nothing lost


def test_drop_to_an_unknown_base_books_nothing():
    ts = _grid(0, 5 * Q_MS)
    iv = counter_energy(ts, np.array([1000.0, 1010.0, 600.0, 605.0, 611.0]))
    np.testing.assert_allclose(iv.energy, [10.0, 0.0, 5.0, 6.0])
    assert iv.kind[1] == IntervalKind.DROP


@pytest.mark.parametrize("day, hours", [((2024, 3, 31), 23), ((2024, 10, 27), 25)])
def test_dst_day_is_counter_at_next_midnight_minus_counter_at_midnight(day, hours):
    # 1 kWh per quarter hour; a snapshot every 15 min from the day before to the day after
    y, mo, d = day
    ts = _grid(_local_ms(y, mo, d) - 86_400_000, _local_ms(y, mo, d) + 2 * 86_400_000)
    v = 100.0 + np.arange(ts.size, dtype=float)
    iv = counter_energy(ts, v)
    days = book(iv)
    label = f"{y:04d}-{mo:02d}-{d:02d}"
    i = days.labels.index(label)
    next_midnight = int(datetime(y, mo, d, tzinfo=BERLIN).timestamp() * 1000) + hours * 3_600_000
    at = dict(zip(ts.tolist(), v.tolist()))
    assert days.energy[i] == at[next_midnight] - at[_local_ms(y, mo, d)] == 4 * hours
    assert days.coverage[i] == 1.0
    hourly = book(iv, "1h", first_ms=_local_ms(y, mo, d), last_ms=next_midnight - 1)
    assert len(hourly.labels) == hours and np.all(hourly.energy == 4.0)
    quarter = book(iv, "15min", first_ms=_local_ms(y, mo, d), last_ms=next_midnight - 1)
    assert len(quarter.labels) == 4 * hours and np.all(quarter.energy == 1.0)


def test_last_quarter_hour_of_a_day_belongs_to_that_day():
    ts = np.array([_local_ms(2024, 6, 1, 23, 45), _local_ms(2024, 6, 2, 0, 0)])
    days = book(counter_energy(ts, np.array([10.0, 12.5])))
    assert days.labels == ("2024-06-01",) and days.energy[0] == 2.5


def test_a_day_with_half_its_data_is_partial():
    ts = _grid(_local_ms(2024, 6, 1), _local_ms(2024, 6, 1, 12) + 1)  # 00:00 .. 12:00
    ts = np.concatenate([ts, _grid(_local_ms(2024, 6, 2), _local_ms(2024, 6, 3) + 1)])
    v = np.arange(ts.size, dtype=float) * 0.5
    days = book(counter_energy(ts, v))
    assert days.labels[:2] == ("2024-06-01", "2024-06-02")
    assert days.coverage[0] == pytest.approx(0.5) and days.coverage[1] == 1.0
    assert days.coverage[0] < PARTIAL_DAY_COVERAGE <= days.coverage[1]
    assert days.energy[0] == 24.0  # 48 quarter hours of 0.5 kWh; the 12:00 -> next-day step is a gap


def test_power_bins_hold_their_width_and_a_gap_counts_against_coverage():
    ts = np.concatenate([_grid(_local_ms(2024, 6, 1), _local_ms(2024, 6, 1, 6)),
                         _grid(_local_ms(2024, 6, 1, 18), _local_ms(2024, 6, 2))])
    iv = power_energy(ts, np.full(ts.size, 4.0), level="15min")
    days = book(iv)
    assert days.energy[0] == pytest.approx(12 * 4.0) and days.coverage[0] == pytest.approx(0.5)
