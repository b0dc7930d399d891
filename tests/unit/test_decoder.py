"""Unit tests for hil.decoder: frames through the DBC into the signal store, with counters."""

from __future__ import annotations

from pathlib import Path

import can
import pytest

from hil import e2e
from hil.dbc import CanDatabase
from hil.decoder import CanIntegrity, Decoder
from hil.signals import Sample, SignalStore

BMS_DBC = Path(__file__).resolve().parents[2] / "dbc" / "bms.dbc"
DB = CanDatabase.load(BMS_DBC)
STATUS = DB.message("BMS_Status")


@pytest.fixture
def store() -> SignalStore:
    return SignalStore()


@pytest.fixture
def decoder(store: SignalStore) -> Decoder:
    return Decoder(DB, store, e2e_messages=["BMS_Status", "BMS_Faults"])


def _status(counter: int, state: int = 1, t: float = 0.0, *, corrupt: bool = False,
            is_rx: bool = True) -> can.Message:
    values = {s.name: 0 for s in STATUS.signals}
    values["BMS_State"] = state
    values["ContactorMainPositive"] = 1
    data = bytearray(e2e.protect(STATUS.frame_id, STATUS.encode(values), counter))
    if corrupt:
        data[3] ^= 0x01
    return can.Message(arbitration_id=STATUS.frame_id, data=data, timestamp=t,
                       is_extended_id=False, is_rx=is_rx)


def _frame(name: str, values: dict, t: float) -> can.Message:
    msg = DB.message(name)
    return can.Message(arbitration_id=msg.frame_id, data=msg.encode(values), timestamp=t,
                       is_extended_id=False)


def test_decodes_into_the_store_with_receive_times(decoder: Decoder,
                                                   store: SignalStore) -> None:
    for i, state in enumerate([0, 1, 3]):
        decoder.on_message_received(_status(i, state, t=10.0 + i * 0.05))
    series = store.series("BMS_Status.BMS_State")
    assert [(s.time, s.value) for s in series.samples()] == [(10.0, 0.0), (10.05, 1.0),
                                                             (10.1, 3.0)]
    assert store.latest("BMS_Status.ContactorMainPositive") == Sample(10.1, 1.0)
    assert store.latest("BMS_Status.BMS_Status_Counter") == Sample(10.1, 2.0)
    integrity = decoder.integrity
    assert integrity.frames == 3
    assert integrity.frames_by_id[STATUS.frame_id] == 3
    assert integrity.e2e_crc_errors == 0 and integrity.e2e_counter_errors == 0
    assert integrity.trustworthy and integrity.last_problem is None


def test_scaled_and_signed_values(decoder: Decoder, store: SignalStore) -> None:
    decoder.on_message_received(_frame(
        "BMS_Pack", {"PackVoltage": 400.3, "PackCurrent": -12.5, "SOC": 55.55, "SOH": 99.5},
        t=1.0))
    assert store.latest("BMS_Pack.PackVoltage").value == pytest.approx(400.3)
    assert store.latest("BMS_Pack.PackCurrent").value == pytest.approx(-12.5)
    assert store.latest("BMS_Pack.SOC").value == pytest.approx(55.55)


def test_multiplexed_frame_fills_only_its_signals(decoder: Decoder, store: SignalStore) -> None:
    decoder.on_message_received(_frame(
        "BMS_CellVoltages", {"CellVoltagesMux": 1, "CellVoltage005": 3.7,
                             "CellVoltage006": 3.71, "CellVoltage007": 3.72,
                             "CellVoltage008": 3.73}, t=2.0))
    assert store.latest("BMS_CellVoltages.CellVoltage007").value == pytest.approx(3.72)
    assert store.latest("BMS_CellVoltages.CellVoltagesMux") == Sample(2.0, 1.0)
    assert "BMS_CellVoltages.CellVoltage001" not in store


def test_enum_signals_are_stored_as_numbers(decoder: Decoder, store: SignalStore) -> None:
    decoder.on_message_received(_status(0, state=5, t=0.0))
    value = store.latest("BMS_Status.BMS_State").value
    assert value == 5.0 and isinstance(value, float)


def test_unknown_id(decoder: Decoder, store: SignalStore) -> None:
    decoder.on_message_received(can.Message(arbitration_id=0x7FF, data=bytes(8),
                                            is_extended_id=False))
    # the same ID as BMS_Status but extended is a different frame
    decoder.on_message_received(can.Message(arbitration_id=STATUS.frame_id, data=bytes(8),
                                            is_extended_id=True))
    integrity = decoder.integrity
    assert (integrity.frames, integrity.unknown_frames) == (2, 2)
    assert integrity.trustworthy  # unknown frames are not a decoding problem
    assert len(store.series("BMS_Status.BMS_State")) == 0


def test_undecodable_short_frame(decoder: Decoder, store: SignalStore) -> None:
    decoder.on_message_received(can.Message(arbitration_id=0xA2, data=b"\x01\x02",
                                            timestamp=3.0, is_extended_id=False))
    integrity = decoder.integrity
    assert integrity.undecodable_frames == 1
    assert integrity.frames == 1
    assert not integrity.trustworthy
    assert integrity.last_problem is not None
    assert integrity.last_problem.startswith("BMS_Pack (0xA2) with 2 bytes [01 02] does not "
                                             "decode: ")
    assert len(store.series("BMS_Pack.SOC")) == 0


def test_error_frames(decoder: Decoder) -> None:
    decoder.on_message_received(can.Message(is_error_frame=True, arbitration_id=0x20000080,
                                            timestamp=4.5))
    integrity = decoder.integrity
    assert integrity.error_frames == 1
    assert integrity.frames == 0
    assert not integrity.trustworthy
    assert integrity.last_problem == "error frame 0x20000080 at 4.500000"


def test_transmitted_frames_are_counted_and_not_e2e_checked(decoder: Decoder,
                                                            store: SignalStore) -> None:
    decoder.on_message_received(_status(0, t=1.0, is_rx=False, corrupt=True))
    decoder.on_message_received(_status(9, t=1.1, is_rx=False))
    integrity = decoder.integrity
    assert (integrity.frames, integrity.transmitted) == (2, 2)
    assert integrity.e2e_crc_errors == 0 and integrity.e2e_counter_errors == 0
    assert len(store.series("BMS_Status.BMS_State")) == 2


def test_crc_error_is_counted(decoder: Decoder) -> None:
    decoder.on_message_received(_status(0, t=1.0))
    decoder.on_message_received(_status(1, t=1.05, corrupt=True))
    integrity = decoder.integrity
    assert integrity.e2e_crc_errors == 1
    assert integrity.e2e_counter_errors == 0
    assert integrity.last_problem == "BMS_Status: CRC mismatch at 1.050000"


def test_counter_jump_is_counted_and_resynchronises(decoder: Decoder) -> None:
    for i, counter in enumerate([14, 15, 0, 1]):  # wraps at 16
        decoder.on_message_received(_status(counter, t=i * 0.05))
    assert decoder.integrity.e2e_counter_errors == 0
    decoder.on_message_received(_status(5, t=1.0))
    assert decoder.integrity.e2e_counter_errors == 1
    assert decoder.integrity.last_problem == "BMS_Status: alive counter jumped 1 -> 5 at 1.000000"
    decoder.on_message_received(_status(6, t=1.05))  # follows the new value
    decoder.on_message_received(_status(6, t=1.10))  # a repeat is an error too
    assert decoder.integrity.e2e_counter_errors == 2
    assert decoder.integrity.e2e_crc_errors == 0


def test_counters_are_tracked_per_message(decoder: Decoder) -> None:
    faults = DB.message("BMS_Faults")
    for counter in range(3):
        decoder.on_message_received(_status(counter, t=counter * 0.05))
        data = e2e.protect(faults.frame_id, faults.encode({s.name: 0 for s in faults.signals}),
                           counter + 7)
        decoder.on_message_received(can.Message(arbitration_id=faults.frame_id, data=data,
                                                is_extended_id=False, timestamp=counter))
    assert decoder.integrity.e2e_counter_errors == 0
    assert decoder.integrity.e2e_crc_errors == 0


def test_unprotected_messages_are_not_checked(store: SignalStore) -> None:
    decoder = Decoder(DB, store)  # no E2E messages declared
    decoder.on_message_received(_status(0, corrupt=True))
    decoder.on_message_received(_status(7))
    assert decoder.integrity.e2e_crc_errors == 0
    assert decoder.integrity.e2e_counter_errors == 0
    assert decoder.integrity.frames == 2


def test_restart_sequences_forgets_counters(decoder: Decoder) -> None:
    decoder.on_message_received(_status(8, t=0.0))
    decoder.restart_sequences()
    decoder.on_message_received(_status(0, t=1.0))  # DUT rebooted: counter starts again
    assert decoder.integrity.e2e_counter_errors == 0
    decoder.on_message_received(_status(5, t=1.05))
    assert decoder.integrity.e2e_counter_errors == 1


def test_integrity_defaults() -> None:
    integrity = CanIntegrity()
    assert integrity.trustworthy
    assert integrity.frames_by_id[0x123] == 0
