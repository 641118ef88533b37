"""Cells against their peers: daily deviation from the pack median, robust z-scores, drift outliers, rankings.

Peers: a cell is compared with the cells of its own pack (they share current, temperature and
charge end), unless the pack holds fewer than `min_peer_cells` cells with data, in which case
the whole system is the peer group (e.g. the real reference data has one cell per pack).
Robust z-scores use median and MAD (x 1.4826) with a floor on the scale, so that a peer group
that happens to agree to the millivolt (1 mV is the BMS resolution) does not turn noise into
outliers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cells._robust import MAD_TO_SD, nanmedian_axis0, nanmedian_axis1, readonly
from core.cells.fits import CellFits
from core.cells.sat import SatMatrix

MIN_PEER_CELLS = 5
MIN_DEVIATION_SCALE_MV = 1.0
RECENT_SAT_DAYS = 30
# Iglewicz & Hoaglin suggest 3.5 for modified z-scores; on synthetic fleets with the real data's
# noise, 3.5 flagged ~0.75 normal cells per 260-cell fleet and 5 none in 20 fleets, while
# fast-drifting cells (8e-5..1.5e-4 V/day) score 13-33.
DRIFT_Z_OUTLIER = 5.0
MIN_SLOPE_SCALE_V_PER_DAY = 1e-6  # ~0.01 %/year of 3.45 V: below anything worth an alarm


def peer_groups(packs: np.ndarray, has_data: np.ndarray, min_peer_cells: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows to score, rows of their peer group) per pack; small packs fall back to the whole system."""
    everyone = np.flatnonzero(has_data)
    out = []
    for p in np.unique(packs):
        rows = np.flatnonzero(packs == p)
        peers = rows[has_data[rows]]
        out.append((rows, peers if peers.size >= min_peer_cells else everyone))
    return out


@dataclass(frozen=True)
class CellDeviations:
    """Each cell's SAT against its peers' median, per saturation day (NaN elsewhere)."""

    deviation_mv: np.ndarray
    """(n_cells, n_days) SAT minus the peer median that day. [mV]"""
    robust_z: np.ndarray
    """(n_cells, n_days) deviation / max(1.4826 x peer MAD that day, 1 mV)."""
    mean_deviation_mv: np.ndarray
    """(n_cells,) mean deviation over all saturation days. [mV]"""
    recent_deviation_mv: np.ndarray
    """(n_cells,) median deviation over the cell's last `recent_sat_days` saturation days. [mV]"""


def cell_deviations(sat: SatMatrix, *, min_peer_cells: int = MIN_PEER_CELLS,
                    min_scale_mv: float = MIN_DEVIATION_SCALE_MV,
                    recent_sat_days: int = RECENT_SAT_DAYS) -> CellDeviations:
    """Deviation (mV) and robust z of every cell from its peer median, per day."""
    if not isinstance(sat, SatMatrix):
        raise ValueError(f"sat must be a SatMatrix, got {type(sat).__name__}")
    if recent_sat_days < 1 or min_peer_cells < 1 or not min_scale_mv > 0:
        raise ValueError("recent_sat_days and min_peer_cells must be >= 1 and min_scale_mv > 0, got "
                         f"{recent_sat_days}, {min_peer_cells}, {min_scale_mv}")
    v_mv = sat.voltage_v * 1000.0
    has_data = np.isfinite(v_mv).any(axis=1)
    dev = np.full_like(v_mv, np.nan)
    z = np.full_like(v_mv, np.nan)
    for rows, peers in peer_groups(sat.packs, has_data, min_peer_cells):
        if peers.size == 0:
            continue
        med = nanmedian_axis0(v_mv[peers])
        scale = MAD_TO_SD * nanmedian_axis0(np.abs(v_mv[peers] - med[None, :]))
        d = v_mv[rows] - med[None, :]
        dev[rows] = d
        z[rows] = d / np.fmax(scale, min_scale_mv)[None, :]
    ok = np.isfinite(dev)
    cnt = ok.sum(axis=1)
    mean = np.divide(np.where(ok, dev, 0.0).sum(axis=1), cnt, out=np.full(sat.n_cells, np.nan), where=cnt > 0)
    # the last k finite values of each row: rank the finite days from the end
    rank_from_end = np.cumsum(ok[:, ::-1], axis=1)[:, ::-1]
    recent = nanmedian_axis1(np.where(ok & (rank_from_end <= recent_sat_days), dev, np.nan))
    out = CellDeviations(deviation_mv=dev, robust_z=z, mean_deviation_mv=mean, recent_deviation_mv=recent)
    readonly(out.deviation_mv, out.robust_z, out.mean_deviation_mv, out.recent_deviation_mv)
    return out


@dataclass(frozen=True)
class DriftScores:
    """Each cell's slope against its peers' slopes; arrays (n_cells,)."""

    robust_z: np.ndarray
    """(slope - peer median slope) / scale."""
    peer_median_slope_v_per_day: np.ndarray
    scale_v_per_day: np.ndarray
    """max(1.4826 x MAD of the peer slopes, median peer slope stderr, 1e-6 V/day): differences the
    fits cannot resolve are not outliers. [V/day]"""
    outlier: np.ndarray
    """bool: |z| >= z_outlier (5) and the cell's 95 % slope CI excludes the peer median."""


def drift_scores(fits: CellFits, *, min_peer_cells: int = MIN_PEER_CELLS, z_outlier: float = DRIFT_Z_OUTLIER,
                 min_scale_v_per_day: float = MIN_SLOPE_SCALE_V_PER_DAY) -> DriftScores:
    """Robust z of every cell's slope within its peer group, and which cells drift as outliers."""
    if not isinstance(fits, CellFits):
        raise ValueError(f"fits must be CellFits, got {type(fits).__name__}")
    if not z_outlier > 0 or not min_scale_v_per_day > 0:
        raise ValueError(f"z_outlier and min_scale_v_per_day must be > 0, got {z_outlier}, {min_scale_v_per_day}")
    s = fits.slope_v_per_day
    n = fits.n_cells
    z = np.full(n, np.nan)
    med = np.full(n, np.nan)
    scale = np.full(n, np.nan)
    for rows, peers in peer_groups(fits.packs, np.isfinite(s), min_peer_cells):
        if peers.size == 0:
            continue
        m = float(np.median(s[peers]))
        sc = max(MAD_TO_SD * float(np.median(np.abs(s[peers] - m))),
                 float(np.nanmedian(fits.slope_stderr_v_per_day[peers]))
                 if np.isfinite(fits.slope_stderr_v_per_day[peers]).any() else 0.0,
                 min_scale_v_per_day)
        med[rows] = m
        scale[rows] = sc
        z[rows] = (s[rows] - m) / sc
    excludes = (fits.slope_ci95_low_v_per_day > med) | (fits.slope_ci95_high_v_per_day < med)
    with np.errstate(invalid="ignore"):
        outlier = (np.abs(z) >= z_outlier) & excludes
    out = DriftScores(robust_z=z, peer_median_slope_v_per_day=med, scale_v_per_day=scale, outlier=outlier)
    readonly(out.robust_z, out.peer_median_slope_v_per_day, out.scale_v_per_day, out.outlier)
    return out


@dataclass(frozen=True)
class RankedCell:
    pack: int
    cell: int
    label: str
    slope_v_per_day: float
    mean_deviation_mv: float


@dataclass(frozen=True)
class CellRanking:
    """Best and worst cells of a system, best first / worst first; cells without a value are left out.

    By slope: the magnitude |slope| (least drift is best, either direction). By deviation: the
    magnitude of the mean deviation from the peer median (closest to the pack is best).
    """

    best_by_slope: tuple[RankedCell, ...]
    worst_by_slope: tuple[RankedCell, ...]
    best_by_deviation: tuple[RankedCell, ...]
    worst_by_deviation: tuple[RankedCell, ...]


def rank_cells(fits: CellFits, deviations: CellDeviations, *, k: int = 5) -> CellRanking:
    """The k best and k worst cells by drift and by deviation from their peers."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if deviations.mean_deviation_mv.shape != fits.slope_v_per_day.shape:
        raise ValueError("fits and deviations describe different cells")

    def cell(i: int) -> RankedCell:
        return RankedCell(pack=int(fits.packs[i]), cell=int(fits.cells[i]), label=fits.labels[i],
                          slope_v_per_day=float(fits.slope_v_per_day[i]),
                          mean_deviation_mv=float(deviations.mean_deviation_mv[i]))

    def ends(values: np.ndarray) -> tuple[tuple[RankedCell, ...], tuple[RankedCell, ...]]:
        idx = np.flatnonzero(np.isfinite(values))
        order = idx[np.argsort(np.abs(values[idx]), kind="stable")]
        return tuple(cell(i) for i in order[:k]), tuple(cell(i) for i in order[::-1][:k])

    bs, ws = ends(fits.slope_v_per_day)
    bd, wd = ends(deviations.mean_deviation_mv)
    return CellRanking(best_by_slope=bs, worst_by_slope=ws, best_by_deviation=bd, worst_by_deviation=wd)
