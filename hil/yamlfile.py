"""YAML files that remember where every value came from.

Rig files, DUT profiles, BMS parameters and scenarios are written by people. When one is wrong
the error must say ``file:line: field: what is wrong``. PyYAML's composer gives every node a
position; we keep a map from field path to line next to the plain Python data, and turn
pydantic validation errors into one-line `ConfigError`s through it.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from hil.errors import ConfigError

try:  # the C loader is several times faster on large scenario files
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

FieldPath = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class YamlDoc:
    """Plain data loaded from a YAML file plus the line (1-based) of every field path."""

    path: Path
    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Line of the deepest prefix of `loc` that exists in the file."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get(())

    def error(self, message: str, loc: Sequence[str | int] = (),
              cls: type[ConfigError] = ConfigError) -> ConfigError:
        """A one-line error pointing at `loc` in this file."""
        return cls(message, path=self.path, line=self.line_of(loc),
                   field=format_loc(loc, self.data) or None)


def format_loc(loc: Iterable[str | int], data: Any = None) -> str:
    """('steps', 1, 'set') -> 'steps[2].set': list indexes as users count them, from 1.

    With `data`, integer mapping keys (``cell_volts: {7: 4.3}``) print as ``.7``, not as a
    list index.
    """
    out = ""
    current = data
    for part in loc:
        is_index = isinstance(part, int) and (current is None or isinstance(current, list))
        if is_index:
            out += f"[{int(part) + 1}]"
        else:
            out += ("." if out else "") + str(part)
        try:
            current = current[part] if current is not None else None
        except (KeyError, IndexError, TypeError):
            current = None
    return out


def load_yaml(path: str | os.PathLike[str], *, what: str = "YAML file",
              cls: type[ConfigError] = ConfigError) -> YamlDoc:
    """Load a YAML file, keeping line numbers; every problem becomes a one-line ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise cls(f"{what} not found", path=path) from None
    except (OSError, UnicodeDecodeError) as err:
        raise cls(f"cannot read {what}: {err}", path=path) from err
    return parse_yaml(text, path, cls=cls)


def parse_yaml(text: str, path: str | os.PathLike[str], *, cls: type[ConfigError] = ConfigError
               ) -> YamlDoc:
    """Parse YAML text (see `load_yaml`); `path` is only used in messages."""
    path = Path(path)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = err.problem or err.context or "invalid YAML"
        raise cls(f"invalid YAML: {problem}", path=path, line=line) from None
    except yaml.YAMLError as err:
        raise cls(f"invalid YAML: {err}", path=path) from None
    lines: dict[FieldPath, int] = {}
    if node is None:
        return YamlDoc(path, None, {(): 1})
    data = _Builder(path, lines, cls).build(node, ())
    return YamlDoc(path, data, lines)


class _Builder:
    """Turns composed nodes into Python data with the safe constructor, recording lines."""

    def __init__(self, path: Path, lines: dict[FieldPath, int], cls: type[ConfigError]) -> None:
        self.path = path
        self.lines = lines
        self.cls = cls
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used

    def build(self, node: yaml.Node, loc: FieldPath) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.cls("YAML merge keys (<<) are not supported",
                                   path=self.path, line=key_node.start_mark.line + 1,
                                   field=format_loc(loc) or None)
                key = self.build_scalar_key(key_node, loc)
                if key in out:
                    raise self.cls(f"duplicate key {key!r}", path=self.path,
                                   line=key_node.start_mark.line + 1,
                                   field=format_loc(loc) or None)
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)

    def build_scalar_key(self, node: yaml.Node, loc: FieldPath) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.cls("mapping keys must be plain values", path=self.path,
                           line=node.start_mark.line + 1, field=format_loc(loc) or None)
        key = self.constructor.construct_object(node)
        # YAML turns `on`/`yes` into True and 1 into int: keys stay strings or ints.
        if isinstance(key, bool):
            key = node.value
        return key


def validate(model: type[ModelT], doc: YamlDoc, *, what: str | None = None,
             cls: type[ConfigError] = ConfigError, context: dict[str, Any] | None = None
             ) -> ModelT:
    """Validate `doc.data` against a pydantic model; the first problem becomes one line."""
    if doc.data is None:
        raise cls(f"{what or 'file'} is empty", path=doc.path, line=1)
    try:
        return model.model_validate(doc.data, context=context)
    except pydantic.ValidationError as err:
        raise pydantic_to_config_error(err, doc, model, cls) from None


def pydantic_to_config_error(err: pydantic.ValidationError, doc: YamlDoc,
                             model: type[pydantic.BaseModel], cls: type[ConfigError]
                             ) -> ConfigError:
    """The first (by line) validation problem, in our one-line format."""
    problems = err.errors(include_url=False)
    # An unknown key is usually the misspelling of a missing one: report it first.
    problems.sort(key=lambda p: (p["type"] != "extra_forbidden",
                                 doc.line_of(_clean_loc(p["loc"], doc.data)) or 0))
    first = problems[0]
    loc = _clean_loc(first["loc"], doc.data)
    message = explain(first, model, loc)
    return cls(message, path=doc.path, line=doc.line_of(loc),
               field=format_loc(loc, doc.data) or None)


_TYPE_TAGS = {"float", "int", "str", "bool", "list", "dict", "none", "tuple"}


def _clean_loc(loc: Sequence[Any], data: Any) -> FieldPath:
    """The user's path in a pydantic location: union-branch and validator tags dropped.

    Walks the data: a part that is a key (or index) there is the user's; a part that is not is
    a tag, unless it is the last part of the path and names a field (a missing or extra key).
    """
    out: list[str | int] = []
    current = data
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        in_dict = isinstance(current, dict) and part in current
        in_list = (isinstance(current, list) and isinstance(part, int)
                   and 0 <= part < len(current))
        if in_dict or in_list:
            out.append(part)
            current = current[part]
        elif (last and isinstance(current, dict) and isinstance(part, str)
              and part not in _TYPE_TAGS and "[" not in part
              and not part.startswith("function-")):
            out.append(part)  # a required field that is missing
    return tuple(out)


def explain(problem: dict[str, Any], model: type[pydantic.BaseModel], loc: FieldPath) -> str:
    """A short English sentence for one pydantic error, with 'did you mean' for unknown keys."""
    kind = problem["type"]
    given = problem.get("input")
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        allowed = allowed_keys(model, loc[:-1])
        name = str(loc[-1]) if loc else "?"
        hint = did_you_mean(name, allowed)
        listing = f"; allowed: {', '.join(sorted(allowed))}" if allowed else ""
        return f"unknown field {name!r}{hint}{listing}"
    if kind in ("value_error", "assertion_error"):
        return str(problem["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    msg = str(problem["msg"])
    msg = msg[0].lower() + msg[1:] if msg else msg
    return f"{msg}, got {given!r}" if "input" in problem else msg


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def allowed_keys(model: type[pydantic.BaseModel], loc: FieldPath) -> set[str]:
    """Field names accepted at `loc` inside `model` (best effort through lists, dicts, unions)."""
    current: Any = model
    for part in loc:
        current = _step_into(current, part)
        if current is None:
            return set()
    models = [m for m in _models_in(current)]
    keys: set[str] = set()
    for m in models:
        for name, info in m.model_fields.items():
            keys.add(info.alias or name)
    return keys


def _step_into(annotation: Any, part: str | int) -> Any:
    for candidate in _models_in(annotation, containers=True):
        if isinstance(candidate, type) and issubclass(candidate, pydantic.BaseModel):
            if isinstance(part, str):
                for name, info in candidate.model_fields.items():
                    if part in (name, info.alias):
                        return info.annotation
        else:
            args = typing.get_args(candidate)
            origin = typing.get_origin(candidate)
            if origin in (list, tuple) and isinstance(part, int) and args:
                return args[0]
            if origin is dict and args:
                return args[1]
    return None


def _models_in(annotation: Any, containers: bool = False) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_models_in(arg, containers))
        return out
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0], containers)
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    if containers and origin in (list, tuple, dict):
        return [annotation]
    return []


class StrictModel(pydantic.BaseModel):
    """Base for file models: unknown keys are errors, instances are immutable."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
