"""The loader: matrix expansion, units, CSV profiles, CAN and fault actions, time segments."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.profile import Profile
from hil.rig.config import load_rig_config
from hil.scenario import checks
from hil.scenario.loader import ScenarioContext, load_scenarios

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ctx() -> ScenarioContext:
    rig = load_rig_config(REPO / "rigs" / "sim.yaml")
    return ScenarioContext.for_rig(rig, Profile.load(rig.resolve(rig.file.dut.profile)))


def load(tmp_path: Path, ctx: ScenarioContext, text: str, name: str = "s.yaml") -> list:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_scenarios(path, ctx)


def error(tmp_path: Path, ctx: ScenarioContext, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, ctx, text)
    return str(info.value)


def test_matrix_expands_with_ids_and_key_substitution(tmp_path: Path, ctx: ScenarioContext
                                                      ) -> None:
    scenarios = load(tmp_path, ctx, """\
        scenario: OV on one cell
        matrix: {cell: [1, 9], margin: "1..2"}
        id: "cell ${cell}, +${margin}0 mV"
        steps:
          - at_seconds: 0.1
            set: {cell_volts: {"${cell}": "${limits.cell_ov_volts + margin / 100}"}}
        """)
    assert [s.item_id for s in scenarios] == ["cell 1, +10 mV", "cell 1, +20 mV",
                                              "cell 9, +10 mV", "cell 9, +20 mV"]
    assert scenarios[2].name == "OV on one cell [cell 9, +10 mV]"
    assert scenarios[3].steps[0].changes[0].channels == ((9, pytest.approx(4.27)),)


def test_units_are_converted_and_checked(tmp_path: Path, ctx: ScenarioContext) -> None:
    (s,) = load(tmp_path, ctx, """\
        scenario: units
        steps:
          - at_seconds: 0
            set: {cell_volts: {"1,3": "3700 mV"}, current_amps: "-2500 mA"}
            expect:
              - {role: max_cell_voltage, becomes: ">= 4200 mV", within_seconds: 1}
              - {role: pack_current, in_range: ["-3 A", -2], for_seconds: 1}
        """)
    cells, current = s.steps[0].changes
    assert cells.channels == ((1, 3.7), (3, 3.7)) and current.amps == -2.5
    becomes, in_range = s.steps[0].checks
    assert becomes.condition.op == ">=" and becomes.condition.value == pytest.approx(4.2)
    assert isinstance(in_range, checks.InRange) and in_range.condition.value == -3.0
    message = error(tmp_path, ctx, """\
        scenario: u
        steps: [{at_seconds: 0, set: {cell_volts: {1: "3.7 A"}}}]
        """)
    assert "steps[1].set.cell_volts.1: '3.7 A': cannot convert 'A' to 'V'" in message
    message = error(tmp_path, ctx, """\
        scenario: u
        steps: [{at_seconds: 0, expect: [{role: fault_active, becomes: "1 V", within_seconds: 1}]}]
        """)
    assert "has no unit; write a plain number, not '1 V'" in message


def test_csv_profile(tmp_path: Path, ctx: ScenarioContext) -> None:
    (tmp_path / "p.csv").write_text("t,amps\n10,0\n11,5\n13,-5\n")
    (s,) = load(tmp_path, ctx, """\
        scenario: profile
        steps:
          - at_seconds: 0
            profile: {csv: p.csv, time_column: t, value_column: amps, target: current_amps,
                      scale: 10}
        """)
    play = s.steps[0].profile
    assert play.times == (0.0, 1.0, 3.0) and play.values == (0.0, 50.0, -50.0)
    assert play.value_at(0.5) == 25.0 and play.value_at(2.0) == 0.0
    assert s.duration == 3.0
    too_big = error(tmp_path, ctx, """\
        scenario: p
        steps: [{at_seconds: 0, profile: {csv: p.csv, value_column: 1, target: current_amps,
                                          scale: 200}}]
        """)
    assert "profile.scale: p.csv (scaled): -1000 A is below the limit -500 A" in too_big
    typo = error(tmp_path, ctx, """\
        scenario: p
        steps: [{at_seconds: 0, profile: {csv: p.csv, value_column: amp, target: current_amps}}]
        """)
    assert "p.csv has no column 'amp' (did you mean 'amps'?)" in typo


def test_can_and_fault_actions(tmp_path: Path, ctx: ScenarioContext) -> None:
    (s,) = load(tmp_path, ctx, """\
        scenario: can
        steps:
          - {at_seconds: 0, can: {corrupt: VCU_Request, field: crc, frames: 3}}
          - {after_seconds: 1, inject: {fault: open_wire, index: 4}}
          - {after_seconds: 1, can: {send: VCU_Request, signals: {VCU_StateRequest: DRIVE}}}
        """)
    assert s.steps[0].can.describe() == "corrupt the crc of the next 3 VCU_Request frame(s)"
    assert s.requires == ("open_wire",)
    not_periodic = error(tmp_path, ctx, """\
        scenario: c
        steps: [{at_seconds: 0, can: {stop: BMS_Status}}]
        """)
    assert "BMS_Status is not a message the rig sends periodically" in not_periodic
    bad_signal = error(tmp_path, ctx, """\
        scenario: c
        steps: [{at_seconds: 0, can: {send: VCU_Request, signals: {VCU_StateReqest: 1}}}]
        """)
    assert "no signal 'VCU_StateReqest' in VCU_Request (did you mean 'VCU_StateRequest'?)" \
        in bad_signal
    no_index = error(tmp_path, ctx, """\
        scenario: f
        steps: [{at_seconds: 0, inject: {fault: ntc_open}}]
        """)
    assert "ntc_open needs index: the temperature sensor number" in no_index


def test_wait_until_starts_a_new_segment(tmp_path: Path, ctx: ScenarioContext) -> None:
    (s,) = load(tmp_path, ctx, """\
        scenario: w
        steps:
          - {at_seconds: 1.0, request_state: drive}
          - {at_seconds: 1.5, wait_until: {role: state, is: DRIVE, within_seconds: 3}}
          - {at_seconds: 0.5, set: {cell_volts: {1: 3.6}}}
        """)
    assert [st.segment for st in s.steps] == [0, 0, 1]
    assert s.duration == pytest.approx(1.5 + 3 + 0.5)


def test_check_needs_exactly_one_kind(tmp_path: Path, ctx: ScenarioContext) -> None:
    message = error(tmp_path, ctx, """\
        scenario: k
        steps: [{at_seconds: 0, expect: [{role: state, within_seconds: 1}]}]
        """)
    assert "steps[1].expect[1]: a check has exactly one of becomes, stays, never" in message


# --- plant scenarios --------------------------------------------------------------------------

PLANT = """\
    scenario: plant
    plant: {preset: city_bus, initial_soc_percent: 60, weak_cell: {cell: 3, capacity_percent: 50}}
    steps:
"""


def test_plant_drive_and_charge_compile(tmp_path: Path, ctx: ScenarioContext) -> None:
    (s,) = load(tmp_path, ctx, PLANT + """\
          - at_seconds: 0
            drive: {cycle: udds, start_seconds: 10, duration_seconds: 30}
          - after_seconds: 30
            charge: {amps: "80 A", until_cell_volts: "4150 mV", cutoff_amps: 5,
                     duration_seconds: 20}
            expect:
              - {role: soc, follows: plant.soc, tolerance: 2 %, change_tolerance_percent: 3,
                 for_seconds: 20}
    """)
    assert s.plant.initial_soc == pytest.approx(0.6) and s.plant.weak_cell == (3, 0.5)
    drive, charge = s.steps
    assert drive.drive.cycle.duration == pytest.approx(1369.0) and drive.drive.start == 10
    assert drive.busy_seconds == 30 and "drive udds from 10 s for 30 s" in drive.describe()
    assert charge.charge.amps == 80 and charge.charge.until_cell_volts == pytest.approx(4.15)
    (check,) = charge.checks
    assert isinstance(check, checks.Follows) and check.change_tolerance == 3
    assert s.duration == pytest.approx(50.0)


@pytest.mark.parametrize(("text", "message"), [
    ("scenario: x\nsteps:\n  - {at_seconds: 0, drive: {cycle: udds, duration_seconds: 5}}\n",
     "add a plant: block"),
    (PLANT + "      - {at_seconds: 0, drive: {cycle: udd, duration_seconds: 5}}\n",
     "unknown speed cycle 'udd' (did you mean 'udds'?)"),
    (PLANT + "      - {at_seconds: 0, set: {cell_volts: {all: 3.7}}}\n",
     "the plant drives cell_volts in this scenario"),
    (PLANT + "      - {at_seconds: 0, charge: {amps: 900, duration_seconds: 5}}\n",
     "charge current"),
    (PLANT.replace("city_bus", "city_buss") + "      - {at_seconds: 0}\n",
     "unknown pack preset 'city_buss'"),
    (PLANT.replace("cell: 3", "cell: 17") + "      - {at_seconds: 0}\n",
     "cell 17 does not exist"),
    (PLANT.replace("city_bus", "grid_string")
     + "      - {at_seconds: 0, drive: {cycle: udds, duration_seconds: 5}}\n",
     "has no vehicle"),
])
def test_plant_mistakes_are_one_line_errors(tmp_path: Path, ctx: ScenarioContext, text: str,
                                            message: str) -> None:
    text_error = error(tmp_path, ctx, text)
    assert message in text_error and "s.yaml:" in text_error
    assert "\n" not in text_error


def test_plant_needs_a_loadable_cell_in_the_dut_profile(tmp_path: Path,
                                                        ctx: ScenarioContext) -> None:
    text = (REPO / "dbc" / "bms.profile.yaml").read_text()
    text = text.replace("dbc: [bms.dbc]", f"dbc: [{REPO / 'dbc' / 'bms.dbc'}]")
    text = text.replace("cell: nmc_pybamm_ecm ", "cell: nmc_pybam ")
    profile_path = tmp_path / "profile.yaml"
    profile_path.write_text(text)
    other = ScenarioContext(Profile.load(profile_path), ctx.cell_count, ctx.temperature_count,
                            ctx.ranges, ctx.output_lines)
    message = error(tmp_path, other, PLANT + "      - {at_seconds: 0}\n")
    assert "pack: cell" in message and "nmc_pybam" in message
    assert "did you mean 'nmc_pybamm_ecm'" in message


def test_profile_duration_cuts_at_the_duration(tmp_path: Path, ctx: ScenarioContext) -> None:
    (tmp_path / "p.csv").write_text("0,0\n10,100\n")
    (s,) = load(tmp_path, ctx, """\
        scenario: cut
        steps:
          - {at_seconds: 0, profile: {csv: p.csv, target: current_amps, duration_seconds: 5}}
        """)
    play = s.steps[0].profile
    assert play.times == (0.0, 5.0) and play.values == (0.0, 50.0)


@pytest.mark.parametrize(("text", "message"), [
    ("scenario: x\nsteps:\n  - at_seconds: 0\n    expect:\n"
     "      - {role: max_cell_voltage, in_range: [low, 4.2], for_seconds: 1}\n",
     "expected a number (or one with a unit, like '4.2 V'), got 'low'"),
    ("scenario: x\nparameters: {}\nmatrix: {cells: [[1, 2]]}\nsteps:\n"
     "  - {at_seconds: 0, set: {cell_volts: {\"${cells}\": 3.7}}}\n",
     "must become a number or a name"),
    ("scenario: x\nsteps:\n  - {at_seconds: 0, profile: {csv: latin.csv, "
     "target: current_amps}}\n", "cannot read latin.csv as UTF-8 CSV"),
])
def test_more_mistakes_are_one_line_errors(tmp_path: Path, ctx: ScenarioContext, text: str,
                                           message: str) -> None:
    (tmp_path / "latin.csv").write_bytes(b"t,amps\n0,1\n1,\xe9\n")
    text_error = error(tmp_path, ctx, text)
    assert message in text_error and "s.yaml:" in text_error and "\n" not in text_error


def test_fault_reset_false_is_no_action(tmp_path: Path, ctx: ScenarioContext) -> None:
    (s,) = load(tmp_path, ctx, """\
        scenario: x
        steps:
          - {at_seconds: 0, fault_reset: false, set: {current_amps: 1}}
        """)
    assert not s.steps[0].fault_reset and s.steps[0].changes[0].amps == 1.0
