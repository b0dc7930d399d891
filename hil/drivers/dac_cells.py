"""Cell voltages from I2C DACs: MCP4728 (quad 12-bit) or AD5675R (octal 16-bit).

Each DAC channel feeds one cell's output stage (a buffer amplifier with `output_gain`, floating
on its own isolated supply on a real HAT). A pack update writes every affected chip with its
most efficient command and makes all outputs change together:

- MCP4728: LDAC tied high, one Fast Write per chip (9 bytes), then one general-call software
  update with every used switch channel connected: the minimum the command formats allow.
- AD5675R: one input-register word per channel, then an LDAC pulse on a digital line
  (`update: ldac_line`), or write-and-update per channel (`update: immediate`, not simultaneous).

Values are checked against the rig's limits by the base class first; the code chosen for a value
is then moved one step inward if rounding would put the output past a limit, so no byte written
can drive an output outside the limits.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import pydantic

from hil.calibration import Calibration, load_calibration
from hil.capabilities import CellVoltageSource, DigitalLines, Range
from hil.drivers.chips import ad5675r, mcp4728
from hil.drivers.i2c_route import ChipLocation, I2cRoute
from hil.drivers.registry import driver
from hil.errors import DriverError, LimitError
from hil.i2c.smbus import SMBusLike
from hil.rig.sections import CellsSection
from hil.rig.wiring import ChipWiring
from hil.yamlfile import StrictModel

if TYPE_CHECKING:
    from hil.rig.context import RigContext


class ChannelRef(StrictModel):
    chip: int = pydantic.Field(ge=0, description="index into chips")
    channel: int = pydantic.Field(ge=0, le=7)


class DacCellsSection(CellsSection):
    chips: list[ChipLocation] = pydantic.Field(min_length=1)
    channels: list[ChannelRef] | None = pydantic.Field(
        default=None, description="cell i -> chip and channel; default: in order")
    output_gain: float = pydantic.Field(
        default=1.0, gt=0, description="HAT output stage: cell volts = DAC volts x gain")
    calibration: str | None = pydantic.Field(
        default=None, description="calibration file, relative to the rig file")

    channels_per_chip: ClassVar[int] = 4

    @pydantic.model_validator(mode="after")
    def _enough_channels(self) -> DacCellsSection:
        if self.channels is not None:
            if len(self.channels) != self.count:
                raise ValueError(f"channels lists {len(self.channels)} cells, count is "
                                 f"{self.count}")
            seen = set()
            for ref in self.channels:
                if ref.chip >= len(self.chips) or ref.channel >= self.channels_per_chip:
                    raise ValueError(f"chip {ref.chip} channel {ref.channel} does not exist")
                if (ref.chip, ref.channel) in seen:
                    raise ValueError(f"chip {ref.chip} channel {ref.channel} drives two cells")
                seen.add((ref.chip, ref.channel))
        elif len(self.chips) * self.channels_per_chip < self.count:
            raise ValueError(f"{len(self.chips)} chips have "
                             f"{len(self.chips) * self.channels_per_chip} channels, "
                             f"fewer than {self.count} cells")
        _check_unique(self.chips)
        return self

    def locations(self) -> list[ChipLocation]:
        return list(self.chips)

    def cell_channels(self) -> list[tuple[int, int]]:
        """(chip index, channel) for cells 1..count."""
        if self.channels is not None:
            return [(r.chip, r.channel) for r in self.channels]
        per = self.channels_per_chip
        return [divmod(i, per) for i in range(self.count)]

    def wiring(self, chip: str, options: dict[str, object], lsb_volts: float,
               ctx: RigContext) -> list[ChipWiring]:
        """Chip -> cell connections; `power_on_codes` is what an initialised HAT's EEPROM holds
        (`hil rig init`): the safe state, so the outputs are safe before any driver runs."""
        out = [ChipWiring(chip, loc, {}, {**options, "power_on_codes": {}})
               for loc in self.chips]
        cal = load_calibration(ctx.calibration_path(self.calibration))
        safe_volts = ctx.config.file.safe_state.cell_volts
        for cell, (index, channel) in enumerate(self.cell_channels(), start=1):
            out[index].connections[channel] = ("cell", cell, self.output_gain)
            code = round(cal.cell(cell).to_nominal(safe_volts) / (lsb_volts * self.output_gain))
            out[index].options["power_on_codes"][channel] = code  # type: ignore[index]
        return out


class Mcp4728CellsSection(DacCellsSection):
    vref: Literal["internal", "vdd"] = pydantic.Field(
        default="internal", description="internal 2.048 V x2 (0..4.096 V) or VDD")
    vdd_volts: float = pydantic.Field(default=5.0, gt=0)
    ldac: Literal["tied_high"] = pydantic.Field(
        default="tied_high", description="LDAC held high: outputs change on the general call")

    @property
    def lsb_volts(self) -> float:
        return (2 * 2.048 if self.vref == "internal" else self.vdd_volts) / 4096

    def sim_wiring(self, ctx: RigContext) -> list[ChipWiring]:
        return self.wiring("mcp4728", {"vdd": self.vdd_volts,
                                       "vref_internal": self.vref == "internal"},
                           self.lsb_volts, ctx)


class Ad5675rCellsSection(DacCellsSection):
    channels_per_chip: ClassVar[int] = 8
    gain2: bool = pydantic.Field(default=False, description="GAIN pin high: 0..5 V, else 0..2.5 V")
    update: Literal["ldac_line", "immediate"] = "ldac_line"
    ldac_line: str | None = pydantic.Field(
        default=None, description="digital output wired to every AD5675R's LDAC pin")

    @pydantic.model_validator(mode="after")
    def _ldac_given(self) -> Ad5675rCellsSection:
        if self.update == "ldac_line" and not self.ldac_line:
            raise ValueError("update: ldac_line needs ldac_line: <digital output name>")
        return self

    @property
    def lsb_volts(self) -> float:
        return (5.0 if self.gain2 else 2.5) / 65536

    def sim_wiring(self, ctx: RigContext) -> list[ChipWiring]:
        return self.wiring("ad5675r", {"gain2": self.gain2, "ldac_line": self.ldac_line},
                           self.lsb_volts, ctx)


@dataclass
class _Chip:
    location: ChipLocation
    driver: object
    codes: list[int]


class DacCells(CellVoltageSource):
    """Shared policy of DAC-driven cells: codes from volts, grouping by chip and segment."""

    full_scale_code = 0
    channels_per_chip = 4

    def __init__(self, config: DacCellsSection, ctx: RigContext) -> None:
        super().__init__(config.count, ctx.ranges["cell_volts"],
                         ctx.config.file.safe_state.cell_volts)
        self.config = config
        self.calibration: Calibration = load_calibration(
            ctx.calibration_path(config.calibration))
        self._routes: dict[int, I2cRoute] = {}
        self._chips: list[_Chip] = []
        for location in config.chips:
            bus = ctx.i2c_bus(location.bus)
            self._routes.setdefault(location.bus, ctx.i2c_route(location.bus))
            self._chips.append(_Chip(location, self._make_driver(bus, location.address),
                                     [0] * self.channels_per_chip))
        self._map = config.cell_channels()
        self._stale: set[int] = set()

    @abstractmethod
    def _make_driver(self, bus: SMBusLike, address: int) -> object: ...

    @property
    @abstractmethod
    def lsb_volts(self) -> float:
        """DAC output volts per code."""

    def code_for(self, cell: int, volts: float) -> int:
        """The code that makes `cell` output `volts`, never past the rig's limits."""
        cal = self.calibration.cell(cell)
        per_code = self.lsb_volts * self.config.output_gain
        exact = cal.to_nominal(volts) / per_code
        if not -1.0 <= exact <= self.full_scale_code + 1.0:  # more than a step out of reach
            span = cal.to_actual(self.full_scale_code * per_code)
            raise LimitError(f"cell {cell}: {volts:g} V is outside what the DAC can make "
                             f"({cal.to_actual(0):.3f}..{span:.3f} V)")
        code = min(self.full_scale_code, max(0, round(exact)))
        limits: Range = self.limits
        while cal.to_actual(code * per_code) > limits.high + 1e-12 and code > 0:
            code -= 1
        while cal.to_actual(code * per_code) < limits.low - 1e-12 and code < self.full_scale_code:
            code += 1
        return code

    def volts_for(self, cell: int, code: int) -> float:
        """What `code` makes on `cell`, by the calibration in use."""
        return self.calibration.cell(cell).to_actual(
            code * self.lsb_volts * self.config.output_gain)

    def check_writable(self, values: dict[int, float]) -> None:
        for cell, volts in values.items():
            self.code_for(cell, volts)

    def _write(self, values: dict[int, float]) -> None:
        dirty: dict[int, list[int]] = {}
        for cell, volts in values.items():
            index, channel = self._map[cell - 1]
            codes = dirty.setdefault(index, list(self._chips[index].codes))
            codes[channel] = self.code_for(cell, volts)
        for index in self._stale:  # loaded by a failed update: put back what they show
            dirty.setdefault(index, list(self._chips[index].codes))
        try:
            self._load(dirty)
            self._apply(sorted(dirty))
        except (OSError, DriverError) as err:  # DriverError: the AD5675R's LDAC line
            for route in self._routes.values():
                route.forget()
            # some chips may hold the new codes in their input registers: the next update
            # must rewrite them before its general call applies anything
            self._stale |= set(dirty)
            raise DriverError(f"cells: I2C write failed: {err}") from err
        self._stale.clear()
        for index, codes in dirty.items():
            self._chips[index].codes = codes

    def _by_segment(self, indexes: Sequence[int]) -> dict[tuple, list[int]]:
        groups: dict[tuple, list[int]] = defaultdict(list)
        for index in indexes:
            groups[self._chips[index].location.segment].append(index)
        return groups

    @abstractmethod
    def _load(self, dirty: dict[int, list[int]]) -> None:
        """Write new codes to the chips' input registers (outputs not changed yet)."""

    @abstractmethod
    def _apply(self, indexes: list[int]) -> None:
        """Make the loaded codes appear on the outputs, all at once."""

    def probe(self) -> list[str]:
        """Chips that do not answer (for `hil rig check`)."""
        missing = []
        for chip in self._chips:
            try:
                self._routes[chip.location.bus].to(chip.location)
                self._probe(chip)
            except OSError:
                missing.append(f"{self._chip_name} at {chip.location}")
        return missing

    _chip_name = "DAC"

    @abstractmethod
    def _probe(self, chip: _Chip) -> None: ...


@driver("cells", "mcp4728")
class Mcp4728Cells(DacCells):
    Config = Mcp4728CellsSection
    full_scale_code = mcp4728.CODE_MAX
    _chip_name = "MCP4728"

    def __init__(self, config: Mcp4728CellsSection, ctx: RigContext) -> None:
        self.vref_internal = config.vref == "internal"
        self.vdd = config.vdd_volts
        super().__init__(config, ctx)
        self._init_chips()

    @classmethod
    def open(cls, config: Mcp4728CellsSection, ctx: RigContext) -> Mcp4728Cells:
        return cls(config, ctx)

    def _make_driver(self, bus: SMBusLike, address: int) -> mcp4728.Mcp4728:
        return mcp4728.Mcp4728(bus, address)

    @property
    def lsb_volts(self) -> float:
        return self.config.lsb_volts  # type: ignore[attr-defined,no-any-return]

    def _init_chips(self) -> None:
        for chip in self._chips:
            dac = chip.driver
            assert isinstance(dac, mcp4728.Mcp4728)
            try:
                self._routes[chip.location.bus].to(chip.location)
                state = dac.read_all()
                dac.set_vref([self.vref_internal] * 4)
                if self.vref_internal:
                    dac.set_gain([True] * 4)
            except OSError as err:
                raise DriverError(f"cells: MCP4728 at {chip.location} does not answer: {err}"
                                  ) from err
            chip.codes = [c.code for c in state.inputs]

    def _load(self, dirty: dict[int, list[int]]) -> None:
        for indexes in self._by_segment(sorted(dirty)).values():
            first = self._chips[indexes[0]].location
            self._routes[first.bus].to(first)
            for index in indexes:
                dac = self._chips[index].driver
                assert isinstance(dac, mcp4728.Mcp4728)
                dac.fast_write(dirty[index])

    def _apply(self, indexes: list[int]) -> None:
        # LDAC is tied high: nothing changed yet. One general call per bus (per switch) moves
        # every input register to its output at once.
        by_bus: dict[int, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
        for index in indexes:
            loc = self._chips[index].location
            by_bus[loc.bus][loc.mux] |= (1 << loc.mux_channel) if loc.mux is not None else 0
        for bus_number, muxes in by_bus.items():
            route = self._routes[bus_number]
            for mux, mask in muxes.items():
                if mux is not None:
                    route.select(mux, mask)
                mcp4728.general_call(route.bus, mcp4728.SOFTWARE_UPDATE)

    def _probe(self, chip: _Chip) -> None:
        assert isinstance(chip.driver, mcp4728.Mcp4728)
        chip.driver.read_all()

    def write_power_on_values(self, volts: float) -> None:
        """Store `volts` on every cell in the DACs' EEPROMs (what a power cycle comes up with)."""
        for cell in range(1, self.count + 1):
            self.limits.check(f"cell {cell}", volts)
        with self._lock:
            for chip_index, chip in enumerate(self._chips):
                codes = list(chip.codes)
                for cell, (index, channel) in enumerate(self._map, start=1):
                    if index == chip_index:
                        codes[channel] = self.code_for(cell, volts)
                dac = chip.driver
                assert isinstance(dac, mcp4728.Mcp4728)
                try:
                    self._routes[chip.location.bus].to(chip.location)
                    dac.write_eeprom(codes, vref_internal=self.vref_internal,
                                     gain2=self.vref_internal)
                except OSError as err:
                    self._routes[chip.location.bus].forget()
                    raise DriverError(f"cells: writing the EEPROM of MCP4728 at "
                                      f"{chip.location} failed: {err}") from err
                chip.codes = codes  # the EEPROM write updates the outputs too
            for cell in range(1, self.count + 1):
                self._commanded[cell - 1] = volts


@driver("cells", "ad5675r")
class Ad5675rCells(DacCells):
    Config = Ad5675rCellsSection
    full_scale_code = ad5675r.CODE_MAX
    channels_per_chip = 8
    _chip_name = "AD5675R"

    def __init__(self, config: Ad5675rCellsSection, ctx: RigContext) -> None:
        self.full_scale = 5.0 if config.gain2 else 2.5
        self.update = config.update
        self.ldac: DigitalLines | None = None
        if config.update == "ldac_line":
            lines = ctx.shared.get("lines")
            if lines is None or config.ldac_line not in lines.outputs:
                raise ctx.config.error(f"ldac_line {config.ldac_line!r} is not an output of "
                                       "the rig's lines", "cells", "ldac_line")
            if not lines.safe_levels[config.ldac_line]:
                raise ctx.config.error(f"the LDAC line {config.ldac_line!r} needs safe: true "
                                       "(with LDAC low every write changes its output at "
                                       "once)", "lines", "outputs", str(config.ldac_line))
            self.ldac = lines
            lines.set(config.ldac_line, True)  # held high: outputs wait for the pulse
        super().__init__(config, ctx)
        for chip in self._chips:
            chip.codes = [0] * 8

    @classmethod
    def open(cls, config: Ad5675rCellsSection, ctx: RigContext) -> Ad5675rCells:
        return cls(config, ctx)

    def _make_driver(self, bus: SMBusLike, address: int) -> ad5675r.Ad5675r:
        return ad5675r.Ad5675r(bus, address)

    @property
    def lsb_volts(self) -> float:
        return self.config.lsb_volts  # type: ignore[attr-defined,no-any-return]

    def _load(self, dirty: dict[int, list[int]]) -> None:
        for indexes in self._by_segment(sorted(dirty)).values():
            first = self._chips[indexes[0]].location
            self._routes[first.bus].to(first)
            for index in indexes:
                dac = self._chips[index].driver
                assert isinstance(dac, ad5675r.Ad5675r)
                old = self._chips[index].codes
                for channel, code in enumerate(dirty[index]):
                    if code == old[channel] and index not in self._stale:
                        continue
                    if self.update == "immediate":
                        dac.write_and_update(channel, code)
                    else:
                        dac.write_input(channel, code)

    def _apply(self, indexes: list[int]) -> None:
        if self.ldac is not None:
            name = self.config.ldac_line  # type: ignore[attr-defined]
            self.ldac.set(name, False)  # falling edge loads every input register
            self.ldac.set(name, True)

    def _probe(self, chip: _Chip) -> None:
        assert isinstance(chip.driver, ad5675r.Ad5675r)
        chip.driver.read_input(0)


def _check_unique(chips: Sequence[ChipLocation]) -> None:
    seen: set[tuple] = set()
    for loc in chips:
        key = (loc.bus, loc.mux, loc.mux_channel, loc.address)
        if key in seen:
            raise ValueError(f"two chips at {loc}")
        seen.add(key)

