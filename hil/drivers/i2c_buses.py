"""The rig's I2C buses: /dev/i2c-N through smbus2 on a Pi (the simulated twin is in hil.sim).

Capability drivers ask the rig context for bus N; the `i2c` section of the rig file decides
whether that is a real adapter or the simulated bus with chip models.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import pydantic

from hil.drivers.registry import driver
from hil.errors import DriverError
from hil.i2c.smbus import SMBusLike
from hil.rig.config import DriverSection

if TYPE_CHECKING:
    from hil.rig.context import RigContext


class I2cBuses(ABC):
    """Opens buses by number, once each, and closes them with the rig."""

    def __init__(self) -> None:
        self._open: dict[int, SMBusLike] = {}

    def bus(self, number: int) -> SMBusLike:
        if number not in self._open:
            self._open[number] = self._open_bus(number)
        return self._open[number]

    @abstractmethod
    def _open_bus(self, number: int) -> SMBusLike: ...

    def close(self) -> None:
        for bus in self._open.values():
            with contextlib.suppress(OSError):  # a bus that is gone is closed enough
                bus.close()
        self._open.clear()


class LinuxI2cSection(DriverSection):
    speed_hz: int = pydantic.Field(
        default=400_000, gt=0, description="informational: set with dtparam=i2c_arm_baudrate")


@driver("i2c", "smbus2")
class LinuxI2cBuses(I2cBuses):
    """`smbus2.SMBus(n)` for /dev/i2c-n."""

    Config = LinuxI2cSection

    @classmethod
    def open(cls, config: LinuxI2cSection, ctx: RigContext) -> LinuxI2cBuses:
        return cls()

    def _open_bus(self, number: int) -> SMBusLike:
        import smbus2

        try:
            return smbus2.SMBus(number)
        except OSError as err:
            raise DriverError(
                f"cannot open /dev/i2c-{number}: {err.strerror or err} (on a Raspberry Pi enable "
                "I2C with dtparam=i2c_arm=on in config.txt; check that you may use i2c-dev)"
            ) from err
