"""Digital lines through MCP23017 GPIO expanders: relays the rig drives, BMS outputs it reads.

Outputs switch relays (ignition/wake, HV interlock loop, per-cell sense-wire open-wire relays,
thermistor open/short relays); inputs read the BMS's contactor coil drives and fault output.
All outputs of a chip change in one write of both latches; a shadow copy means the driver never
reads a port to modify it. GPA7/GPB7 are outputs only (datasheet Rev. D).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pydantic

from hil.capabilities import DigitalLines
from hil.drivers.chips.mcp23017 import Mcp23017, parse_pin
from hil.drivers.i2c_route import ChipLocation, I2cRoute
from hil.drivers.registry import driver
from hil.errors import DriverError
from hil.rig.config import DriverSection
from hil.rig.wiring import ChipWiring
from hil.yamlfile import StrictModel

if TYPE_CHECKING:
    from hil.rig.context import RigContext


class PinRef(StrictModel):
    chip: int = pydantic.Field(default=0, ge=0, description="index into chips")
    pin: str = pydantic.Field(description="A0..A7 or B0..B7")
    active_low: bool = False

    @pydantic.field_validator("pin")
    @classmethod
    def _pin(cls, pin: str) -> str:
        try:
            parse_pin(pin)
        except ValueError as err:
            raise ValueError(str(err)) from None
        return pin.upper()


class OutputLine(PinRef):
    safe: bool = pydantic.Field(default=False, description="level in the safe state")


class InputLine(PinRef):
    pullup: bool = False

    @pydantic.field_validator("pin")
    @classmethod
    def _not_bit7(cls, pin: str) -> str:
        if pin.upper().endswith("7"):
            raise ValueError(f"{pin} is output-only (MCP23017 datasheet Rev. D): reading it "
                             "can corrupt SDA; use another pin for inputs")
        return pin


class Mcp23017Section(DriverSection):
    chips: list[ChipLocation] = pydantic.Field(min_length=1)
    outputs: dict[str, OutputLine] = pydantic.Field(default_factory=dict)
    inputs: dict[str, InputLine] = pydantic.Field(default_factory=dict)

    @pydantic.model_validator(mode="after")
    def _pins_free(self) -> Mcp23017Section:
        used: dict[tuple[int, str], str] = {}
        for name, ref in [*self.outputs.items(), *self.inputs.items()]:
            if ref.chip >= len(self.chips):
                raise ValueError(f"{name}: chip {ref.chip} is not listed in chips")
            key = (ref.chip, ref.pin)
            if key in used:
                raise ValueError(f"{name} and {used[key]} both use chip {ref.chip} pin {ref.pin}")
            used[key] = name
        return self

    def locations(self) -> list[ChipLocation]:
        return list(self.chips)

    def sim_wiring(self, ctx: RigContext) -> list[ChipWiring]:
        out = [ChipWiring("mcp23017", loc) for loc in self.chips]
        for name, ref in self.outputs.items():
            out[ref.chip].connections[ref.pin] = ("output", name, ref.active_low)
        for name, ref in self.inputs.items():
            out[ref.chip].connections[ref.pin] = ("input", name, ref.active_low)
        return out


@driver("lines", "mcp23017")
class Mcp23017Lines(DigitalLines):
    Config = Mcp23017Section

    def __init__(self, config: Mcp23017Section, ctx: RigContext) -> None:
        super().__init__({n: o.safe for n, o in config.outputs.items()}, config.inputs)
        self.config = config
        self._routes: dict[int, I2cRoute] = {}
        self._chips: list[Mcp23017] = []
        for index, loc in enumerate(config.chips):
            route = self._routes.setdefault(loc.bus, ctx.i2c_route(loc.bus))
            chip = Mcp23017(ctx.i2c_bus(loc.bus), loc.address)
            self._chips.append(chip)
            outputs = [0x80, 0x80]  # GPx7 are output-only: unused ones drive low
            levels = [0, 0]
            pullups = [0, 0]
            for ref in config.outputs.values():
                if ref.chip == index:
                    port, bit = parse_pin(ref.pin)
                    outputs[port] |= 1 << bit
                    if ref.safe != ref.active_low:
                        levels[port] |= 1 << bit
            for ref in config.inputs.values():
                if ref.chip == index and ref.pullup:
                    port, bit = parse_pin(ref.pin)
                    pullups[port] |= 1 << bit
            try:
                route.to(loc)
                chip.write_outputs(levels[0], levels[1])  # latches safe before pins drive
                chip.configure((outputs[0], outputs[1]), (pullups[0], pullups[1]))
            except OSError as err:
                raise DriverError(f"lines: MCP23017 at {loc} does not answer: {err}") from err

    @classmethod
    def open(cls, config: Mcp23017Section, ctx: RigContext) -> Mcp23017Lines:
        return cls(config, ctx)

    def probe(self) -> list[str]:
        """Expanders that do not answer (for `hil rig check`)."""
        missing = []
        for loc, chip in zip(self.config.chips, self._chips, strict=True):
            try:
                self._routes[loc.bus].to(loc)
                chip.read_inputs()
            except OSError:
                self._routes[loc.bus].forget()
                missing.append(f"MCP23017 at {loc}")
        return missing

    def _write(self, name: str, level: bool) -> None:
        ref = self.config.outputs[name]
        loc = self.config.chips[ref.chip]
        try:
            self._routes[loc.bus].to(loc)
            self._chips[ref.chip].set_pin(ref.pin, level != ref.active_low)
        except OSError as err:
            self._routes[loc.bus].forget()
            raise DriverError(f"lines: writing {name} failed: {err}") from err

    def _read(self, name: str) -> bool:
        ref: OutputLine | InputLine
        if name in self.config.outputs:
            ref = self.config.outputs[name]
            port, bit = parse_pin(ref.pin)
            return bool(self._chips[ref.chip].outputs[port] >> bit & 1) != ref.active_low
        ref = self.config.inputs[name]
        loc = self.config.chips[ref.chip]
        try:
            self._routes[loc.bus].to(loc)
            return self._chips[ref.chip].read_pin(ref.pin) != ref.active_low
        except OSError as err:
            self._routes[loc.bus].forget()
            raise DriverError(f"lines: reading {name} failed: {err}") from err
