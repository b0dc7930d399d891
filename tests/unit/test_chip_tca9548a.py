"""TCA9548A: the driver's byte frames (reference 5.1) and mask cache, against the model (5.2)."""

from __future__ import annotations

import pytest

from hil.drivers.chips.tca9548a import Tca9548a
from hil.sim.i2c.bus import SimSMBus
from hil.sim.i2c.tca9548a import SimTca9548a


def rig(address: int = 0x70) -> tuple[SimSMBus, SimTca9548a, Tca9548a]:
    bus = SimSMBus()
    mux = SimTca9548a(address)
    bus.add(mux)
    return bus, mux, Tca9548a(bus, address)


def wire(bus: SimSMBus) -> list[str]:
    return [str(t) for t in bus.take_log()]


def test_channel_writes_one_mask_byte_without_register() -> None:
    bus, mux, drv = rig()
    drv.channel(2)
    assert wire(bus) == ["[W 70: 04]"]  # S E0 | 04 | P
    assert mux.control == 0x04


def test_select_is_cached() -> None:
    bus, _, drv = rig()
    drv.select(0x07)
    drv.select(0x07)
    drv.channel(0)
    drv.channel(0)
    assert wire(bus) == ["[W 70: 07]", "[W 70: 01]"]


def test_isolate_writes_zero() -> None:
    bus, mux, drv = rig(0x77)
    drv.select(0x81)
    drv.select(0x00)
    assert wire(bus) == ["[W 77: 81]", "[W 77: 00]"]
    assert mux.control == 0x00


def test_read_returns_the_register_and_refreshes_the_cache() -> None:
    bus, mux, drv = rig()
    drv.select(0x01)
    mux.control = 0x10  # someone else (or a reset) changed it behind the driver's back
    assert drv.read() == 0x10
    drv.select(0x01)
    assert wire(bus) == ["[W 70: 01]", "[R 70: 10]", "[W 70: 01]"]


def test_forget_forces_the_next_write() -> None:
    bus, mux, drv = rig()
    drv.select(0x02)
    mux.reset()
    drv.forget()
    drv.select(0x02)
    assert wire(bus) == ["[W 70: 02]", "[W 70: 02]"]
    assert mux.control == 0x02


def test_a_failed_write_leaves_no_stale_cache() -> None:
    bus = SimSMBus()
    drv = Tca9548a(bus, 0x70)  # no switch on the bus
    with pytest.raises(OSError):
        drv.select(0x01)
    mux = SimTca9548a(0x70)
    bus.add(mux)
    drv.select(0x01)  # retried, not skipped
    assert mux.control == 0x01


@pytest.mark.parametrize("mask", [-1, 0x100])
def test_mask_out_of_range(mask: int) -> None:
    _, _, drv = rig()
    with pytest.raises(ValueError, match=rf"0\.\.0xFF, got {mask}"):
        drv.select(mask)


@pytest.mark.parametrize("channel", [-1, 8])
def test_channel_out_of_range(channel: int) -> None:
    _, _, drv = rig()
    with pytest.raises(ValueError, match=rf"0\.\.7, got {channel}"):
        drv.channel(channel)


def test_model_keeps_the_last_byte_written() -> None:
    bus, mux, _ = rig()
    bus.write_i2c_block_data(0x70, 0x01, [0x02, 0x40])
    assert mux.control == 0x40


def test_model_address_range() -> None:
    with pytest.raises(ValueError, match=r"0x70\.\.0x77"):
        SimTca9548a(0x69)
