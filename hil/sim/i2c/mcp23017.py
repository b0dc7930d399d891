"""Register model of the Microchip MCP23017 16-bit GPIO expander (DS20001952; reference 4).

The rig drives relays through its outputs and reads the BMS's contactor outputs on its inputs,
so the model connects to the analog harness by two callbacks: `on_output(pin, level)` when an
output pin changes, `read_input(pin)` for an input pin's external level (None = floating).

What is modelled: the 22 registers with their reset values, both IOCON.BANK address maps, the
address pointer (SEQOP), GPIO writes going to OLAT, GPIO reads returning pin levels, IPOL,
pull-ups, interrupt-on-change (INTF/INTCAP, cleared by reading GPIO or INTCAP) and the INTA/INTB
pin levels. Choices where the datasheet is silent or unconfirmed (reference section 12):
- BANK=1 map: A registers at 0x00-0x0A, B at 0x10-0x1A; other addresses read 0 and ignore
  writes. Sequential access in BANK=1 skips those holes (0x0A -> 0x10, 0x1A -> 0x00); with
  SEQOP=1 the pointer stays put in BANK=1 and toggles A<->B in BANK=0.
- IPOL inverts input pins only; output pins read their latch.
- A floating input without pull-up reads `floating` (constructor, default 0).
- Only input pins raise interrupts; INTCAP captures the GPIO register value (IPOL applied).
  While a port's INTF is non-zero further changes on that port are not flagged.
- Inputs are sampled at every START addressed to the chip and whenever `update()` (or
  `set_input`) is called; a pulse shorter than that is missed, as a slow poll would miss it.
- Configuring GPA7/GPB7 as inputs (datasheet Rev. D: output-only) issues a
  `Gpx7InputWarning` through `warnings.warn`, so tests can assert on it or turn it into an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from hil.sim.i2c.bus import I2cDevice

# Register kinds, in the order they appear within a port in both maps.
IODIR, IPOL, GPINTEN, DEFVAL, INTCON, IOCON, GPPU, INTF, INTCAP, GPIO, OLAT = range(11)
KIND_NAMES = ("IODIR", "IPOL", "GPINTEN", "DEFVAL", "INTCON", "IOCON", "GPPU", "INTF", "INTCAP",
              "GPIO", "OLAT")
PORTS = "AB"

IOCON_BANK = 0x80
IOCON_MIRROR = 0x40
IOCON_SEQOP = 0x20
IOCON_ODR = 0x04
IOCON_INTPOL = 0x02
_IOCON_WRITABLE = 0xFE  # bit 0 is unimplemented


class Gpx7InputWarning(UserWarning):
    """GPA7/GPB7 configured as an input: output-only since datasheet Rev. D."""


def pin_name(port: int, bit: int) -> str:
    return f"{PORTS[port]}{bit}"


def parse_pin(name: str) -> tuple[int, int]:
    """'A0'..'B7' -> (port, bit)."""
    if len(name) == 2 and name[0] in PORTS and name[1] in "01234567":
        return PORTS.index(name[0]), int(name[1])
    raise ValueError(f"MCP23017 pin must be A0..A7 or B0..B7, got {name!r}")


class SimMcp23017(I2cDevice):
    def __init__(self, address: int = 0x20, *,
                 on_output: Callable[[str, bool], None] | None = None,
                 read_input: Callable[[str], bool | None] | None = None,
                 floating: bool = False) -> None:
        if not 0x20 <= address <= 0x27:
            raise ValueError(f"MCP23017 addresses are 0x20..0x27, got 0x{address:02X}")
        self.address = address
        self.on_output = on_output
        self.inputs: dict[str, bool | None] = {}  # used when read_input is None
        self.read_input = read_input or (lambda pin: self.inputs.get(pin))
        self.floating = floating
        self.reset()

    def reset(self) -> None:
        """Power-on / RESET pin: reset values, BANK=0 map, pointer 0, outputs released."""
        self._regs = [[0x00, 0x00] for _ in KIND_NAMES]
        self._regs[IODIR] = [0xFF, 0xFF]
        self.iocon = 0x00
        self.pointer = 0x00
        self._first = False  # next written byte is the register address
        self._driven: dict[str, bool | None] = {pin_name(p, b): None
                                                for p in (0, 1) for b in range(8)}
        self._last = [self._pins(0), self._pins(1)]

    # --- address map ----------------------------------------------------------------------
    @property
    def bank(self) -> int:
        return 1 if self.iocon & IOCON_BANK else 0

    def locate(self, address: int) -> tuple[int, int] | None:
        """Register address -> (kind, port) in the current map, None for a hole."""
        if self.bank == 0:
            return (address >> 1, address & 1) if address <= 0x15 else None
        if address <= 0x0A:
            return address, 0
        if 0x10 <= address <= 0x1A:
            return address - 0x10, 1
        return None

    def _advance(self) -> None:
        if self.iocon & IOCON_SEQOP:
            if self.bank == 0:
                self.pointer ^= 1
            return
        if self.bank == 0:
            self.pointer = self.pointer + 1 if self.pointer < 0x15 else 0x00
            return
        nxt = self.pointer + 1
        while self.locate(nxt & 0xFF) is None:
            nxt += 1
            if nxt > 0x1A:
                nxt = 0x00
        self.pointer = nxt & 0xFF

    # --- pins -----------------------------------------------------------------------------
    def _pins(self, port: int) -> int:
        """Pin levels of a port as a byte: outputs from OLAT, inputs from the outside world."""
        iodir = self._regs[IODIR][port]
        levels = self._regs[OLAT][port] & ~iodir
        for bit in range(8):
            if iodir & (1 << bit):
                level = self.read_input(pin_name(port, bit))
                if level is None:
                    level = bool(self._regs[GPPU][port] & (1 << bit)) or self.floating
                if level:
                    levels |= 1 << bit
        return levels & 0xFF

    def _gpio(self, port: int, pins: int) -> int:
        return pins ^ (self._regs[IPOL][port] & self._regs[IODIR][port])

    def pin(self, name: str) -> bool:
        """The level on a pin (an output's latch, an input's external level or pull-up)."""
        port, bit = parse_pin(name)
        return bool(self._pins(port) & (1 << bit))

    def output_level(self, name: str) -> bool | None:
        """What the chip drives on the pin, None while it is an input."""
        return self._driven[name]

    def set_input(self, name: str, level: bool | None) -> None:
        """Set an input's external level (when no `read_input` callback is wired) and sample."""
        parse_pin(name)
        self.inputs[name] = level
        self.update()

    def update(self) -> None:
        """Sample the inputs now and run the interrupt-on-change logic."""
        for port in (0, 1):
            pins = self._pins(port)
            enabled = self._regs[GPINTEN][port] & self._regs[IODIR][port]
            intcon = self._regs[INTCON][port]
            if not self._regs[INTF][port]:
                changed = (pins ^ self._last[port]) & ~intcon
                differs = (pins ^ self._regs[DEFVAL][port]) & intcon
                flags = (changed | differs) & enabled
                if flags:
                    self._regs[INTF][port] = flags
                    self._regs[INTCAP][port] = self._gpio(port, pins)
            self._last[port] = pins

    def _refresh_outputs(self) -> None:
        for port in (0, 1):
            iodir, olat = self._regs[IODIR][port], self._regs[OLAT][port]
            for bit in range(8):
                name = pin_name(port, bit)
                level = None if iodir & (1 << bit) else bool(olat & (1 << bit))
                if level != self._driven[name]:
                    self._driven[name] = level
                    if level is not None and self.on_output is not None:
                        self.on_output(name, level)

    # --- interrupt pins -------------------------------------------------------------------
    def _int_pin(self, port: int) -> bool | None:
        if self.iocon & IOCON_MIRROR:
            active = bool(self._regs[INTF][0] or self._regs[INTF][1])
        else:
            active = bool(self._regs[INTF][port])
        if self.iocon & IOCON_ODR:
            return False if active else None  # open drain: pulls low or lets go
        polarity = bool(self.iocon & IOCON_INTPOL)
        return polarity if active else not polarity

    @property
    def int_a(self) -> bool | None:
        """INTA pin level; None when open-drain and released."""
        return self._int_pin(0)

    @property
    def int_b(self) -> bool | None:
        return self._int_pin(1)

    # --- registers ------------------------------------------------------------------------
    def peek(self, name: str) -> int:
        """A register by name ('IODIRA', 'IOCON', 'GPIOB', ...) without side effects."""
        if name == "IOCON":
            return self.iocon
        kind, port = KIND_NAMES.index(name[:-1]), PORTS.index(name[-1])
        if kind == GPIO:
            return self._gpio(port, self._pins(port))
        return self._regs[kind][port]

    def _read_register(self, address: int) -> int:
        where = self.locate(address)
        if where is None:
            return 0x00
        kind, port = where
        if kind == IOCON:
            return self.iocon
        if kind == GPIO:
            value = self._gpio(port, self._pins(port))
            self._regs[INTF][port] = 0  # reading GPIO clears the interrupt
            return value
        if kind == INTCAP:
            self._regs[INTF][port] = 0
        return self._regs[kind][port]

    def _write_register(self, address: int, value: int) -> None:
        where = self.locate(address)
        if where is None:
            return
        kind, port = where
        if kind == IOCON:
            self.iocon = value & _IOCON_WRITABLE
        elif kind in (INTF, INTCAP):
            return  # read-only
        elif kind in (GPIO, OLAT):
            self._regs[OLAT][port] = value
            self._refresh_outputs()
        else:
            self._regs[kind][port] = value
            if kind == IODIR:
                if value & 0x80:
                    warnings.warn(Gpx7InputWarning(
                        f"MCP23017 0x{self.address:02X}: GP{PORTS[port]}7 configured as input;"
                        " datasheet Rev. D makes GPA7/GPB7 output-only (SDA corruption risk)"),
                        stacklevel=2)
                self._refresh_outputs()

    # --- bus events -----------------------------------------------------------------------
    def start(self, read: bool) -> bool:
        self.update()
        self._first = not read
        return True

    def write_byte(self, value: int) -> bool:
        if self._first:
            self.pointer = value & 0xFF
            self._first = False
        else:
            self._write_register(self.pointer, value & 0xFF)
            self._advance()
        return True

    def read_byte(self) -> int:
        value = self._read_register(self.pointer)
        self._advance()
        return value

    def stop(self) -> None:
        self._first = False
