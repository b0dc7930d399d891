"""The receive path: every CAN frame is decoded through the DBC into the signal store.

It runs on the CAN endpoint's receive thread, so it must never raise and never block: a frame
it cannot decode is counted and described, not dropped silently. The counters are the evidence
that the CAN path can be trusted (frames seen, unknown IDs, undecodable frames, E2E errors).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import can
from cantools.database.can import Message

from hil import e2e
from hil.dbc import CanDatabase
from hil.signals import Series, SignalStore

log = logging.getLogger(__name__)


@dataclass
class CanIntegrity:
    """What the receive path saw; a run whose CAN path was not trustworthy must say so."""

    frames: int = 0
    transmitted: int = 0
    error_frames: int = 0
    unknown_frames: int = 0
    undecodable_frames: int = 0
    e2e_crc_errors: int = 0
    e2e_counter_errors: int = 0
    bus_off_events: int = 0
    frames_by_id: Counter[int] = field(default_factory=Counter)
    last_problem: str | None = None

    @property
    def trustworthy(self) -> bool:
        return self.undecodable_frames == 0 and self.error_frames == 0


class _MessagePlan:
    """Per-message decode plan, built once: the series each decoded signal goes to."""

    __slots__ = ("e2e", "last_counter", "message", "series")

    def __init__(self, message: Message, store: SignalStore, e2e_protected: bool) -> None:
        self.message = message
        self.series: dict[str, Series] = {
            sig.name: store.series(f"{message.name}.{sig.name}") for sig in message.signals
        }
        self.e2e = e2e_protected
        self.last_counter: int | None = None


class Decoder(can.Listener):
    """A python-can listener that decodes into a `SignalStore` and counts what it saw."""

    def __init__(self, database: CanDatabase, store: SignalStore,
                 e2e_messages: Iterable[str] = ()) -> None:
        self.database = database
        self.store = store
        self.integrity = CanIntegrity()
        self._lock = threading.Lock()
        protected = set(e2e_messages)
        self._plans: dict[tuple[int, bool], _MessagePlan] = {}
        for msg in database.messages:
            self._plans[(msg.frame_id, msg.is_extended_frame)] = _MessagePlan(
                msg, store, msg.name in protected)

    def on_message_received(self, msg: can.Message) -> None:
        integrity = self.integrity
        if msg.is_error_frame:
            integrity.error_frames += 1
            if msg.arbitration_id & 0x040:  # CAN_ERR_BUSOFF (linux/can/error.h)
                integrity.bus_off_events += 1
            integrity.last_problem = f"error frame 0x{msg.arbitration_id:X} at {msg.timestamp:.6f}"
            return
        integrity.frames += 1
        if not msg.is_rx:
            integrity.transmitted += 1
        integrity.frames_by_id[msg.arbitration_id] += 1
        plan = self._plans.get((msg.arbitration_id, msg.is_extended_id))
        if plan is None:
            integrity.unknown_frames += 1
            return
        data = msg.data
        try:
            decoded = plan.message.decode(data, decode_choices=False, scaling=True)
        except Exception as err:  # cantools raises DecodeError, ValueError, KeyError...
            integrity.undecodable_frames += 1
            integrity.last_problem = (
                f"{plan.message.name} (0x{msg.arbitration_id:X}) with {len(data)} bytes "
                f"[{bytes(data).hex(' ')}] does not decode: {err}")
            return
        if plan.e2e and msg.is_rx:
            self._check_e2e(plan, msg)
        t = msg.timestamp
        series = plan.series
        for name, value in decoded.items():
            series[name].append(t, float(value))
        self.store.notify()

    def _check_e2e(self, plan: _MessagePlan, msg: can.Message) -> None:
        data = msg.data
        if not e2e.crc_ok(msg.arbitration_id, data):
            self.integrity.e2e_crc_errors += 1
            self.integrity.last_problem = (
                f"{plan.message.name}: CRC mismatch at {msg.timestamp:.6f}")
        counter = e2e.counter_of(data)
        if not e2e.counter_ok(plan.last_counter, counter):
            self.integrity.e2e_counter_errors += 1
            self.integrity.last_problem = (
                f"{plan.message.name}: alive counter jumped {plan.last_counter} -> {counter} "
                f"at {msg.timestamp:.6f}")
        plan.last_counter = counter

    def restart_sequences(self) -> None:
        """Forget alive counters: after the DUT reboots, its counters legitimately restart."""
        for plan in self._plans.values():
            plan.last_counter = None

    def stop(self) -> None:  # can.Listener API
        pass
