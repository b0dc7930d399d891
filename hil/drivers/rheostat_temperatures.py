"""Thermistor inputs emulated by digital rheostats: AD5272 (1024 steps) or MCP4661 (257).

The BMS biases its NTC input and measures a resistance, so the rig sets a resistance: the NTC
model turns the requested temperature into ohms, and one rheostat (or a coarse and a fine one in
series, when one pot's step is too coarse at the hot end) makes it. Facts: hardware-reference
section 6.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, Literal

import pydantic

from hil.calibration import Calibration, load_calibration
from hil.capabilities import TemperatureSource
from hil.drivers.chips.ad5272 import Ad5272
from hil.drivers.chips.mcp4661 import Mcp4661
from hil.drivers.i2c_route import ChipLocation, I2cRoute
from hil.drivers.registry import driver
from hil.errors import DriverError, LimitError
from hil.ntc import NtcModel
from hil.rig.sections import TemperaturesSection
from hil.rig.wiring import ChipWiring
from hil.yamlfile import StrictModel

if TYPE_CHECKING:
    from hil.rig.context import RigContext


class Pot(ChipLocation):
    """One rheostat: where it is, its end-to-end resistance and (MCP4661) which wiper."""

    r_nominal_ohms: float = pydantic.Field(gt=0)
    wiper: int = pydantic.Field(default=0, ge=0, le=1, description="MCP4661 wiper 0 or 1")
    wiper_ohms: float = pydantic.Field(default=0.0, ge=0)


class SensorPots(StrictModel):
    coarse: Pot
    fine: Pot | None = pydantic.Field(default=None,
                                      description="in series with coarse, for finer steps")


class RheostatSection(TemperaturesSection):
    sensors: list[SensorPots] = pydantic.Field(min_length=1)
    calibration: str | None = None

    part: str = ""
    steps: ClassVar[int] = 1024  # R = code / steps * R_nominal
    max_code: ClassVar[int] = 1023

    @pydantic.model_validator(mode="after")
    def _one_per_sensor(self) -> RheostatSection:
        if len(self.sensors) != self.count:
            raise ValueError(f"sensors lists {len(self.sensors)} inputs, count is {self.count}")
        return self

    def locations(self) -> list[ChipLocation]:
        seen: dict[tuple, ChipLocation] = {}
        for pots in self.sensors:
            for pot in (pots.coarse, pots.fine):
                if pot is not None:
                    seen.setdefault((pot.bus, pot.mux, pot.mux_channel, pot.address), pot)
        return list(seen.values())

    def split(self, sensor: int, ohms: float) -> list[tuple[Pot, int]]:
        """Codes for sensor `sensor`'s pots that make `ohms` (coarse takes the bulk, leaving
        the fine pot near mid-range for the remainder). ValueError if out of reach."""
        pots = self.sensors[sensor - 1]
        steps, max_code = self.steps, self.max_code
        coarse, fine = pots.coarse, pots.fine
        c_step = coarse.r_nominal_ohms / steps
        f_max = fine.r_nominal_ohms * max_code / steps + fine.wiper_ohms if fine else 0.0
        top = coarse.r_nominal_ohms * max_code / steps + coarse.wiper_ohms + f_max
        bottom = coarse.wiper_ohms + (fine.wiper_ohms if fine else 0.0)
        if not bottom <= ohms <= top:
            raise ValueError(f"{ohms:,.0f} Ohm is outside the {bottom:,.0f}..{top:,.0f} Ohm "
                             "the rheostats can make")
        if fine is None:
            return [(coarse, min(max_code, round((ohms - coarse.wiper_ohms) / c_step)))]
        f_step = fine.r_nominal_ohms / steps
        rest = ohms - coarse.wiper_ohms - fine.wiper_ohms
        code_c = min(max_code, max(0, math.floor((rest - fine.r_nominal_ohms / 2) / c_step)))
        code_f = min(max_code, max(0, round((rest - code_c * c_step) / f_step)))
        return [(coarse, code_c), (fine, code_f)]

    def sim_wiring(self, ctx: RigContext) -> list[ChipWiring]:
        """Pots -> thermistor inputs, each pot's stored power-on code the safe temperature's."""
        out: dict[tuple, ChipWiring] = {}
        ntc = self.ntc.build()
        safe = ctx.config.file.safe_state
        cal = load_calibration(ctx.calibration_path(self.calibration))
        for sensor, pots in enumerate(self.sensors, start=1):
            ohms = cal.temperature(sensor).to_nominal(ntc.ohms(safe.temperature_celsius))
            power_on = dict(self.split(sensor, ohms))
            for pot in (pots.coarse, pots.fine):
                if pot is None:
                    continue
                key = (pot.bus, pot.mux, pot.mux_channel, pot.address)
                wiring = out.setdefault(key, ChipWiring(
                    self.part, ChipLocation(bus=pot.bus, address=pot.address, mux=pot.mux,
                                            mux_channel=pot.mux_channel),
                    {}, {"r_nominal": pot.r_nominal_ohms, "wiper_ohms": pot.wiper_ohms,
                         "power_on_codes": {}}))
                wiring.connections[pot.wiper] = ("ntc", sensor)
                wiring.options["power_on_codes"][pot.wiper] = power_on[pot]
        return list(out.values())


class Ad5272Section(RheostatSection):
    part: Literal["ad5272"] = "ad5272"


class Mcp4661Section(RheostatSection):
    part: Literal["mcp4661"] = "mcp4661"
    steps: ClassVar[int] = 256
    max_code: ClassVar[int] = 256


class RheostatTemperatures(TemperatureSource):
    """Temperature -> NTC ohms -> (coarse, fine) rheostat codes."""

    def __init__(self, config: RheostatSection, ctx: RigContext) -> None:
        super().__init__(config.count, ctx.ranges["temperature_celsius"],
                         ctx.config.file.safe_state.temperature_celsius)
        self.config = config
        self.ntc: NtcModel = config.ntc.build()
        self.calibration: Calibration = load_calibration(
            ctx.calibration_path(config.calibration))
        self._routes: dict[int, I2cRoute] = {}
        self._drivers: dict[tuple, object] = {}
        for pots in config.sensors:
            for pot in (pots.coarse, pots.fine):
                if pot is None:
                    continue
                self._routes.setdefault(pot.bus, ctx.i2c_route(pot.bus))
                key = (pot.bus, pot.mux, pot.mux_channel, pot.address)
                if key not in self._drivers:
                    self._drivers[key] = self._make_driver(ctx.i2c_bus(pot.bus), pot)
                    self._unlock(pot)

    def _make_driver(self, bus: object, pot: Pot) -> object:
        raise NotImplementedError

    def _unlock(self, pot: Pot) -> None:
        """Chips that power up write-protected are unlocked once at open."""

    def ohms_for(self, sensor: int, celsius: float) -> float:
        return self.calibration.temperature(sensor).to_nominal(self.ntc.ohms(celsius))

    def codes_for(self, sensor: int, celsius: float) -> list[tuple[Pot, int]]:
        """Codes for the sensor's pots that make the NTC's resistance at `celsius`."""
        try:
            return self.config.split(sensor, self.ohms_for(sensor, celsius))
        except ValueError as err:
            raise LimitError(f"temperature sensor {sensor}: {celsius:g} degC needs {err}"
                             ) from None

    def check_writable(self, values: dict[int, float]) -> None:
        for sensor, celsius in values.items():
            self.codes_for(sensor, celsius)

    def probe(self) -> list[str]:
        """Pots that do not answer (for `hil rig check`)."""
        missing = []
        for pot in self.config.locations():
            try:
                self._routes[pot.bus].to(pot)
                self._probe(self._driver(pot))  # type: ignore[arg-type]
            except OSError:
                self._routes[pot.bus].forget()
                missing.append(f"{self.config.part.upper()} at {pot}")
        return missing

    def _probe(self, chip: object) -> None:
        raise NotImplementedError

    def _write(self, values: dict[int, float]) -> None:
        plan = [pc for sensor, celsius in values.items() for pc in self.codes_for(sensor, celsius)]
        try:
            for pot, code in plan:
                self._routes[pot.bus].to(pot)
                self._set(pot, code)
        except OSError as err:
            for route in self._routes.values():
                route.forget()
            raise DriverError(f"temperatures: I2C write failed: {err}") from err

    def _set(self, pot: Pot, code: int) -> None:
        raise NotImplementedError

    # --- thermistor faults (fault injection) ----------------------------------------------
    def open_circuit(self, sensor: int) -> None:
        """Disconnect the thermistor input (a broken NTC wire)."""
        raise NotImplementedError(f"{type(self).__name__} cannot open its rheostats")

    def short_circuit(self, sensor: int) -> None:
        """Short the thermistor input: every pot of the sensor at code 0 (wiper resistance)."""
        self._check_sensor(sensor)
        with self._lock:
            pots = self.config.sensors[sensor - 1]
            for pot in (pots.coarse, pots.fine):
                if pot is not None:
                    self._routes[pot.bus].to(pot)
                    self._set(pot, 0)

    def restore(self, sensor: int) -> None:
        """End an open or short: the sensor shows its commanded temperature again."""
        self._check_sensor(sensor)
        with self._lock:
            self._restore(sensor)
            value = self.commanded(sensor)
            self._write({sensor: self.safe_value if value is None else value})

    def _restore(self, sensor: int) -> None:
        pass

    def _check_sensor(self, sensor: int) -> None:
        if not 1 <= sensor <= self.count:
            raise LimitError(f"temperature sensor {sensor} does not exist (1..{self.count})")

    def _driver(self, pot: Pot) -> object:
        return self._drivers[(pot.bus, pot.mux, pot.mux_channel, pot.address)]


@driver("temperatures", "ad5272")
class Ad5272Temperatures(RheostatTemperatures):
    Config = Ad5272Section

    @classmethod
    def open(cls, config: Ad5272Section, ctx: RigContext) -> Ad5272Temperatures:
        return cls(config, ctx)

    def _make_driver(self, bus: object, pot: Pot) -> Ad5272:
        return Ad5272(bus, pot.address)  # type: ignore[arg-type]

    def _unlock(self, pot: Pot) -> None:
        try:
            self._routes[pot.bus].to(pot)
            chip = self._driver(pot)
            assert isinstance(chip, Ad5272)
            chip.unlock()  # RDAC is write-protected after power-up
        except OSError as err:
            raise DriverError(f"temperatures: AD5272 at {pot} does not answer: {err}") from err

    def _set(self, pot: Pot, code: int) -> None:
        chip = self._driver(pot)
        assert isinstance(chip, Ad5272)
        chip.write(code)

    def _probe(self, chip: object) -> None:
        assert isinstance(chip, Ad5272)
        chip.read()

    def open_circuit(self, sensor: int) -> None:
        """Software shutdown of the coarse pot: terminal A disconnected from W (open)."""
        self._check_sensor(sensor)
        with self._lock:
            pot = self.config.sensors[sensor - 1].coarse
            self._routes[pot.bus].to(pot)
            chip = self._driver(pot)
            assert isinstance(chip, Ad5272)
            chip.shutdown(True)

    def _restore(self, sensor: int) -> None:
        pot = self.config.sensors[sensor - 1].coarse
        self._routes[pot.bus].to(pot)
        chip = self._driver(pot)
        assert isinstance(chip, Ad5272)
        chip.shutdown(False)

    def go_safe(self) -> None:
        with self._lock:
            for sensor in range(1, self.count + 1):
                self._restore(sensor)
            super().go_safe()


@driver("temperatures", "mcp4661")
class Mcp4661Temperatures(RheostatTemperatures):
    Config = Mcp4661Section

    @classmethod
    def open(cls, config: Mcp4661Section, ctx: RigContext) -> Mcp4661Temperatures:
        return cls(config, ctx)

    def _make_driver(self, bus: object, pot: Pot) -> Mcp4661:
        return Mcp4661(bus, pot.address)  # type: ignore[arg-type]

    def _set(self, pot: Pot, code: int) -> None:
        chip = self._driver(pot)
        assert isinstance(chip, Mcp4661)
        chip.write_wiper(pot.wiper, code)

    def _probe(self, chip: object) -> None:
        assert isinstance(chip, Mcp4661)
        chip.read_status()
