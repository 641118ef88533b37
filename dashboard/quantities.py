"""One label, unit and format per KPI, used by every screen (tiles, compare table, CSV)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.results import BessKpis, MeterKpis
from dashboard.i18n import tr
from dashboard.numbers import MISSING, format_number, format_quantity

# A trend is shown only when its slope differs from zero at this level (two-sided p-value).
TREND_SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Quantity:
    """How one KPI reads: its label key, unit, fixed decimals (None: 3 significant digits) and the
    factor from the core's value to the shown one (a 0..1 efficiency is shown as %)."""

    label: str
    unit: str = ""
    decimals: int | None = None
    factor: float = 1.0
    help: str | None = None  # i18n key of a definition shown on hover

    def text(self, value: float | None, lang: str) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return MISSING
        v = float(value) * self.factor
        unit = tr(self.unit, lang) if self.unit.startswith("unit_") else self.unit
        return format_quantity(v, unit, lang, decimals=self.decimals)


_ENERGY = dict(unit="kWh")
_POWER = dict(unit="kW")
_PCT = dict(unit="%", decimals=1)

QUANTITIES: dict[str, Quantity] = {
    # meters
    "import_kwh": Quantity("import", **_ENERGY),
    "export_kwh": Quantity("export", **_ENERGY),
    "net_kwh": Quantity("net", **_ENERGY),
    "peak_import_kw": Quantity("peak_import", **_POWER),
    "peak_export_kw": Quantity("peak_export", **_POWER),
    "mean_power_kw": Quantity("mean_power", **_POWER),
    "mean_power_factor": Quantity("mean_pf", decimals=3),
    "load_factor": Quantity("load_factor", decimals=3, help="load_factor_help"),
    # BESS
    "soc_min_pct": Quantity("soc_min", **_PCT),
    "soc_mean_pct": Quantity("soc_mean", **_PCT),
    "soc_max_pct": Quantity("soc_max", **_PCT),
    "soh_latest_pct": Quantity("soh", **_PCT),
    "soh_trend_pct_per_year": Quantity("soh_trend", unit="unit_pct_per_year", decimals=2, help="trend_help"),
    "equivalent_full_cycles": Quantity("cycles", decimals=1),
    "nameplate_kwh": Quantity("nameplate", **_ENERGY),
    "charged_kwh": Quantity("charged", **_ENERGY),
    "discharged_kwh": Quantity("discharged", **_ENERGY),
    "round_trip_efficiency": Quantity("rte", factor=100.0, **_PCT),
    "round_trip_efficiency_with_aux": Quantity("rte_aux", factor=100.0, **_PCT),
    "round_trip_efficiency_dc": Quantity("rte_dc", factor=100.0, **_PCT),
    "round_trip_efficiency_dc_with_aux": Quantity("rte_dc_aux", factor=100.0, **_PCT),
    "capacity_soh_pct": Quantity("soh_data", **_PCT),
    "capacity_ah": Quantity("capacity_ah", unit="Ah", decimals=0),
    "aux_kwh": Quantity("aux_energy", **_ENERGY),
    "pcs_peak_discharge_kw": Quantity("peak_discharge", **_POWER),
    "pcs_peak_charge_kw": Quantity("peak_charge", **_POWER),
    "alarm_activations": Quantity("alarm_activations", decimals=0),
    "alarm_hours": Quantity("alarm_time", unit="h", decimals=1),
    "temperature_mean_c": Quantity("temp_mean", unit="°C", decimals=1),
    "temperature_max_c": Quantity("temp_max", unit="°C", decimals=1),
}

METER_FIELDS = ("import_kwh", "export_kwh", "net_kwh", "peak_import_kw", "peak_export_kw", "mean_power_kw",
                "mean_power_factor", "load_factor")
BESS_GROUPS = {
    "group_bms": ("soc_min_pct", "soc_mean_pct", "soc_max_pct", "soh_latest_pct", "soh_trend_pct_per_year",
                  "capacity_soh_pct", "capacity_ah", "equivalent_full_cycles", "nameplate_kwh",
                  "round_trip_efficiency_dc", "round_trip_efficiency_dc_with_aux"),
    "group_pcs": ("pcs_peak_discharge_kw", "pcs_peak_charge_kw", "charged_kwh", "discharged_kwh",
                  "round_trip_efficiency"),
    "group_aux": ("aux_kwh", "round_trip_efficiency_with_aux"),
    "group_env": ("alarm_activations", "alarm_hours"),
}
# Temperature groups of core.kpis shown under aux/thermal; the rest are environment.
THERMAL_GROUPS = ("cells", "hvac_outside", "hvac_outlet_water", "pcs_igbt")


@dataclass(frozen=True)
class Shown:
    """One KPI as the page shows it: label, text and an optional definition for the hover."""

    key: str  # stable id (the field name; temperatures as temperature_<group>_<mean|max>)
    label: str
    text: str
    help: str = ""
    missing: bool = False  # no value (the tile says why when the core gives a basis)


# The core's KpiBasis group behind each field (core.results.KpiBasis: coverage, method, reason).
BASIS_GROUP = {
    "import_kwh": "energy", "export_kwh": "energy", "net_kwh": "energy", "peak_import_kw": "power",
    "peak_export_kw": "power", "mean_power_kw": "power", "load_factor": "power", "mean_power_factor": "power_factor",
    "soc_min_pct": "soc", "soc_mean_pct": "soc", "soc_max_pct": "soc", "soh_latest_pct": "soh_bms",
    "soh_trend_pct_per_year": "soh_bms", "charged_kwh": "ac_energy", "discharged_kwh": "ac_energy",
    "round_trip_efficiency": "ac_efficiency", "round_trip_efficiency_with_aux": "ac_efficiency",
    "round_trip_efficiency_dc": "dc_efficiency", "round_trip_efficiency_dc_with_aux": "dc_efficiency",
    "aux_kwh": "aux", "pcs_peak_discharge_kw": "pcs_power", "pcs_peak_charge_kw": "pcs_power",
}


def basis(k: MeterKpis | BessKpis, field: str):
    """The KpiBasis behind ``field`` (None when the core gives none)."""
    if field in ("capacity_soh_pct", "capacity_ah"):
        cap = getattr(k, "capacity", None)
        return cap.basis if cap is not None else basis(k, "soh_latest_pct")
    if field == "equivalent_full_cycles":
        return getattr(k.cycles, "basis", None)
    group = BASIS_GROUP.get(field)
    return next((b for b in getattr(k, "basis", ()) if b.group == group), None) if group else None


def _value(k: MeterKpis | BessKpis, field: str) -> float:
    if field == "capacity_soh_pct":
        return k.capacity.soh_pct if getattr(k, "capacity", None) is not None else float("nan")
    if field == "capacity_ah":
        return k.capacity.capacity_ah if getattr(k, "capacity", None) is not None else float("nan")
    if field in ("equivalent_full_cycles", "nameplate_kwh", "charged_kwh", "discharged_kwh"):
        return getattr(k.cycles, field)
    if field == "alarm_activations":
        return float(sum(a.activations for a in k.alarms))
    if field == "alarm_hours":
        return sum(a.active_seconds for a in k.alarms) / 3600.0
    return getattr(k, field)


def show(k: MeterKpis | BessKpis, field: str, lang: str) -> Shown:
    q = QUANTITIES[field]
    value = _value(k, field)
    text = q.text(value, lang)
    missing = value is None or not math.isfinite(value)
    if field == "soh_trend_pct_per_year" and not missing and not trend_is_significant(k):
        text = tr("no_trend", lang)
    return Shown(field, tr(q.label, lang), text, tr(q.help, lang) if q.help else "", missing)


def trend_is_significant(k: BessKpis) -> bool:
    """A trend is shown only when its slope differs from zero (p < 0.05); a flat or noisy SOH is not a trend."""
    p = getattr(k, "soh_trend_p_value", float("nan"))
    return math.isfinite(k.soh_trend_pct_per_year) and math.isfinite(p) and p < TREND_SIGNIFICANCE


def temperatures(k: BessKpis, lang: str) -> list[tuple[str, Shown]]:
    """(group, shown) for each temperature group's mean and max."""
    out = []
    for t in k.temperatures:
        group = tr(f"tgroup_{t.group}", lang)
        for stat, value in (("mean", t.mean_c), ("max", t.max_c)):
            q = QUANTITIES[f"temperature_{stat}_c"]
            out.append((t.group, Shown(f"temperature_{t.group}_{stat}", tr(q.label, lang, group=group),
                                       q.text(value, lang))))
    return out


def meter_rows(k: MeterKpis, lang: str) -> list[Shown]:
    return [show(k, f, lang) for f in METER_FIELDS]


def bess_rows(k: BessKpis, lang: str) -> list[Shown]:
    rows = [show(k, f, lang) for fields in BESS_GROUPS.values() for f in fields]
    return rows + [s for _, s in temperatures(k, lang)]


def rows(k: MeterKpis | BessKpis, lang: str) -> list[Shown]:
    """Every KPI of either kind in display order (the compare table)."""
    return meter_rows(k, lang) if isinstance(k, MeterKpis) else bess_rows(k, lang)


def number_text(value: float | None, lang: str, decimals: int | None = None) -> str:
    """A bare number in the page's language (for tables and hovers without a KPI definition)."""
    return format_number(value, lang, decimals=decimals)
