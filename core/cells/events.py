"""Pack events: a step change in SAT voltage shared by the cells of one pack (e.g. after a bad charging period).

Detection (per pack, on saturation days only, windows counted in saturation days):

1. Relative series: r(d) = median of the pack's cells on day d minus the median of all cells
   *outside* the pack. Subtracting the rest of the system removes what every pack shares
   (day-to-day charge noise, season, charge set-point changes), and leaving the pack out of its
   own reference keeps a damaged pack from pulling the reference along.
2. Candidate profile: delta(k) = median(r[k : k+w]) - median(r[k-w : k]) for each position k,
   w = 30 saturation days (shorter windows down to 10 days at the ends of the record). Medians
   make a one-day spike, or a few days of over-voltage during the bad period, irrelevant.
3. The largest |delta| is taken, its exact day refined by a two-level L1 fit (the split that
   best separates the before and after medians), then it is accepted when all hold:
   - |step| >= max(8 mV, 5 x the standard error of delta, from r's day-to-day noise);
   - at least 60 % of the pack's cells (with data on both sides) step the same way by at least
     half the pack step;
   A step of the whole system (set-point, end current, temperature) cancels in r, so it is
   never a pack event. Nothing here looks at the system level itself: an earlier veto on "the
   rest of the system stepped too" also rejected real pack steps that happened to coincide
   with one of the real data's frequent level shifts.
4. Packs moving together are not a pack event: a candidate is dropped when another pack has one of at
   least 60 % of its size within 7 days. On the real reference systems every
   set-point change spreads the cells a little (some up, some down, 5-15 mV) on the same
   day; a damaged pack steps alone. With one cell per pack (the reference files) a pack event
   is a lasting level change of that cell: 1 and 3 of them on the two reference systems.
   Positions within w of a taken candidate (accepted or not) are then excluded and the search
   repeats, so a pack may have several events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.cells._robust import diff_noise_sd_1d, nanmedian_axis0, nanmedian_axis1
from core.cells.sat import SatMatrix

# Standard error of a median is ~sqrt(pi/2) = 1.2533 times that of a mean of normal data.
_MEDIAN_SE = 1.2533141373155003


@dataclass(frozen=True)
class PackEvent:
    """A step in one pack's SAT voltage relative to the rest of the system."""

    pack: int
    day: np.datetime64
    """First saturation day at the new level (local date)."""
    step_v: float
    """Pack-median SAT after minus before, relative to the other packs. [V]"""
    cells_affected: tuple[int, ...]
    """Cell numbers (1-based, within the pack) that stepped the same way by at least half the step."""
    n_cells: int
    """Cells of the pack with data on both sides of the step."""


@dataclass(frozen=True)
class EventCriteria:
    """Thresholds of `detect_pack_events` (see the module docstring)."""

    window_sat_days: int = 30
    min_window_sat_days: int = 10
    min_step_v: float = 0.008
    noise_factor: float = 5.0
    min_agree_frac: float = 0.6
    together_days: int = 7
    together_ratio: float = 0.6

    def __post_init__(self) -> None:
        if not 2 <= self.min_window_sat_days <= self.window_sat_days:
            raise ValueError("need 2 <= min_window_sat_days <= window_sat_days, got "
                             f"{self.min_window_sat_days} and {self.window_sat_days}")
        if not self.min_step_v > 0:
            raise ValueError(f"min_step_v must be > 0, got {self.min_step_v}")
        if not 0 < self.min_agree_frac <= 1:
            raise ValueError(f"min_agree_frac must lie in (0, 1], got {self.min_agree_frac}")


def _window_medians(r: np.ndarray, w: int, min_w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Medians (and counts) of the w values before and from each position k = 0..n; NaN if < min_w."""
    n = r.size
    padded = np.concatenate([np.full(w, np.nan), r, np.full(w, np.nan)])
    win = sliding_window_view(padded, w)  # win[j] = padded[j : j + w]
    # before(k) = r[k-w : k] = padded[k : k+w] = win[k]; after(k) = r[k : k+w] = win[k + w]
    before_w = win[: n + 1]
    after_w = win[w: w + n + 1]
    cnt_b = np.isfinite(before_w).sum(axis=1)
    cnt_a = np.isfinite(after_w).sum(axis=1)
    med_b = nanmedian_axis1(before_w)
    med_a = nanmedian_axis1(after_w)
    ok = (cnt_b >= min_w) & (cnt_a >= min_w)
    med_b[~ok] = np.nan
    med_a[~ok] = np.nan
    return med_b, med_a, cnt_b, cnt_a


def _refine(r: np.ndarray, k: int, w: int, before_v: float, after_v: float) -> int:
    """Split position in [k - w/2, k + w/2] that best separates the two levels (least L1 cost)."""
    lo = max(1, k - w // 2)
    hi = min(r.size - 1, k + w // 2)
    seg = r[max(0, lo - w): min(r.size, hi + w)]
    off = max(0, lo - w)
    cost_b = np.abs(seg - before_v)
    cost_a = np.abs(seg - after_v)
    # cost(j) = sum_{i<j} |r_i - before| + sum_{i>=j} |r_i - after|
    cum_b = np.concatenate([[0.0], np.cumsum(cost_b)])
    cum_a = np.concatenate([[0.0], np.cumsum(cost_a)])
    js = np.arange(lo, hi + 1) - off
    cost = cum_b[js] + (cum_a[-1] - cum_a[js])
    return int(js[np.argmin(cost)] + off)


def detect_pack_events(sat: SatMatrix, *, criteria: EventCriteria = EventCriteria()) -> tuple[PackEvent, ...]:
    """Steps shared by the cells of a pack, relative to the rest of the system, ordered by pack and day."""
    if not isinstance(sat, SatMatrix):
        raise ValueError(f"sat must be a SatMatrix, got {type(sat).__name__}")
    packs = sat.pack_numbers
    if packs.size < 2:
        return ()  # without other packs there is no reference to tell a pack step from a system one
    cols = np.flatnonzero(sat.saturation_day)
    v = sat.voltage_v[:, cols]
    w, min_w = criteria.window_sat_days, criteria.min_window_sat_days
    events: list[PackEvent] = []
    for pack in packs:
        rows = sat.packs == pack
        ref = nanmedian_axis0(v[~rows])
        pack_med = nanmedian_axis0(v[rows])
        valid = np.isfinite(pack_med) & np.isfinite(ref)
        if valid.sum() < 2 * min_w:
            continue
        idx = np.flatnonzero(valid)
        r = pack_med[idx] - ref[idx]
        ref_s = ref[idx]
        cell_rel = v[rows][:, idx] - ref_s[None, :]
        med_b, med_a, cnt_b, cnt_a = _window_medians(r, w, min_w)
        delta = med_a - med_b
        se_unit = _MEDIAN_SE * diff_noise_sd_1d(r)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = se_unit * np.sqrt(1.0 / cnt_b + 1.0 / cnt_a)
        score = np.where(np.isfinite(delta), np.abs(delta), -1.0)
        cell_numbers = sat.cells[rows]
        while True:
            k = int(np.argmax(score))
            if score[k] < criteria.min_step_v:
                break
            k = _refine(r, k, w, med_b[k], med_a[k])
            score[max(0, k - w): k + w + 1] = -1.0
            before = slice(max(0, k - w), k)
            after = slice(k, min(r.size, k + w))
            step = float(np.median(r[after]) - np.median(r[before]))
            if not abs(step) >= max(criteria.min_step_v, criteria.noise_factor * float(se[k])):
                continue
            cb = cell_rel[:, before]
            ca = cell_rel[:, after]
            both = (np.isfinite(cb).sum(axis=1) >= min_w // 2) & (np.isfinite(ca).sum(axis=1) >= min_w // 2)
            if not both.any():
                continue
            cell_step = nanmedian_axis1(ca[both]) - nanmedian_axis1(cb[both])
            agree = np.sign(cell_step) == np.sign(step)
            agree &= np.abs(cell_step) >= 0.5 * abs(step)
            if agree.sum() < criteria.min_agree_frac * both.sum():
                continue
            events.append(PackEvent(pack=int(pack), day=sat.days[cols[idx[k]]], step_v=step,
                                    cells_affected=tuple(int(c) for c in cell_numbers[both][agree]),
                                    n_cells=int(both.sum())))
    alone = [e for e in events if not any(
        o.pack != e.pack and abs(int((o.day - e.day).astype(np.int64))) <= criteria.together_days
        and abs(o.step_v) >= criteria.together_ratio * abs(e.step_v) for o in events)]
    return tuple(sorted(alone, key=lambda e: (e.pack, e.day)))
