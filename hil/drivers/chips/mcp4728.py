"""Driver for the Microchip MCP4728 quad 12-bit DAC (DS22187E; hardware reference §1).

The chip has no register address: the first byte of every write is a command. So the driver
sends raw `i2c_rdwr` messages only; an SMBus "register" helper would put a byte in front that
the chip parses as a command (`read_i2c_block_data(0x60, 0, 24)` starts a Fast Write).

The cyclic update is `fast_write` (one 9-byte transaction per chip). For a simultaneous update
of many chips keep LDAC high (or use `multi_write(..., udac=True)`) and finish with
`general_call(bus, SOFTWARE_UPDATE)`, which goes to address 0x00, never to the chip's own
address (there `08` would be the first byte of a Fast Write). EEPROM writes take 25-50 ms and
wear the EEPROM: `write_eeprom` is for power-on defaults, never for the update loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from smbus2 import i2c_msg

from hil.errors import DriverError
from hil.i2c.smbus import SMBusLike

CHANNELS = 4
CODE_MAX = 4095
READ_LENGTH = 24  # per channel A..D: 3 bytes input register, 3 bytes EEPROM

GENERAL_CALL_ADDRESS = 0x00
RESET = 0x06  # reload EEPROM into input and output registers
SOFTWARE_UPDATE = 0x08  # every input register -> output register
WAKE_UP = 0x09  # clear the power-down bits
GENERAL_CALL_COMMANDS = (RESET, SOFTWARE_UPDATE, WAKE_UP)

PD_NORMAL, PD_1K, PD_100K, PD_500K = 0, 1, 2, 3  # PD1:PD0, load to GND when powered down

EEPROM_POLL_SECONDS = 0.020  # as the Linux driver: poll RDY/BSY every 20 ms, 20 times
EEPROM_POLL_TRIES = 20

_MULTI_WRITE = 0x40
_SEQUENTIAL_WRITE = 0x50
_VREF = 0x80
_POWER_DOWN = 0xA0
_GAIN = 0xC0
_RDY = 0x80
_POR = 0x40


@dataclass(frozen=True)
class Mcp4728Channel:
    """One channel's register as read back: `vref_internal` False means VDD is the reference."""

    code: int
    vref_internal: bool
    gain2: bool
    pd: int


@dataclass(frozen=True)
class Mcp4728Readback:
    """The 24-byte read, parsed: input registers and EEPROM of channels A..D, plus status."""

    inputs: tuple[Mcp4728Channel, ...]
    eeprom: tuple[Mcp4728Channel, ...]
    ready: bool  # RDY/BSY: False while an EEPROM write runs
    por: bool  # the chip is powered above its POR threshold
    address: int  # 7-bit address from the input-register status bytes
    eeprom_address: int  # 7-bit address stored in EEPROM


def general_call(bus: SMBusLike, command: int) -> None:
    """Send `S 00 | command | P`: reaches every MCP4728 on the enabled bus segments."""
    if command not in GENERAL_CALL_COMMANDS:
        raise ValueError(f"MCP4728 general-call command must be one of 0x06 (RESET), "
                         f"0x08 (SOFTWARE_UPDATE), 0x09 (WAKE_UP), got 0x{command:02X}")
    bus.i2c_rdwr(i2c_msg.write(GENERAL_CALL_ADDRESS, [command]))


class Mcp4728:
    """One MCP4728. `sleep` is injectable so tests can run `write_eeprom` on a fake clock."""

    def __init__(self, bus: SMBusLike, address: int = 0x60, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not 0x60 <= address <= 0x67:
            raise ValueError(f"MCP4728 address must be 0x60..0x67, got 0x{address:02X}")
        self.bus = bus
        self.address = address
        self.sleep = sleep

    def read_all(self) -> Mcp4728Readback:
        """One raw 24-byte read (`S AR | 24 bytes | P`) of every register."""
        msg = i2c_msg.read(self.address, READ_LENGTH)
        self.bus.i2c_rdwr(msg)
        return self._parse(bytes(msg))

    def fast_write(self, codes: Sequence[int]) -> None:
        """Input registers A..D in one transaction (8 data bytes), PD 00, Vref/gain kept.

        The outputs follow when LDAC is low, or at the next general-call SOFTWARE_UPDATE.
        """
        _check_count("codes", codes)
        data: list[int] = []
        for code in codes:
            _check_code(code)
            data += [code >> 8, code & 0xFF]
        self._write(data)

    def multi_write(self, channel: int, code: int, *, vref_internal: bool = False,
                    gain2: bool = False, udac: bool = False) -> None:
        """One channel's input register with its reference and gain (`0x40|ch<<1|udac`).

        With `udac` False (and LDAC high) the channel's output updates at once; with `udac`
        True it waits for LDAC or a general-call SOFTWARE_UPDATE.
        """
        _check_channel(channel)
        _check_code(code)
        self._write([_MULTI_WRITE | channel << 1 | int(udac),
                     *_data_bytes(code, vref_internal, gain2)])

    def set_vref(self, internal: Sequence[bool]) -> None:
        """Reference per channel A..D (True = internal 2.048 V, False = VDD); applies at once."""
        _check_count("internal", internal)
        self._write([_VREF | _bits(internal)])

    def set_gain(self, x2: Sequence[bool]) -> None:
        """Gain per channel A..D (True = x2, internal reference only); applies at once."""
        _check_count("x2", x2)
        self._write([_GAIN | _bits(x2)])

    def power_down(self, modes: Sequence[int]) -> None:
        """PD1:PD0 per channel A..D (PD_NORMAL powers the channel up); applies at once."""
        _check_count("modes", modes)
        for mode in modes:
            if not PD_NORMAL <= mode <= PD_500K:
                raise ValueError(f"MCP4728 power-down mode must be 0..3, got {mode}")
        a, b, c, d = modes
        self._write([_POWER_DOWN | a << 2 | b, c << 6 | d << 4])

    def write_eeprom(self, codes: Sequence[int], *, vref_internal: bool | Sequence[bool] = False,
                     gain2: bool | Sequence[bool] = False) -> None:
        """Store power-on codes A..D (Sequential Write from A), then wait for RDY/BSY.

        The input registers and outputs change too (UDAC 0). Raises DriverError when the chip
        is still busy after 20 polls 20 ms apart (0.4 s, eight times the datasheet maximum), or
        when the EEPROM read back afterwards differs (a chip busy with an earlier EEPROM write
        ignores the command).
        """
        _check_count("codes", codes)
        vrefs = _per_channel("vref_internal", vref_internal)
        gains = _per_channel("gain2", gain2)
        data = [_SEQUENTIAL_WRITE]
        for code, vref, gain in zip(codes, vrefs, gains, strict=True):
            _check_code(code)
            data += _data_bytes(code, vref, gain)
        self._write(data)
        for _ in range(EEPROM_POLL_TRIES):
            self.sleep(EEPROM_POLL_SECONDS)
            if self._status() & _RDY:
                break
        else:
            raise DriverError(f"MCP4728 at 0x{self.address:02X} still busy writing EEPROM "
                              f"after {EEPROM_POLL_TRIES} polls "
                              f"{EEPROM_POLL_SECONDS * 1000:g} ms apart")
        wanted = tuple(Mcp4728Channel(code, bool(v), bool(g), PD_NORMAL)
                       for code, v, g in zip(codes, vrefs, gains, strict=True))
        stored = self.read_all().eeprom
        if stored != wanted:
            raise DriverError(f"MCP4728 at 0x{self.address:02X}: EEPROM holds {stored}, "
                              f"expected {wanted}")

    # --- frames -------------------------------------------------------------------------------
    def _write(self, data: list[int]) -> None:
        self.bus.i2c_rdwr(i2c_msg.write(self.address, data))

    def _status(self) -> int:
        """Byte 0 of a read: RDY/BSY, POR, channel, address bits."""
        msg = i2c_msg.read(self.address, 1)
        self.bus.i2c_rdwr(msg)
        return bytes(msg)[0]

    def _parse(self, data: bytes) -> Mcp4728Readback:
        inputs: list[Mcp4728Channel] = []
        eeprom: list[Mcp4728Channel] = []
        for channel in range(CHANNELS):
            for offset, into in ((0, inputs), (3, eeprom)):
                status, high, low = data[channel * 6 + offset: channel * 6 + offset + 3]
                if status >> 4 & 0b11 != channel:
                    raise DriverError(
                        f"MCP4728 at 0x{self.address:02X}: read-back byte "
                        f"{channel * 6 + offset} should name channel {'ABCD'[channel]}, "
                        f"got 0x{status:02X} (not an MCP4728, or the read was corrupted)")
                into.append(Mcp4728Channel(code=(high & 0x0F) << 8 | low,
                                           vref_internal=bool(high & 0x80),
                                           gain2=bool(high & 0x10), pd=high >> 5 & 0b11))
        return Mcp4728Readback(inputs=tuple(inputs), eeprom=tuple(eeprom),
                               ready=bool(data[0] & _RDY), por=bool(data[0] & _POR),
                               address=0x60 | data[0] & 0x07,
                               eeprom_address=0x60 | data[3] & 0x07)


def _data_bytes(code: int, vref_internal: bool, gain2: bool) -> list[int]:
    """`VREF PD1 PD0 GX D11..D8`, `D7..D0` with PD 00 (channel on)."""
    return [int(vref_internal) << 7 | int(gain2) << 4 | code >> 8, code & 0xFF]


def _bits(flags: Sequence[bool]) -> int:
    """Channel A in bit 3 .. channel D in bit 0, as the Vref and gain commands want them."""
    return sum(int(bool(flag)) << (3 - ch) for ch, flag in enumerate(flags))


def _per_channel(name: str, value: bool | Sequence[bool]) -> Sequence[bool]:
    if isinstance(value, bool):
        return [value] * CHANNELS
    _check_count(name, value)
    return value


def _check_count(name: str, values: Sequence[object]) -> None:
    if len(values) != CHANNELS:
        raise ValueError(f"MCP4728 {name} needs {CHANNELS} values (channels A..D), "
                         f"got {len(values)}")


def _check_channel(channel: int) -> None:
    if not isinstance(channel, int) or not 0 <= channel < CHANNELS:
        raise ValueError(f"MCP4728 channel must be 0..3, got {channel!r}")


def _check_code(code: int) -> None:
    if not isinstance(code, int) or not 0 <= code <= CODE_MAX:
        raise ValueError(f"MCP4728 code must be an integer 0..4095, got {code!r}")
