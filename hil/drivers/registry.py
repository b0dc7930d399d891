"""Which driver provides which capability, by the name a rig file uses.

A plain dict per capability kind, filled by the `driver` decorator where each driver class is
defined. Rig files name drivers (`driver: mcp4728`); an unknown name gets a "did you mean".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hil.yamlfile import did_you_mean

#: Capability kinds in the order a rig opens them (I2C buses first: other drivers use them).
KINDS = ("i2c", "can", "current", "lines", "cells", "temperatures", "readback", "dut_power")

DRIVERS: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}

T = TypeVar("T", bound=type)


def driver(kind: str, name: str) -> Callable[[T], T]:
    """Register a class as the driver `name` for capability `kind`."""
    if kind not in DRIVERS:
        raise ValueError(f"unknown capability kind {kind!r}")

    def register(cls: T) -> T:
        if name in DRIVERS[kind]:
            raise ValueError(f"driver {name!r} for {kind} registered twice")
        DRIVERS[kind][name] = cls
        cls.driver_name = name  # type: ignore[attr-defined]
        return cls

    return register


def lookup(kind: str, name: str) -> type:
    """The driver class; KeyError with the known names and a suggestion otherwise."""
    load_all()
    known = DRIVERS[kind]
    if name not in known:
        hint = did_you_mean(name, known)
        raise KeyError(f"unknown {kind} driver {name!r}{hint}; known: {', '.join(sorted(known))}")
    return known[name]


def load_all() -> None:
    """Import every module that registers drivers (real ones and simulated twins)."""
    from hil.drivers import (  # noqa: F401
        can_bus,
        dac_cells,
        dut_power,
        gpio_lines,
        hall_current,
        i2c_buses,
        ivt_s,
        readback,
        rheostat_temperatures,
    )
    from hil.sim import bms_power, hub_endpoint  # noqa: F401
    from hil.sim.i2c import buses  # noqa: F401
