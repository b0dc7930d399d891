"""Where a chip sits on the I2C wiring (bus, switch, channel), and getting there.

Rig files place each chip with a `ChipLocation`. An `I2cRoute` per bus makes sure the right
TCA9548A channel is connected before a chip is addressed, writes each switch only when its
selection changes, and disconnects other switches so that chips with the same address on
different segments never answer together.
"""

from __future__ import annotations

import pydantic

from hil.drivers.chips.tca9548a import Tca9548a
from hil.i2c.smbus import SMBusLike
from hil.yamlfile import StrictModel


class ChipLocation(StrictModel):
    """A chip on the rig: I2C bus number, 7-bit address, and the switch channel it sits behind."""

    bus: int = pydantic.Field(default=1, ge=0, description="Linux I2C bus number (/dev/i2c-N)")
    address: int = pydantic.Field(ge=0x03, le=0x77, description="7-bit address, e.g. 0x60")
    mux: int | None = pydantic.Field(default=None, ge=0x70, le=0x77,
                                     description="TCA9548A address, if behind a switch")
    mux_channel: int | None = pydantic.Field(default=None, ge=0, le=7)

    @pydantic.model_validator(mode="after")
    def _mux_pair(self) -> ChipLocation:
        if (self.mux is None) != (self.mux_channel is None):
            raise ValueError("give both mux and mux_channel, or neither")
        return self

    @property
    def segment(self) -> tuple[int, int | None, int | None]:
        return (self.bus, self.mux, self.mux_channel)

    def __str__(self) -> str:
        where = f"i2c-{self.bus} 0x{self.address:02X}"
        if self.mux is not None:
            where += f" behind 0x{self.mux:02X} channel {self.mux_channel}"
        return where


class I2cRoute:
    """Selects switch channels on one bus; caches what is selected."""

    def __init__(self, bus: SMBusLike) -> None:
        self.bus = bus
        self._muxes: dict[int, Tca9548a] = {}

    def mux(self, address: int) -> Tca9548a:
        if address not in self._muxes:
            self._muxes[address] = Tca9548a(self.bus, address)
        return self._muxes[address]

    def to(self, location: ChipLocation) -> None:
        """Connect the segment `location` is on (and only that one, among switched segments)."""
        if location.mux is None:
            return  # root-segment chips are always reachable
        assert location.mux_channel is not None
        self.select(location.mux, 1 << location.mux_channel)

    def select(self, mux_address: int, mask: int) -> None:
        """Set one switch's channel mask; every other switch on this bus is disconnected."""
        for address, other in self._muxes.items():
            if address != mux_address:
                other.select(0)
        self.mux(mux_address).select(mask)

    def forget(self) -> None:
        """After an error the switches' state is unknown: rewrite them next time."""
        for mux in self._muxes.values():
            mux.forget()
