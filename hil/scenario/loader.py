"""Loading scenario files: YAML with lines -> matrix expansion -> `${}` -> shape -> meaning.

Every mistake is reported at collection time as one line naming the file, the line and the
field: a typo in a role gets a "did you mean", a cell the rig does not have, a voltage above the
rig's limit or a value in the wrong unit is refused before anything runs.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil import units
from hil.capabilities import Range
from hil.conditions import Condition, condition
from hil.errors import ConfigError, HilError, LimitError, ScenarioError
from hil.faults import FAULT_KINDS
from hil.plant import builtin_cycle, pack_preset, read_fastsim_cycle, read_pybamm_profile
from hil.profile import Profile, Target
from hil.rig.config import RigConfig
from hil.scenario import checks as chk
from hil.scenario import format as fmt
from hil.scenario.model import (
    CanCommand,
    ChargeCommand,
    CompiledStep,
    DriveCommand,
    FaultCommand,
    OutputChange,
    PlantConfig,
    ProfilePlay,
    Scenario,
    WaitCondition,
)
from hil.scenario.params import SubstitutionError, substitute, substitute_tree
from hil.scenario.plant_loop import dut_cell
from hil.yamlfile import YamlDoc, did_you_mean, load_yaml, validate

_RANGE = re.compile(r"^\s*(\d+)\s*(?:\.\.|-)\s*(\d+)\s*$")
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")
_OPS = (">=", "<=", "==", "!=", ">", "<")
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

    @property
    def periodic_messages(self) -> list[str]:
        """Messages the rig sends periodically on its own (VCU request, current sensor)."""
        names = []
        for key in ("state_request", "current_sensor"):
            with contextlib.suppress(KeyError):  # the profile may have no current sensor
                names.append(self.profile.input_message(key)[1].name)
        return names


def load_scenarios(path: str | os.PathLike[str], ctx: ScenarioContext) -> list[Scenario]:
    """All scenarios a file defines: one, or one per combination of its `matrix`."""
    path = Path(path)
    doc = load_yaml(path, what="scenario file", cls=ScenarioError)
    if not isinstance(doc.data, dict):
        raise ScenarioError("a scenario file is a mapping with at least `scenario` and `steps`",
                            path=path, line=1)
    combinations = _matrix(doc)
    scenarios = []
    for values in combinations:
        namespace = _namespace(doc, ctx, values)

        def error(message: str, loc: tuple) -> ScenarioError:
            return doc.error(message, loc, ScenarioError)  # type: ignore[return-value]

        raw_data = {k: v for k, v in doc.data.items() if k not in ("matrix", "id")}
        data = substitute_tree(raw_data, namespace, error)
        if "matrix" in doc.data:
            data["matrix"] = doc.data["matrix"]
        checked_doc = YamlDoc(doc.path, data, doc.lines)
        raw = validate(fmt.ScenarioFile, checked_doc, what="scenario file", cls=ScenarioError)
        item_id = _item_id(doc, values, namespace) if values else None
        scenarios.append(_Compiler(checked_doc, ctx).scenario(raw, item_id))
    return scenarios


def _matrix(doc: YamlDoc) -> list[dict[str, Any]]:
    matrix = doc.data.get("matrix")
    if matrix is None:
        return [{}]
    if not isinstance(matrix, dict) or not matrix:
        raise doc.error("expected a mapping of name: list of values (or a range like 1..16)",
                        ("matrix",), ScenarioError)
    axes: list[tuple[str, list[Any]]] = []
    for name, values in matrix.items():
        if isinstance(values, str) and (match := _RANGE.match(values)):
            first, last = int(match.group(1)), int(match.group(2))
            values = list(range(first, last + 1))
        if not isinstance(values, list) or not values:
            raise doc.error("expected a non-empty list of values or a range like 1..16",
                            ("matrix", name), ScenarioError)
        axes.append((str(name), values))
    return [dict(zip([a for a, _ in axes], combo, strict=True))
            for combo in itertools.product(*(v for _, v in axes))]


def _item_id(doc: YamlDoc, values: dict[str, Any], namespace: dict[str, Any]) -> str:
    template = doc.data.get("id")
    if template is None:
        return ",".join(f"{k}={v}" for k, v in values.items())
    try:
        return str(substitute(str(template), namespace))
    except SubstitutionError as err:
        raise doc.error(str(err), ("id",), ScenarioError) from None


def _namespace(doc: YamlDoc, ctx: ScenarioContext, matrix: dict[str, Any]) -> dict[str, Any]:
    namespace: dict[str, Any] = {"limits": ctx.profile.limits, "nominal": ctx.profile.nominal}
    for name, value in matrix.items():
        if name in namespace:
            raise doc.error(f"matrix name {name!r} is reserved", ("matrix", name), ScenarioError)
        namespace[name] = value
    params = doc.data.get("parameters") or {}
    if not isinstance(params, dict):
        raise doc.error("expected a mapping of name: value", ("parameters",), ScenarioError)
    for name, value in params.items():
        if name in namespace:
            raise doc.error(f"parameter name {name!r} is reserved or already a matrix name",
                            ("parameters", name), ScenarioError)
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
        self.sent_periodic: list[str] = []
        self.plant: PlantConfig | None = None

    def error(self, message: str, loc: Loc) -> ScenarioError:
        return self.doc.error(message, loc, ScenarioError)  # type: ignore[return-value]

    # --- whole file -----------------------------------------------------------------------
    def scenario(self, raw: fmt.ScenarioFile, item_id: str | None) -> Scenario:
        setup = raw.setup
        request = self._state_request(setup.state_request, ("setup", "state_request"))
        wait = None
        if setup.wait_until is not None:
            wait = self._wait(setup.wait_until, ("setup", "wait_until"))
        plant = self._plant(raw.plant) if raw.plant is not None else None
        self.plant = plant
        requires = list(raw.requires)
        for i, kind in enumerate(requires):
            self._fault_kind(kind, ("requires", i))
        steps = []
        previous_at = 0.0
        segment = 0
        for i, raw_step in enumerate(raw.steps):
            step = self._step(i, raw_step, previous_at, segment)
            previous_at = step.at
            if step.wait_until is not None:  # later at_seconds count from the end of the wait
                segment += 1
                previous_at = 0.0
            if step.fault is not None and step.fault.kind not in requires:
                requires.append(step.fault.kind)
            steps.append(step)
        if plant is not None:
            self._plant_owns_outputs(raw)
        return Scenario(
            path=self.doc.path, title=raw.scenario, description=raw.description,
            requirement=raw.requirement, tags=tuple(raw.tags), item_id=item_id,
            requires=tuple(requires),
            setup_changes=self._changes(setup, ("setup",)), setup_request=request,
            wait_until=wait, plant=plant, steps=tuple(steps))

    # --- steps ----------------------------------------------------------------------------
    def _step(self, i: int, raw: fmt.Step, previous_at: float, segment: int) -> CompiledStep:
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
        fields: dict[str, Any] = {}
        if raw.set is not None:
            changes = self._changes(raw.set, (*loc, "set"))
            if raw.set.lines:
                changes += (self._lines(raw.set.lines, (*loc, "set", "lines")),)
            fields["changes"] = changes
        elif raw.ramp is not None:
            fields["changes"] = self._changes(raw.ramp, (*loc, "ramp"), required=True)
            fields["ramp_seconds"] = raw.ramp.over_seconds
        elif raw.hold is not None:
            fields["changes"] = self._changes(raw.hold, (*loc, "hold"), required=True)
            fields["hold_seconds"] = raw.hold.for_seconds
        elif raw.profile is not None:
            fields["profile"] = self._profile(raw.profile, (*loc, "profile"))
        elif raw.request_state is not None:
            fields["request_state"] = self._state_request(raw.request_state,
                                                          (*loc, "request_state"))
        elif raw.fault_reset:
            fields["fault_reset"] = True
        elif raw.can is not None:
            fields["can"] = self._can(raw.can, (*loc, "can"))
        elif raw.inject is not None:
            fields["fault"] = self._fault(raw.inject, True, (*loc, "inject"))
        elif raw.clear is not None:
            fields["fault"] = self._fault(raw.clear, False, (*loc, "clear"))
        elif raw.wait_until is not None:
            fields["wait_until"] = self._wait(raw.wait_until, (*loc, "wait_until"))
        elif raw.drive is not None:
            fields["drive"] = self._drive(raw.drive, (*loc, "drive"))
        elif raw.charge is not None:
            fields["charge"] = self._charge(raw.charge, (*loc, "charge"))
        checks = [self._check(c, (*loc, "expect", j), label) for j, c in enumerate(raw.expect)]
        return CompiledStep(number=i + 1, name=name, at=at, line=self.doc.line_of(loc),
                            segment=segment, checks=tuple(checks), **fields)

    def _changes(self, outputs: fmt.Outputs, loc: Loc, required: bool = False
                 ) -> tuple[OutputChange, ...]:
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
            amps = self._quantity(outputs.current_amps, "A", (*loc, "current_amps"))
            self._within(self.ctx.ranges["current_amps"], "current", amps,
                         (*loc, "current_amps"))
            out.append(OutputChange("current", amps=amps))
        if required and not out:
            raise self.error("needs cell_volts, temperature_celsius or current_amps", loc)
        return tuple(out)

    def _channels(self, values: dict[int | str, Any], count: int, noun: str, limits: Range,
                  loc: Loc) -> tuple[tuple[int, float], ...]:
        chosen: dict[int, float] = {}
        for key, raw_value in values.items():
            kloc = (*loc, key)
            value = self._quantity(raw_value, limits.unit, kloc)
            for index in self._select(key, count, noun, kloc):
                self._within(limits, f"{noun} {index}", value, kloc)
                chosen[index] = value
        return tuple(sorted(chosen.items()))

    def _select(self, key: int | str, count: int, noun: str, loc: Loc) -> list[int]:
        indexes: list[int] = []
        if isinstance(key, int):
            indexes = [key]
        elif key.strip() == "all":
            indexes = list(range(1, count + 1))
        else:
            for part in key.split(","):
                match = _RANGE.match(part)
                if match:
                    first, last = int(match.group(1)), int(match.group(2))
                    if first > last:
                        raise self.error(f"range {part.strip()!r} runs backwards", loc)
                    indexes.extend(range(first, last + 1))
                elif part.strip().isdigit():
                    indexes.append(int(part))
                else:
                    raise self.error(f"{key!r} is not a {noun} selector; use a number, a range "
                                     "like 1..4, a list like 1,3,5, or all", loc)
        for index in indexes:
            if not 1 <= index <= count:
                raise self.error(f"{noun} {index} does not exist: this rig has "
                                 f"{noun}s 1..{count}", loc)
        return indexes

    def _quantity(self, value: Any, unit: str, loc: Loc) -> float:
        """A number in `unit`: plain, or written with a compatible unit ("300 mV")."""
        if isinstance(value, bool):
            raise self.error(f"expected a number in {unit}, got {value!r}", loc)
        if isinstance(value, (int, float)):
            return float(value)
        match = _QUANTITY.match(str(value))
        if not match:
            raise self.error(f"expected a number in {unit} (or with a unit, like '300 mV'), "
                             f"got {value!r}", loc)
        number, written = float(match.group(1)), (match.group(2) or "").strip()
        if not written:
            return number
        try:
            return number * units.factor(written, unit)
        except ValueError as err:
            raise self.error(f"{value!r}: {err}", loc) from None

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

    def _profile(self, raw: fmt.ProfileAction, loc: Loc) -> ProfilePlay:
        path = (self.doc.path.parent / raw.csv).resolve()
        if not path.is_file():
            raise self.error(f"CSV file {raw.csv!r} not found (relative to "
                             f"{self.doc.path.parent})", (*loc, "csv"))
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = [r for r in csv.reader(fh) if r and not r[0].lstrip().startswith("#")]
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            raise self.error(f"cannot read {path.name} as UTF-8 CSV: {err}",
                             (*loc, "csv")) from None
        header: list[str] | None = None
        if rows and not _numeric(rows[0]):
            header, rows = [h.strip() for h in rows[0]], rows[1:]
        columns = []
        for field, column in (("time_column", raw.time_column),
                              ("value_column", raw.value_column)):
            if isinstance(column, str):
                if header is None or column not in header:
                    hint = did_you_mean(column, header or [])
                    raise self.error(f"{path.name} has no column {column!r}{hint}; columns: "
                                     f"{', '.join(header or ['(no header row)'])}", (*loc, field))
                columns.append(header.index(column))
            else:
                columns.append(column)
        times: list[float] = []
        values: list[float] = []
        for number, row in enumerate(rows, start=2 if header else 1):
            try:
                t, v = float(row[columns[0]]), float(row[columns[1]])
            except (IndexError, ValueError):
                raise self.error(f"{path.name} row {number}: expected numbers in columns "
                                 f"{columns[0]} and {columns[1]}, got {row}", (*loc, "csv")
                                 ) from None
            times.append(t)
            values.append(raw.scale * v + raw.offset)
        if len(times) < 2:
            raise self.error(f"{path.name}: a profile needs at least two rows", (*loc, "csv"))
        if any(b <= a for a, b in itertools.pairwise(times)):
            raise self.error(f"{path.name}: time must increase from row to row", (*loc, "csv"))
        start = times[0]
        times = [t - start for t in times]
        if raw.duration_seconds is not None and raw.duration_seconds < times[-1]:
            # cut at the duration itself, with the value the play would have there
            end = raw.duration_seconds
            cut = ProfilePlay("current", tuple(times), tuple(values),
                              interpolate=raw.interpolate).value_at(end)
            keep = [i for i, t in enumerate(times) if t < end]
            times = [times[i] for i in keep] + [end]
            values = [values[i] for i in keep] + [cut]
        kind, limits, channels = {
            "current_amps": ("current", self.ctx.ranges["current_amps"], ()),
            "cell_volts": ("cells", self.ctx.ranges["cell_volts"], tuple(self._select(
                raw.channels, self.ctx.cell_count, "cell", (*loc, "channels")))),
            "temperature_celsius": ("temperatures", self.ctx.ranges["temperature_celsius"],
                                    tuple(self._select(raw.channels, self.ctx.temperature_count,
                                                       "temperature sensor",
                                                       (*loc, "channels")))),
        }[raw.target]
        low, high = min(values), max(values)
        for value in (low, high):
            self._within(limits, f"{path.name} (scaled)", value, (*loc, "scale"))
        return ProfilePlay(kind, tuple(times), tuple(values), channels,  # type: ignore[arg-type]
                           raw.interpolate, path.name)

    # --- plant ----------------------------------------------------------------------------
    def _plant(self, raw: fmt.PlantSetup) -> PlantConfig:
        loc: Loc = ("plant",)
        if self.ctx.profile.spec.pack is None:
            raise self.error(f"the DUT profile {self.ctx.profile.path.name} has no pack: "
                             "section (cell set, capacity): a plant scenario needs it", loc)
        try:
            pack_preset(raw.preset)
        except HilError as err:
            raise self.error(str(err), (*loc, "preset")) from None
        try:
            dut_cell(self.ctx.profile)
        except HilError as err:
            raise self.error(f"the DUT profile's pack: cell: {err}", loc) from None
        weak = None
        if raw.weak_cell is not None:
            self._select(raw.weak_cell.cell, self.ctx.cell_count, "cell",
                         (*loc, "weak_cell", "cell"))
            weak = (raw.weak_cell.cell, raw.weak_cell.capacity_percent / 100.0)
        return PlantConfig(raw.preset, raw.initial_soc_percent / 100.0, raw.seed, raw.spread,
                           raw.ambient_celsius, weak)

    def _plant_owns_outputs(self, raw: fmt.ScenarioFile) -> None:
        """With a plant, cells, temperatures and current are the plant's: refuse writes."""
        owned = ("cell_volts", "temperature_celsius", "current_amps")
        places: list[tuple[Any, Loc]] = [(raw.setup, ("setup",))]
        for i, step in enumerate(raw.steps):
            for action in ("set", "ramp", "hold"):
                if getattr(step, action) is not None:
                    places.append((getattr(step, action), ("steps", i, action)))
            if step.profile is not None:
                raise self.error("the plant drives cells, temperatures and current; a CSV "
                                 "profile cannot (use drive: current_csv)",
                                 ("steps", i, "profile"))
        for outputs, loc in places:
            for name in owned:
                if getattr(outputs, name) is not None:
                    raise self.error(f"the plant drives {name} in this scenario; remove it "
                                     "(or the plant: block)", (*loc, name))

    def _needs_plant(self, loc: Loc) -> PlantConfig:
        if self.plant is None:
            raise self.error("drive and charge act on the plant: add a plant: block (preset, "
                             "initial_soc_percent) to the scenario", loc)
        return self.plant

    def _drive(self, raw: fmt.DriveAction, loc: Loc) -> DriveCommand:
        plant = self._needs_plant(loc)
        if raw.cycle is not None:
            if pack_preset(plant.preset).vehicle is None:
                raise self.error(f"preset {plant.preset!r} has no vehicle to drive a speed "
                                 "cycle; use current_csv", (*loc, "cycle"))
            try:
                if raw.cycle.endswith(".csv") or "/" in raw.cycle:
                    cycle = read_fastsim_cycle(self.doc.path.parent / raw.cycle)
                else:
                    cycle = builtin_cycle(raw.cycle)
            except (ConfigError, HilError) as err:
                raise self.error(str(err), (*loc, "cycle")) from None
            if raw.start_seconds >= cycle.duration:
                raise self.error(f"start_seconds {raw.start_seconds:g} is past the end of the "
                                 f"cycle ({cycle.duration:g} s)", (*loc, "start_seconds"))
            return DriveCommand(raw.duration_seconds, Path(raw.cycle).stem, cycle=cycle,
                                start=raw.start_seconds)
        assert raw.current_csv is not None
        try:
            profile = read_pybamm_profile(self.doc.path.parent / raw.current_csv)
        except (ConfigError, HilError) as err:
            raise self.error(str(err), (*loc, "current_csv")) from None
        if profile.unit == "A":
            peak = float(abs(profile.values).max()) * raw.scale
            self._within(self.ctx.ranges["current_amps"], f"{raw.current_csv} (scaled)", peak,
                         (*loc, "scale"))
        return DriveCommand(raw.duration_seconds, Path(raw.current_csv).name,
                            profile=profile.scaled(raw.scale), start=raw.start_seconds)

    def _charge(self, raw: fmt.ChargeAction, loc: Loc) -> ChargeCommand:
        self._needs_plant(loc)
        amps = kilowatts = volts = None
        if raw.amps is not None:
            amps = abs(self._quantity(raw.amps, "A", (*loc, "amps")))
            self._within(self.ctx.ranges["current_amps"], "charge current", -amps,
                         (*loc, "amps"))
        if raw.kilowatts is not None:
            kilowatts = abs(self._quantity(raw.kilowatts, "kW", (*loc, "kilowatts")))
        if raw.until_cell_volts is not None:
            volts = self._quantity(raw.until_cell_volts, "V", (*loc, "until_cell_volts"))
            self._within(self.ctx.ranges["cell_volts"], "CV cell voltage", volts,
                         (*loc, "until_cell_volts"))
        cutoff = (abs(self._quantity(raw.cutoff_amps, "A", (*loc, "cutoff_amps")))
                  if raw.cutoff_amps is not None else 0.0)
        return ChargeCommand(raw.duration_seconds, amps, kilowatts, volts, cutoff,
                             raw.follow_bms_limit)

    def _can(self, raw: fmt.CanAction, loc: Loc) -> CanCommand:
        verb = next(v for v in ("send", "stop", "start", "corrupt", "length")
                    if getattr(raw, v) is not None)
        name = str(getattr(raw, verb))
        try:
            message = self.ctx.profile.database.message(name)
        except KeyError as err:
            raise self.error(str(err.args[0]), (*loc, verb)) from None
        if verb == "send":
            names = {s.name for s in message.signals}
            values: dict[str, Any] = dict.fromkeys(names, 0)
            for signal, value in raw.signals.items():
                if signal not in names:
                    raise self.error(f"no signal {signal!r} in {name}"
                                     f"{did_you_mean(signal, names)}", (*loc, "signals", signal))
                values[signal] = value
            try:
                message.encode(values, scaling=True, padding=False, strict=True)
            except Exception as err:  # cantools: EncodeError, KeyError for bad labels...
                raise self.error(f"{name} cannot be encoded with these values: {err}",
                                 (*loc, "signals")) from None
            if raw.period_seconds:
                self.sent_periodic.append(name)
            return CanCommand("send", name, tuple(raw.signals.items()), raw.period_seconds)
        known = [*self.ctx.periodic_messages, *self.sent_periodic]
        if name not in known:
            raise self.error(f"{name} is not a message the rig sends periodically "
                             f"({', '.join(known) or 'none'})", (*loc, verb))
        return CanCommand(verb, name, field=raw.field, length=raw.bytes, frames=raw.frames)

    def _fault_kind(self, kind: str, loc: Loc) -> None:
        if kind not in FAULT_KINDS:
            raise self.error(f"unknown fault {kind!r}{did_you_mean(kind, FAULT_KINDS)}; known: "
                             f"{', '.join(FAULT_KINDS)}", loc)

    def _fault(self, raw: fmt.FaultAction, inject: bool, loc: Loc) -> FaultCommand:
        self._fault_kind(raw.fault, (*loc, "fault"))
        noun = FAULT_KINDS[raw.fault][1]
        if noun is not None:
            count = self.ctx.cell_count if noun == "cell" else self.ctx.temperature_count
            if raw.index is None:
                raise self.error(f"{raw.fault} needs index: the {noun} number", loc)
            if raw.index > count:
                raise self.error(f"{noun} {raw.index} does not exist: this rig has "
                                 f"{noun}s 1..{count}", (*loc, "index"))
        elif raw.index is not None:
            raise self.error(f"{raw.fault} takes no index", (*loc, "index"))
        value = self._quantity(raw.value, "A", (*loc, "value"))
        return FaultCommand(inject, raw.fault, raw.index, value)

    # --- targets, values and checks -------------------------------------------------------
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

    def _condition(self, target: Target, value: Any, loc: Loc) -> Condition:
        """A value, enum name or comparison, with units converted to the target's."""
        spec: Any = value
        if isinstance(value, str):
            text = value.strip()
            op = next((o for o in _OPS if text.startswith(o)), None)
            rest = text[len(op):].strip() if op else text
            if _QUANTITY.match(rest) and target.ref.choice_value(rest) is None:
                number = self._target_quantity(target, rest, loc)
                spec = (op or "==", number)
            elif op:
                spec = (op, rest)
        try:
            return condition(target, spec)
        except (KeyError, ValueError) as err:
            raise self.error(str(err.args[0]), loc) from None

    def _target_quantity(self, target: Target, text: str, loc: Loc) -> float:
        match = _QUANTITY.match(text)
        if not match:
            raise self.error(f"expected a number (or one with a unit, like '4.2 V'), got "
                             f"{text!r}", loc)
        if match.group(2) and not target.unit:
            raise self.error(f"{target.describe()} has no unit; write a plain number, not "
                             f"{text!r}", loc)
        return self._quantity(text, target.unit, loc) if target.unit else float(match.group(1))

    def _wait(self, raw: fmt.WaitUntil, loc: Loc) -> WaitCondition:
        target = self._target(raw, loc)
        return WaitCondition(target, self._condition(target, raw.is_, (*loc, "is")),
                             raw.within_seconds)

    def _check(self, raw: Any, loc: Loc, label: str) -> chk.Check:
        line = self.doc.line_of(loc)
        if isinstance(raw, fmt.Becomes):
            target = self._target(raw, loc)
            return chk.Becomes(target, self._condition(target, raw.becomes, (*loc, "becomes")),
                               raw.within_seconds, label, line)
        if isinstance(raw, fmt.Stays | fmt.Never):
            target = self._target(raw, loc)
            verb = "stays" if isinstance(raw, fmt.Stays) else "never"
            cond = self._condition(target, getattr(raw, verb), (*loc, verb))
            cls = chk.Stays if verb == "stays" else chk.Never
            return cls(target, cond, raw.after_seconds, raw.for_seconds, label, line)
        if isinstance(raw, fmt.InRange):
            target = self._target(raw, loc)
            low = self._target_quantity(target, str(raw.in_range[0]), (*loc, "in_range"))
            high = self._target_quantity(target, str(raw.in_range[1]), (*loc, "in_range"))
            if low > high:
                raise self.error(f"in_range low {low:g} is above high {high:g}",
                                 (*loc, "in_range"))
            cond = Condition("between", low, target,
                             f"{low:g}..{high:g} {target.unit}".strip(), high=high)
            return chk.InRange(target, cond, raw.after_seconds, raw.for_seconds, label, line)
        if isinstance(raw, fmt.Tracks):
            return self._tracks(raw, loc, label, line)
        if isinstance(raw, fmt.Follows):
            return self._follows(raw, loc, label, line)
        assert isinstance(raw, fmt.CycleTime)
        return self._cycle_time(raw, loc, label, line)

    def _tracks(self, raw: fmt.Tracks, loc: Loc, label: str, line: int | None) -> chk.Check:
        count = self.ctx.cell_count if raw.tracks == "cell_volts" else self.ctx.temperature_count
        noun = "cell" if raw.tracks == "cell_volts" else "temperature sensor"
        role_count = self.ctx.profile.role_count(raw.role)
        if role_count is None:
            hint = did_you_mean(raw.role, self.ctx.profile.spec.roles)
            raise self.error(f"{raw.role!r} is not a numbered role of the DUT profile{hint}",
                             (*loc, "role"))
        indexes = self._select(raw.channels, min(count, role_count), noun, (*loc, "channels"))
        targets = [(i, self.ctx.profile.resolve(f"{raw.role}[{i}]")) for i in indexes]
        unit = "V" if raw.tracks == "cell_volts" else "degC"
        if targets[0][1].unit and targets[0][1].unit != unit:
            try:
                units.factor(targets[0][1].unit, unit)
            except ValueError as err:
                raise self.error(f"{raw.role} cannot track {raw.tracks}: {err}",
                                 (*loc, "role")) from None
        tolerance = self._quantity(raw.tolerance, unit, (*loc, "tolerance"))
        return chk.Tracks(raw.tracks, targets, tolerance, raw.after_seconds, raw.for_seconds,
                          label, line)

    def _follows(self, raw: fmt.Follows, loc: Loc, label: str, line: int | None) -> chk.Check:
        self._needs_plant((*loc, "follows"))
        target = self._target(raw, loc)
        unit = "%" if raw.follows == "plant.soc" else "A"
        if target.unit and target.unit != unit:
            try:
                units.factor(target.unit, unit)
            except ValueError as err:
                raise self.error(f"{target.name} cannot follow {raw.follows}: {err}",
                                 (*loc, "follows")) from None
        tolerance = self._quantity(raw.tolerance, unit, (*loc, "tolerance"))
        return chk.Follows(target, raw.follows, unit, tolerance, raw.change_tolerance_percent,
                           raw.lag_seconds, raw.after_seconds, raw.for_seconds, label, line)

    def _cycle_time(self, raw: fmt.CycleTime, loc: Loc, label: str, line: int | None
                    ) -> chk.Check:
        try:
            message = self.ctx.profile.database.message(raw.cycle_time)
        except KeyError as err:
            raise self.error(str(err.args[0]), (*loc, "cycle_time")) from None
        expected = raw.expected_seconds
        if expected is None:
            if not message.cycle_time:
                raise self.error(f"{message.name} has no GenMsgCycleTime in the DBC; give "
                                 "expected_seconds", (*loc, "cycle_time"))
            expected = message.cycle_time / 1000.0
        mux = next((s for s in message.signals if s.is_multiplexer), None)
        frame_signal = mux if mux is not None else message.signals[0]
        return chk.CycleTime(message.name, f"{message.name}.{frame_signal.name}",
                             mux is not None, expected, raw.tolerance_percent,
                             raw.after_seconds, raw.for_seconds, label, line)


def _numeric(row: list[str]) -> bool:
    try:
        for cell in row:
            float(cell)
    except ValueError:
        return False
    return True
