"""MCP23017: the driver's frames (reference 4.1) and the model's registers, pins and interrupts."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.drivers.chips.mcp23017 import Mcp23017
from hil.sim.i2c.bus import SimSMBus
from hil.sim.i2c.mcp23017 import Gpx7InputWarning, SimMcp23017

# Many tests make bit 7 an input for brevity; test_gpx7_input_warning checks the warning itself.
pytestmark = pytest.mark.filterwarnings("ignore::hil.sim.i2c.mcp23017.Gpx7InputWarning")


def rig(address: int = 0x20, **kwargs: object) -> tuple[SimSMBus, SimMcp23017, Mcp23017]:
    bus = SimSMBus()
    chip = SimMcp23017(address, **kwargs)  # type: ignore[arg-type]
    bus.add(chip)
    return bus, chip, Mcp23017(bus, address)


def wire(bus: SimSMBus) -> list[str]:
    return [str(t) for t in bus.take_log()]


def write(bus: SimSMBus, register: int, *data: int) -> None:
    bus.write_i2c_block_data(0x20, register, list(data))


def read(bus: SimSMBus, register: int, n: int) -> list[int]:
    return bus.read_i2c_block_data(0x20, register, n)


# --- driver bytes ---------------------------------------------------------------------------
def test_configure_frames() -> None:
    bus, chip, drv = rig()
    drv.configure(outputs=(0xFF, 0xC0), pullups=(0x00, 0x3F))
    assert wire(bus) == [
        "[W 20: 14 00 00]",  # latches first: outputs come up at the shadow's level
        "[W 20: 00 00 3F]",  # S 40 | 00 | IODIRA IODIRB | P  (1 = input)
        "[W 20: 0C 00 3F]",  # S 40 | 0C | GPPUA GPPUB | P
    ]
    assert (chip.peek("IODIRA"), chip.peek("IODIRB")) == (0x00, 0x3F)
    assert (chip.peek("GPPUA"), chip.peek("GPPUB")) == (0x00, 0x3F)


def test_write_outputs_is_one_sequential_write() -> None:
    bus, chip, drv = rig()
    drv.write_outputs(0x12, 0x34)
    assert wire(bus) == ["[W 20: 14 12 34]"]  # S 40 | 14 | OLATA OLATB | P
    assert (chip.peek("OLATA"), chip.peek("OLATB")) == (0x12, 0x34)
    assert drv.outputs == (0x12, 0x34)


def test_set_pin_modifies_the_shadow_never_reads() -> None:
    bus, _, drv = rig()
    drv.write_outputs(0x12, 0x34)
    drv.set_pin("B3", True)
    drv.set_pin("A1", False)
    drv.set_pin("A7", True)
    log = wire(bus)
    assert log == ["[W 20: 14 12 34]", "[W 20: 14 12 3C]", "[W 20: 14 10 3C]",
                   "[W 20: 14 90 3C]"]
    assert not any("[R" in t for t in log)


def test_read_inputs_frame() -> None:
    bus, chip, drv = rig()
    chip.set_input("A0", True)
    chip.set_input("B6", True)
    assert drv.read_inputs() == (0x01, 0x40)
    assert wire(bus) == ["[W 20: 12] Sr [R 20: 01 40]"]  # S 40 | 12 | Sr 41 | A B | P
    assert drv.read_pin("B6") is True
    assert drv.read_pin("A1") is False


def test_gpx7_inputs_are_refused_before_any_traffic() -> None:
    bus, _, drv = rig()
    with pytest.raises(ValueError, match="GPA7"):
        drv.configure(outputs=(0x7F, 0x80))
    with pytest.raises(ValueError, match="GPB7"):
        drv.configure(outputs=(0x80, 0x00))
    assert bus.log == []


@pytest.mark.parametrize("call", [
    lambda d: d.write_outputs(0x100, 0), lambda d: d.write_outputs(0, -1),
    lambda d: d.configure(outputs=(0x1FF, 0x80)), lambda d: d.configure((0x80, 0x80), (0, 256)),
    lambda d: d.set_pin("C0", True), lambda d: d.set_pin("A8", True),
])
def test_bad_arguments(call: object) -> None:
    bus, _, drv = rig()
    with pytest.raises(ValueError):
        call(drv)  # type: ignore[operator]
    assert bus.log == []


# --- registers and pointer ------------------------------------------------------------------
def test_reset_values_of_all_22_registers_and_wrap() -> None:
    bus, _, _ = rig()
    assert read(bus, 0x00, 22) == [0xFF, 0xFF] + [0x00] * 20
    write(bus, 0x01, 0x0F, 0x11, 0x22)  # IODIRB, IPOLA, IPOLB
    assert read(bus, 0x15, 4) == [0x00, 0xFF, 0x0F, 0x11]  # OLATB wraps to IODIRA


def test_iocon_appears_at_both_addresses_and_bit0_is_unimplemented() -> None:
    bus, chip, _ = rig()
    write(bus, 0x0B, 0x07)  # ODR | INTPOL | bit 0
    assert read(bus, 0x0A, 2) == [0x06, 0x06]
    assert chip.iocon == 0x06


def test_seqop_toggles_within_the_pair_in_bank0() -> None:
    bus, chip, _ = rig()
    write(bus, 0x0A, 0x20)  # SEQOP = 1
    chip.set_input("A2", True)
    chip.set_input("B5", True)
    assert read(bus, 0x12, 5) == [0x04, 0x20, 0x04, 0x20, 0x04]
    write(bus, 0x14, 0x11, 0x22, 0x33)  # OLATA, OLATB, OLATA
    assert (chip.peek("OLATA"), chip.peek("OLATB")) == (0x33, 0x22)


def test_bank1_map_and_sequential_access() -> None:
    bus, chip, _ = rig()
    write(bus, 0x0A, 0x80)  # BANK = 1
    assert chip.bank == 1
    assert read(bus, 0x05, 1) == [0x80]  # IOCON at 0x05 ...
    assert read(bus, 0x15, 1) == [0x80]  # ... and 0x15
    write(bus, 0x10, 0x3C)  # IODIRB
    write(bus, 0x0A, 0x5A)  # OLATA
    write(bus, 0x1A, 0xA5)  # OLATB
    assert chip.peek("IODIRB") == 0x3C
    assert (chip.peek("OLATA"), chip.peek("OLATB")) == (0x5A, 0xA5)
    assert read(bus, 0x0A, 2) == [0x5A, 0x3C]  # OLATA then, skipping the hole, IODIRB
    assert read(bus, 0x1A, 2) == [0xA5, 0xFF]  # OLATB wraps to IODIRA
    assert read(bus, 0x0C, 1) == [0x00]  # a hole reads 0
    write(bus, 0x05, 0xA0)  # BANK = 1, SEQOP = 1: the pointer stays put
    assert read(bus, 0x0A, 3) == [0x5A, 0x5A, 0x5A]
    write(bus, 0x05, 0x00)  # back to BANK = 0
    assert read(bus, 0x14, 2) == [0x5A, 0xA5]


def test_interrupt_flags_and_capture_are_read_only() -> None:
    bus, _, _ = rig()
    write(bus, 0x0E, 0xFF, 0xFF, 0xFF, 0xFF)
    assert read(bus, 0x0E, 4) == [0, 0, 0, 0]


# --- pins -----------------------------------------------------------------------------------
def test_gpio_write_goes_to_olat_and_output_callbacks_fire_on_change() -> None:
    seen: list[tuple[str, bool]] = []
    bus, chip, _ = rig(on_output=lambda pin, level: seen.append((pin, level)))
    write(bus, 0x00, 0xF0, 0xFF)  # A0..A3 outputs
    assert seen == [("A0", False), ("A1", False), ("A2", False), ("A3", False)]
    seen.clear()
    write(bus, 0x12, 0x05)  # GPIOA write = OLATA write
    assert chip.peek("OLATA") == 0x05
    assert seen == [("A0", True), ("A2", True)]
    seen.clear()
    write(bus, 0x14, 0x05)  # same value: nothing changes
    write(bus, 0x14, 0xF4)  # A0 falls; A4..A7 are inputs: their latch is not driven
    assert seen == [("A0", False)]
    assert chip.output_level("A2") is True
    assert chip.output_level("A4") is None


def test_gpio_reads_pins_outputs_read_their_latch() -> None:
    bus, chip, _ = rig()
    write(bus, 0x00, 0x0F)  # A4..A7 outputs, A0..A3 inputs
    write(bus, 0x14, 0xA0)
    chip.set_input("A1", True)
    chip.set_input("A5", False)  # an external level on an output does not win
    assert read(bus, 0x12, 1) == [0xA2]
    assert read(bus, 0x14, 1) == [0xA0]


def test_read_input_callback_and_floating_inputs() -> None:
    levels: dict[str, bool | None] = {"A0": True, "A1": False, "A2": None, "A3": None}
    bus, chip, _ = rig(read_input=lambda pin: levels.get(pin))
    write(bus, 0x0C, 0x08)  # pull-up on A3
    assert read(bus, 0x12, 1) == [0b1001]  # A2 floats to the default 0; A3 is pulled up
    _, floaty, _ = rig(floating=True)
    assert floaty.peek("GPIOA") == 0xFF
    assert chip.pin("A0") and not chip.pin("A1")


def test_ipol_inverts_inputs_only() -> None:
    bus, chip, _ = rig()
    write(bus, 0x00, 0xF0)  # A0..A3 outputs
    write(bus, 0x14, 0x03)
    write(bus, 0x02, 0xFF)  # IPOLA all
    chip.set_input("A4", True)
    assert read(bus, 0x12, 1) == [0b1110_0011]


def test_gpx7_input_warning() -> None:
    bus, _, _ = rig()
    with pytest.warns(Gpx7InputWarning, match="GPB7"):
        write(bus, 0x01, 0x80)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write(bus, 0x00, 0x7F, 0x00)  # bit 7 outputs: no warning


# --- interrupts -----------------------------------------------------------------------------
def test_interrupt_on_change_sets_intf_and_intcap_and_reading_clears() -> None:
    bus, chip, _ = rig()
    write(bus, 0x04, 0x03)  # GPINTENA: A0, A1
    assert chip.int_a is True  # push-pull, active-low: idle high
    chip.set_input("A1", True)
    assert chip.peek("INTFA") == 0x02
    assert chip.peek("INTCAPA") == 0x02
    assert chip.int_a is False
    chip.set_input("A0", True)  # while pending, the port flags nothing new
    chip.set_input("A1", False)
    assert chip.peek("INTFA") == 0x02
    assert read(bus, 0x10, 1) == [0x02]  # INTCAP keeps the value at the interrupt ...
    assert chip.peek("INTFA") == 0x00  # ... and reading it clears the interrupt
    assert chip.int_a is True
    chip.set_input("A0", False)
    assert chip.peek("INTFA") == 0x01
    assert read(bus, 0x12, 1) == [0x00]  # reading GPIO clears too
    assert chip.peek("INTFA") == 0x00
    assert chip.peek("INTCAPA") == 0x00


def test_interrupt_against_defval_persists_while_the_pin_differs() -> None:
    bus, chip, _ = rig()
    write(bus, 0x05, 0x01)  # GPINTENB: B0
    write(bus, 0x07, 0x00)  # DEFVALB
    write(bus, 0x09, 0x01)  # INTCONB: compare with DEFVAL
    chip.set_input("B0", True)
    assert chip.peek("INTFB") == 0x01
    assert read(bus, 0x13, 1) == [0x01]  # clears; the next sample flags it again
    assert read(bus, 0x0F, 1) == [0x01]
    chip.set_input("B0", False)
    read(bus, 0x11, 1)
    chip.update()
    assert chip.peek("INTFB") == 0x00


def test_outputs_and_disabled_pins_raise_no_interrupt() -> None:
    bus, chip, _ = rig()
    write(bus, 0x04, 0xFF)
    write(bus, 0x00, 0xFE)  # A0 output
    chip.update()
    write(bus, 0x14, 0x01)
    chip.set_input("B0", True)  # port B interrupts are not enabled
    assert (chip.peek("INTFA"), chip.peek("INTFB")) == (0x00, 0x00)


def test_int_pins_mirror_open_drain_and_polarity() -> None:
    bus, chip, _ = rig()
    write(bus, 0x04, 0x01)
    write(bus, 0x0A, 0x40 | 0x02)  # MIRROR, INTPOL active-high
    assert (chip.int_a, chip.int_b) == (False, False)
    chip.set_input("A0", True)
    assert (chip.int_a, chip.int_b) == (True, True)
    write(bus, 0x0A, 0x04)  # open drain, no mirror
    assert (chip.int_a, chip.int_b) == (False, None)
    read(bus, 0x12, 1)
    assert (chip.int_a, chip.int_b) == (None, None)


def test_address_range() -> None:
    assert SimMcp23017(0x27).address == 0x27
    with pytest.raises(ValueError, match=r"0x20\.\.0x27"):
        SimMcp23017(0x28)


# --- round trips ----------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFF))
def test_any_16_bit_output_pattern_appears_on_the_pins(pattern: int) -> None:
    levels: dict[str, bool] = {}
    _, chip, drv = rig(on_output=lambda pin, level: levels.__setitem__(pin, level))
    drv.configure(outputs=(0xFF, 0xFF))
    drv.write_outputs(pattern & 0xFF, pattern >> 8)
    for bit in range(16):
        name = f"{'AB'[bit // 8]}{bit % 8}"
        assert chip.pin(name) == bool(pattern >> bit & 1)
        assert levels[name] == bool(pattern >> bit & 1)
    assert drv.read_inputs() == (pattern & 0xFF, pattern >> 8)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 0x7F7F), st.integers(0, 0x7F7F))
def test_any_input_pattern_reads_back(pattern: int, pullups: int) -> None:
    _, chip, drv = rig()
    drv.configure(outputs=(0x80, 0x80), pullups=(pullups & 0xFF, pullups >> 8))
    for bit in range(16):
        if bit % 8 != 7 and pattern >> bit & 1:
            chip.set_input(f"{'AB'[bit // 8]}{bit % 8}", True)
    assert drv.read_inputs() == ((pattern | pullups) & 0x7F, ((pattern | pullups) >> 8) & 0x7F)
