"""Numbers as text in the page's language: 1,234.5 in English, 1.234,5 in German; units scaled."""

from __future__ import annotations

import math

# Units that scale by 1000 per step, and their larger siblings.
_LADDERS = {
    "W": ("W", "kW", "MW", "GW"), "kW": ("kW", "MW", "GW"), "Wh": ("Wh", "kWh", "MWh", "GWh"),
    "kWh": ("kWh", "MWh", "GWh"), "kvar": ("kvar", "Mvar"), "kVA": ("kVA", "MVA"),
}
# Decimal mark and thousands separator per language.
_MARKS = {"en": (".", ","), "de": (",", ".")}
MISSING = "–"


def scale_unit(value: float, unit: str) -> tuple[float, str]:
    """Move a value up its unit ladder while it is 1000 or more (1,500 kW -> 1.5 MW)."""
    ladder = _LADDERS.get(unit)
    if ladder is None or value is None or not math.isfinite(value):
        return value, unit
    i = ladder.index(unit)
    while abs(value) >= 1000 and i + 1 < len(ladder):
        value, i = value / 1000.0, i + 1
    return value, ladder[i]


def significant_decimals(value: float, digits: int = 3) -> int:
    """Decimals that show ``digits`` significant digits of ``value`` (never an exponent)."""
    if value == 0 or not math.isfinite(value):
        return 0
    return max(0, digits - 1 - math.floor(math.log10(abs(value))))


def format_number(value: float | None, lang: str, *, decimals: int | None = None, digits: int = 3) -> str:
    """``value`` with fixed ``decimals`` (or ``digits`` significant digits), grouped, in ``lang``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    v = float(value)
    d = significant_decimals(v, digits) if decimals is None else decimals
    text = f"{v:,.{d}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")  # -0.0 reads as 0.0
    point, group = _MARKS.get(lang, _MARKS["en"])
    return text.translate(str.maketrans({".": point, ",": group}))


def format_quantity(value: float | None, unit: str, lang: str, *, decimals: int | None = None,
                    digits: int = 3) -> str:
    """A value with its unit (scaled up the unit's ladder first), e.g. '1,25 MWh' in German."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    v, u = scale_unit(float(value), unit)
    if u != unit:
        decimals = None  # a scaled value keeps its significant digits, not the unit's decimals
    return f"{format_number(v, lang, decimals=decimals, digits=digits)} {u}".strip()


def tabulator_number(lang: str, decimals: int) -> dict:
    """A Tabulator column formatter showing numbers in ``lang`` (the column still sorts as numbers)."""
    point, group = _MARKS.get(lang, _MARKS["en"])
    return {"type": "money", "decimal": point, "thousand": group, "precision": decimals}
