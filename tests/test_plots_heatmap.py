"""The cell heatmap's plot: sent whole when narrow (the browser zooms it), rasterized when wide; the
window shown is the data's, whatever annotations lie outside it."""

from __future__ import annotations

import holoviews as hv
import pytest
import numpy as np
from bokeh.document import Document
from bokeh.io.doc import patch_curdoc

from core.cells.alerts import Alert, AlertKind, Severity
from core.cells.events import PackEvent
from core.results import Matrix
from dashboard import cell_heatmap, plots

hv.extension("bokeh", logo=False)

CPP, PACKS = 4, 2


def _matrix(days: int, first: str = "2025-06-01") -> Matrix:
    columns = tuple(str(d) for d in np.datetime64(first) + np.arange(days))
    values = 3.3 + 0.001 * np.random.default_rng(0).standard_normal((CPP * PACKS, days))
    rows = tuple(f"P{p}C{c}" for p in range(1, PACKS + 1) for c in range(1, CPP + 1))
    return Matrix(rows=rows, columns=columns, values=values, unit="V")


def _heatmap(m: Matrix, annotations=None) -> hv.Overlay:
    image = cell_heatmap.heatmap_image(m, cells_per_pack=CPP, label="SAT")
    return cell_heatmap.heatmap(image, n_packs=PACKS, cells_per_pack=CPP, title="t", annotations=annotations)


def _figure(overlay: hv.Overlay):
    own = Document()  # curdoc() may be a stopped browser-test session's destroyed Document
    with patch_curdoc(own):
        return hv.render(overlay)


def _image_layer(overlay) -> hv.Element | hv.DynamicMap:
    return overlay if not isinstance(overlay, hv.Overlay) else next(iter(overlay))


def test_a_daily_heatmap_is_sent_whole_and_zoomed_by_the_browser():
    overlay = _heatmap(_matrix(cell_heatmap.NATIVE_MAX_COLUMNS))
    assert not isinstance(overlay, hv.DynamicMap)  # no datashader operation to re-run on a zoom
    fig = _figure(overlay)
    (image,) = [r for r in fig.renderers if type(getattr(r, "glyph", None)).__name__ == "Image"]
    assert image.data_source.data["image"][0].shape == (CPP * PACKS, cell_heatmap.NATIVE_MAX_COLUMNS)


def test_a_wider_heatmap_is_rasterized_by_datashader():
    overlay = _heatmap(_matrix(cell_heatmap.NATIVE_MAX_COLUMNS + 1))
    assert isinstance(overlay, hv.DynamicMap)  # the raster re-computed on every zoom
    fig = _figure(overlay)
    (image,) = [r for r in fig.renderers if type(getattr(r, "glyph", None)).__name__ == "Image"]
    assert image.data_source.data["image"][0].shape[1] <= cell_heatmap.NATIVE_MAX_COLUMNS + 1


def test_annotations_outside_the_window_do_not_stretch_it():
    # Found on the raw 7-day heatmap: an alert of last year's days squeezed the week into a sliver.
    m = _matrix(7)
    old = np.datetime64("2024-01-10")
    notes = plots.heatmap_annotations(
        [PackEvent(pack=2, day=old, step_v=0.01, cells_affected=(1,), n_cells=CPP)],
        [Alert(pack=1, cell=2, kind=next(iter(AlertKind)), severity=next(iter(Severity)),
               reason_en="r", reason_de="r", first_day=old, last_day=old + np.timedelta64(30, "D"))],
        cells_per_pack=CPP, rows=(0, CPP * PACKS))
    assert len(notes) == 2
    fig = _figure(_heatmap(m, notes))
    span_days = (np.datetime64(fig.x_range.end, "ms") - np.datetime64(fig.x_range.start, "ms")) / np.timedelta64(1, "D")
    assert 6 <= span_days <= 8, span_days


def _hourly_image(hours: int, extra: bool = False) -> hv.Image:
    """An hourly raw-voltage image (datetime columns), optionally with a second, hover-only layer."""
    rng = np.random.default_rng(1)
    columns = tuple(f"{h}:00Z" for h in np.datetime64("2025-01-01T00") + np.arange(hours))
    values = 3.3 + 0.01 * rng.standard_normal((CPP * PACKS, hours))
    values[2, 1000:1100] = np.nan  # a gap (in every window below): its pixels stay empty
    m = Matrix(rows=tuple(f"P{p}C{c}" for p in range(1, PACKS + 1) for c in range(1, CPP + 1)),
               columns=columns, values=values, unit="V")
    more = {"deviation": (1000 * (values - 3.3), "dev", "mV")} if extra else None
    return cell_heatmap.heatmap_image(m, cells_per_pack=CPP, label="V", extra=more)


@pytest.mark.parametrize("window, width, height", [
    ((0.0, 1.0), 400, 300),  # the whole record into fewer pixels than columns
    ((0.3, 0.45), 900, 500),  # a zoom: more pixels than columns (nearest)
    ((0.05, 0.9), 123, 7),  # odd sizes
])
@pytest.mark.parametrize("extra", [False, True])
def test_our_regrid_gives_what_holoviews_rasterize_gives(window, width, height, extra):
    """cell_heatmap.Regrid converts the time coordinates as one array instead of one by one; the
    rasterized picture, its coordinates and every layer must be HoloViews' own, bit for bit."""
    from holoviews.operation.datashader import rasterize

    image = _hourly_image(3000, extra)
    t0, t1 = image.range("time")
    span = t1 - t0
    ranges = dict(x_range=(t0 + span * window[0], t0 + span * window[1]), y_range=(0.5, 6.5),
                  width=width, height=height, dynamic=False)
    theirs = rasterize(image, aggregator="mean", precompute=True, **ranges)
    ours = cell_heatmap.rasterized(image, **ranges)
    assert ours.bounds.lbrt() == theirs.bounds.lbrt()
    for dim in range(2):
        np.testing.assert_array_equal(ours.dimension_values(dim, expanded=False),
                                      theirs.dimension_values(dim, expanded=False))
    assert [d.name for d in ours.vdims] == [d.name for d in theirs.vdims]
    for vdim in theirs.vdims:
        np.testing.assert_array_equal(ours.dimension_values(vdim, flat=False), theirs.dimension_values(vdim, flat=False))
    assert np.isnan(ours.dimension_values("value")).any() and not np.isnan(ours.dimension_values("value")).all()
    # and the element's own coordinates are still datetimes (assign_coords made new arrays)
    assert np.issubdtype(image.data["time"].dtype, np.datetime64)


def test_the_wide_heatmap_is_rasterized_by_our_regrid(monkeypatch):
    calls = []
    original = cell_heatmap.Regrid._get_xarrays

    def spy(self, *args, **kwargs):
        calls.append(args[2:])  # (xtype, ytype)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cell_heatmap.Regrid, "_get_xarrays", spy)
    _figure(_heatmap(_matrix(cell_heatmap.NATIVE_MAX_COLUMNS + 1)))
    assert calls and calls[0][0] == "datetime"  # the time axis, converted as one array
