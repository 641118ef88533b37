"""Quality labels: thresholds at their boundaries, both languages, NaN, and sign of losses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.cells import (CycleLoss, Language, Linearity, LossRate, cycle_loss_label, grade_cycle_loss,
                        grade_linearity, grade_loss_rate, linearity_label, loss_rate_label)
from core.cells.labels import linearity_labels


@pytest.mark.parametrize("r2,grade", [
    (1.0, Linearity.VERY_LINEAR), (0.9500001, Linearity.VERY_LINEAR), (0.95, Linearity.LINEAR),
    (0.8000001, Linearity.LINEAR), (0.8, Linearity.MODERATE), (0.5000001, Linearity.MODERATE),
    (0.5, Linearity.NOT_LINEAR), (0.0, Linearity.NOT_LINEAR), (-0.3, Linearity.NOT_LINEAR),
    (math.nan, Linearity.UNKNOWN)])
def test_linearity_boundaries(r2, grade):
    assert grade_linearity(r2) is grade


@pytest.mark.parametrize("loss,grade", [
    (0.0, LossRate.LOW), (1.9999, LossRate.LOW), (2.0, LossRate.MODERATE), (4.9999, LossRate.MODERATE),
    (5.0, LossRate.HIGH), (9.9999, LossRate.HIGH), (10.0, LossRate.VERY_HIGH), (-10.0, LossRate.VERY_HIGH),
    (-1.0, LossRate.LOW), (math.nan, LossRate.UNKNOWN)])
def test_loss_rate_boundaries(loss, grade):
    assert grade_loss_rate(loss) is grade


@pytest.mark.parametrize("loss,grade", [
    (0.0, CycleLoss.VERY_GOOD), (0.0099999, CycleLoss.VERY_GOOD), (0.01, CycleLoss.GOOD),
    (0.0199999, CycleLoss.GOOD), (0.02, CycleLoss.FAIR), (0.0499999, CycleLoss.FAIR), (0.05, CycleLoss.POOR),
    (-0.06, CycleLoss.POOR), (math.nan, CycleLoss.UNKNOWN)])
def test_cycle_loss_boundaries(loss, grade):
    assert grade_cycle_loss(loss) is grade


def test_texts_in_both_languages():
    assert linearity_label(0.96) == "very linear" and linearity_label(0.96, Language.DE) == "sehr linear"
    assert linearity_label(0.6, Language.DE) == "mäßig linear" and linearity_label(0.1, "de") == "nicht linear"
    assert loss_rate_label(1.0) == "low" and loss_rate_label(1.0, Language.DE) == "niedrig"
    assert loss_rate_label(12.0, Language.DE) == "sehr hoch"
    assert cycle_loss_label(0.03) == "fair" and cycle_loss_label(0.03, Language.DE) == "befriedigend"
    assert cycle_loss_label(0.5, Language.DE) == "schlecht"
    assert linearity_labels(np.array([0.99, np.nan]), Language.DE) == ("sehr linear", "unbekannt")


def test_bad_input():
    with pytest.raises(ValueError, match="r2 must be a number"):
        grade_linearity("high")
    with pytest.raises(ValueError):
        linearity_label(0.9, "fr")
