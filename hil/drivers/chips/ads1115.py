"""Driver for the TI ADS1115 16-bit ADC: single-shot reads of one input, in volts.

The rig uses it to read back the voltages it emulates (a self-test, not a reference: see
../shared/hardware-reference.md section 3). Each read is the datasheet sequence of section 3.1:
write the config with OS=1, poll the config until OS reads 1, read the conversion register.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from smbus2 import i2c_msg

from hil.errors import DriverError
from hil.i2c.smbus import SMBusLike

POINTER_CONVERSION = 0x00
POINTER_CONFIG = 0x01

PGA_CODES = {6.144: 0, 4.096: 1, 2.048: 2, 1.024: 3, 0.512: 4, 0.256: 5}  # +-FSR volts
DR_CODES = {8: 0, 16: 1, 32: 2, 64: 3, 128: 4, 250: 5, 475: 6, 860: 7}  # samples per second

_OS = 0x8000
_MODE_SINGLE = 0x0100
_COMP_DISABLED = 0x0003


def _pga_code(fsr: float) -> int:
    for volts, code in PGA_CODES.items():
        if math.isclose(fsr, volts, rel_tol=1e-9):
            return code
    allowed = ", ".join(str(v) for v in PGA_CODES)
    raise ValueError(f"ADS1115 fsr must be one of {allowed} volts, got {fsr}")


def config_word(ain: int, fsr: float = 4.096, data_rate: int = 860) -> int:
    """The config that starts one single-shot conversion of AINx against GND."""
    if ain not in (0, 1, 2, 3):
        raise ValueError(f"ADS1115 ain must be one of 0, 1, 2, 3, got {ain!r}")
    if data_rate not in DR_CODES:
        allowed = ", ".join(str(r) for r in DR_CODES)
        raise ValueError(f"ADS1115 data_rate must be one of {allowed} SPS, got {data_rate!r}")
    mux = 0b100 | ain
    return (_OS | mux << 12 | _pga_code(fsr) << 9 | _MODE_SINGLE | DR_CODES[data_rate] << 5
            | _COMP_DISABLED)


class Ads1115:
    """Single-shot, single-ended reads. `sleep` and `clock` are injectable for tests."""

    def __init__(self, bus: SMBusLike, address: int = 0x48, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bus = bus
        self.address = address
        self.sleep = sleep
        self.clock = clock

    def read_volts(self, ain: int, fsr: float = 4.096, data_rate: int = 860,
                   timeout: float = 0.5) -> float:
        """One conversion of AINx to GND, in volts (LSB = fsr/32768).

        Waits one nominal conversion time before the first poll, then polls every tenth of it;
        raises DriverError if OS has not come back to 1 within `timeout` seconds.
        """
        return self.read_code(ain, fsr, data_rate, timeout) * fsr / 32768.0

    def read_code(self, ain: int, fsr: float = 4.096, data_rate: int = 860,
                  timeout: float = 0.5) -> int:
        """One conversion as the signed 16-bit code."""
        config = config_word(ain, fsr, data_rate)
        self.bus.write_i2c_block_data(self.address, POINTER_CONFIG,
                                      [config >> 8, config & 0xFF])
        period = 1.0 / data_rate
        started = self.clock()
        self.sleep(period)
        while not self._read_register(POINTER_CONFIG) & _OS:
            if self.clock() - started > timeout:
                raise DriverError(
                    f"ADS1115 at 0x{self.address:02X}: conversion of AIN{ain} not done after "
                    f"{timeout} s (expected about {period * 1000:.1f} ms)")
            self.sleep(period / 10)
        raw = self._read_register(POINTER_CONVERSION)
        return raw - 0x10000 if raw & 0x8000 else raw

    def _read_register(self, pointer: int) -> int:
        """Pointer write and 2-byte read in one transaction (repeated START), big-endian."""
        write = i2c_msg.write(self.address, [pointer])
        read = i2c_msg.read(self.address, 2)
        self.bus.i2c_rdwr(write, read)
        msb, lsb = list(read)
        return (msb << 8) | lsb
