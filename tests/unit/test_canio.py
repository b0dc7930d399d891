"""Unit tests for hil.sim.bms.canio: the reference BMS's frames in and out."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import can
import cantools
import numpy as np
import pytest
from cantools.database.can import Database

from hil import e2e
from hil.ntc import BetaNtc
from hil.sim.bms.canio import BmsCanIo
from hil.sim.bms.firmware import ReferenceBms, Request, State
from hil.sim.bms.params import load_params
from hil.sim.harness import LINES_TO_BMS, HarnessSnapshot

BMS_DBC = Path(__file__).resolve().parents[2] / "dbc" / "bms.dbc"
DB: Database = cantools.database.load_file(BMS_DBC)
SHIPPED = load_params()
PARAMS = SHIPPED.model_copy(update={"afe": SHIPPED.afe.model_copy(update={"noise_volts": 0.0})})
NTC = BetaNtc(PARAMS.ntc.r25_ohms, PARAMS.ntc.beta)
VCU = DB.get_message_by_name("VCU_Request")
IVT = DB.get_message_by_name("IVT_Msg_Result_I")


def snapshot(cells: np.ndarray | float = 3.7, ohms: np.ndarray | None = None
             ) -> HarnessSnapshot:
    volts = np.broadcast_to(np.asarray(cells, dtype=float), (PARAMS.cells,)).copy()
    if ohms is None:
        ohms = np.full(PARAMS.temperatures, NTC.ohms(25.0))
    return HarnessSnapshot(volts, ohms, np.zeros(PARAMS.cells, np.uint8),
                           dict.fromkeys(LINES_TO_BMS, False))


@pytest.fixture
def bms() -> ReferenceBms:
    return ReferenceBms(PARAMS, now=0.0)


@pytest.fixture
def io(bms: ReferenceBms) -> BmsCanIo:
    return BmsCanIo(DB, bms, now=0.0)


def vcu_frame(counter: int, request: int = 1, fault_reset: int = 0, *,
              corrupt: bool = False) -> can.Message:
    data = VCU.encode({"VCU_Request_CRC": 0, "VCU_Request_Counter": 0,
                       "VCU_StateRequest": request, "VCU_FaultReset": fault_reset})
    data = bytearray(e2e.protect(VCU.frame_id, data, counter))
    if corrupt:
        data[1] ^= 0x40  # a bit outside the counter nibble
    return can.Message(arbitration_id=VCU.frame_id, data=data, is_extended_id=False)


def ivt_frame(counter: int, milliamps: int, *, error: bool = False) -> can.Message:
    data = IVT.encode({"IVT_ID_Result_I": 0, "IVT_MsgCount_Result_I": counter,
                       "IVT_Result_I_OCS": 0, "IVT_Result_I_Channel_Error": 0,
                       "IVT_Result_I_Measurement_Error": int(error),
                       "IVT_Result_I_System_Error": 0, "IVT_Result_I": milliamps})
    return can.Message(arbitration_id=IVT.frame_id, data=data, is_extended_id=False)


def collect(io: BmsCanIo, seconds: float, step: float = 0.001, start: float = 0.0
            ) -> list[tuple[float, str, can.Message]]:
    out = []
    for i in range(round(seconds / step)):
        now = start + i * step
        for frame in io.due_frames(now):
            out.append((now, DB.get_message_by_frame_id(frame.arbitration_id).name, frame))
    return out


# --- transmit schedule ---------------------------------------------------------------------

def test_every_report_is_sent_at_its_period(io: BmsCanIo) -> None:
    frames = collect(io, 0.999)
    counts = Counter(name for _, name, _ in frames)
    assert counts == {
        "BMS_Status": 20, "BMS_Faults": 20,  # 50 ms
        "BMS_Pack": 10, "BMS_Limits": 10, "BMS_CellSummary": 10,
        "BMS_TemperatureSummary": 10,  # 100 ms
        "BMS_CellVoltages": 20,  # 200 ms per mux value, 4 mux values for 16 cells
        "BMS_Temperatures": 2, "BMS_Balancing": 2,  # 500 ms, one mux value each
        "BMS_Version": 1,  # 1000 ms
    }
    status_times = [t for t, name, _ in frames if name == "BMS_Status"]
    gaps = np.diff(status_times)
    assert np.allclose(gaps, 0.05, atol=0.0011)


def test_cell_voltage_mux_values_round_robin(io: BmsCanIo) -> None:
    frames = [(t, f) for t, name, f in collect(io, 0.999) if name == "BMS_CellVoltages"]
    muxes = [f.data[0] for _, f in frames]
    assert muxes == [0, 1, 2, 3] * 5
    times = [t for t, _ in frames]
    assert np.allclose(np.diff(times), 0.05, atol=0.0011)  # 200 ms spread over 4 values
    # each mux value comes back every 200 ms
    assert times[4] - times[0] == pytest.approx(0.2, abs=0.0011)


def test_no_burst_after_falling_behind(io: BmsCanIo) -> None:
    io.due_frames(0.0)
    late = io.due_frames(5.0)
    names = [DB.get_message_by_frame_id(f.arbitration_id).name for f in late]
    assert len(names) == len(set(names)) == len(io.schedule)
    assert io.due_frames(5.0 + 0.001) == []
    assert all(item.next_due > 5.0 for item in io.schedule)


def test_status_frames_are_e2e_protected(io: BmsCanIo, bms: ReferenceBms) -> None:
    status = [f for _, name, f in collect(io, 0.999) if name in ("BMS_Status", "BMS_Faults")]
    by_id: dict[int, list[int]] = {}
    for frame in status:
        assert e2e.crc_ok(frame.arbitration_id, frame.data)
        by_id.setdefault(frame.arbitration_id, []).append(e2e.counter_of(frame.data))
    for counters in by_id.values():
        assert counters == [i % 16 for i in range(20)]


def test_report_contents(io: BmsCanIo, bms: ReferenceBms) -> None:
    cells = np.linspace(3.60, 3.75, PARAMS.cells)
    bms.on_current(0.0, 0.0)
    bms.on_vcu_request(0, False, 0.0)
    bms.step(0.0, snapshot(cells))
    bms.step(0.3, snapshot(cells))
    assert bms.state == State.STANDBY
    decoded: dict[str, list[dict]] = {}
    for _, name, frame in collect(io, 0.999):
        decoded.setdefault(name, []).append(DB.decode_message(frame.arbitration_id,
                                                              frame.data, decode_choices=False))
    status = decoded["BMS_Status"][0]
    assert status["BMS_State"] == int(State.STANDBY)
    assert status["FaultActive"] == 0
    pack = decoded["BMS_Pack"][0]
    assert pack["PackVoltage"] == pytest.approx(cells.sum(), abs=0.05)
    assert pack["SOH"] == PARAMS.soc.soh_percent
    summary = decoded["BMS_CellSummary"][0]
    assert summary["MaxCellVoltage"] == pytest.approx(3.75)
    assert summary["MaxCellIndex"] == PARAMS.cells
    assert summary["MinCellIndex"] == 1
    mux1 = next(v for v in decoded["BMS_CellVoltages"] if v["CellVoltagesMux"] == 1)
    assert mux1["CellVoltage007"] == pytest.approx(cells[6], abs=0.0006)
    version = decoded["BMS_Version"][0]
    assert (version["FirmwareMajor"], version["FirmwareMinor"], version["FirmwarePatch"]) == \
        tuple(int(x) for x in PARAMS.firmware_version.split("."))
    assert version["ConfiguredCells"] == PARAMS.cells


def test_open_temperature_sensor_is_reported_as_the_lowest_value(io: BmsCanIo,
                                                                 bms: ReferenceBms) -> None:
    ohms = np.full(PARAMS.temperatures, NTC.ohms(25.0))
    ohms[1] = 5e6  # open
    bms.on_current(0.0, 0.0)
    bms.step(0.0, snapshot(ohms=ohms))
    assert np.isnan(bms.temperatures[1])
    frame = next(f for _, name, f in collect(io, 0.6) if name == "BMS_Temperatures")
    values = DB.decode_message(frame.arbitration_id, frame.data)
    assert values["Temperature02"] == pytest.approx(-819.2)
    assert values["Temperature01"] == pytest.approx(25.0, abs=0.05)


# --- receive -------------------------------------------------------------------------------

def test_valid_vcu_frames_are_applied(io: BmsCanIo, bms: ReferenceBms) -> None:
    io.receive(vcu_frame(3, request=1), now=0.1)
    assert bms.request == Request.DRIVE
    io.receive(vcu_frame(4, request=2), now=0.2)
    assert bms.request == Request.CHARGE
    assert io.rx_errors == 0


def test_vcu_frame_with_bad_crc_is_counted_and_not_applied(io: BmsCanIo,
                                                          bms: ReferenceBms) -> None:
    io.receive(vcu_frame(0, request=0), now=0.1)
    io.receive(vcu_frame(1, request=1, corrupt=True), now=0.2)
    assert io.rx_errors == 1
    assert bms.request == Request.STANDBY
    assert bms._e2e_bad_in_row == 1
    io.receive(vcu_frame(1, request=1), now=0.3)  # the counter was not consumed
    assert bms.request == Request.DRIVE
    assert io.rx_errors == 1


def test_vcu_frame_with_counter_jump_is_counted_and_not_applied(io: BmsCanIo,
                                                               bms: ReferenceBms) -> None:
    io.receive(vcu_frame(0, request=0), now=0.1)
    io.receive(vcu_frame(5, request=1), now=0.2)
    assert io.rx_errors == 1
    assert bms.request == Request.STANDBY
    io.receive(vcu_frame(5, request=1), now=0.3)  # repeated frame
    assert io.rx_errors == 2
    assert bms.request == Request.STANDBY
    io.receive(vcu_frame(6, request=1), now=0.4)
    assert bms.request == Request.DRIVE


def test_short_vcu_frame_is_an_error(io: BmsCanIo, bms: ReferenceBms) -> None:
    frame = vcu_frame(0, request=1)
    io.receive(can.Message(arbitration_id=VCU.frame_id, data=frame.data[:4],
                           is_extended_id=False), now=0.1)
    assert io.rx_errors == 1
    assert bms.request == Request.STANDBY


def test_other_frames_are_ignored(io: BmsCanIo, bms: ReferenceBms) -> None:
    good = vcu_frame(0, request=1)
    io.receive(can.Message(arbitration_id=VCU.frame_id, data=good.data, is_extended_id=True),
               now=0.1)
    io.receive(can.Message(arbitration_id=VCU.frame_id, is_remote_frame=True,
                           is_extended_id=False), now=0.1)
    io.receive(can.Message(arbitration_id=0x123, data=bytes(8), is_extended_id=False), now=0.1)
    assert io.rx_errors == 0
    assert bms.request == Request.STANDBY


def test_fault_reset_from_vcu(io: BmsCanIo, bms: ReferenceBms) -> None:
    bms.step(0.3, snapshot())  # out of INIT, nothing beyond a threshold
    bms.ov.latched = True
    io.receive(vcu_frame(0, request=0, fault_reset=1), now=0.31)
    assert bms.ov.latched  # judged at the next cyclic step, against fresh measurements
    bms.step(0.32, snapshot())
    assert not bms.ov.latched


def test_ivt_current_is_applied_in_amperes(io: BmsCanIo, bms: ReferenceBms) -> None:
    io.receive(ivt_frame(0, 123_456), now=0.1)
    assert bms.current_amps == pytest.approx(123.456)
    io.receive(ivt_frame(1, -50_000), now=0.11)
    assert bms.current_amps == pytest.approx(-50.0)
    assert io.rx_errors == 0


def test_ivt_errors_and_counter_jumps(io: BmsCanIo, bms: ReferenceBms) -> None:
    io.receive(ivt_frame(0, 10_000), now=0.1)
    io.receive(ivt_frame(1, 99_000, error=True), now=0.11)  # flagged: not a measurement
    assert bms.current_amps == pytest.approx(10.0)
    io.receive(ivt_frame(7, 20_000), now=0.12)
    assert io.rx_errors == 1
    assert bms.current_amps == pytest.approx(10.0)
    io.receive(ivt_frame(8, 20_000), now=0.13)
    assert bms.current_amps == pytest.approx(20.0)


def test_frames_dropped_for_crc_do_not_count_twice(io: BmsCanIo, bms: ReferenceBms) -> None:
    io.receive(vcu_frame(0), now=0.1)
    io.receive(vcu_frame(1, corrupt=True), now=0.2)   # dropped: bad CRC
    io.receive(vcu_frame(2, corrupt=True), now=0.3)   # dropped: bad CRC
    io.receive(vcu_frame(3), now=0.4)                 # counter advanced past the dropped ones
    assert io.rx_errors == 2
    assert bms._e2e_bad_in_row == 0  # the good frame ended the run of bad ones
    io.receive(vcu_frame(3), now=0.5)                 # a repeated counter is stale
    assert io.rx_errors == 3
