"""DUT profiles: what a BMS's CAN signals mean, and what it is required to do.

Suites speak in roles (``state``, ``fault.over_voltage``, ``cell_voltage[7]``) and limits
(``cell_ov_volts``), never in one BMS's signal names, so the same suite runs against any BMS
that has a profile. A profile maps each role to a DBC signal (with the multiplexer value the
DBC implies), converts its unit to the one suites use, maps canonical enum names (``FAULT``)
to the DBC's labels (``ERROR``), and names the inbound messages the rig sends to the BMS.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from cantools.database.can import Message

from hil import units
from hil.dbc import CanDatabase, SignalRef
from hil.yamlfile import StrictModel, YamlDoc, did_you_mean, load_yaml, validate

_TEMPLATE_FIELD = re.compile(r"\{(i0|i)(:0?\d*d)?\}")
_INDEXED = re.compile(r"^(?P<base>[^\[\]]+)\[(?P<index>\d+)\]$")


class RoleSpec(StrictModel):
    """One role: a signal (or a template over an index for numbered roles)."""

    signal: str = pydantic.Field(description="Message.Signal, or a template with {i} / {i0}")
    count: int | None = pydantic.Field(default=None, ge=1,
                                       description="numbered role: indexes 1..count")
    unit: str | None = pydantic.Field(default=None, description="unit suites use for this role")
    values: dict[str, str] = pydantic.Field(
        default_factory=dict, description="canonical enum name -> DBC label")

    @pydantic.model_validator(mode="after")
    def _template_matches_count(self) -> RoleSpec:
        has_template = "{" in self.signal
        if has_template and self.count is None:
            raise ValueError("a signal template with {i} needs a count")
        if self.count is not None and not has_template:
            raise ValueError("a numbered role (count) needs a signal template with {i} or {i0}")
        leftover = _TEMPLATE_FIELD.sub("", self.signal)
        if "{" in leftover or "}" in leftover:
            raise ValueError("signal templates may only use {i} (from 1) or {i0} (from 0), "
                             "optionally with a width like {i:03d}")
        return self


class InputSpec(StrictModel):
    """An inbound message the rig transmits to the BMS periodically."""

    message: str
    signal: str = pydantic.Field(description="the signal that carries the input value")
    unit: str | None = None
    values: dict[str, str] = pydantic.Field(default_factory=dict)
    defaults: dict[str, float | str] = pydantic.Field(default_factory=dict)
    counter: str | None = pydantic.Field(default=None, description="alive counter signal")
    e2e: bool = pydantic.Field(default=False, description="CRC in byte 0, see dbc/bms.dbc")
    period_seconds: float | None = pydantic.Field(default=None, gt=0)
    fault_reset: str | None = pydantic.Field(default=None,
                                             description="signal pulsed to reset faults")


class Inputs(StrictModel):
    state_request: InputSpec
    current_sensor: InputSpec | None = None


class PackSpec(StrictModel):
    """The pack the BMS is set up for: what a closed-loop plant emulates (scenario `plant:`)."""

    cell: str = pydantic.Field(description="hil.plant cell parameter set, e.g. nmc_pybamm_ecm, "
                                           "or a cell file relative to the profile")
    capacity_ah: float = pydantic.Field(gt=0, description="capacity of one series group, the "
                                                          "one the BMS counts charge against")
    balancing_amps: float = pydantic.Field(default=0.1, ge=0, description="bleed current of "
                                                                          "one balancing switch")


class ProfileFile(StrictModel):
    name: str
    dbc: list[str] = pydantic.Field(min_length=1)
    dbc_strict: bool = True
    e2e_messages: list[str] = pydantic.Field(default_factory=list)
    roles: dict[str, RoleSpec]
    inputs: Inputs
    limits: dict[str, float] = pydantic.Field(default_factory=dict)
    nominal: dict[str, float] = pydantic.Field(default_factory=dict)
    firmware_version: str | None = pydantic.Field(
        default=None, description="template of signals, e.g. '{Msg.Major}.{Msg.Minor}'")
    pack: PackSpec | None = None

    @pydantic.field_validator("roles", mode="before")
    @classmethod
    def _short_form(cls, roles: Any) -> Any:
        if isinstance(roles, dict):
            return {k: ({"signal": v} if isinstance(v, str) else v) for k, v in roles.items()}
        return roles


@dataclass(frozen=True)
class Target:
    """A resolved role or signal: where its samples live and how to read them."""

    name: str                  # as the user wrote it
    ref: SignalRef
    factor: float = 1.0        # DBC physical value * factor = value in `unit`
    unit: str = ""
    values: tuple[tuple[str, str], ...] = ()  # canonical -> DBC label

    @property
    def series_name(self) -> str:
        return self.ref.name

    @property
    def is_role(self) -> bool:
        return self.name != self.ref.name

    def describe(self) -> str:
        return f"{self.name} ({self.ref.name})" if self.is_role else self.name

    def value_of(self, label_or_number: float | str) -> float:
        """A number or an enum name (canonical or DBC) as a value in this target's units."""
        if isinstance(label_or_number, bool):
            return float(label_or_number)
        if isinstance(label_or_number, (int, float)):
            return float(label_or_number)
        label = str(label_or_number)
        dbc_label = dict(self.values).get(label, label)
        raw = self.ref.choice_value(dbc_label)
        if raw is None:
            choices = [str(v) for v in (self.ref.signal.choices or {}).values()]
            known = sorted(set(choices) | {k for k, _ in self.values})
            if not known:
                raise KeyError(f"{self.describe()} is numeric; {label!r} is not a number")
            hint = did_you_mean(label, known)
            raise KeyError(f"{self.describe()} has no value {label!r}{hint}; "
                           f"allowed: {', '.join(known)}")
        return raw * self.factor

    def label_of(self, value: float) -> str:
        """Readable form of a value: its enum name when it has one, else the number and unit."""
        if math.isnan(value):
            return "nan"
        raw = value / self.factor if self.factor else value
        label = self.ref.choice_label(round(raw)) if abs(raw - round(raw)) < 1e-9 else None
        if label is not None:
            canonical = {v: k for k, v in self.values}.get(label, label)
            return canonical
        return f"{value:.6g}{(' ' + self.unit) if self.unit else ''}"

    @property
    def resolution(self) -> float:
        """One LSB of the signal in this target's units (for equality with tolerance)."""
        scale = abs(self.ref.signal.scale or 1.0)
        return scale * abs(self.factor)


class Profile:
    """A loaded, checked DUT profile with its DBC."""

    def __init__(self, path: Path, spec: ProfileFile, database: CanDatabase, doc: YamlDoc) -> None:
        self.path = path
        self.spec = spec
        self.database = database
        self._doc = doc
        self.name = spec.name
        self.limits = dict(spec.limits)
        self.nominal = dict(spec.nominal)
        self._check_roles()
        self._check_inputs()
        self._check_firmware_version()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Profile:
        path = Path(path)
        doc = load_yaml(path, what="DUT profile")
        spec = validate(ProfileFile, doc, what="DUT profile")
        dbc_paths = []
        for i, rel in enumerate(spec.dbc):
            dbc_path = (path.parent / rel).resolve()
            if not dbc_path.is_file():
                raise doc.error(f"DBC file {rel!r} not found (looked in {path.parent})",
                                ("dbc", i))
            dbc_paths.append(dbc_path)
        database = CanDatabase.load(*dbc_paths, strict=spec.dbc_strict)
        return cls(path, spec, database, doc)

    # --- validation -----------------------------------------------------------------------
    def _check_roles(self) -> None:
        messages = {m.name for m in self.database.messages}
        for role, spec in self.spec.roles.items():
            first = role.split(".", 1)[0]
            if "." in role and first in messages:
                raise self._doc.error(f"role {role!r} looks like a signal name (message "
                                      f"{first!r} exists); rename the role", ("roles", role))
            indexes = range(1, (spec.count or 1) + 1) if spec.count else [None]
            for index in indexes:
                try:
                    self._build_target(role, spec, index)
                except _RoleProblem as err:
                    raise self._doc.error(err.message, ("roles", role, *err.loc)) from None
                except (KeyError, ValueError) as err:
                    raise self._doc.error(_msg(err), ("roles", role, "signal")) from None

    def _check_inputs(self) -> None:
        inputs = self.spec.inputs
        for key in ("state_request", "current_sensor"):
            spec: InputSpec | None = getattr(inputs, key)
            if spec is None:
                continue
            loc = ("inputs", key)
            try:
                message = self.database.message(spec.message)
            except KeyError as err:
                raise self._doc.error(_msg(err), (*loc, "message")) from None
            names = {s.name for s in message.signals}
            for field in ("signal", "counter", "fault_reset"):
                name = getattr(spec, field)
                if name is not None and name not in names:
                    raise self._doc.error(f"no signal {name!r} in message {message.name}"
                                          f"{did_you_mean(name, names)}", (*loc, field))
            for name in spec.defaults:
                if name not in names:
                    raise self._doc.error(f"no signal {name!r} in message {message.name}"
                                          f"{did_you_mean(name, names)}", (*loc, "defaults", name))
            if spec.period_seconds is None and not message.cycle_time:
                raise self._doc.error(f"message {message.name} has no GenMsgCycleTime in the "
                                      "DBC; give period_seconds", loc)
            if spec.unit is not None:
                sig = next(s for s in message.signals if s.name == spec.signal)
                try:
                    units.factor(sig.unit, spec.unit)
                except ValueError as err:
                    raise self._doc.error(_msg(err), (*loc, "unit")) from None

    def _check_firmware_version(self) -> None:
        for name in self.firmware_signals:
            try:
                self.database.signal(name)
            except KeyError as err:
                raise self._doc.error(_msg(err), ("firmware_version",)) from None

    @property
    def firmware_signals(self) -> list[str]:
        template = self.spec.firmware_version or ""
        return re.findall(r"\{([^}]+)\}", template)

    def firmware_version(self, latest: dict[str, float | None]) -> str | None:
        """The version string from the latest values of the template's signals."""
        template = self.spec.firmware_version
        if template is None:
            return None
        out = template
        for name in self.firmware_signals:
            value = latest.get(name)
            if value is None:
                return None
            out = out.replace("{" + name + "}", f"{value:g}")
        return out

    # --- lookups --------------------------------------------------------------------------
    @property
    def role_names(self) -> list[str]:
        out = []
        for role, spec in self.spec.roles.items():
            out.append(f"{role}[i]" if spec.count else role)
        return out

    def role_count(self, role: str) -> int | None:
        spec = self.spec.roles.get(role)
        return spec.count if spec else None

    def resolve(self, name: str) -> Target:
        """A role (``state``, ``cell_voltage[7]``) or a DBC signal (``Message.Signal``)."""
        name = name.strip()
        if name in self.spec.roles:
            spec = self.spec.roles[name]
            if spec.count:
                raise KeyError(f"role {name!r} is numbered: write {name}[1] .. "
                               f"{name}[{spec.count}]")
            return self._build_target(name, spec, None)
        match = _INDEXED.match(name)
        if match and match.group("base") in self.spec.roles:
            base = match.group("base")
            spec = self.spec.roles[base]
            index = int(match.group("index"))
            if not spec.count:
                raise KeyError(f"role {base!r} is not numbered: write {base}")
            if not 1 <= index <= spec.count:
                raise KeyError(f"{name}: index out of range 1..{spec.count}")
            return self._build_target(name, spec, index)
        if "." in name and name.split(".", 1)[0] in {m.name for m in self.database.messages}:
            ref = self.database.signal(name)
            return Target(name, ref, 1.0, ref.signal.unit or "")
        candidates = [*self.role_names, *self.spec.roles]
        hint = did_you_mean(name, candidates) or did_you_mean(
            name, [f"{m.name}.{s.name}" for m in self.database.messages for s in m.signals])
        raise KeyError(f"unknown role or signal {name!r}{hint}")

    def _build_target(self, name: str, spec: RoleSpec, index: int | None) -> Target:
        signal_name = spec.signal
        if index is not None:
            signal_name = signal_name.format(i=index, i0=index - 1)
            name = name if "[" in name else f"{name}[{index}]"
        ref = self.database.signal(signal_name)
        factor = 1.0
        unit = ref.signal.unit or ""
        if spec.unit is not None:
            try:
                factor = units.factor(ref.signal.unit, spec.unit)
            except ValueError as err:
                raise _RoleProblem(f"{signal_name}: {err}", ("unit",)) from None
            unit = spec.unit
        for canonical, label in spec.values.items():
            if ref.choice_value(label) is None:
                labels = [str(v) for v in (ref.signal.choices or {}).values()]
                raise _RoleProblem(f"{signal_name} has no label {label!r}"
                                   f"{did_you_mean(label, labels)}; it has: "
                                   f"{', '.join(labels) or 'none'}", ("values", canonical))
        return Target(name, ref, factor, unit, tuple(spec.values.items()))

    def input_message(self, key: str) -> tuple[InputSpec, Message]:
        spec: InputSpec | None = getattr(self.spec.inputs, key)
        if spec is None:
            raise KeyError(f"the DUT profile {self.name!r} declares no {key} input")
        return spec, self.database.message(spec.message)

    def limit(self, key: str) -> float:
        try:
            return self.limits[key]
        except KeyError:
            hint = did_you_mean(key, self.limits)
            raise KeyError(f"no limit {key!r} in DUT profile {self.name!r}{hint}") from None


class _RoleProblem(Exception):
    """A role that cannot be built, and which field of it is at fault."""

    def __init__(self, message: str, loc: tuple[str, ...]) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc


def _msg(err: BaseException) -> str:
    return str(err.args[0]) if err.args else str(err)

