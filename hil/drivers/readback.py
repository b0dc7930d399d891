"""Read-back of emulated cell voltages with ADS1115 ADCs, for `hil rig check` and calibration.

Each cell output reaches an ADC input through a divider (`divider`: AIN volts per cell volt),
so a 5 V cell stays inside the ADC's range. The ADS1115 is a sanity check (0.15 % gain error
uncalibrated), not a reference for sub-millivolt claims: calibrate against a multimeter for
that (hardware-reference section 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydantic

from hil.capabilities import VoltageReadback
from hil.drivers.chips.ads1115 import DR_CODES, PGA_CODES, Ads1115
from hil.drivers.i2c_route import ChipLocation, I2cRoute
from hil.drivers.registry import driver
from hil.errors import DriverError
from hil.rig.config import DriverSection
from hil.rig.wiring import ChipWiring
from hil.yamlfile import StrictModel

if TYPE_CHECKING:
    from hil.rig.context import RigContext


class AinRef(StrictModel):
    chip: int = pydantic.Field(ge=0)
    ain: int = pydantic.Field(ge=0, le=3)


class Ads1115Section(DriverSection):
    chips: list[ChipLocation] = pydantic.Field(min_length=1)
    cells: dict[int, AinRef] | None = pydantic.Field(
        default=None, description="cell -> chip and input; default: cells in order, 4 per chip")
    divider: float = pydantic.Field(default=0.5, gt=0, le=1,
                                    description="ADC input volts per cell volt")
    fsr_volts: float = 4.096
    data_rate: int = 860
    tolerance_volts: float = pydantic.Field(
        default=0.010, gt=0, description="largest set-vs-read error `hil rig check` accepts")

    @pydantic.field_validator("fsr_volts")
    @classmethod
    def _fsr(cls, value: float) -> float:
        if value not in PGA_CODES:
            raise ValueError(f"fsr_volts must be one of {', '.join(map(str, PGA_CODES))}")
        return value

    @pydantic.field_validator("data_rate")
    @classmethod
    def _rate(cls, value: int) -> int:
        if value not in DR_CODES:
            raise ValueError(f"data_rate must be one of {', '.join(map(str, DR_CODES))}")
        return value

    @pydantic.model_validator(mode="after")
    def _inputs_exist(self) -> Ads1115Section:
        for cell, ref in (self.cells or {}).items():
            if ref.chip >= len(self.chips):
                raise ValueError(f"cells: cell {cell} reads chip {ref.chip}, but chips are "
                                 f"numbered 0..{len(self.chips) - 1}")
        return self

    def cell_inputs(self) -> dict[int, tuple[int, int]]:
        if self.cells is not None:
            return {cell: (ref.chip, ref.ain) for cell, ref in self.cells.items()}
        return {i + 1: divmod(i, 4) for i in range(4 * len(self.chips))}

    def locations(self) -> list[ChipLocation]:
        return list(self.chips)

    def sim_wiring(self, ctx: RigContext) -> list[ChipWiring]:
        out = [ChipWiring("ads1115", loc) for loc in self.chips]
        for cell, (chip, ain) in self.cell_inputs().items():
            if chip < len(out):
                out[chip].connections[ain] = ("readback_cell", cell, self.divider)
        return out


@driver("readback", "ads1115")
class Ads1115Readback(VoltageReadback):
    Config = Ads1115Section

    def __init__(self, config: Ads1115Section, ctx: RigContext) -> None:
        cells = {c: ref for c, ref in config.cell_inputs().items() if c <= ctx.cell_count}
        super().__init__(cells)
        self.config = config
        self.tolerance_volts = config.tolerance_volts
        self._inputs = cells
        self._routes: dict[int, I2cRoute] = {}
        self._chips = []
        for loc in config.chips:
            self._routes.setdefault(loc.bus, ctx.i2c_route(loc.bus))
            self._chips.append(Ads1115(ctx.i2c_bus(loc.bus), loc.address))

    @classmethod
    def open(cls, config: Ads1115Section, ctx: RigContext) -> Ads1115Readback:
        return cls(config, ctx)

    def _read_cell(self, index: int) -> float:
        chip, ain = self._inputs[index]
        loc = self.config.chips[chip]
        try:
            self._routes[loc.bus].to(loc)
            volts = self._chips[chip].read_volts(ain, self.config.fsr_volts,
                                                 self.config.data_rate)
        except OSError as err:
            self._routes[loc.bus].forget()
            raise DriverError(f"readback: ADS1115 at {loc} failed: {err}") from err
        return volts / self.config.divider

    def probe(self) -> list[str]:
        missing = []
        for loc, chip in zip(self.config.chips, self._chips, strict=True):
            try:
                self._routes[loc.bus].to(loc)
                chip.read_code(0, self.config.fsr_volts, self.config.data_rate)
            except (OSError, DriverError):
                missing.append(f"ADS1115 at {loc}")
        return missing
