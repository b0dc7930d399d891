"""AD5272/AD5274: the driver's command words (reference 6.1) and the model's protection, 50-TP
store timing, shutdown and resistance, up to an NTC temperature round trip."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smbus2 import i2c_msg

from hil.drivers.chips.ad5272 import Ad5272
from hil.errors import DriverError
from hil.ntc import BetaNtc
from hil.sim.i2c.ad5272 import SimAd5272
from hil.sim.i2c.bus import SimSMBus


class FakeClock:
    """Time that only moves when someone sleeps."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def rig(address: int = 0x2F, positions: int = 1024, **kwargs: object,
        ) -> tuple[SimSMBus, SimAd5272, Ad5272, FakeClock]:
    clock = FakeClock()
    bus = SimSMBus()
    chip = SimAd5272(address, positions=positions, clock=clock, **kwargs)  # type: ignore[arg-type]
    bus.add(chip)
    return bus, chip, Ad5272(bus, address, positions, sleep=clock.sleep, clock=clock), clock


def wire(bus: SimSMBus) -> list[str]:
    return [str(t) for t in bus.take_log()]


def send(bus: SimSMBus, *data: int, address: int = 0x2F) -> None:
    bus.i2c_rdwr(i2c_msg.write(address, list(data)))


def receive(bus: SimSMBus, n: int = 2, address: int = 0x2F) -> list[int]:
    msg = i2c_msg.read(address, n)
    bus.i2c_rdwr(msg)
    return list(msg)


# --- driver bytes ---------------------------------------------------------------------------
def test_unlock_write_and_read_frames() -> None:
    bus, _, drv, _ = rig()
    drv.unlock()
    drv.write(512)
    drv.write(1023)
    drv.write(0)
    assert drv.read() == 0
    assert wire(bus) == [
        "[W 2F: 1C 02]",  # cmd 7, C1 = 1: RDAC write enable
        "[W 2F: 06 00]",  # cmd 1, 512
        "[W 2F: 07 FF]",
        "[W 2F: 04 00]",
        "[W 2F: 08 00]",  # cmd 2 ...
        "[R 2F: 00 00]",  # ... then a separate 2-byte read, as the kernel driver does
    ]


def test_reset_shutdown_and_control_frames() -> None:
    bus, _, drv, _ = rig()
    drv.reset()
    drv.shutdown(True)
    drv.shutdown(False)
    assert drv.read_control() == 0x0
    assert wire(bus) == ["[W 2F: 10 00]", "[W 2F: 24 01]", "[W 2F: 24 00]", "[W 2F: 20 00]",
                         "[R 2F: 00 00]"]


def test_store_frames_ack_polling_and_check() -> None:
    bus, chip, drv, clock = rig()
    drv.unlock()
    drv.write(300)
    bus.take_log()
    started = clock.t
    drv.store()
    log = bus.take_log()
    assert [str(t) for t in log[:2]] == ["[W 2F: 1C 03]", "[W 2F: 0C 00]"]  # enable, store
    polls = log[2:-4]
    # NACKed at the address byte: no data byte was clocked
    assert all(t.nacked and not any(m.data for m in t.messages) for t in polls)
    assert len(polls) == 17  # 20 ms polls: NACKed until 0.35 s have passed
    assert [str(t) for t in log[-4:]] == [
        "[W 2F: 00 00]",  # the NOP poll that was ACKed
        "[W 2F: 20 00]", "[R 2F: 00 0B]",  # control: C3 (stored) | C1 | C0
        "[W 2F: 1C 02]",  # programming disabled again
    ]
    assert clock.t - started == pytest.approx(0.36)
    assert chip.fuses == [300]


def test_ad5274_data_sits_in_d9_to_d2() -> None:
    bus, chip, drv, _ = rig(positions=256, r_nominal=100_000.0)
    drv.unlock()
    drv.write(128)
    drv.write(255)
    assert drv.read() == 255
    assert wire(bus) == ["[W 2F: 1C 02]", "[W 2F: 06 00]", "[W 2F: 07 FC]", "[W 2F: 08 00]",
                         "[R 2F: 03 FC]"]
    assert chip.rdac == 255


@pytest.mark.parametrize(("positions", "code"), [(1024, -1), (1024, 1024), (256, 256)])
def test_out_of_range_codes(positions: int, code: int) -> None:
    bus, _, drv, _ = rig(positions=positions, r_nominal=20_000.0)
    with pytest.raises(ValueError, match=rf"0\.\.{positions - 1}"):
        drv.write(code)
    assert bus.log == []


def test_store_timeout_is_a_driver_error() -> None:
    _, _, drv, _ = rig(store_seconds=5.0)
    drv.unlock()
    with pytest.raises(DriverError, match=r"still busy 1\.0 s"):
        drv.store()


def test_store_with_full_50tp_memory_fails_loudly() -> None:
    bus, chip, drv, _ = rig(fuses=[100] * 50)
    drv.unlock()
    with pytest.raises(DriverError, match="C3 = 0"):
        drv.store()
    assert wire(bus)[-1] == "[W 2F: 1C 02]"  # programming is disabled even when it fails
    assert len(chip.fuses) == 50


# --- model ----------------------------------------------------------------------------------
def test_rdac_is_write_protected_after_power_up() -> None:
    _, chip, drv, _ = rig()
    assert chip.rdac == 512  # midscale: nothing stored yet
    drv.write(100)
    assert chip.rdac == 512
    drv.unlock()
    drv.write(100)
    assert chip.rdac == 100
    chip.power_cycle()
    assert chip.control == 0
    drv.write(200)
    assert chip.rdac == 512


def test_store_nacks_the_address_while_programming() -> None:
    bus, chip, _, clock = rig()
    send(bus, 0x1C, 0x03)  # RDAC write + 50-TP program enable
    send(bus, 0x05, 0x55)  # RDAC = 0x155
    send(bus, 0x0C, 0x00)  # store
    assert chip.busy
    clock.t += 0.349
    for attempt in (lambda: send(bus, 0x00, 0x00), lambda: receive(bus)):
        with pytest.raises(OSError) as err:
            attempt()
        assert err.value.errno == 121
    clock.t += 0.002
    send(bus, 0x00, 0x00)
    send(bus, 0x0C, 0x00)  # a second store: location 2
    clock.t += 0.35
    send(bus, 0x14, 0x01)  # read 50-TP location 1
    assert receive(bus) == [0x01, 0x55]
    send(bus, 0x18, 0x00)  # address of the last programmed location
    assert receive(bus) == [0x00, 0x02]
    send(bus, 0x20, 0x00)
    assert receive(bus) == [0x00, 0x0B]  # C3 | C1 | C0


def test_store_without_program_enable_is_ignored() -> None:
    bus, chip, drv, _ = rig()
    drv.unlock()
    send(bus, 0x0C, 0x00)
    assert not chip.busy
    assert chip.fuses == []


def test_power_up_and_software_reset_reload_the_last_stored_value() -> None:
    _, chip, drv, _ = rig(fuses=[10, 20, 700])
    assert chip.rdac == 700
    drv.unlock()
    drv.write(5)
    drv.reset()
    assert chip.rdac == 700
    assert chip.control == 0x2  # software reset leaves the control register alone
    fresh = SimAd5272(positions=256, r_nominal=20_000.0)
    assert fresh.rdac == 128


def test_shutdown_opens_the_rheostat() -> None:
    seen: list[float] = []
    _, chip, drv, _ = rig(on_resistance=seen.append)
    assert seen == [10_000.0]  # midscale, reported at power-up
    drv.shutdown(True)
    assert chip.resistance == math.inf
    drv.unlock()
    drv.write(256)  # accepted during shutdown, applied when it ends
    assert chip.resistance == math.inf
    drv.shutdown(False)
    assert chip.resistance == pytest.approx(5_000.0)
    assert seen == [10_000.0, math.inf, 5_000.0]


def test_resistance_law_with_wiper_and_tolerance() -> None:
    _, chip, drv, _ = rig(r_nominal=50_000.0, wiper_ohms=35.0, tolerance=0.01)
    drv.unlock()
    drv.write(0)
    assert chip.resistance == pytest.approx(35.0)
    drv.write(1000)
    assert chip.resistance == pytest.approx(1000 / 1024 * 50_500.0 + 35.0)


def test_several_words_per_transaction_and_bad_words() -> None:
    bus, chip, _, _ = rig()
    send(bus, 0x1C, 0x02, 0x04, 0x21)  # unlock, RDAC = 0x021 in one write
    assert chip.rdac == 0x21
    send(bus, 0x44, 0x99)  # top bits not 00: ignored
    send(bus, 0x3C, 0x00)  # command 15: ignored
    send(bus, 0x05)  # half a word: dropped at STOP
    assert chip.rdac == 0x21
    assert receive(bus, 4) == [0x00, 0x21, 0x00, 0x21]  # RDAC by default; repeats


def test_construction_checks() -> None:
    for address in (0x2C, 0x2E, 0x2F):
        assert SimAd5272(address).address == address
    with pytest.raises(ValueError, match="0x2C, 0x2E, 0x2F"):
        SimAd5272(0x2D)
    with pytest.raises(ValueError, match="20000, 100000"):
        SimAd5272(positions=256, r_nominal=50_000.0)
    with pytest.raises(ValueError, match="1024"):
        SimAd5272(positions=512)


# --- round trips ----------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 1023))
def test_any_code_written_reads_back(code: int) -> None:
    _, chip, drv, _ = rig()
    drv.unlock()
    drv.write(code)
    assert chip.rdac == code
    assert drv.read() == code


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 100.0))
def test_ntc_temperature_round_trip_within_one_step(celsius: float) -> None:
    ntc = BetaNtc(r25_ohms=10_000.0, beta=3950.0)
    seen: list[float] = []
    _, chip, drv, _ = rig(r_nominal=50_000.0, on_resistance=seen.append)
    ohms = ntc.ohms(celsius)
    drv.unlock()
    drv.write(Ad5272.code_for_ohms(ohms, 50_000.0))
    assert abs(chip.resistance - ohms) <= chip.step_ohms / 2 + 1e-9
    assert seen[-1] == chip.resistance
    # what the BMS would read back, within the temperature width of one step
    step_celsius = abs(ntc.celsius(ohms + chip.step_ohms) - celsius)
    assert abs(ntc.celsius(chip.resistance) - celsius) <= step_celsius
