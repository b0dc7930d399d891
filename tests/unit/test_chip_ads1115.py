"""ADS1115: the driver's exact bytes (reference 3.1), the model's timing and transfer function."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.drivers.chips.ads1115 import Ads1115, config_word
from hil.errors import DriverError
from hil.sim.i2c.ads1115 import SimAds1115, quantize
from hil.sim.i2c.bus import SimSMBus


class FakeClock:
    """Time that only moves when someone sleeps."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def rig(address: int = 0x48, **model_kwargs: object) -> tuple[SimSMBus, SimAds1115, Ads1115,
                                                            FakeClock]:
    clock = FakeClock()
    bus = SimSMBus()
    adc = SimAds1115(address, clock=clock, **model_kwargs)  # type: ignore[arg-type]
    bus.add(adc)
    return bus, adc, Ads1115(bus, address, sleep=clock.sleep, clock=clock), clock


def wire(bus: SimSMBus) -> list[str]:
    return [str(t) for t in bus.take_log()]


def write(bus: SimSMBus, *data: int, address: int = 0x48) -> None:
    bus.write_i2c_block_data(address, data[0], list(data[1:]))


def read(bus: SimSMBus, n: int = 2, address: int = 0x48) -> list[int]:
    from smbus2 import i2c_msg

    msg = i2c_msg.read(address, n)
    bus.i2c_rdwr(msg)
    return list(msg)


def register(bus: SimSMBus, pointer: int) -> int:
    write(bus, pointer)
    msb, lsb = read(bus)
    return msb << 8 | lsb


# --- driver bytes ---------------------------------------------------------------------------
def test_single_shot_sequence_is_the_datasheet_frames() -> None:
    bus, adc, drv, _ = rig()
    adc.inputs[0] = 1.0
    assert drv.read_volts(0, fsr=4.096, data_rate=128) == pytest.approx(1.0)
    assert wire(bus) == [
        "[W 48: 01 C3 83]",  # S 90 | 01 C3 83 | P
        "[W 48: 01] Sr [R 48: C3 83]",  # S 90 | 01 | Sr 91 | hi lo | P, OS = 1
        "[W 48: 00] Sr [R 48: 1F 40]",  # 1.0 V / 125 uV = 8000 = 0x1F40
    ]


def test_860_sps_config_bytes() -> None:
    bus, _, drv, _ = rig()
    drv.read_volts(0)
    assert wire(bus)[0] == "[W 48: 01 C3 E3]"


@pytest.mark.parametrize(("ain", "fsr", "rate", "word"), [
    (0, 4.096, 128, 0xC383), (0, 4.096, 860, 0xC3E3), (1, 4.096, 128, 0xD383),
    (2, 2.048, 8, 0xE503), (3, 6.144, 475, 0xF1C3), (3, 0.256, 250, 0xFBA3),
])
def test_config_word(ain: int, fsr: float, rate: int, word: int) -> None:
    assert config_word(ain, fsr, rate) == word


@pytest.mark.parametrize(("kwargs", "allowed"), [
    ({"ain": 4}, "0, 1, 2, 3"),
    ({"ain": 0, "fsr": 3.3}, "6.144, 4.096, 2.048, 1.024, 0.512, 0.256"),
    ({"ain": 0, "data_rate": 100}, "8, 16, 32, 64, 128, 250, 475, 860"),
])
def test_arguments_are_validated_before_any_bus_traffic(kwargs: dict[str, float],
                                                        allowed: str) -> None:
    bus, _, drv, _ = rig()
    with pytest.raises(ValueError, match=allowed):
        drv.read_volts(**kwargs)  # type: ignore[arg-type]
    assert bus.log == []


def test_driver_polls_until_a_slow_chip_is_done() -> None:
    clock = FakeClock()
    bus = SimSMBus()
    bus.add(SimAds1115(clock=lambda: clock.t * 0.9 + 100))  # a chip running 10 % slow
    drv = Ads1115(bus, sleep=clock.sleep, clock=clock)
    drv.read_volts(0, data_rate=128)
    log = wire(bus)
    polls = [t for t in log if t.startswith("[W 48: 01] Sr")]
    assert polls[:-1] == ["[W 48: 01] Sr [R 48: 43 83]"] * (len(polls) - 1)  # OS = 0
    assert len(polls) >= 2
    assert polls[-1] == "[W 48: 01] Sr [R 48: C3 83]"
    assert log[-1].startswith("[W 48: 00] Sr [R 48:")


def test_driver_times_out_with_a_clear_error() -> None:
    clock = FakeClock()
    bus = SimSMBus()
    bus.add(SimAds1115(clock=lambda: 0.0))  # a chip whose conversion never ends
    drv = Ads1115(bus, sleep=clock.sleep, clock=clock)
    with pytest.raises(DriverError, match=r"0x48.*AIN2.*0.05 s"):
        drv.read_volts(2, data_rate=860, timeout=0.05)
    assert not any(str(t).startswith("[W 48: 00]") for t in bus.log)


def test_negative_code_is_sign_extended() -> None:
    bus, _, drv, _ = rig(read_input=lambda ain: -0.5)  # below GND: not legal, but signed
    assert drv.read_volts(1, fsr=2.048) == pytest.approx(-0.5)
    assert wire(bus)[-1] == "[W 48: 00] Sr [R 48: E0 C0]"  # -8000 * 62.5 uV


def test_missing_chip_is_a_remote_io_error() -> None:
    bus, _, _, clock = rig()
    drv = Ads1115(bus, 0x49, sleep=clock.sleep, clock=clock)
    with pytest.raises(OSError) as err:
        drv.read_volts(0)
    assert err.value.errno == 121


# --- model registers ------------------------------------------------------------------------
def test_reset_values_and_pointer_persistence() -> None:
    bus, _, _, _ = rig()
    assert [register(bus, p) for p in range(4)] == [0x0000, 0x8583, 0x8000, 0x7FFF]
    write(bus, 0x02)
    assert read(bus) == [0x80, 0x00]
    assert read(bus) == [0x80, 0x00]  # the pointer stays until rewritten


def test_reads_are_big_endian_and_repeat_past_two_bytes() -> None:
    bus, _, _, _ = rig()
    write(bus, 0x03, 0x12, 0x34)
    write(bus, 0x03)
    assert read(bus, 5) == [0x12, 0x34, 0x12, 0x34, 0x12]


def test_incomplete_and_readonly_writes_are_ignored() -> None:
    bus, _, _, _ = rig()
    write(bus, 0x02, 0x55)  # one data byte only: discarded
    write(bus, 0x00, 0x12, 0x34)  # conversion register is read-only
    assert register(bus, 0x02) == 0x8000
    assert register(bus, 0x00) == 0x0000
    write(bus, 0xFF, 0x12, 0x34)  # pointer bits 7:2 are ignored -> Hi_thresh
    assert register(bus, 0x03) == 0x1234


def test_address_range() -> None:
    for address in (0x48, 0x49, 0x4A, 0x4B):
        assert SimAds1115(address).address == address
    with pytest.raises(ValueError, match=r"0x48\.\.0x4B"):
        SimAds1115(0x4C)


# --- model conversions ----------------------------------------------------------------------
def test_single_shot_takes_one_over_data_rate() -> None:
    bus, adc, _, clock = rig()
    adc.inputs[0] = 2.0
    write(bus, 0x01, 0xC3, 0x83)  # AIN0, 4.096 V, 128 SPS
    assert register(bus, 0x01) == 0x4383  # OS = 0: converting
    clock.t += 1 / 128 - 1e-6
    assert register(bus, 0x01) >> 15 == 0
    assert register(bus, 0x00) == 0x0000  # nothing converted yet
    clock.t += 2e-6
    assert register(bus, 0x01) == 0xC383
    assert register(bus, 0x00) == 16000  # 2.0 V / 125 uV
    assert adc.conversions == 1


def test_os_write_while_converting_is_ignored() -> None:
    bus, adc, _, clock = rig()
    adc.inputs[:] = [1.0, 3.0, 0.0, 0.0]
    write(bus, 0x01, 0xC3, 0x83)  # AIN0, 128 SPS
    clock.t += 0.5 / 128
    write(bus, 0x01, 0xD3, 0x83)  # AIN1 with OS = 1: the running conversion is not restarted
    clock.t += 0.5 / 128
    assert register(bus, 0x01) >> 15 == 1
    assert register(bus, 0x00) == 8000  # AIN0, finished on the original schedule
    assert adc.conversions == 1


def test_os_zero_in_power_down_starts_nothing() -> None:
    bus, adc, _, clock = rig()
    write(bus, 0x01, 0x43, 0x83)
    clock.t += 1.0
    assert register(bus, 0x01) == 0xC383  # idle
    assert adc.conversions == 0


@pytest.mark.parametrize(("mux", "expected"), [
    (0b000, 0.3 - 1.2), (0b001, 0.3 - 2.0), (0b010, 1.2 - 2.0), (0b011, 1.7 - 2.0),
    (0b100, 0.3), (0b101, 1.2), (0b110, 1.7), (0b111, 2.0),
])
def test_mux_selects_inputs_and_differences(mux: int, expected: float) -> None:
    bus, adc, _, clock = rig()
    adc.inputs[:] = [0.3, 1.2, 1.7, 2.0]
    config = 0x8000 | mux << 12 | 0x0400 | 0x0100 | 0x00E0 | 0x3  # 2.048 V, 860 SPS
    write(bus, 0x01, config >> 8, config & 0xFF)
    clock.t += 1 / 860
    raw = register(bus, 0x00)
    code = raw - 0x10000 if raw & 0x8000 else raw
    assert code * 2.048 / 32768 == pytest.approx(expected, abs=2.048 / 32768)


@pytest.mark.parametrize(("volts", "code"), [
    (0.0, 0x0000), (4.096, 0x7FFF), (5.0, 0x7FFF), (-4.096, 0x8000), (-9.0, 0x8000),
    (125e-6, 0x0001), (-125e-6, 0xFFFF), (0.49 * 125e-6, 0x0000), (0.51 * 125e-6, 0x0001),
])
def test_quantize_clips_rounds_and_uses_twos_complement(volts: float, code: int) -> None:
    assert quantize(volts, 4.096) == code


def test_continuous_mode_refreshes_every_period() -> None:
    bus, adc, _, clock = rig()
    adc.inputs[3] = 1.0
    write(bus, 0x01, 0x72, 0xE3)  # AIN3, 4.096 V, continuous, 860 SPS
    assert register(bus, 0x01) >> 15 == 0  # always converting
    clock.t += 1.5 / 860
    assert register(bus, 0x00) == 8000
    adc.inputs[3] = 2.0
    clock.t += 0.4 / 860  # still inside the second conversion
    assert register(bus, 0x00) == 8000
    clock.t += 0.2 / 860
    assert register(bus, 0x00) == 16000
    write(bus, 0x01, 0x73, 0xE3)  # MODE = 1, OS = 0: power down
    adc.inputs[3] = 3.0
    clock.t += 1.0
    assert register(bus, 0x00) == 16000
    assert register(bus, 0x01) >> 15 == 1


def test_gain_and_offset_error_model() -> None:
    _, adc, drv, _ = rig(gain_error=0.001, offset_volts=-0.002)
    adc.inputs[0] = 3.0
    assert drv.read_volts(0) == pytest.approx(3.0 * 1.001 - 0.002, abs=125e-6)


def test_read_input_callback_gets_the_ain_index() -> None:
    asked: list[int] = []

    def world(ain: int) -> float:
        asked.append(ain)
        return 0.25 * ain

    _, _, drv, _ = rig(read_input=world)
    assert drv.read_volts(2) == pytest.approx(0.5)
    assert asked == [2]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([6.144, 4.096, 2.048, 1.024, 0.512, 0.256]),
       st.sampled_from([8, 128, 860]), st.integers(0, 3), st.floats(0.0, 1.0))
def test_any_voltage_within_fsr_reads_back_within_one_lsb(fsr: float, rate: int, ain: int,
                                                         fraction: float) -> None:
    _, adc, drv, _ = rig()
    volts = fraction * fsr
    adc.inputs[ain] = volts
    assert abs(drv.read_volts(ain, fsr=fsr, data_rate=rate) - volts) <= fsr / 32768 * (1 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(st.floats(-8.0, 8.0), st.sampled_from([6.144, 2.048, 0.256]))
def test_differential_codes_are_clipped_and_signed(volts: float, fsr: float) -> None:
    code = quantize(volts, fsr)
    signed = code - 0x10000 if code & 0x8000 else code
    clipped = max(-fsr, min(fsr, volts))
    assert abs(signed * fsr / 32768 - clipped) <= fsr / 32768 * (1 + 1e-9)
    if abs(volts) > fsr / 32768:
        assert (signed < 0) == (volts < 0)
