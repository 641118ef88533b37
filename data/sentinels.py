"""Sensor sentinel values ("no reading" codes of 16/32-bit registers), chosen per signal unit.

A register that has no reading reports its type's extreme value; after the device's
decimal scaling the same code shows up as e.g. 6553.5 or 65.535. Which scalings are
treated as sentinels depends on the unit, because a value that is impossible for one
signal can be a real reading of another:

* raw codes: 65535 (uint16 max), 32767 / -32768 (int16 max/min),
  4294967295 (uint32 max), 2147483647 / -2147483648 (int32 max/min);
* every signal except energy counters: the 16- and 32-bit codes at scales 1, 1/10
  and 1/100 (6553.5, 655.35, 3276.7, -3276.8, 327.67, -327.68 ...);
* cell voltages [V], dimensionless values (power factor, flags) and pressures [bar]
  also at 1/1000 (65.535, 32.767, -32.768): a cell never shows 65 V;
* energy counters [kWh] only the 32-bit codes (at 1 .. 1/1000): 65535 kWh is an
  ordinary meter reading, and a real counter passes through 6553.5 on its way up.

Comparison is exact: a decimal string and the literal code/10**k parse to the same double.
"""

from __future__ import annotations

from data.glossary import SignalSpec

CODES_16 = (65535, 32767, -32768)
CODES_32 = (4294967295, 2147483647, -2147483648)
_FINE_UNITS = {"", "bar"}  # units whose registers commonly carry 3 decimals


def sentinels_for(spec: SignalSpec) -> tuple[float, ...]:
    """All values of this signal that mean "no reading"."""
    if spec.is_counter:
        codes, scales = CODES_32, (1, 10, 100, 1000)
    elif spec.cell_group == "cell_v" or spec.unit in _FINE_UNITS:
        codes, scales = CODES_16 + CODES_32, (1, 10, 100, 1000)
    else:
        codes, scales = CODES_16 + CODES_32, (1, 10, 100)
    return tuple(sorted({c / s for c in codes for s in scales}))
