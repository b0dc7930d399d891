"""End to end on the simulated rig: emulated pack -> reference BMS process -> CAN -> checks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil.capabilities import CellVoltageSource, CurrentSource, DigitalLines, TemperatureSource
from hil.dbc import CanDatabase
from hil.decoder import Decoder
from hil.dut import Dut, WaitTimeout
from hil.errors import LimitError
from hil.rig.rig import Rig
from hil.scenario.engine import Engine
from hil.scenario.loader import ScenarioContext, load_scenarios

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def test_reported_cell_voltages_follow_the_emulated_ones(bms: Dut,
                                                         cells: CellVoltageSource) -> None:
    wanted = {i: 3.40 + 0.02 * i for i in range(1, cells.count + 1)}
    done = cells.set(wanted)
    accuracy = bms.limits["cell_voltage_accuracy_volts"]
    for index, volts in wanted.items():
        sample = bms.wait_for(f"cell_voltage[{index}]",
                              ("between", volts - accuracy, volts + accuracy), 1.0, since=done)
        assert sample.value == pytest.approx(volts, abs=accuracy)


def test_reported_temperatures_follow_the_emulated_ones(bms: Dut,
                                                        temperatures: TemperatureSource) -> None:
    wanted = {1: -10.0, 2: 0.0, 3: 35.0, 4: 50.0}
    done = temperatures.set(wanted)
    accuracy = bms.limits["temperature_accuracy_celsius"]
    for index, celsius in wanted.items():
        sample = bms.wait_for(f"temperature[{index}]",
                              ("between", celsius - accuracy, celsius + accuracy), 3.0,
                              since=done)
        assert sample.value == pytest.approx(celsius, abs=accuracy)


def test_current_from_the_emulated_sensor_is_reported(bms: Dut, current: CurrentSource) -> None:
    done = current.set(42.5)
    sample = bms.wait_for("pack_current", ("between", 42.4, 42.6), 1.0, since=done)
    assert sample.value == pytest.approx(42.5, abs=0.11)


def test_drive_request_closes_precharge_before_main_positive(bms: Dut, lines: DigitalLines
                                                             ) -> None:
    sent = bms.request_state("drive")
    bms.wait_for("state", "DRIVE", 3.0, since=sent)
    precharge = bms.wait_for("contactor.precharge", "CLOSED", 0.1, since=sent)
    main_pos = bms.wait_for("contactor.main_positive", "CLOSED", 0.1, since=sent)
    assert precharge.time < main_pos.time
    assert lines.get("main_positive") and lines.get("main_negative")
    assert not lines.get("precharge")


def test_over_voltage_trip_opens_contactors_in_time(bms: Dut, cells: CellVoltageSource,
                                                    lines: DigitalLines) -> None:
    bms.wait_for("state", "DRIVE", 3.0, since=bms.request_state("drive"))
    stimulus = cells.set({5: bms.limits["cell_ov_volts"] + 0.05})
    limit = bms.limits["cell_ov_reaction_seconds"]
    trip = bms.wait_for("fault.over_voltage", "ACTIVE", limit, since=stimulus)
    assert trip.time - stimulus <= limit
    bms.wait_for("contactor.main_positive", "OPEN", 0.2, since=trip.time - 0.06)
    assert not lines.get("main_positive")
    assert lines.get("fault_output")


def test_wait_for_timeout_says_what_was_seen(bms: Dut) -> None:
    with pytest.raises(WaitTimeout, match=r"did not become = FAULT within 0.3 s; saw STANDBY"):
        bms.wait_for("state", "FAULT", 0.3)


def test_value_outside_rig_limits_is_refused_before_writing(rig: Rig, cells: CellVoltageSource
                                                            ) -> None:
    assert rig._ctx is not None
    harness = rig._ctx.harness()
    before = harness.cell_volts.copy()
    with pytest.raises(LimitError, match=r"cell 3: 5.5 V is above the limit 5 V"):
        cells.set({1: 4.0, 3: 5.5})
    assert (harness.cell_volts == before).all()
    assert cells.commanded(1) != 4.0


def test_safe_state_sets_every_output(rig: Rig, cells: CellVoltageSource,
                                      temperatures: TemperatureSource) -> None:
    cells.set({2: 3.1})
    temperatures.set({1: 45.0})
    assert rig.go_safe() == []
    safe = rig.config.file.safe_state
    assert rig._ctx is not None
    harness = rig._ctx.harness()
    assert abs(harness.cell_volts - safe.cell_volts).max() < 0.003  # calibrated DAC outputs
    assert cells.commanded(2) == safe.cell_volts
    assert temperatures.commanded(1) == safe.temperature_celsius
    assert not harness.lines_to_bms.any()  # relays open


def test_receive_path_keeps_up_with_a_full_bus_during_a_scenario(rig: Rig) -> None:
    """~4,000 frames/s (a fully loaded 500 kbit/s bus) for 3 s while a scenario runs."""
    count, rate = 12_000, 4_000.0
    flood_db = CanDatabase.load(REPO / "tests" / "data" / "flood.dbc")
    decoder = Decoder(flood_db, rig.store)
    series = rig.store.series("HIL_Flood.Sequence")
    already = len(series)
    assert rig.can is not None
    rig.can.add_listener(decoder)
    rig.reset_dut()
    scenario = load_scenarios(REPO / "scenarios" / "protection" / "cell_over_voltage.yaml",
                              ScenarioContext.for_rig(rig.config, rig.profile))[0]
    url = rig.can.url  # type: ignore[attr-defined]
    sender = subprocess.Popen(
        [sys.executable, str(HERE / "flood_sender.py"),
         json.dumps({"interface": "remote", "channel": url}), str(count), str(rate)],
        stdout=subprocess.PIPE, text=True)
    try:
        result = Engine(rig).run(scenario)
        out, _ = sender.communicate(timeout=60)
    finally:
        if sender.poll() is None:
            sender.kill()
    assert out.startswith(f"SENT {count}")
    deadline = time.monotonic() + 10
    while len(series) - already < count and time.monotonic() < deadline:
        time.sleep(0.05)
    rig.can.remove_listener(decoder)
    received = [int(s.value) for s in series.samples()][already:]
    assert len(received) == count, f"{count - len(received)} flood frames were dropped"
    assert received == list(range(count)), "flood frames arrived out of order or duplicated"
    assert decoder.integrity.undecodable_frames == 0
    assert result.error is None and result.outcomes, result.error
    assert all(o.passed for o in result.outcomes), [o.seen for o in result.outcomes]
