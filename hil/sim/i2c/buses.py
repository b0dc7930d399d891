"""The simulated rig's I2C buses: chip models wired to the analog harness as the rig file says.

The `i2c: {driver: sim}` twin of `i2c: {driver: smbus2}`. Every I2C capability section of the
rig file describes its chips' wiring (`sim_wiring()`); this builder puts a register-level model
of each chip at its address (behind its TCA9548A channel) and connects the model's outputs to
the harness: DAC volts x output gain become cell voltages, rheostat ohms add up to thermistor
resistances, GPIO pins switch relays and read the BMS's contactor drives, ADC inputs see cell
voltages through their divider. Drivers then talk to these models byte for byte.

The chips power up as on a HAT that `hil rig init` prepared: DAC EEPROMs and rheostat
non-volatile memory hold the rig's safe state, so outputs are safe before any driver runs.

Real parts are not ideal: with `error_seed` set, each DAC channel gets an offset and a gain
error and each ADC a small one, drawn from that seed, so calibration has something to fix.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pydantic

from hil.drivers.i2c_buses import I2cBuses
from hil.drivers.registry import driver
from hil.errors import ConfigError, DriverError
from hil.i2c.smbus import SMBusLike
from hil.rig.config import DriverSection
from hil.rig.wiring import ChipWiring
from hil.sim.harness import LINES_FROM_BMS, LINES_TO_BMS, AnalogHarness
from hil.sim.i2c.ad5272 import SimAd5272
from hil.sim.i2c.ad5675r import SimAd5675r
from hil.sim.i2c.ads1115 import SimAds1115
from hil.sim.i2c.bus import I2cDevice, Segment, SimSMBus
from hil.sim.i2c.mcp4661 import SimMcp4661
from hil.sim.i2c.mcp4728 import Mcp4728Register, SimMcp4728
from hil.sim.i2c.mcp23017 import SimMcp23017
from hil.sim.i2c.tca9548a import SimTca9548a

if TYPE_CHECKING:
    from hil.rig.context import RigContext

log = logging.getLogger(__name__)


class SimI2cSection(DriverSection):
    error_seed: int | None = pydantic.Field(
        default=None, description="draw per-channel analog errors from this seed (None: ideal)")
    dac_offset_volts: float = pydantic.Field(default=0.002, ge=0, description="1-sigma")
    dac_gain_error: float = pydantic.Field(default=0.002, ge=0, description="1-sigma, fraction")
    adc_offset_volts: float = pydantic.Field(default=0.0001, ge=0)
    adc_gain_error: float = pydantic.Field(default=0.0001, ge=0)


class Wiring:
    """Connects model callbacks to the analog harness."""

    def __init__(self, harness: AnalogHarness) -> None:
        self.harness = harness
        self.ntc_parts: dict[int, dict[tuple, float]] = defaultdict(dict)
        self.line_listeners: dict[str, list[Callable[[bool], None]]] = defaultdict(list)
        self._unknown_lines: set[str] = set()

    def cell(self, index: int, gain: float) -> Callable[[float], None]:
        def write(volts: float) -> None:
            self.harness.cell_volts[index - 1] = volts * gain
        return write

    def ntc(self, sensor: int, part: tuple) -> Callable[[float], None]:
        def write(ohms: float) -> None:
            self.ntc_parts[sensor][part] = ohms
            self.harness.ntc_ohms[sensor - 1] = sum(self.ntc_parts[sensor].values())
        return write

    def drive_line(self, name: str, level: bool) -> None:
        """A relay output: a harness line, a sense-wire relay, or another chip's pin."""
        if name in LINES_TO_BMS:
            self.harness.set_line(name, level)
        elif name.startswith("sense_open[") and name.endswith("]"):
            index = int(name[len("sense_open["):-1])
            self.harness.sense_open[index - 1] = 1 if level else 0
        elif name in self.line_listeners:
            for listener in self.line_listeners[name]:
                listener(level)
        elif name not in self._unknown_lines:
            self._unknown_lines.add(name)
            log.info("simulated rig: output line %r is connected to nothing", name)

    def read_line(self, name: str) -> bool | None:
        if name in LINES_FROM_BMS:
            return self.harness.line_from_bms(name)
        return None  # floating

    def hall(self, volts: float) -> None:
        self.harness.hall_volts[0] = volts

    def readback(self, cell: int, divider: float) -> float:
        return float(self.harness.cell_volts[cell - 1]) * divider


@driver("i2c", "sim")
class SimI2cBuses(I2cBuses):
    """Simulated buses holding the chip models the rig file's sections describe."""

    Config = SimI2cSection

    def __init__(self, buses: dict[int, SimSMBus]) -> None:
        super().__init__()
        self.sim_buses = buses

    @classmethod
    def open(cls, config: SimI2cSection, ctx: RigContext) -> SimI2cBuses:
        wirings: list[ChipWiring] = []
        for _kind, (_cls, section) in ctx.config.drivers.items():
            if hasattr(section, "sim_wiring"):
                wirings.extend(section.sim_wiring(ctx))
        try:
            return cls(build(wirings, ctx.harness(), config))
        except ValueError as err:
            raise ConfigError(f"simulated I2C: {err}", path=ctx.config.path,
                              field="i2c") from None

    def _open_bus(self, number: int) -> SMBusLike:
        if number not in self.sim_buses:
            raise DriverError(f"i2c-{number}: no simulated chips are wired to this bus")
        return self.sim_buses[number]


def build(wirings: list[ChipWiring], harness: AnalogHarness, config: SimI2cSection
          ) -> dict[int, SimSMBus]:
    """Buses with models for every wired chip (switches created where chips sit behind one)."""
    rng = np.random.default_rng(config.error_seed) if config.error_seed is not None else None
    wiring = Wiring(harness)
    buses: dict[int, SimSMBus] = {}
    switches: dict[tuple[int, int], SimTca9548a] = {}
    for w in wirings:
        loc = w.location
        bus = buses.get(loc.bus)
        if bus is None:
            bus = buses[loc.bus] = SimSMBus(loc.bus, atomic=harness.update)
        segment: Segment = bus.root
        if loc.mux is not None:
            key = (loc.bus, loc.mux)
            if key not in switches:
                switches[key] = SimTca9548a(loc.mux)
                bus.add(switches[key])
            assert loc.mux_channel is not None
            segment = switches[key].channels[loc.mux_channel]
        segment.add(_model(w, wiring, rng, config))
    return buses


def _errors(rng: np.random.Generator | None, channels: int, offset: float, gain: float
            ) -> list[tuple[float, float]] | None:
    if rng is None:
        return None
    return [(float(rng.normal(0, offset)), float(rng.normal(0, gain))) for _ in range(channels)]


def _model(w: ChipWiring, wiring: Wiring, rng: np.random.Generator | None,
           config: SimI2cSection) -> I2cDevice:
    address = w.location.address
    part_key = (w.location.bus, w.location.mux, w.location.mux_channel, address)
    if w.chip in ("mcp4728", "ad5675r"):
        outputs: dict[int, Callable[[float], None]] = {}
        for channel, conn in w.connections.items():
            if conn[0] == "cell":
                outputs[int(channel)] = wiring.cell(conn[1], conn[2])
            elif conn[0] == "hall":
                outputs[int(channel)] = wiring.hall

        def on_output(channel: int, volts: float) -> None:
            if channel in outputs:
                outputs[channel](volts)

        power_on: dict[int, int] = dict(w.options.get("power_on_codes", {}))
        if w.chip == "mcp4728":
            internal = int(bool(w.options.get("vref_internal", True)))
            eeprom = [Mcp4728Register(vref=internal, gain=internal, code=power_on.get(ch, 0))
                      for ch in range(4)]
            return SimMcp4728(address, vdd=float(w.options.get("vdd", 5.0)), eeprom=eeprom,
                              errors=_errors(rng, 4, config.dac_offset_volts,
                                             config.dac_gain_error),
                              on_output=on_output)
        model = SimAd5675r(address, gain2=bool(w.options.get("gain2", False)),
                           errors=_errors(rng, 8, config.dac_offset_volts / 4,
                                          config.dac_gain_error / 4),
                           on_output=on_output)
        ldac_line = w.options.get("ldac_line")
        if ldac_line:
            wiring.line_listeners[str(ldac_line)].append(lambda level: setattr(model, "ldac",
                                                                                level))
        return model
    if w.chip == "ad5272":
        (channel, conn), = w.connections.items()
        stored = w.options.get("power_on_codes", {}).get(channel)
        return SimAd5272(address, r_nominal=float(w.options["r_nominal"]),
                         wiper_ohms=float(w.options.get("wiper_ohms", 0.0)),
                         on_resistance=wiring.ntc(conn[1], (*part_key, channel)),
                         fuses=() if stored is None else (stored,))
    if w.chip == "mcp4661":
        per_wiper = {int(ch): wiring.ntc(conn[1], (*part_key, ch))
                     for ch, conn in w.connections.items()}

        def on_resistance(wiper: int, ohms: float) -> None:
            if wiper in per_wiper:
                per_wiper[wiper](ohms)

        pot = SimMcp4661(address, r_ab=float(w.options["r_nominal"]),
                         wiper_ohms=float(w.options.get("wiper_ohms", 0.0)),
                         on_resistance=on_resistance)
        for wiper, code in w.options.get("power_on_codes", {}).items():
            pot.memory[0x02 + int(wiper)] = int(code)  # the non-volatile wiper
        pot.power_cycle()
        return pot
    if w.chip == "mcp23017":
        pins: dict[str, Any] = {str(pin): conn for pin, conn in w.connections.items()}

        def on_pin(pin: str, level: bool) -> None:
            conn = pins.get(pin)
            if conn is not None and conn[0] == "output":
                wiring.drive_line(conn[1], level != conn[2])

        def read_pin(pin: str) -> bool | None:
            conn = pins.get(pin)
            if conn is None or conn[0] != "input":
                return None
            level = wiring.read_line(conn[1])
            return None if level is None else level != conn[2]

        return SimMcp23017(address, on_output=on_pin, read_input=read_pin)
    if w.chip == "ads1115":
        inputs = {int(ain): conn for ain, conn in w.connections.items()}

        def read_input(ain: int) -> float:
            conn = inputs.get(ain)
            if conn is None or conn[0] != "readback_cell":
                return 0.0
            return wiring.readback(conn[1], conn[2])

        errors = _errors(rng, 1, config.adc_offset_volts, config.adc_gain_error)
        offset, gain = errors[0] if errors else (0.0, 0.0)
        return SimAds1115(address, read_input=read_input, gain_error=gain, offset_volts=offset)
    raise ValueError(f"no simulated model for chip {w.chip!r}")
