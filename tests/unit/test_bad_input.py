"""The malformed-file corpus: every mistake gets one line naming file, line and field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.profile import Profile
from hil.rig.config import load_rig_config
from hil.scenario.loader import ScenarioContext, load_scenarios
from hil.sim.bms.params import load_params

REPO = Path(__file__).resolve().parents[2]

GOOD_STEPS = """\
scenario: t
steps:
  - at_seconds: 0.5
    set:
      cell_volts: {7: 4.3}
    expect:
      - role: fault.over_voltage
        becomes: ACTIVE
        within_seconds: 0.5
"""

# (name, file text, expected line, expected "field: message" fragment)
SCENARIO_CASES = [
    ("yaml syntax", "scenario: t\nsteps:\n  - at_seconds: [1\n", 4, "invalid YAML"),
    ("unknown key", "scenario: t\nstep: []\n", 2,
     "step: unknown field 'step' (did you mean 'steps'?)"),
    ("missing steps", "scenario: t\n", 1, "steps: missing required field"),
    ("duplicate key", "scenario: t\nscenario: u\nsteps: []\n", 2, "duplicate key 'scenario'"),
    ("unknown role", GOOD_STEPS.replace("fault.over_voltage", "fault.over_voltag"), 7,
     "steps[1].expect[1].role: unknown role or signal 'fault.over_voltag' "
     "(did you mean 'fault.over_voltage'?)"),
    ("unknown signal",
     GOOD_STEPS.replace("role: fault.over_voltage", "signal: BMS_Faults.Fault_CellOverVoltag"),
     7, "steps[1].expect[1].signal: no signal 'Fault_CellOverVoltag' in message BMS_Faults "
        "(did you mean 'BMS_Faults.Fault_CellOverVoltage'?)"),
    ("role given as signal", GOOD_STEPS.replace("role: fault", "signal: fault"), 7,
     "steps[1].expect[1].signal: 'fault.over_voltage' is a role; write role: "),
    ("cell not on rig", GOOD_STEPS.replace("{7: 4.3}", "{17: 4.3}"), 5,
     "steps[1].set.cell_volts.17: cell 17 does not exist: this rig has cells 1..16"),
    ("above rig limit", GOOD_STEPS.replace("{7: 4.3}", "{7: 6.0}"), 5,
     "steps[1].set.cell_volts.7: cell 7: 6 V is above the limit 5 V"),
    ("bad selector", GOOD_STEPS.replace("{7: 4.3}", "{'1 to 4': 4.3}"), 5,
     "'1 to 4' is not a cell selector; use a number, a range like 1..4, a list like 1,3,5, "
     "or all"),
    ("unknown enum", GOOD_STEPS.replace("ACTIVE", "ACTIV"), 8,
     "steps[1].expect[1].becomes: fault.over_voltage (BMS_Faults.Fault_CellOverVoltage) has "
     "no value 'ACTIV' (did you mean 'ACTIVE'?)"),
    ("unknown limit", GOOD_STEPS.replace("4.3}", "'${limits.cell_ov_volt}'}"), 5,
     "steps[1].set.cell_volts.7: limits has no 'cell_ov_volt' (did you mean 'cell_ov_volts'?)"),
    ("no eval", GOOD_STEPS.replace("4.3}", "'${__import__(\"os\").getcwd()}'}"), 5,
     "only numbers, + - * / ( ) and names like limits.cell_ov_volts are allowed"),
    ("two actions", GOOD_STEPS.replace("    set:", "    request_state: drive\n    set:"), 3,
     "steps[1]: a step does one thing; this one has set and request_state"),
    ("negative window", GOOD_STEPS.replace("within_seconds: 0.5", "within_seconds: -1"), 9,
     "steps[1].expect[1].within_seconds: input should be greater than 0, got -1"),
    ("not a number", GOOD_STEPS.replace("4.3}", "high}"), 5,
     "steps[1].set.cell_volts.7: expected a number in V (or with a unit, like '300 mV'), "
     "got 'high'"),
    ("state request", GOOD_STEPS.replace("    set:\n      cell_volts: {7: 4.3}\n",
                                         "    request_state: drivee\n"), 4,
     "steps[1].request_state: unknown state request 'drivee' (did you mean 'drive'?)"),
    ("time order", GOOD_STEPS + "  - at_seconds: 0.1\n", 10,
     "steps[2].at_seconds: 0.1 s is before the previous step (0.5 s)"),
    ("not a mapping", "- just\n- a list\n", 1, "a scenario file is a mapping"),
]


@pytest.fixture(scope="module")
def context() -> ScenarioContext:
    rig = load_rig_config(REPO / "rigs" / "sim.yaml")
    return ScenarioContext.for_rig(rig, Profile.load(rig.resolve(rig.file.dut.profile)))


def _one_line(err: ConfigError, path: Path, line: int, fragment: str) -> None:
    text = str(err)
    assert "\n" not in text
    assert text.startswith(f"{path}:{line}: "), text
    assert fragment in text, text


@pytest.mark.parametrize(("name", "text", "line", "fragment"), SCENARIO_CASES,
                         ids=[c[0] for c in SCENARIO_CASES])
def test_scenario_mistakes(tmp_path: Path, context: ScenarioContext, name: str, text: str,
                           line: int, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_scenarios(path, context)
    _one_line(info.value, path, line, fragment)


def test_good_base_scenario_loads(tmp_path: Path, context: ScenarioContext) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD_STEPS)
    (scenario,) = load_scenarios(path, context)
    assert scenario.steps[0].checks[0].window_seconds == 0.5


def _rig_text(tmp_path: Path) -> str:
    text = (REPO / "rigs" / "sim.yaml").read_text()
    return text.replace("../dbc/", f"{REPO / 'dbc'}/")


RIG_CASES = [
    ("unknown driver", ("driver: sim-hub", "driver: sim-hb"),
     r"can\.driver: unknown can driver 'sim-hb' \(did you mean 'sim-hub'\?\); known: "),
    ("missing limits", ("limits:\n", "limitz:\n"),
     r"limitz: unknown field 'limitz' \(did you mean 'limits'\?\)"),
    ("safe outside limits", ("cell_volts: 3.7 ", "cell_volts: 5.7 "),
     r"safe_state.cell_volts 5.7 is outside limits.cell_volts \[0, 5\]"),
    ("bad count", ("count: 16", "count: 0"),
     r"cells\.count: input should be greater than or equal to 1, got 0"),
    ("udp multicast", ("driver: sim-hub ",
                       "driver: python-can\n  interface: udp_multicast\n  channel: x\n "),
     r"can\.interface: udp_multicast sends onto the LAN"),
    ("unknown defect", ("defects: []", "defects: [slow-0v]"),
     r"dut_power\.defects: unknown BMS defect 'slow-0v' \(did you mean 'slow-ov'\?\)"),
    ("unknown ntc model", ("model: beta", "model: betta"),
     r"temperatures\.ntc"),
    ("missing profile", ("bms.profile.yaml", "nope.profile.yaml"),
     r"dut\.profile: DUT profile '.*nope.profile.yaml' not found"),
    ("gpio bit 7 input", ("fault_output:  {chip: 0, pin: B3}", "fault_output:  {chip: 0, pin: B7}"),
     r"lines\.inputs\.fault_output\.pin: B7 is output-only"),
    ("cells beyond chips", ("count: 16", "count: 17"),
     r"cells: 4 chips have 16 channels, fewer than 17 cells"),
    ("two gpio chips at one address", ("- {bus: 1, address: 0x21}", "- {bus: 1, address: 0x20}"),
     r"lines: .*0x20.* answers the same address as .*0x20.* \(lines\)"),
    ("read-back from a missing chip",
     ("divider: 0.5", "cells: {1: {chip: 9, ain: 0}}\n  divider: 0.5"),
     r"readback: cells: cell 1 reads chip 9, but chips are numbered 0..3"),
    ("two adcs at one address", ("- {bus: 1, address: 0x49}", "- {bus: 1, address: 0x48}"),
     r"readback: .*0x48.* answers the same address as .*0x48.* \(readback\)"),
]


@pytest.mark.parametrize(("name", "change", "pattern"), RIG_CASES,
                         ids=[c[0] for c in RIG_CASES])
def test_rig_mistakes(tmp_path: Path, name: str, change: tuple[str, str], pattern: str) -> None:
    text = _rig_text(tmp_path)
    assert change[0] in text, change[0]
    path = tmp_path / "rig.yaml"
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError) as info:
        load_rig_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert re.match(rf"^{re.escape(str(path))}:\d+: ", message), message
    assert re.search(pattern, message), message


def test_rig_error_names_the_right_line(tmp_path: Path) -> None:
    text = _rig_text(tmp_path).replace("count: 16", "count: many")
    path = tmp_path / "rig.yaml"
    path.write_text(text)
    expected_line = text.splitlines().index("  count: many") + 1
    with pytest.raises(ConfigError) as info:
        load_rig_config(path)
    assert str(info.value).startswith(f"{path}:{expected_line}: cells.count: ")


def test_profile_with_unknown_signal(tmp_path: Path) -> None:
    text = (REPO / "dbc" / "bms.profile.yaml").read_text()
    text = text.replace("dbc: [bms.dbc]", f"dbc: [{REPO / 'dbc' / 'bms.dbc'}]")
    text = text.replace("BMS_Pack.PackVoltage,", "BMS_Pack.PackVoltag,")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    line = text.splitlines().index(next(x for x in text.splitlines() if "Voltag," in x)) + 1
    with pytest.raises(ConfigError) as info:
        Profile.load(path)
    assert str(info.value) == (f"{path}:{line}: roles.pack_voltage.signal: no signal "
                               "'PackVoltag' in message BMS_Pack (did you mean "
                               "'BMS_Pack.PackVoltage'?)")


def test_profile_with_broken_dbc(tmp_path: Path) -> None:
    dbc = tmp_path / "broken.dbc"
    dbc.write_text('VERSION ""\n\nBU_: A\nBO_ 100 M: 8 A\n SG_ S : 0|8@1+ (1,0 [0|255] "" A\n')
    path = tmp_path / "p.yaml"
    path.write_text("name: x\ndbc: [broken.dbc]\nroles: {}\ninputs:\n  state_request:\n"
                    "    message: M\n    signal: S\n")
    with pytest.raises(ConfigError) as info:
        Profile.load(path)
    message = str(info.value)
    assert message.startswith(f"{dbc}:5: DBC does not load: Invalid syntax at line 5"), message


def test_bms_params_table_must_increase(tmp_path: Path) -> None:
    text = (REPO / "hil" / "sim" / "bms" / "params.yaml").read_text()
    assert "- [50, 3.697]" in text
    text = text.replace("- [50, 3.697]", "- [50, 3.600]")  # below the 45 % row (3.670 V)
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_params(path)
    assert "soc.ocv_table: ocv_table must increase in both SOC and voltage" in str(info.value)
    assert str(info.value).startswith(f"{path}:")


def test_scenario_yaml_indentation_error_is_reported_with_line(tmp_path: Path,
                                                               context: ScenarioContext) -> None:
    path = tmp_path / "indent.yaml"
    path.write_text(textwrap.dedent("""\
        scenario: t
        steps:
          - at_seconds: 1
           set: {}
        """))
    with pytest.raises(ConfigError) as info:
        load_scenarios(path, context)
    assert re.match(rf"^{re.escape(str(path))}:4: invalid YAML: ", str(info.value))
