"""Driver for the Analog Devices AD5272/AD5274 digital rheostat (the NTC emulator's resistor).

Every command is one 2-byte write `0 0 C3 C2 C1 C0 D9 D8 | D7..D0`; reads are a command write,
STOP, then a separate 2-byte read, as the Linux iio driver does (../shared/hardware-reference.md
section 6.1). After power-up RDAC is write-protected: call `unlock()` once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from smbus2 import i2c_msg

from hil.errors import DriverError
from hil.i2c.smbus import SMBusLike

NOP, WRITE_RDAC, READ_RDAC, STORE, RESET, READ_FUSE, READ_LAST_FUSE, WRITE_CONTROL, \
    READ_CONTROL, SHUTDOWN = range(10)
CTRL_PROGRAM_ENABLE = 0x1
CTRL_RDAC_WRITE = 0x2
CTRL_FUSE_OK = 0x8


class Ad5272:
    """One rheostat; `positions` is 1024 (AD5272) or 256 (AD5274, data in D9..D2)."""

    def __init__(self, bus: SMBusLike, address: int = 0x2F, positions: int = 1024, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if positions not in (1024, 256):
            raise ValueError(f"positions must be 1024 (AD5272) or 256 (AD5274), got {positions}")
        self.bus = bus
        self.address = address
        self.positions = positions
        self.sleep = sleep
        self.clock = clock
        self._shift = 0 if positions == 1024 else 2

    def _command(self, command: int, data: int = 0) -> None:
        self.bus.write_byte_data(self.address, command << 2 | data >> 8, data & 0xFF)

    def _query(self, command: int, data: int = 0) -> int:
        """A read command, STOP, then a 2-byte read: the 10-bit data field."""
        self._command(command, data)
        read = i2c_msg.read(self.address, 2)
        self.bus.i2c_rdwr(read)
        msb, lsb = list(read)
        return (msb & 0x3) << 8 | lsb

    def _check_code(self, code: int) -> int:
        if not 0 <= code < self.positions:
            raise ValueError(f"AD527x code must be 0..{self.positions - 1}, got {code!r}")
        return code

    def unlock(self) -> None:
        """Allow RDAC writes (control C1 = 1): `1C 02`. 50-TP programming stays disabled."""
        self._command(WRITE_CONTROL, CTRL_RDAC_WRITE)

    def write(self, code: int) -> None:
        """Set the wiper: `04|D9D8 D7..D0`, e.g. 512 -> `06 00`."""
        self._command(WRITE_RDAC, self._check_code(code) << self._shift)

    def read(self) -> int:
        """The RDAC code: `08 00`, then a 2-byte read."""
        return self._query(READ_RDAC) >> self._shift

    def read_control(self) -> int:
        """The control register (C3 = last 50-TP store succeeded): `20 00`, then 2 bytes."""
        return self._query(READ_CONTROL) & 0xF

    def reset(self) -> None:
        """Software reset: RDAC reloads the last 50-TP value, or midscale: `10 00`."""
        self._command(RESET)

    def shutdown(self, on: bool) -> None:
        """Disconnect A from W (`24 01`) or reconnect (`24 00`)."""
        self._command(SHUTDOWN, 1 if on else 0)

    def store(self, timeout: float = 1.0, poll_seconds: float = 0.02) -> None:
        """Burn the current RDAC into the next 50-TP location (one of only 50: not in loops).

        Enables programming (`1C 03`), stores (`0C 00`), ACK-polls with NOPs (`00 00`) while the
        chip NACKs during its ~350 ms program cycle, checks C3, and disables programming again
        (`1C 02`). Raises DriverError on timeout or when C3 says the store failed.
        """
        self._command(WRITE_CONTROL, CTRL_RDAC_WRITE | CTRL_PROGRAM_ENABLE)
        self._command(STORE)
        started = self.clock()
        while True:
            self.sleep(poll_seconds)
            try:
                self._command(NOP)
                break
            except OSError as err:  # NACK while programming
                if self.clock() - started > timeout:
                    raise DriverError(f"AD5272 at 0x{self.address:02X}: still busy {timeout} s "
                                      "after a 50-TP store (expected about 0.35 s)") from err
        control = self.read_control()
        self.unlock()
        if not control & CTRL_FUSE_OK:
            raise DriverError(f"AD5272 at 0x{self.address:02X}: 50-TP store failed "
                              f"(control register 0x{control:X}, C3 = 0; memory full?)")

    @staticmethod
    def code_for_ohms(ohms: float, r_nominal: float, positions: int = 1024,
                      wiper_ohms: float = 0.0) -> int:
        """The nearest code for R_WA = code/positions * r_nominal + wiper_ohms."""
        code = round((ohms - wiper_ohms) / r_nominal * positions)
        if not 0 <= code < positions:
            raise ValueError(f"{ohms:g} ohms is outside what a {r_nominal:g} ohm, {positions}-"
                             f"position rheostat can reach (0..{positions - 1} codes)")
        return code
