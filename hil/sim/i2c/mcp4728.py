"""Register model of the Microchip MCP4728 quad 12-bit DAC with EEPROM (DS22187E; reference §1).

Per channel the chip holds an input register, an output register (what the pin shows) and an
EEPROM copy, each {vref, pd, gain, code}. Writes are a byte stream whose command is the top bits
of the first byte; input registers are written at the ACK of each channel's last byte, and the
output follows by DS Table 4-5: LDAC low -> all outputs; LDAC high and UDAC=0 -> the addressed
channel; UDAC=1 (and Fast Write, which has no UDAC bit) -> nothing until LDAC falls or a
general-call software update. EEPROM writes hold RDY/BSY low for `EEPROM_WRITE_SECONDS` on the
injected clock. A read returns 24 bytes (input then EEPROM, 3 bytes each, channels A..D), then
repeats. Writing the "register" byte that SMBus helpers put first is therefore a command: a
`read_i2c_block_data(0x60, 0x8F, n)` switches every channel to the internal reference.

Choices where the datasheet (as read for the reference) is silent:
- While an EEPROM write runs, the chip keeps acknowledging: reads must work, since RDY/BSY is
  polled by reading. Commands that would write EEPROM again (Sequential Write, Single Write,
  address write) are ACKed and ignored, so a driver that does not wait loses the write and a
  read-back shows it; volatile commands (Fast/Multi-Write, Vref, gain, power-down) still apply.
  This follows the sibling MCP47x6 datasheet (DS22272C §6.3), not an MCP4728 statement.
- EEPROM contents change at once; only RDY/BSY shows the write time (25 ms, the typical value).
- A START, repeated START or STOP drops a half-received group (a lone Fast Write byte changes
  nothing). After a complete Fast Write (channel D), Vref, gain or power-down command, the next
  byte is parsed as a new command; Multi-Write repeats 3-byte groups until STOP (the group's
  first byte only selects channel and UDAC, DS fig. 5-8); bytes after a Sequential or Single
  Write are ignored. Undefined command bits (010 01, 111) are ACKed and ignored. The top two
  bits of channels B..D's first Fast Write byte are not checked.
- Vref, gain and power-down commands set input and output registers at once ("registers and
  VOUT are updated at this ACK", DS fig. 5-14); they never touch EEPROM.
- The address write (011...) needs LDAC to fall during byte 2; the model has no clock edges,
  so it ACKs byte 3 only if `ldac` is low when byte 3 arrives (set it low before writing).
- General-call read-address (0x0C) is not modelled: that byte, and any general-call command
  other than 0x06/0x08/0x09, is NACKed, so a driver relying on it fails loudly in simulation.
- The output clips to the rails (0..VDD), e.g. internal reference x2 at VDD = 3.3 V; a
  powered-down output reads 0 V (the pull-down resistor, no load modelled).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from hil.sim.i2c.bus import I2cDevice

CHANNELS = 4
INTERNAL_VREF = 2.048
EEPROM_WRITE_SECONDS = 0.025  # typical; the datasheet maximum is 50 ms
READ_LENGTH = 24

GC_RESET = 0x06
GC_SOFTWARE_UPDATE = 0x08
GC_WAKE_UP = 0x09

# Command names: the parser's state, and what `trace` records.
_FAST, _MULTI, _SEQUENTIAL, _SINGLE, _ADDRESS, _POWER_DOWN, _IGNORE = (
    "fast_write", "multi_write", "sequential_write", "single_write", "write_address",
    "power_down", "ignore")


@dataclass(frozen=True)
class Mcp4728Register:
    """One channel's settings as the chip stores them (input, output or EEPROM register).

    Fields are the datasheet bits: `vref` 1 = internal 2.048 V, 0 = VDD; `pd` PD1:PD0, 0 = on;
    `gain` GX 1 = x2 (ignored with the VDD reference); `code` D11..D0.
    """

    vref: int = 0
    pd: int = 0
    gain: int = 0
    code: int = 0

    def __post_init__(self) -> None:
        for name, value, top in (("vref", self.vref, 1), ("pd", self.pd, 3),
                                 ("gain", self.gain, 1), ("code", self.code, 4095)):
            if not 0 <= value <= top:
                raise ValueError(f"MCP4728 {name} must be 0..{top}, got {value}")

    def pack(self) -> tuple[int, int]:
        """The two bytes `VREF PD1 PD0 GX D11..D8`, `D7..D0` (writes and read-back alike)."""
        return (self.vref << 7 | self.pd << 5 | self.gain << 4 | self.code >> 8,
                self.code & 0xFF)

    @classmethod
    def unpack(cls, high: int, low: int) -> Mcp4728Register:
        return cls(vref=high >> 7 & 1, pd=high >> 5 & 3, gain=high >> 4 & 1,
                   code=(high & 0x0F) << 8 | low)


class SimMcp4728(I2cDevice):
    """An MCP4728 whose pins report through `on_output(channel, volts)` when they change.

    `on_output` is also called at power-on for channels that come up above 0 V.

    `ldac` is the LDAC pin level (True = high, the default); setting it low updates all outputs
    and keeps them following the input registers while low. `errors` gives each channel an
    (offset_volts, gain_error) pair: `volts = ideal * (1 + gain_error) + offset_volts`.
    """

    general_call = True

    def __init__(self, address: int = 0x60, *, eeprom: Sequence[Mcp4728Register] | None = None,
                 vdd: float = 5.0, errors: Sequence[tuple[float, float]] | None = None,
                 on_output: Callable[[int, float], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not 0x60 <= address <= 0x67:
            raise ValueError(f"MCP4728 addresses are 0x60..0x67, got 0x{address:02X}")
        if eeprom is not None and len(eeprom) != CHANNELS:
            raise ValueError(f"MCP4728 eeprom needs {CHANNELS} channels, got {len(eeprom)}")
        if errors is not None and len(errors) != CHANNELS:
            raise ValueError(f"MCP4728 errors needs {CHANNELS} channels, got {len(errors)}")
        self.eeprom = list(eeprom) if eeprom is not None else [Mcp4728Register()] * CHANNELS
        self.eeprom_address = address
        self.vdd = vdd
        self.errors = [(float(o), float(g)) for o, g in errors or [(0.0, 0.0)] * CHANNELS]
        self.on_output = on_output
        self.clock = clock
        self.por = True  # the model is always powered above the POR threshold
        self.trace: deque[str] = deque(maxlen=64)  # decoded commands, newest last, for tests
        self._ldac = True
        self._busy_until = float("-inf")
        self._volts = [0.0] * CHANNELS
        self._command: str | None = None  # the command being received, None between commands
        self._bytes: list[int] = []  # its bytes so far (the current group)
        self._channel = 0  # next channel of a Fast or Sequential Write
        self._gc = False  # this message is a general call
        self._read_index = 0
        self.power_on()

    # --- pins and state ---------------------------------------------------------------------
    def power_on(self) -> None:
        """POR (or general-call reset): EEPROM -> input and output registers, address bits."""
        self.address = self.eeprom_address
        self.inputs = list(self.eeprom)
        self.outputs = list(self.eeprom)
        self._notify()

    @property
    def ldac(self) -> bool:
        return self._ldac

    @ldac.setter
    def ldac(self, level: bool) -> None:
        falling = self._ldac and not level
        self._ldac = bool(level)
        if falling:
            self._update(range(CHANNELS))

    @property
    def ready(self) -> bool:
        """RDY/BSY: False while an EEPROM write is in progress."""
        return self.clock() >= self._busy_until

    def output_volts(self, channel: int) -> float:
        reg = self.outputs[channel]
        if reg.pd:
            return 0.0
        if reg.vref:
            ideal = INTERNAL_VREF * (2 if reg.gain else 1) * reg.code / 4096
        else:
            ideal = self.vdd * reg.code / 4096
        offset, gain_error = self.errors[channel]
        return min(max(ideal * (1 + gain_error) + offset, 0.0), self.vdd)

    # --- bus events -------------------------------------------------------------------------
    def start(self, read: bool) -> bool:
        self._reset_parser()
        return True

    def start_general_call(self) -> bool:
        self._reset_parser()
        self._gc = True
        return True

    def stop(self) -> None:
        self._reset_parser()

    def read_byte(self) -> int:
        index = self._read_index % READ_LENGTH
        self._read_index += 1
        channel, offset = divmod(index, 6)
        from_eeprom = offset >= 3
        if offset % 3 == 0:
            address = self.eeprom_address if from_eeprom else self.address
            return (self.ready << 7 | self.por << 6 | channel << 4 | (address & 0x07))
        reg = (self.eeprom if from_eeprom else self.inputs)[channel]
        return reg.pack()[offset % 3 - 1]

    def write_byte(self, value: int) -> bool:
        value &= 0xFF
        if self._gc:
            return self._general_call(value)
        if self._command is None:
            return self._begin(value)
        self._bytes.append(value)
        match self._command:
            case "fast_write":
                return self._fast_write()
            case "multi_write":
                return self._multi_write()
            case "sequential_write":
                return self._sequential_write()
            case "single_write":
                return self._single_write()
            case "write_address":
                return self._write_address()
            case "power_down":
                return self._power_down()
        return True  # ignored until STOP

    # --- the command parser -----------------------------------------------------------------
    def _reset_parser(self) -> None:
        """START, repeated START or STOP: a half-received group is dropped."""
        if self._command not in (None, _IGNORE) and self._bytes:
            self.trace.append(f"incomplete {self._command}")
        self._command = None
        self._bytes = []
        self._channel = 0
        self._gc = False
        self._read_index = 0

    def _begin(self, value: int) -> bool:
        kind = value >> 5
        if value >> 6 == 0:
            self._open(_FAST, value)
            self._channel = 0
        elif kind == 0b010:
            function = value >> 3 & 0b11
            if function == 0b00:
                self._open(_MULTI, value)
            elif function == 0b10:
                self._open_eeprom_write(_SEQUENTIAL, value)
                self._channel = value >> 1 & 0b11
            elif function == 0b11:
                self._open_eeprom_write(_SINGLE, value)
            else:
                self._ignore(value, "undefined")
        elif kind == 0b011:
            current = value >> 2 & 0b111
            if value & 0b11 != 0b01 or current != self.address & 0b111:
                self._ignore(value, "not this chip's address bits")
            else:
                self._open_eeprom_write(_ADDRESS, value)
        elif kind == 0b100:
            self.trace.append("vref")
            self._set_bits("vref", value)
        elif kind == 0b110:
            self.trace.append("gain")
            self._set_bits("gain", value)
        elif kind == 0b101:
            self._open(_POWER_DOWN, value)
        else:
            self._ignore(value, "undefined")
        return True

    def _open(self, command: str, value: int) -> None:
        self.trace.append(command)
        self._command = command
        self._bytes = [value]

    def _open_eeprom_write(self, command: str, value: int) -> None:
        if not self.ready:
            self._ignore(value, "EEPROM busy")
        else:
            self._open(command, value)

    def _ignore(self, value: int, why: str) -> None:
        self.trace.append(f"ignored 0x{value:02X} ({why})")
        self._command = _IGNORE
        self._bytes = []

    def _fast_write(self) -> bool:
        if len(self._bytes) == 2:
            high, low = self._bytes
            channel = self._channel
            reg = replace(self.inputs[channel], pd=high >> 4 & 0b11,
                          code=(high & 0x0F) << 8 | low)
            self._bytes = []
            self._channel += 1
            if self._channel == CHANNELS:
                self._command = None  # the next byte is a new command
            self._load(channel, reg, udac=1)  # no UDAC bit: the output waits for LDAC
        return True

    def _multi_write(self) -> bool:
        if len(self._bytes) == 3:
            select, high, low = self._bytes
            self._bytes = []
            self._load(select >> 1 & 0b11, Mcp4728Register.unpack(high, low), udac=select & 1)
        return True

    def _sequential_write(self) -> bool:
        if len(self._bytes) == 3:
            udac = self._bytes[0] & 1
            channel = self._channel
            reg = Mcp4728Register.unpack(self._bytes[1], self._bytes[2])
            del self._bytes[1:]
            self._channel += 1
            self._load(channel, reg, udac)
            if self._channel == CHANNELS:
                first = self._bytes[0] >> 1 & 0b11
                for ch in range(first, CHANNELS):
                    self.eeprom[ch] = self.inputs[ch]
                self._eeprom_written()
        return True

    def _single_write(self) -> bool:
        if len(self._bytes) == 3:
            select, high, low = self._bytes
            channel = select >> 1 & 0b11
            reg = Mcp4728Register.unpack(high, low)
            self.eeprom[channel] = reg
            self._load(channel, reg, udac=select & 1)
            self._eeprom_written()
        return True

    def _write_address(self) -> bool:
        """`011 cA2..cA0 01`, `011 nA2..nA0 10`, `011 nA2..nA0 11` (byte 3 needs LDAC low)."""
        value = self._bytes[-1]
        tag = 0b10 if len(self._bytes) == 2 else 0b11
        if value >> 5 != 0b011 or value & 0b11 != tag:
            self._ignore(value, f"bad address-write byte {len(self._bytes)}")
            return True
        if tag == 0b10:
            return True
        if self._ldac:
            self.trace.append("write_address NACK (LDAC not low)")
            self._command = _IGNORE
            return False
        new = value >> 2 & 0b111
        if new != self._bytes[1] >> 2 & 0b111:
            self._ignore(value, "address bits differ between bytes 2 and 3")
            return True
        self.address = self.eeprom_address = 0x60 | new
        self._eeprom_written()
        return True

    def _power_down(self) -> bool:
        first, second = self._bytes
        modes = (first >> 2 & 0b11, first & 0b11, second >> 6 & 0b11, second >> 4 & 0b11)
        self.inputs = [replace(r, pd=m) for r, m in zip(self.inputs, modes, strict=True)]
        self.outputs = [replace(r, pd=m) for r, m in zip(self.outputs, modes, strict=True)]
        self._command = None
        self._bytes = []
        self._notify()
        return True

    def _general_call(self, value: int) -> bool:
        if self._command == _IGNORE:
            return True
        if value == GC_RESET:
            self.trace.append("gc_reset")
            self.power_on()
        elif value == GC_WAKE_UP:
            self.trace.append("gc_wake_up")
            self.inputs = [replace(r, pd=0) for r in self.inputs]
            self.outputs = [replace(r, pd=0) for r in self.outputs]
            self._notify()
        elif value == GC_SOFTWARE_UPDATE:
            self.trace.append("gc_software_update")
            self._update(range(CHANNELS))
        else:
            self.trace.append(f"gc 0x{value:02X} NACK (not modelled)")
            return False
        self._command = _IGNORE  # one command per general call; later bytes are ignored
        return True

    # --- registers to pins ------------------------------------------------------------------
    def _set_bits(self, field: str, value: int) -> None:
        """Vref or gain select: bit 3 = channel A .. bit 0 = channel D, input and output."""
        bits = [value >> (3 - ch) & 1 for ch in range(CHANNELS)]
        self.inputs = [replace(r, **{field: b}) for r, b in zip(self.inputs, bits, strict=True)]
        self.outputs = [replace(r, **{field: b}) for r, b in zip(self.outputs, bits, strict=True)]
        self._notify()

    def _load(self, channel: int, reg: Mcp4728Register, udac: int) -> None:
        """An input register was written: apply DS Table 4-5 to the outputs."""
        self.inputs[channel] = reg
        if not self._ldac:
            self._update(range(CHANNELS))
        elif not udac:
            self._update([channel])

    def _update(self, channels: Iterable[int]) -> None:
        for ch in channels:
            self.outputs[ch] = self.inputs[ch]
        self._notify()

    def _eeprom_written(self) -> None:
        self._busy_until = self.clock() + EEPROM_WRITE_SECONDS
        self._command = _IGNORE

    def _notify(self) -> None:
        for ch in range(CHANNELS):
            volts = self.output_volts(ch)
            if volts != self._volts[ch]:
                self._volts[ch] = volts
                if self.on_output is not None:
                    self.on_output(ch, volts)
