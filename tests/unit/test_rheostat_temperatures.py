"""Thermistor inputs from digital rheostats (AD5272 coarse+fine behind a TCA9548A, MCP4661):
temperature -> NTC ohms -> codes -> bytes, checked on the simulated bus and in the harness."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from hil.drivers.rheostat_temperatures import RheostatTemperatures
from hil.errors import LimitError
from hil.ntc import BetaNtc
from hil.rig.rig import Rig
from hil.sim.harness import AnalogHarness
from hil.sim.i2c.ad5272 import CTRL_RDAC_WRITE, SimAd5272
from hil.sim.i2c.bus import SimSMBus

REPO = Path(__file__).resolve().parents[2]
SIM_RIG = REPO / "rigs" / "sim.yaml"
NTC = BetaNtc(r25_ohms=10_000, beta=3435)  # rigs/sim.yaml's thermistor
AD_COARSE_STEP = 100_000 / 1024
AD_FINE_STEP = 20_000 / 1024
MCP_COARSE_STEP = 100_000 / 256
MCP_FINE_STEP = 10_000 / 256


@dataclass
class Sim:
    rig: Rig
    bus: SimSMBus
    harness: AnalogHarness
    open_log: list[str]  # every transaction while the rig opened
    open_ohms: np.ndarray  # the thermistor inputs once the rig was open

    @property
    def temps(self) -> RheostatTemperatures:
        assert isinstance(self.rig.temperatures, RheostatTemperatures)
        return self.rig.temperatures

    def wire(self) -> list[str]:
        return [str(t) for t in self.bus.take_log()]


def rig_variant(directory: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """rigs/sim.yaml with absolute paths and no fault section, then `change`."""
    data = yaml.safe_load(SIM_RIG.read_text(encoding="utf-8"))
    data["dut"]["profile"] = str(REPO / "dbc" / "bms.profile.yaml")
    data["cells"]["calibration"] = str(REPO / "rigs" / "calibration" / "sim-cells.yaml")
    data.pop("faults", None)
    change(data)
    path = directory / "rig.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def opened(path: Path) -> Iterator[Sim]:
    with Rig.load(path, power_dut=False) as rig:
        assert rig.i2c is not None
        bus = rig.i2c.sim_buses[1]  # type: ignore[attr-defined]
        harness = rig._ctx.harness()  # type: ignore[union-attr]
        yield Sim(rig, bus, harness, [str(t) for t in bus.take_log()], harness.ntc_ohms.copy())


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    yield from opened(SIM_RIG)


def _wide(data: dict[str, Any]) -> None:
    # Limits wider than the rheostats reach (-40 degC needs 248 kOhm), and sensor 4 with 600 Ohm
    # wiper resistance per pot, so the hot end (below 1.2 kOhm) is out of reach too.
    data["limits"]["temperature_celsius"] = {"min": -40.0, "max": 120.0}
    for part in ("coarse", "fine"):
        data["temperatures"]["sensors"][3][part]["wiper_ohms"] = 600.0


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    yield from opened(rig_variant(tmp_path_factory.mktemp("wide"), _wide))


def _mcp4661(data: dict[str, Any]) -> None:
    # Two MCP4661 pairs: 100k chips (0x28, 0x2A) coarse, 10k chips (0x29, 0x2B) fine; each chip's
    # wiper 0 serves one sensor and wiper 1 the next. 75 Ohm wiper resistance everywhere.
    def pot(address: int, ohms: float, wiper: int) -> dict[str, Any]:
        return {"bus": 1, "address": address, "r_nominal_ohms": ohms, "wiper": wiper,
                "wiper_ohms": 75.0}

    data["temperatures"] = {
        "driver": "mcp4661", "count": 4, "ntc": data["temperatures"]["ntc"],
        "sensors": [{"coarse": pot(coarse, 100_000.0, wiper), "fine": pot(coarse + 1, 10_000.0,
                                                                         wiper)}
                    for coarse in (0x28, 0x2A) for wiper in (0, 1)]}


@pytest.fixture(scope="module")
def mcp4661(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    yield from opened(rig_variant(tmp_path_factory.mktemp("mcp4661"), _mcp4661))


def ad5272_models(bus: SimSMBus) -> dict[tuple[int, int], SimAd5272]:
    """(switch channel, address) -> model, whatever the switch selects now."""
    switch = next(d for d in bus.root.devices if d.address == 0x70)
    return {(channel, d.address): d  # type: ignore[misc]
            for channel, segment in enumerate(switch.channels)  # type: ignore[attr-defined]
            for d in segment.devices if isinstance(d, SimAd5272)}


def rdac_write(address: int, code: int) -> str:
    return f"[W {address:02X}: {0x04 | code >> 8:02X} {code & 0xFF:02X}]"


def ad5272_codes(ohms: float, wiper_ohms: float = 0.0) -> tuple[int, int]:
    """Coarse takes the bulk and leaves the fine pot near mid-range (computed here anew)."""
    rest = ohms - 2 * wiper_ohms
    coarse = min(1023, max(0, math.floor((rest - 10_000) / AD_COARSE_STEP)))
    return coarse, round((rest - coarse * AD_COARSE_STEP) / AD_FINE_STEP)


# --- AD5272 -----------------------------------------------------------------------------------
def test_ad5272_unlock_is_sent_at_open_before_any_rdac_write(sim: Sim) -> None:
    selected = 0
    first: dict[tuple[int, int], str] = {}
    for text in sim.open_log:
        if text.startswith("[W 70: "):
            selected = int(text[7:9], 16)
        elif text.startswith(("[W 2C: ", "[W 2E: ")):
            assert bin(selected).count("1") == 1, f"{text} with switch mask {selected:02X}"
            first.setdefault((selected.bit_length() - 1, int(text[3:5], 16)), text[7:-1])
    assert first == {(ch, address): "1C 02" for ch in range(4) for address in (0x2C, 0x2E)}
    assert sim.open_log.count("[W 2C: 1C 02]") == 4 and sim.open_log.count("[W 2E: 1C 02]") == 4
    models = ad5272_models(sim.bus)
    assert len(models) == 8
    assert all(m.control & CTRL_RDAC_WRITE for m in models.values())


@pytest.mark.parametrize("celsius", [-20.0, -7.5, 0.0, 10.0, 25.0, 37.5, 60.0, 85.0, 100.0])
def test_temperature_becomes_the_ntc_resistance_within_one_fine_step(
        sim: Sim, celsius: float) -> None:
    sensors = {1: celsius, 2: min(100.0, celsius + 3.3), 3: max(-20.0, celsius - 4.1), 4: 25.0}
    sim.temps.set(sensors)
    for sensor, value in sensors.items():
        wanted = NTC.ohms(value)
        got = float(sim.harness.ntc_ohms[sensor - 1])
        assert abs(got - wanted) <= AD_FINE_STEP / 2 + 1e-9, (sensor, value, got, wanted)
    assert sim.temps.commanded(1) == celsius


def test_coarse_and_fine_codes_on_the_wire(sim: Sim) -> None:
    sim.temps.set({3: 25.0})
    sim.bus.take_log()
    sim.temps.set({3: 0.0})  # 28,705 Ohm: coarse 191 (18,652 Ohm) + fine 515 (10,059 Ohm)
    assert sim.wire() == ["[W 2C: 04 BF]", "[W 2E: 06 03]"]
    for celsius in (-20.0, -3.0, 12.0, 48.0, 77.0, 100.0):
        sim.temps.set({3: celsius})
        coarse, fine = ad5272_codes(NTC.ohms(celsius))
        assert sim.wire() == [rdac_write(0x2C, coarse), rdac_write(0x2E, fine)]
        assert 0 <= fine <= 1023
    models = ad5272_models(sim.bus)
    assert (models[(2, 0x2C)].rdac, models[(2, 0x2E)].rdac) == ad5272_codes(NTC.ohms(100.0))


def test_switch_channel_is_selected_per_sensor_and_only_when_it_changes(sim: Sim) -> None:
    sim.temps.set({4: 30.0})
    sim.bus.take_log()
    sim.temps.set({1: 20.0, 2: 21.0})
    wire = sim.wire()
    assert [w for w in wire if w.startswith("[W 70:")] == ["[W 70: 01]", "[W 70: 02]"]
    assert len(wire) == 6
    sim.temps.set({2: 22.0})
    assert [w[:6] for w in sim.wire()] == ["[W 2C:", "[W 2E:"]


def test_safe_state_is_25_degrees_on_every_sensor(sim: Sim) -> None:
    sim.temps.set({1: -10.0, 2: 90.0, 3: 40.0, 4: 5.0})
    sim.temps.go_safe()
    assert np.abs(sim.harness.ntc_ohms - 10_000.0).max() <= AD_FINE_STEP / 2
    assert [sim.temps.commanded(s) for s in range(1, 5)] == [25.0] * 4


def test_unreachable_cold_temperature_names_sensor_and_ohms_range_and_writes_nothing(
        wide: Sim) -> None:
    wide.temps.set_all(25.0)
    wide.bus.take_log()
    before = wide.harness.ntc_ohms.copy()
    with pytest.raises(LimitError) as err:
        wide.temps.set({1: -40.0})
    message = str(err.value)
    top = 100_000 * 1023 / 1024 + 20_000 * 1023 / 1024
    assert message.startswith("temperature sensor 1: -40 degC needs ")
    assert f"{NTC.ohms(-40.0):,.0f} Ohm" in message
    assert f"0..{top:,.0f} Ohm" in message  # 0..119,883 Ohm
    assert wide.bus.take_log() == []
    assert np.array_equal(wide.harness.ntc_ohms, before)
    assert wide.temps.commanded(1) == 25.0


def test_unreachable_hot_temperature_with_wiper_resistance(wide: Sim) -> None:
    wide.temps.set_all(25.0)
    wide.bus.take_log()
    with pytest.raises(LimitError, match=r"temperature sensor 4: 110 degC needs .* outside the "
                                         r"1,200\.\.121,083 Ohm"):
        wide.temps.set({4: 110.0})
    assert wide.bus.take_log() == []
    wide.temps.set({1: 110.0})  # the same temperature on a sensor without wiper resistance
    assert abs(wide.harness.ntc_ohms[0] - NTC.ohms(110.0)) <= AD_FINE_STEP / 2


def test_a_request_with_one_unreachable_sensor_writes_no_sensor(wide: Sim) -> None:
    wide.temps.set_all(25.0)
    wide.bus.take_log()
    before = wide.harness.ntc_ohms.copy()
    with pytest.raises(LimitError, match="temperature sensor 2"):
        wide.temps.set({1: 30.0, 2: -35.0, 3: 40.0})
    assert wide.bus.take_log() == []
    assert np.array_equal(wide.harness.ntc_ohms, before)


@pytest.mark.parametrize("celsius", [-20.0, 0.0, 25.0, 70.0])
def test_wiper_resistance_is_accounted_for(wide: Sim, celsius: float) -> None:
    wide.temps.set({4: celsius})
    coarse, fine = ad5272_codes(NTC.ohms(celsius), wiper_ohms=600.0)
    assert wide.wire()[-2:] == [rdac_write(0x2C, coarse), rdac_write(0x2E, fine)]
    assert abs(wide.harness.ntc_ohms[3] - NTC.ohms(celsius)) <= AD_FINE_STEP / 2 + 1e-9


def test_values_outside_the_rig_limits_are_refused_before_the_ntc_model(sim: Sim) -> None:
    sim.bus.take_log()
    with pytest.raises(LimitError, match=r"temperature sensor 2: 100\.5 degC is above the limit "
                                         r"100 degC \(sim.yaml limits.temperature_celsius\)"):
        sim.temps.set({2: 100.5})
    with pytest.raises(LimitError, match="temperature sensor 5 does not exist"):
        sim.temps.set({5: 25.0})
    assert sim.bus.take_log() == []


# --- MCP4661 ----------------------------------------------------------------------------------
def mcp4661_codes(ohms: float) -> tuple[int, int]:
    rest = ohms - 150.0
    coarse = min(256, max(0, math.floor((rest - 5_000) / MCP_COARSE_STEP)))
    return coarse, round((rest - coarse * MCP_COARSE_STEP) / MCP_FINE_STEP)


def wiper_write(address: int, wiper: int, code: int) -> str:
    return f"[W {address:02X}: {wiper << 4 | code >> 8:02X} {code & 0xFF:02X}]"


@pytest.mark.parametrize("celsius", [-20.0, -5.0, 0.0, 25.0, 42.0, 75.0, 100.0])
def test_mcp4661_temperature_becomes_the_ntc_resistance_within_one_fine_step(
        mcp4661: Sim, celsius: float) -> None:
    mcp4661.temps.set_all(celsius)
    for sensor in range(4):
        got = float(mcp4661.harness.ntc_ohms[sensor])
        assert abs(got - NTC.ohms(celsius)) <= MCP_FINE_STEP / 2 + 1e-9, (sensor, got)


def test_mcp4661_wiper_writes_on_the_wire(mcp4661: Sim) -> None:
    mcp4661.temps.set_all(25.0)
    mcp4661.bus.take_log()
    mcp4661.temps.set({2: 0.0, 3: 60.0})
    c2, f2 = mcp4661_codes(NTC.ohms(0.0))
    c3, f3 = mcp4661_codes(NTC.ohms(60.0))
    assert mcp4661.wire() == [wiper_write(0x28, 1, c2), wiper_write(0x29, 1, f2),
                              wiper_write(0x2A, 0, c3), wiper_write(0x2B, 0, f3)]
    assert (c2, f2) == (60, 131)  # 28,705 Ohm = 150 + 60 x 390.6 + 131 x 39.06 (+2.5)
    assert wiper_write(0x28, 1, c2) == "[W 28: 10 3C]"


def test_mcp4661_needs_no_unlock_and_touches_no_switch(mcp4661: Sim) -> None:
    assert not any(w.endswith(": 1C 02]") for w in mcp4661.open_log)
    assert not any(w.startswith(("[W 2C:", "[W 2E:", "[W 70:")) for w in mcp4661.open_log)
    assert np.abs(mcp4661.open_ohms - 10_000.0).max() <= MCP_FINE_STEP / 2  # nominal 25 degC


def test_mcp4661_split_reaches_full_scale_code_256() -> None:
    from hil.drivers.rheostat_temperatures import Mcp4661Section

    data = yaml.safe_load(SIM_RIG.read_text(encoding="utf-8"))
    _mcp4661(data)
    section = Mcp4661Section.model_validate(data["temperatures"])
    top = 100_000 + 10_000 + 150.0
    assert [code for _, code in section.split(1, top)] == [256, 256]
    assert [code for _, code in section.split(1, 150.0)] == [0, 0]
    with pytest.raises(ValueError, match=r"110,151 Ohm is outside the 150\.\.110,150 Ohm"):
        section.split(1, top + 1)


def test_mcp4661_value_outside_the_limits_is_refused_unsent(mcp4661: Sim) -> None:
    mcp4661.bus.take_log()
    with pytest.raises(LimitError, match="-25 degC is below the limit"):
        mcp4661.temps.set({1: -25.0})
    assert mcp4661.bus.take_log() == []
