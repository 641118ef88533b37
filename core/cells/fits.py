"""Per-cell SAT degradation fits (least squares and Theil-Sen), batched, with loss rates and projections.

Fit around events: when a `PackEvent` is given, the cells of that pack are fitted only on the
segment that starts `guard_days` after the step day (the last event of a pack wins). A single
line across a step would smear the step into a false slope; a step term with one shared slope
would assume the drift is unchanged by the event, which is exactly what a damaged pack breaks
(its cells drift faster after a bad charging period). The guard keeps the few abnormal days
around the event (e.g. over-voltage days, an event day placed a day or two early) out of the
fit. The x axis stays "days since the first day of the matrix" for every cell, so intercepts
and projections of all cells are comparable.

Sign convention: loss = -slope, so a falling SAT is a positive loss. Projections in EFC count
equivalent full cycles from day 0 of the matrix at the measured rate `efc_per_day`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.cells._robust import readonly
from core.cells.events import PackEvent
from core.cells.sat import SatMatrix
from core.kernels import fit_ols_batch, fit_theil_sen_batch

DAYS_PER_YEAR = 365.25
PROJECTION_EFC = (5_000.0, 10_000.0)
DEFAULT_GUARD_DAYS = 7
_Z975 = 1.959963984540054


class FitMethod(str, enum.Enum):
    OLS = "ols"  # least squares, as scipy.stats.linregress
    ROBUST = "robust"  # Theil-Sen, as scipy.stats.theilslopes


@dataclass(frozen=True)
class CellFit:
    """One cell's line, a row of `CellFits`."""

    pack: int
    cell: int
    label: str
    method: FitMethod
    slope_v_per_day: float
    intercept_v: float
    r2: float
    slope_stderr_v_per_day: float
    slope_ci95_low_v_per_day: float
    slope_ci95_high_v_per_day: float
    n: int
    fit_start_day: np.datetime64
    loss_pct_per_year: float
    loss_pct_per_efc: float


@dataclass(frozen=True)
class CellFits:
    """Per-cell lines SAT(x) = intercept_v + slope_v_per_day * x, x = days since `day0`; arrays (n_cells,).

    Cells with fewer than 3 points hold NaN. For ROBUST, r2 is the share of variance the
    Theil-Sen line explains on its own points (1 - SS_res/SS_tot, can be < 0) and the stderr is
    approximated from Sen's 95 % CI as half its width / 1.96.
    """

    method: FitMethod
    packs: np.ndarray
    cells: np.ndarray
    labels: tuple[str, ...]
    day0: np.datetime64
    """x = 0 of every line: the first day of the SAT matrix."""
    last_day: np.datetime64
    """Last day of the SAT matrix: `days_to_threshold` counts from here."""
    slope_v_per_day: np.ndarray
    intercept_v: np.ndarray
    """Line value at day0, also the `start_v` of the loss rates. [V]"""
    r2: np.ndarray
    slope_stderr_v_per_day: np.ndarray
    slope_ci95_low_v_per_day: np.ndarray
    slope_ci95_high_v_per_day: np.ndarray
    n: np.ndarray
    """int64, saturation days used."""
    fit_start_day: np.ndarray
    """datetime64[D]: first day the cell's fit may use (day0, or after its pack's event + guard)."""
    efc_per_day: float | None
    """Measured equivalent full cycles per day over the fitted period; None if unknown."""
    loss_pct_per_year: np.ndarray
    """-slope * 365.25 / intercept_v * 100; positive = SAT falls. [%/year]"""
    loss_pct_per_efc: np.ndarray
    """Loss per equivalent full cycle; NaN without efc_per_day. [%/EFC]"""
    sat_v_at_5000_efc: np.ndarray
    sat_v_at_10000_efc: np.ndarray
    loss_pct_at_5000_efc: np.ndarray
    loss_pct_at_10000_efc: np.ndarray

    @property
    def n_cells(self) -> int:
        return self.slope_v_per_day.shape[0]

    def sat_v_at_efc(self, efc: float) -> np.ndarray:
        """Projected SAT after `efc` equivalent full cycles from day0; NaN without efc_per_day. [V]"""
        return _sat_at_efc(self.intercept_v, self.slope_v_per_day, self.efc_per_day, efc)

    def loss_pct_at_efc(self, efc: float) -> np.ndarray:
        """Projected loss after `efc` equivalent full cycles from day0. [%]"""
        return self.loss_pct_per_efc * float(efc)

    def days_to_threshold(self, threshold_v: float) -> np.ndarray:
        """Days from `last_day` until the line reaches `threshold_v`. [day]

        The line may approach the threshold from either side (a floor for falling cells, a
        ceiling for rising ones); a line moving away or flat gives inf, a failed fit NaN.
        """
        if not np.isfinite(threshold_v):
            raise ValueError(f"threshold_v must be finite, got {threshold_v}")
        x_now = float((self.last_day - self.day0).astype(np.int64))
        v_now = self.intercept_v + self.slope_v_per_day * x_now
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (threshold_v - v_now) / self.slope_v_per_day
        t = np.where((t < 0) | (self.slope_v_per_day == 0), np.inf, t)
        return np.where(np.isfinite(self.slope_v_per_day), t, np.nan)

    def cell(self, i: int) -> CellFit:
        """Row i as a scalar record."""
        return CellFit(pack=int(self.packs[i]), cell=int(self.cells[i]), label=self.labels[i], method=self.method,
                       slope_v_per_day=float(self.slope_v_per_day[i]), intercept_v=float(self.intercept_v[i]),
                       r2=float(self.r2[i]), slope_stderr_v_per_day=float(self.slope_stderr_v_per_day[i]),
                       slope_ci95_low_v_per_day=float(self.slope_ci95_low_v_per_day[i]),
                       slope_ci95_high_v_per_day=float(self.slope_ci95_high_v_per_day[i]), n=int(self.n[i]),
                       fit_start_day=self.fit_start_day[i], loss_pct_per_year=float(self.loss_pct_per_year[i]),
                       loss_pct_per_efc=float(self.loss_pct_per_efc[i]))

    def index_of(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise ValueError(f"no cell {label!r} in these fits") from None


def _sat_at_efc(intercept, slope, efc_per_day, efc):
    if efc_per_day is None:
        return np.full_like(intercept, np.nan)
    return intercept + slope * (float(efc) / efc_per_day)


def fit_mask(sat: SatMatrix, events: Sequence[PackEvent], guard_days: int) -> np.ndarray:
    """datetime64[D] (n_cells,): first day each cell's fit may use (see the module docstring)."""
    start = np.full(sat.n_cells, sat.days[0])
    last: dict[int, np.datetime64] = {}
    for ev in events:
        if not isinstance(ev, PackEvent):
            raise ValueError(f"events must be PackEvent, got {type(ev).__name__}")
        if ev.pack not in last or ev.day > last[ev.pack]:
            last[ev.pack] = ev.day
    for pack, day in last.items():
        start[sat.packs == pack] = np.datetime64(day, "D") + np.timedelta64(guard_days, "D")
    return start


def _robust_r2(x: np.ndarray, y: np.ndarray, slope: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    ok = np.isfinite(y)
    cnt = ok.sum(axis=1)
    y0 = np.where(ok, y, 0.0)
    mean = np.divide(y0.sum(axis=1), cnt, out=np.full(y.shape[0], np.nan), where=cnt > 0)
    res = np.where(ok, y - (intercept[:, None] + slope[:, None] * x[None, :]), 0.0)
    dev = np.where(ok, y - mean[:, None], 0.0)
    ss_res = (res * res).sum(axis=1)
    ss_tot = (dev * dev).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    return np.where((ss_tot > 0) & np.isfinite(slope), r2, np.nan)


def fit_cells(sat: SatMatrix, method: FitMethod = FitMethod.OLS, *, events: Sequence[PackEvent] = (),
              guard_days: int = DEFAULT_GUARD_DAYS, efc_per_day: float | None = None) -> CellFits:
    """Fit every cell's SAT line in one batched kernel call.

    Parameters
    ----------
    sat : SatMatrix
    method : FitMethod
        OLS (least squares) or ROBUST (Theil-Sen).
    events : PackEvent sequence
        Detected pack events; their packs are fitted after the (last) event plus `guard_days`.
    guard_days : int
        Days after an event's day left out of the fit. [day]
    efc_per_day : float or None
        Measured equivalent full cycles per day over the fitted period (from throughput). [1/day]
    """
    if not isinstance(sat, SatMatrix):
        raise ValueError(f"sat must be a SatMatrix, got {type(sat).__name__}")
    method = FitMethod(method)
    if int(guard_days) != guard_days or guard_days < 0:
        raise ValueError(f"guard_days must be a non-negative integer, got {guard_days}")
    if efc_per_day is not None and not (np.isfinite(efc_per_day) and efc_per_day > 0):
        raise ValueError(f"efc_per_day must be a positive number or None, got {efc_per_day}")
    start = fit_mask(sat, events, int(guard_days))
    x = sat.day_offsets()
    y = sat.voltage_v
    if (start > sat.days[0]).any():
        y = np.where(sat.days[None, :] >= start[:, None], y, np.nan)
    if method is FitMethod.OLS:
        f = fit_ols_batch(x, y)
        r2, se = f.r2, f.slope_stderr
    else:
        f = fit_theil_sen_batch(x, y)
        r2 = _robust_r2(x, y, f.slope, f.intercept)
        se = (f.slope_ci95_high - f.slope_ci95_low) / (2.0 * _Z975)
    slope, intercept = f.slope, f.intercept
    with np.errstate(divide="ignore", invalid="ignore"):
        loss_per_day = -slope / intercept * 100.0
    loss_year = loss_per_day * DAYS_PER_YEAR
    if efc_per_day is None:
        loss_efc = np.full_like(slope, np.nan)
    else:
        loss_efc = loss_per_day / efc_per_day
    out = CellFits(method=method, packs=sat.packs, cells=sat.cells, labels=sat.labels, day0=sat.days[0],
                   last_day=sat.days[-1], slope_v_per_day=slope, intercept_v=intercept, r2=r2,
                   slope_stderr_v_per_day=se, slope_ci95_low_v_per_day=f.slope_ci95_low,
                   slope_ci95_high_v_per_day=f.slope_ci95_high, n=f.n, fit_start_day=start,
                   efc_per_day=None if efc_per_day is None else float(efc_per_day),
                   loss_pct_per_year=loss_year, loss_pct_per_efc=loss_efc,
                   sat_v_at_5000_efc=_sat_at_efc(intercept, slope, efc_per_day, PROJECTION_EFC[0]),
                   sat_v_at_10000_efc=_sat_at_efc(intercept, slope, efc_per_day, PROJECTION_EFC[1]),
                   loss_pct_at_5000_efc=loss_efc * PROJECTION_EFC[0],
                   loss_pct_at_10000_efc=loss_efc * PROJECTION_EFC[1])
    readonly(out.slope_v_per_day, out.intercept_v, out.r2, out.slope_stderr_v_per_day,
             out.slope_ci95_low_v_per_day, out.slope_ci95_high_v_per_day, out.n, out.fit_start_day,
             out.loss_pct_per_year, out.loss_pct_per_efc, out.sat_v_at_5000_efc, out.sat_v_at_10000_efc,
             out.loss_pct_at_5000_efc, out.loss_pct_at_10000_efc)
    return out
