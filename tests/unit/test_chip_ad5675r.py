"""AD5675R: the driver's exact bytes (reference 2.1, 2.3) and the model's behaviour (2.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smbus2 import i2c_msg

from hil.drivers.chips.ad5675r import PD_1K, PD_NORMAL, PD_THREE_STATE, Ad5675r
from hil.i2c.timing import FAST as FAST_MODE
from hil.i2c.timing import transaction_seconds
from hil.sim.i2c.ad5675r import MIDSCALE, SimAd5675r
from hil.sim.i2c.bus import SimSMBus

FAST = settings(max_examples=100, deadline=None, database=None)


def rig(address: int = 0x0C, **model_kwargs: object) -> tuple[SimSMBus, SimAd5675r, Ad5675r]:
    bus = SimSMBus()
    dac = SimAd5675r(address, **model_kwargs)  # type: ignore[arg-type]
    bus.add(dac)
    return bus, dac, Ad5675r(bus, address)


def wire(bus: SimSMBus) -> list[str]:
    return [str(t) for t in bus.take_log()]


def send(bus: SimSMBus, *data: int, address: int = 0x0C) -> None:
    bus.i2c_rdwr(i2c_msg.write(address, list(data)))


def ideal(code: int, gain2: bool = False, vref: float = 2.5) -> float:
    return vref * (2 if gain2 else 1) * code / 65536


def state(dac: SimAd5675r) -> tuple[object, ...]:
    return (tuple(dac.inputs), tuple(dac.dacs), tuple(dac.power), dac.ldac_mask,
            dac.internal_reference, dac.pointer)


# --- the driver's bytes --------------------------------------------------------------------------
def test_write_and_update_matches_the_reference_example() -> None:
    # AD5675R ch5 <- 0x8000, immediate: S 18 | 35 | 80 00 | P
    bus, dac, drv = rig()
    drv.write_and_update(5, 0x8000)
    assert wire(bus) == ["[W 0C: 35 80 00]"]
    assert dac.output_volts(5) == pytest.approx(1.25)


def test_one_word_costs_what_the_update_budget_assumes() -> None:
    bus, _, drv = rig()
    drv.write_input(0, 1)
    (t,) = bus.take_log()
    assert t.wire_bytes == 4  # 36 SCL clocks: reference section 10, "single AD5675R word"
    assert transaction_seconds(t.wire_bytes, FAST_MODE) == pytest.approx(0.10e-3, abs=0.005e-3)


def test_write_input_and_update() -> None:
    bus, _, drv = rig(0x0F)
    drv.write_input(0, 0x1234)
    drv.update(7)
    assert wire(bus) == ["[W 0F: 10 12 34]", "[W 0F: 27 00 00]"]


def test_write_inputs_is_one_transaction_per_channel() -> None:
    bus, _, drv = rig()
    drv.write_inputs([0x0000, 0x1111, 0xFFFF])
    assert wire(bus) == ["[W 0C: 10 00 00]", "[W 0C: 11 11 11]", "[W 0C: 12 FF FF]"]


def test_read_input_is_nop_pointer_then_repeated_start_read() -> None:
    bus, _, drv = rig()
    drv.write_input(3, 0xBEEF)
    bus.take_log()
    assert drv.read_input(3) == 0xBEEF
    assert wire(bus) == ["[W 0C: 03 00 00] Sr [R 0C: BE EF]"]


def test_ldac_mask_power_reference_reset_frames() -> None:
    bus, _, drv = rig()
    drv.set_ldac_mask(0xA5)
    drv.power([PD_1K, 0, 0, 0, 0, 0, 0, PD_THREE_STATE])
    drv.power([PD_NORMAL] * 8)
    drv.reference(False)
    drv.reference(True)
    drv.software_reset()
    assert wire(bus) == ["[W 0C: 50 00 A5]", "[W 0C: 40 C0 01]", "[W 0C: 40 00 00]",
                         "[W 0C: 70 00 01]", "[W 0C: 70 00 00]", "[W 0C: 60 00 00]"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda d: d.write_input(8, 0), r"channel must be 0\.\.7, got 8"),
    (lambda d: d.write_and_update(-1, 0), r"channel must be 0\.\.7, got -1"),
    (lambda d: d.write_input(0, 0x10000), r"code must be an integer 0\.\.65535, got 65536"),
    (lambda d: d.write_input(0, 2.5), r"got 2\.5"),
    (lambda d: d.write_inputs([0] * 9), r"codes needs 1\.\.8 values, got 9"),
    (lambda d: d.write_inputs([0, 70000]), r"0\.\.65535, got 70000"),
    (lambda d: d.update(9), r"0\.\.7, got 9"),
    (lambda d: d.read_input(8), r"0\.\.7, got 8"),
    (lambda d: d.set_ldac_mask(0x100), r"0\.\.0xFF, got 256"),
    (lambda d: d.power([0] * 7), r"modes needs 8 values, got 7"),
    (lambda d: d.power([0] * 7 + [4]), r"power mode must be 0\.\.3, got 4"),
])
def test_arguments_are_checked_before_anything_is_sent(call: object, message: str) -> None:
    bus, _, drv = rig()
    with pytest.raises(ValueError, match=message):
        call(drv)  # type: ignore[operator]
    assert bus.take_log() == []


def test_address_ranges() -> None:
    with pytest.raises(ValueError, match=r"0x0C\.\.0x0F, got 0x10"):
        Ad5675r(SimSMBus(), 0x10)
    with pytest.raises(ValueError, match=r"0x0C\.\.0x0F"):
        SimAd5675r(0x0B)
    bus, _, _ = rig(0x0D)
    with pytest.raises(OSError):
        Ad5675r(bus, 0x0C).write_input(0, 1)


# --- the model: LDAC -----------------------------------------------------------------------------
def test_write_input_waits_for_a_falling_ldac_edge() -> None:
    _, dac, drv = rig()
    drv.write_inputs([1000 * (ch + 1) for ch in range(8)])
    assert dac.dacs == [0] * 8
    dac.ldac = False
    assert dac.dacs == [1000 * (ch + 1) for ch in range(8)]


def test_ldac_mask_keeps_channels_out_of_the_ldac_edge() -> None:
    _, dac, drv = rig()
    drv.set_ldac_mask(0b0000_0101)
    drv.write_inputs([10, 20, 30, 40])
    dac.ldac = False
    assert dac.dacs[:4] == [0, 20, 0, 40]
    drv.update(0)  # the software update still works on a masked channel
    assert dac.dacs[0] == 10


def test_ldac_held_low_makes_unmasked_input_registers_transparent() -> None:
    _, dac, drv = rig()
    drv.set_ldac_mask(0b10)
    dac.ldac = False
    drv.write_input(0, 111)
    drv.write_input(1, 222)
    assert dac.dacs[:2] == [111, 0]


def test_write_and_update_ignores_ldac() -> None:
    _, dac, drv = rig()
    drv.write_and_update(2, 0x4000)
    assert dac.dacs[2] == dac.inputs[2] == 0x4000


def test_update_copies_one_channel() -> None:
    _, dac, drv = rig()
    drv.write_inputs([5, 6])
    drv.update(1)
    assert dac.dacs[:2] == [0, 6]


# --- the model: readback -------------------------------------------------------------------------
def test_readback_auto_increments_and_wraps() -> None:
    bus, _, drv = rig()
    drv.write_inputs([0x1000 + ch for ch in range(8)])
    read = i2c_msg.read(0x0C, 6)
    bus.i2c_rdwr(i2c_msg.write(0x0C, [0x06, 0, 0]), read)
    assert bytes(read).hex(" ").upper() == "10 06 10 07 10 00"


def test_each_read_starts_at_the_pointer() -> None:
    bus, _, drv = rig()
    drv.write_inputs([0x1000 + ch for ch in range(8)])
    drv.read_input(4)
    first, second = i2c_msg.read(0x0C, 2), i2c_msg.read(0x0C, 2)
    bus.i2c_rdwr(first)
    bus.i2c_rdwr(second)
    assert list(first) == list(second) == [0x10, 0x04]


def test_pointer_is_set_by_the_command_byte_even_if_the_word_is_cut_short() -> None:
    bus, dac, drv = rig()
    drv.write_inputs([0x1000 + ch for ch in range(8)])
    read = i2c_msg.read(0x0C, 2)
    bus.i2c_rdwr(i2c_msg.write(0x0C, [0x15]), read)  # only the command byte, then Sr
    assert list(read) == [0x10, 0x05]
    assert dac.inputs[5] == 0x1005  # the cut word did not write


# --- the model: word assembly --------------------------------------------------------------------
def test_incomplete_words_are_dropped_at_stop() -> None:
    bus, dac, _ = rig()
    send(bus, 0x31, 0x12)
    send(bus, 0x34)
    assert dac.inputs == [0] * 8 and len(dac.words) == 0
    send(bus, 0x32, 0xAB, 0xCD)  # no leftover bytes from before
    assert dac.dacs[2] == 0xABCD


def test_several_words_in_one_transaction_each_execute() -> None:
    bus, dac, _ = rig()
    send(bus, 0x30, 0x11, 0x11, 0x31, 0x22, 0x22, 0x32, 0x33)
    assert dac.dacs[:3] == [0x1111, 0x2222, 0]
    assert list(dac.words) == [(3, 0, 0x1111), (3, 1, 0x2222)]


def test_reserved_commands_and_channels_above_7_are_ignored() -> None:
    bus, dac, _ = rig()
    before = state(dac)
    send(bus, 0x38, 0xFF, 0xFF)
    send(bus, 0x1F, 0xFF, 0xFF)
    send(bus, 0x80, 0xFF, 0xFF)
    send(bus, 0xF0, 0xFF, 0xFF)
    assert state(dac) == before


# --- the model: power, reference, reset, analog --------------------------------------------------
def test_power_down_reads_zero_and_power_up_restores() -> None:
    _, dac, drv = rig()
    drv.write_and_update(7, 0xFFFF)
    drv.power([0] * 7 + [PD_THREE_STATE])
    assert dac.power[7] == 3 and dac.output_volts(7) == 0.0
    drv.power([PD_NORMAL] * 8)
    assert dac.output_volts(7) == pytest.approx(ideal(0xFFFF))


def test_reference_off_uses_the_external_reference() -> None:
    _, dac, drv = rig()
    drv.write_and_update(0, 0x8000)
    drv.reference(False)
    assert not dac.internal_reference and dac.output_volts(0) == 0.0  # nothing on VREF
    _, dac, drv = rig(external_vref=2.0)
    drv.write_and_update(0, 0x8000)
    drv.reference(False)
    assert dac.output_volts(0) == pytest.approx(1.0)
    drv.reference(True)
    assert dac.output_volts(0) == pytest.approx(1.25)


def test_gain_pin() -> None:
    seen: list[tuple[int, float]] = []
    _, dac, drv = rig(gain2=True, on_output=lambda ch, v: seen.append((ch, v)))
    drv.write_and_update(1, 0xFFFF)
    assert dac.output_volts(1) == pytest.approx(5.0 * 0xFFFF / 0x10000)
    dac.gain2 = False
    assert seen == [(1, pytest.approx(5.0 * 0xFFFF / 0x10000)),
                    (1, pytest.approx(2.5 * 0xFFFF / 0x10000))]


@pytest.mark.parametrize(("rstsel", "code"), [(False, 0), (True, MIDSCALE)])
def test_rstsel_sets_power_on_and_reset_code(rstsel: bool, code: int) -> None:
    seen: list[tuple[int, float]] = []
    _, dac, drv = rig(rstsel=rstsel, on_output=lambda ch, v: seen.append((ch, v)))
    assert dac.inputs == dac.dacs == [code] * 8
    assert len(seen) == (8 if code else 0)  # powered up above 0 V: reported
    drv.write_inputs([0x1234] * 8)
    drv.set_ldac_mask(0xFF)
    drv.power([PD_1K] * 8)
    drv.reference(False)
    drv.software_reset()
    assert dac.inputs == dac.dacs == [code] * 8
    assert dac.power == [0] * 8 and dac.ldac_mask == 0 and dac.internal_reference


def test_error_model() -> None:
    _, dac, drv = rig(errors=[(0.001, 0.0006)] + [(-0.01, 0.0)] * 7)
    drv.write_and_update(0, 0x8000)
    assert dac.output_volts(0) == pytest.approx(1.25 * 1.0006 + 0.001)
    assert dac.output_volts(1) == 0.0  # negative offset clips at ground
    with pytest.raises(ValueError, match="errors needs 8"):
        SimAd5675r(errors=[(0.0, 0.0)])


def test_on_output_reports_changes_only() -> None:
    seen: list[tuple[int, float]] = []
    _, dac, drv = rig(on_output=lambda ch, v: seen.append((ch, v)))
    drv.write_input(3, 0x8000)
    drv.write_input(3, 0x8000)
    assert seen == []
    dac.ldac = False
    dac.ldac = True
    dac.ldac = False  # nothing new to load
    assert seen == [(3, 1.25)]


# --- properties ----------------------------------------------------------------------------------
WORDS = st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15), st.integers(0, 0xFFFF)),
                 max_size=12)


@given(WORDS)
@FAST
def test_any_words_give_the_same_state_one_or_many_per_transaction(
        words: list[tuple[int, int, int]]) -> None:
    single, many = SimAd5675r(), SimAd5675r()
    bus_single, bus_many = SimSMBus(), SimSMBus()
    bus_single.add(single)
    bus_many.add(many)
    stream: list[int] = []
    for command, nibble, data in words:
        frame = [command << 4 | nibble, data >> 8, data & 0xFF]
        send(bus_single, *frame)
        stream += frame
    if stream:
        send(bus_many, *stream)
    assert state(single) == state(many)
    assert list(single.words) == list(many.words) == words


@given(WORDS)
@FAST
def test_any_words_leave_input_registers_as_a_simple_reading_of_the_table_says(
        words: list[tuple[int, int, int]]) -> None:
    bus, _, drv = rig()
    expected = [0] * 8
    for command, nibble, data in words:
        send(bus, command << 4 | nibble, data >> 8, data & 0xFF)
        if command in (1, 3) and nibble < 8:
            expected[nibble] = data
        elif command == 6:
            expected = [0] * 8
    assert [drv.read_input(ch) for ch in range(8)] == expected


@given(st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8), st.booleans())
@FAST
def test_any_codes_written_then_ldac_pulsed_give_the_formula(codes: list[int],
                                                             gain2: bool) -> None:
    _, dac, drv = rig(gain2=gain2)
    drv.reference(True)
    drv.power([PD_NORMAL] * 8)
    drv.write_inputs(codes)
    dac.ldac = False
    dac.ldac = True
    for ch, code in enumerate(codes):
        assert dac.output_volts(ch) == pytest.approx(ideal(code, gain2))
        assert drv.read_input(ch) == code
