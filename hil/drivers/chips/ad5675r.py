"""Driver for the Analog Devices AD5675R octal 16-bit DAC (hardware reference §2).

Every command is one 24-bit word `C3..C0 A3..A0 | D15..D8 | D7..D0` (address nibble = channel
0..7), sent as its own transaction: several words after one address byte are not confirmed for
this part, so `write_inputs` costs one 4-byte transaction per channel. Words go out through raw
`i2c_rdwr` (the data is big-endian; SMBus word calls are little-endian). For a simultaneous
update write the input registers (`write_input`, command 0x1) and pulse the LDAC pin, or write
and update each channel at once with `write_and_update` (0x3).
"""

from __future__ import annotations

from collections.abc import Sequence

from smbus2 import i2c_msg

from hil.i2c.smbus import SMBusLike

CHANNELS = 8
CODE_MAX = 0xFFFF

PD_NORMAL, PD_1K, PD_100K, PD_THREE_STATE = 0, 1, 2, 3  # per channel, command 0x4

_NOP = 0x0
_WRITE_INPUT = 0x1
_UPDATE_DAC = 0x2
_WRITE_AND_UPDATE = 0x3
_POWER = 0x4
_LDAC_MASK = 0x5
_SOFTWARE_RESET = 0x6
_REFERENCE = 0x7


class Ad5675r:
    """One AD5675R at 0x0C..0x0F (`00011 A1 A0`)."""

    def __init__(self, bus: SMBusLike, address: int = 0x0C) -> None:
        if not 0x0C <= address <= 0x0F:
            raise ValueError(f"AD5675R address must be 0x0C..0x0F, got 0x{address:02X}")
        self.bus = bus
        self.address = address

    def write_input(self, channel: int, code: int) -> None:
        """Input register only (`0x1n`): the output follows on LDAC (or at once if LDAC is low)."""
        self._word(_WRITE_INPUT, _channel(channel), _code(code))

    def write_inputs(self, codes: Sequence[int]) -> None:
        """`write_input` for channels 0..len(codes)-1, one transaction each, checked first."""
        if not 0 < len(codes) <= CHANNELS:
            raise ValueError(f"AD5675R codes needs 1..{CHANNELS} values, got {len(codes)}")
        for code in codes:
            _code(code)
        for channel, code in enumerate(codes):
            self._word(_WRITE_INPUT, channel, code)

    def write_and_update(self, channel: int, code: int) -> None:
        """Input and DAC register (`0x3n`): the output changes now, whatever LDAC does."""
        self._word(_WRITE_AND_UPDATE, _channel(channel), _code(code))

    def update(self, channel: int) -> None:
        """Copy the input register to the DAC register (`0x2n 00 00`)."""
        self._word(_UPDATE_DAC, _channel(channel), 0)

    def read_input(self, channel: int) -> int:
        """`S AW | 0n 00 00 | Sr AR | MSB LSB | P`: NOP word to point, then 2 bytes."""
        read = i2c_msg.read(self.address, 2)
        self.bus.i2c_rdwr(i2c_msg.write(self.address, [_NOP << 4 | _channel(channel), 0, 0]),
                          read)
        high, low = bytes(read)
        return high << 8 | low

    def set_ldac_mask(self, mask: int) -> None:
        """Bit n = 1: channel n ignores the LDAC pin (`0x50`, data = mask)."""
        if not isinstance(mask, int) or not 0 <= mask <= 0xFF:
            raise ValueError(f"AD5675R LDAC mask must be 0..0xFF, got {mask!r}")
        self._word(_LDAC_MASK, 0, mask)

    def power(self, modes: Sequence[int]) -> None:
        """Power mode of channels 0..7 (PD_NORMAL = on), two data bits per channel (`0x40`)."""
        if len(modes) != CHANNELS:
            raise ValueError(f"AD5675R modes needs {CHANNELS} values, got {len(modes)}")
        data = 0
        for channel, mode in enumerate(modes):
            if mode not in (PD_NORMAL, PD_1K, PD_100K, PD_THREE_STATE):
                raise ValueError(f"AD5675R power mode must be 0..3, got {mode!r}")
            data |= mode << (2 * channel)
        self._word(_POWER, 0, data)

    def reference(self, internal: bool) -> None:
        """Internal 2.5 V reference on or off (`0x70`, D0 = 1 disables it, as the kernel does)."""
        self._word(_REFERENCE, 0, 0 if internal else 1)

    def software_reset(self) -> None:
        """Power-on reset (`0x60 00 00`; the data pattern the chip wants is unconfirmed)."""
        self._word(_SOFTWARE_RESET, 0, 0)

    def _word(self, command: int, nibble: int, data: int) -> None:
        self.bus.i2c_rdwr(i2c_msg.write(self.address,
                                        [command << 4 | nibble, data >> 8, data & 0xFF]))


def _channel(channel: int) -> int:
    if not isinstance(channel, int) or not 0 <= channel < CHANNELS:
        raise ValueError(f"AD5675R channel must be 0..7, got {channel!r}")
    return channel


def _code(code: int) -> int:
    if not isinstance(code, int) or not 0 <= code <= CODE_MAX:
        raise ValueError(f"AD5675R code must be an integer 0..65535, got {code!r}")
    return code
