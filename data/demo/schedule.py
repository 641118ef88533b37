"""Seeded daily operating plan of one BESS: full, partial and idle days, one or two cycles a day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY_FULL, DAY_PARTIAL, DAY_IDLE = 0, 1, 2
# Shares of day types; the real reference loses ~2-3 % of days below 3.40 V, real fleets also idle.
P_DAY_TYPE = (0.74, 0.16, 0.10)
P_SECOND_CYCLE = 0.35
# Partial charges stay on the plateau: target <= 80 % SOC at <= 55 kW keeps every cell below
# 3.35 V (OCV(0.80) = 3.320 V plus at most ~25 mV of I*R), so they can never pass for a SAT day.
PARTIAL_TARGET = (0.50, 0.80)
PARTIAL_POWER_KW = (30.0, 55.0)
N_SLOTS = 4


@dataclass(frozen=True)
class DayPlan:
    """Per local day and slot (night charge, morning discharge, midday charge, evening discharge)."""

    day_type: np.ndarray  # (days,) DAY_FULL / DAY_PARTIAL / DAY_IDLE
    start_min: np.ndarray  # (days, 4) local minute of day, window start (inclusive)
    end_min: np.ndarray  # (days, 4) window end (exclusive)
    mode: np.ndarray  # (days, 4) +1 charge, -1 discharge, 0 unused
    power_kw: np.ndarray  # (days, 4) requested |power|
    target: np.ndarray  # (days, 4) SOC target [0..1] of the slot


def plan_days(rng: np.random.Generator, days: int, *, forced_full: np.ndarray) -> DayPlan:
    """Draw a plan; days in `forced_full` (bool per day) are full-charge days whatever the draw."""
    day_type = rng.choice(3, size=days, p=P_DAY_TYPE)
    day_type[forced_full] = DAY_FULL
    second = rng.random(days) < P_SECOND_CYCLE
    start = np.zeros((days, N_SLOTS), np.int64)
    end = np.zeros((days, N_SLOTS), np.int64)
    mode = np.zeros((days, N_SLOTS), np.int8)
    power = np.zeros((days, N_SLOTS))
    target = np.zeros((days, N_SLOTS))

    # slot 0: night charge from 01:00-03:00 (cheap energy) until 07:30
    start[:, 0] = 60 + 15 * rng.integers(0, 9, days)
    end[:, 0] = 450
    mode[:, 0] = 1
    full = day_type == DAY_FULL
    power[:, 0] = np.where(full, rng.uniform(60.0, 95.0, days), rng.uniform(*PARTIAL_POWER_KW, days))
    target[:, 0] = np.where(full, 1.0, rng.uniform(*PARTIAL_TARGET, days))
    # slots 1, 2: optional morning peak shaving and a partial midday (PV) recharge
    start[:, 1], end[:, 1], mode[:, 1] = 450, 630, -1
    power[:, 1] = rng.uniform(50.0, 90.0, days)
    target[:, 1] = rng.uniform(0.35, 0.55, days)
    start[:, 2], end[:, 2], mode[:, 2] = 660, 900, 1
    power[:, 2] = rng.uniform(*PARTIAL_POWER_KW, days)
    target[:, 2] = rng.uniform(0.60, PARTIAL_TARGET[1], days)
    # slot 3: evening discharge from 17:00-18:30 down to 5-15 %
    start[:, 3] = 1020 + 15 * rng.integers(0, 7, days)
    end[:, 3] = 1380
    mode[:, 3] = -1
    power[:, 3] = rng.uniform(55.0, 100.0, days)
    target[:, 3] = rng.uniform(0.05, 0.15, days)

    idle = day_type == DAY_IDLE
    mode[idle, :] = 0
    mode[~second, 1] = 0
    mode[~second, 2] = 0
    return DayPlan(day_type, start, end, mode, power, target)


def steps_from_plan(plan: DayPlan, day_index: np.ndarray, minute_of_day: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-step (mode, requested power, SOC target) for a step grid given its local calendar."""
    n = day_index.size
    mode = np.zeros(n, np.int8)
    power = np.zeros(n)
    target = np.full(n, 0.5)
    for slot in range(N_SLOTS):
        inside = (minute_of_day >= plan.start_min[day_index, slot]) & (minute_of_day < plan.end_min[day_index, slot])
        active = inside & (plan.mode[day_index, slot] != 0)
        mode[active] = plan.mode[day_index[active], slot]
        power[active] = plan.power_kw[day_index[active], slot]
        target[active] = plan.target[day_index[active], slot]
    return mode, power, target
