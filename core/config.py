"""Settings read from the environment: configured nameplate energy and cycle capacity per BESS."""

from __future__ import annotations

import os

from core.errors import BadInputError

NAMEPLATE_ENV = "BESS_NAMEPLATE_KWH"
CAPACITY_AH_ENV = "BESS_CAPACITY_AH"


def configured(env: str, unit: str) -> dict[str, float]:
    """Per-system values of a setting 'ID=value,...' (or one number for all, key '*')."""
    raw = os.environ.get(env, "").strip()
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, _, val = part.rpartition("=")
        try:
            out[key.strip() or "*"] = float(val)
        except ValueError:
            raise BadInputError(f"{env}: {part!r} is not 'ID={unit}' or a number") from None
        if not out[key.strip() or "*"] > 0:
            raise BadInputError(f"{env}: {part!r} must be a positive number of {unit}")
    return out


def configured_nameplates() -> dict[str, float]:
    """$BESS_NAMEPLATE_KWH as 'ID=kWh,...' (or one number for every BESS, key '*')."""
    return configured(NAMEPLATE_ENV, "kWh")
