"""Where the real SAT reference series are: ``../shared/reference`` beside the repository (where CI
puts it), or $BESS_REFERENCE. Missing, the tests that use it fail at collection, by name, instead of
parametrizing over no files and passing with nothing checked."""

from __future__ import annotations

import os
from pathlib import Path

REFERENCE = Path(os.environ.get("BESS_REFERENCE") or Path(__file__).resolve().parents[2] / "shared" / "reference")

if not any(REFERENCE.glob("*.csv")):
    raise FileNotFoundError(f"no reference series (*.csv) in {REFERENCE}: put ../shared beside the repository "
                            "or set BESS_REFERENCE")
