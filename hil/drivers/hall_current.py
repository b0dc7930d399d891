"""Pack current as an analog Hall sensor: one DAC channel makes the sensor's output voltage.

Hall current sensors (LEM-style) output `offset + sensitivity x current`, e.g. 2.5 V + 4 mV/A.
The rig emulates one with an MCP4728 channel; the BMS reads it with its own ADC. The chip must
not be one of the cells' DACs: a cell update rewrites all four channels of its chips.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydantic

from hil.capabilities import CurrentSource, Range
from hil.drivers.chips import mcp4728
from hil.drivers.i2c_route import ChipLocation, I2cRoute
from hil.drivers.registry import driver
from hil.errors import DriverError, LimitError
from hil.rig.config import DriverSection
from hil.rig.wiring import ChipWiring

if TYPE_CHECKING:
    from hil.rig.context import RigContext

LSB_VOLTS = 2 * 2.048 / 4096  # internal reference, gain x2


class HallSection(DriverSection):
    chip: ChipLocation
    channel: int = pydantic.Field(default=0, ge=0, le=3)
    offset_volts: float = pydantic.Field(default=2.5, description="output at 0 A")
    volts_per_amp: float = pydantic.Field(default=0.004, description="sensitivity, V/A")

    def volts(self, amps: float) -> float:
        return self.offset_volts + self.volts_per_amp * amps

    def locations(self) -> list[ChipLocation]:
        return [self.chip]

    def sim_wiring(self, ctx: RigContext) -> list[ChipWiring]:
        safe = ctx.config.file.safe_state.current_amps
        return [ChipWiring("mcp4728", self.chip, {self.channel: ("hall",)},
                           {"vref_internal": True,
                            "power_on_codes": {self.channel: round(self.volts(safe) / LSB_VOLTS)}
                            })]


@driver("current", "dac-hall")
class HallCurrentSource(CurrentSource):
    """Current -> Hall output volts -> one MCP4728 channel (updated at once, UDAC=0)."""

    Config = HallSection

    def __init__(self, config: HallSection, ctx: RigContext, limits: Range, safe: float) -> None:
        super().__init__(limits, safe)
        self.config = config
        self.route: I2cRoute = ctx.i2c_route(config.chip.bus)
        self.dac = mcp4728.Mcp4728(ctx.i2c_bus(config.chip.bus), config.chip.address)
        for amps in (limits.low, limits.high):  # the whole current range must be reachable
            try:
                self._code(amps)
            except LimitError as err:
                raise ctx.config.error(f"{err} (rig limit {amps:g} A)", "current",
                                       "volts_per_amp") from None

    @classmethod
    def open(cls, config: HallSection, ctx: RigContext) -> HallCurrentSource:
        return cls(config, ctx, ctx.ranges["current_amps"],
                   ctx.config.file.safe_state.current_amps)

    def _code(self, amps: float) -> int:
        code = round(self.config.volts(amps) / LSB_VOLTS)
        if not 0 <= code <= mcp4728.CODE_MAX:
            raise LimitError(f"current {amps:g} A needs {self.config.volts(amps):.3f} V from the "
                             f"Hall output, outside the DAC's 0..{LSB_VOLTS * 4095:.3f} V")
        return code

    def _write(self, amps: float) -> None:
        try:
            self.route.to(self.config.chip)
            self.dac.multi_write(self.config.channel, self._code(amps), vref_internal=True,
                                 gain2=True, udac=False)
        except OSError as err:
            self.route.forget()
            raise DriverError(f"current: Hall DAC at {self.config.chip} failed: {err}") from err
