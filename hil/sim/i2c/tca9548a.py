"""Register model of the TI TCA9548A 8-channel I2C switch (datasheet SCPS207F, 8.5.3-8.5.4).

One control register, no register address: each written byte replaces the pending selection,
which takes effect at STOP. Reading returns the register. Downstream devices are reachable
through every channel whose bit is set; power-up or RESET selects nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from hil.sim.i2c.bus import I2cDevice, Segment


class SimTca9548a(I2cDevice):
    def __init__(self, address: int = 0x70, name: str = "tca9548a") -> None:
        if not 0x70 <= address <= 0x77:
            raise ValueError(f"TCA9548A addresses are 0x70..0x77, got 0x{address:02X}")
        self.address = address
        self.channels = [Segment(f"{name}@0x{address:02X}/ch{i}") for i in range(8)]
        self.control = 0x00
        self._pending: int | None = None

    def reset(self) -> None:
        """The RESET pin (or power-up): all channels disconnected."""
        self.control = 0x00
        self._pending = None

    def start(self, read: bool) -> bool:
        return True

    def write_byte(self, value: int) -> bool:
        self._pending = value & 0xFF  # the last byte written wins
        return True

    def read_byte(self) -> int:
        return self.control

    def stop(self) -> None:
        if self._pending is not None:
            self.control = self._pending
            self._pending = None

    def downstream(self) -> Sequence[Segment]:
        return [seg for i, seg in enumerate(self.channels) if self.control & (1 << i)]

    def all_segments(self) -> Sequence[Segment]:
        return list(self.channels)
