"""The few physical units a BMS protocol uses, and how to turn them into SI.

DBC files say "mV", "degC" or "%"; suites speak volts, degrees Celsius and percent. A role in a
DUT profile names the unit it wants; the factor comes from here, so a foxBMS cell voltage in mV
and ours in V both reach a check as volts.
"""

from __future__ import annotations

# unit -> (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "V": ("voltage", 1.0), "mV": ("voltage", 1e-3), "kV": ("voltage", 1e3),
    "A": ("current", 1.0), "mA": ("current", 1e-3), "kA": ("current", 1e3),
    "degC": ("temperature", 1.0), "°C": ("temperature", 1.0), "C": ("temperature", 1.0),
    "%": ("ratio", 1.0),
    "s": ("time", 1.0), "ms": ("time", 1e-3),
    "W": ("power", 1.0), "kW": ("power", 1e3),
    "Wh": ("energy", 1.0), "kWh": ("energy", 1e3),
    "As": ("charge", 1.0), "Ah": ("charge", 3600.0), "mAh": ("charge", 3.6),
    "Ohm": ("resistance", 1.0), "kOhm": ("resistance", 1e3),
    "": ("none", 1.0),
}

KNOWN_UNITS = tuple(u for u in _UNITS if u)


def is_known(unit: str) -> bool:
    return unit in _UNITS


def factor(from_unit: str | None, to_unit: str | None) -> float:
    """Multiply a value in `from_unit` by this to get `to_unit`; ValueError if incompatible."""
    src = from_unit or ""
    dst = to_unit or ""
    if src == dst:
        return 1.0
    if src not in _UNITS:
        raise ValueError(f"unknown unit {src!r}")
    if dst not in _UNITS:
        raise ValueError(f"unknown unit {dst!r} (known: {', '.join(KNOWN_UNITS)})")
    (dim_a, fa), (dim_b, fb) = _UNITS[src], _UNITS[dst]
    if dim_a != dim_b:
        raise ValueError(f"cannot convert {src or 'no unit'!r} to {dst or 'no unit'!r}")
    return fa / fb
