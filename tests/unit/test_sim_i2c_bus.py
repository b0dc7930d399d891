"""SimSMBus: the raw messages of every smbus2 call, NACKs, switches, collisions, general call."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from smbus2 import i2c_msg

from hil.sim.i2c.bus import I2cDevice, SimSMBus
from hil.sim.i2c.tca9548a import SimTca9548a


class Recorder(I2cDevice):
    """A register-pointer chip that records every bus event it sees.

    The first byte of a write is the pointer; later bytes are stored from there. Reads return
    registers from the pointer. Bytes listed in `nack_values` are not acknowledged.
    """

    def __init__(self, address: int, general_call: bool = False,
                 nack_values: tuple[int, ...] = ()) -> None:
        self.address = address
        self.general_call = general_call
        self.nack_values = nack_values
        self.regs = [(address + i) & 0xFF for i in range(256)]
        self.events: list[tuple[object, ...]] = []
        self.pointer = 0
        self._first = True

    def start(self, read: bool) -> bool:
        self.events.append(("start", read))
        self._first = True
        return True

    def start_general_call(self) -> bool:
        self.events.append(("general_call",))
        self._first = True
        return True

    def write_byte(self, value: int) -> bool:
        self.events.append(("write", value))
        if value in self.nack_values:
            return False
        if self._first:
            self.pointer, self._first = value, False
        else:
            self.regs[self.pointer] = value
            self.pointer = (self.pointer + 1) & 0xFF
        return True

    def read_byte(self) -> int:
        value = self.regs[self.pointer]
        self.events.append(("read", value))
        self.pointer = (self.pointer + 1) & 0xFF
        return value

    def stop(self) -> None:
        self.events.append(("stop",))


def one(address: int = 0x48, **kwargs: object) -> tuple[SimSMBus, Recorder]:
    bus = SimSMBus()
    dev = Recorder(address, **kwargs)  # type: ignore[arg-type]
    bus.add(dev)
    return bus, dev


def wire(bus: SimSMBus) -> list[str]:
    return [str(t) for t in bus.take_log()]


# --- NACK --------------------------------------------------------------------------------------
def test_unknown_address_is_errno_121_after_stop_and_logged_as_nacked() -> None:
    bus, dev = one(0x48)
    with pytest.raises(OSError) as err:
        bus.write_byte_data(0x49, 0x01, 0x02)
    assert err.value.errno == errno.EREMOTEIO == 121
    log = bus.take_log()
    assert len(log) == 1 and log[0].nacked
    assert str(log[0]) == "[W 49: ] NACK"  # the address byte was clocked, nobody answered
    assert log[0].wire_bytes == 1
    assert dev.events == []  # another address: the chip saw nothing


def test_data_nack_stops_the_transaction_and_logs_the_bytes_up_to_it() -> None:
    bus, dev = one(0x48, nack_values=(0xEE,))
    with pytest.raises(OSError) as err:
        bus.write_i2c_block_data(0x48, 0x10, [0x01, 0xEE, 0x03])
    assert err.value.errno == 121
    (t,) = bus.take_log()
    assert t.nacked and str(t) == "[W 48: 10 01 EE] NACK"
    assert dev.events[-1] == ("stop",)  # STOP reached the device although the write failed
    assert ("write", 0x03) not in dev.events


def test_nack_in_a_later_message_keeps_the_earlier_ones_in_the_log() -> None:
    bus, _ = one(0x48)
    with pytest.raises(OSError):
        bus.i2c_rdwr(i2c_msg.write(0x48, [0x00]), i2c_msg.read(0x50, 1))
    (t,) = bus.take_log()
    assert t.nacked and str(t) == "[W 48: 00] Sr [R 50: ] NACK"


def test_closed_bus_refuses() -> None:
    bus, _ = one()
    bus.close()
    with pytest.raises(OSError) as err:
        bus.read_byte(0x48)
    assert err.value.errno == errno.EBADF
    bus.open(1)
    bus.read_byte(0x48)


# --- every smbus2 call as raw messages ----------------------------------------------------------
def test_write_quick() -> None:
    bus, dev = one()
    bus.write_quick(0x48)
    assert wire(bus) == ["[W 48: ]"]
    assert dev.events == [("start", False), ("stop",)]


def test_read_byte_and_write_byte() -> None:
    bus, dev = one()
    bus.write_byte(0x48, 0x05)
    assert bus.read_byte(0x48) == dev.regs[5]
    assert wire(bus) == ["[W 48: 05]", f"[R 48: {dev.regs[5]:02X}]"]


def test_read_byte_data_is_write_register_then_repeated_start_read() -> None:
    bus, dev = one()
    dev.regs[0x20] = 0xAB
    assert bus.read_byte_data(0x48, 0x20) == 0xAB
    assert wire(bus) == ["[W 48: 20] Sr [R 48: AB]"]
    assert dev.events == [("start", False), ("write", 0x20), ("start", True), ("read", 0xAB),
                          ("stop",)]


def test_write_byte_data() -> None:
    bus, dev = one()
    bus.write_byte_data(0x48, 0x20, 0x1FF)  # masked to a byte, as smbus2 would refuse >255
    assert wire(bus) == ["[W 48: 20 FF]"]
    assert dev.regs[0x20] == 0xFF


def test_word_calls_are_little_endian() -> None:
    bus, dev = one()
    dev.regs[0x30:0x32] = [0x34, 0x12]
    assert bus.read_word_data(0x48, 0x30) == 0x1234
    bus.write_word_data(0x48, 0x40, 0xBEEF)
    assert wire(bus) == ["[W 48: 30] Sr [R 48: 34 12]", "[W 48: 40 EF BE]"]
    assert dev.regs[0x40:0x42] == [0xEF, 0xBE]


def test_block_calls_and_their_32_byte_limit() -> None:
    bus, _ = one()
    bus.write_i2c_block_data(0x48, 0x50, [1, 2, 3])
    assert bus.read_i2c_block_data(0x48, 0x50, 3) == [1, 2, 3]
    assert wire(bus) == ["[W 48: 50 01 02 03]", "[W 48: 50] Sr [R 48: 01 02 03]"]
    with pytest.raises(ValueError, match="32"):
        bus.read_i2c_block_data(0x48, 0, 33)
    with pytest.raises(ValueError, match="32"):
        bus.write_i2c_block_data(0x48, 0, [0] * 33)
    assert bus.take_log() == []  # refused before anything reached the wire


def test_i2c_rdwr_is_one_transaction_and_fills_read_buffers() -> None:
    bus, dev = one()
    dev.regs[0x60:0x64] = [9, 8, 7, 6]
    first, second = i2c_msg.read(0x48, 2), i2c_msg.read(0x48, 2)
    bus.i2c_rdwr(i2c_msg.write(0x48, [0x60]), first, second)
    assert list(first) == [9, 8] and list(second) == [7, 6]
    (t,) = bus.take_log()
    assert str(t) == "[W 48: 60] Sr [R 48: 09 08] Sr [R 48: 07 06]"
    assert t.wire_bytes == 2 + 3 + 3
    assert dev.events.count(("stop",)) == 1


def test_atomic_scope_wraps_each_transaction() -> None:
    entered: list[str] = []

    @contextmanager
    def atomic() -> Iterator[None]:
        entered.append("in")
        yield
        entered.append("out")

    bus = SimSMBus(atomic=atomic)
    bus.add(Recorder(0x48))
    bus.write_byte(0x48, 1)
    assert entered == ["in", "out"]


# --- the TCA9548A switch -------------------------------------------------------------------------
def switched() -> tuple[SimSMBus, SimTca9548a, Recorder, Recorder]:
    bus = SimSMBus()
    mux = SimTca9548a(0x70)
    bus.add(mux)
    a = mux.channels[0].add(Recorder(0x48))
    b = mux.channels[1].add(Recorder(0x49))
    return bus, mux, a, b  # type: ignore[return-value]


def test_switch_selection_takes_effect_only_after_stop() -> None:
    bus, mux, a, _ = switched()
    with pytest.raises(OSError):  # selected in this transaction, not reachable before its STOP
        bus.i2c_rdwr(i2c_msg.write(0x70, [0x01]), i2c_msg.write(0x48, [0x00]))
    assert mux.control == 0x01  # the STOP (after the NACK) applied the selection
    bus.write_byte(0x48, 0x00)
    assert wire(bus) == ["[W 70: 01] Sr [W 48: ] NACK", "[W 48: 00]"]
    assert ("start", False) in a.events


def test_switch_routes_only_to_enabled_channels() -> None:
    bus, mux, a, _ = switched()
    with pytest.raises(OSError):
        bus.read_byte(0x48)  # nothing selected after power-up
    bus.write_byte(0x70, 0x02)
    bus.read_byte(0x49)
    with pytest.raises(OSError):
        bus.read_byte(0x48)
    assert a.events == []
    bus.write_byte(0x70, 0x03)
    bus.read_byte(0x48)
    bus.read_byte(0x49)
    assert bus.read_byte(0x70) == 0x03
    mux.reset()
    with pytest.raises(OSError):
        bus.read_byte(0x49)


def test_two_devices_at_one_address_count_a_collision_and_reads_are_anded() -> None:
    bus = SimSMBus()
    mux = bus.add(SimTca9548a(0x70))
    assert isinstance(mux, SimTca9548a)
    left = mux.channels[0].add(Recorder(0x48))
    right = mux.channels[1].add(Recorder(0x48))
    assert isinstance(left, Recorder) and isinstance(right, Recorder)
    left.regs[0] = 0b1100_1010
    right.regs[0] = 0b1010_0110
    bus.write_byte(0x70, 0x01)
    bus.read_byte_data(0x48, 0)
    assert bus.collisions == 0
    bus.write_byte(0x70, 0x03)
    assert bus.read_byte_data(0x48, 0) == 0b1000_0010
    assert bus.collisions == 2  # once per message: the write and the read
    bus.write_byte_data(0x48, 0x10, 0x55)  # both chips take the write
    assert left.regs[0x10] == right.regs[0x10] == 0x55


def test_general_call_reaches_every_general_call_device_through_switches() -> None:
    bus = SimSMBus()
    top = bus.add(Recorder(0x40, general_call=True))
    deaf = bus.add(Recorder(0x41))
    mux = bus.add(SimTca9548a(0x70))
    assert isinstance(mux, SimTca9548a)
    behind = mux.channels[2].add(Recorder(0x60, general_call=True))
    hidden = mux.channels[3].add(Recorder(0x60, general_call=True))
    bus.write_byte(0x70, 0x04)
    bus.i2c_rdwr(i2c_msg.write(0x00, [0x08]))
    assert wire(bus)[-1] == "[W 00: 08]"
    for dev in (top, behind):
        assert isinstance(dev, Recorder)
        assert dev.events[-3:] == [("general_call",), ("write", 0x08), ("stop",)]
    for dev in (deaf, hidden):
        assert isinstance(dev, Recorder)
        assert dev.events == []
    assert bus.collisions == 0  # many acknowledgers are the point of a general call


def test_general_call_read_is_not_acknowledged() -> None:
    bus, dev = one(0x48, general_call=True)
    with pytest.raises(OSError):
        bus.i2c_rdwr(i2c_msg.read(0x00, 1))
    assert ("start", True) not in dev.events


def test_a_device_without_an_address_does_not_take_general_calls() -> None:
    bus = SimSMBus()
    bus.add(I2cDevice())  # address 0 by default: not a general-call responder
    with pytest.raises(OSError):
        bus.write_byte(0x00, 0x06)
