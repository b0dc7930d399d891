"""The device under test as tests see it: decoded signals by role, waiting, and requests.

This is the `bms` fixture. It never talks to the BMS's internals (there are none to talk to on
a real rig): it reads the signal store that the receive path fills, and changes the values of
the frames the rig sends (VCU state request, fault reset).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import can

from hil import e2e
from hil.conditions import Condition, ConditionSpec, condition
from hil.decoder import CanIntegrity, Decoder
from hil.errors import HilError
from hil.periodic import PeriodicMessage, PeriodicSender
from hil.profile import Profile, Target
from hil.signals import Sample, Series, SignalStore
from hil.yamlfile import did_you_mean


class WaitTimeout(AssertionError):
    """A wait_for did not see its condition in time: a test failure, with what was seen."""


class UnknownName(HilError):
    """A role or signal name that the DUT profile and its DBC do not have."""


class Dut:
    """Signals, roles, limits and requests of the BMS under test."""

    def __init__(self, profile: Profile, store: SignalStore, decoder: Decoder,
                 sender: PeriodicSender) -> None:
        self.profile = profile
        self.store = store
        self.accessed: dict[str, Target] = {}
        self.decoder = decoder
        self.sender = sender
        spec, message = profile.input_message("state_request")
        self._request_spec = spec
        period = spec.period_seconds or (message.cycle_time or 100) / 1000.0
        values: dict[str, float | str] = dict(spec.defaults)
        values[spec.signal] = self._request_value("standby")
        self.state_request: PeriodicMessage = sender.add(
            message, period, values, counter_signal=spec.counter, protected=spec.e2e)

    # --- names ----------------------------------------------------------------------------
    def target(self, name: str) -> Target:
        """Resolve a role (``fault.over_voltage``, ``cell_voltage[3]``) or ``Message.Signal``."""
        try:
            target = self.profile.resolve(name)
        except KeyError as err:
            raise UnknownName(str(err.args[0])) from None
        if target.series_name not in self.accessed:  # what a test looked at: its plot
            self.accessed[target.series_name] = target
        return target

    @property
    def limits(self) -> Mapping[str, float]:
        return self.profile.limits

    @property
    def integrity(self) -> CanIntegrity:
        return self.decoder.integrity

    # --- reading --------------------------------------------------------------------------
    def series(self, name: str) -> Series:
        return self.store.series(self.target(name).series_name)

    def latest(self, name: str) -> float | None:
        """The last value received, in the role's units (None if nothing arrived yet)."""
        target = self.target(name)
        sample = self.store.latest(target.series_name)
        return None if sample is None else sample.value * target.factor

    def label(self, name: str) -> str | None:
        """The last value as text (enum name or number with unit)."""
        target = self.target(name)
        value = self.latest(name)
        return None if value is None else target.label_of(value)

    def history(self, name: str, start: float = float("-inf"), end: float = float("inf")
                ) -> list[Sample]:
        target = self.target(name)
        return [Sample(s.time, s.value * target.factor)
                for s in self.store.series(target.series_name).samples(start, end)]

    def wait_for(self, name: str, expected: ConditionSpec | Condition, timeout: float,
                 since: float | None = None) -> Sample:
        """Wait until `name` satisfies `expected` in a frame received at or after `since`.

        `expected` is a value (equality), an enum name, ``">= 4.2"``, ``(">=", 4.2)`` or
        ``("between", 3.69, 3.71)``.
        Returns the first matching sample (value in the role's units); raises WaitTimeout
        with what was seen instead.
        """
        target = self.target(name)
        cond = condition(target, expected)
        start = time.time() if since is None else since
        series = self.store.series(target.series_name)
        predicate = cond.raw_predicate()
        found: list[Sample] = []

        def ready() -> bool:
            hit = series.first_where(predicate, start)
            if hit is not None:
                found.append(hit)
            return hit is not None

        if self.store.wait(ready, timeout):
            hit = found[-1]
            return Sample(hit.time, hit.value * target.factor)
        raise WaitTimeout(self._describe_timeout(target, cond, start, timeout, series))

    def _describe_timeout(self, target: Target, cond: Condition, start: float,
                          timeout: float, series: Series) -> str:
        seen = series.samples(start)
        text = f"{target.describe()} did not become {cond} within {timeout:g} s"
        if not seen:
            before = series.latest()
            if before is None:
                return text + "; no frame carrying it was received at all"
            return (text + f"; no frame carrying it arrived in that time (last value "
                    f"{target.label_of(before.value * target.factor)})")
        values = []
        for s in seen:
            label = target.label_of(s.value * target.factor)
            if not values or values[-1][1] != label:
                values.append((s.time - start, label))
        shown = ", ".join(f"{label} at +{t:.3f} s" for t, label in values[:8])
        return text + f"; saw {shown}"

    # --- requests -------------------------------------------------------------------------
    def _request_value(self, state: str) -> str:
        values = self._request_spec.values
        if values:
            if state not in values:
                hint = did_you_mean(state, values)
                raise UnknownName(f"state request {state!r} is not one of "
                                  f"{', '.join(values)}{hint}")
            return values[state]
        return state

    def request_state(self, state: str) -> float:
        """Change the VCU state request (``standby``, ``drive``, ``charge``); returns send time."""
        sent = self.state_request.update(
            send_now=True, **{self._request_spec.signal: self._request_value(state)})
        assert sent is not None
        return sent

    def reset_faults(self, hold_seconds: float = 0.25) -> float:
        """Pulse the fault-reset request (if the profile has one); returns its send time."""
        signal = self._request_spec.fault_reset
        if signal is None:
            raise HilError(f"the DUT profile {self.profile.name!r} has no fault_reset input")
        sent = self.state_request.update(send_now=True, **{signal: 1})
        time.sleep(hold_seconds)
        self.state_request.update(**{signal: 0})
        assert sent is not None
        return sent

    def send(self, message: str, **signals: float | str) -> float:
        """Send one frame of a DBC message (signals not given are 0); returns the send time."""
        try:
            msg = self.profile.database.message(message)
        except KeyError as err:
            raise UnknownName(str(err.args[0])) from None
        values: dict[str, float | str] = {s.name: 0 for s in msg.signals}
        unknown = set(signals) - set(values)
        if unknown:
            raise UnknownName(f"{message} has no signal(s) {', '.join(sorted(unknown))}")
        values.update(signals)
        data = msg.encode(values, scaling=True, padding=False, strict=True)
        if msg.name in self.profile.spec.e2e_messages:
            data = e2e.protect(msg.frame_id, data, 0)
        self.sender.endpoint.send(can.Message(arbitration_id=msg.frame_id, data=data,
                                              is_extended_id=msg.is_extended_frame))
        return time.time()

    def close(self) -> None:
        self.sender.remove(self.state_request)
