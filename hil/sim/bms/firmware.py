"""The reference BMS's application logic: measure, protect, switch contactors, estimate, balance.

Pure logic with explicit time (`now`, monotonic seconds) and explicit inputs (a harness
snapshot, decoded CAN requests), so it is unit-tested without processes or buses. The process
loop in `hil.sim.bms.process` feeds it; `hil.sim.bms.canio` turns its state into frames.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from hil.ntc import BetaNtc
from hil.sim.bms.params import BmsParams, Threshold
from hil.sim.harness import HarnessSnapshot

#: After INIT, how long the BMS waits for the first VCU request and current reading before
#: their timeouts count.
STARTUP_GRACE_SECONDS = 1.0


class State(enum.IntEnum):
    INIT = 0
    STANDBY = 1
    PRECHARGE = 2
    DRIVE = 3
    CHARGE = 4
    FAULT = 5


class Request(enum.IntEnum):
    STANDBY = 0
    DRIVE = 1
    CHARGE = 2


#: Fault flags in the order of BMS_Faults in dbc/bms.dbc.
FAULT_NAMES: tuple[str, ...] = (
    "Fault_CellOverVoltage", "Fault_CellUnderVoltage", "Fault_CellOverTemperature",
    "Fault_CellUnderTemperature", "Fault_OverCurrentCharge", "Fault_OverCurrentDischarge",
    "Fault_SensorFault", "Fault_CanTimeoutVcu", "Fault_CanTimeoutCurrentSensor",
    "Fault_OpenWire", "Fault_E2eError", "Fault_PrechargeFailed",
)


class Protection:
    """Threshold with debounce (to trip) and hysteresis (to allow a reset); latches when tripped."""

    def __init__(self, threshold: Threshold, above: bool, enabled: bool = True,
                 latching: bool = True) -> None:
        self.trip = threshold.trip
        self.clear = threshold.clear
        self.debounce = threshold.debounce_seconds
        self.above = above
        self.enabled = enabled
        self.latching = latching  # False only as a defect: the fault clears by itself
        self.latched = False
        self.condition = False  # beyond the clear threshold: a reset would not be allowed
        self._beyond_since: float | None = None

    def update(self, value: float, now: float) -> bool:
        beyond = value > self.trip if self.above else value < self.trip
        self.condition = value > self.clear if self.above else value < self.clear
        if beyond and self.enabled:
            if self._beyond_since is None:
                self._beyond_since = now
            if now - self._beyond_since >= self.debounce:
                self.latched = True
        else:
            self._beyond_since = None
        if not self.latching and not self.condition:
            self.latched = False
        return self.latched

    def try_reset(self) -> None:
        if not self.condition:
            self.latched = False


class Debounced:
    """A boolean condition that latches after holding for `debounce` seconds."""

    def __init__(self, debounce: float) -> None:
        self.debounce = debounce
        self.latched = False
        self.condition = False
        self._since: float | None = None

    def update(self, condition: bool, now: float) -> bool:
        self.condition = condition
        if condition:
            if self._since is None:
                self._since = now
            if now - self._since >= self.debounce:
                self.latched = True
        else:
            self._since = None
        return self.latched

    def try_reset(self) -> None:
        if not self.condition:
            self.latched = False


@dataclass
class Outputs:
    """What the BMS drives on its pins this cycle."""

    main_positive: bool = False
    main_negative: bool = False
    precharge: bool = False
    fault_output: bool = False
    balancing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


class ReferenceBms:
    """One BMS controller. Feed it requests and measurements; read its state and outputs."""

    def __init__(self, params: BmsParams, flags: frozenset[str] = frozenset(),
                 seed: int = 0, now: float = 0.0) -> None:
        self.p = params
        self.flags = flags
        self.rng = np.random.default_rng(seed)
        self.ntc = BetaNtc(params.ntc.r25_ohms, params.ntc.beta)
        prot = params.protections
        self.ov = Protection(prot.cell_over_voltage, above=True,
                             latching="ov_no_latch" not in flags)
        self.uv = Protection(prot.cell_under_voltage, above=False,
                             enabled="no_uv_trip" not in flags)
        self.ot = Protection(prot.over_temperature, above=True,
                             enabled="no_ot_trip" not in flags)
        self.ut = Protection(prot.under_temperature, above=False,
                             enabled="no_ut_trip" not in flags)
        self.oc_discharge = Protection(prot.over_current_discharge, above=True)
        self.oc_charge = Protection(prot.over_current_charge, above=True)
        self.sensor = Debounced(prot.sensor_fault_debounce_seconds)
        self.open_wire = Debounced(prot.open_wire_debounce_seconds)
        self.vcu_timeout = Debounced(0.0)
        self.current_timeout = Debounced(0.0)
        self.e2e = Debounced(0.0)

        n, m = params.cells, params.temperatures
        self.cell_volts = np.full(n, np.nan)
        self.reported_cell_volts = np.full(n, np.nan)
        self.temperatures = np.full(m, np.nan)
        self.sensor_ok = np.ones(m, dtype=bool)
        self.balancing = np.zeros(n, dtype=bool)
        self.current_amps = 0.0
        self.hall_ok = True
        self.soc_percent = 50.0
        self.soc_initialised = False
        self._rest_since: float | None = now  # the pack rested while the BMS was off
        self._rest_estimated = False
        self._settle_volts: float | None = None  # mean cell voltage the settling is judged by
        self._settle_since = now

        self.state = State.INIT
        self.request = Request.STANDBY
        self.request_seen: Request | None = None
        self._state_since = now
        self._power_on = now
        self._last_step: float | None = None
        # Timeout supervision starts with the first valid frame of each kind, or a startup
        # grace after power-on if none comes: a node booting on a busy bus is not yet late.
        self._last_vcu_ok: float | None = None
        self._last_current_ok: float | None = None
        self._e2e_bad_in_row = 0
        self._fault_reset_previous = False
        self._fault_reset_pending = False
        self._stuck_cell_value: float | None = None
        self.outputs = Outputs(balancing=self.balancing)

    # --- inputs from CAN ------------------------------------------------------------------
    def on_vcu_request(self, request: int, fault_reset: bool, now: float) -> None:
        """A VCU_Request that passed its CRC and counter checks."""
        self._last_vcu_ok = now
        self._e2e_bad_in_row = 0
        if request in (0, 1, 2):
            self.request = Request(request)
            self.request_seen = self.request
        if fault_reset and not self._fault_reset_previous:
            # judged in the next step, against the conditions measured then (a reset that
            # arrives with the first frame after a VCU timeout must see the timeout cleared)
            self._fault_reset_pending = True
        self._fault_reset_previous = fault_reset

    def on_bad_frame(self) -> None:
        """An inbound safety frame failed its CRC or counter check: discarded, and counted."""
        self._e2e_bad_in_row += 1

    def on_current(self, amps: float, now: float) -> None:
        self.current_amps = amps
        self._last_current_ok = now

    # --- the cyclic task ------------------------------------------------------------------
    def step(self, now: float, harness: HarnessSnapshot) -> Outputs:
        dt = 0.0 if self._last_step is None else now - self._last_step
        self._last_step = now
        self._measure(harness)
        self._measure_hall(harness, now)
        self._estimate_soc(dt, now)
        if self.state != State.INIT:
            self._protect(now)
            if self._fault_reset_pending:
                self._fault_reset_pending = False
                self._reset_faults()
        self._run_state_machine(now)
        self._balance()
        return self.outputs

    def _measure(self, harness: HarnessSnapshot) -> None:
        afe = self.p.afe
        n, m = self.p.cells, self.p.temperatures
        true = harness.cell_volts[:n]
        noisy = true + self.rng.normal(0.0, afe.noise_volts, n) if afe.noise_volts else true
        measured = np.round(noisy / afe.resolution_volts) * afe.resolution_volts
        measured = np.where(harness.sense_open[:n] > 0, 0.0, measured)
        self.cell_volts = np.clip(measured, 0.0, None)
        reported = self.cell_volts.copy()
        if "stuck_cell_report" in self.flags and self.state != State.INIT:
            if self._stuck_cell_value is None:
                self._stuck_cell_value = float(reported[0])
            reported[0] = self._stuck_cell_value
        self.reported_cell_volts = reported

        ohms = harness.ntc_ohms[:m]
        ntc = self.p.ntc
        self.sensor_ok = (ohms < ntc.open_above_ohms) & (ohms > ntc.short_below_ohms)
        temps = np.array([self.ntc.celsius(r) if ok else np.nan
                          for r, ok in zip(ohms, self.sensor_ok, strict=True)])
        if "temperature_offset" in self.flags:
            temps = temps + 3.0
        self.temperatures = np.round(temps, 1)

    def _measure_hall(self, harness: HarnessSnapshot, now: float) -> None:
        sensor = self.p.current_sensor
        if sensor.kind != "hall":
            return
        low, high = sensor.hall_valid_volts
        self.hall_ok = low <= harness.hall_volts <= high
        if self.hall_ok:
            self.current_amps = ((harness.hall_volts - sensor.hall_offset_volts)
                                 / sensor.hall_volts_per_amp)
            self._last_current_ok = now  # an analog sensor cannot time out, only go invalid

    def _estimate_soc(self, dt: float, now: float) -> None:
        soc = self.p.soc
        resting = abs(self.current_amps) <= soc.rest_below_amps
        if not self.soc_initialised:
            if resting and np.all(self.cell_volts > 0):
                self.soc_percent = self.soc_from_ocv(float(np.mean(self.cell_volts)))
                self.soc_initialised = True
            return
        capacity_ah = soc.capacity_ah
        if "soc_capacity_error" in self.flags:  # defect: 5 % too small, the SOC moves too fast
            capacity_ah *= 0.95
        capacity_as = capacity_ah * 3600.0
        self.soc_percent -= self.current_amps * dt / capacity_as * 100.0
        self.soc_percent = float(min(100.0, max(0.0, self.soc_percent)))
        # Coulomb counting drifts; after a rest the cells sit at their open-circuit voltage,
        # so the SOC is estimated again from it, once per rest, but only once the cells have
        # relaxed: right after a load their voltage still carries the polarisation.
        mean_volts = float(np.mean(self.cell_volts))
        if self._settle_volts is None or abs(mean_volts - self._settle_volts) > soc.settled_volts:
            self._settle_volts, self._settle_since = mean_volts, now
        settled = ("soc_rest_unsettled" in self.flags
                   or now - self._settle_since >= soc.settled_seconds)
        if not resting:
            self._rest_since = None
            self._rest_estimated = False
        elif self._rest_since is None:
            self._rest_since = now
        elif (not self._rest_estimated and now - self._rest_since >= soc.rest_seconds
              and settled and "soc_rest_ignored" not in self.flags
              and np.all(self.cell_volts > self.p.afe.open_wire_below_volts)):
            self.soc_percent = self.soc_from_ocv(mean_volts)
            self._rest_estimated = True

    def soc_from_ocv(self, volts: float) -> float:
        table = np.array(self.p.soc.ocv_table)
        return float(np.interp(volts, table[:, 1], table[:, 0]))

    def _protect(self, now: float) -> None:
        valid_cells = self.cell_volts[self.cell_volts > self.p.afe.open_wire_below_volts]
        vmax = float(valid_cells.max()) if valid_cells.size else 0.0
        vmin = float(valid_cells.min()) if valid_cells.size else 0.0
        self.ov.update(vmax, now)
        self.uv.update(vmin if valid_cells.size else 99.0, now)
        open_wire = bool(np.any(self.cell_volts <= self.p.afe.open_wire_below_volts))
        self.open_wire.update(open_wire and "open_wire_ignored" not in self.flags, now)
        temps = self.temperatures[self.sensor_ok]
        self.ot.update(float(temps.max()) if temps.size else -273.0, now)
        self.ut.update(float(temps.min()) if temps.size else 99.0, now)
        ntc_bad = not bool(np.all(self.sensor_ok)) and "ntc_fault_ignored" not in self.flags
        self.sensor.update(ntc_bad or not self.hall_ok, now)
        self.oc_discharge.update(self.current_amps, now)
        self.oc_charge.update(-self.current_amps, now)
        timeouts = self.p.timeouts
        vcu_silent = self._silent_for(self._last_vcu_ok, now)
        self.vcu_timeout.update(vcu_silent > timeouts.vcu_request_seconds
                                and "vcu_timeout_ignored" not in self.flags, now)
        self.current_timeout.update(
            self._silent_for(self._last_current_ok, now) > timeouts.current_sensor_seconds
            and "current_timeout_ignored" not in self.flags, now)
        self.e2e.update(self._e2e_bad_in_row >= timeouts.e2e_errors_to_fault, now)

    def silent_seconds(self, source: str, now: float) -> float:
        """How long the VCU request or the current sensor has been silent (for logs)."""
        last = self._last_vcu_ok if source == "vcu" else self._last_current_ok
        return self._silent_for(last, now)

    def _silent_for(self, last_ok: float | None, now: float) -> float:
        """Seconds without a valid frame; before the first one, counted from the end of a
        startup grace period."""
        start = last_ok if last_ok is not None else (
            self._power_on + self.p.init_seconds + STARTUP_GRACE_SECONDS)
        return max(0.0, now - start)

    def faults(self) -> dict[str, bool]:
        """Latched fault flags by their DBC signal name."""
        return {
            "Fault_CellOverVoltage": self.ov.latched,
            "Fault_CellUnderVoltage": self.uv.latched,
            "Fault_CellOverTemperature": self.ot.latched,
            "Fault_CellUnderTemperature": self.ut.latched,
            "Fault_OverCurrentCharge": self.oc_charge.latched,
            "Fault_OverCurrentDischarge": self.oc_discharge.latched,
            "Fault_SensorFault": self.sensor.latched,
            "Fault_CanTimeoutVcu": self.vcu_timeout.latched,
            "Fault_CanTimeoutCurrentSensor": self.current_timeout.latched,
            "Fault_OpenWire": self.open_wire.latched,
            "Fault_E2eError": self.e2e.latched,
            "Fault_PrechargeFailed": False,
        }

    def any_fault(self) -> bool:
        return any(self.faults().values())

    def _reset_faults(self) -> None:
        for latch in (self.ov, self.uv, self.ot, self.ut, self.oc_discharge, self.oc_charge,
                      self.sensor, self.open_wire, self.vcu_timeout, self.current_timeout,
                      self.e2e):
            latch.try_reset()

    def _enter(self, state: State, now: float) -> None:
        self.state = state
        self._state_since = now

    def _run_state_machine(self, now: float) -> None:
        out = self.outputs
        in_state = now - self._state_since
        if self.state == State.INIT:
            if now - self._power_on >= self.p.init_seconds and self.soc_initialised:
                self._enter(State.STANDBY, now)
        elif self.any_fault():
            if self.state != State.FAULT:
                self._enter(State.FAULT, now)
        elif self.state == State.FAULT:
            if self.request == Request.STANDBY:
                self._enter(State.STANDBY, now)
        elif self.state == State.STANDBY:
            if self.request in (Request.DRIVE, Request.CHARGE):
                self._enter(State.PRECHARGE, now)
        elif self.state == State.PRECHARGE:
            contactors = self.p.contactors
            if self.request == Request.STANDBY:
                self._enter(State.STANDBY, now)
            elif in_state >= contactors.precharge_seconds + contactors.overlap_seconds:
                self._enter(State.DRIVE if self.request == Request.DRIVE else State.CHARGE, now)
        elif self.state in (State.DRIVE, State.CHARGE):
            if self.request == Request.STANDBY:
                self._enter(State.STANDBY, now)
            elif self.request == Request.DRIVE:
                self.state = State.DRIVE
            elif self.request == Request.CHARGE:
                self.state = State.CHARGE

        in_state = now - self._state_since
        state = self.state
        if state == State.PRECHARGE:
            out.main_negative = True
            out.precharge = True
            out.main_positive = (in_state >= self.p.contactors.precharge_seconds
                                 or "precharge_skipped" in self.flags)
        elif state in (State.DRIVE, State.CHARGE):
            out.main_negative = True
            out.main_positive = True
            out.precharge = False
        else:
            out.main_negative = out.main_positive = out.precharge = False
        out.fault_output = state == State.FAULT

    def _balance(self) -> None:
        cfg = self.p.balancing
        if self.state.name not in cfg.allowed_states or self.state == State.INIT:
            self.balancing[:] = False
            return
        v = self.cell_volts
        valid = v > self.p.afe.open_wire_below_volts
        if not valid.any():
            self.balancing[:] = False
            return
        delta = v - float(v[valid].min())
        if "balancing_wrong_cell" in self.flags:  # measured from the highest cell: bleeds the low
            delta = float(v[valid].max()) - v
        start = (delta > cfg.start_above_volts) & (v > cfg.min_cell_volts) & valid
        stop = (delta < cfg.stop_below_volts) | (v <= cfg.min_cell_volts) | ~valid
        self.balancing[:] = (self.balancing | start) & ~stop

    # --- derived values for the CAN reports -----------------------------------------------
    def current_limits(self) -> tuple[float, float]:
        """(charge, discharge) current limits in A, derated by temperature and SOC."""
        cfg = self.p.current_limits
        temps = self.temperatures[self.sensor_ok]
        if self.state == State.FAULT or temps.size == 0:
            return 0.0, 0.0
        t_max, t_min = float(temps.max()), float(temps.min())
        trip = self.p.protections.over_temperature.trip
        span = max(trip - cfg.derate_start_celsius, 1e-6)
        derate = min(1.0, max(0.0, (trip - t_max) / span))
        discharge = cfg.max_discharge_amps * derate if self.soc_percent > 0 else 0.0
        charge = cfg.max_charge_amps * derate
        if t_min < cfg.charge_zero_below_celsius:
            charge = 0.0
        if self.soc_percent > 95.0:
            charge *= max(0.0, (100.0 - self.soc_percent) / 5.0)
        return charge, discharge

    def voltage_limits(self) -> tuple[float, float]:
        """(charge, discharge) pack voltage limits in V."""
        prot = self.p.protections
        return (self.p.cells * prot.cell_over_voltage.clear,
                self.p.cells * prot.cell_under_voltage.clear)
