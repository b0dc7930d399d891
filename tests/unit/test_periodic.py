"""Unit tests for hil.periodic: cyclic frames with alive counter and CRC, on a fake endpoint."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import can
import pytest
from cantools.database.can import Message
from cantools.database.errors import EncodeError

from hil import e2e
from hil.capabilities import CanEndpoint
from hil.dbc import CanDatabase
from hil.errors import ConfigError
from hil.periodic import LOST_AFTER_FAILURES, PeriodicSender

BMS_DBC = Path(__file__).resolve().parents[2] / "dbc" / "bms.dbc"
DB = CanDatabase.load(BMS_DBC)
VCU: Message = DB.message("VCU_Request")
PERIOD = 0.02


class FakeEndpoint(CanEndpoint):
    """Collects sent frames with their monotonic send time."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.sent: list[tuple[float, can.Message]] = []
        self._changed = threading.Condition()

    def send(self, msg: can.Message) -> None:
        if self.fail:
            raise can.CanOperationError("bus off")
        with self._changed:
            self.sent.append((time.monotonic(), msg))
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 3.0) -> list[tuple[float, can.Message]]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.sent) >= count, timeout)
            return list(self.sent)

    def add_listener(self, listener: can.Listener) -> None:
        pass

    def remove_listener(self, listener: can.Listener) -> None:
        pass

    def start_log(self, path: Path) -> None:
        pass

    def stop_log(self) -> Path | None:
        return None


@pytest.fixture
def endpoint() -> FakeEndpoint:
    return FakeEndpoint()


@pytest.fixture
def sender(endpoint: FakeEndpoint) -> Iterator[PeriodicSender]:
    s = PeriodicSender(endpoint)
    yield s
    s.close()


def _add(sender: PeriodicSender, period: float = PERIOD, **values: float | str):
    return sender.add(VCU, period, {"VCU_StateRequest": 1, **values},
                      counter_signal="VCU_Request_Counter", protected=True)


def test_sends_at_its_period_with_counter_and_crc(sender: PeriodicSender,
                                                  endpoint: FakeEndpoint) -> None:
    item = _add(sender)
    frames = endpoint.wait_for(6)
    assert len(frames) >= 6
    times = [t for t, _ in frames[:6]]
    span = times[-1] - times[0]
    assert 5 * PERIOD * 0.8 <= span < 1.0  # never faster than the period; loose upper bound
    for i, (_, msg) in enumerate(frames[:6]):
        assert msg.arbitration_id == VCU.frame_id
        assert not msg.is_extended_id
        assert msg.dlc == 8
        assert e2e.crc_ok(msg.arbitration_id, msg.data)
        assert e2e.counter_of(msg.data) == i
        decoded = VCU.decode(msg.data, decode_choices=False)
        assert decoded["VCU_StateRequest"] == 1
        assert decoded["VCU_Request_Counter"] == i
    assert item.sent >= 6


def test_counter_wraps_at_16(sender: PeriodicSender, endpoint: FakeEndpoint) -> None:
    _add(sender, period=0.002)
    frames = endpoint.wait_for(20)
    counters = [e2e.counter_of(m.data) for _, m in frames[:20]]
    assert counters == [i % 16 for i in range(20)]
    assert all(e2e.counter_ok(a, b) for a, b in itertools.pairwise(counters))


def test_update_send_now_sends_immediately(sender: PeriodicSender,
                                          endpoint: FakeEndpoint) -> None:
    item = _add(sender, period=10.0)  # first frame at once, the next only after 10 s
    endpoint.wait_for(1)
    before = time.time()
    sent_at = item.update(send_now=True, VCU_StateRequest="CHARGE", VCU_FaultReset=1)
    frames = endpoint.wait_for(2, timeout=0.5)
    assert len(frames) == 2
    assert sent_at is not None and before <= sent_at <= time.time()
    msg = frames[1][1]
    decoded = VCU.decode(msg.data, decode_choices=False)
    assert decoded["VCU_StateRequest"] == 2
    assert decoded["VCU_FaultReset"] == 1
    assert e2e.counter_of(msg.data) == 1
    assert e2e.crc_ok(msg.arbitration_id, msg.data)
    assert item.values["VCU_StateRequest"] == "CHARGE"


def test_update_without_send_now_waits_for_the_next_cycle(sender: PeriodicSender,
                                                           endpoint: FakeEndpoint) -> None:
    item = _add(sender, period=10.0)
    endpoint.wait_for(1)
    assert item.update(VCU_StateRequest=2) is None
    time.sleep(0.05)
    assert len(endpoint.sent) == 1
    assert item.values["VCU_StateRequest"] == 2


def test_unknown_signal_in_update_raises_and_changes_nothing(sender: PeriodicSender) -> None:
    item = _add(sender, period=10.0)
    with pytest.raises(ConfigError, match="VCU_Request has no signal"):
        item.update(VCU_Foo=1)
    assert "VCU_Foo" not in item.values


@pytest.mark.parametrize("bad", [7, "FLY"])
def test_bad_value_in_update_raises_and_keeps_the_old_value(sender: PeriodicSender,
                                                            bad: int | str) -> None:
    item = _add(sender, period=10.0)
    with pytest.raises((EncodeError, KeyError)):
        item.update(VCU_StateRequest=bad)
    assert item.values["VCU_StateRequest"] == 1


def test_bad_signal_name_in_add_raises_in_the_caller(sender: PeriodicSender,
                                                     endpoint: FakeEndpoint) -> None:
    with pytest.raises(EncodeError, match="Bogus"):
        sender.add(VCU, PERIOD, {"Bogus": 1})
    time.sleep(3 * PERIOD)
    assert endpoint.sent == []


def test_stop_and_start(sender: PeriodicSender, endpoint: FakeEndpoint) -> None:
    item = _add(sender)
    endpoint.wait_for(2)
    item.stop()
    time.sleep(PERIOD)  # let a cycle that was already running finish
    stopped_at = len(endpoint.sent)
    time.sleep(5 * PERIOD)
    assert len(endpoint.sent) == stopped_at
    item.start()
    frames = endpoint.wait_for(stopped_at + 2)
    assert len(frames) >= stopped_at + 2
    counters = [e2e.counter_of(m.data) for _, m in frames]
    assert counters == [i % 16 for i in range(len(counters))]  # no gap while stopped


def test_remove(sender: PeriodicSender, endpoint: FakeEndpoint) -> None:
    item = _add(sender)
    endpoint.wait_for(1)
    sender.remove(item)
    time.sleep(PERIOD)
    count = len(endpoint.sent)
    time.sleep(4 * PERIOD)
    assert len(endpoint.sent) == count


def test_send_failures_are_counted_and_declare_the_bus_lost() -> None:
    lost: list[str] = []
    endpoint = FakeEndpoint(fail=True)
    sender = PeriodicSender(endpoint, on_lost=lost.append)
    try:
        item = _add(sender, period=10.0)
        for _ in range(LOST_AFTER_FAILURES):
            item.update(send_now=True)
        deadline = time.monotonic() + 2
        while not lost and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        sender.close()
    assert sender.send_errors >= LOST_AFTER_FAILURES
    assert len(lost) == 1
    assert lost[0].startswith(f"{LOST_AFTER_FAILURES} CAN sends in a row failed: bus off")


def test_close_stops_the_thread(endpoint: FakeEndpoint) -> None:
    sender = PeriodicSender(endpoint)
    _add(sender)
    endpoint.wait_for(1)
    sender.close()
    assert not sender._thread.is_alive()
    count = len(endpoint.sent)
    time.sleep(3 * PERIOD)
    assert len(endpoint.sent) == count
