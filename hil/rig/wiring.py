"""How a rig's chips are wired to the pack: the same description drives hardware and simulation.

Each I2C capability section of a rig file says which chip drives which cell, thermistor or
relay. The real driver uses it to address chips; the simulated I2C builder uses it to connect
chip models to the analog harness, so the simulated rig is wired exactly as the file says.

Connection kinds (what a chip channel or pin is wired to):
  ("cell", i, gain)          DAC output x gain (the HAT's buffer amplifier) is cell i's voltage
  ("ntc", j)                 rheostat resistance is (part of, in series) thermistor input j
  ("line_to_bms", name)      GPIO output drives a relay on a BMS input line
  ("sense_open", i)          GPIO output opens cell i's sense wire (open-wire fault relay)
  ("line_from_bms", name)    GPIO input reads a BMS output (contactor coil, fault output)
  ("readback_cell", i, k)    ADC input sees cell i's voltage x k (divider)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hil.drivers.i2c_route import ChipLocation

Connection = tuple[Any, ...]


@dataclass(frozen=True)
class ChipWiring:
    chip: str                         # "mcp4728", "ad5675r", "ad5272", "mcp4661", ...
    location: ChipLocation
    connections: dict[int | str, Connection] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
