"""Register model of the Analog Devices AD5675R octal 16-bit DAC (hardware reference §2).

Writes are 24-bit words `C3..C0 A3..A0 | D15..D8 | D7..D0`, executed when the third byte is
acknowledged; the address nibble is the channel number 0..7. Per channel the chip holds an
input register and a DAC register (what the pin shows). Command 0x1 writes the input register
only (the output follows on a falling LDAC edge, or at once while LDAC is held low), 0x2 copies
input to DAC register, 0x3 writes both. The LDAC mask (command 0x5, 1 = ignore the pin), power
down (0x4, two bits per channel), software reset (0x6) and reference setup (0x7, D0 = 1
disables the internal 2.5 V reference) complete the set. A read returns the input register at
the pointer, MSB first, then the next channel's. Output: `Vref * G * D / 65536`, G from the GAIN
pin (0..2.5 V or 0..5 V).

Choices where the sources are silent or unconfirmed (hardware-reference §12):
- Several words in one transaction: each completed 3 bytes is executed as a word. Confirmed for
  neither the AD5675R nor its siblings; drivers send one word per transaction.
- An incomplete word is dropped at STOP or repeated START; the readback pointer is set by the
  address nibble of every command byte as it arrives (an ADI engineer on the AD5696R: the
  repeated START aborts the command, which only points). A NOP word with channel n before a
  repeated START is the documented form.
- Each read starts at the pointer and wraps from channel 7 to 0; the pointer itself stays, so
  two reads without a write in between return the same channel.
- Software reset acts whatever its data bits (the required pattern is unconfirmed); it and
  power-on load the RSTSEL code (0 or 0x8000) into every register, power every channel up,
  clear the LDAC mask and enable the internal reference. The GAIN pin is not reset.
- Commands 0x1..0x3 with address nibble 8..15 and commands 0x8..0xF are ACKed and ignored.
- With the internal reference disabled the reference is `external_vref` (None: nothing on the
  VREF pin, outputs read 0 V). A powered-down channel reads 0 V whatever its mode (1 kOhm,
  100 kOhm, three-state; no load modelled). Outputs clip to 0..VDD.
- No general call: the AD569x datasheets say it is not supported.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence

from hil.sim.i2c.bus import I2cDevice

CHANNELS = 8
INTERNAL_VREF = 2.5
MIDSCALE = 0x8000

NOP, WRITE_INPUT, UPDATE_DAC, WRITE_AND_UPDATE = 0x0, 0x1, 0x2, 0x3
POWER, LDAC_MASK, SOFTWARE_RESET, REFERENCE = 0x4, 0x5, 0x6, 0x7


class SimAd5675r(I2cDevice):
    """An AD5675R whose pins report through `on_output(channel, volts)` when they change.

    `ldac` is the LDAC pin level (True = high, default), `gain2` the GAIN pin (True = x2),
    `rstsel` the RSTSEL pin (False = power on at zero scale, True = midscale). `errors` gives
    each channel an (offset_volts, gain_error) pair: `volts = ideal * (1 + gain_error) + offset`.
    `on_output` is also called at power-on for channels that come up above 0 V (RSTSEL high).
    """

    def __init__(self, address: int = 0x0C, *, gain2: bool = False, rstsel: bool = False,
                 vdd: float = 5.0, external_vref: float | None = None,
                 errors: Sequence[tuple[float, float]] | None = None,
                 on_output: Callable[[int, float], None] | None = None) -> None:
        if not 0x0C <= address <= 0x0F:
            raise ValueError(f"AD5675R addresses are 0x0C..0x0F, got 0x{address:02X}")
        if errors is not None and len(errors) != CHANNELS:
            raise ValueError(f"AD5675R errors needs {CHANNELS} channels, got {len(errors)}")
        self.address = address
        self.rstsel = rstsel
        self.vdd = vdd
        self.external_vref = external_vref
        self.errors = [(float(o), float(g)) for o, g in errors or [(0.0, 0.0)] * CHANNELS]
        self.on_output = on_output
        # (command, address nibble, data) of the latest executed words, newest last, for tests
        self.words: deque[tuple[int, int, int]] = deque(maxlen=256)
        self._gain2 = gain2
        self._ldac = True
        self._volts = [0.0] * CHANNELS
        self._rx: list[int] = []  # bytes of the word being received
        self._cursor = 0  # read position in bytes from the pointer
        self.reset()

    # --- pins and state ---------------------------------------------------------------------
    def reset(self) -> None:
        """Power-on reset (RESET pin, or command 0x6)."""
        code = MIDSCALE if self.rstsel else 0
        self.inputs = [code] * CHANNELS
        self.dacs = [code] * CHANNELS
        self.power = [0] * CHANNELS  # 0 normal, 1 1 kOhm, 2 100 kOhm, 3 three-state
        self.ldac_mask = 0x00
        self.internal_reference = True
        self.pointer = 0
        self._notify()

    @property
    def ldac(self) -> bool:
        return self._ldac

    @ldac.setter
    def ldac(self, level: bool) -> None:
        falling = self._ldac and not level
        self._ldac = bool(level)
        if falling:
            self._update(ch for ch in range(CHANNELS) if not self.ldac_mask >> ch & 1)

    @property
    def gain2(self) -> bool:
        return self._gain2

    @gain2.setter
    def gain2(self, level: bool) -> None:
        self._gain2 = bool(level)
        self._notify()

    def output_volts(self, channel: int) -> float:
        if self.power[channel]:
            return 0.0
        vref = INTERNAL_VREF if self.internal_reference else (self.external_vref or 0.0)
        ideal = vref * (2 if self._gain2 else 1) * self.dacs[channel] / 65536
        offset, gain_error = self.errors[channel]
        return min(max(ideal * (1 + gain_error) + offset, 0.0), self.vdd)

    # --- bus events -------------------------------------------------------------------------
    def start(self, read: bool) -> bool:
        self._rx = []
        self._cursor = 0
        return True

    def stop(self) -> None:
        self._rx = []

    def write_byte(self, value: int) -> bool:
        self._rx.append(value & 0xFF)
        if len(self._rx) == 1:
            self.pointer = value & 0x0F if value & 0x0F < CHANNELS else self.pointer
        elif len(self._rx) == 3:
            command_byte, high, low = self._rx
            self._rx = []
            self._execute(command_byte >> 4, command_byte & 0x0F, high << 8 | low)
        return True

    def read_byte(self) -> int:
        channel = (self.pointer + self._cursor // 2) % CHANNELS
        value = self.inputs[channel]
        byte = value >> 8 if self._cursor % 2 == 0 else value & 0xFF
        self._cursor += 1
        return byte

    # --- commands ---------------------------------------------------------------------------
    def _execute(self, command: int, nibble: int, data: int) -> None:
        self.words.append((command, nibble, data))
        if command in (WRITE_INPUT, UPDATE_DAC, WRITE_AND_UPDATE) and nibble >= CHANNELS:
            return
        if command == WRITE_INPUT:
            self.inputs[nibble] = data
            if not self._ldac and not self.ldac_mask >> nibble & 1:
                self._update([nibble])  # LDAC held low: the input register is transparent
        elif command == UPDATE_DAC:
            self._update([nibble])
        elif command == WRITE_AND_UPDATE:
            self.inputs[nibble] = data
            self._update([nibble])
        elif command == POWER:
            self.power = [data >> (2 * ch) & 0b11 for ch in range(CHANNELS)]
            self._notify()
        elif command == LDAC_MASK:
            self.ldac_mask = data & 0xFF
        elif command == SOFTWARE_RESET:
            self.reset()
        elif command == REFERENCE:
            self.internal_reference = not data & 1
            self._notify()

    def _update(self, channels: Iterable[int]) -> None:
        for ch in channels:
            self.dacs[ch] = self.inputs[ch]
        self._notify()

    def _notify(self) -> None:
        for ch in range(CHANNELS):
            volts = self.output_volts(ch)
            if volts != self._volts[ch]:
                self._volts[ch] = volts
                if self.on_output is not None:
                    self.on_output(ch, volts)
