"""A second DUT profile (foxBMS 2) decodes a real foxBMS trace: suites are not tied to our BMS."""

from __future__ import annotations

from pathlib import Path

import can
import pytest

from hil.decoder import Decoder
from hil.profile import Profile
from hil.signals import SignalStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def foxbms(shared_data: Path) -> Profile:
    return Profile.load(REPO / "dbc" / "foxbms.profile.yaml")


def test_real_foxbms_trace_decodes_through_the_profile(foxbms: Profile, shared_data: Path
                                                       ) -> None:
    store = SignalStore()
    decoder = Decoder(foxbms.database, store)
    for msg in can.TRCReader(shared_data / "foxbms-2" / "can-log.trc"):
        decoder.on_message_received(msg)
    assert decoder.integrity.frames == 9
    assert decoder.integrity.unknown_frames == 0
    assert decoder.integrity.undecodable_frames == 0

    def role(name: str) -> str:
        target = foxbms.resolve(name)
        sample = store.latest(target.series_name)
        assert sample is not None, f"{name}: nothing decoded"
        return target.label_of(sample.value * target.factor)

    assert role("state") == "FAULT"          # foxBMS's ERROR, seen through the canonical name
    assert role("fault_active") == "Error"
    # 0x250 mux 2 carries foxBMS cells 8..11, i.e. cell_voltage[9..12], in mV -> volts
    assert role("cell_voltage[9]") == "1.996 V"
    assert role("cell_voltage[12]") == "1.999 V"
    voltage = store.latest("f_StringValuesP0.Voltage")
    assert voltage is not None and voltage.value == pytest.approx(63.93)


def test_roles_use_foxbms_labels_and_units(foxbms: Profile) -> None:
    state = foxbms.resolve("state")
    assert state.value_of("DRIVE") == 7          # NORMAL
    assert state.value_of("FAULT") == 10         # ERROR
    cell = foxbms.resolve("cell_voltage[1]")
    assert cell.series_name == "f_CellVoltages.CellVoltage_000"
    assert cell.ref.mux_value == 0
    assert cell.factor == pytest.approx(0.001)   # mV in the DBC, volts for suites
    spec, message = foxbms.input_message("state_request")
    assert message.frame_id == 0x210
    assert spec.values["drive"] == "Discharge"
