"""Register model of the Analog Devices AD5272/AD5274 digital rheostat (Rev. D; reference 6.1).

The rig emulates an NTC thermistor with the resistance between terminals W and A, so the model
reports that resistance to the analog world through `on_resistance` whenever it changes.

Each command is one 16-bit word `0 0 C3 C2 C1 C0 D9 D8 | D7..D0`, executed when its second byte
arrives. The RDAC register is write-protected after power-up until control bit C1 is set
(command 7). Storing to 50-TP memory takes `store_seconds` (datasheet: about 350 ms) during
which the chip NACKs its address, so drivers must ACK-poll. A read returns the word selected by
the last read command (2, 5, 6, 8) as `0 0 0 0 0 0 D9 D8 | D7..D0`.

Choices where the datasheet is silent (reference section 12):
- A word whose top two bits are not 0, or a command 10..15, is ACKed and ignored; a word cut
  short by STOP is discarded; several words may follow one address byte.
- Reads past the second byte repeat the word; with no read command since power-up a read
  returns RDAC.
- 50-TP locations are numbered 1..50 (the first store goes to location 1; command 6 reads 0 while
  none is programmed); an unprogrammed location reads 0. A store with C0 (program enable)
  clear is ignored; a store with all 50 locations used is ignored and clears C3.
- Software reset (command 4) reloads RDAC only: control register and shutdown are unchanged.
- RDAC may be written during shutdown; the resistance stays open (math.inf) until it ends.
- Control bit C2 (resistor performance mode, polarity unconfirmed) is stored, nothing else.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from hil.sim.i2c.bus import I2cDevice

ADDRESSES = (0x2C, 0x2E, 0x2F)
FUSE_COUNT = 50
CTRL_PROGRAM_ENABLE = 0x1  # C0: 50-TP program enable
CTRL_RDAC_WRITE = 0x2  # C1: RDAC write enable
CTRL_PERFORMANCE = 0x4  # C2: resistor performance mode
CTRL_FUSE_OK = 0x8  # C3: last 50-TP program succeeded (read-only)

NOP, WRITE_RDAC, READ_RDAC, STORE, RESET, READ_FUSE, READ_LAST_FUSE, WRITE_CONTROL, \
    READ_CONTROL, SHUTDOWN = range(10)


class SimAd5272(I2cDevice):
    """AD5272 (positions=1024; 20/50/100 kOhm) or AD5274 (positions=256; 20/100 kOhm).

    `tolerance` is the fractional end-to-end error (0.01 = +1 %), `wiper_ohms` the resistance
    left at code 0; `fuses` pre-programs 50-TP memory (oldest first) as if stored earlier.
    """

    def __init__(self, address: int = 0x2F, *, r_nominal: float = 20_000.0,
                 positions: int = 1024, wiper_ohms: float = 0.0, tolerance: float = 0.0,
                 clock: Callable[[], float] = time.monotonic, store_seconds: float = 0.35,
                 on_resistance: Callable[[float], None] | None = None,
                 fuses: Sequence[int] = ()) -> None:
        if address not in ADDRESSES:
            raise ValueError(f"AD5272 addresses are 0x2C, 0x2E, 0x2F, got 0x{address:02X}")
        if positions not in (1024, 256):
            raise ValueError(f"positions must be 1024 (AD5272) or 256 (AD5274), got {positions}")
        allowed = (20_000.0, 50_000.0, 100_000.0) if positions == 1024 else (20_000.0, 100_000.0)
        if r_nominal not in allowed:
            raise ValueError(f"r_nominal must be one of {', '.join(f'{r:g}' for r in allowed)}"
                             f" ohms for {positions} positions, got {r_nominal:g}")
        if len(fuses) > FUSE_COUNT or any(not 0 <= f < positions for f in fuses):
            raise ValueError(f"fuses: at most {FUSE_COUNT} codes in 0..{positions - 1}")
        self.address = address
        self.r_nominal = r_nominal
        self.positions = positions
        self.wiper_ohms = wiper_ohms
        self.tolerance = tolerance
        self.clock = clock
        self.store_seconds = store_seconds
        self.on_resistance = on_resistance
        self.fuses = list(fuses)
        self._last_ohms: float | None = None
        self.power_cycle()

    # --- state ----------------------------------------------------------------------------
    def power_cycle(self) -> None:
        """Power-up: RDAC from the last 50-TP value (or midscale), write-protected, awake."""
        self.control = 0x0
        self.shutdown = False
        self.rdac = self._reload_value()
        self._busy_until: float | None = None
        self._selected: tuple[int, int] = (READ_RDAC, 0)
        self._rx: list[int] = []
        self._tx_index = 0
        self._word = 0
        self._notify()

    def _reload_value(self) -> int:
        return self.fuses[-1] if self.fuses else self.positions // 2

    @property
    def busy(self) -> bool:
        """True while a 50-TP store is in progress (the address is NACKed)."""
        if self._busy_until is not None and self.clock() >= self._busy_until:
            self._busy_until = None
        return self._busy_until is not None

    @property
    def resistance(self) -> float:
        """R_WA in ohms: code/positions of the actual end-to-end resistance, plus the wiper."""
        if self.shutdown:
            return math.inf
        actual = self.r_nominal * (1.0 + self.tolerance)
        return self.rdac / self.positions * actual + self.wiper_ohms

    @property
    def step_ohms(self) -> float:
        return self.r_nominal * (1.0 + self.tolerance) / self.positions

    def _notify(self) -> None:
        ohms = self.resistance
        if ohms != self._last_ohms:
            self._last_ohms = ohms
            if self.on_resistance is not None:
                self.on_resistance(ohms)

    # --- commands -------------------------------------------------------------------------
    def _execute(self, command: int, data: int) -> None:
        shift = 0 if self.positions == 1024 else 2  # AD5274 data sits in D9..D2
        if command == WRITE_RDAC:
            if self.control & CTRL_RDAC_WRITE:
                self.rdac = data >> shift
        elif command == STORE:
            self._store()
        elif command == RESET:
            self.rdac = self._reload_value()
        elif command in (READ_RDAC, READ_FUSE, READ_LAST_FUSE, READ_CONTROL):
            self._selected = (command, data & 0x3F)
        elif command == WRITE_CONTROL:
            self.control = (self.control & CTRL_FUSE_OK) | (data & 0x7)
        elif command == SHUTDOWN:
            self.shutdown = bool(data & 0x1)
        self._notify()

    def _store(self) -> None:
        if not self.control & CTRL_PROGRAM_ENABLE:
            return
        if len(self.fuses) >= FUSE_COUNT:
            self.control &= ~CTRL_FUSE_OK
            return
        self.fuses.append(self.rdac)
        self.control |= CTRL_FUSE_OK
        self._busy_until = self.clock() + self.store_seconds

    def _read_word(self) -> int:
        command, location = self._selected
        shift = 0 if self.positions == 1024 else 2
        if command == READ_RDAC:
            return self.rdac << shift
        if command == READ_FUSE:
            ok = 1 <= location <= len(self.fuses)
            return self.fuses[location - 1] << shift if ok else 0
        if command == READ_LAST_FUSE:
            return len(self.fuses)
        return self.control

    # --- bus events -----------------------------------------------------------------------
    def start(self, read: bool) -> bool:
        if self.busy:
            return False  # 50-TP programming: the shift register is locked
        self._rx = []
        self._tx_index = 0
        return True

    def write_byte(self, value: int) -> bool:
        self._rx.append(value & 0xFF)
        if len(self._rx) == 2:
            first, second = self._rx
            self._rx = []
            if not first & 0xC0:
                self._execute(first >> 2 & 0xF, (first & 0x3) << 8 | second)
        return True

    def read_byte(self) -> int:
        if self._tx_index % 2 == 0:
            self._word = self._read_word()
            value = self._word >> 8 & 0x3
        else:
            value = self._word & 0xFF
        self._tx_index += 1
        return value

    def stop(self) -> None:
        self._rx = []
        self._tx_index = 0
