"""MCP4661: the driver's kernel-style frames (reference 6.2) and the model's command parser,
limits, error condition, EEPROM write cycle and resistance."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smbus2 import i2c_msg

from hil.drivers.chips.mcp4661 import Mcp4661
from hil.errors import DriverError
from hil.sim.i2c.bus import SimSMBus
from hil.sim.i2c.mcp4661 import SimMcp4661


class FakeClock:
    """Time that only moves when someone sleeps."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def rig(address: int = 0x28, **kwargs: object) -> tuple[SimSMBus, SimMcp4661, Mcp4661,
                                                        FakeClock]:
    clock = FakeClock()
    bus = SimSMBus()
    chip = SimMcp4661(address, clock=clock, **kwargs)  # type: ignore[arg-type]
    bus.add(chip)
    return bus, chip, Mcp4661(bus, address, sleep=clock.sleep, clock=clock), clock


def wire(bus: SimSMBus) -> list[str]:
    return [str(t) for t in bus.take_log()]


def send(bus: SimSMBus, *data: int) -> None:
    bus.i2c_rdwr(i2c_msg.write(0x28, list(data)))


def nacked(call: object) -> bool:
    try:
        call()  # type: ignore[operator]
    except OSError as err:
        return err.errno == 121
    return False


# --- driver bytes ---------------------------------------------------------------------------
def test_write_frames() -> None:
    bus, chip, drv, _ = rig()
    drv.write_wiper(0, 0x100)
    drv.write_wiper(1, 0x80)
    drv.write_wiper(0, 0x42, nonvolatile=True)
    assert wire(bus) == [
        "[W 28: 01 00]",  # mem 0, C = 00, D8 = 1 | D7..D0
        "[W 28: 10 80]",  # mem 1
        "[W 28: 20 42]",  # mem 2: non-volatile wiper 0
    ]
    assert (chip.wiper(0), chip.wiper(1), chip.memory[2]) == (0x100, 0x80, 0x42)


def test_read_frames_are_byte_swapped_words() -> None:
    bus, chip, drv, _ = rig()
    chip.memory[0x00] = 0x100
    chip.memory[0x03] = 0x0AB
    assert drv.read_wiper(0) == 0x100
    assert drv.read_wiper(1, nonvolatile=True) == 0x0AB
    assert drv.read_status() == 0x1F0
    assert wire(bus) == [
        "[W 28: 0C] Sr [R 28: 01 00]",  # D8 first: read_word_data would say 0x0001
        "[W 28: 3C] Sr [R 28: 00 AB]",
        "[W 28: 5C] Sr [R 28: 01 F0]",  # STATUS: D8..D4 forced to 1
    ]


def test_increment_and_decrement_frames() -> None:
    bus, chip, drv, _ = rig()
    drv.increment(0)
    drv.decrement(1)
    assert wire(bus) == ["[W 28: 04]", "[W 28: 18]"]
    assert (chip.wiper(0), chip.wiper(1)) == (0x81, 0x7F)


def test_nonvolatile_write_then_wait_for_the_eeprom() -> None:
    bus, _, drv, _ = rig(eeprom_write_seconds=2**-8)  # binary-exact times: ~3.9 ms
    drv.write_wiper(1, 0x33, nonvolatile=True)
    drv.wait_eeprom(poll_seconds=2**-10)
    log = wire(bus)
    assert log[0] == "[W 28: 30 33]"
    assert set(log[1:-1]) == {"[W 28: 5C] Sr [R 28: 01 F8]"}  # EEWA = 1
    assert log[-1] == "[W 28: 5C] Sr [R 28: 01 F0]"
    assert len(log) == 6  # four polls see EEWA = 1
    assert drv.read_wiper(1, nonvolatile=True) == 0x33


def test_eeprom_wait_times_out() -> None:
    _, _, drv, _ = rig(eeprom_write_seconds=1.0)
    drv.write_wiper(0, 1, nonvolatile=True)
    with pytest.raises(DriverError, match="EEPROM write still active"):
        drv.wait_eeprom(timeout=0.01)


@pytest.mark.parametrize("call", [
    lambda d: d.write_wiper(2, 0), lambda d: d.write_wiper(0, 257), lambda d: d.write_wiper(0, -1),
    lambda d: d.read_wiper(-1), lambda d: d.increment(2), lambda d: d.decrement(3),
])
def test_bad_arguments(call: object) -> None:
    bus, _, drv, _ = rig()
    with pytest.raises(ValueError):
        call(drv)  # type: ignore[operator]
    assert bus.log == []


# --- model ----------------------------------------------------------------------------------
def test_increment_and_decrement_stop_at_the_ends() -> None:
    _, chip, drv, _ = rig()
    drv.write_wiper(0, 255)
    for _ in range(3):
        drv.increment(0)
    assert chip.wiper(0) == 256
    drv.write_wiper(1, 1)
    for _ in range(3):
        drv.decrement(1)
    assert chip.wiper(1) == 0


def test_invalid_combinations_are_nacked() -> None:
    bus, chip, _, _ = rig()
    assert nacked(lambda: send(bus, 0x24))  # increment a non-volatile wiper
    assert nacked(lambda: send(bus, 0x68))  # decrement EEPROM
    assert nacked(lambda: send(bus, 0x50, 0x00))  # write STATUS
    assert chip.memory[0x02] == 0x80
    log = bus.take_log()
    assert [str(t) for t in log] == ["[W 28: 24] NACK", "[W 28: 68] NACK", "[W 28: 50] NACK"]


def test_after_an_error_everything_is_ignored_until_a_new_start() -> None:
    _, chip, _, _ = rig()
    chip.start(False)
    assert chip.write_byte(0x24) is False
    assert chip.write_byte(0x04) is False  # a valid increment, but ignored
    chip.stop()
    assert chip.wiper(0) == 0x80
    chip.start(False)
    assert chip.write_byte(0x04) is True
    chip.stop()
    assert chip.wiper(0) == 0x81


def test_several_commands_in_one_transaction() -> None:
    bus, chip, _, _ = rig()
    send(bus, 0x04, 0x04, 0x14, 0x00, 0x10, 0x18)  # inc W0 x2, inc W1, W0 = 0x10, dec W1
    assert (chip.wiper(0), chip.wiper(1)) == (0x10, 0x80)


def test_stop_where_data_was_expected_aborts_the_write() -> None:
    bus, chip, _, _ = rig()
    send(bus, 0x00)
    assert chip.wiper(0) == 0x80


def test_wiper_writes_clamp_to_full_scale_and_d9_is_ignored() -> None:
    bus, chip, _, _ = rig()
    send(bus, 0x01, 0xFF)
    assert chip.wiper(0) == 0x100
    send(bus, 0x12, 0x20)  # D9 set
    assert chip.wiper(1) == 0x20


def test_eeprom_cycle_blocks_nonvolatile_commands_only() -> None:
    bus, chip, drv, clock = rig()
    drv.write_wiper(0, 0x11, nonvolatile=True)
    assert chip.eeprom_busy
    assert nacked(lambda: drv.write_wiper(1, 0x22, nonvolatile=True))
    assert nacked(lambda: drv.read_wiper(0, nonvolatile=True))
    assert nacked(lambda: send(bus, 0x6C))  # read EEPROM 0x06
    drv.write_wiper(1, 0x22)  # volatile wipers, TCON and STATUS stay usable
    drv.increment(1)
    assert drv.read_status() & 0x008
    clock.t += 0.005
    assert not chip.eeprom_busy
    assert drv.read_wiper(0, nonvolatile=True) == 0x11
    assert chip.wiper(1) == 0x23


def test_general_purpose_eeprom_and_tcon() -> None:
    bus, _, _, clock = rig()
    send(bus, 0x61, 0x23)  # EEPROM 0x06 = 0x123
    clock.t += 0.01
    assert bus.read_word_data(0x28, 0x6C) == 0x2301
    assert bus.read_word_data(0x28, 0x4C) == 0xFF01  # TCON0 = 0x1FF after POR


def test_power_up_loads_the_nonvolatile_wipers() -> None:
    _, chip, drv, clock = rig()
    assert (chip.wiper(0), chip.wiper(1)) == (0x80, 0x80)
    drv.write_wiper(0, 0x40, nonvolatile=True)
    clock.t += 0.01
    drv.write_wiper(1, 0x100, nonvolatile=True)
    clock.t += 0.01
    drv.write_wiper(0, 0x00)
    chip.power_cycle()
    assert (chip.wiper(0), chip.wiper(1)) == (0x40, 0x100)


def test_resistance_and_terminal_control() -> None:
    seen: list[tuple[int, float]] = []
    bus, chip, drv, _ = rig(r_ab=10_000.0, wiper_ohms=75.0,
                            on_resistance=lambda w, ohms: seen.append((w, ohms)))
    assert seen == [(0, 5075.0), (1, 5075.0)]
    seen.clear()
    drv.write_wiper(1, 256)
    assert chip.resistance(1) == pytest.approx(10_075.0)
    send(bus, 0x41, 0xFD)  # TCON0: R0W disconnected
    assert chip.resistance(0) == math.inf
    send(bus, 0x41, 0x7F)  # TCON0: R1HW = 0 (shutdown: W to B), pot 0 connected
    assert chip.resistance(1) == 75.0
    assert seen == [(1, 10_075.0), (0, math.inf), (0, 5075.0), (1, 75.0)]


def test_tolerance() -> None:
    _, chip, _, _ = rig(r_ab=100_000.0, tolerance=-0.2)
    assert chip.resistance(0) == pytest.approx(128 / 256 * 80_000.0)


def test_construction_checks() -> None:
    assert SimMcp4661(0x2F).address == 0x2F
    with pytest.raises(ValueError, match=r"0x28\.\.0x2F"):
        SimMcp4661(0x30)
    with pytest.raises(ValueError, match="5000, 10000, 50000, 100000"):
        SimMcp4661(r_ab=20_000.0)


# --- round trips ----------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 1), st.integers(0, 256))
def test_any_wiper_value_round_trips(wiper: int, value: int) -> None:
    seen: list[tuple[int, float]] = []
    _, chip, drv, _ = rig(r_ab=5_000.0, on_resistance=lambda w, ohms: seen.append((w, ohms)))
    drv.write_wiper(wiper, value)
    assert drv.read_wiper(wiper) == value
    assert chip.resistance(wiper) == pytest.approx(value / 256 * 5_000.0)
    assert [ohms for w, ohms in seen if w == wiper][-1] == chip.resistance(wiper)
