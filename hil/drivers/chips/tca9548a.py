"""Driver for the TI TCA9548A I2C switch: select which downstream channels are connected."""

from __future__ import annotations

from hil.i2c.smbus import SMBusLike


class Tca9548a:
    """Write the channel mask (one byte, no register); the last mask is cached."""

    def __init__(self, bus: SMBusLike, address: int = 0x70) -> None:
        self.bus = bus
        self.address = address
        self._mask: int | None = None

    def select(self, mask: int) -> None:
        """Connect the channels whose bits are set (one write, skipped if already selected)."""
        if not 0 <= mask <= 0xFF:
            raise ValueError(f"channel mask must be 0..0xFF, got {mask}")
        if mask != self._mask:
            self._mask = None  # unknown if the write fails half-way
            self.bus.write_byte(self.address, mask)
            self._mask = mask

    def channel(self, channel: int) -> None:
        if not 0 <= channel <= 7:
            raise ValueError(f"TCA9548A channel must be 0..7, got {channel}")
        self.select(1 << channel)

    def read(self) -> int:
        mask = self.bus.read_byte(self.address)
        self._mask = mask
        return mask

    def forget(self) -> None:
        """Drop the cached mask (after a bus error or a reset of the switch)."""
        self._mask = None
