"""Quality labels of fits in English and German: linearity (R²), loss per year, loss per cycle.

Grades (a value exactly on a boundary falls into the worse grade; NaN is "unknown"):

- linearity: R² > 0.95 very linear, > 0.8 linear, > 0.5 moderately linear, else not linear;
- loss per year: |loss| < 2 % low, < 5 % moderate, < 10 % high, else very high;
- loss per cycle: |loss| < 0.01 % very good, < 0.02 % good, < 0.05 % fair, else poor.

Losses are graded on their magnitude: a SAT that rises is as much a drift as one that falls
(an LFP cell that loses capacity reaches the top knee first and its SAT rises), and a rising
cell must not read as "very good".
"""

from __future__ import annotations

import enum
import math

import numpy as np


class Language(str, enum.Enum):
    EN = "en"
    DE = "de"


class Linearity(enum.Enum):
    VERY_LINEAR = "very_linear"
    LINEAR = "linear"
    MODERATE = "moderately_linear"
    NOT_LINEAR = "not_linear"
    UNKNOWN = "unknown"


class LossRate(enum.Enum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    VERY_HIGH = "very_high"
    UNKNOWN = "unknown"


class CycleLoss(enum.Enum):
    VERY_GOOD = "very_good"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    UNKNOWN = "unknown"


# Lower bounds (exclusive) for R², upper bounds (exclusive) for the losses.
R2_BOUNDS = (0.95, 0.8, 0.5)
LOSS_PCT_PER_YEAR_BOUNDS = (2.0, 5.0, 10.0)
LOSS_PCT_PER_EFC_BOUNDS = (0.01, 0.02, 0.05)

# plain Enum (not str/int): members of different grades never compare equal, so they can share one table
_TEXT: dict[enum.Enum, tuple[str, str]] = {
    Linearity.VERY_LINEAR: ("very linear", "sehr linear"),
    Linearity.LINEAR: ("linear", "linear"),
    Linearity.MODERATE: ("moderately linear", "mäßig linear"),
    Linearity.NOT_LINEAR: ("not linear", "nicht linear"),
    Linearity.UNKNOWN: ("unknown", "unbekannt"),
    LossRate.LOW: ("low", "niedrig"),
    LossRate.MODERATE: ("moderate", "mäßig"),
    LossRate.HIGH: ("high", "hoch"),
    LossRate.VERY_HIGH: ("very high", "sehr hoch"),
    LossRate.UNKNOWN: ("unknown", "unbekannt"),
    CycleLoss.VERY_GOOD: ("very good", "sehr gut"),
    CycleLoss.GOOD: ("good", "gut"),
    CycleLoss.FAIR: ("fair", "befriedigend"),
    CycleLoss.POOR: ("poor", "schlecht"),
    CycleLoss.UNKNOWN: ("unknown", "unbekannt"),
}


def _number(value: float, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    return v


def grade_linearity(r2: float) -> Linearity:
    """Linearity grade of a fit's R² (NaN -> UNKNOWN)."""
    v = _number(r2, "r2")
    if math.isnan(v):
        return Linearity.UNKNOWN
    for grade, bound in zip((Linearity.VERY_LINEAR, Linearity.LINEAR, Linearity.MODERATE), R2_BOUNDS):
        if v > bound:
            return grade
    return Linearity.NOT_LINEAR


def grade_loss_rate(loss_pct_per_year: float) -> LossRate:
    """Grade of a yearly SAT loss, on its magnitude (NaN -> UNKNOWN)."""
    v = abs(_number(loss_pct_per_year, "loss_pct_per_year"))
    if math.isnan(v):
        return LossRate.UNKNOWN
    for grade, bound in zip((LossRate.LOW, LossRate.MODERATE, LossRate.HIGH), LOSS_PCT_PER_YEAR_BOUNDS):
        if v < bound:
            return grade
    return LossRate.VERY_HIGH


def grade_cycle_loss(loss_pct_per_efc: float) -> CycleLoss:
    """Grade of the SAT loss per equivalent full cycle, on its magnitude (NaN -> UNKNOWN)."""
    v = abs(_number(loss_pct_per_efc, "loss_pct_per_efc"))
    if math.isnan(v):
        return CycleLoss.UNKNOWN
    for grade, bound in zip((CycleLoss.VERY_GOOD, CycleLoss.GOOD, CycleLoss.FAIR), LOSS_PCT_PER_EFC_BOUNDS):
        if v < bound:
            return grade
    return CycleLoss.POOR


def text(grade: Linearity | LossRate | CycleLoss, language: Language = Language.EN) -> str:
    """The label of a grade in a language."""
    language = Language(language)
    return _TEXT[grade][0 if language is Language.EN else 1]


def linearity_label(r2: float, language: Language = Language.EN) -> str:
    return text(grade_linearity(r2), language)


def loss_rate_label(loss_pct_per_year: float, language: Language = Language.EN) -> str:
    return text(grade_loss_rate(loss_pct_per_year), language)


def cycle_loss_label(loss_pct_per_efc: float, language: Language = Language.EN) -> str:
    return text(grade_cycle_loss(loss_pct_per_efc), language)


def linearity_labels(r2: np.ndarray, language: Language = Language.EN) -> tuple[str, ...]:
    """Labels for an array of R² (one per cell)."""
    return tuple(linearity_label(v, language) for v in np.asarray(r2, dtype=np.float64).ravel())


def loss_rate_labels(loss_pct_per_year: np.ndarray, language: Language = Language.EN) -> tuple[str, ...]:
    return tuple(loss_rate_label(v, language) for v in np.asarray(loss_pct_per_year, dtype=np.float64).ravel())


def cycle_loss_labels(loss_pct_per_efc: np.ndarray, language: Language = Language.EN) -> tuple[str, ...]:
    return tuple(cycle_loss_label(v, language) for v in np.asarray(loss_pct_per_efc, dtype=np.float64).ravel())
