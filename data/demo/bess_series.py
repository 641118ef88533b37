"""The CSV signals of one simulated BESS: system signals and every cell's voltage and temperature."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from data.demo.bess import PCS_EFF, BessSim
from data.demo.cells import CellSamples, cell_temps_c, cell_voltages_v
from data.demo.config import N_CELLS, DemoConfig, rng_for
from data.demo.series import Series
from data.demo.timegrid import TimeAxis
from data.glossary import CELLS_PER_PACK

_CHUNK = 20_000  # samples per block when all 260 cells are evaluated at once
ALARM_SIGNALS = ("fa1_bms_alarm", "bms1_alarm_flag", "pcs1_errcode")


def _stride(cfg: DemoConfig, step_min: int) -> int:
    return step_min // cfg.sim_step_min


def _cell_aggregates(sim: BessSim, cfg: DemoConfig, sys_key: str) -> dict[str, np.ndarray]:
    """Average/max/min cell voltage and average/spread of cell temperature on the sim grid."""
    n = len(sim.axis)
    out = {k: np.empty(n) for k in ("ave_v", "max_v", "min_v", "ave_t", "diff_t")}
    steps = np.arange(n)
    for c0 in range(0, n, _CHUNK):
        sl = steps[c0:c0 + _CHUNK]
        s = sim.samples(sl, np.zeros(sl.size, bool))
        rng = rng_for(cfg.seed, sys_key, "aggregates", c0)
        v = cell_voltages_v(sim.cells, sim.sat.daily_v, s, slice(None), rng)
        t = cell_temps_c(sim.cells, s, slice(None), rng)
        out["ave_v"][sl], out["max_v"][sl], out["min_v"][sl] = v.mean(0), v.max(0), v.min(0)
        out["ave_t"][sl], out["diff_t"][sl] = t.mean(0), t.max(0) - t.min(0)
    return out


def _alarm_series(sim: BessSim, slow: TimeAxis) -> Iterator[Series]:
    for name in ALARM_SIGNALS:
        events = [e for e in sim.alarms if e.signal == name]
        # a heartbeat on the slow grid plus a row at every change, as change-logging BMS do
        edges = np.array([t for e in events for t in (e.start_s, e.end_s)], np.int64)
        ts = np.union1d(slow.ts_s, edges)
        values = np.zeros(ts.size, np.int64)
        for e in events:
            values[(ts >= e.start_s) & (ts < e.end_s)] = e.value
        yield Series(name, TimeAxis(ts, slow.start_local), values, None)


def system_series(sim: BessSim, cfg: DemoConfig, sys_key: str) -> Iterator[Series]:
    """The system-level signals of DATA_FORMAT.md; fast ones on the sim grid, slow ones coarser."""
    st = sim.string
    rng = rng_for(cfg.seed, sys_key, "system-noise")
    fast = sim.axis
    idle = st.current_a == 0
    p_ac = np.where(st.power_kw > 0, st.power_kw * PCS_EFF, st.power_kw / PCS_EFF)
    agg = _cell_aggregates(sim, cfg, sys_key)
    yield Series("bms1_soc", fast, st.soc * 100.0, 1)
    yield Series("bms1_v", fast, st.voltage_v, 1)
    yield Series("bms1_c", fast, st.current_a, 1)
    yield Series("pcs1_ap", fast, p_ac, 2)
    yield Series("pcs1_dcc", fast, np.where(idle, 0.0, st.current_a * 0.998 + rng.normal(0, 0.2, len(fast))), 1)
    yield Series("pcs1_dcv", fast, st.voltage_v - 0.004 * st.current_a + rng.normal(0, 0.2, len(fast)), 1)
    yield Series("aux_m_ap", fast, sim.aux_kw, 2)
    yield Series("bms1_cell_ave_v", fast, agg["ave_v"], 3)
    yield Series("bms1_cell_max_v", fast, agg["max_v"], 3)
    yield Series("bms1_cell_min_v", fast, agg["min_v"], 3)

    k = _stride(cfg, cfg.slow_step_min)
    idx = np.arange(0, len(fast), k)
    slow = fast.take(idx)
    n = idx.size
    noise = lambda sd: rng.normal(0.0, sd, n)  # noqa: E731 - local shorthand
    pac = p_ac[idx]
    phase_a = np.abs(pac) * 1000.0 / (np.sqrt(3.0) * 400.0 * 0.99)
    hour = (slow.ts_s % 86_400) / 3600.0
    grid_v = 400.0 + 3.0 * np.sin(2 * np.pi * (hour - 4.0) / 24.0)
    yield Series("bms1_soh", slow, sim.soh_pct[idx], 1)
    yield Series("bms1_cell_ave_t", slow, agg["ave_t"][idx], 1)
    yield Series("bms1_cell_t_diff", slow, agg["diff_t"][idx], 1)
    for name, skew in (("pcs1_ia", 1.000), ("pcs1_ib", 1.012), ("pcs1_ic", 0.991)):
        yield Series(name, slow, np.where(pac == 0, 0.0, phase_a * skew + noise(0.3)), 1)
    for name, off in (("pcs1_uab", 0.0), ("pcs1_ubc", 1.5), ("pcs1_uca", -1.0)):
        yield Series(name, slow, grid_v + off + noise(0.8), 1)
    room = sim.room_c[idx]
    yield Series("pcs1_t_env", slow, room - 1.0 + noise(0.2), 1)
    t_a = room + 3.0 + 0.03 * np.abs(pac) + noise(0.2)
    yield Series("pcs1_t_a", slow, t_a, 1)
    yield Series("pcs1_t_igbt", slow, t_a + 0.25 * np.abs(pac) + noise(0.3), 1)
    aux_kwh = np.concatenate([[0.0], np.cumsum(sim.aux_kw * sim.dt_h)[:-1]])[idx]
    pos0 = float(rng.uniform(500.0, 3000.0))
    neg = np.full(n, round(float(rng.uniform(0.0, 20.0)), 2))
    yield Series("aux_m_pf", slow, np.clip(0.90 + 0.02 * np.tanh(sim.aux_kw[idx] - 2) + noise(0.01), 0, 1), 3)
    yield Series("aux_m_pos_ae", slow, pos0 + aux_kwh, 2)
    yield Series("aux_m_neg_ae", slow, neg, 2)
    yield Series("aux_m_com_ae", slow, pos0 + aux_kwh + neg, 2)
    outside = sim.outside_c[idx]
    yield Series("ac1_outside_t", slow, outside + noise(0.2), 1)
    yield Series("ac1_outwater_t", slow, 18.0 + 0.08 * np.clip(outside - 10.0, -10, 25) + noise(0.2), 1)
    yield Series("ac1_rtnwater_pre", slow, 1.8 + 0.05 * np.sin(2 * np.pi * hour / 24) + noise(0.01), 2)
    doy = (slow.ts_s / 86_400.0) % 365.25
    yield Series("dh1_humi", slow, np.clip(47.0 + 8.0 * np.cos(2 * np.pi * (doy - 15) / 365.25) + noise(2.0), 20, 90), 1)
    yield Series("dh1_temp", slow, room + noise(0.3), 1)
    yield from _alarm_series(sim, slow)


def cell_axis(sim: BessSim, cfg: DemoConfig, step_min: int, *, with_peaks: bool
              ) -> tuple[TimeAxis, CellSamples]:
    """Cell sampling axis: a regular grid, plus each charge run's end-of-charge instant."""
    grid = np.arange(0, len(sim.axis), _stride(cfg, step_min))
    peaks = sim.peak_steps if with_peaks else np.empty(0, np.int64)
    ts = np.concatenate([sim.axis.ts_s[grid], sim.peak_ts_s() if with_peaks else np.empty(0, np.int64)])
    steps = np.concatenate([grid, peaks])
    is_peak = np.concatenate([np.zeros(grid.size, bool), np.ones(peaks.size, bool)])
    order = np.argsort(ts, kind="stable")
    axis = TimeAxis(ts[order], sim.axis.start_local)
    return axis, sim.samples(steps[order], is_peak[order])


def cell_series(sim: BessSim, cfg: DemoConfig, sys_key: str) -> Iterator[Series]:
    """bms1_p{P}_v{C} and bms1_p{P}_t{C} for all 260 cells, a pack at a time to bound memory."""
    v_axis, v_s = cell_axis(sim, cfg, cfg.cell_v_step_min, with_peaks=True)
    t_axis, t_s = cell_axis(sim, cfg, cfg.cell_t_step_min, with_peaks=False)
    rows_per_block = max(1, min(CELLS_PER_PACK, 4_000_000 // max(len(v_axis), 1)))
    for r0 in range(0, N_CELLS, rows_per_block):
        rows = slice(r0, min(r0 + rows_per_block, N_CELLS))
        v = cell_voltages_v(sim.cells, sim.sat.daily_v, v_s, rows, rng_for(cfg.seed, sys_key, "cell-v", r0))
        t = cell_temps_c(sim.cells, t_s, rows, rng_for(cfg.seed, sys_key, "cell-t", r0))
        for j, c in enumerate(range(rows.start, rows.stop)):
            pack, cell = c // CELLS_PER_PACK + 1, c % CELLS_PER_PACK + 1
            yield Series(f"bms1_p{pack}_v{cell}", v_axis, v[j], 3)
            yield Series(f"bms1_p{pack}_t{cell}", t_axis, t[j], 1)
