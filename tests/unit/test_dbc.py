"""Unit tests for hil.dbc: loading DBC files and resolving Message.Signal names."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.dbc import CanDatabase, SignalRef, load_dbc
from hil.errors import ConfigError

BMS_DBC = Path(__file__).resolve().parents[2] / "dbc" / "bms.dbc"

SMALL_DBC = """\
VERSION ""


NS_ :

BS_:

BU_: A B

BO_ 100 Msg1: 8 A
 SG_ Sig1 : 0|8@1+ (1,0) [0|255] "" B
 SG_ Sig2 : 8|8@1+ (1,0) [0|255] "" B

"""


@pytest.fixture(scope="module")
def db() -> CanDatabase:
    return CanDatabase.load(BMS_DBC)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- CanDatabase ---------------------------------------------------------------------------

def test_load_bms_dbc(db: CanDatabase) -> None:
    names = {m.name for m in db.messages}
    assert {"BMS_Status", "BMS_Faults", "BMS_CellVoltages", "VCU_Request",
            "IVT_Msg_Result_I"} <= names
    assert db.sources == [BMS_DBC]
    assert db.message("BMS_Status").frame_id == 0xA0


def test_by_frame_id(db: CanDatabase) -> None:
    found = db.by_frame_id(0xA0)
    assert found is not None and found.name == "BMS_Status"
    assert db.by_frame_id(0xA0, extended=True) is None
    assert db.by_frame_id(0x7FF) is None


def test_signal_resolution(db: CanDatabase) -> None:
    ref = db.signal("BMS_Status.BMS_State")
    assert isinstance(ref, SignalRef)
    assert ref.name == "BMS_Status.BMS_State"
    assert ref.message.name == "BMS_Status"
    assert ref.signal.name == "BMS_State"


def test_message_unknown_did_you_mean(db: CanDatabase) -> None:
    with pytest.raises(KeyError) as info:
        db.message("VCU_Reqest")
    assert info.value.args[0] == "no message 'VCU_Reqest' in bms.dbc (did you mean 'VCU_Request'?)"


@pytest.mark.parametrize(("name", "message"), [
    ("BMS_Stat.BMS_State",
     "no message 'BMS_Stat' in bms.dbc (did you mean 'BMS_Status'?)"),
    ("BMS_Status.BMS_Stat",
     "no signal 'BMS_Stat' in message BMS_Status (did you mean 'BMS_Status.BMS_State'?)"),
    ("BMS_State",
     "signal 'BMS_State' must be written Message.Signal (did you mean 'BMS_Status.BMS_State'?)"),
    ("Nothing.Here", "no message 'Nothing' in bms.dbc"),
])
def test_signal_key_errors(db: CanDatabase, name: str, message: str) -> None:
    with pytest.raises(KeyError) as info:
        db.signal(name)
    assert info.value.args[0] == message


def test_mux_value(db: CanDatabase) -> None:
    assert db.signal("BMS_CellVoltages.CellVoltage001").mux_value == 0
    assert db.signal("BMS_CellVoltages.CellVoltage007").mux_value == 1
    assert db.signal("BMS_CellVoltages.CellVoltage192").mux_value == 47
    assert db.signal("BMS_Temperatures.Temperature64").mux_value == 15
    assert db.signal("BMS_Balancing.BalancingCell049").mux_value == 1
    # the multiplexer itself and plain signals are not multiplexed
    assert db.signal("BMS_CellVoltages.CellVoltagesMux").mux_value is None
    assert db.signal("BMS_Status.BMS_State").mux_value is None


def test_choice_value_and_label(db: CanDatabase) -> None:
    state = db.signal("BMS_Status.BMS_State")
    assert state.choice_value("FAULT") == 5
    assert state.choice_value("INIT") == 0
    assert state.choice_value("fault") is None
    assert state.choice_label(5) == "FAULT"
    assert state.choice_label(5.0) == "FAULT"
    assert state.choice_label(5.5) is None
    assert state.choice_label(9) is None
    numeric = db.signal("BMS_Pack.SOC")
    assert numeric.choice_value("FAULT") is None
    assert numeric.choice_label(1) is None


# --- load_dbc errors -----------------------------------------------------------------------

def test_load_dbc_ok(tmp_path: Path) -> None:
    db = load_dbc(_write(tmp_path, "ok.dbc", SMALL_DBC))
    assert [m.name for m in db.messages] == ["Msg1"]


def test_load_dbc_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_dbc(tmp_path / "missing.dbc")
    assert info.value.reason == "DBC file not found"
    assert info.value.path == str(tmp_path / "missing.dbc")
    assert info.value.line is None


def test_load_dbc_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DBC file not found"):
        load_dbc(tmp_path)


def test_syntax_error_has_line(tmp_path: Path) -> None:
    broken = SMALL_DBC.replace(" SG_ Sig2 : 8|8@1+ (1,0) ", " SG_ Sig2 : 8|8@1+ (1,0 ")
    path = _write(tmp_path, "syntax.dbc", broken)
    with pytest.raises(ConfigError) as info:
        load_dbc(path)
    err = info.value
    assert err.line == 12
    assert err.reason.startswith("DBC does not load: Invalid syntax at line 12")
    assert str(err).endswith(f"{path.name}:12: {err.reason}")
    assert "\n" not in str(err)
    assert "dbc_strict" not in str(err)
    assert isinstance(err.__cause__, Exception)


def test_overlap_loads_only_without_strict_and_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "overlap.dbc", SMALL_DBC.replace("Sig2 : 8|8", "Sig2 : 4|8"))
    with pytest.raises(ConfigError) as info:
        load_dbc(path)
    assert "overlapping" in info.value.reason
    assert info.value.reason.endswith(
        "(this DBC only loads with strict checks off: set dbc_strict: false)")
    db = load_dbc(path, strict=False)
    assert {s.name for s in db.messages[0].signals} == {"Sig1", "Sig2"}


def test_signal_that_does_not_fit_names_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "nofit.dbc", SMALL_DBC.replace("Sig2 : 8|8", "Sig2 : 60|8"))
    with pytest.raises(ConfigError) as info:
        load_dbc(path)
    assert info.value.line == 12  # found by searching for "SG_ Sig2 "
    assert "does not fit" in info.value.reason
    assert "set dbc_strict: false" in info.value.reason
    CanDatabase.load(path, strict=False)


def test_same_message_in_two_files(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.dbc", SMALL_DBC)
    b = _write(tmp_path, "b.dbc", SMALL_DBC)
    with pytest.raises(ConfigError) as info:
        CanDatabase.load(a, b)
    assert info.value.reason == "message 'Msg1' is defined in two DBC files"
    assert info.value.path == str(b)


def test_two_files_form_one_namespace(tmp_path: Path) -> None:
    other = SMALL_DBC.replace("BO_ 100 Msg1", "BO_ 101 Msg2").replace("Sig1", "SigA")
    db = CanDatabase.load(_write(tmp_path, "a.dbc", SMALL_DBC),
                          _write(tmp_path, "b.dbc", other))
    assert db.signal("Msg2.SigA").message.frame_id == 101
    assert db.signal("Msg1.Sig1").message.frame_id == 100
    with pytest.raises(KeyError, match=r"no message 'Msg3' in a\.dbc, b\.dbc"):
        db.message("Msg3")
