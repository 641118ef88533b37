"""Cell health against peers in GraphQL: per-cell drift rows, the system trend, pack drift (formatting only)."""

from __future__ import annotations

import enum

import numpy as np
import strawberry

from api.analytics import Severity
from api.types import Language, num
from core.cells import labels as core_labels
from core.cells.alerts import mechanism_text
from core.cells.analysis import CellAnalysis
from core.cells.drift import DAYS_PER_MONTH, PROJECTION_EFC, LimitStatus as CoreLimitStatus
from core.cells.verdict import rating_text


@strawberry.enum(description="When a cell's deviation from its peers reaches the limit.")
class LimitStatus(enum.Enum):
    ALREADY = strawberry.enum_value("already", description="The deviation is at or beyond the limit now.")
    DATE = strawberry.enum_value("date", description="It gets there at the drift rate: see limitDate.")
    NEVER = strawberry.enum_value("never", description="Not significant, moving away, or more than 20 years ahead.")
    UNKNOWN = strawberry.enum_value("unknown", description="Too few saturation days to tell.")


def _day(d: np.datetime64) -> str | None:
    return None if np.isnat(d) else str(np.datetime64(d, "D"))


@strawberry.type(description="One cell against its peers (the system's daily median SAT): drift, deviation, "
                 "mechanism hint, limit date. Severity and rating agree with the alerts.")
class CellDrift:
    pack: int = strawberry.field(description="Pack index, 1-based.")
    cell: int = strawberry.field(description="Cell index within the pack, 1-based.")
    label: str = strawberry.field(description="Cell label, e.g. P2C9.")
    rating: str = strawberry.field(description="stable / drifting / fast drift / off its peers / far from its peers, "
                                   "in the language asked; named by the cell's most severe alert.")
    severity: Severity | None = strawberry.field(description="Most severe alert of the cell; null = none.")
    drift_v_per_day: float | None = strawberry.field(
        description="Slope of SAT minus the system's daily median (Huber line, level steps at pack events) [V/day].")
    drift_ci95_low_v_per_day: float | None = strawberry.field(
        description="Lower 95 % bound of the drift, allowing for autocorrelated days [V/day].")
    drift_ci95_high_v_per_day: float | None = strawberry.field(description="Upper 95 % bound of the drift [V/day].")
    drift_mv_per_month: float | None = strawberry.field(description="The drift in mV per month [mV/month].")
    own_drift_v_per_day: float | None = strawberry.field(
        description="Slope of SAT minus the pack median: what alerts are raised on [V/day].")
    drift_v_per_efc: float | None = strawberry.field(
        description="Drift per measured equivalent full cycle [V/EFC]; null without measured cycles.")
    deviation_v: float | None = strawberry.field(
        description="Today's deviation from peers: median of SAT minus the system median over the last 30 "
                    "saturation days [V].")
    deviation_at_5000_efc_v: float | None = strawberry.field(
        description="Deviation after 5,000 EFC from the first day at the drift rate, clipped to +-0.1 V [V].")
    deviation_at_10000_efc_v: float | None = strawberry.field(
        description="Deviation after 10,000 EFC, clipped to +-0.1 V (beyond it a line says nothing more) [V].")
    mechanism: str = strawberry.field(
        description="Hint from the drift's sign: rising = capacity fade or resistance growth seen at top of "
                    "charge; falling = self-discharge, micro-short or SOC lag; in the language asked.")
    limit_status: LimitStatus = strawberry.field(description="ALREADY, DATE, NEVER or UNKNOWN.")
    limit_date: str | None = strawberry.field(description="Local date the deviation reaches the limit (status DATE).")
    limit_date_earliest: str | None = strawberry.field(description="The same at the fast end of the 95 % interval.")
    limit_date_latest: str | None = strawberry.field(
        description="The same at the slow end of the interval; null when that end never gets there.")
    n: int = strawberry.field(description="Saturation days used [count].")


@strawberry.type(description="The slope of the part every cell shares (the system's daily median SAT): operation "
                 "(set-point, end current, temperature), not cell ageing.")
class SystemTrend:
    slope_v_per_day: float | None = strawberry.field(description="Slope of the system's daily median SAT [V/day].")
    ci95_low_v_per_day: float | None = strawberry.field(description="Lower 95 % bound [V/day].")
    ci95_high_v_per_day: float | None = strawberry.field(description="Upper 95 % bound [V/day].")
    level_shift_share: float | None = strawberry.field(
        description="Share of its variance that calendar-month levels explain [1].")
    note: str = strawberry.field(description="What it most likely is, in the language asked.")


def drift_rows(a: CellAnalysis, language: Language, limit_v: float, days_recorded: float) -> list[CellDrift]:
    """One row per cell, P1C1 first."""
    lang = core_labels.Language(language.value)
    c = a.drift.cells
    status, date, early, late = c.limit_dates(limit_v)
    per_efc = c.drift_v_per_efc()
    at5, at10 = (c.deviation_at_efc_v(e, days_recorded) for e in PROJECTION_EFC)
    rows = []
    for i in range(c.n_cells):
        v = a.verdicts[i]
        rows.append(CellDrift(
            pack=int(c.packs[i]), cell=int(c.cells[i]), label=c.labels[i], rating=rating_text(v.rating, lang),
            severity=None if v.severity is None else Severity(v.severity.value),
            drift_v_per_day=num(c.drift_v_per_day[i]), drift_ci95_low_v_per_day=num(c.drift_ci95_low_v_per_day[i]),
            drift_ci95_high_v_per_day=num(c.drift_ci95_high_v_per_day[i]),
            drift_mv_per_month=num(c.drift_v_per_day[i] * 1e3 * DAYS_PER_MONTH),
            own_drift_v_per_day=num(c.own_drift_v_per_day[i]), drift_v_per_efc=num(per_efc[i]),
            deviation_v=num(c.deviation_v[i]), deviation_at_5000_efc_v=num(at5[i]),
            deviation_at_10000_efc_v=num(at10[i]), mechanism=mechanism_text(c.mechanism[i], lang),
            limit_status=LimitStatus(CoreLimitStatus(status[i]).value), limit_date=_day(date[i]),
            limit_date_earliest=_day(early[i]), limit_date_latest=_day(late[i]), n=int(c.n[i])))
    return rows


def system_trend_of(a: CellAnalysis, language: Language) -> SystemTrend:
    s = a.drift.system
    return SystemTrend(slope_v_per_day=num(s.trend.slope_v_per_day), ci95_low_v_per_day=num(s.trend.ci95_low_v_per_day),
                       ci95_high_v_per_day=num(s.trend.ci95_high_v_per_day),
                       level_shift_share=num(s.level_shift_share),
                       note=s.note_en if language is Language.EN else s.note_de)
