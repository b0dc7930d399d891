"""Register model of the TI ADS1115 16-bit ADC (datasheet SBAS444; reference section 3).

Four registers behind a pointer: every write starts with the pointer byte (bits 1:0), then 0 or
2 data bytes, big-endian; a read returns the register at the pointer. Conversions take 1/DR on
the injected clock, so a driver's polling is exercised as on the bench: in single-shot mode OS
reads 0 while a conversion runs, then 1, and the conversion register holds the input sampled
from `read_input` (clipped to the full scale, quantized, two's complement).

Choices where the datasheet is silent (hardware-reference section 12):
- Reads past the second byte repeat the register (MSB, LSB, MSB, ...).
- A write with a single data byte is discarded at STOP; bytes after the second are ACKed and
  ignored; pointer bits 7:2 are ignored; writes to the read-only conversion register are ACKed
  and ignored.
- In continuous mode OS reads 0 (the device is always converting).
- The finished conversion samples `read_input` when it is first observed (the next bus event
  after it completed), not at its exact completion time.
- The ALERT/RDY pin and general-call reset are not modelled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from hil.sim.i2c.bus import I2cDevice

CONVERSION, CONFIG, LO_THRESH, HI_THRESH = 0, 1, 2, 3
CONFIG_RESET = 0x8583
LO_THRESH_RESET = 0x8000
HI_THRESH_RESET = 0x7FFF

OS = 0x8000
MODE_SINGLE = 0x0100
FSR_VOLTS = (6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256)  # by PGA code
DATA_RATES = (8, 16, 32, 64, 128, 250, 475, 860)  # samples per second, by DR code
# MUX code -> (positive input, negative input or None for GND)
MUX_INPUTS: tuple[tuple[int, int | None], ...] = (
    (0, 1), (0, 3), (1, 3), (2, 3), (0, None), (1, None), (2, None), (3, None),
)


def quantize(volts: float, fsr: float) -> int:
    """Volts to the 16-bit two's-complement code: clip to +-FSR, LSB = FSR/32768, round."""
    code = math.floor(volts / (fsr / 32768.0) + 0.5)
    return max(-32768, min(32767, code)) & 0xFFFF


class SimAds1115(I2cDevice):
    """An ADS1115 whose AIN0..AIN3 voltages come from `read_input(index)`.

    Without `read_input` the model reads its own `inputs` list, which tests can set directly.
    The error model is `measured = true * (1 + gain_error) + offset_volts`, before clipping.
    """

    def __init__(self, address: int = 0x48, *, read_input: Callable[[int], float] | None = None,
                 clock: Callable[[], float] = time.monotonic, gain_error: float = 0.0,
                 offset_volts: float = 0.0) -> None:
        if not 0x48 <= address <= 0x4B:
            raise ValueError(f"ADS1115 addresses are 0x48..0x4B, got 0x{address:02X}")
        self.address = address
        self.inputs = [0.0, 0.0, 0.0, 0.0]
        self.read_input = read_input or (lambda ain: self.inputs[ain])
        self.clock = clock
        self.gain_error = gain_error
        self.offset_volts = offset_volts
        self.conversions = 0  # how many conversions completed, for tests
        self.reset()

    def reset(self) -> None:
        """Power-up state: registers at their reset values, powered down, pointer 0."""
        self.pointer = CONVERSION
        self.regs = [0x0000, CONFIG_RESET, LO_THRESH_RESET, HI_THRESH_RESET]
        self._busy_until: float | None = None  # single-shot conversion in progress
        self._latched = CONFIG_RESET  # config the running conversion(s) use
        self._continuous_since: float | None = None
        self._continuous_done = 0
        self._rx: list[int] = []
        self._tx_index = 0
        self._word = 0

    # --- the analog side ------------------------------------------------------------------
    @staticmethod
    def fsr(config: int) -> float:
        return FSR_VOLTS[(config >> 9) & 0x7]

    @staticmethod
    def period(config: int) -> float:
        return 1.0 / DATA_RATES[(config >> 5) & 0x7]

    def sample(self, config: int) -> int:
        """One conversion with `config`'s MUX and PGA, from the inputs as they are now."""
        positive, negative = MUX_INPUTS[(config >> 12) & 0x7]
        volts = self.read_input(positive)
        if negative is not None:
            volts -= self.read_input(negative)
        volts = volts * (1.0 + self.gain_error) + self.offset_volts
        self.conversions += 1
        return quantize(volts, self.fsr(config))

    def _update(self) -> None:
        """Finish whatever conversions the clock says are done."""
        now = self.clock()
        if self._busy_until is not None and now >= self._busy_until:
            self._busy_until = None
            self.regs[CONVERSION] = self.sample(self._latched)
        if self._continuous_since is not None:
            done = math.floor((now - self._continuous_since) / self.period(self._latched))
            if done > self._continuous_done:
                self._continuous_done = done
                self.regs[CONVERSION] = self.sample(self._latched)

    @property
    def converting(self) -> bool:
        self._update()
        return self._busy_until is not None or self._continuous_since is not None

    def _write_config(self, value: int) -> None:
        now = self.clock()
        if value & MODE_SINGLE:
            self._continuous_since = None
            if self._busy_until is not None:
                self.regs[CONFIG] = (self.regs[CONFIG] & OS) | (value & ~OS)  # OS write ignored
                return
            self.regs[CONFIG] = value
            if value & OS:
                self._latched = value
                self._busy_until = now + self.period(value)
        else:
            self._busy_until = None
            self.regs[CONFIG] = value
            self._latched = value
            self._continuous_since = now
            self._continuous_done = 0

    def _config_read(self) -> int:
        os_bit = 0 if self.converting else OS
        return (self.regs[CONFIG] & ~OS) | os_bit

    # --- bus events -----------------------------------------------------------------------
    def start(self, read: bool) -> bool:
        self._update()
        self._rx = []
        self._tx_index = 0
        return True

    def write_byte(self, value: int) -> bool:
        self._rx.append(value & 0xFF)
        if len(self._rx) == 1:
            self.pointer = value & 0x3
        elif len(self._rx) == 3:
            word = (self._rx[1] << 8) | self._rx[2]
            if self.pointer == CONFIG:
                self._write_config(word)
            elif self.pointer in (LO_THRESH, HI_THRESH):
                self.regs[self.pointer] = word
        return True

    def read_byte(self) -> int:
        msb = self._tx_index % 2 == 0
        self._tx_index += 1
        if msb:  # the word is latched at its first byte, so the two halves always match
            self._word = self._config_read() if self.pointer == CONFIG else self.regs[self.pointer]
            return self._word >> 8
        return self._word & 0xFF

    def stop(self) -> None:
        self._rx = []
        self._tx_index = 0
