"""core.cells.health.pack_summary: the one producer of a pack's best/worst cell and SAT level, checked with pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.cells.health import pack_summary
from data.glossary import SystemKind


def test_pack_summary_matches_a_pandas_groupby(service):
    sid = service.systems(SystemKind.BESS)[0].id
    a = service.cell_analysis(sid)
    fits = pd.DataFrame({"pack": a.robust.packs, "label": a.robust.labels,
                         "abs_loss": np.abs(a.robust.loss_pct_per_year)}).dropna()
    best = fits.loc[fits.groupby("pack")["abs_loss"].idxmin()].set_index("pack")["label"]
    worst = fits.loc[fits.groupby("pack")["abs_loss"].idxmax()].set_index("pack")["label"]
    for i, pack in enumerate(a.trends.packs):
        s = pack_summary(int(pack), a.health, a.trends, a.robust)
        h = next(x for x in a.health if x.pack == pack)
        assert (s.n_cells, s.healthy, s.watched, s.critical) == (h.n_cells, h.healthy, h.watched, h.critical)
        assert (s.best_cell, s.worst_cell) == (best[pack], worst[pack])
        last = pd.Series(a.trends.mean_v[i], index=a.trends.days).dropna().index[-1]
        assert s.latest_day == np.datetime64(last, "D")
        assert s.mean_sat_v == a.trends.mean_v[i][a.trends.days == last][0]
        assert s.spread_sat_v == a.trends.spread_v[i][a.trends.days == last][0]
        assert 3.0 < s.mean_sat_v < 3.7 and 0 <= s.spread_sat_v < 0.5  # a LFP cell's SAT, in volts


def test_a_pack_without_fits_or_trends_has_no_best_cell(service):
    sid = service.systems(SystemKind.BESS)[0].id
    a = service.cell_analysis(sid)
    s = pack_summary(99, a.health, a.trends, a.robust)
    assert (s.n_cells, s.best_cell, s.worst_cell, s.latest_day) == (0, None, None, None)
    assert np.isnan(s.mean_sat_v) and np.isnan(s.spread_sat_v)
