"""What drivers may use while a rig opens: limits, safe values, shared buses, the harness."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hil.capabilities import CanEndpoint, Range
from hil.drivers.i2c_route import I2cRoute
from hil.errors import ConfigError
from hil.i2c.smbus import SMBusLike
from hil.periodic import PeriodicSender
from hil.profile import Profile
from hil.rig.config import RigConfig
from hil.sim.harness import AnalogHarness


@dataclass
class RigContext:
    config: RigConfig
    profile: Profile
    on_lost: Callable[[str], None]
    defects: list[str] = field(default_factory=list)
    use_calibration: bool = True  # off while `hil calibrate` measures the raw channels
    log_dir: Path | None = None
    can: CanEndpoint | None = None
    periodic: PeriodicSender | None = None
    _harness: AnalogHarness | None = None
    shared: dict[str, Any] = field(default_factory=dict)  # e.g. open I2C buses by number

    @property
    def ranges(self) -> dict[str, Range]:
        return self.config.ranges()

    @property
    def cell_count(self) -> int:
        return int(self.config.file.cells["count"])

    @property
    def temperature_count(self) -> int:
        return int(self.config.file.temperatures["count"])

    def i2c_bus(self, number: int) -> SMBusLike:
        """I2C bus `number` from the rig's `i2c` section (real adapter or simulated)."""
        buses = self.shared.get("i2c")
        if buses is None:
            raise ConfigError("this rig uses I2C chips but has no i2c section "
                              "(driver: smbus2 on a Pi, driver: sim for the simulated rig)",
                              path=self.config.path)
        return buses.bus(number)

    def i2c_route(self, number: int) -> I2cRoute:
        """The switch-selection helper for bus `number` (one per bus, shared by drivers)."""
        routes: dict[int, I2cRoute] = self.shared.setdefault("i2c_routes", {})
        if number not in routes:
            routes[number] = I2cRoute(self.i2c_bus(number))
        return routes[number]

    def calibration_path(self, relative: str | None) -> Path | None:
        """The calibration file a section names, unless calibration is switched off."""
        if relative is None or not self.use_calibration:
            return None
        return self.config.resolve(relative)

    def harness(self) -> AnalogHarness:
        """The simulated rig's analog harness, created on first use."""
        if self._harness is None:
            self._harness = AnalogHarness.create(self.cell_count, self.temperature_count)
        return self._harness

    @property
    def has_harness(self) -> bool:
        return self._harness is not None

    def close_harness(self) -> None:
        if self._harness is not None:
            self._harness.close()
            self._harness = None
