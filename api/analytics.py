"""Cell analytics types of a BESS: SAT matrix, per-cell fits, alerts, pack events, trends and health."""

from __future__ import annotations

import enum

import numpy as np
import strawberry

from api.scalars import FloatArray
from api.types import FitMethod, Language, num
from core.cells import labels as core_labels
from core.cells.alerts import Alert as CoreAlert
from core.cells.events import PackEvent as CoreEvent
from core.cells.fits import CellFits
from core.cells.health import PackHealth as CoreHealth
from core.cells.health import pack_summary
from core.cells.sat import SatMatrix as CoreSat
from core.cells.trends import PackTrends as CoreTrends
from core.cells.verdict import CellVerdict, Rating, rating_text


def _v(value: str, description: str):
    return strawberry.enum_value(value, description=description)


def _days(days: np.ndarray) -> list[str]:
    return [str(d) for d in np.asarray(days, dtype="datetime64[D]")]


@strawberry.enum(description="What an alert is about.")
class AlertKind(enum.Enum):
    DRIFT_OUTLIER = _v("drift_outlier", "The cell's SAT drifts away from its pack (significant, >= 0.5 mV/month).")
    PACK_DRIFT = _v("pack_drift", "A pack's SAT drifts against the rest of the system (significant, >= 0.5 mV/month).")
    LOW_SAT = _v("low_sat", "The cell's recent SAT lies below its pack's.")
    HIGH_SAT = _v("high_sat", "The cell's recent SAT lies above its pack's.")
    HIGH_SPREAD = _v("high_spread", "The SAT spread within a pack is large.")
    PACK_EVENT = _v("pack_event", "A pack's SAT stepped (e.g. after a bad charging period).")


@strawberry.enum(description="How urgent an alert is.")
class Severity(enum.Enum):
    INFO = _v("info", "For information.")
    WARNING = _v("warning", "Watch this cell or pack.")
    CRITICAL = _v("critical", "Act on this cell or pack.")


@strawberry.type(description="Daily SAT (saturation) voltage of every cell: a flat row-major matrix, rows P1C1..P5C52, "
                 "columns local dates; value of row r, column c is values[r * len(columns) + c].")
class SatMatrix:
    rows: list[str] = strawberry.field(description="Cell labels P1C1..P5C52.")
    columns: list[str] = strawberry.field(description="Local (Europe/Berlin) dates, YYYY-MM-DD.")
    values: object = strawberry.field(graphql_type=FloatArray,
                                      description="SAT voltage [V], row-major; null on days without saturation.")
    unit: str = strawberry.field(description="Unit of values: V.")
    saturation_day: list[bool] = strawberry.field(description="Per column: the day passed the saturation criterion.")
    day_median_v: object = strawberry.field(graphql_type=FloatArray,
                                            description="Per column: median over cells of the daily maxima [V].")

    @classmethod
    def of(cls, m: CoreSat) -> "SatMatrix":
        return cls(rows=list(m.labels), columns=_days(m.days), values=np.ascontiguousarray(m.voltage_v).ravel(),
                   unit="V", saturation_day=[bool(x) for x in m.saturation_day], day_median_v=m.day_median_v)


@strawberry.type(description="One cell's daily SAT voltage as parallel arrays.")
class DailyValues:
    days: list[str] = strawberry.field(description="Local dates, YYYY-MM-DD.")
    values: object = strawberry.field(graphql_type=FloatArray, description="Value per day [unit]; null = none.")
    unit: str = strawberry.field(description="Unit of values, e.g. V.")


@strawberry.type(description="A cell's SAT line SAT(x) = interceptV + slopeVPerDay * x, x = days since the first "
                 "day of the SAT matrix, with its uncertainty and loss rates.")
class CellFit:
    pack: int = strawberry.field(description="Pack index, 1-based.")
    cell: int = strawberry.field(description="Cell index within the pack, 1-based.")
    label: str = strawberry.field(description="Cell label, e.g. P1C1.")
    method: FitMethod = strawberry.field(description="OLS or ROBUST (Theil-Sen).")
    slope_v_per_day: float | None = strawberry.field(description="Slope of the SAT line [V/day]; null if < 3 days.")
    intercept_v: float | None = strawberry.field(description="SAT at the first day of the matrix [V].")
    r2: float | None = strawberry.field(description="Coefficient of determination [1]; can be < 0 for ROBUST.")
    n: int = strawberry.field(description="Saturation days used by the fit [count].")
    slope_stderr_v_per_day: float | None = strawberry.field(description="Standard error of the slope [V/day].")
    slope_ci95_low_v_per_day: float | None = strawberry.field(description="Lower 95 % bound of the slope [V/day].")
    slope_ci95_high_v_per_day: float | None = strawberry.field(description="Upper 95 % bound of the slope [V/day].")
    loss_pct_per_year: float | None = strawberry.field(
        description="SAT loss per year, -slope * 365.25 / intercept * 100; positive = SAT falls [%/year].")
    loss_pct_per_efc: float | None = strawberry.field(
        description="SAT loss per equivalent full cycle [%/EFC]; null without measured cycles.")
    fit_start_day: str = strawberry.field(description="First local date the fit may use (after a pack event).")
    quality: str = strawberry.field(description="The cell's rating against its peers (stable, drifting, fast drift, off "
                                    "its peers, far from its peers), named by its most severe alert, in the language "
                                    "asked. R² is not graded: on daily SAT it measures signal-to-noise, not linearity.")
    loss_rating: str = strawberry.field(description="Same rating as quality: a raw loss per year is dominated by what "
                                        "all cells share, so it is not graded on its own.")


def fits_of(fits: CellFits, language: Language, rows: list[int] | None = None,
            verdicts: tuple[CellVerdict, ...] = ()) -> list[CellFit]:
    """CellFit objects for the given rows (all by default) of core fits, rated by the core's cell verdicts."""
    lang = core_labels.Language(language.value)
    idx = range(fits.n_cells) if rows is None else rows
    out = []
    for i in idx:
        r2, loss = float(fits.r2[i]), float(fits.loss_pct_per_year[i])
        rating = rating_text(verdicts[i].rating if verdicts else Rating.UNKNOWN, lang)
        out.append(CellFit(
            pack=int(fits.packs[i]), cell=int(fits.cells[i]), label=fits.labels[i], method=FitMethod(fits.method.value),
            slope_v_per_day=num(fits.slope_v_per_day[i]), intercept_v=num(fits.intercept_v[i]), r2=num(r2),
            n=int(fits.n[i]), slope_stderr_v_per_day=num(fits.slope_stderr_v_per_day[i]),
            slope_ci95_low_v_per_day=num(fits.slope_ci95_low_v_per_day[i]),
            slope_ci95_high_v_per_day=num(fits.slope_ci95_high_v_per_day[i]),
            loss_pct_per_year=num(loss), loss_pct_per_efc=num(fits.loss_pct_per_efc[i]),
            fit_start_day=str(np.datetime64(fits.fit_start_day[i], "D")),
            quality=rating, loss_rating=rating))
    return out


@strawberry.type(description="A cell or pack that needs attention.")
class Alert:
    pack: int = strawberry.field(description="Pack index, 1-based.")
    cell: int | None = strawberry.field(description="Cell index within the pack, 1-based; null for a pack alert.")
    label: str = strawberry.field(description="P1C7 for a cell, P1 for a pack.")
    kind: AlertKind = strawberry.field(description="What the alert is about.")
    severity: Severity = strawberry.field(description="INFO, WARNING or CRITICAL.")
    reason: str = strawberry.field(description="Why, with the numbers, in the language asked.")
    from_date: str | None = strawberry.field(description="First local date of the data that raised it (open the "
                                             "cell's series here), YYYY-MM-DD.")
    to_date: str | None = strawberry.field(description="Last local date of that data, YYYY-MM-DD.")

    @classmethod
    def of(cls, a: CoreAlert, language: Language) -> "Alert":
        def day(d):  # noqa: ANN001, ANN202
            return None if d is None else str(np.datetime64(d, "D"))

        return cls(pack=a.pack, cell=a.cell, label=a.label, kind=AlertKind(a.kind.value),
                   severity=Severity(a.severity.value), reason=a.reason(core_labels.Language(language.value)),
                   from_date=day(a.first_day), to_date=day(a.last_day))


@strawberry.type(description="A step in one pack's SAT voltage relative to the other packs.")
class PackEvent:
    pack: int = strawberry.field(description="Pack index, 1-based.")
    date: str = strawberry.field(description="First saturation day at the new level, local date YYYY-MM-DD.")
    step_v: float | None = strawberry.field(description="Pack-median SAT after minus before, relative to the other packs [V].")
    cells_affected: list[int] = strawberry.field(description="Cells (1-based) that stepped by at least half the step.")
    n_cells: int = strawberry.field(description="Cells of the pack with data on both sides of the step [count].")

    @classmethod
    def of(cls, e: CoreEvent) -> "PackEvent":
        return cls(pack=e.pack, date=str(np.datetime64(e.day, "D")), step_v=num(e.step_v),
                   cells_affected=list(e.cells_affected), n_cells=e.n_cells)


@strawberry.type(description="One pack's SAT over time and its monthly rate.")
class PackTrend:
    pack: int = strawberry.field(description="Pack index, 1-based.")
    mean_v: object = strawberry.field(graphql_type=FloatArray, description="Mean SAT of the pack's cells per day [V].")
    spread_v: object = strawberry.field(graphql_type=FloatArray, description="Max - min SAT within the pack per day [V].")
    std_v: object = strawberry.field(graphql_type=FloatArray, description="Standard deviation within the pack per day [V].")
    rate_v_per_month: float | None = strawberry.field(description="Slope of the pack-mean SAT [V/month].")
    rate_stderr_v_per_month: float | None = strawberry.field(description="Standard error of the rate [V/month].")
    rate_ci95_low_v_per_month: float | None = strawberry.field(description="Lower 95 % bound of the rate [V/month].")
    rate_ci95_high_v_per_month: float | None = strawberry.field(description="Upper 95 % bound of the rate [V/month].")
    r2: float | None = strawberry.field(description="Coefficient of determination of the rate fit [1].")
    n: int = strawberry.field(description="Days used by the rate fit [count].")


@strawberry.type(description="Pack SAT trends: per-pack daily arrays over shared dates.")
class PackTrends:
    days: list[str] = strawberry.field(description="Local dates, YYYY-MM-DD (the columns of every array).")
    packs: list[PackTrend] = strawberry.field(description="One trend per pack, ascending.")

    @classmethod
    def of(cls, t: CoreTrends) -> "PackTrends":
        return cls(days=_days(t.days), packs=[PackTrend(
            pack=int(p), mean_v=t.mean_v[i], spread_v=t.spread_v[i], std_v=t.std_v[i],
            rate_v_per_month=num(t.rate_v_per_month[i]), rate_stderr_v_per_month=num(t.rate_stderr_v_per_month[i]),
            rate_ci95_low_v_per_month=num(t.rate_ci95_low_v_per_month[i]),
            rate_ci95_high_v_per_month=num(t.rate_ci95_high_v_per_month[i]), r2=num(t.r2[i]), n=int(t.n[i]))
            for i, p in enumerate(t.packs)])


@strawberry.type(description="Health summary of one pack.")
class PackHealth:
    n_cells: int = strawberry.field(description="Cells in the pack [count].")
    healthy: int = strawberry.field(description="Cells without warning or critical alerts [count].")
    watched: int = strawberry.field(description="Cells with a warning alert or in a pack event [count].")
    critical: int = strawberry.field(description="Cells with a critical alert [count].")
    mean_sat_v: float | None = strawberry.field(description="Mean SAT of the pack's cells on its latest saturation day [V].")
    spread_sat_v: float | None = strawberry.field(description="Max - min SAT within the pack on that day [V].")
    latest_day: str | None = strawberry.field(description="That latest saturation day, local date YYYY-MM-DD.")
    best_cell: str | None = strawberry.field(description="Cell with the smallest robust |lossPctPerYear|, e.g. P1C7.")
    worst_cell: str | None = strawberry.field(description="Cell with the largest robust |lossPctPerYear|, e.g. P1C9.")
    drift_v_per_day: float | None = strawberry.field(
        default=None, description="Drift of the pack part (pack median minus system median) [V/day].")
    drift_ci95_low_v_per_day: float | None = strawberry.field(
        default=None, description="Lower 95 % bound of the pack drift, allowing for autocorrelated days [V/day].")
    drift_ci95_high_v_per_day: float | None = strawberry.field(default=None,
                                                               description="Upper 95 % bound of the pack drift [V/day].")
    drift_rating: str | None = strawberry.field(default=None,
                                                description="stable / drifting / fast drift (EN labels) of the pack part.")


def health_of(pack: int, health: tuple[CoreHealth, ...], trends: CoreTrends, robust: CellFits) -> PackHealth:
    """The core's pack summary (core.cells.health.pack_summary), formatted."""
    s = pack_summary(pack, health, trends, robust)
    return PackHealth(n_cells=s.n_cells, healthy=s.healthy, watched=s.watched, critical=s.critical,
                      mean_sat_v=num(s.mean_sat_v), spread_sat_v=num(s.spread_sat_v),
                      latest_day=None if s.latest_day is None else _days(np.array([s.latest_day]))[0],
                      best_cell=s.best_cell, worst_cell=s.worst_cell)
