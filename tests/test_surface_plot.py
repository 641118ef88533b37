"""The 3D SAT surface's day bins (median per calendar-day run) against NumPy and pandas, and its figure."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from core.results import Matrix
from dashboard.surface_plot import MAX_COLUMNS, bin_days, bin_note, surface_figure


def _sat(n_cells: int, days: np.ndarray, seed: int = 0) -> np.ndarray:
    """SAT-like values [V] with non-SAT days (whole NaN columns) and single missing readings."""
    rng = np.random.default_rng(seed)
    v = 3.40 + rng.normal(0.0, 0.01, (n_cells, days.size))
    v[:, rng.random(days.size) < 0.4] = np.nan  # days the pack did not reach full charge
    v[rng.random(v.shape) < 0.05] = np.nan  # single readings missing
    return v


def _days(n: int, start: str = "2023-10-01") -> np.ndarray:
    return np.datetime64(start, "D") + np.arange(n)


def test_each_bin_is_the_nanmedian_of_its_days():
    days = _days(639)
    values = _sat(260, days)
    bins = bin_days(values, days, max_columns=150)
    k = bins.days_per_bin
    assert k == 5 and bins.first_days.size == 128  # ceil(639 / 150) days per bin, ceil(639 / 5) bins
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for b, first in enumerate(bins.first_days):
            cols = (days >= first) & (days < first + np.timedelta64(k, "D"))
            np.testing.assert_array_equal(bins.values[:, b], np.nanmedian(values[:, cols], axis=1))
            assert bins.columns_per_bin[b] == cols.sum()


def test_bins_match_pandas_calendar_resampling_with_a_gap_in_the_days():
    # 40 days missing from the matrix (no data at all): their bins are NaN, later days keep their dates
    days = np.concatenate([_days(100), _days(200, "2024-03-10")])
    values = _sat(12, days, seed=1)
    bins = bin_days(values, days, max_columns=30)
    frame = pd.DataFrame(values.T, index=pd.DatetimeIndex(days.astype("datetime64[ns]")))
    ref = frame.resample(f"{bins.days_per_bin}D", origin="start").median()
    ref = ref.reindex(pd.DatetimeIndex(bins.first_days.astype("datetime64[ns]")))
    np.testing.assert_allclose(bins.values, ref.to_numpy().T, equal_nan=True, rtol=0, atol=1e-12)
    gap = (bins.first_days >= np.datetime64("2024-01-10")) & (
        bins.first_days + np.timedelta64(bins.days_per_bin, "D") <= np.datetime64("2024-03-10"))
    assert gap.any() and np.isnan(bins.values[:, gap]).all() and (bins.columns_per_bin[gap] == 0).all()


@pytest.mark.parametrize("n_days", [1, 2, 149, 150, 151, 300, 301, 639, 1000])
@pytest.mark.parametrize("max_columns", [1, 7, MAX_COLUMNS])
def test_bin_count_is_bounded_and_the_bin_width_is_the_smallest_that_fits(n_days, max_columns):
    days = _days(n_days)
    bins = bin_days(np.zeros((3, n_days)), days, max_columns=max_columns)
    k = bins.days_per_bin
    assert 1 <= bins.first_days.size <= max_columns
    assert k == 1 or -(-n_days // (k - 1)) > max_columns  # one day narrower would not fit
    assert bins.first_days[0] == days[0] and bins.first_days[-1] <= days[-1]
    assert bins.columns_per_bin.sum() == n_days  # every day in exactly one bin
    assert np.all(np.diff(bins.first_days) == np.timedelta64(k, "D"))
    assert k == 1 or bin_note(bins, n_days, "en").startswith(f"Each column is the median SAT of {k} ")


def test_days_without_sat_are_left_out_and_an_all_nan_bin_stays_nan_without_warnings():
    days = _days(6)
    values = np.array([[3.40, np.nan, 3.44, np.nan, np.nan, np.nan],
                       [np.nan, np.nan, np.nan, 3.41, np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bins = bin_days(values, days, max_columns=2)
    assert bins.days_per_bin == 3
    np.testing.assert_allclose(bins.values, [[3.42, np.nan], [np.nan, 3.41]], equal_nan=True)


def test_a_short_record_keeps_one_column_per_day():
    days = _days(30)
    values = _sat(4, days)
    bins = bin_days(values, days)
    assert bins.days_per_bin == 1
    np.testing.assert_array_equal(bins.values, values)
    assert "calendar day" in bin_note(bins, 30, "en") and "Kalendertag" in bin_note(bins, 30, "de")


@pytest.mark.parametrize("bad, match", [
    (dict(max_columns=0), "max_columns"),
    (dict(max_columns=2.5), "max_columns"),
    (dict(days=_days(5)), "one column per day"),
    (dict(days=_days(6)[::-1]), "strictly increasing"),
])
def test_bad_input_names_what_is_wrong(bad, match):
    args = dict(values=np.zeros((2, 6)), days=_days(6), max_columns=10) | bad
    with pytest.raises(ValueError, match=match):
        bin_days(**args)


def test_figure_has_dates_cell_names_and_the_binned_values():
    days = _days(400)
    labels = tuple(f"P{p}C{c}" for p in (1, 2) for c in range(1, 6))
    values = _sat(len(labels), days, seed=2)
    bins = bin_days(values, days)
    fig = surface_figure(bins, labels, unit="V", title="t", lang="de", dark=True)
    trace, layout = fig["data"][0], fig["layout"]
    assert trace["type"] == "surface" and trace["colorscale"] == "Viridis"
    # real calendar dates on the day axis (not "days since the first"), cell names on the other
    assert trace["x"] == [str(d) for d in bins.first_days] and trace["x"][0] == "2023-10-01"
    assert layout["scene"]["xaxis"]["type"] == "date" and trace["y"] == list(labels)
    np.testing.assert_allclose(trace["z"], bins.values, rtol=1e-6, equal_nan=True)
    assert "Median über 3 Tage ab %{x|%d.%m.%Y}" in trace["hovertemplate"] and " V" in trace["hovertemplate"]
    assert layout["separators"] == ",." and layout["scene"]["xaxis"]["title"]["text"] == "Tag (Europe/Berlin)"
    assert trace["colorbar"]["title"]["text"] == "SAT-Spannung [V]"
    with pytest.raises(ValueError, match="labels"):
        surface_figure(bins, labels[:-1], unit="V", title="t", lang="en")


def test_surface_pane_shows_the_binning_note_with_the_plot():
    from dashboard.views.surface import surface_pane

    days = _days(639)
    labels = tuple(f"P1C{c}" for c in range(1, 9))
    m = Matrix(rows=labels, columns=tuple(str(d) for d in days), values=_sat(len(labels), days), unit="V")
    pane = surface_pane(m, lang="en")
    note, plot = pane.objects
    assert "median SAT of 5 calendar days" in note.object and "639 days in 128 columns" in note.object
    assert plot.object["data"][0]["z"].shape == (8, 128)
