"""Daily energy bars: partial days (coverage below the threshold) are drawn grey, whole days in colour."""

from __future__ import annotations

import holoviews as hv
import numpy as np

from core.results import DailyEnergy
from dashboard import plots


def test_partial_days_are_grey_and_whole_days_keep_their_colour():
    hv.extension("bokeh")
    days = ("2024-05-01", "2024-05-02", "2024-05-03")
    daily = DailyEnergy(days=days, import_kwh=np.array([10.0, 4.0, 12.0]),
                        export_kwh=np.array([1.0, 0.5, 2.0]), aux_kwh=None,
                        coverage=np.array([1.0, 0.4, 1.0]), partial=np.array([False, True, False]))
    frame = plots.energy_frame(daily, {"import": "Import", "export": "Export"}, partial_suffix="(partial day)")
    assert list(frame.loc[frame["period"] == "2024-05-02", "kind"]) == ["Import (partial day)", "Export (partial day)"]
    assert list(frame.loc[frame["period"] == "2024-05-01", "kind"]) == ["Import", "Export"]
    bars = plots.energy_bars(frame, title="t", partial_suffix="(partial day)")
    # A Document of its own: curdoc() in this process may still be a stopped browser-test session's
    # destroyed Document (Panel deletes its theme), which hv.render would draw into.
    from bokeh.document import Document
    from bokeh.io.doc import patch_curdoc

    own = Document()  # patch_curdoc keeps only a weak reference
    with patch_curdoc(own):
        mapper = hv.render(bars).renderers[0].glyph.fill_color.transform
    colour = dict(zip(mapper.factors, mapper.palette))
    assert colour["Import"] == plots.PALETTE[0] and colour["Export"] == plots.PALETTE[1]
    assert colour["Import (partial day)"] in plots.PARTIAL_GREYS and colour["Export (partial day)"] in plots.PARTIAL_GREYS
