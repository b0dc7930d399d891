"""The reference BMS's parameter set (its calibration data), loaded and checked from YAML."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Literal

import pydantic

from hil.yamlfile import StrictModel, load_yaml, validate

DEFAULT_PARAMS = Path(__file__).with_name("params.yaml")

StateName = Literal["INIT", "STANDBY", "PRECHARGE", "DRIVE", "CHARGE", "FAULT"]


class Afe(StrictModel):
    resolution_volts: float = pydantic.Field(gt=0)
    noise_volts: float = pydantic.Field(ge=0)
    open_wire_below_volts: float = pydantic.Field(ge=0)


class Ntc(StrictModel):
    r25_ohms: float = pydantic.Field(gt=0)
    beta: float = pydantic.Field(gt=0)
    open_above_ohms: float = pydantic.Field(gt=0)
    short_below_ohms: float = pydantic.Field(ge=0)


class Threshold(StrictModel):
    """Trip when beyond `trip` for `debounce_seconds`; the condition clears beyond `clear`."""

    trip: float
    clear: float
    debounce_seconds: float = pydantic.Field(ge=0)


class Protections(StrictModel):
    cell_over_voltage: Threshold
    cell_under_voltage: Threshold
    over_temperature: Threshold
    under_temperature: Threshold
    over_current_discharge: Threshold
    over_current_charge: Threshold
    sensor_fault_debounce_seconds: float = pydantic.Field(ge=0)
    open_wire_debounce_seconds: float = pydantic.Field(ge=0)


class Timeouts(StrictModel):
    vcu_request_seconds: float = pydantic.Field(gt=0)
    current_sensor_seconds: float = pydantic.Field(gt=0)
    e2e_errors_to_fault: int = pydantic.Field(ge=1)


class Contactors(StrictModel):
    precharge_seconds: float = pydantic.Field(gt=0)
    overlap_seconds: float = pydantic.Field(ge=0)


class Soc(StrictModel):
    capacity_ah: float = pydantic.Field(gt=0)
    soh_percent: float = pydantic.Field(gt=0, le=127.5)
    rest_below_amps: float = pydantic.Field(ge=0)
    rest_seconds: float = pydantic.Field(gt=0)
    settled_volts: float = pydantic.Field(default=0.0005, gt=0)
    settled_seconds: float = pydantic.Field(default=3.0, ge=0)
    ocv_table: list[tuple[float, float]] = pydantic.Field(min_length=2)

    @pydantic.field_validator("ocv_table")
    @classmethod
    def _increasing(cls, table: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for (s0, v0), (s1, v1) in itertools.pairwise(table):
            if not (s1 > s0 and v1 > v0):
                raise ValueError("ocv_table must increase in both SOC and voltage")
        return table


class Balancing(StrictModel):
    start_above_volts: float = pydantic.Field(gt=0)
    stop_below_volts: float = pydantic.Field(ge=0)
    min_cell_volts: float
    allowed_states: list[StateName]


class CurrentLimits(StrictModel):
    max_discharge_amps: float = pydantic.Field(ge=0)
    max_charge_amps: float = pydantic.Field(ge=0)
    derate_start_celsius: float
    charge_zero_below_celsius: float


class CurrentSensor(StrictModel):
    """Where pack current comes from: the IVT-S on CAN, or an analog Hall sensor's voltage."""

    kind: Literal["ivt_can", "hall"] = "ivt_can"
    hall_offset_volts: float = 2.5
    hall_volts_per_amp: float = pydantic.Field(default=0.004, gt=0)
    hall_valid_volts: tuple[float, float] = (0.1, 4.9)  # outside: sensor fault


class BmsParams(StrictModel):
    firmware_version: str = pydantic.Field(pattern=r"^\d+\.\d+\.\d+$")
    cells: int = pydantic.Field(ge=1, le=192)
    temperatures: int = pydantic.Field(ge=1, le=64)
    tick_seconds: float = pydantic.Field(gt=0, le=0.1)
    init_seconds: float = pydantic.Field(ge=0)
    afe: Afe
    ntc: Ntc
    protections: Protections
    timeouts: Timeouts
    contactors: Contactors
    soc: Soc
    balancing: Balancing
    current_limits: CurrentLimits
    current_sensor: CurrentSensor = CurrentSensor()


def load_params(path: str | os.PathLike[str] = DEFAULT_PARAMS) -> BmsParams:
    """Load and check a parameter file; errors name the file, line and field."""
    return validate(BmsParams, load_yaml(path, what="BMS parameter file"),
                    what="BMS parameter file")
