"""LFP cell physics: the OCV-vs-SOC curve and the string-level charge/discharge integrator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

# Relaxed LFP open-circuit voltage [V] vs SOC [0..1]: steep below 10 %, the two flat plateaus
# around 3.30 V, a knee above 95 %. The charge-end peak (3.44-3.50 V, "SAT") is the knee plus
# polarisation under the CV taper; it is set per cell and day in cells.py, not by this table,
# so that the relaxed voltage at 100 % (3.38 V) always stays below the SAT peak.
OCV_SOC = np.array([0.00, 0.02, 0.05, 0.10, 0.15, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80,
                    0.85, 0.90, 0.95, 0.97, 0.99, 1.00])
OCV_V = np.array([2.80, 3.00, 3.12, 3.20, 3.235, 3.255, 3.275, 3.290, 3.297, 3.303, 3.312, 3.320,
                  3.325, 3.330, 3.340, 3.350, 3.365, 3.380])

COULOMBIC_EFF = 0.995  # charge actually stored per charge pushed in
SOC_FULL = 0.999  # a charge run that ends at or above this is a full charge (a SAT day)
CV_TAPER_FROM = 0.95  # above this SOC a full charge tapers its power (CV phase)
CV_TAPER_MIN = 0.15


def ocv_v(soc: np.ndarray) -> np.ndarray:
    """Open-circuit voltage of one LFP cell. [V]"""
    return np.interp(soc, OCV_SOC, OCV_V)


@dataclass(frozen=True)
class StringResult:
    """Per simulation step: state at the step start, current and power held over the step."""

    soc: np.ndarray  # [0..1] at step start
    soc_end: np.ndarray  # [0..1] at step end
    current_a: np.ndarray  # positive = discharge
    voltage_v: np.ndarray  # string terminal voltage
    power_kw: np.ndarray  # DC power, positive = discharge
    run_kind: np.ndarray  # int8 per step: 0 not charging, 1 partial charge run, 2 full charge run
    run_end: np.ndarray  # bool: last step of a charge run (its end is the day's peak candidate)
    cap_ah: np.ndarray  # true usable capacity at step start [Ah]; fades with time and throughput


@njit(cache=True)
def _interp(x, xs, ys):
    if x <= xs[0]:
        return ys[0]
    for j in range(1, xs.size):
        if x <= xs[j]:
            f = (x - xs[j - 1]) / (xs[j] - xs[j - 1])
            return ys[j - 1] + f * (ys[j] - ys[j - 1])
    return ys[-1]


@njit(cache=True)
def _integrate(mode, p_req_kw, target, soc0, cap0_ah, fade_per_h, fade_per_efc, r_cell_ohm, n_cells, dt_h,
               eta_c, xs, ys, soc, soc_end, cur, volt, pwr, run_kind, run_end, cap):
    s = soc0
    run_start = -1
    n = mode.size
    efc = 0.0
    for k in range(n):
        cap_ah = cap0_ah * (1.0 - fade_per_h * k * dt_h - fade_per_efc * efc)
        cap[k] = cap_ah
        soc[k] = s
        voc = n_cells * _interp(s, xs, ys)
        rs = n_cells * r_cell_ohm
        i = 0.0
        if mode[k] == 1 and s < target[k] - 1e-6:
            p = p_req_kw[k] * 1000.0
            if target[k] >= SOC_FULL and s > CV_TAPER_FROM:
                p *= max((1.0 - s) / (1.0 - CV_TAPER_FROM), CV_TAPER_MIN)
            # P = (Voc - I Rs) I with P, I < 0 for charge
            i = (voc - np.sqrt(voc * voc + 4.0 * rs * p)) / (2.0 * rs)
            i_max = (target[k] - s) * cap_ah / dt_h / eta_c
            if -i > i_max:
                i = -i_max
        elif mode[k] == -1 and s > target[k] + 1e-6:
            p = p_req_kw[k] * 1000.0
            i = (voc - np.sqrt(max(voc * voc - 4.0 * rs * p, 0.0))) / (2.0 * rs)
            i_max = (s - target[k]) * cap_ah / dt_h
            if i > i_max:
                i = i_max
        v = voc - i * rs
        cur[k] = i
        volt[k] = v
        pwr[k] = v * i / 1000.0
        if i < 0.0:
            s = s - i * dt_h / cap_ah * eta_c
        else:
            s = s - i * dt_h / cap_ah
        s = min(max(s, 0.0), 1.0)
        soc_end[k] = s
        efc += abs(i) * dt_h / (2.0 * cap0_ah)
        charging = i < 0.0
        if charging and run_start < 0:
            run_start = k
        nxt_charging = False
        if charging and k + 1 < n:
            nxt_charging = mode[k + 1] == 1 and s < target[k + 1] - 1e-6
        if charging and not nxt_charging:
            kind = 2 if s >= SOC_FULL else 1
            for j in range(run_start, k + 1):
                run_kind[j] = kind
            run_end[k] = True
            run_start = -1


def integrate_string(mode: np.ndarray, p_req_kw: np.ndarray, target: np.ndarray, *, soc0: float,
                     cap_ah: float, r_cell_ohm: float, n_cells: int, dt_h: float,
                     fade_per_day: float = 0.0, fade_per_efc: float = 0.0) -> StringResult:
    """Coulomb-count a series string through a power schedule (mode +1 charge, -1 discharge).

    The usable capacity starts at ``cap_ah`` and fades linearly with calendar time (fraction per
    day) and with equivalent full cycles counted against ``cap_ah`` (fraction per cycle).
    """
    n = mode.size
    if not (p_req_kw.size == target.size == n):
        raise ValueError("mode, p_req_kw and target must have the same length")
    out = [np.zeros(n) for _ in range(5)]
    run_kind = np.zeros(n, np.int8)
    run_end = np.zeros(n, np.bool_)
    cap = np.zeros(n)
    _integrate(np.ascontiguousarray(mode, np.int8), np.ascontiguousarray(p_req_kw, np.float64),
               np.ascontiguousarray(target, np.float64), float(soc0), float(cap_ah), float(fade_per_day) / 24.0,
               float(fade_per_efc), float(r_cell_ohm), int(n_cells), float(dt_h), COULOMBIC_EFF, OCV_SOC, OCV_V,
               *out, run_kind, run_end, cap)
    return StringResult(*out, run_kind=run_kind, run_end=run_end, cap_ah=cap)
