"""Rig files: what a rig is made of, its limits, and its safe state.

A rig file lists one driver per capability (`driver: mcp4728`, `driver: sim-hub`), the DUT
profile, the limits no output may ever exceed, the safe state every exit returns to, and the
initial state each test starts from. Each driver checks its own options; every error names the
file, the line and the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pydantic

from hil.capabilities import Range
from hil.drivers import registry
from hil.errors import ConfigError
from hil.faults import Realisation, check_faults
from hil.yamlfile import (
    StrictModel,
    YamlDoc,
    format_loc,
    load_yaml,
    pydantic_to_config_error,
    validate,
)


class Interval(StrictModel):
    min: float
    max: float

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.min > self.max:
            raise ValueError(f"min ({self.min:g}) must not be above max ({self.max:g})")
        return self


class Limits(StrictModel):
    """Hard limits of the emulator's outputs; a request outside them is refused unsent."""

    cell_volts: Interval
    temperature_celsius: Interval
    current_amps: Interval
    cell_slew_volts_per_second: float | None = pydantic.Field(
        default=None, gt=0, description="faster cell changes are written as ramps")


class SafeState(StrictModel):
    """Where every output goes on any exit: test end of session, error, Ctrl-C, lost bus."""

    cell_volts: float
    temperature_celsius: float
    current_amps: float = 0.0


class InitialState(StrictModel):
    """Where each test starts (defaults come from the DUT profile's `nominal` section)."""

    cell_volts: float | None = None
    temperature_celsius: float | None = None
    current_amps: float = 0.0
    state_request: str = "standby"
    lines: dict[str, bool] = pydantic.Field(default_factory=dict)


class Dut(StrictModel):
    profile: str = pydantic.Field(description="DUT profile, relative to the rig file")
    reset_between_tests: Literal["power_cycle", "fault_reset", "none"] = "power_cycle"
    ready_timeout_seconds: float = pydantic.Field(default=10.0, gt=0)


class Timing(StrictModel):
    tolerance_seconds: float = pydantic.Field(default=0.010, gt=0,
                                              description="allowed step lateness")


class RigFile(StrictModel):
    name: str
    description: str = ""
    dut: Dut
    dut_power: dict[str, Any]
    can: dict[str, Any]
    cells: dict[str, Any]
    temperatures: dict[str, Any]
    current: dict[str, Any]
    lines: dict[str, Any] | None = None
    i2c: dict[str, Any] | None = None
    readback: dict[str, Any] | None = None
    limits: Limits
    safe_state: SafeState
    initial: InitialState = InitialState()
    timing: Timing = Timing()
    faults: dict[str, Realisation | Literal["unsupported"]] = pydantic.Field(
        default_factory=dict, description="how each pack fault is made on this rig")

    @pydantic.field_validator("faults")
    @classmethod
    def _faults(cls, faults: dict[str, Realisation | Literal["unsupported"]]
                ) -> dict[str, Realisation | Literal["unsupported"]]:
        return check_faults(faults)

    @pydantic.model_validator(mode="after")
    def _safe_within_limits(self) -> RigFile:
        checks = [
            ("cell_volts", self.safe_state.cell_volts, self.limits.cell_volts),
            ("temperature_celsius", self.safe_state.temperature_celsius,
             self.limits.temperature_celsius),
            ("current_amps", self.safe_state.current_amps, self.limits.current_amps),
        ]
        for name, value, interval in checks:
            if not interval.min <= value <= interval.max:
                raise ValueError(f"safe_state.{name} {value:g} is outside limits.{name} "
                                 f"[{interval.min:g}, {interval.max:g}]")
        return self


class DriverSection(StrictModel):
    """Fields every driver section has; drivers subclass this with their own options."""

    driver: str


@dataclass(frozen=True)
class RigConfig:
    """A checked rig file: the common part plus each capability's driver and options."""

    path: Path
    file: RigFile
    drivers: dict[str, tuple[type, DriverSection]]
    doc: YamlDoc

    @property
    def name(self) -> str:
        return self.file.name

    def resolve(self, relative: str) -> Path:
        """A path written in the rig file, relative to the rig file's folder."""
        return (self.path.parent / relative).resolve()

    def ranges(self) -> dict[str, Range]:
        lim = self.file.limits
        src = f"{self.path.name} limits"
        return {
            "cell_volts": Range(lim.cell_volts.min, lim.cell_volts.max, "V",
                                f"{src}.cell_volts", lim.cell_slew_volts_per_second),
            "temperature_celsius": Range(lim.temperature_celsius.min,
                                         lim.temperature_celsius.max, "degC",
                                         f"{src}.temperature_celsius"),
            "current_amps": Range(lim.current_amps.min, lim.current_amps.max, "A",
                                  f"{src}.current_amps"),
        }

    def error(self, message: str, *loc: str | int) -> ConfigError:
        return self.doc.error(message, loc)


def load_rig_config(path: str | os.PathLike[str]) -> RigConfig:
    """Load and check a rig file, including every driver's options and the profile's path."""
    path = Path(path)
    doc = load_yaml(path, what="rig file")
    rig = validate(RigFile, doc, what="rig file")
    drivers: dict[str, tuple[type, DriverSection]] = {}
    for kind in registry.KINDS:
        section = getattr(rig, kind)
        if section is None:
            continue
        name = section.get("driver")
        if not isinstance(name, str):
            raise doc.error("missing required field" if name is None else
                            f"expected a driver name, got {name!r}", (kind, "driver"))
        try:
            cls = registry.lookup(kind, name)
        except KeyError as err:
            raise doc.error(str(err.args[0]), (kind, "driver")) from None
        drivers[kind] = (cls, validate_section(cls.Config, doc, (kind,)))
    _check_addresses(doc, drivers)
    profile = (path.parent / rig.dut.profile)
    if not profile.is_file():
        raise doc.error(f"DUT profile {rig.dut.profile!r} not found (relative to {path.parent})",
                        ("dut", "profile"))
    return RigConfig(path.resolve(), rig, drivers, doc)


def _check_addresses(doc: YamlDoc, drivers: dict[str, tuple[type, DriverSection]]) -> None:
    """Two chips answering one address on one segment is a wiring error, caught here."""
    seen: list[tuple[str, Any]] = []
    for kind, (_cls, section) in drivers.items():
        for loc in getattr(section, "locations", list)():
            for other_kind, other in seen:  # sections list each chip once (two wipers: one)
                same_segment = (loc.mux, loc.mux_channel) == (other.mux, other.mux_channel)
                on_root = loc.mux is None or other.mux is None
                if loc.bus == other.bus and loc.address == other.address and (
                        same_segment or on_root):
                    raise doc.error(f"{loc} answers the same address as {other} ({other_kind})",
                                    (kind,))
            seen.append((kind, loc))


def validate_section(model: type[DriverSection], doc: YamlDoc, loc: tuple[str | int, ...]
                     ) -> Any:
    """Validate the mapping at `loc` in `doc` against `model`, errors pointing into the file."""
    data: Any = doc.data
    for part in loc:
        data = data[part]
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        shifted = YamlDoc(doc.path, data, {k[len(loc):]: v for k, v in doc.lines.items()
                                           if k[:len(loc)] == loc})
        inner = pydantic_to_config_error(err, shifted, model, ConfigError)
        field = format_loc(loc, doc.data) + (f".{inner.field}" if inner.field else "")
        raise ConfigError(inner.reason, path=doc.path, line=inner.line, field=field) from None
