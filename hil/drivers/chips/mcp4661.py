"""Driver for the Microchip MCP4661 dual digital pot, in the Linux mcp4531 driver's byte forms.

Write: `write_byte_data(addr, mem<<4 | v>>8, v & 0xFF)`; read: `read_word_data(addr,
mem<<4 | 0x0C)`, byte-swapped because SMBus words are little-endian and the chip sends D8 first
(../shared/hardware-reference.md section 6.2). Wipers take 0..256 (257 positions).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hil.errors import DriverError
from hil.i2c.smbus import SMBusLike

VOLATILE_WIPER = (0x00, 0x01)
NV_WIPER = (0x02, 0x03)
STATUS = 0x05
STATUS_EEWA = 0x008
CMD_WRITE, CMD_INCREMENT, CMD_DECREMENT, CMD_READ = 0x00, 0x04, 0x08, 0x0C
FULL_SCALE = 0x100


def _check_wiper(wiper: int) -> int:
    if wiper not in (0, 1):
        raise ValueError(f"MCP4661 wiper must be 0 or 1, got {wiper!r}")
    return wiper


class Mcp4661:
    """Both pots of one MCP4661; `sleep`/`clock` are used only to wait out EEPROM writes."""

    def __init__(self, bus: SMBusLike, address: int = 0x28, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bus = bus
        self.address = address
        self.sleep = sleep
        self.clock = clock

    def _memory(self, wiper: int, nonvolatile: bool) -> int:
        return (NV_WIPER if nonvolatile else VOLATILE_WIPER)[_check_wiper(wiper)]

    def write_wiper(self, wiper: int, value: int, nonvolatile: bool = False) -> None:
        """Set a wiper (0..256). A non-volatile write starts a ~5 ms EEPROM cycle; call
        `wait_eeprom()` before the next non-volatile access (volatile ones work meanwhile)."""
        if not 0 <= value <= FULL_SCALE:
            raise ValueError(f"MCP4661 wiper value must be 0..{FULL_SCALE}, got {value!r}")
        mem = self._memory(wiper, nonvolatile)
        self.bus.write_byte_data(self.address, mem << 4 | CMD_WRITE | value >> 8, value & 0xFF)

    def read_wiper(self, wiper: int, nonvolatile: bool = False) -> int:
        return self._read(self._memory(wiper, nonvolatile))

    def increment(self, wiper: int) -> None:
        """One step towards terminal A (stops at 256): a 1-byte command."""
        self.bus.write_byte(self.address, VOLATILE_WIPER[_check_wiper(wiper)] << 4 | CMD_INCREMENT)

    def decrement(self, wiper: int) -> None:
        """One step towards terminal B (stops at 0)."""
        self.bus.write_byte(self.address, VOLATILE_WIPER[_check_wiper(wiper)] << 4 | CMD_DECREMENT)

    def read_status(self) -> int:
        return self._read(STATUS)

    def wait_eeprom(self, timeout: float = 0.05, poll_seconds: float = 0.001) -> None:
        """Poll STATUS until EEWA clears; DriverError after `timeout` seconds."""
        started = self.clock()
        while self.read_status() & STATUS_EEWA:
            if self.clock() - started > timeout:
                raise DriverError(f"MCP4661 at 0x{self.address:02X}: EEPROM write still active "
                                  f"after {timeout} s")
            self.sleep(poll_seconds)

    def _read(self, mem: int) -> int:
        word = self.bus.read_word_data(self.address, mem << 4 | CMD_READ)
        return ((word & 0xFF) << 8 | word >> 8) & 0x1FF  # D8 arrives first
