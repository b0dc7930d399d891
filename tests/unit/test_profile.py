"""Unit tests for hil.profile: loading DUT profiles, resolving roles and signals, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.profile import Profile, Target

DBC_DIR = Path(__file__).resolve().parents[2] / "dbc"
BMS_PROFILE = DBC_DIR / "bms.profile.yaml"
BMS_DBC = DBC_DIR / "bms.dbc"


@pytest.fixture(scope="module")
def profile() -> Profile:
    return Profile.load(BMS_PROFILE)


def _profile_text(roles: str = "", inputs: str = "") -> str:
    return (
        "name: test\n"
        f"dbc: [{BMS_DBC}]\n"
        "roles:\n"
        "  state: BMS_Status.BMS_State\n"
        f"{roles}"
        "inputs:\n"
        "  state_request:\n"
        "    message: VCU_Request\n"
        "    signal: VCU_StateRequest\n"
        f"{inputs}"
    )


def _load(tmp_path: Path, roles: str = "", inputs: str = "") -> Profile:
    path = tmp_path / "dut.yaml"
    path.write_text(_profile_text(roles, inputs), encoding="utf-8")
    return Profile.load(path)


def _error(tmp_path: Path, roles: str = "", inputs: str = "") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, roles, inputs)
    err = info.value
    assert err.path is not None and err.path.endswith("dut.yaml")
    assert "\n" not in str(err)
    return err


# --- the shipped profile -------------------------------------------------------------------

def test_shipped_profile_loads(profile: Profile) -> None:
    assert profile.name == "Reference BMS"
    assert profile.limit("cell_ov_volts") == 4.25
    assert profile.nominal["cell_volts"] == 3.70
    assert profile.spec.e2e_messages == ["BMS_Status", "BMS_Faults"]
    assert "cell_voltage[i]" in profile.role_names
    assert "state" in profile.role_names
    assert profile.role_count("cell_voltage") == 192
    assert profile.role_count("state") is None
    assert profile.role_count("nope") is None


def test_resolve_plain_role(profile: Profile) -> None:
    target = profile.resolve("state")
    assert isinstance(target, Target)
    assert target.series_name == "BMS_Status.BMS_State"
    assert target.is_role
    assert target.describe() == "state (BMS_Status.BMS_State)"
    assert target.factor == 1.0
    assert target.resolution == 1.0


def test_resolve_role_with_unit(profile: Profile) -> None:
    target = profile.resolve("pack_current")
    assert target.series_name == "BMS_Pack.PackCurrent"
    assert target.unit == "A"
    assert target.resolution == pytest.approx(0.1)


def test_resolve_numbered_role(profile: Profile) -> None:
    target = profile.resolve("cell_voltage[7]")
    assert target.name == "cell_voltage[7]"
    assert target.series_name == "BMS_CellVoltages.CellVoltage007"
    assert target.ref.mux_value == 1
    assert target.unit == "V"
    assert target.resolution == pytest.approx(0.001)
    assert profile.resolve("cell_voltage[192]").series_name == "BMS_CellVoltages.CellVoltage192"
    assert profile.resolve("temperature[3]").series_name == "BMS_Temperatures.Temperature03"
    assert profile.resolve(" balancing[49] ").ref.mux_value == 1


def test_resolve_dbc_signal(profile: Profile) -> None:
    target = profile.resolve("BMS_CellSummary.MaxCellVoltage")
    assert not target.is_role
    assert target.describe() == "BMS_CellSummary.MaxCellVoltage"
    assert target.unit == "V"
    assert target.factor == 1.0


@pytest.mark.parametrize(("name", "message"), [
    ("cell_voltage", "role 'cell_voltage' is numbered: write cell_voltage[1] .. "
                     "cell_voltage[192]"),
    ("state[1]", "role 'state' is not numbered: write state"),
    ("cell_voltage[0]", "cell_voltage[0]: index out of range 1..192"),
    ("cell_voltage[193]", "cell_voltage[193]: index out of range 1..192"),
    ("stat", "unknown role or signal 'stat' (did you mean 'state'?)"),
    ("fault.over_voltag", "unknown role or signal 'fault.over_voltag' "
                          "(did you mean 'fault.over_voltage'?)"),
    ("BMS_Status.BMS_Stat", "no signal 'BMS_Stat' in message BMS_Status "
                            "(did you mean 'BMS_Status.BMS_State'?)"),
    ("zzzz", "unknown role or signal 'zzzz'"),
])
def test_resolve_errors(profile: Profile, name: str, message: str) -> None:
    with pytest.raises(KeyError) as info:
        profile.resolve(name)
    assert info.value.args[0] == message


def test_value_of_and_label_of(profile: Profile) -> None:
    state = profile.resolve("state")
    assert state.value_of("FAULT") == 5.0
    assert state.value_of(3) == 3.0
    assert state.value_of(True) == 1.0
    assert state.label_of(5.0) == "FAULT"
    assert state.label_of(5.5) == "5.5"
    assert state.label_of(float("nan")) == "nan"
    assert profile.resolve("pack_voltage").label_of(400.0) == "400 V"
    assert profile.resolve("soc").label_of(12.345) == "12.345 %"


def test_value_of_errors(profile: Profile) -> None:
    with pytest.raises(KeyError) as info:
        profile.resolve("state").value_of("FAUL")
    assert info.value.args[0] == (
        "state (BMS_Status.BMS_State) has no value 'FAUL' (did you mean 'FAULT'?); "
        "allowed: CHARGE, DRIVE, FAULT, INIT, PRECHARGE, STANDBY")
    with pytest.raises(KeyError, match=r"soc \(BMS_Pack\.SOC\) is numeric; 'FULL' is not"):
        profile.resolve("soc").value_of("FULL")


def test_input_message_and_limits(profile: Profile) -> None:
    spec, message = profile.input_message("state_request")
    assert message.name == "VCU_Request"
    assert spec.e2e and spec.counter == "VCU_Request_Counter"
    assert profile.input_message("current_sensor")[1].frame_id == 1313
    with pytest.raises(KeyError, match="did you mean 'cell_ov_volts'"):
        profile.limit("cell_ov_volt")


# --- small profiles in tmp_path -----------------------------------------------------------

def test_canonical_values_and_unit_factor(tmp_path: Path) -> None:
    p = _load(tmp_path, roles=(
        "  st:\n"
        "    signal: BMS_Status.BMS_State\n"
        "    values: {ERROR: FAULT}\n"
        "  max_mv: {signal: BMS_CellSummary.MaxCellVoltage, unit: mV}\n"
    ))
    st = p.resolve("st")
    assert st.value_of("ERROR") == 5.0
    assert st.value_of("FAULT") == 5.0  # the DBC label works too
    assert st.label_of(5.0) == "ERROR"
    assert st.label_of(3.0) == "DRIVE"
    with pytest.raises(KeyError, match="allowed: CHARGE, DRIVE, ERROR, FAULT"):
        st.value_of("BROKEN")
    mv = p.resolve("max_mv")
    assert mv.factor == pytest.approx(1000.0)
    assert mv.unit == "mV"
    assert mv.resolution == pytest.approx(1.0)
    assert mv.label_of(4250.0) == "4250 mV"


def test_i0_template_counts_from_zero(tmp_path: Path) -> None:
    # {i0} makes cell[1] CellVoltage0, which bms.dbc does not have: every index is checked
    err = _error(tmp_path, roles="  cell: {signal: 'BMS_CellVoltages.CellVoltage{i0}', "
                                 "count: 3}\n")
    assert err.line == 5
    assert err.field == "roles.cell.signal"
    assert "no signal 'CellVoltage0' in message BMS_CellVoltages" in err.reason


def test_unknown_signal_in_role(tmp_path: Path) -> None:
    err = _error(tmp_path, roles="  soc:\n    signal: BMS_Pack.SOCC\n    unit: '%'\n")
    assert (err.line, err.field) == (6, "roles.soc.signal")
    assert err.reason == ("no signal 'SOCC' in message BMS_Pack "
                          "(did you mean 'BMS_Pack.SOC'?)")
    assert str(err).endswith("dut.yaml:6: roles.soc.signal: " + err.reason)


def test_unknown_message_in_role(tmp_path: Path) -> None:
    err = _error(tmp_path, roles="  soc: BMS_Pck.SOC\n")
    assert (err.line, err.field) == (5, "roles.soc.signal")
    assert "no message 'BMS_Pck' in bms.dbc (did you mean 'BMS_Pack'?)" in err.reason


@pytest.mark.parametrize(("role", "reason"), [
    ("  cell: {signal: 'BMS_CellVoltages.CellVoltage{j}', count: 3}\n",
     "signal templates may only use {i} (from 1) or {i0} (from 0)"),
    ("  cell: {signal: 'BMS_CellVoltages.CellVoltage{i:03d}'}\n",
     "a signal template with {i} needs a count"),
    ("  cell: {signal: BMS_CellVoltages.CellVoltage001, count: 3}\n",
     "a numbered role (count) needs a signal template"),
    ("  cell: {signal: 'BMS_CellVoltages.CellVoltage{i:03d}', count: 0}\n",
     "greater than or equal to 1"),
])
def test_bad_templates(tmp_path: Path, role: str, reason: str) -> None:
    err = _error(tmp_path, roles=role)
    assert err.line == 5
    assert err.field is not None and err.field.startswith("roles.cell")
    assert reason in err.reason


def test_template_beyond_the_dbc(tmp_path: Path) -> None:
    err = _error(tmp_path, roles="  cell: {signal: 'BMS_CellVoltages.CellVoltage{i:03d}', "
                                 "count: 200}\n")
    assert (err.line, err.field) == (5, "roles.cell.signal")
    assert "no signal 'CellVoltage193'" in err.reason


def test_unknown_unit(tmp_path: Path) -> None:
    err = _error(tmp_path, roles="  soc: {signal: BMS_Pack.SOC, unit: percent}\n")
    assert err.line == 5
    assert err.field is not None and err.field.startswith("roles.soc")
    assert err.reason.startswith("BMS_Pack.SOC: unknown unit 'percent' (known: V, mV")


def test_incompatible_unit(tmp_path: Path) -> None:
    err = _error(tmp_path, roles="  soc: {signal: BMS_Pack.SOC, unit: V}\n")
    assert err.line == 5
    assert err.reason == "BMS_Pack.SOC: cannot convert '%' to 'V'"


def test_unknown_key_in_role(tmp_path: Path) -> None:
    err = _error(tmp_path, roles="  soc:\n    signal: BMS_Pack.SOC\n    unt: '%'\n")
    assert (err.line, err.field) == (7, "roles.soc.unt")
    assert err.reason.startswith("unknown field 'unt' (did you mean 'unit'?)")


def test_role_named_like_a_signal(tmp_path: Path) -> None:
    err = _error(tmp_path, roles="  BMS_Pack.SOC: BMS_Pack.SOC\n")
    assert (err.line, err.field) == (5, "roles.BMS_Pack.SOC")
    assert "looks like a signal name" in err.reason


@pytest.mark.parametrize(("inputs", "line", "field", "reason"), [
    ("    counter: VCU_Request_Countr\n", 9, "inputs.state_request.counter",
     "no signal 'VCU_Request_Countr' in message VCU_Request "
     "(did you mean 'VCU_Request_Counter'?)"),
    ("    defaults: {VCU_FaultRest: 0}\n", 9, "inputs.state_request.defaults.VCU_FaultRest",
     "no signal 'VCU_FaultRest' in message VCU_Request (did you mean 'VCU_FaultReset'?)"),
    ("    unit: A\n", 9, "inputs.state_request.unit", "cannot convert 'no unit' to 'A'"),
    ("    period_seconds: 0\n", 9, "inputs.state_request.period_seconds",
     "input should be greater than 0, got 0"),
])
def test_input_errors(tmp_path: Path, inputs: str, line: int, field: str, reason: str) -> None:
    err = _error(tmp_path, inputs=inputs)
    assert (err.line, err.field, err.reason) == (line, field, reason)


def test_unknown_input_message(tmp_path: Path) -> None:
    text = _profile_text().replace("message: VCU_Request", "message: VCU_Reqest")
    path = tmp_path / "dut.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Profile.load(path)
    assert (info.value.line, info.value.field) == (7, "inputs.state_request.message")
    assert "did you mean 'VCU_Request'" in info.value.reason


def test_missing_dbc(tmp_path: Path) -> None:
    path = tmp_path / "dut.yaml"
    path.write_text(_profile_text().replace(str(BMS_DBC), "missing.dbc"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Profile.load(path)
    assert (info.value.line, info.value.field) == (2, "dbc[1]")
    assert info.value.reason == f"DBC file 'missing.dbc' not found (looked in {tmp_path})"


def test_missing_profile(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DUT profile not found"):
        Profile.load(tmp_path / "nope.yaml")


def test_missing_inputs_section(tmp_path: Path) -> None:
    path = tmp_path / "dut.yaml"
    path.write_text(f"name: x\ndbc: [{BMS_DBC}]\nroles: {{}}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Profile.load(path)
    assert info.value.field == "inputs"
    assert info.value.reason == "missing required field"


# --- bugs ----------------------------------------------------------------------------------

def test_unknown_unit_points_at_the_unit_line(tmp_path: Path) -> None:
    err = _error(tmp_path, roles="  soc:\n    signal: BMS_Pack.SOC\n    unit: percent\n")
    assert (err.line, err.field) == (7, "roles.soc.unit")


def test_bad_label_points_at_the_values_line(tmp_path: Path) -> None:
    err = _error(tmp_path, roles=("  st:\n    signal: BMS_Status.BMS_State\n"
                                  "    values: {ERROR: ERR}\n"))
    assert "has no label 'ERR'" in err.reason
    assert err.line == 7
    assert err.field is not None and err.field.startswith("roles.st.values")


def test_numbered_role_with_any_name_resolves(tmp_path: Path) -> None:
    p = _load(tmp_path, roles="  Cell: {signal: 'BMS_CellVoltages.CellVoltage{i:03d}', "
                              "count: 3}\n")
    assert "Cell[i]" in p.role_names
    assert p.resolve("Cell[2]").series_name == "BMS_CellVoltages.CellVoltage002"
