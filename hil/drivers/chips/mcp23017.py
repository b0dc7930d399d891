"""Driver for the Microchip MCP23017 GPIO expander: relay outputs and contactor-feedback inputs.

Assumes the power-on register map (IOCON.BANK = 0, sequential addressing) and sends the frames
of ../shared/hardware-reference.md section 4.1. Outputs are always written as the pair
`14 | OLATA OLATB` from a shadow copy, so changing one relay never reads the pins (a GPIO read
returns pin levels, which a loaded output may not match) and both ports change in one frame.
"""

from __future__ import annotations

from hil.i2c.smbus import SMBusLike

IODIRA = 0x00
GPPUA = 0x0C
GPIOA = 0x12
OLATA = 0x14
_GPX7 = 0x80


def parse_pin(name: str) -> tuple[int, int]:
    """'A0'..'B7' -> (port index, bit)."""
    if len(name) == 2 and name[0] in "AB" and name[1] in "01234567":
        return "AB".index(name[0]), int(name[1])
    raise ValueError(f"MCP23017 pin must be A0..A7 or B0..B7, got {name!r}")


def _byte(name: str, value: int) -> int:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"MCP23017 {name} must be 0..0xFF, got {value!r}")
    return value


class Mcp23017:
    """Ports A and B as (a, b) byte pairs; pins named 'A0'..'B7'."""

    def __init__(self, bus: SMBusLike, address: int = 0x20) -> None:
        self.bus = bus
        self.address = address
        self._olat = [0x00, 0x00]  # the chip's power-on OLAT

    @property
    def outputs(self) -> tuple[int, int]:
        """The output latches as last written (the shadow copy)."""
        return self._olat[0], self._olat[1]

    def configure(self, outputs: tuple[int, int], pullups: tuple[int, int] = (0, 0)) -> None:
        """Set the pin directions (bit set = output) and the input pull-ups.

        Writes the shadow latches first, so pins that become outputs come up at a known level,
        then `00 | IODIRA IODIRB` and `0C | GPPUA GPPUB`. GPA7/GPB7 must be outputs: datasheet
        Rev. D makes them output-only (reading them as inputs can corrupt SDA).
        """
        out_a, out_b = (_byte("outputs", v) for v in outputs)
        pu_a, pu_b = (_byte("pullups", v) for v in pullups)
        for port, mask in zip("AB", (out_a, out_b), strict=True):
            if not mask & _GPX7:
                raise ValueError(f"MCP23017 GP{port}7 must be an output (bit 7 of outputs set):"
                                 " datasheet Rev. D makes GPA7/GPB7 output-only")
        self.write_outputs(*self._olat)
        self.bus.write_i2c_block_data(self.address, IODIRA, [~out_a & 0xFF, ~out_b & 0xFF])
        self.bus.write_i2c_block_data(self.address, GPPUA, [pu_a, pu_b])

    def write_outputs(self, a: int, b: int) -> None:
        """Both output latches in one frame: `14 | OLATA OLATB`."""
        values = [_byte("port A value", a), _byte("port B value", b)]
        self.bus.write_i2c_block_data(self.address, OLATA, values)
        self._olat = values

    def set_pin(self, name: str, level: bool) -> None:
        """Change one output pin: read-modify-write of the shadow, then both latches."""
        port, bit = parse_pin(name)
        values = list(self._olat)
        values[port] = values[port] | (1 << bit) if level else values[port] & ~(1 << bit)
        self.write_outputs(values[0], values[1])

    def read_inputs(self) -> tuple[int, int]:
        """GPIOA and GPIOB (pin levels) in one read: `12 | Sr | GPIOA GPIOB`."""
        a, b = self.bus.read_i2c_block_data(self.address, GPIOA, 2)
        return a, b

    def read_pin(self, name: str) -> bool:
        port, bit = parse_pin(name)
        return bool(self.read_inputs()[port] & (1 << bit))
