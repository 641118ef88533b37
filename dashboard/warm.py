"""Start-up warm-up: run the JIT-compiled paths once so the first visitor does not wait for them."""

from __future__ import annotations

import logging
import time

import holoviews as hv
import numpy as np

from core.results import Matrix
from dashboard import cell_heatmap

log = logging.getLogger(__name__)


def warm_up(service) -> float:
    """Render synthetic heatmaps (daily, and hourly wide enough to be rasterized) and query one
    series per method; returns seconds spent.

    The synthetic matrices have the shape of real ones (260 cells x 600 days or 1,600 hours,
    datetime columns) so datashader compiles the same specialisations the cell view later uses.
    """
    t0 = time.perf_counter()
    hv.extension("bokeh", logo=False)
    days = np.arange("2024-01-01", "2025-08-23", dtype="datetime64[D]")
    columns = tuple(f"{d}T22:00:00Z" for d in days)
    rng = np.random.default_rng(0)
    values = 3.45 + 0.01 * rng.standard_normal((260, len(columns)))
    matrix = Matrix(rows=tuple(f"P{p}C{c}" for p in range(1, 6) for c in range(1, 53)),
                    columns=columns, values=values, unit="V")
    image = cell_heatmap.heatmap_image(matrix, cells_per_pack=52, label="V")
    overlay = cell_heatmap.heatmap(image, n_packs=5, cells_per_pack=52, title="warm-up")
    hv.render(overlay, backend="bokeh")  # sent whole (cell_heatmap.NATIVE_MAX_COLUMNS)
    # A wider one (hourly voltages) is rasterized by datashader: compile that path too.
    hours = np.datetime64("2025-01-01T00:00") + np.arange(2 * cell_heatmap.NATIVE_MAX_COLUMNS) * np.timedelta64(1, "h")
    wide = Matrix(rows=matrix.rows, columns=tuple(f"{h}:00Z" for h in hours),
                  values=3.45 + 0.01 * rng.standard_normal((260, hours.size)), unit="V")
    wide_image = cell_heatmap.heatmap_image(wide, cells_per_pack=52, label="V")
    hv.render(cell_heatmap.heatmap(wide_image, n_packs=5, cells_per_pack=52, title="warm-up"), backend="bokeh")
    _warm_zoom(wide_image)
    _warm_surface(Matrix(rows=matrix.rows, columns=tuple(str(d) for d in days), values=values, unit="V"))
    try:
        _warm_service(service)
        _warm_page(service)
    except Exception:  # an empty or missing store must not stop the server from starting
        log.warning("dashboard warm-up skipped the store queries", exc_info=True)
    spent = time.perf_counter() - t0
    log.info("dashboard warm-up took %.2f s", spent)
    return spent


def _warm_zoom(image: hv.Image) -> None:
    """Rasterize a zoomed-in window: regridding a sub-range compiles other code (about 1 s) than the full view."""
    t0, t1 = image.range("time")
    span = t1 - t0
    for width in (300, 900):  # fewer and more pixels than data columns
        cell_heatmap.rasterized(image, dynamic=False, x_range=(t0 + span * 0.1, t1 - span * 0.2),
                                y_range=(50.5, 200.5), width=width, height=400)


def _warm_surface(matrix: Matrix) -> None:
    """Draw the 3D surface picture once: its Numba kernel compiles (or loads its cache) here.
    ``matrix`` has local days as columns, as the cell view's SAT matrix."""
    from bokeh.document import Document
    from bokeh.io.doc import patch_curdoc

    from dashboard.views.surface import surface_picture_pane

    doc = Document()
    with patch_curdoc(doc):  # the pane's plot is built as a page would build it, into a document of its own
        surface_picture_pane(matrix, lang="en", cells_per_pack=52).get_root(doc)


def _warm_service(service) -> None:
    service.fleet()  # the landing screen: every system's cell analysis, cycles and capacity
    systems = service.systems()
    for info in systems[:1]:
        sig = info.signals[0].name if info.signals else None
        if sig:
            for method in ("lttb", "minmax_lttb"):
                service.series(info.id, sig, max_points=500, method=method)
    bess = [s for s in systems if s.packs]
    if bess:
        m = service.cell_matrix(bess[0].id, level="1d")
        image = cell_heatmap.heatmap_image(m, cells_per_pack=bess[0].cells_per_pack, label="V")
        hv.render(cell_heatmap.heatmap(image, n_packs=bess[0].packs, cells_per_pack=bess[0].cells_per_pack,
                                       title="warm-up"), backend="bokeh")


def _warm_page(service) -> None:
    """Build the landing page once into a document of its own (template, sidebar widgets, fleet
    table): the first visitor after start-up otherwise waited ~0.4 s longer than the next ones
    for Panel's and Bokeh's first-use work (template compilation, stylesheets read, model classes)."""
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    from dashboard.app import Dashboard

    doc = Document()
    with set_curdoc(doc):
        Dashboard(service=service, defer=False).__panel__().server_doc(doc)
