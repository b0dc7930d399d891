"""Loading scenario files: YAML with lines -> `${}` substitution -> shape -> meaning.

Every mistake is reported at collection time as one line naming the file, the line and the
field: a typo in a role gets a "did you mean", a cell the rig does not have or a voltage above
the rig's limit is refused before anything runs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil.capabilities import Range
from hil.conditions import condition
from hil.errors import LimitError, ScenarioError
from hil.profile import Profile, Target
from hil.rig.config import RigConfig
from hil.scenario import format as fmt
from hil.scenario.checks import Becomes, Check
from hil.scenario.model import CompiledStep, OutputChange, Scenario, WaitCondition
from hil.scenario.params import substitute_tree
from hil.yamlfile import YamlDoc, did_you_mean, load_yaml, validate

_RANGE = re.compile(r"^\s*(\d+)\s*(?:\.\.|-)\s*(\d+)\s*$")
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class ScenarioContext:
    """What a scenario is checked against: the DUT profile and the rig's shape and limits."""

    profile: Profile
    cell_count: int
    temperature_count: int
    ranges: dict[str, Range]
    output_lines: tuple[str, ...]

    @classmethod
    def for_rig(cls, rig: RigConfig, profile: Profile) -> ScenarioContext:
        lines = rig.file.lines or {}
        return cls(profile, int(rig.file.cells["count"]), int(rig.file.temperatures["count"]),
                   rig.ranges(), tuple((lines.get("outputs") or {}).keys()))

    @property
    def state_requests(self) -> list[str]:
        spec, _ = self.profile.input_message("state_request")
        return list(spec.values) if spec.values else []


def load_scenarios(path: str | os.PathLike[str], ctx: ScenarioContext) -> list[Scenario]:
    """All scenarios a file defines (one today; parameter expansion comes later)."""
    path = Path(path)
    doc = load_yaml(path, what="scenario file", cls=ScenarioError)
    if not isinstance(doc.data, dict):
        raise ScenarioError("a scenario file is a mapping with at least `scenario` and `steps`",
                            path=path, line=1)
    namespace = _namespace(doc, ctx)

    def error(message: str, loc: tuple) -> ScenarioError:
        return doc.error(message, loc, ScenarioError)  # type: ignore[return-value]

    data = substitute_tree(doc.data, namespace, error)
    checked_doc = YamlDoc(doc.path, data, doc.lines)
    raw = validate(fmt.ScenarioFile, checked_doc, what="scenario file", cls=ScenarioError)
    return [_Compiler(checked_doc, ctx).scenario(raw)]


def _namespace(doc: YamlDoc, ctx: ScenarioContext) -> dict[str, Any]:
    namespace: dict[str, Any] = {"limits": ctx.profile.limits, "nominal": ctx.profile.nominal}
    params = doc.data.get("parameters") or {}
    if not isinstance(params, dict):
        raise doc.error("expected a mapping of name: value", ("parameters",), ScenarioError)
    for name, value in params.items():
        if name in namespace:
            raise doc.error(f"parameter name {name!r} is reserved", ("parameters", name),
                            ScenarioError)
        if isinstance(value, str) and "${" in value:
            def error(message: str, loc: tuple) -> ScenarioError:
                return doc.error(message, loc, ScenarioError)  # type: ignore[return-value]
            value = substitute_tree(value, namespace, error, ("parameters", name))
        namespace[str(name)] = value
    return namespace


class _Compiler:
    def __init__(self, doc: YamlDoc, ctx: ScenarioContext) -> None:
        self.doc = doc
        self.ctx = ctx

    def error(self, message: str, loc: Loc) -> ScenarioError:
        return self.doc.error(message, loc, ScenarioError)  # type: ignore[return-value]

    def scenario(self, raw: fmt.ScenarioFile) -> Scenario:
        setup = raw.setup
        request = self._state_request(setup.state_request, ("setup", "state_request"))
        wait = None
        if setup.wait_until is not None:
            loc: Loc = ("setup", "wait_until")
            target = self._target(setup.wait_until, loc)
            cond = self._condition(target, setup.wait_until.is_, (*loc, "is"))
            wait = WaitCondition(target, cond, setup.wait_until.within_seconds)
        steps = []
        previous_at = 0.0
        for i, raw_step in enumerate(raw.steps):
            step = self._step(i, raw_step, previous_at)
            previous_at = step.at
            steps.append(step)
        return Scenario(
            path=self.doc.path, title=raw.scenario, description=raw.description,
            requirement=raw.requirement, tags=tuple(raw.tags),
            setup_changes=self._changes(setup, ("setup",)), setup_request=request,
            wait_until=wait, steps=tuple(steps))

    def _step(self, i: int, raw: fmt.Step, previous_at: float) -> CompiledStep:
        loc: Loc = ("steps", i)
        if raw.at_seconds is not None:
            at = raw.at_seconds
            if at < previous_at:
                raise self.error(f"{at:g} s is before the previous step ({previous_at:g} s); "
                                 "steps run in time order", (*loc, "at_seconds"))
        else:
            at = previous_at + (raw.after_seconds or 0.0)
        name = raw.name or ""
        label = f"step {i + 1} '{name}'" if name else f"step {i + 1}"
        changes: tuple[OutputChange, ...] = ()
        ramp = None
        if raw.set is not None:
            changes = self._changes(raw.set, (*loc, "set"))
            if raw.set.lines:
                changes += (self._lines(raw.set.lines, (*loc, "set", "lines")),)
        elif raw.ramp is not None:
            changes = self._changes(raw.ramp, (*loc, "ramp"))
            ramp = raw.ramp.over_seconds
            if not changes:
                raise self.error("a ramp needs cell_volts, temperature_celsius or current_amps",
                                 (*loc, "ramp"))
        request = self._state_request(raw.request_state, (*loc, "request_state"))
        checks: list[Check] = []
        for j, expect in enumerate(raw.expect):
            eloc: Loc = (*loc, "expect", j)
            target = self._target(expect, eloc)
            cond = self._condition(target, expect.becomes, (*eloc, "becomes"))
            checks.append(Becomes(target, cond, expect.within_seconds, label,
                                  self.doc.line_of(eloc)))
        return CompiledStep(number=i + 1, name=name, at=at, line=self.doc.line_of(loc),
                            changes=changes, ramp_seconds=ramp, request_state=request,
                            checks=tuple(checks))

    def _changes(self, outputs: fmt.Outputs, loc: Loc) -> tuple[OutputChange, ...]:
        out = []
        if outputs.cell_volts is not None:
            out.append(OutputChange("cells", self._channels(
                outputs.cell_volts, self.ctx.cell_count, "cell", self.ctx.ranges["cell_volts"],
                (*loc, "cell_volts"))))
        if outputs.temperature_celsius is not None:
            out.append(OutputChange("temperatures", self._channels(
                outputs.temperature_celsius, self.ctx.temperature_count, "temperature sensor",
                self.ctx.ranges["temperature_celsius"], (*loc, "temperature_celsius"))))
        if outputs.current_amps is not None:
            self._within(self.ctx.ranges["current_amps"], "current", outputs.current_amps,
                         (*loc, "current_amps"))
            out.append(OutputChange("current", amps=outputs.current_amps))
        return tuple(out)

    def _channels(self, values: dict[int | str, float], count: int, noun: str, limits: Range,
                  loc: Loc) -> tuple[tuple[int, float], ...]:
        chosen: dict[int, float] = {}
        for key, value in values.items():
            kloc = (*loc, key)
            for index in self._select(key, count, noun, kloc):
                self._within(limits, f"{noun} {index}", value, kloc)
                chosen[index] = float(value)
        return tuple(sorted(chosen.items()))

    def _select(self, key: int | str, count: int, noun: str, loc: Loc) -> list[int]:
        if isinstance(key, int):
            indexes = [key]
        elif key.strip() == "all":
            indexes = list(range(1, count + 1))
        else:
            match = _RANGE.match(key)
            if not match:
                raise self.error(f"{key!r} is not a {noun} selector; use a number, "
                                 "a range like 1..4, or all", loc)
            first, last = int(match.group(1)), int(match.group(2))
            if first > last:
                raise self.error(f"range {key!r} runs backwards", loc)
            indexes = list(range(first, last + 1))
        for index in indexes:
            if not 1 <= index <= count:
                raise self.error(f"{noun} {index} does not exist: this rig has "
                                 f"{noun}s 1..{count}", loc)
        return indexes

    def _within(self, limits: Range, what: str, value: float, loc: Loc) -> None:
        try:
            limits.check(what, value)
        except LimitError as err:
            raise self.error(str(err), loc) from None

    def _lines(self, lines: dict[str, bool], loc: Loc) -> OutputChange:
        for name in lines:
            if name not in self.ctx.output_lines:
                hint = did_you_mean(name, self.ctx.output_lines)
                raise self.error(f"no output line {name!r} on this rig{hint}; it has: "
                                 f"{', '.join(self.ctx.output_lines) or 'none'}", (*loc, name))
        return OutputChange("lines", lines=tuple(lines.items()))

    def _state_request(self, value: str | None, loc: Loc) -> str | None:
        if value is None:
            return None
        allowed = self.ctx.state_requests
        if allowed and value not in allowed:
            raise self.error(f"unknown state request {value!r}{did_you_mean(value, allowed)}; "
                             f"allowed: {', '.join(allowed)}", loc)
        return value

    def _target(self, spec: fmt.Target, loc: Loc) -> Target:
        field = "role" if spec.role is not None else "signal"
        try:
            target = self.ctx.profile.resolve(spec.name)
        except KeyError as err:
            raise self.error(str(err.args[0]), (*loc, field)) from None
        if field == "signal" and target.is_role:
            raise self.error(f"{spec.name!r} is a role; write role: {spec.name}", (*loc, field))
        if field == "role" and not target.is_role:
            raise self.error(f"{spec.name!r} is a signal; write signal: {spec.name}",
                             (*loc, field))
        return target

    def _condition(self, target: Target, value: float | str, loc: Loc):
        try:
            return condition(target, value)
        except (KeyError, ValueError) as err:
            raise self.error(str(err.args[0]), loc) from None
