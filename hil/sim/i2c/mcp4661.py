"""Register model of the Microchip MCP4661 dual 257-position digital pot (DS22107B; reference 6.2).

Memory map (9-bit words): 0x00/0x01 volatile wipers, 0x02/0x03 non-volatile wipers, 0x04 TCON0,
0x05 STATUS, 0x06-0x0F general-purpose EEPROM. Each command byte is `AD3..AD0 C1 C0 D9 D8`:
C = 00 write (a data byte follows, D8 in the command byte), 01 increment and 10 decrement
(volatile wipers only, no data), 11 read (the data comes in the next read message, D8 first).
Several commands may follow one address byte. An invalid address/command combination is NACKed
and every further byte is NACKed until a new START, as the datasheet's error condition says.

Non-volatile writes start an EEPROM write cycle of `eeprom_write_seconds`. During it STATUS.EEWA
reads 1 and, as DS22107B Register 4-1 says, only the volatile locations (0x00, 0x01, 0x04, 0x05)
accept commands: a command to any other address is NACKed (the address byte itself is ACKed).

Choices where the datasheet is unconfirmed (reference section 12):
- Write time defaults to 5 ms; TCON0 resets to 0x1FF (every terminal connected, GCEN set);
  non-volatile wipers default to midscale (0x80), the EEPROM to 0.
- Wiper writes above 0x100 are clamped to 0x100 (full scale); D9 is ignored.
- Read data: the first byte carries only D8 (bits 7..1 read 0; STATUS reads 0x1F0 | EEWA<<3);
  reads past two bytes repeat the word; a read without a read command returns the last address
  a command used.
- R_WB = N/256 * R_AB * (1 + tolerance) + R_W; open (math.inf) when TCON disconnects W or B;
  in hardware shutdown (RxHW = 0) W connects to B, leaving R_W.
- High-voltage commands, WiperLock, write protect and general call are not modelled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from hil.sim.i2c.bus import I2cDevice

VOLATILE_WIPER = (0x00, 0x01)
NV_WIPER = (0x02, 0x03)
TCON0 = 0x04
STATUS = 0x05
EEPROM = tuple(range(0x06, 0x10))
NONVOLATILE = (*NV_WIPER, *EEPROM)
VOLATILE = (*VOLATILE_WIPER, TCON0, STATUS)

WRITE, INCREMENT, DECREMENT, READ = range(4)
FULL_SCALE = 0x100
TCON_RESET = 0x1FF
STATUS_RESERVED = 0x1F0  # D8:D4 forced to 1
STATUS_EEWA = 0x008


class SimMcp4661(I2cDevice):
    """Both pots of an MCP4661; resistances between W and B go out through `on_resistance`."""

    def __init__(self, address: int = 0x28, *, r_ab: float = 10_000.0, wiper_ohms: float = 0.0,
                 tolerance: float = 0.0, clock: Callable[[], float] = time.monotonic,
                 eeprom_write_seconds: float = 0.005,
                 on_resistance: Callable[[int, float], None] | None = None) -> None:
        if not 0x28 <= address <= 0x2F:
            raise ValueError(f"MCP4661 addresses are 0x28..0x2F, got 0x{address:02X}")
        if r_ab not in (5_000.0, 10_000.0, 50_000.0, 100_000.0):
            raise ValueError(f"r_ab must be one of 5000, 10000, 50000, 100000 ohms, got {r_ab:g}")
        self.address = address
        self.r_ab = r_ab
        self.wiper_ohms = wiper_ohms
        self.tolerance = tolerance
        self.clock = clock
        self.eeprom_write_seconds = eeprom_write_seconds
        self.on_resistance = on_resistance
        self.memory = [0] * 16
        self.memory[NV_WIPER[0]] = self.memory[NV_WIPER[1]] = 0x80
        self._last_ohms: list[float | None] = [None, None]
        self.power_cycle()

    # --- state ----------------------------------------------------------------------------
    def power_cycle(self) -> None:
        """POR: volatile wipers load from the non-volatile ones, TCON0 to its reset value."""
        self.memory[VOLATILE_WIPER[0]] = self.memory[NV_WIPER[0]]
        self.memory[VOLATILE_WIPER[1]] = self.memory[NV_WIPER[1]]
        self.memory[TCON0] = TCON_RESET
        self._busy_until: float | None = None
        self.pointer = 0x00
        self._error = False
        self._pending: tuple[int, int] | None = None  # (address, D8) of a write awaiting data
        self._tx_index = 0
        self._word = 0
        self._notify()

    @property
    def eeprom_busy(self) -> bool:
        """STATUS.EEWA: an EEPROM write cycle is running."""
        if self._busy_until is not None and self.clock() >= self._busy_until:
            self._busy_until = None
        return self._busy_until is not None

    def wiper(self, wiper: int) -> int:
        return self.memory[VOLATILE_WIPER[wiper]]

    def resistance(self, wiper: int) -> float:
        """R_WB of pot `wiper` in ohms, as TCON0 connects it."""
        tcon = self.memory[TCON0] >> (4 * wiper)
        if not tcon & 0x8:  # RxHW = 0: A open, W tied to B
            return self.wiper_ohms
        if not (tcon & 0x2 and tcon & 0x1):  # RxW or RxB disconnected
            return math.inf
        r_ab = self.r_ab * (1.0 + self.tolerance)
        return self.wiper(wiper) / 256 * r_ab + self.wiper_ohms

    def _notify(self) -> None:
        for wiper in (0, 1):
            ohms = self.resistance(wiper)
            if ohms != self._last_ohms[wiper]:
                self._last_ohms[wiper] = ohms
                if self.on_resistance is not None:
                    self.on_resistance(wiper, ohms)

    def _read_memory(self, address: int) -> int:
        if address == STATUS:
            return STATUS_RESERVED | (STATUS_EEWA if self.eeprom_busy else 0)
        return self.memory[address]

    # --- commands -------------------------------------------------------------------------
    def _valid(self, address: int, command: int) -> bool:
        if self.eeprom_busy and address not in VOLATILE:
            return False
        if command == WRITE:
            return address != STATUS
        if command in (INCREMENT, DECREMENT):
            return address in VOLATILE_WIPER
        return True

    def _write(self, address: int, value: int) -> None:
        if address in (*VOLATILE_WIPER, *NV_WIPER):
            value = min(value, FULL_SCALE)
        self.memory[address] = value & 0x1FF
        if address in NONVOLATILE:
            self._busy_until = self.clock() + self.eeprom_write_seconds
        self._notify()

    def _step(self, address: int, delta: int) -> None:
        self.memory[address] = max(0, min(FULL_SCALE, self.memory[address] + delta))
        self._notify()

    # --- bus events -----------------------------------------------------------------------
    def start(self, read: bool) -> bool:
        self._error = False
        self._pending = None  # a START where data was expected aborts the command
        self._tx_index = 0
        return True

    def write_byte(self, value: int) -> bool:
        if self._error:
            return False
        if self._pending is not None:
            address, d8 = self._pending
            self._pending = None
            self._write(address, d8 << 8 | value)
            return True
        address, command, d8 = value >> 4, value >> 2 & 0x3, value & 0x1
        if not self._valid(address, command):
            self._error = True
            return False
        self.pointer = address
        if command == WRITE:
            self._pending = (address, d8)
        elif command == INCREMENT:
            self._step(address, +1)
        elif command == DECREMENT:
            self._step(address, -1)
        return True

    def read_byte(self) -> int:
        if self._tx_index % 2 == 0:
            self._word = self._read_memory(self.pointer)
            value = self._word >> 8 & 0x1
        else:
            value = self._word & 0xFF
        self._tx_index += 1
        return value

    def stop(self) -> None:
        self._pending = None
        self._error = False
