"""MCP4728: the driver's exact bytes (reference 1.1-1.3) and the model's behaviour (1.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smbus2 import i2c_msg

from hil.drivers.chips.mcp4728 import (
    RESET,
    SOFTWARE_UPDATE,
    WAKE_UP,
    Mcp4728,
    Mcp4728Channel,
    general_call,
)
from hil.errors import DriverError
from hil.i2c.timing import FAST as FAST_MODE
from hil.i2c.timing import transaction_seconds
from hil.sim.i2c.bus import I2cDevice, SimSMBus
from hil.sim.i2c.mcp4728 import EEPROM_WRITE_SECONDS, Mcp4728Register, SimMcp4728

FAST = settings(max_examples=100, deadline=None, database=None)
R = Mcp4728Register


class FakeClock:
    """Time that only moves when someone sleeps."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def rig(address: int = 0x60, **model_kwargs: object) -> tuple[SimSMBus, SimMcp4728, Mcp4728,
                                                            FakeClock]:
    clock = FakeClock()
    bus = SimSMBus()
    dac = SimMcp4728(address, clock=clock, **model_kwargs)  # type: ignore[arg-type]
    bus.add(dac)
    return bus, dac, Mcp4728(bus, address, sleep=clock.sleep), clock


def wire(bus: SimSMBus) -> list[str]:
    return [str(t) for t in bus.take_log()]


def send(bus: SimSMBus, *data: int, address: int = 0x60) -> None:
    """One raw write transaction: `S AW | data | P`."""
    bus.i2c_rdwr(i2c_msg.write(address, list(data)))


def read(bus: SimSMBus, n: int = 24, address: int = 0x60) -> bytes:
    msg = i2c_msg.read(address, n)
    bus.i2c_rdwr(msg)
    return bytes(msg)


def ideal(code: int, vref_internal: bool, gain2: bool, vdd: float = 5.0) -> float:
    """DS equation 4-1/4-2, written out independently of the model."""
    if vref_internal:
        return min(2.048 * (2 if gain2 else 1) * code / 4096, vdd)
    return vdd * code / 4096


# --- the driver's bytes --------------------------------------------------------------------------
def test_read_all_is_one_raw_24_byte_read() -> None:
    bus, _, drv, _ = rig()
    state = drv.read_all()
    assert wire(bus) == ["[R 60: C0 00 00 C0 00 00 D0 00 00 D0 00 00 "
                         "E0 00 00 E0 00 00 F0 00 00 F0 00 00]"]
    assert state.inputs == state.eeprom == (Mcp4728Channel(0, False, False, 0),) * 4
    assert state.ready and state.por
    assert state.address == state.eeprom_address == 0x60


def test_multi_write_matches_the_datasheet_example() -> None:
    # Channel B = 2048, internal reference, x2, update now: S C0 | 42 | 98 00 | P (DS fig. 7-4)
    bus, dac, drv, _ = rig()
    drv.multi_write(1, 2048, vref_internal=True, gain2=True)
    assert wire(bus) == ["[W 60: 42 98 00]"]
    assert dac.output_volts(1) == pytest.approx(2.048)


def test_multi_write_udac_bit() -> None:
    bus, _, drv, _ = rig()
    drv.multi_write(3, 0x123, udac=True)
    assert wire(bus) == ["[W 60: 47 01 23]"]


def test_fast_write_all_four_to_full_scale() -> None:
    bus, _, drv, _ = rig()
    drv.fast_write([0x0FFF] * 4)
    assert wire(bus) == ["[W 60: 0F FF 0F FF 0F FF 0F FF]"]


def test_fast_write_costs_what_the_update_budget_assumes() -> None:
    bus, _, drv, _ = rig()
    drv.fast_write([1, 2, 3, 4])
    (t,) = bus.take_log()
    assert t.wire_bytes == 9  # 81 SCL clocks: reference section 10, "single MCP4728 fast write"
    assert transaction_seconds(t.wire_bytes, FAST_MODE) == pytest.approx(0.21e-3, abs=0.005e-3)


def test_fast_write_byte_order() -> None:
    bus, _, drv, _ = rig()
    drv.fast_write([0x123, 0x456, 0x789, 0xABC])
    assert wire(bus) == ["[W 60: 01 23 04 56 07 89 0A BC]"]


@pytest.mark.parametrize(("command", "frame"), [
    (SOFTWARE_UPDATE, "[W 00: 08]"), (RESET, "[W 00: 06]"), (WAKE_UP, "[W 00: 09]")])
def test_general_call_goes_to_address_zero(command: int, frame: str) -> None:
    bus, _, _, _ = rig()
    general_call(bus, command)
    assert wire(bus) == [frame]


def test_general_call_refuses_read_address_and_unknown_commands() -> None:
    bus, _, _, _ = rig()
    with pytest.raises(ValueError, match="got 0x0C"):
        general_call(bus, 0x0C)
    assert bus.take_log() == []


def test_set_vref_and_gain_bits_a_to_d() -> None:
    bus, _, drv, _ = rig()
    drv.set_vref([True, False, False, True])
    drv.set_gain([False, True, True, False])
    drv.set_vref([True] * 4)
    drv.set_gain([False] * 4)
    assert wire(bus) == ["[W 60: 89]", "[W 60: C6]", "[W 60: 8F]", "[W 60: C0]"]


def test_power_down_bytes() -> None:
    bus, dac, drv, _ = rig()
    drv.power_down([1, 2, 3, 0])
    assert wire(bus) == ["[W 60: A6 C0]"]  # 101x PD A PD B, PD C PD D xxxx
    assert [r.pd for r in dac.inputs] == [1, 2, 3, 0]
    drv.power_down([0, 0, 0, 3])
    assert wire(bus) == ["[W 60: A0 30]"]


def test_write_eeprom_is_a_sequential_write_then_rdy_polls_then_a_check() -> None:
    # The DS fig. 7-4 test points: A = VDD/2, B = VDD*4095/4096, C = 2.048 V, D = 4.095 V.
    bus, dac, drv, clock = rig()
    drv.write_eeprom([2048, 4095, 2048, 4095], vref_internal=[False, False, True, True],
                     gain2=[False, False, True, True])
    log = wire(bus)
    assert log[0] == "[W 60: 50 08 00 0F FF 98 00 9F FF]"
    assert log[1:3] == ["[R 60: 40]", "[R 60: C0]"]  # busy at 20 ms, ready at 40 ms
    assert log[3].startswith("[R 60: C0 08 00 C0 08 00 D0 0F FF")
    assert len(log) == 4
    assert [dac.output_volts(ch) for ch in range(4)] == pytest.approx(
        [2.5, 5.0 * 4095 / 4096, 2.048, 2.048 * 2 * 4095 / 4096])
    assert dac.eeprom[3] == R(vref=1, gain=1, code=4095)
    assert clock.t == pytest.approx(1000.04)


def test_write_eeprom_gives_up_after_20_polls() -> None:
    bus = SimSMBus()
    frozen = FakeClock()
    bus.add(SimMcp4728(clock=frozen))
    drv = Mcp4728(bus, sleep=lambda seconds: None)  # time never passes: always busy
    with pytest.raises(DriverError, match="still busy writing EEPROM after 20 polls 20 ms"):
        drv.write_eeprom([1, 2, 3, 4])
    log = wire(bus)
    assert log[1:] == ["[R 60: 40]"] * 20


def test_write_eeprom_while_an_earlier_write_runs_is_caught_by_the_check() -> None:
    bus, dac, drv, _ = rig()
    send(bus, 0x58, 0x00, 0x10)  # Single Write A: EEPROM busy for 25 ms from now
    with pytest.raises(DriverError, match="EEPROM holds"):
        drv.write_eeprom([100, 200, 300, 400])
    assert [r.code for r in dac.eeprom] == [0x010, 0, 0, 0]


@pytest.mark.parametrize(("call", "message"), [
    (lambda d: d.fast_write([0, 0, 0, 4096]), r"code must be an integer 0\.\.4095, got 4096"),
    (lambda d: d.fast_write([0, -1, 0, 0]), r"0\.\.4095, got -1"),
    (lambda d: d.fast_write([0, 0, 0]), r"codes needs 4 values \(channels A\.\.D\), got 3"),
    (lambda d: d.multi_write(4, 0), r"channel must be 0\.\.3, got 4"),
    (lambda d: d.multi_write(0, 1.5), r"0\.\.4095, got 1\.5"),
    (lambda d: d.set_vref([True]), r"internal needs 4 values"),
    (lambda d: d.set_gain([True] * 5), r"x2 needs 4 values"),
    (lambda d: d.power_down([0, 0, 4, 0]), r"power-down mode must be 0\.\.3, got 4"),
    (lambda d: d.write_eeprom([0] * 4, gain2=[True]), r"gain2 needs 4 values"),
    (lambda d: d.write_eeprom([0, 0, 0, 5000]), r"0\.\.4095, got 5000"),
])
def test_arguments_are_checked_before_anything_is_sent(call: object, message: str) -> None:
    bus, _, drv, _ = rig()
    with pytest.raises(ValueError, match=message):
        call(drv)  # type: ignore[operator]
    assert bus.take_log() == []


def test_driver_address_range() -> None:
    with pytest.raises(ValueError, match=r"0x60\.\.0x67, got 0x5F"):
        Mcp4728(SimSMBus(), 0x5F)


def test_read_all_rejects_a_chip_that_is_not_an_mcp4728() -> None:
    class AllOnes(I2cDevice):
        address = 0x60

    bus = SimSMBus()
    bus.add(AllOnes())
    with pytest.raises(DriverError, match="byte 0 should name channel A, got 0xFF"):
        Mcp4728(bus).read_all()


# --- the model: power-on, read-back --------------------------------------------------------------
EEPROM = [R(vref=1, gain=1, code=0x123), R(pd=2, code=0xABC), R(vref=1, pd=3, gain=1, code=0xFFF),
          R()]


def test_power_on_loads_eeprom_into_input_and_output() -> None:
    seen: list[tuple[int, float]] = []
    dac = SimMcp4728(0x62, eeprom=EEPROM, on_output=lambda ch, v: seen.append((ch, v)))
    assert dac.inputs == dac.outputs == EEPROM
    assert dac.address == 0x62
    assert seen == [(0, pytest.approx(2.048 * 2 * 0x123 / 4096))]  # B, C powered down, D 0 V


def test_read_format_and_wrap() -> None:
    bus = SimSMBus()
    bus.add(SimMcp4728(0x62, eeprom=EEPROM))
    data = read(bus, 48, address=0x62)
    assert data[:24].hex(" ").upper() == ("C2 91 23 C2 91 23 D2 4A BC D2 4A BC "
                                          "E2 FF FF E2 FF FF F2 00 00 F2 00 00")
    assert data[24:] == data[:24]  # clocking past 24 bytes repeats the sequence


def test_read_shows_input_then_eeprom() -> None:
    bus, _, drv, _ = rig(eeprom=EEPROM)
    drv.multi_write(0, 0x456, udac=True)
    data = read(bus, 6)
    assert data.hex(" ").upper() == "C0 04 56 C0 91 23"
    state = drv.read_all()
    assert state.inputs[0] == Mcp4728Channel(0x456, False, False, 0)
    assert state.eeprom[0] == Mcp4728Channel(0x123, True, True, 0)
    assert state.eeprom[2] == Mcp4728Channel(0xFFF, True, True, 3)


@given(st.integers(0, 3), st.integers(0, 4095), st.booleans(), st.booleans(), st.booleans())
@FAST
def test_any_multi_write_reads_back(channel: int, code: int, vref: bool, gain: bool,
                                    udac: bool) -> None:
    _, dac, drv, _ = rig()
    drv.multi_write(channel, code, vref_internal=vref, gain2=gain, udac=udac)
    assert drv.read_all().inputs[channel] == Mcp4728Channel(code, vref, gain, 0)
    assert dac.outputs[channel].code == (0 if udac else code)


# --- the model: output update rules, DS Table 4-5 ------------------------------------------------
@pytest.mark.parametrize(("ldac", "udac", "updated"), [
    (False, 0, True), (False, 1, True),  # LDAC low: all outputs updated
    (True, 0, True),  # LDAC high, UDAC 0: the addressed channel at the last ACK
    (True, 1, False),  # LDAC high, UDAC 1: no change until LDAC falls or a GC update
])
def test_table_4_5(ldac: bool, udac: int, updated: bool) -> None:
    _, dac, drv, _ = rig()
    dac.ldac = ldac
    drv.multi_write(2, 1000, udac=bool(udac))
    assert dac.inputs[2].code == 1000
    assert (dac.outputs[2].code == 1000) is updated


def test_udac_0_updates_only_the_addressed_channel() -> None:
    _, dac, drv, _ = rig()
    drv.multi_write(0, 100, udac=True)
    drv.multi_write(1, 200, udac=False)
    assert [r.code for r in dac.outputs] == [0, 200, 0, 0]


def test_falling_ldac_updates_all_outputs() -> None:
    _, dac, drv, _ = rig()
    drv.multi_write(0, 100, udac=True)
    drv.multi_write(3, 300, udac=True)
    assert [r.code for r in dac.outputs] == [0, 0, 0, 0]
    dac.ldac = False
    assert [r.code for r in dac.outputs] == [100, 0, 0, 300]
    dac.ldac = True  # the rising edge changes nothing
    drv.multi_write(1, 50, udac=True)
    assert dac.outputs[1].code == 0


def test_general_call_software_update_updates_all_outputs() -> None:
    bus, dac, drv, _ = rig()
    drv.fast_write([10, 20, 30, 40])
    assert [r.code for r in dac.outputs] == [0, 0, 0, 0]  # Fast Write waits for LDAC
    general_call(bus, SOFTWARE_UPDATE)
    assert [r.code for r in dac.outputs] == [10, 20, 30, 40]


def test_fast_write_with_ldac_low_updates_at_once() -> None:
    _, dac, drv, _ = rig()
    dac.ldac = False
    drv.fast_write([10, 20, 30, 40])
    assert [r.code for r in dac.outputs] == [10, 20, 30, 40]


def test_fast_write_keeps_vref_and_gain_and_sets_pd() -> None:
    bus, dac, drv, _ = rig()
    drv.set_vref([True] * 4)
    drv.set_gain([True, False, True, False])
    send(bus, 0x10, 0x01, 0x20, 0x02, 0x00, 0x03, 0x00, 0x04)  # PD 01 on A, 10 on B
    assert dac.inputs[0] == R(vref=1, pd=1, gain=1, code=1)
    assert dac.inputs[1] == R(vref=1, pd=2, gain=0, code=2)


def test_the_byte_after_a_complete_fast_write_is_a_new_command() -> None:
    bus, dac, _, _ = rig()
    send(bus, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x8F)
    assert [r.code for r in dac.inputs] == [1, 2, 3, 4]
    assert [r.vref for r in dac.outputs] == [1, 1, 1, 1]
    assert list(dac.trace)[-2:] == ["fast_write", "vref"]


def test_multi_write_repeats_groups_whose_first_byte_only_selects() -> None:
    bus, dac, _, _ = rig()
    send(bus, 0x40, 0x00, 0x10, 0x03, 0x80, 0x20)  # A udac 0, then B udac 1 (top bits ignored)
    assert dac.inputs[1] == R(vref=1, code=0x020)
    assert [r.code for r in dac.outputs] == [0x010, 0, 0, 0]


def test_sequential_write_from_channel_c_and_udac() -> None:
    bus, dac, _, clock = rig()
    send(bus, 0x55, 0x01, 0x00, 0x02, 0x00)  # from C, UDAC 1
    assert [r.code for r in dac.eeprom] == [0, 0, 0x100, 0x200]
    assert [r.code for r in dac.outputs] == [0, 0, 0, 0]
    assert not dac.ready
    clock.t += EEPROM_WRITE_SECONDS
    assert dac.ready


def test_incomplete_sequential_write_leaves_eeprom_alone() -> None:
    bus, dac, _, _ = rig()
    send(bus, 0x50, 0x01, 0x00, 0x02)  # STOP in the middle of channel B
    assert dac.inputs[0].code == 0x100 and dac.outputs[0].code == 0x100
    assert dac.inputs[1].code == 0
    assert dac.eeprom == [R()] * 4 and dac.ready
    assert dac.trace[-1] == "incomplete sequential_write"


def test_single_write_sets_input_and_eeprom() -> None:
    bus, dac, _, _ = rig()
    send(bus, 0x5B, 0x87, 0xFF)  # channel B, UDAC 1, internal reference, 0x7FF
    assert dac.inputs[1] == dac.eeprom[1] == R(vref=1, code=0x7FF)
    assert dac.outputs[1] == R()
    general_call(bus, SOFTWARE_UPDATE)
    assert dac.output_volts(1) == pytest.approx(2.048 * 0x7FF / 4096)


def test_vref_and_gain_commands_change_the_output_at_once() -> None:
    _, dac, drv, _ = rig()
    drv.multi_write(0, 2048)
    assert dac.output_volts(0) == pytest.approx(2.5)
    drv.set_vref([True, False, False, False])
    assert dac.output_volts(0) == pytest.approx(1.024)
    drv.set_gain([True, False, False, False])
    assert dac.output_volts(0) == pytest.approx(2.048)
    assert dac.eeprom == [R()] * 4


def test_power_down_reads_zero_volts_and_wake_up_restores() -> None:
    bus, dac, drv, _ = rig()
    drv.multi_write(2, 4000)
    drv.power_down([0, 0, 3, 0])
    assert dac.output_volts(2) == 0.0
    general_call(bus, WAKE_UP)
    assert dac.output_volts(2) == pytest.approx(5.0 * 4000 / 4096)
    assert drv.read_all().inputs[2].pd == 0


def test_general_call_reset_reloads_eeprom() -> None:
    bus, dac, drv, _ = rig(eeprom=EEPROM)
    drv.fast_write([1, 2, 3, 4])
    dac.ldac = False
    drv.set_gain([False] * 4)
    general_call(bus, RESET)
    assert dac.inputs == dac.outputs == EEPROM
    assert dac.trace[-1] == "gc_reset"


def test_general_call_read_address_is_not_modelled_and_nacks() -> None:
    bus, dac, _, _ = rig()
    with pytest.raises(OSError) as err:
        bus.i2c_rdwr(i2c_msg.write(0x00, [0x0C]))
    assert err.value.errno == 121
    assert dac.trace[-1] == "gc 0x0C NACK (not modelled)"


# --- the model: EEPROM busy ----------------------------------------------------------------------
def test_rdy_is_low_for_the_eeprom_write_time() -> None:
    bus, _, _, clock = rig()
    send(bus, 0x58, 0x00, 0x10)
    assert read(bus, 1)[0] & 0x80 == 0
    clock.t += EEPROM_WRITE_SECONDS * 0.99
    assert read(bus, 24)[21] & 0x80 == 0  # every status byte shows it
    clock.t += EEPROM_WRITE_SECONDS * 0.02
    assert read(bus, 1)[0] & 0x80
    assert read(bus, 1)[0] & 0x40  # POR


def test_eeprom_commands_while_busy_are_acked_and_ignored() -> None:
    bus, dac, drv, clock = rig()
    send(bus, 0x58, 0x00, 0x10)
    send(bus, 0x5A, 0x00, 0x20)  # Single Write B: ignored
    send(bus, 0x50, *[0x0F, 0xFF] * 4)  # Sequential Write: ignored
    assert [r.code for r in dac.eeprom] == [0x010, 0, 0, 0]
    assert [r.code for r in dac.inputs] == [0x010, 0, 0, 0]
    assert dac.trace[-1] == "ignored 0x50 (EEPROM busy)"
    drv.multi_write(3, 0x333)  # volatile commands still work
    assert dac.outputs[3].code == 0x333
    clock.t += EEPROM_WRITE_SECONDS
    send(bus, 0x5A, 0x00, 0x20)
    assert dac.eeprom[1].code == 0x020


# --- the model: addresses ------------------------------------------------------------------------
def test_address_write_needs_ldac_low_at_byte_3() -> None:
    bus, dac, _, clock = rig(0x61)
    with pytest.raises(OSError):
        send(bus, 0x65, 0x76, 0x77, address=0x61)  # 011 001 01, 011 101 10, 011 101 11
    assert dac.address == 0x61
    assert wire(bus)[-1] == "[W 61: 65 76 77] NACK"
    dac.ldac = False
    send(bus, 0x65, 0x76, 0x77, address=0x61)
    assert dac.address == dac.eeprom_address == 0x65
    assert not dac.ready
    with pytest.raises(OSError):
        read(bus, 1, address=0x61)
    clock.t += EEPROM_WRITE_SECONDS
    state = Mcp4728(bus, 0x65).read_all()
    assert state.address == state.eeprom_address == 0x65
    general_call(bus, RESET)
    assert dac.address == 0x65


def test_address_write_for_another_chip_is_ignored() -> None:
    bus, dac, _, _ = rig(0x60)
    dac.ldac = False
    send(bus, 0x65, 0x76, 0x77)  # names current address bits 001, this chip is 000
    assert dac.address == 0x60 and dac.ready


def test_model_address_range_and_sizes() -> None:
    with pytest.raises(ValueError, match=r"0x60\.\.0x67"):
        SimMcp4728(0x58)
    with pytest.raises(ValueError, match="eeprom needs 4"):
        SimMcp4728(eeprom=[R()])
    with pytest.raises(ValueError, match=r"code must be 0\.\.4095"):
        R(code=4096)


# --- pitfalls the model must reproduce -----------------------------------------------------------
def test_read_i2c_block_data_pre_writes_a_fast_write_byte() -> None:
    bus, dac, _, _ = rig(eeprom=[R(code=2048)] * 4)
    data = bus.read_i2c_block_data(0x60, 0x00, 24)
    (t,) = bus.take_log()
    assert str(t).startswith("[W 60: 00] Sr [R 60: C0 08 00")
    assert list(dac.trace)[-2:] == ["fast_write", "incomplete fast_write"]
    assert data[1:3] == [0x08, 0x00]  # harmless only because the Fast Write never completed


def test_read_i2c_block_data_with_a_command_byte_reconfigures_the_chip() -> None:
    bus, dac, _, _ = rig(eeprom=[R(code=2048)] * 4)
    assert dac.output_volts(0) == pytest.approx(2.5)
    bus.read_i2c_block_data(0x60, 0x8F, 24)  # "register 0x8F" is Vref select: all internal
    assert [r.vref for r in dac.outputs] == [1, 1, 1, 1]
    assert dac.output_volts(0) == pytest.approx(1.024)


def test_general_call_sent_to_the_chips_own_address_is_a_fast_write() -> None:
    # Adafruit_CircuitPython_MCP4728's _general_call writes [0x00, cmd] to the chip (reference 1.3)
    bus, dac, drv, _ = rig()
    drv.fast_write([100, 200, 300, 400])
    send(bus, 0x00, SOFTWARE_UPDATE)
    assert dac.inputs[0].code == 0x008  # channel A's input register got "08"
    assert [r.code for r in dac.outputs] == [0, 0, 0, 0]  # and nothing was updated


# --- the analog side -----------------------------------------------------------------------------
def test_error_model_and_rails() -> None:
    _, dac, drv, _ = rig(errors=[(0.01, 0.02), (-0.05, 0.0), (0.0, 0.0), (0.0, -0.01)])
    drv.multi_write(0, 2048)
    drv.multi_write(2, 4095, vref_internal=True, gain2=True)
    drv.multi_write(3, 4095)
    assert dac.output_volts(0) == pytest.approx(2.5 * 1.02 + 0.01)
    assert dac.output_volts(1) == 0.0  # a negative offset clips at ground
    assert dac.output_volts(3) == pytest.approx(5.0 * 4095 / 4096 * 0.99)


def test_internal_reference_x2_clips_at_vdd() -> None:
    _, dac, drv, _ = rig(vdd=3.3)
    drv.multi_write(0, 4095, vref_internal=True, gain2=True)
    assert dac.output_volts(0) == 3.3
    drv.multi_write(1, 4095)
    assert dac.output_volts(1) == pytest.approx(3.3 * 4095 / 4096)


def test_on_output_reports_changes_only() -> None:
    seen: list[tuple[int, float]] = []
    bus, _, drv, _ = rig(on_output=lambda ch, v: seen.append((ch, v)))
    drv.multi_write(1, 2048)
    drv.multi_write(1, 2048)  # same value: no callback
    drv.multi_write(2, 1024, udac=True)  # input only: no callback
    general_call(bus, SOFTWARE_UPDATE)
    assert seen == [(1, 2.5), (2, 1.25)]


@given(st.lists(st.integers(0, 4095), min_size=4, max_size=4),
       st.lists(st.booleans(), min_size=4, max_size=4),
       st.lists(st.booleans(), min_size=4, max_size=4))
@FAST
def test_any_fast_write_then_general_call_update_gives_the_formula(
        codes: list[int], vrefs: list[bool], gains: list[bool]) -> None:
    bus, dac, drv, _ = rig()
    drv.set_vref(vrefs)
    drv.set_gain(gains)
    drv.fast_write(codes)
    general_call(bus, SOFTWARE_UPDATE)
    for ch in range(4):
        assert dac.output_volts(ch) == pytest.approx(ideal(codes[ch], vrefs[ch], gains[ch]))
    state = drv.read_all()
    assert [c.code for c in state.inputs] == codes
    assert [c.vref_internal for c in state.inputs] == vrefs


def test_round_trip_through_a_switch_with_one_general_call_for_all_segments() -> None:
    from hil.drivers.chips.tca9548a import Tca9548a
    from hil.sim.i2c.tca9548a import SimTca9548a

    bus = SimSMBus()
    mux = SimTca9548a()
    bus.add(mux)
    dacs = [SimMcp4728(0x60), SimMcp4728(0x60)]
    mux.channels[0].add(dacs[0])
    mux.channels[1].add(dacs[1])
    switch = Tca9548a(bus)
    for segment, codes in enumerate(([100, 200, 300, 400], [500, 600, 700, 800])):
        switch.channel(segment)
        Mcp4728(bus).fast_write(codes)
    switch.select(0x03)
    general_call(bus, SOFTWARE_UPDATE)
    assert [r.code for r in dacs[0].outputs] == [100, 200, 300, 400]
    assert [r.code for r in dacs[1].outputs] == [500, 600, 700, 800]
    assert bus.collisions == 0
