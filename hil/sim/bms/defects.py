"""Bugs the reference BMS can be built with, so suites can prove they catch them.

A suite that passes on a correct BMS proves little until it also fails on a broken one. Each
defect is a named, documented change to the reference firmware: either a parameter change (a
calibration mistake) or a behaviour switch the firmware code checks (a logic bug).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hil.sim.bms.params import BmsParams
from hil.yamlfile import did_you_mean


@dataclass(frozen=True)
class Defect:
    name: str
    summary: str
    tweak: Callable[[BmsParams], BmsParams] | None = None
    flags: frozenset[str] = field(default_factory=frozenset)
    #: Scenario files (paths relative to the repository root) that fail with this defect.
    caught_by: tuple[str, ...] = ()


DEFECTS: dict[str, Defect] = {}


def _register(name: str, summary: str, tweak: Callable[[BmsParams], BmsParams] | None = None,
              flags: Iterable[str] = (), caught_by: Iterable[str] = ()) -> None:
    DEFECTS[name] = Defect(name, summary, tweak, frozenset(flags), tuple(caught_by))


def _protection(params: BmsParams, which: str, **changes: float) -> BmsParams:
    prot = params.protections
    new = getattr(prot, which).model_copy(update=changes)
    return params.model_copy(update={"protections": prot.model_copy(update={which: new})})


_register("slow-ov", "cell over-voltage debounce is 1.5 s instead of 0.1 s (trips too late)",
          lambda p: _protection(p, "cell_over_voltage", debounce_seconds=1.5),
          caught_by=["scenarios/protection/cell_over_voltage.yaml",
                     "scenarios/protection/cell_over_voltage_latch_reset.yaml"])
_register("no-ot-trip", "over-temperature never trips (protection disabled)",
          flags=["no_ot_trip"],
          caught_by=["scenarios/protection/over_temperature.yaml",
                     "scenarios/protection/over_temperature_latch_reset.yaml"])
_register("stuck-cell-report", "cell 1's reported voltage freezes at its first measurement",
          flags=["stuck_cell_report"], caught_by=["scenarios/accuracy/cell_voltages.yaml"])
_register("no-uv-trip", "cell under-voltage never trips (protection disabled)",
          flags=["no_uv_trip"],
          caught_by=["scenarios/protection/cell_under_voltage.yaml",
                     "scenarios/protection/cell_under_voltage_latch_reset.yaml"])


# --- protection defects ---
# trip, debounce, threshold, latch and hysteresis; caught by scenarios/protection/
_PROTECTIONS = ("cell_over_voltage", "cell_under_voltage", "over_temperature",
                "under_temperature", "over_current_discharge", "over_current_charge")


def _no_hysteresis(params: BmsParams) -> BmsParams:
    for which in _PROTECTIONS:
        params = _protection(params, which, clear=getattr(params.protections, which).trip)
    return params


_register("no-ut-trip", "under-temperature never trips (protection disabled)",
          flags=["no_ut_trip"],
          caught_by=["scenarios/protection/under_temperature.yaml",
                     "scenarios/protection/under_temperature_latch_reset.yaml"])
_register("slow-oc-discharge",
          "discharge over-current debounce is 0.5 s instead of 0.05 s (trips too late)",
          lambda p: _protection(p, "over_current_discharge", debounce_seconds=0.5),
          caught_by=["scenarios/protection/over_current_discharge.yaml",
                     "scenarios/protection/over_current_discharge_latch_reset.yaml"])
_register("oc-charge-threshold-high", "charge over-current trips above 200 A instead of 150 A",
          lambda p: _protection(p, "over_current_charge", trip=200.0),
          caught_by=["scenarios/protection/over_current_charge.yaml",
                     "scenarios/protection/over_current_charge_latch_reset.yaml"])
_register("ov-no-latch",
          "the over-voltage fault clears by itself once the cells fall below the clear threshold",
          flags=["ov_no_latch"],
          caught_by=["scenarios/protection/cell_over_voltage_latch_reset.yaml"])
_register("no-hysteresis",
          "no hysteresis: a fault reset works as soon as the value is back inside the trip "
          "threshold",
          _no_hysteresis,
          caught_by=[f"scenarios/protection/{name}_latch_reset.yaml" for name in _PROTECTIONS])


# --- functional defects ---
# contactors, CAN, balancing, SOC, sensors, reporting; caught by scenarios/<group>/
_register("precharge-skipped",
          "main positive closes together with main negative, without waiting for precharge",
          flags=["precharge_skipped"],
          caught_by=["scenarios/contactors/drive_sequence.yaml",
                     "scenarios/contactors/charge_sequence.yaml"])
_register("vcu-timeout-ignored", "a missing VCU_Request never raises the CAN timeout fault",
          flags=["vcu_timeout_ignored"], caught_by=["scenarios/can/vcu_timeout.yaml"])
_register("current-timeout-ignored",
          "a silent current sensor never raises the CAN timeout fault",
          flags=["current_timeout_ignored"],
          caught_by=["scenarios/can/current_sensor_timeout.yaml"])
_register("e2e-ignored", "VCU_Request frames with a bad CRC or alive counter are accepted",
          flags=["e2e_ignored"],
          caught_by=["scenarios/can/e2e_counter.yaml", "scenarios/can/e2e_crc.yaml"])
_register("slow-status", "BMS_Status is sent every 80 ms instead of 50 ms",
          flags=["slow_status"], caught_by=["scenarios/can/cycle_times.yaml"])
_register("balancing-wrong-cell",
          "balances the cells below the highest one (the low cells) instead of the high cells",
          flags=["balancing_wrong_cell"], caught_by=["scenarios/balancing/high_cells.yaml"])
_register("balancing-in-drive", "balancing is also allowed in DRIVE",
          lambda p: p.model_copy(update={"balancing": p.balancing.model_copy(
              update={"allowed_states": [*p.balancing.allowed_states, "DRIVE"]})}),
          caught_by=["scenarios/balancing/not_in_drive.yaml"])
_register("soc-rest-unsettled",
          "SOC is re-estimated from OCV as soon as the rest time is over, from polarised cells",
          flags=["soc_rest_unsettled"],
          caught_by=["scenarios/plant/rest_after_charge.yaml"])
_register("soc-rest-ignored", "SOC is never estimated again from OCV after a rest",
          flags=["soc_rest_ignored"], caught_by=["scenarios/soc/after_rest.yaml"])
_register("soc-capacity-error",
          "coulomb counting uses a capacity 5 % too small (95 Ah): the SOC moves too fast",
          flags=["soc_capacity_error"],
          caught_by=["scenarios/soc/coulomb_counting.yaml", "scenarios/plant/charge.yaml"])
_register("open-wire-ignored", "an open cell sense wire never raises the open-wire fault",
          flags=["open_wire_ignored"], caught_by=["scenarios/sensors/open_wire.yaml"])
_register("ntc-fault-ignored", "an open or shorted thermistor never raises the sensor fault",
          flags=["ntc_fault_ignored"],
          caught_by=["scenarios/sensors/ntc_open.yaml", "scenarios/sensors/ntc_short.yaml"])
_register("temperature-offset", "every temperature is measured and reported 3 degC high",
          flags=["temperature_offset"], caught_by=["scenarios/accuracy/temperatures.yaml"])


def resolve(names: Iterable[str]) -> list[Defect]:
    """Defects by name; KeyError with a suggestion and the list of known defects otherwise."""
    out = []
    for name in names:
        if name not in DEFECTS:
            hint = did_you_mean(name, DEFECTS)
            raise KeyError(f"unknown BMS defect {name!r}{hint}; "
                           f"known: {', '.join(sorted(DEFECTS))}")
        out.append(DEFECTS[name])
    return out


def apply(params: BmsParams, defects: Iterable[Defect]) -> tuple[BmsParams, frozenset[str]]:
    """Parameters and behaviour flags of a firmware built with these defects."""
    flags: set[str] = set()
    for d in defects:
        if d.tweak is not None:
            params = d.tweak(params)
        flags |= d.flags
    return params, frozenset(flags)
