"""KPIs of meters and BESS over any range: energy, power, SOC, cycles, efficiency, alarms."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from scipy import stats

from core.capacity import cycle_capacities, estimate_capacity
from core.energy import (
    PARTIAL_DAY_COVERAGE,
    EnergyIntervals,
    book,
    counter_energy,
    integrate_power_kwh,
    power_energy,
    totals,
    unattributed,
)
from core.series import gap_threshold_ms
from core.results import (
    AlarmSummary,
    BessKpis,
    CapacityEstimate,
    Cycles,
    DailyEnergy,
    GroupTemperature,
    KpiBasis,
    MeterKpis,
    SystemInfo,
)
from data.glossary import LEVEL_SECONDS, LOCAL_TZ
from data.store import Snapshot

_BERLIN = ZoneInfo(LOCAL_TZ)
# Energy from power holds a bin's mean for at most this long; longer steps are gaps.
_MAX_HOLD_BINS = 3
# A KPI group whose signals cover less than this fraction of the range is null, with the reason.
MIN_KPI_COVERAGE = 0.01
# How far past the range end a counter is read for the snapshot that closes its last interval.
_COUNTER_LOOKAHEAD_DAYS = 7
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


def _span_ms(info: SystemInfo, start, end) -> tuple[int | None, int | None]:
    """The range the KPIs describe, in epoch ms: the query's bounds, else the system's record."""
    rng = info.time_range
    lo = start or (rng.start if rng else None)
    hi = end or (rng.end if rng else None)
    return (int(lo.timestamp() * 1000) if lo else None, int(hi.timestamp() * 1000) if hi else None)


def _coverage(covered_ms: float, span: tuple[int | None, int | None]) -> float:
    lo, hi = span
    if lo is None or hi is None or hi <= lo:
        return float("nan")
    return float(min(max(covered_ms / (hi - lo), 0.0), 1.0))


def _thin(signals: tuple[str, ...], coverage: float, n: int) -> str | None:
    """Why a group has no value, or None when its data is enough to state one."""
    names = ", ".join(signals)
    if n == 0:
        return f"no data for {names} in the range"
    if np.isfinite(coverage) and coverage < MIN_KPI_COVERAGE:
        return f"{names} covers {coverage:.2%} of the range, below {MIN_KPI_COVERAGE:.0%}"
    return None


def _absent(group: str, signals: tuple[str, ...], what: str) -> KpiBasis:
    return KpiBasis(group, signals, 0.0, what, f"no {' or '.join(signals)} signal in the store")


def counter_energy_in(snap: Snapshot, sid: str, signal: str, start, end) -> EnergyIntervals | None:
    """Intervals of a counter whose start lies in [start, end), from the raw snapshots.

    The first snapshot at or after ``end`` is read too, so the last interval of the range (e.g.
    23:45-24:00 of the last day) is complete: a day is counter(next 00:00) - counter(00:00).
    """
    level = _finest(snap, sid, signal, ("raw", "5min", "15min", "1h"))
    if level is None:
        return None
    read_end = end + timedelta(days=_COUNTER_LOOKAHEAD_DAYS) if end is not None else None
    df = _read(snap, sid, signal, level, start, read_end)
    ts = df["ts"].dt.epoch("ms").to_numpy().astype(np.int64)
    v = df["value"].cast(pl.Float64).to_numpy()
    if end is not None:
        end_ms = int(end.timestamp() * 1000)
        n_in = int(np.searchsorted(ts, end_ms, side="left"))
        ts, v = ts[: n_in + 1], v[: n_in + 1]
    return counter_energy(ts, v, level=level)


def power_energy_in(snap: Snapshot, sid: str, signal: str, start, end) -> EnergyIntervals | None:
    """Signed energy [kWh] (or charge [Ah] for a current) per bin of a mean signal in [start, end)."""
    level = _finest(snap, sid, signal)
    if level is None:
        return None
    df = _read(snap, sid, signal, level, start, end)
    return power_energy(df["ts"].dt.epoch("ms").to_numpy(), df["value"].cast(pl.Float64).to_numpy(), level=level)


def _split(iv: EnergyIntervals) -> tuple[np.ndarray, np.ndarray]:
    """(positive part, magnitude of the negative part) of signed interval energies."""
    e = np.where(iv.in_gap, 0.0, iv.energy)
    return np.where(e > 0, e, 0.0), np.where(e < 0, -e, 0.0)


def _mean_signal(snap, sid, signal, start, end, span, cols=("ts", "value")):
    """A mean signal's rows, its coverage of the span and a reason when it is absent or thin."""
    level = _finest(snap, sid, signal, ("5min", "15min", "1h"))
    if level is None:
        return None, 0.0, f"no {signal} signal in the store"
    df = _read(snap, sid, signal, level, start, end, cols)
    covered = power_energy(df["ts"].dt.epoch("ms").to_numpy(), np.ones(df.height), level=level).covered_ms.sum()
    cov = _coverage(covered, span)
    return df, cov, _thin((signal,), cov, df.height)


def meter_kpis(snap: Snapshot, info: SystemInfo, start: datetime | None, end: datetime | None) -> MeterKpis:
    span = _span_ms(info, start, end)
    nan = float("nan")
    p_df, p_cov, p_reason = _mean_signal(snap, info.id, "com_ap", start, end, span)
    p = p_df["value"].cast(pl.Float64).to_numpy() if p_reason is None else np.zeros(0)
    imp_iv = counter_energy_in(snap, info.id, "pos_ae", start, end)
    exp_iv = counter_energy_in(snap, info.id, "neg_ae", start, end)
    unatt: tuple = ()
    if imp_iv is not None and exp_iv is not None:
        (imp, imp_u), (exp, exp_u) = totals(imp_iv), totals(exp_iv)
        unatt = unattributed(imp_iv, "pos_ae") + unattributed(exp_iv, "neg_ae")
        cov = min(_coverage(imp_iv.covered_ms.sum(), span), _coverage(exp_iv.covered_ms.sum(), span))
        reason = _thin(("pos_ae", "neg_ae"), cov, min(imp_iv.start_ms.size, exp_iv.start_ms.size))
        energy_basis = KpiBasis("energy", ("pos_ae", "neg_ae"), cov,
                                "counter differences booked by interval start; intervals across gaps "
                                "unattributed (README: Counter rule)", reason)
    elif p_df is not None:
        iv = power_energy_in(snap, info.id, "com_ap", start, end)
        pos, neg = _split(iv)
        imp, exp, imp_u, exp_u = float(pos.sum()), float(neg.sum()), 0.0, 0.0
        cov = _coverage(iv.covered_ms.sum(), span)
        reason = _thin(("com_ap",), cov, iv.start_ms.size)
        energy_basis = KpiBasis("energy", ("com_ap",), cov,
                                "active power held over each bin (no energy counters); gaps add nothing", reason)
    else:
        imp = exp = imp_u = exp_u = nan
        energy_basis = _absent("energy", ("pos_ae", "neg_ae", "com_ap"), "energy counters or power")
    if energy_basis.reason:
        imp = exp = imp_u = exp_u = nan
    pf_df, pf_cov, pf_reason = _mean_signal(snap, info.id, "pf", start, end, span)
    pf = pf_df["value"].cast(pl.Float64).to_numpy() if pf_reason is None else np.zeros(0)
    peak = _nan_stat(np.max, p)
    mean = _nan_stat(np.mean, p)
    lowest = _nan_stat(np.min, p)
    return MeterKpis(
        import_kwh=imp,
        export_kwh=exp,
        net_kwh=imp - exp,
        peak_power_kw=peak,
        mean_power_kw=mean,
        min_power_kw=lowest,
        mean_power_factor=_nan_stat(np.mean, np.abs(pf)),
        load_factor=import_load_factor(p),
        # A range with no import (or no export) at all has a peak of 0 kW in that direction.
        peak_import_kw=max(peak, 0.0) if np.isfinite(peak) else nan,
        peak_export_kw=max(-lowest, 0.0) if np.isfinite(lowest) else nan,
        import_unattributed_kwh=imp_u,
        export_unattributed_kwh=exp_u,
        unattributed=unatt,
        basis=(energy_basis,
               KpiBasis("power", ("com_ap",), p_cov, "bin means of active power (peak from the finest level)",
                        p_reason),
               KpiBasis("power_factor", ("pf",), pf_cov, "mean of |power factor| over bins", pf_reason)),
    )


def import_load_factor(power_kw: np.ndarray) -> float:
    """Load factor of a bidirectional meter: mean import demand over peak import demand, 0..1.

    Import demand is max(P, 0) per interval, so intervals that export count as zero demand
    (the grid supplies nothing then) instead of pulling the mean negative. NaN when the range
    has no import at all. With import only this is the classic mean / peak.
    """
    p = np.asarray(power_kw, dtype=np.float64)
    demand = np.clip(p[np.isfinite(p)], 0.0, None)
    peak = float(demand.max()) if demand.size else 0.0
    return float(demand.mean()) / peak if peak > 0 else float("nan")


def daily_energy(snap: Snapshot, info: SystemInfo, start: datetime | None, end: datetime | None,
                 bucket: str = "day") -> DailyEnergy:
    """Import/export (meters) or charge/discharge (BESS, from PCS power) and aux per bucket.

    Every interval is booked to the bucket of its start; counter intervals across a gap go to
    ``unattributed`` instead. Buckets run from the first to the last one with data; one without
    any data has NaN energy and coverage 0.
    """
    meter = info.kind.value == "meter"
    parts: dict[str, tuple[EnergyIntervals, np.ndarray | None]] = {}
    unatt: tuple = ()
    basis = []
    if meter and snap.has(info.id, "raw", "pos_ae") and snap.has(info.id, "raw", "neg_ae"):
        for name, col in (("pos_ae", "import_kwh"), ("neg_ae", "export_kwh")):
            iv = counter_energy_in(snap, info.id, name, start, end)
            parts[col] = (iv, None)
            unatt += unattributed(iv, name)
        basis.append(KpiBasis("energy", ("pos_ae", "neg_ae"), float("nan"), "counter differences booked by "
                              "interval start; intervals across gaps unattributed"))
    else:
        sig = "com_ap" if meter else "pcs1_ap"
        iv = power_energy_in(snap, info.id, sig, start, end)
        if iv is None:
            basis.append(_absent("energy", (sig,), "power held over each bin"))
        else:
            pos, neg = _split(iv)
            # Meters: positive = import. PCS: positive = discharge, so "import" is charging.
            parts["import_kwh"], parts["export_kwh"] = ((iv, pos), (iv, neg)) if meter else ((iv, neg), (iv, pos))
            basis.append(KpiBasis("energy", (sig,), float("nan"), "power held over each bin, booked by bin start"))
    if not meter:
        aux_sig = "aux_m_pos_ae" if snap.has(info.id, "raw", "aux_m_pos_ae") else "aux_m_ap"
        aux = _aux_intervals(snap, info, start, end)
        if aux is not None:
            parts["aux_kwh"] = aux
            if aux_sig == "aux_m_pos_ae":
                unatt += unattributed(aux[0], aux_sig)
            basis.append(KpiBasis("aux", (aux_sig,), float("nan"), "auxiliary consumption, booked by interval start"))
    live = [iv for iv, _ in parts.values() if iv.start_ms.size]
    if not live:
        nan0 = np.zeros(0)
        return DailyEnergy((), nan0, nan0, None if meter else nan0, nan0, nan0.astype(bool), unatt, tuple(basis),
                           bucket)
    first = min(int(iv.start_ms.min()) for iv in live)
    last = max(int(iv.start_ms.max()) for iv in live)
    booked = {col: book(iv, bucket, energy=e, first_ms=first, last_ms=last) for col, (iv, e) in parts.items()}
    ref = next(iter(booked.values()))
    n = len(ref.labels)
    energy_cols = [c for c in ("import_kwh", "export_kwh") if c in booked]
    coverage = (np.min([booked[c].coverage for c in energy_cols], axis=0) if energy_cols
                else np.zeros(n))
    col = lambda c: booked[c].energy if c in booked else np.full(n, np.nan)
    return DailyEnergy(
        days=ref.labels,
        import_kwh=col("import_kwh"),
        export_kwh=col("export_kwh"),
        aux_kwh=None if meter else col("aux_kwh"),
        coverage=coverage,
        partial=coverage < PARTIAL_DAY_COVERAGE,
        unattributed=unatt,
        basis=tuple(basis),
        bucket=bucket,
    )


def _aux_intervals(snap: Snapshot, info: SystemInfo, start, end) -> tuple[EnergyIntervals, np.ndarray | None] | None:
    """Auxiliary consumption: its counter when there is one, else its power (consumption only)."""
    if snap.has(info.id, "raw", "aux_m_pos_ae"):
        return counter_energy_in(snap, info.id, "aux_m_pos_ae", start, end), None
    iv = power_energy_in(snap, info.id, "aux_m_ap", start, end)
    if iv is None:
        return None
    return iv, np.clip(iv.energy, 0.0, None)


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


def capacity_estimate(snap: Snapshot, info: SystemInfo, configured_ah: float | None,
                      start=None, end=None) -> CapacityEstimate:
    """Usable capacity [Ah] per qualifying cycle, its trend, and SOH beside the BMS's bms1_soh."""
    signals = ("bms1_soc", "bms1_c")
    soc_lv = _finest(snap, info.id, "bms1_soc", ("raw", "5min", "15min"))
    cur = power_energy_in(snap, info.id, "bms1_c", start, end)
    bms = _bms_soh(snap, info, start, end)[0]
    if soc_lv is None or cur is None:
        missing = [s for s, ok in zip(signals, (soc_lv, cur)) if ok is None]
        nan = float("nan")
        return CapacityEstimate(np.zeros(0, np.int64), np.zeros(0), nan, nan, nan, nan, nan, "", nan, bms, nan,
                                False, _absent("capacity", tuple(missing), "coulomb counting between SOC anchors"))
    soc = _read(snap, info.id, "bms1_soc", soc_lv, start, end)
    ts = soc["ts"].dt.epoch("ms").to_numpy().astype(np.int64)
    t, c = cycle_capacities(ts, soc["value"].cast(pl.Float64).to_numpy(), gap_threshold_ms(ts, soc_lv), cur)
    cov = _coverage(cur.covered_ms.sum(), _span_ms(info, start, end))
    return estimate_capacity(t, c, configured_ah=configured_ah, bms_soh_pct=bms, signals=signals, coverage=cov)


def cycles(snap: Snapshot, info: SystemInfo, start, end, nameplate_kwh: float,
           capacity_ah: float = float("nan"), capacity_source: str = "") -> Cycles:
    """Equivalent full cycles from charge throughput: Ah (bms1_c) / (2 x capacity Ah).

    Without bms1_c or a capacity in Ah, from PCS energy: (charged + discharged kWh) / 2 / nameplate,
    and the basis says so. PCS energy always gives the AC charged/discharged kWh.
    """
    nan = float("nan")
    span = _span_ms(info, start, end)
    pcs = power_energy_in(snap, info.id, "pcs1_ap", start, end)
    if pcs is not None and pcs.start_ms.size:
        dis, chg = _split(pcs)
        charged, discharged = float(chg.sum()), float(dis.sum())
    else:
        charged = discharged = nan
    efc_energy = ((charged + discharged) / 2.0 / nameplate_kwh
                  if nameplate_kwh and nameplate_kwh > 0 and np.isfinite(charged) else nan)
    cur = power_energy_in(snap, info.id, "bms1_c", start, end)
    lo, hi = span
    days = (hi - lo) / 86_400_000 if lo is not None and hi is not None else nan
    if cur is not None and cur.start_ms.size:
        dis_ah, chg_ah = _split(cur)
        charged_ah, discharged_ah = float(chg_ah.sum()), float(dis_ah.sum())
        cov = _coverage(cur.covered_ms.sum(), span)
    else:
        charged_ah = discharged_ah = nan
        cov = 0.0
    if np.isfinite(charged_ah) and capacity_ah and np.isfinite(capacity_ah) and capacity_ah > 0:
        efc = (charged_ah + discharged_ah) / (2.0 * capacity_ah)
        word = "configured" if capacity_source == "configured" else "estimated (coulomb counting, README)"
        basis = KpiBasis("cycles", ("bms1_c",), cov, f"Ah throughput of bms1_c / (2 x {capacity_ah:.1f} Ah, {word})",
                         _thin(("bms1_c",), cov, cur.start_ms.size))
    elif np.isfinite(efc_energy):
        efc = efc_energy
        why = "no bms1_c" if not np.isfinite(charged_ah) else "no capacity in Ah (configured or estimated)"
        cov = _coverage(pcs.covered_ms.sum(), span)
        basis = KpiBasis("cycles", ("pcs1_ap",), cov,
                         f"PCS AC energy / 2 / {nameplate_kwh:.1f} kWh nameplate ({why}): an approximation",
                         _thin(("pcs1_ap",), cov, pcs.start_ms.size))
    else:
        efc = nan
        basis = KpiBasis("cycles", ("bms1_c", "pcs1_ap"), cov, "Ah or energy throughput over capacity",
                         "no current (bms1_c) with a capacity in Ah and no PCS power (pcs1_ap) with a nameplate")
    if basis.reason:
        efc = nan
    return Cycles(efc, charged, discharged, nameplate_kwh, days, charged_ah=charged_ah, discharged_ah=discharged_ah,
                  capacity_ah=capacity_ah if basis.signals == ("bms1_c",) else nan,
                  capacity_source=capacity_source if basis.signals == ("bms1_c",) else "",
                  equivalent_full_cycles_energy=efc_energy, basis=basis)


def _bms_soh(snap: Snapshot, info: SystemInfo, start, end) -> tuple[float, float, float, float, str | None]:
    """(latest, trend per year, the trend's p-value, coverage, reason) of the BMS's own SOH."""
    nan = float("nan")
    span = _span_ms(info, start, end)
    df, cov, reason = _mean_signal(snap, info.id, "bms1_soh", start, end, span)
    if reason:
        return nan, nan, nan, cov, reason
    soh = df.drop_nulls().filter(pl.col("value").is_not_nan())
    if soh.height == 0:
        return nan, nan, nan, cov, "bms1_soh has no values in the range"
    latest = float(soh["value"][-1])
    trend = p_value = nan
    if soh.height >= 3:
        t_days = soh["ts"].dt.epoch("s").to_numpy() / 86400.0
        if np.ptp(t_days) > 0:
            trend, p_value = _trend_per_year(t_days, soh["value"].cast(pl.Float64).to_numpy())
    return latest, trend, p_value, cov, None


def _trend_per_year(t_days: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Least-squares slope per year and its two-sided p-value (slope = 0); a constant series
    has slope 0 and p = NaN (no evidence of any trend), not a float-noise slope like 2e-13."""
    if np.ptp(values) == 0:
        return 0.0, float("nan")
    fit = stats.linregress(t_days, values)
    return float(fit.slope * 365.25), float(fit.pvalue)


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


def _efficiency(charged: float, discharged: float, aux: float, min_charged: float) -> tuple[float, float, str | None]:
    """(discharged / charged, discharged / (charged + aux), reason when not stated)."""
    nan = float("nan")
    if not np.isfinite(charged):
        return nan, nan, "no throughput"
    if charged <= 0 or charged < min_charged:
        return nan, nan, ("less than one full charge of throughput in the range: the ratio would mostly "
                          "reflect the change of SOC")
    with_aux = discharged / (charged + aux) if np.isfinite(aux) else nan
    return discharged / charged, with_aux, None


def bess_kpis(snap: Snapshot, info: SystemInfo, start, end, nameplate_kwh: float,
              capacity_ah: float = float("nan"), capacity_source: str = "",
              capacity: CapacityEstimate | None = None) -> BessKpis:
    nan = float("nan")
    span = _span_ms(info, start, end)
    soc, soc_cov, soc_reason = _mean_signal(snap, info.id, "bms1_soc", start, end, span, ("ts", "value", "min", "max"))
    soh_latest, soh_trend, soh_trend_p, soh_cov, soh_reason = _bms_soh(snap, info, start, end)
    cyc = cycles(snap, info, start, end, nameplate_kwh, capacity_ah, capacity_source)
    aux = _aux_intervals(snap, info, start, end)
    aux_u, unatt = nan, ()
    if aux is not None:
        aux_iv, aux_e = aux
        aux_kwh = float(np.sum(aux_iv.measured if aux_e is None else aux_e))
        aux_sig = "aux_m_pos_ae" if aux_e is None else "aux_m_ap"
        if aux_e is None:
            aux_u, unatt = totals(aux_iv)[1], unattributed(aux_iv, aux_sig)
        aux_cov = _coverage(aux_iv.covered_ms.sum(), span)
        aux_basis = KpiBasis("aux", (aux_sig,), aux_cov, "auxiliary consumption (counter rule or power held per bin)",
                             _thin((aux_sig,), aux_cov, aux_iv.start_ms.size))
        if aux_basis.reason:
            aux_kwh = aux_u = nan
    else:
        aux_kwh = nan
        aux_basis = _absent("aux", ("aux_m_pos_ae", "aux_m_ap"), "auxiliary consumption")
    # AC: PCS power. A range with less than one nameplate of charge says little about efficiency.
    pcs_df, pcs_cov, pcs_reason = _mean_signal(snap, info.id, "pcs1_ap", start, end, span, ("ts", "min", "max"))
    min_kwh = nameplate_kwh if nameplate_kwh and np.isfinite(nameplate_kwh) else 0.0
    rte, rte_aux, rte_reason = _efficiency(cyc.charged_kwh, cyc.discharged_kwh, aux_kwh, min_kwh)
    if pcs_reason:
        rte_reason = pcs_reason
    # DC: bms1_v x bms1_c, both on the same bins.
    dc_chg, dc_dis, dc_cov, dc_reason = _dc_energy(snap, info, start, end, span)
    rte_dc, rte_dc_aux, why = _efficiency(dc_chg, dc_dis, aux_kwh, min_kwh)
    dc_rte_reason = dc_reason or why
    temps = []
    for group, sig in _TEMPERATURE_GROUPS.items():
        lv = _finest(snap, info.id, sig)
        if lv:
            df = _read(snap, info.id, sig, lv, start, end, ("ts", "value", "max"))
            temps.append(GroupTemperature(group, _nan_stat(np.mean, df["value"].to_numpy()),
                                          _nan_stat(np.max, df["max"].to_numpy())))
    soc_ok = soc_reason is None
    pcs_ok = pcs_reason is None
    basis = (
        KpiBasis("soc", ("bms1_soc",), soc_cov, "min/mean/max over bins of the BMS's SOC", soc_reason),
        KpiBasis("soh_bms", ("bms1_soh",), soh_cov, "latest BMS SOH; OLS trend", soh_reason),
        cyc.basis,
        KpiBasis("ac_energy", ("pcs1_ap",), pcs_cov, "PCS AC power held per bin", pcs_reason),
        KpiBasis("ac_efficiency", ("pcs1_ap",) + aux_basis.signals, pcs_cov, "discharged / charged AC energy; with aux: "
                 "discharged / (charged + aux)", rte_reason),
        KpiBasis("dc_energy", ("bms1_v", "bms1_c"), dc_cov, "DC power bms1_v x bms1_c held per bin", dc_reason),
        KpiBasis("dc_efficiency", ("bms1_v", "bms1_c") + aux_basis.signals, dc_cov, "discharged / charged DC energy; with aux: "
                 "discharged / (charged + aux)", dc_rte_reason),
        aux_basis,
        KpiBasis("pcs_power", ("pcs1_ap",), pcs_cov, "extremes of the bins' min/max", pcs_reason),
        KpiBasis("temperatures", tuple(_TEMPERATURE_GROUPS[t.group] for t in temps), float("nan"),
                 "mean and max per group", None if temps else "no temperature signals in the store"),
        KpiBasis("alarms", tuple(s.name for s in info.signals if s.is_alarm), float("nan"),
                 "rising edges and active time from raw samples", None),
    )
    return BessKpis(
        soc_min_pct=_nan_stat(np.min, soc["min"].to_numpy()) if soc_ok else nan,
        soc_mean_pct=_nan_stat(np.mean, soc["value"].to_numpy()) if soc_ok else nan,
        soc_max_pct=_nan_stat(np.max, soc["max"].to_numpy()) if soc_ok else nan,
        soh_latest_pct=soh_latest,
        soh_trend_pct_per_year=soh_trend,
        soh_trend_p_value=soh_trend_p,
        cycles=cyc,
        round_trip_efficiency=rte,
        round_trip_efficiency_with_aux=rte_aux,
        aux_kwh=aux_kwh,
        pcs_peak_discharge_kw=_nan_stat(np.max, pcs_df["max"].to_numpy()) if pcs_ok else nan,
        pcs_peak_charge_kw=(-_nan_stat(np.min, pcs_df["min"].to_numpy())) if pcs_ok else nan,
        temperatures=tuple(temps),
        alarms=alarms(snap, info, start, end),
        round_trip_efficiency_dc=rte_dc,
        round_trip_efficiency_dc_with_aux=rte_dc_aux,
        dc_charged_kwh=dc_chg,
        dc_discharged_kwh=dc_dis,
        capacity=capacity,
        basis=basis,
        aux_unattributed_kwh=aux_u,
        unattributed=unatt,
    )


def _dc_energy(snap: Snapshot, info: SystemInfo, start, end, span) -> tuple[float, float, float, str | None]:
    """(charged, discharged [kWh], coverage, reason) of DC power bms1_v x bms1_c on shared bins."""
    nan = float("nan")
    lv = next((lv for lv in ("5min", "15min", "1h") if snap.has(info.id, lv, "bms1_v") and snap.has(info.id, lv, "bms1_c")),
              None)
    if lv is None:
        return nan, nan, 0.0, "no bms1_v and bms1_c signals in the store"
    v = _read(snap, info.id, "bms1_v", lv, start, end).rename({"value": "v"})
    c = _read(snap, info.id, "bms1_c", lv, start, end).rename({"value": "c"})
    j = v.join(c, on="ts", how="inner").sort("ts")
    # The bin mean of V x I is not mean V x mean I, but V barely moves within a bin.
    iv = power_energy(j["ts"].dt.epoch("ms").to_numpy(),
                      (j["v"].cast(pl.Float64) * j["c"].cast(pl.Float64)).to_numpy() / 1000.0, level=lv)
    cov = _coverage(iv.covered_ms.sum(), span)
    reason = _thin(("bms1_v", "bms1_c"), cov, iv.start_ms.size)
    if reason:
        return nan, nan, cov, reason
    dis, chg = _split(iv)
    return float(chg.sum()), float(dis.sum()), cov, None
