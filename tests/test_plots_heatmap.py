"""The cell heatmap's plot: sent whole when narrow (the browser zooms it), rasterized when wide; the
window shown is the data's, whatever annotations lie outside it."""

from __future__ import annotations

import holoviews as hv
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
