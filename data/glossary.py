"""The one glossary of signal names, units and aggregation rules (DATA_FORMAT.md)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Aggregation(str, enum.Enum):
    """How a signal is reduced when building a coarser pyramid level."""

    MEAN = "mean"  # analog values; min and max are kept beside the mean
    LAST = "last"  # cumulative counters: last snapshot of the bin
    MAX = "max"  # alarms, flags, maxima: any activation counts
    MIN = "min"  # minima


class SystemKind(str, enum.Enum):
    METER = "meter"
    BESS = "bess"


@dataclass(frozen=True)
class SignalSpec:
    """What the platform knows about one signal name."""

    name: str  # canonical name, e.g. "com_ap" or "bms1_p1_v1"
    unit: str  # "kW", "kWh", "V", "A", "°C", "%", "bar", "" (dimensionless)
    aggregation: Aggregation
    description: str
    is_counter: bool = False  # cumulative energy counter: intervals are computed at query time
    is_alarm: bool = False
    cell_group: str | None = None  # "cell_v" or "cell_t" for per-cell signals
    pack: int | None = None  # 1-based
    cell: int | None = None  # 1-based within the pack


# Pyramid levels, finest first. "raw" keeps every cleaned sample.
LEVELS: tuple[str, ...] = ("raw", "5min", "15min", "1h", "1d")
LEVEL_SECONDS: dict[str, int] = {"raw": 0, "5min": 300, "15min": 900, "1h": 3600, "1d": 86400}

# Per-cell signals are stored as one long table per group and level, not one file per cell.
CELL_GROUPS: dict[str, tuple[str, str]] = {
    "cell_v": ("V", "Cell voltage"),
    "cell_t": ("°C", "Cell temperature sensor"),
}

PACKS_PER_BESS = 5
CELLS_PER_PACK = 52
LOCAL_TZ = "Europe/Berlin"

_KNOWN: dict[str, tuple[str, Aggregation, str]] = {
    # meters
    "com_ap": ("kW", Aggregation.MEAN, "Meter active power, positive = import"),
    "pf": ("", Aggregation.MEAN, "Meter power factor"),
    "pos_ae": ("kWh", Aggregation.LAST, "Meter import energy counter (cumulative)"),
    "neg_ae": ("kWh", Aggregation.LAST, "Meter export energy counter (cumulative)"),
    "com_ae": ("kWh", Aggregation.LAST, "Meter combined energy counter (cumulative)"),
    # BMS
    "bms1_soc": ("%", Aggregation.MEAN, "State of charge"),
    "bms1_soh": ("%", Aggregation.MEAN, "State of health"),
    "bms1_v": ("V", Aggregation.MEAN, "Battery DC voltage"),
    "bms1_c": ("A", Aggregation.MEAN, "Battery DC current, positive = discharge"),
    "bms1_cell_ave_v": ("V", Aggregation.MEAN, "Average cell voltage"),
    "bms1_cell_max_v": ("V", Aggregation.MAX, "Highest cell voltage"),
    "bms1_cell_min_v": ("V", Aggregation.MIN, "Lowest cell voltage"),
    "bms1_cell_ave_t": ("°C", Aggregation.MEAN, "Average cell temperature"),
    "bms1_cell_t_diff": ("°C", Aggregation.MAX, "Cell temperature spread"),
    # PCS
    "pcs1_ap": ("kW", Aggregation.MEAN, "Inverter (PCS) active power, positive = discharge"),
    "pcs1_dcc": ("A", Aggregation.MEAN, "PCS DC current"),
    "pcs1_dcv": ("V", Aggregation.MEAN, "PCS DC voltage"),
    "pcs1_ia": ("A", Aggregation.MEAN, "PCS phase A current"),
    "pcs1_ib": ("A", Aggregation.MEAN, "PCS phase B current"),
    "pcs1_ic": ("A", Aggregation.MEAN, "PCS phase C current"),
    "pcs1_uab": ("V", Aggregation.MEAN, "PCS line voltage A-B"),
    "pcs1_ubc": ("V", Aggregation.MEAN, "PCS line voltage B-C"),
    "pcs1_uca": ("V", Aggregation.MEAN, "PCS line voltage C-A"),
    "pcs1_t_env": ("°C", Aggregation.MEAN, "PCS environment temperature"),
    "pcs1_t_a": ("°C", Aggregation.MEAN, "PCS ambient temperature"),
    "pcs1_t_igbt": ("°C", Aggregation.MEAN, "PCS IGBT temperature"),
    # auxiliary consumption
    "aux_m_ap": ("kW", Aggregation.MEAN, "Auxiliary consumption power"),
    "aux_m_pf": ("", Aggregation.MEAN, "Auxiliary consumption power factor"),
    "aux_m_pos_ae": ("kWh", Aggregation.LAST, "Auxiliary import energy counter (cumulative)"),
    "aux_m_neg_ae": ("kWh", Aggregation.LAST, "Auxiliary export energy counter (cumulative)"),
    "aux_m_com_ae": ("kWh", Aggregation.LAST, "Auxiliary combined energy counter (cumulative)"),
    # HVAC and dehumidifier
    "ac1_outside_t": ("°C", Aggregation.MEAN, "HVAC outside temperature"),
    "ac1_outwater_t": ("°C", Aggregation.MEAN, "HVAC outlet water temperature"),
    "ac1_rtnwater_pre": ("bar", Aggregation.MEAN, "HVAC return water pressure"),
    "dh1_humi": ("%", Aggregation.MEAN, "Dehumidifier humidity"),
    "dh1_temp": ("°C", Aggregation.MEAN, "Dehumidifier temperature"),
}

_CELL_RE = re.compile(r"^bms1_p(?P<pack>\d+)_(?P<kind>[vt])(?P<cell>\d+)$")
_ALARM_RE = re.compile(r"(^fa)|flag|errcode|alarm")
# Meter exports may prefix the meter id: "m1_com_ap" -> "com_ap".
_METER_PREFIX_RE = re.compile(r"^m\d+_")
# Split exports: "bms1_soc_2024-05", "com_ap_part2", "com_ap_2024-05-01", "x_part_3".
_SPLIT_SUFFIX_RE = re.compile(r"(_(\d{4}-\d{2}(-\d{2})?|\d{6,8}|part_?\d+|p\d+of\d+))+$", re.IGNORECASE)


def signal_from_stem(stem: str, system_id: str) -> str:
    """Canonical signal name of a file stem: split suffixes and a meter-id prefix removed.

    >>> signal_from_stem("m1_com_ap_2024-05", "m1")
    'com_ap'
    """
    name = _SPLIT_SUFFIX_RE.sub("", stem.strip()).lower()
    sid = system_id.lower()
    if name.startswith(sid + "_") and name != sid:
        name = name[len(sid) + 1 :]
    elif _METER_PREFIX_RE.match(name) and name[_METER_PREFIX_RE.match(name).end() :] in _KNOWN:
        name = name[_METER_PREFIX_RE.match(name).end() :]
    return name


def spec_for(name: str) -> SignalSpec:
    """The SignalSpec for a canonical signal name; unknown names are kept as mean."""
    m = _CELL_RE.match(name)
    if m:
        group = "cell_v" if m["kind"] == "v" else "cell_t"
        unit, what = CELL_GROUPS[group]
        return SignalSpec(
            name=name,
            unit=unit,
            aggregation=Aggregation.MEAN,
            description=f"{what}, pack {int(m['pack'])} cell {int(m['cell'])}",
            cell_group=group,
            pack=int(m["pack"]),
            cell=int(m["cell"]),
        )
    if name in _KNOWN:
        unit, agg, desc = _KNOWN[name]
        return SignalSpec(name, unit, agg, desc, is_counter=agg is Aggregation.LAST)
    if _ALARM_RE.search(name):
        return SignalSpec(name, "", Aggregation.MAX, "Alarm or fault flag", is_alarm=True)
    return SignalSpec(name, "", Aggregation.MEAN, "Unknown signal, kept as is")


# The one numeric (pack, cell) key: above any Int16 cell number, so keys sort by (pack, cell).
CELL_KEY_BASE = 1_000_000


def cell_key(pack, cell):
    """Numeric key of a (pack, cell) pair; works on ints, NumPy arrays and Polars expressions (Int64)."""
    return pack * CELL_KEY_BASE + cell


def cell_label(pack: int, cell: int) -> str:
    """Row label of a cell in matrices: 'P1C1' .. 'P5C52'."""
    return f"P{pack}C{cell}"


def system_kind(system_id: str, under_bess_folder: bool) -> SystemKind:
    """A system is a BESS when it lies under a folder named BESS or its id starts with ZHPESS."""
    if under_bess_folder or system_id.upper().startswith("ZHPESS"):
        return SystemKind.BESS
    return SystemKind.METER
