"""Periodic transmission of the frames the rig owes the BMS (VCU request, current sensor).

One thread, absolute deadlines (no drift), values kept in physical units and encoded through
the DBC every cycle so that alive counters advance and CRCs are filled in per frame. A value
change can be sent at once (the stimulus time is then the time that frame went out).
"""

from __future__ import annotations

import collections
import heapq
import logging
import threading
import time
from collections.abc import Callable, Mapping

import can
from cantools.database.can import Message

from hil import e2e
from hil.capabilities import CanEndpoint
from hil.errors import ConfigError

log = logging.getLogger(__name__)

#: Consecutive send failures after which the bus is declared lost.
LOST_AFTER_FAILURES = 20


class PeriodicMessage:
    """One cyclic frame: its values, its counter, and whether it is E2E protected."""

    def __init__(self, sender: PeriodicSender, message: Message, period: float,
                 values: Mapping[str, float | str], counter_signal: str | None,
                 protected: bool) -> None:
        self._sender = sender
        self.message = message
        self.period = period
        self.counter_signal = counter_signal
        self.protected = protected
        self.counter = 0
        self.enabled = True
        self.sent = 0
        self.last_sent: float | None = None  # epoch time the last frame went to the bus
        # fault injection: the next N frames get a wrong CRC, a stuck counter, another length
        self.bad_crc_frames = 0
        self.stuck_counter_frames = 0
        self.length_override: tuple[int, int] | None = None  # (bytes, frames)
        self._values: dict[str, float | str] = {s.name: 0 for s in message.signals}
        self._values.update(values)
        self._encode()  # bad values or names fail here, in the caller, not in the thread

    @property
    def values(self) -> dict[str, float | str]:
        return dict(self._values)

    def update(self, send_now: bool = False, **values: float | str) -> float | None:
        """Change signal values; with send_now, transmit at once and return that time."""
        unknown = set(values) - set(self._values)
        if unknown:
            raise ConfigError(f"{self.message.name} has no signal(s) {', '.join(sorted(unknown))}")
        with self._sender.lock:
            previous = dict(self._values)
            self._values.update(values)
            try:
                self._encode()
            except Exception:
                self._values = previous
                raise
        if send_now:
            return self._sender.send_now(self)
        return None

    def stop(self) -> None:
        """No more frames; under the sender's lock, so none is in flight when this returns
        (a receiver's timeout counts from `last_sent`)."""
        with self._sender.lock:
            self.enabled = False

    def start(self) -> None:
        if not self.enabled:
            self.enabled = True
            self._sender.wake()

    def _encode(self) -> bytes:
        values = dict(self._values)
        if self.counter_signal:
            values[self.counter_signal] = self.counter
        data = self.message.encode(values, scaling=True, padding=False, strict=True)
        if self.protected:
            data = e2e.protect(self.message.frame_id, data, self.counter)
        return data

    def corrupt(self, field: str, frames: int) -> None:
        """Make the next `frames` frames fail the receiver's E2E check on `field`."""
        with self._sender.lock:
            if field == "crc":
                if not self.protected:
                    raise ConfigError(f"{self.message.name} carries no CRC")
                self.bad_crc_frames = frames
            elif field == "counter":
                if not self.counter_signal:
                    raise ConfigError(f"{self.message.name} carries no alive counter")
                self.stuck_counter_frames = frames
            else:
                raise ValueError(f"corrupt field must be crc or counter, got {field!r}")

    def override_length(self, data_bytes: int, frames: int) -> None:
        with self._sender.lock:
            self.length_override = (data_bytes, frames)

    def next_frame(self) -> can.Message:
        data = self._encode()
        if self.bad_crc_frames:
            self.bad_crc_frames -= 1
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if self.stuck_counter_frames:
            self.stuck_counter_frames -= 1  # the counter does not advance: a stale frame
        else:
            self.counter = (self.counter + 1) % e2e.COUNTER_MODULO
        if self.length_override is not None:
            size, frames = self.length_override
            data = (data + bytes(8))[:size]
            self.length_override = (size, frames - 1) if frames > 1 else None
        return can.Message(arbitration_id=self.message.frame_id, data=data,
                           is_extended_id=self.message.is_extended_frame, dlc=len(data))


class PeriodicSender:
    """Sends every registered `PeriodicMessage` at its period from one thread."""

    def __init__(self, endpoint: CanEndpoint,
                 on_lost: Callable[[str], None] | None = None) -> None:
        self.endpoint = endpoint
        self.lock = threading.RLock()
        self._on_lost = on_lost
        self._queue: list[tuple[float, int, PeriodicMessage]] = []
        self._seq = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failures = 0
        self.send_errors = 0
        # (monotonic due time, how late the frame went out): the engine's timing verdict
        # includes these, so a stalled sender is "untrustworthy timing", not a BMS failure
        self.lateness: collections.deque[tuple[float, float]] = collections.deque(maxlen=20000)
        self._thread = threading.Thread(target=self._run, name="hil-periodic", daemon=True)
        self._thread.start()

    def add(self, message: Message, period: float, values: Mapping[str, float | str],
            counter_signal: str | None = None, protected: bool = False) -> PeriodicMessage:
        item = PeriodicMessage(self, message, period, values, counter_signal, protected)
        with self.lock:
            self._push(time.monotonic(), item)
        self.wake()
        return item

    def find(self, name: str) -> PeriodicMessage | None:
        """The periodic message the rig sends under this DBC name, if any."""
        with self.lock:
            for _, _, item in self._queue:
                if item.message.name == name:
                    return item
        return None

    def remove(self, item: PeriodicMessage) -> None:
        with self.lock:
            item.enabled = False
            self._queue = [entry for entry in self._queue if entry[2] is not item]
            heapq.heapify(self._queue)

    def send_now(self, item: PeriodicMessage) -> float:
        """Send `item` immediately and restart its period from now; returns the send time."""
        with self.lock:
            frame = item.next_frame()
            self._transmit(frame)
            sent_at = item.last_sent = time.time()
            self._queue = [entry for entry in self._queue if entry[2] is not item]
            heapq.heapify(self._queue)
            self._push(time.monotonic() + item.period, item)
            item.sent += 1
        self.wake()
        return sent_at

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=2)

    def _push(self, due: float, item: PeriodicMessage) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (due, self._seq, item))

    def _transmit(self, frame: can.Message) -> None:
        try:
            self.endpoint.send(frame)
            self._failures = 0
        except Exception as err:  # python-can raises CanOperationError, OSError, ...
            self.send_errors += 1
            self._failures += 1
            log.warning("sending 0x%X failed: %s", frame.arbitration_id, err)
            if self._failures == LOST_AFTER_FAILURES and self._on_lost is not None:
                self._on_lost(f"{LOST_AFTER_FAILURES} CAN sends in a row failed: {err}")

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.lock:
                due = self._queue[0][0] if self._queue else None
            timeout = None if due is None else max(0.0, due - time.monotonic())
            if timeout is None or timeout > 0:
                self._wake.wait(timeout)
                self._wake.clear()
                continue
            with self.lock:
                if not self._queue or self._queue[0][0] > time.monotonic():
                    continue
                due, _, item = heapq.heappop(self._queue)
                next_due = due + item.period
                now = time.monotonic()
                if item.enabled:
                    self.lateness.append((due, now - due))
                if next_due < now:  # fell behind (suspended?): skip, do not burst
                    next_due = now + item.period
                self._push(next_due, item)
                if item.enabled:
                    self._transmit(item.next_frame())
                    item.last_sent = time.time()
                    item.sent += 1
