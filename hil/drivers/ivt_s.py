"""Pack current as an Isabellenhuette IVT-S current sensor on CAN.

The BMS reads pack current from the sensor's cyclic result frame (0x521, big-endian int32 mA,
4-bit message counter). The rig emulates the sensor by sending that frame itself, so this is
the real driver on a Pi (frames leave through the CAN HAT) and on the simulated rig alike.
Which message and signals to use comes from the DUT profile's `inputs.current_sensor`.
"""

from __future__ import annotations

from hil import units
from hil.capabilities import CurrentSource, Range
from hil.drivers.registry import driver
from hil.errors import ConfigError
from hil.periodic import PeriodicMessage, PeriodicSender
from hil.profile import Profile
from hil.rig.config import DriverSection
from hil.rig.context import RigContext


class IvtSection(DriverSection):
    invert: bool = False  # sensor mounted the other way round


@driver("current", "ivt-s-can")
class IvtSCurrentSource(CurrentSource):
    """Emulated IVT-S: a periodic result frame whose value follows `set(amps)`."""

    Config = IvtSection

    def __init__(self, sender: PeriodicSender, profile: Profile, limits: Range,
                 safe_amps: float, invert: bool = False) -> None:
        super().__init__(limits, safe_amps)
        try:
            spec, message = profile.input_message("current_sensor")
        except KeyError as err:
            raise ConfigError(f"{profile.path}: {err.args[0]}; the ivt-s-can driver needs it"
                              ) from None
        signal = next(s for s in message.signals if s.name == spec.signal)
        self.signal_name = spec.signal
        # amps -> DBC physical value (mA for the IVT-S layout)
        self._per_amp = 1.0 / units.factor(signal.unit, spec.unit or "A")
        self._sign = -1.0 if invert else 1.0
        period = spec.period_seconds or (message.cycle_time or 10) / 1000.0
        values = dict(spec.defaults)
        values[spec.signal] = 0
        self.frame: PeriodicMessage = sender.add(message, period, values,
                                                 counter_signal=spec.counter,
                                                 protected=spec.e2e)
        names = {s.name for s in message.signals}
        self.error_signal = next((n for n in ("IVT_Result_I_Measurement_Error",)
                                  if n in names), None)
        self._amps = 0.0
        self._offset = 0.0
        self._stuck = False

    @classmethod
    def open(cls, config: IvtSection, ctx: RigContext) -> IvtSCurrentSource:
        assert ctx.periodic is not None, "the CAN endpoint opens before the current sensor"
        return cls(ctx.periodic, ctx.profile, ctx.ranges["current_amps"],
                   ctx.config.file.safe_state.current_amps, config.invert)

    def _write(self, amps: float) -> None:
        self._amps = amps
        if self._stuck:
            return  # a stuck sensor keeps reporting what it reported
        raw = round((amps + self._offset) * self._per_amp * self._sign)
        self.frame.update(send_now=True, **{self.signal_name: raw})

    # --- sensor faults (fault injection) ------------------------------------------------------
    def set_fault(self, kind: str, value: float = 0.0) -> None:
        """`silent` (no frames), `stuck` (value frozen), `offset` (adds `value` A), `error`
        (the sensor flags a measurement error)."""
        with self._lock:
            if kind == "silent":
                self.frame.stop()
            elif kind == "stuck":
                self._stuck = True
            elif kind == "offset":
                self._offset = value
                self._write(self._amps)
            elif kind == "error":
                if self.error_signal is None:
                    raise ConfigError("the DUT profile's current_sensor has no error signal")
                self.frame.update(send_now=True, **{self.error_signal: 1})
            else:
                raise ValueError(f"unknown current sensor fault {kind!r}; use silent, stuck, "
                                 "offset or error")

    def clear_faults(self) -> None:
        with self._lock:
            self._stuck = False
            self._offset = 0.0
            if self.error_signal is not None:
                self.frame.update(**{self.error_signal: 0})
            self.frame.start()
            self._write(self._amps)

    def go_safe(self) -> None:
        with self._lock:
            self._amps = self.safe_amps
            self.clear_faults()  # frames flowing again, no offset, no error flag
            super().go_safe()

    def close(self) -> None:
        self.frame.stop()
        super().close()
