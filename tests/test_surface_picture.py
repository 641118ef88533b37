"""The server-drawn 3D surface: projection and interpolation against plane geometry in NumPy,
hidden surfaces, holes, outlier colours, and the pane's hover layer and click."""

from __future__ import annotations

import math

import holoviews as hv
import numpy as np
import pytest
from bokeh.document import Document
from bokeh.io.doc import patch_curdoc

from core.results import Matrix
from dashboard.surface_overlay import HEIGHT_PX, WIDTH_PX, viridis_rgb
from dashboard.surface_picture import BOX_X, BOX_Y, View, render
from dashboard.surface_plot import bin_days
from dashboard.views.surface import SurfacePicture, surface_picture_pane

GREY = np.array([[0, 0, 0], [255, 255, 255]], dtype=np.uint8)


def _plane(n_rows=40, n_cols=60, a=0.02, b=-0.01, c=3.4):
    rows, cols = np.mgrid[0:n_rows, 0:n_cols]
    return c + a * cols / n_cols + b * rows / n_rows


def test_top_view_interpolates_a_plane_exactly_where_each_pixel_lies():
    """From straight above each pixel sees the grid point below it; linear interpolation is exact on
    a plane, so the value under every pixel is the plane at that pixel's world position."""
    values = _plane()
    clim = (float(values.min()), float(values.max()))
    pic = render(values, clim, GREY, width=400, height=300, view=View(0.0, 90.0), margin_px=20)
    drawn = np.isfinite(pic.value)
    assert drawn.mean() > 0.3  # the surface fills a good part of the picture
    # invert the top-view projection with the picture's own projector: two known points give scale/offset
    n_rows, n_cols = values.shape
    (u0, u1), (v0, v1) = pic.project([-BOX_X / 2, BOX_X / 2], [-BOX_Y / 2, BOX_Y / 2], [0.0, 0.0])
    py, px = np.nonzero(drawn)
    col = (px - u0) / (u1 - u0) * (n_cols - 1)
    row = (py - v0) / (v1 - v0) * (n_rows - 1)
    expected = 3.4 + 0.02 * col / n_cols - 0.01 * row / n_rows
    np.testing.assert_allclose(pic.value[drawn], expected, atol=1e-9)
    # each pixel names the grid point nearest to it
    np.testing.assert_array_equal(pic.column[drawn], np.rint(col).astype(int))
    assert np.abs(pic.row[drawn] - row).max() <= 0.5 + 1e-6
    assert ((pic.row >= 0) == drawn).all() and ((pic.rgba[..., 3] == 255) == drawn).all()


@pytest.mark.parametrize("wall_rows, hidden", [(slice(0, 10), slice(12, None)), (slice(-10, None), None)])
def test_a_near_wall_hides_what_is_behind_it(wall_rows, hidden):
    """Seen from low (elevation 10, looking along the rows from row 0), a tall wall in the
    first rows hides every row behind it; in the last rows it hides nothing in front of it."""
    values = np.full((60, 30), 3.40)
    values[wall_rows] = 3.50
    pic = render(values, (3.40, 3.50), GREY, width=300, height=200, view=View(0.0, 10.0), margin_px=20)
    seen = set(np.unique(pic.row[pic.row >= 0]).tolist())
    if hidden is not None:
        assert not seen & set(range(60)[hidden]), sorted(seen)
    else:
        assert len(seen & set(range(50))) > 10, sorted(seen)  # the low rows in front of the wall are drawn


def test_days_without_sat_stay_holes():
    values = _plane(20, 30)
    values[:, 12] = np.nan  # a day without SAT: both quads touching it are left out
    values[5, 3] = np.nan
    pic = render(values, (3.38, 3.43), GREY, width=300, height=200, view=View(0.0, 90.0), margin_px=20)
    assert 12 not in set(np.unique(pic.column[pic.column >= 0]).tolist())
    assert not ((pic.row == 5) & (pic.column == 3)).any()
    assert (pic.rgba[..., 3][np.isnan(pic.value)] == 0).all()


def test_values_beyond_the_colour_range_get_their_own_colours_and_heights_stop_at_it():
    values = np.full((20, 20), 3.40)
    values[:, :5] = 3.30  # below
    values[:, -5:] = 3.60  # above
    flat = render(np.clip(values, 3.35, 3.45), (3.35, 3.45), viridis_rgb(), width=300, height=200,
                  view=View(-40.0, 35.0))
    pic = render(values, (3.35, 3.45), viridis_rgb(), width=300, height=200, view=View(-40.0, 35.0),
                 below=(0, 0, 0), above=(255, 0, 255))
    # the same geometry as the clipped values: outliers do not stretch the surface
    np.testing.assert_array_equal(pic.row, flat.row)
    above = pic.value > 3.45
    below = pic.value < 3.35
    assert above.any() and below.any()
    rgb = pic.rgba[..., :3].astype(int)
    assert (rgb[below] == 0).all()
    magenta = rgb[above]  # shaded: darker or lighter, but red = blue and no green
    assert (magenta[:, 1] == 0).all() and (magenta[:, 0] == magenta[:, 2]).all() and (magenta[:, 0] > 0).all()


def test_turning_changes_the_picture_but_not_the_values_seen():
    values = _plane()
    a = render(values, (3.38, 3.43), GREY, width=300, height=200, view=View(-50.0, 30.0))
    b = render(values, (3.38, 3.43), GREY, width=300, height=200, view=View(120.0, 30.0))
    assert not np.array_equal(a.row, b.row)
    for pic in (a, b):
        seen = pic.value[np.isfinite(pic.value)]
        assert values.min() - 1e-9 <= seen.min() and seen.max() <= values.max() + 1e-9


@pytest.mark.parametrize("kwargs, match", [
    (dict(clim=(3.5, 3.4)), "clim"),
    (dict(clim=(3.4, math.nan)), "clim"),
    (dict(colours=np.zeros((1, 3), np.uint8)), "colours"),
    (dict(values=np.zeros(5)), "rows x columns"),
    (dict(width=50), "too small"),
])
def test_bad_input_names_what_is_wrong(kwargs, match):
    args = dict(values=_plane(), clim=(3.38, 3.43), colours=GREY, width=300, height=200) | kwargs
    values, clim, colours = args.pop("values"), args.pop("clim"), args.pop("colours")
    with pytest.raises(ValueError, match=match):
        render(values, clim, colours, **args)


@pytest.mark.parametrize("elevation", [-1.0, 91.0, math.inf])
def test_view_refuses_angles_it_cannot_draw(elevation):
    with pytest.raises(ValueError, match="elevation|finite"):
        View(0.0, elevation)


def _matrix(n_days=200, seed=0):
    days = np.arange("2024-01-01", np.datetime64("2024-01-01") + n_days, dtype="datetime64[D]")
    rows = tuple(f"P{p}C{c}" for p in range(1, 3) for c in range(1, 11))
    rng = np.random.default_rng(seed)
    values = 3.4 + 0.002 * rng.standard_normal((len(rows), n_days)) + np.linspace(0, 0.01, len(rows))[:, None]
    return Matrix(rows=rows, columns=tuple(str(d) for d in days), values=values, unit="V")


def test_a_click_opens_the_cell_and_day_under_the_pointer():
    m = _matrix()
    opened = []
    bins = bin_days(m.values, np.asarray(m.columns, dtype="datetime64[D]"))
    sp = SurfacePicture(m, bins, 200, lang="en", cells_per_pack=10, on_open=lambda *a: opened.append(a))
    pic = sp.picture(-50, 30)
    py, px = np.argwhere(pic.row >= 0)[len(np.argwhere(pic.row >= 0)) // 2]
    # the click arrives in plot coordinates: pixels from the left, y up, pixel centres at .5
    sp.open_at(px + 0.5, HEIGHT_PX - 1 - py + 0.5)
    assert opened == [(m.rows[pic.row[py, px]], str(bins.first_days[pic.column[py, px]]))]
    sp.open_at(1.0, 1.0)  # the empty corner opens nothing
    sp.open_at(None, None)
    assert len(opened) == 1


def _maps_under(dmap) -> list:
    """The DynamicMaps a (product of) DynamicMap(s) is built from, itself included."""
    inputs = getattr(dmap.callback, "inputs", [])
    return [dmap] + [d for i in inputs for d in _maps_under(i)]


def test_the_pane_builds_one_plot_whose_tap_reaches_the_picture_and_whose_hover_names_cells():
    m = _matrix()
    opened = []
    pane = surface_picture_pane(m, lang="de", cells_per_pack=10, on_open=lambda *a: opened.append(a))
    doc = Document()
    with patch_curdoc(doc):
        pane.get_root(doc)
    sliders, plot_pane, note = pane.objects
    assert "Median der SAT über 2 Kalendertage" in note.object
    dmap = plot_pane.object
    taps = [s for d in _maps_under(dmap) for s in hv.streams.Stream.registry.get(d, [])
            if isinstance(s, hv.streams.Tap)]
    assert len(taps) == 1
    overlay = dmap.last
    rgb, hover = overlay.get(0), overlay.get(1)
    assert rgb.data.shape[:2] == (HEIGHT_PX, WIDTH_PX)
    # the hover layer's cell layer holds row numbers of drawn pixels (the formatter names them P<p>C<c>)
    cells = hover.dimension_values("cell")
    assert np.nanmax(cells) <= len(m.rows) - 1 and np.nanmin(cells) >= 0
    days = hover.dimension_values("day")
    first = np.datetime64("2024-01-01").astype(int)
    assert np.nanmin(days) == first  # days since 1970: the first bin's first day is on screen
    # a tap event on the stream opens a cell, as the browser's click does
    taps[0].event(x=WIDTH_PX / 2, y=HEIGHT_PX / 2)
    taps[0].event(x=1.0, y=1.0)
    assert len(opened) == 1, "the picture's centre shows the surface, its corner nothing"
    assert opened[0][0] in m.rows and opened[0][1].startswith("2024-")


def test_one_day_is_too_little_for_a_surface_and_says_so():
    m = _matrix(n_days=1)
    pane = surface_picture_pane(m, lang="en", cells_per_pack=10)
    assert "at least two days" in pane.object


def test_one_pack_keeps_its_cells_system_rows_and_names():
    """With the pack selector on pack 2, the hover's row numbers are the system's (the formatter
    turns them into P2C<n>), the click names P2 cells, and the axis names the pack's cells."""
    m = _matrix()
    pack2 = Matrix(rows=m.rows[10:], columns=m.columns, values=m.values[10:], unit="V")
    opened = []
    pane = surface_picture_pane(pack2, lang="en", cells_per_pack=10, first_row=10,
                                on_open=lambda *a: opened.append(a))
    doc = Document()
    with patch_curdoc(doc):
        pane.get_root(doc)
    overlay = pane.objects[1].object.last
    cells = overlay.get(1).dimension_values("cell")
    assert np.nanmin(cells) == 10 and np.nanmax(cells) == 19
    texts = set(overlay.get(3).dimension_values("text"))  # picture, hover, edges, labels
    assert {"P2C1", "P2C3"} <= texts and not any(t.startswith("P1") for t in texts), texts
    taps = [s for d in _maps_under(pane.objects[1].object) for s in hv.streams.Stream.registry.get(d, [])
            if isinstance(s, hv.streams.Tap)]
    taps[0].event(x=WIDTH_PX / 2, y=HEIGHT_PX / 2)
    assert opened and opened[0][0].startswith("P2C")
