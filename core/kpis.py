"""KPIs of meters and BESS over any range: energy, power, SOC, cycles, efficiency, alarms."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from core.energy import counter_intervals, integrate_power_kwh
from core.results import (
    AlarmSummary,
    BessKpis,
    Cycles,
    DailyEnergy,
    GroupTemperature,
    MeterKpis,
    SystemInfo,
)
from data.glossary import LEVEL_SECONDS, LOCAL_TZ
from data.store import Snapshot

_BERLIN = ZoneInfo(LOCAL_TZ)
# Energy from power holds a bin's mean for at most this long; longer steps are gaps.
_MAX_HOLD_BINS = 3
_TEMPERATURE_GROUPS = {
    "cells": "bms1_cell_ave_t",
    "pcs_igbt": "pcs1_t_igbt",
    "pcs_environment": "pcs1_t_env",
    "pcs_ambient": "pcs1_t_a",
    "hvac_outside": "ac1_outside_t",
    "hvac_outlet_water": "ac1_outwater_t",
    "dehumidifier": "dh1_temp",
}


def _finest(snap: Snapshot, sid: str, signal: str, prefer: tuple[str, ...] = ("5min", "15min", "1h")) -> str | None:
    return next((lv for lv in prefer if snap.has(sid, lv, signal)), None)


def _energy_steps(ts_ms: np.ndarray, power_kw: np.ndarray, level: str) -> np.ndarray:
    """Per-bin energy [kWh]; a step longer than a few bins or sampling intervals is a gap."""
    steps = np.diff(ts_ms)
    typical_s = float(np.median(steps)) / 1000.0 if steps.size else 0.0
    hold_s = _MAX_HOLD_BINS * max(LEVEL_SECONDS[level], typical_s)
    return integrate_power_kwh(ts_ms, power_kw, max_step_s=hold_s)


def _read(snap: Snapshot, sid: str, signal: str, level: str, start, end, cols=("ts", "value")) -> pl.DataFrame:
    return snap.read_range(sid, level, signal, start, end, columns=list(cols))


def _nan_stat(fn, a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(fn(a)) if a.size else float("nan")


def _power_energy(snap: Snapshot, sid: str, signal: str, start, end) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin energy [kWh] of a power signal, split into positive and negative parts."""
    level = _finest(snap, sid, signal)
    if level is None:
        return np.zeros(0), np.zeros(0)
    df = _read(snap, sid, signal, level, start, end)
    ts = df["ts"].dt.epoch("ms").to_numpy()
    p = df["value"].to_numpy().astype(np.float64)
    e = _energy_steps(ts, p, level)
    return np.where(e > 0, e, 0.0), np.where(e < 0, -e, 0.0)


def _counter_total(snap: Snapshot, sid: str, signal: str, start, end) -> float | None:
    """Energy counted by a cumulative counter within [start, end) (reset/rollover safe)."""
    level = _finest(snap, sid, signal, ("15min", "5min", "1h", "raw"))
    if level is None:
        return None
    v = _read(snap, sid, signal, level, start, end)["value"].to_numpy().astype(np.float64)
    iv = counter_intervals(v)
    return float(np.nansum(iv)) if v.size >= 2 else None


def meter_kpis(snap: Snapshot, info: SystemInfo, start: datetime | None, end: datetime | None) -> MeterKpis:
    level = _finest(snap, info.id, "com_ap", ("15min", "5min", "1h"))
    p = (_read(snap, info.id, "com_ap", level, start, end)["value"].to_numpy().astype(np.float64)
         if level else np.zeros(0))
    imp_p, exp_p = _power_energy(snap, info.id, "com_ap", start, end)
    imp = _counter_total(snap, info.id, "pos_ae", start, end)
    exp = _counter_total(snap, info.id, "neg_ae", start, end)
    import_kwh = imp if imp is not None else float(imp_p.sum())
    export_kwh = exp if exp is not None else float(exp_p.sum())
    pf_level = _finest(snap, info.id, "pf", ("15min", "5min", "1h"))
    pf = _read(snap, info.id, "pf", pf_level, start, end)["value"].to_numpy() if pf_level else np.zeros(0)
    peak = _nan_stat(np.max, p)
    mean = _nan_stat(np.mean, p)
    return MeterKpis(
        import_kwh=import_kwh,
        export_kwh=export_kwh,
        net_kwh=import_kwh - export_kwh,
        peak_power_kw=peak,
        mean_power_kw=mean,
        min_power_kw=_nan_stat(np.min, p),
        mean_power_factor=_nan_stat(np.mean, np.abs(pf.astype(np.float64))),
        load_factor=mean / peak if peak and peak > 0 and np.isfinite(mean) else float("nan"),
    )


def daily_energy(snap: Snapshot, info: SystemInfo, start: datetime | None, end: datetime | None) -> DailyEnergy:
    """Import/export (meters) or charge/discharge (BESS, from PCS power) per local day."""
    if info.kind.value == "meter":
        pos, neg, sig = "pos_ae", "neg_ae", "com_ap"
    else:
        pos, neg, sig = None, None, "pcs1_ap"
    frames = {}
    if pos and snap.has(info.id, "15min", pos) and snap.has(info.id, "15min", neg):
        for name, col in ((pos, "import_kwh"), (neg, "export_kwh")):
            df = _read(snap, info.id, name, "15min", start, end)
            frames[col] = df.with_columns(pl.Series(col, counter_intervals(df["value"].to_numpy())))
    else:
        level = _finest(snap, info.id, sig)
        if level is None:
            return DailyEnergy((), np.zeros(0), np.zeros(0), None)
        df = _read(snap, info.id, sig, level, start, end)
        ts = df["ts"].dt.epoch("ms").to_numpy()
        e = _energy_steps(ts, df["value"].to_numpy().astype(np.float64), level)
        # Meters: positive = import. PCS: positive = discharge, so "import" is charging.
        into, out_of = (e > 0, e < 0) if info.kind.value == "meter" else (e < 0, e > 0)
        frames["import_kwh"] = df.with_columns(pl.Series("import_kwh", np.where(into, np.abs(e), 0.0)))
        frames["export_kwh"] = df.with_columns(pl.Series("export_kwh", np.where(out_of, np.abs(e), 0.0)))
    if info.kind.value == "bess":
        aux = _aux_frame(snap, info, start, end)
        if aux is not None:
            frames["aux_kwh"] = aux
    per_day = None
    for col, df in frames.items():
        d = (df.with_columns(pl.col("ts").dt.convert_time_zone(LOCAL_TZ).dt.date().alias("day"))
               .group_by("day").agg(pl.col(col).fill_nan(None).sum()))
        per_day = d if per_day is None else per_day.join(d, on="day", how="full", coalesce=True)
    per_day = per_day.sort("day").fill_null(0.0)
    days = tuple(d.isoformat() for d in per_day["day"].to_list())
    return DailyEnergy(
        days=days,
        import_kwh=per_day["import_kwh"].to_numpy(),
        export_kwh=per_day["export_kwh"].to_numpy(),
        aux_kwh=per_day["aux_kwh"].to_numpy() if "aux_kwh" in per_day.columns else None,
    )


def _aux_frame(snap: Snapshot, info: SystemInfo, start, end) -> pl.DataFrame | None:
    if snap.has(info.id, "15min", "aux_m_pos_ae"):
        df = _read(snap, info.id, "aux_m_pos_ae", "15min", start, end)
        return df.with_columns(pl.Series("aux_kwh", counter_intervals(df["value"].to_numpy())))
    level = _finest(snap, info.id, "aux_m_ap")
    if level is None:
        return None
    df = _read(snap, info.id, "aux_m_ap", level, start, end)
    e = _energy_steps(df["ts"].dt.epoch("ms").to_numpy(), df["value"].to_numpy().astype(np.float64), level)
    return df.with_columns(pl.Series("aux_kwh", np.clip(e, 0.0, None)))


def estimate_nameplate_kwh(snap: Snapshot, info: SystemInfo) -> float:
    """Usable capacity [kWh] from measured discharge energy per SOC swing, when none is configured.

    Daily discharged energy is regressed on the day's SOC drop (through the origin); the slope
    times 100 % is the energy of a full swing. Falls back to NaN without SOC or PCS data.
    """
    lv_p, lv_s = _finest(snap, info.id, "pcs1_ap"), _finest(snap, info.id, "bms1_soc")
    if lv_p is None or lv_s is None:
        return float("nan")
    p = _read(snap, info.id, "pcs1_ap", lv_p, None, None)
    e = _energy_steps(p["ts"].dt.epoch("ms").to_numpy(), p["value"].to_numpy().astype(np.float64), lv_p)
    s = _read(snap, info.id, "bms1_soc", lv_s, None, None)
    soc = s["value"].to_numpy().astype(np.float64)
    d_soc = np.diff(soc, append=np.nan)
    # Pair each bin's discharge energy with the SOC drop over the same step.
    ep = pl.DataFrame({"ts": p["ts"], "e": np.clip(e, 0, None)})
    sp = pl.DataFrame({"ts": s["ts"], "drop": np.where(d_soc < 0, -d_soc, 0.0)})
    j = ep.join(sp, on="ts", how="inner").drop_nans().drop_nulls()
    x, y = j["drop"].to_numpy(), j["e"].to_numpy()
    den = float(np.dot(x, x))
    estimate = float(np.dot(x, y) / den * 100.0) if den > 0 else float("nan")
    # SOC and power that do not move together (e.g. SOC not reported) give no usable estimate.
    return estimate if estimate >= 1.0 else float("nan")


def cycles(snap: Snapshot, info: SystemInfo, start, end, nameplate_kwh: float) -> Cycles:
    """Equivalent full cycles from measured PCS throughput: (charged + discharged) / 2 / nameplate."""
    dis, chg = _power_energy(snap, info.id, "pcs1_ap", start, end)
    charged, discharged = float(chg.sum()), float(dis.sum())
    rng = info.time_range
    lo = start or (rng.start if rng else None)
    hi = end or (rng.end if rng else None)
    days = (hi - lo).total_seconds() / 86400 if lo and hi else float("nan")
    efc = (charged + discharged) / 2.0 / nameplate_kwh if nameplate_kwh and nameplate_kwh > 0 else float("nan")
    return Cycles(efc, charged, discharged, nameplate_kwh, days)


def alarms(snap: Snapshot, info: SystemInfo, start, end) -> tuple[AlarmSummary, ...]:
    """Activations (rising edges) and active time of each alarm/flag signal, from raw samples."""
    out = []
    for sig in info.signals:
        if not sig.is_alarm or not snap.has(info.id, "raw", sig.name):
            continue
        df = _read(snap, info.id, sig.name, "raw", start, end)
        v = np.nan_to_num(df["value"].to_numpy().astype(np.float64)) != 0
        ts = df["ts"].dt.epoch("ms").to_numpy()
        rising = int(np.count_nonzero(v[1:] & ~v[:-1]) + (1 if v.size and v[0] else 0))
        # Active time: a sample that is on holds until the next sample.
        active_s = float(np.sum(np.diff(ts)[v[:-1]]) / 1000.0) if v.size > 1 else 0.0
        out.append(AlarmSummary(sig.name, rising, active_s))
    return tuple(out)


def bess_kpis(snap: Snapshot, info: SystemInfo, start, end, nameplate_kwh: float) -> BessKpis:
    soc_lv = _finest(snap, info.id, "bms1_soc")
    soc = (_read(snap, info.id, "bms1_soc", soc_lv, start, end, ("ts", "value", "min", "max"))
           if soc_lv else None)
    soh_lv = _finest(snap, info.id, "bms1_soh", ("1d", "1h", "15min"))
    soh_latest = soh_trend = float("nan")
    if soh_lv:
        soh = _read(snap, info.id, "bms1_soh", soh_lv, start, end).drop_nulls().drop_nans()
        if soh.height:
            soh_latest = float(soh["value"][-1])
        if soh.height >= 3:
            t_days = soh["ts"].dt.epoch("s").to_numpy() / 86400.0
            if np.ptp(t_days) > 0:
                soh_trend = float(np.polyfit(t_days, soh["value"].to_numpy(), 1)[0] * 365.25)
    cyc = cycles(snap, info, start, end, nameplate_kwh)
    aux = _aux_frame(snap, info, start, end)
    aux_kwh = float(np.nansum(aux["aux_kwh"].to_numpy())) if aux is not None else 0.0
    pcs_lv = _finest(snap, info.id, "pcs1_ap")
    pcs = _read(snap, info.id, "pcs1_ap", pcs_lv, start, end, ("ts", "min", "max")) if pcs_lv else None
    temps = []
    for group, sig in _TEMPERATURE_GROUPS.items():
        lv = _finest(snap, info.id, sig)
        if lv:
            df = _read(snap, info.id, sig, lv, start, end, ("ts", "value", "max"))
            temps.append(GroupTemperature(group, _nan_stat(np.mean, df["value"].to_numpy()),
                                          _nan_stat(np.max, df["max"].to_numpy())))
    return BessKpis(
        soc_min_pct=_nan_stat(np.min, soc["min"].to_numpy()) if soc is not None else float("nan"),
        soc_mean_pct=_nan_stat(np.mean, soc["value"].to_numpy()) if soc is not None else float("nan"),
        soc_max_pct=_nan_stat(np.max, soc["max"].to_numpy()) if soc is not None else float("nan"),
        soh_latest_pct=soh_latest,
        soh_trend_pct_per_year=soh_trend,
        cycles=cyc,
        round_trip_efficiency=cyc.discharged_kwh / cyc.charged_kwh if cyc.charged_kwh > 0 else float("nan"),
        round_trip_efficiency_with_aux=(cyc.discharged_kwh / (cyc.charged_kwh + aux_kwh)
                                        if cyc.charged_kwh > 0 else float("nan")),
        aux_kwh=aux_kwh,
        pcs_peak_discharge_kw=_nan_stat(np.max, pcs["max"].to_numpy()) if pcs is not None else float("nan"),
        pcs_peak_charge_kw=(-_nan_stat(np.min, pcs["min"].to_numpy())) if pcs is not None else float("nan"),
        temperatures=tuple(temps),
        alarms=alarms(snap, info, start, end),
    )
