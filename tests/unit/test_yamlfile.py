"""Unit tests for hil.yamlfile: line tracking, structural errors, one-line validation errors."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from hil.errors import ConfigError
from hil.yamlfile import (
    StrictModel,
    YamlDoc,
    did_you_mean,
    format_loc,
    load_yaml,
    parse_yaml,
    validate,
)

NESTED = """\
name: demo
can:
  bitrate: 500000
  channel: vcan0
steps:
  - wait: 1
  - set:
      cell: 3
    wait: 2
"""


class Can(StrictModel):
    bitrate: int
    channel: str = "vcan0"


class Step(StrictModel):
    wait: float | None = None
    set: dict[str, float] | None = None


class Rig(StrictModel):
    name: str
    can: Can
    steps: list[Step] = pydantic.Field(default_factory=list)


# --- parse_yaml / load_yaml ------------------------------------------------------------------

def test_nested_mapping_lines() -> None:
    doc = parse_yaml(NESTED, "rig.yaml")
    assert doc.data["can"] == {"bitrate": 500000, "channel": "vcan0"}
    assert doc.lines[()] == 1
    assert doc.lines[("name",)] == 1
    assert doc.lines[("can",)] == 2
    assert doc.lines[("can", "bitrate")] == 3
    assert doc.lines[("can", "channel")] == 4


def test_list_item_lines() -> None:
    doc = parse_yaml(NESTED, "rig.yaml")
    # a key's line is where the key is written, not where its (block) value starts
    assert doc.lines[("steps",)] == 5
    assert doc.lines[("steps", 0)] == 6
    assert doc.lines[("steps", 1)] == 7
    assert doc.lines[("steps", 1, "set")] == 7
    assert doc.lines[("steps", 1, "set", "cell")] == 8
    assert doc.lines[("steps", 1, "wait")] == 9


def test_line_of_falls_back_to_deepest_existing_prefix() -> None:
    doc = parse_yaml(NESTED, "rig.yaml")
    assert doc.line_of(("can", "bitrate")) == 3
    assert doc.line_of(("can", "no_such_key", "deeper")) == 2
    assert doc.line_of(("steps", 1, "set", "nope")) == 7
    assert doc.line_of(("unknown",)) == 1
    assert doc.line_of(()) == 1


def test_doc_error_is_one_line_with_file_line_and_field() -> None:
    doc = parse_yaml(NESTED, "rig.yaml")
    err = doc.error("is wrong", ("steps", 1, "wait"))
    assert isinstance(err, ConfigError)
    assert (err.line, err.field, err.reason) == (9, "steps[2].wait", "is wrong")
    assert str(err) == "rig.yaml:9: steps[2].wait: is wrong"


def test_format_loc_counts_list_indexes_from_one() -> None:
    assert format_loc(("steps", 2, "set")) == "steps[3].set"
    assert format_loc(("steps", 0)) == "steps[1]"
    assert format_loc((0, 1, "x")) == "[1][2].x"
    assert format_loc(("a", "b", "c")) == "a.b.c"
    assert format_loc(()) == ""


def test_format_loc_with_data_tells_int_keys_from_list_indexes() -> None:
    data = {"steps": [{"set": {"cell_volts": {7: 4.3}}}]}
    assert format_loc(("steps", 0, "set", "cell_volts", 7), data) == "steps[1].set.cell_volts.7"
    # past the end of the data, ints are list indexes again
    assert format_loc(("steps", 3, "x", 0), data) == "steps[4].x[1]"


def test_duplicate_key_is_an_error_at_the_second_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", "dup.yaml")
    err = info.value
    assert err.line == 4
    assert err.field == "b"
    assert "duplicate key 'c'" in str(err)
    assert str(err).startswith("dup.yaml:4: b: ")


def test_yes_and_quoted_yes_are_the_same_key() -> None:
    # `yes` would be the boolean True in YAML 1.1; keys stay strings, so this is a duplicate
    with pytest.raises(ConfigError, match="duplicate key 'yes'"):
        parse_yaml("yes: 1\n'yes': 2\n", "dup.yaml")


def test_boolean_looking_keys_stay_strings_and_int_keys_stay_ints() -> None:
    doc = parse_yaml("on: 1\n7: 2\n", "k.yaml")
    assert doc.data == {"on": 1, 7: 2}
    assert doc.lines[(7,)] == 2


def test_merge_keys_are_refused() -> None:
    text = "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n"
    with pytest.raises(ConfigError, match=r"merge keys \(<<\) are not supported") as info:
        parse_yaml(text, "merge.yaml")
    assert info.value.line == 3
    assert info.value.field == "other"


def test_non_scalar_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="mapping keys must be plain values") as info:
        parse_yaml("? [1, 2]\n: 3\n", "k.yaml")
    assert info.value.line == 1


@pytest.mark.parametrize(("text", "line"), [
    ("a: [1,\n", 2),
    ("a: 1\nb: c: d\n", 2),
    ("a:\n  - x\n y: 1\n", 3),
])
def test_invalid_yaml_error_has_a_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, "bad.yaml")
    assert info.value.line == line
    assert str(info.value).startswith(f"bad.yaml:{line}: invalid YAML: ")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_file_is_none_data(text: str) -> None:
    doc = parse_yaml(text, "empty.yaml")
    assert doc.data is None
    assert doc.line_of(("anything",)) == 1


def test_anchors_and_aliases_are_plain_data() -> None:
    doc = parse_yaml("a: &x [1, 2]\nb: *x\n", "alias.yaml")
    assert doc.data == {"a": [1, 2], "b": [1, 2]}


def test_load_yaml_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rig.yaml"
    path.write_text(NESTED, encoding="utf-8")
    doc = load_yaml(path)
    assert isinstance(doc, YamlDoc)
    assert doc.path == path
    assert doc.data["name"] == "demo"
    assert doc.lines[("can", "channel")] == 4


def test_load_yaml_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rig file not found") as info:
        load_yaml(tmp_path / "nope.yaml", what="rig file")
    assert info.value.line is None
    assert info.value.path is not None and info.value.path.endswith("nope.yaml")


def test_load_yaml_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError, match="cannot read YAML file"):
        load_yaml(path)


def test_load_yaml_custom_error_class(tmp_path: Path) -> None:
    class MyError(ConfigError):
        pass

    path = tmp_path / "x.yaml"
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    with pytest.raises(MyError):
        load_yaml(path, cls=MyError)


# --- validate ------------------------------------------------------------------------------

def _validate(text: str) -> Rig:
    return validate(Rig, parse_yaml(text, "rig.yaml"), what="rig file")


def test_validate_ok() -> None:
    rig = _validate(NESTED)
    assert rig.can.bitrate == 500000
    assert rig.steps[1].set == {"cell": 3.0}
    with pytest.raises(Exception, match="frozen"):
        rig.name = "other"  # type: ignore[misc]


def test_validate_unknown_key_did_you_mean() -> None:
    with pytest.raises(ConfigError) as info:
        _validate("name: x\ncan:\n  bitrate: 1\n  chanel: can0\n")
    err = info.value
    assert (err.line, err.field) == (4, "can.chanel")
    assert "unknown field 'chanel' (did you mean 'channel'?)" in err.reason
    assert err.reason.endswith("allowed: bitrate, channel")
    assert str(err) == f"rig.yaml:4: can.chanel: {err.reason}"
    assert "\n" not in str(err)


def test_validate_unknown_key_without_close_match_lists_allowed() -> None:
    with pytest.raises(ConfigError) as info:
        _validate("name: x\ncan: {bitrate: 1}\nzzzzzz: 1\n")
    assert info.value.reason == "unknown field 'zzzzzz'; allowed: can, name, steps"
    assert info.value.line == 3


def test_validate_unknown_key_in_list_item() -> None:
    with pytest.raises(ConfigError) as info:
        _validate("name: x\ncan: {bitrate: 1}\nsteps:\n  - wait: 1\n  - wiat: 2\n")
    err = info.value
    assert (err.line, err.field) == (5, "steps[2].wiat")
    assert "(did you mean 'wait'?)" in err.reason
    assert "allowed: set, wait" in err.reason


def test_validate_missing_required_field() -> None:
    with pytest.raises(ConfigError) as info:
        _validate("name: x\ncan:\n  channel: can0\n")
    err = info.value
    assert err.reason == "missing required field"
    assert err.field == "can.bitrate"
    assert err.line == 2  # where the enclosing mapping is written
    assert str(err) == "rig.yaml:2: can.bitrate: missing required field"


def test_validate_wrong_type_names_the_input() -> None:
    with pytest.raises(ConfigError) as info:
        _validate("name: x\ncan:\n  bitrate: fast\n")
    err = info.value
    assert (err.line, err.field) == (3, "can.bitrate")
    assert err.reason.startswith("input should be a valid integer")
    assert err.reason.endswith("got 'fast'")


def test_validate_reports_the_first_problem_by_line() -> None:
    text = "name: x\ncan:\n  bitrate: 1\nsteps:\n  - wait: later\n  - wait: soon\n"
    with pytest.raises(ConfigError) as info:
        _validate(text.replace("name: x\n", "name: x\nbogus: 1\n"))
    assert info.value.line == 2
    with pytest.raises(ConfigError) as info:
        _validate(text)
    assert (info.value.line, info.value.field) == (5, "steps[1].wait")


def test_validate_empty_file() -> None:
    with pytest.raises(ConfigError) as info:
        _validate("# nothing\n")
    assert str(info.value) == "rig.yaml:1: rig file is empty"


def test_validate_value_error_message_is_plain() -> None:
    class Positive(StrictModel):
        n: int

        @pydantic.field_validator("n")
        @classmethod
        def _positive(cls, n: int) -> int:
            if n <= 0:
                raise ValueError("n must be positive")
            return n

    with pytest.raises(ConfigError) as info:
        validate(Positive, parse_yaml("\nn: -1\n", "p.yaml"))
    assert str(info.value) == "p.yaml:2: n: n must be positive"


def test_did_you_mean() -> None:
    assert did_you_mean("bitrat", ["bitrate", "channel"]) == " (did you mean 'bitrate'?)"
    assert did_you_mean("xyz", ["bitrate", "channel"]) == ""
    assert did_you_mean("x", []) == ""


# --- bugs ----------------------------------------------------------------------------------

class Channels(StrictModel):
    cell_volts: dict[int | str, float] = pydantic.Field(default_factory=dict)
    becomes: float | str = 0.0


def test_int_dict_key_is_not_renumbered() -> None:
    with pytest.raises(ConfigError) as info:
        validate(Channels, parse_yaml("cell_volts:\n  7: high\n", "s.yaml"))
    assert info.value.line == 2
    assert info.value.field == "cell_volts.7"


def test_union_branch_name_not_in_field() -> None:
    with pytest.raises(ConfigError) as info:
        validate(Channels, parse_yaml("becomes: [1, 2]\n", "s.yaml"))
    assert info.value.field == "becomes"


def test_user_key_with_bracket_is_kept() -> None:
    with pytest.raises(ConfigError) as info:
        validate(Channels, parse_yaml("cell_volts:\n  cell[7]: high\n", "s.yaml"))
    assert info.value.field == "cell_volts.cell[7]"
    assert info.value.line == 2
