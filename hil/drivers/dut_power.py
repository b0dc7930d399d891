"""The DUT's supply on a real rig: switched by a relay on a digital line, or not at all.

`line`: a relay output powers the BMS; a power cycle switches it off, waits, switches it on.
`manual`: the rig cannot switch the BMS (bench supply); tests start from a fault reset instead
(set `dut.reset_between_tests: fault_reset`).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import pydantic

from hil.capabilities import DigitalLines, DutPower
from hil.drivers.registry import driver
from hil.rig.config import DriverSection

if TYPE_CHECKING:
    from hil.rig.context import RigContext

log = logging.getLogger(__name__)


class ManualSection(DriverSection):
    pass


@driver("dut_power", "manual")
class ManualPower(DutPower):
    """A BMS on a supply the rig does not control: always considered on."""

    Config = ManualSection

    @classmethod
    def open(cls, config: ManualSection, ctx: RigContext) -> ManualPower:
        return cls()

    def power_on(self) -> None:
        pass

    def power_off(self) -> None:
        log.warning("dut_power is manual: the rig cannot switch the BMS off")

    def is_on(self) -> bool:
        return True


class LineSection(DriverSection):
    line: str = pydantic.Field(description="digital output that switches the BMS supply relay")
    off_seconds: float = pydantic.Field(default=1.0, ge=0, description="time off in a cycle")


@driver("dut_power", "line")
class RelayPower(DutPower):
    """The BMS supply through a relay on one of the rig's digital outputs."""

    Config = LineSection

    def __init__(self, lines: DigitalLines, line: str, off_seconds: float) -> None:
        super().__init__()
        self.lines = lines
        self.line = line
        self.off_seconds = off_seconds
        self._on = False

    @classmethod
    def open(cls, config: LineSection, ctx: RigContext) -> RelayPower:
        lines = ctx.shared.get("lines")
        if lines is None or config.line not in lines.outputs:
            raise ctx.config.error(f"{config.line!r} is not an output of the rig's lines",
                                   "dut_power", "line")
        return cls(lines, config.line, config.off_seconds)

    def power_on(self) -> None:
        self.lines.set(self.line, True)
        self._on = True

    def power_off(self) -> None:
        self.lines.set(self.line, False)
        self._on = False
        time.sleep(self.off_seconds)

    def is_on(self) -> bool:
        return self._on
