"""Pack faults the rig injects, and the reference BMS's reaction to them."""

from __future__ import annotations

import pytest

from hil.dut import Dut
from hil.faults import FaultUnavailable
from hil.rig.rig import Rig

pytestmark = pytest.mark.e2e


@pytest.mark.requires_fault("open_wire")
def test_open_sense_wire_is_detected(rig: Rig, bms: Dut) -> None:
    t = rig.faults.inject("open_wire", 5)
    bms.wait_for("fault.open_wire", "ACTIVE", 1.0, since=t)
    assert rig._ctx is not None and rig._ctx.harness().sense_open[4] == 1
    rig.go_safe()
    assert rig._ctx.harness().sense_open[4] == 0  # the relay opened again


@pytest.mark.requires_fault("ntc_open")
def test_open_thermistor_is_a_sensor_fault(rig: Rig, bms: Dut) -> None:
    t = rig.faults.inject("ntc_open", 2)
    bms.wait_for("fault.sensor", "ACTIVE", 1.0, since=t)
    assert rig._ctx is not None and rig._ctx.harness().ntc_ohms[1] == float("inf")


@pytest.mark.requires_fault("ntc_short")
def test_shorted_thermistor_is_a_sensor_fault(rig: Rig, bms: Dut) -> None:
    t = rig.faults.inject("ntc_short", 3)
    bms.wait_for("fault.sensor", "ACTIVE", 1.0, since=t)
    t = rig.faults.clear("ntc_short", 3)
    bms.wait_for("temperature[3]", ("between", 24.0, 26.0), 2.0, since=t)


@pytest.mark.requires_fault("current_sensor_silent")
def test_silent_current_sensor_times_out(rig: Rig, bms: Dut) -> None:
    t = rig.faults.inject("current_sensor_silent")
    sensor = bms.sender.find(bms.profile.input_message("current_sensor")[1].name)
    assert sensor is not None and sensor.last_sent is not None and sensor.last_sent <= t
    sample = bms.wait_for("fault.can_timeout_current_sensor", "ACTIVE", 1.0, since=t)
    # the BMS's timeout runs from the last frame it got, up to one period before the stop
    assert sample.time - sensor.last_sent >= bms.limits["current_sensor_timeout_seconds"]
    assert sample.time - t < bms.limits["current_sensor_timeout_seconds"] + 0.2


@pytest.mark.requires_fault("current_sensor_offset")
def test_current_offset_shows_in_the_reported_current(rig: Rig, bms: Dut) -> None:
    assert rig.current is not None
    rig.current.set(10.0)
    t = rig.faults.inject("current_sensor_offset", value=5.0)
    bms.wait_for("pack_current", ("between", 14.9, 15.1), 1.0, since=t)


def test_undeclared_fault_is_refused(rig: Rig) -> None:
    rig.faults.declared.pop("ntc_short", None)
    try:
        with pytest.raises(FaultUnavailable, match="declares no way to inject ntc_short"):
            rig.faults.inject("ntc_short", 1)
    finally:
        rig.faults.declared = dict(rig.config.file.faults)


@pytest.mark.requires_fault("current_sensor_silent")
def test_safe_state_ends_every_injected_fault(rig: Rig, bms: Dut) -> None:
    assert rig._ctx is not None and rig.decoder is not None
    harness = rig._ctx.harness()
    rig.faults.inject("current_sensor_silent")
    rig.faults.inject("open_wire", 2)
    rig.faults.inject("ntc_open", 1)
    rig.go_safe()
    sent = rig.decoder.integrity.frames_by_id[0x521]
    bms.wait_for("IVT_Msg_Result_I.IVT_Result_I", 0, 0.5)  # the sensor talks again
    assert rig.decoder.integrity.frames_by_id[0x521] > sent
    assert not harness.sense_open.any()
    assert harness.ntc_ohms[0] < 1e6
