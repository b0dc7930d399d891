"""Digital lines through MCP23017 expanders on the simulated rig: relay outputs switch harness
lines and sense-wire relays with one latch write each, inputs read the BMS's outputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from hil.capabilities import DigitalLines
from hil.errors import LimitError
from hil.rig.rig import Rig
from hil.sim.harness import LINES_FROM_BMS, LINES_TO_BMS, AnalogHarness
from hil.sim.i2c.bus import SimSMBus
from hil.sim.i2c.mcp23017 import SimMcp23017

REPO = Path(__file__).resolve().parents[2]
SIM_RIG = REPO / "rigs" / "sim.yaml"


@dataclass
class Sim:
    rig: Rig
    bus: SimSMBus
    harness: AnalogHarness
    open_log: list[str]

    @property
    def lines(self) -> DigitalLines:
        assert self.rig.lines is not None
        return self.rig.lines

    def wire(self) -> list[str]:
        return [str(t) for t in self.bus.take_log()]

    def expander(self, address: int) -> SimMcp23017:
        return next(d for d in self.bus.root.devices  # type: ignore[return-value]
                    if isinstance(d, SimMcp23017) and d.address == address)

    def line_to_bms(self, name: str) -> bool:
        return bool(self.harness.lines_to_bms[LINES_TO_BMS.index(name)])


def rig_variant(directory: Path, change: Callable[[dict[str, Any]], None]) -> Path:
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
        yield Sim(rig, bus, rig._ctx.harness(), [str(t) for t in bus.take_log()])  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    yield from opened(SIM_RIG)


def _active_low(data: dict[str, Any]) -> None:
    # ignition through an inverting relay driver, fault_output read through an inverting buffer
    data["lines"]["outputs"]["ignition"]["active_low"] = True
    data["lines"]["inputs"]["fault_output"]["active_low"] = True


@pytest.fixture(scope="module")
def inverted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    yield from opened(rig_variant(tmp_path_factory.mktemp("active_low"), _active_low))


@pytest.fixture
def initial(sim: Sim) -> Sim:
    """Relays safe (all open), then the rig file's initial lines: ignition and hv_interlock."""
    sim.lines.go_safe()
    for name, level in sim.rig.config.file.initial.lines.items():
        sim.lines.set(name, level)
    for name in LINES_FROM_BMS:
        sim.harness.drive_from_bms(name, False)
    sim.bus.take_log()
    return sim


# --- outputs ----------------------------------------------------------------------------------
def test_open_configures_latches_before_directions(sim: Sim) -> None:
    """Safe latches first, then IODIR (outputs: ignition..charger A0-A2, GPx7), then pull-ups."""
    chip0 = [w for w in sim.open_log if w.startswith("[W 20:")]
    assert chip0[:4] == ["[W 20: 14 00 00]", "[W 20: 14 00 00]", "[W 20: 00 78 7F]",
                         "[W 20: 0C 00 00]"]
    chip1 = [w for w in sim.open_log if w.startswith("[W 21:")]
    assert chip1[:4] == ["[W 21: 14 00 00]", "[W 21: 14 00 00]", "[W 21: 00 00 00]",
                         "[W 21: 0C 00 00]"]
    assert chip0[4:] == ["[W 20: 14 01 00]", "[W 20: 14 03 00]"]  # initial: ignition, interlock


@pytest.mark.parametrize("name, on, off", [
    ("ignition", "[W 20: 14 03 00]", "[W 20: 14 02 00]"),
    ("hv_interlock", "[W 20: 14 03 00]", "[W 20: 14 01 00]"),
    ("charger_connected", "[W 20: 14 07 00]", "[W 20: 14 03 00]"),
])
def test_output_switches_its_harness_line_with_one_latch_write(
        initial: Sim, name: str, on: str, off: str) -> None:
    sim = initial
    others = {n: sim.line_to_bms(n) for n in LINES_TO_BMS if n != name}
    sim.lines.set(name, False)
    assert sim.wire() == [off]
    assert sim.line_to_bms(name) is False
    sim.lines.set(name, True)
    assert sim.wire() == [on]
    assert sim.line_to_bms(name) is True
    assert sim.lines.get(name) is True  # outputs read from the shadow: no bus traffic
    assert sim.wire() == []
    assert {n: sim.line_to_bms(n) for n in others} == others


@pytest.mark.parametrize("cell, latch", [(1, "01 00"), (3, "04 00"), (8, "80 00"),
                                         (9, "00 01"), (16, "00 80")])
def test_sense_open_relay_opens_exactly_its_cell_wire(initial: Sim, cell: int,
                                                      latch: str) -> None:
    sim = initial
    assert not sim.harness.sense_open.any()
    sim.lines.set(f"sense_open[{cell}]", True)
    assert sim.wire() == [f"[W 21: 14 {latch}]"]
    assert np.flatnonzero(sim.harness.sense_open).tolist() == [cell - 1]
    sim.lines.set(f"sense_open[{cell}]", False)
    assert sim.wire() == ["[W 21: 14 00 00]"]
    assert not sim.harness.sense_open.any()


def test_several_relays_accumulate_in_the_shadow_latches(initial: Sim) -> None:
    sim = initial
    sim.lines.set("sense_open[2]", True)
    sim.lines.set("sense_open[10]", True)
    sim.lines.set("charger_connected", True)
    sim.lines.set("sense_open[2]", False)
    assert sim.wire() == ["[W 21: 14 02 00]", "[W 21: 14 02 02]", "[W 20: 14 07 00]",
                          "[W 21: 14 00 02]"]
    assert np.flatnonzero(sim.harness.sense_open).tolist() == [9]
    assert sim.expander(0x21).output_level("B1") is True


def test_safe_state_opens_every_relay(initial: Sim) -> None:
    sim = initial
    for name in ("charger_connected", "sense_open[1]", "sense_open[7]", "sense_open[12]",
                 "sense_open[16]"):
        sim.lines.set(name, True)
    assert sim.harness.lines_to_bms.all() and sim.harness.sense_open.sum() == 4
    sim.bus.take_log()

    sim.lines.go_safe()

    wire = sim.wire()
    assert all(w.startswith(("[W 20: 14 ", "[W 21: 14 ")) for w in wire)
    assert len(wire) == len(sim.lines.outputs)  # one latch write per output line
    assert [w for w in wire if w.startswith("[W 20:")][-1] == "[W 20: 14 00 00]"
    assert [w for w in wire if w.startswith("[W 21:")][-1] == "[W 21: 14 00 00]"
    assert not sim.harness.lines_to_bms.any()
    assert not sim.harness.sense_open.any()
    assert not any(sim.lines.get(name) for name in sim.lines.outputs)
    for address in (0x20, 0x21):
        chip = sim.expander(address)
        assert not any(chip.output_level(f"{p}{b}") for p in "AB" for b in range(8))


# --- inputs -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, bit", [("main_positive", 0), ("main_negative", 1),
                                       ("precharge", 2), ("fault_output", 3)])
def test_input_reads_the_bms_output(initial: Sim, name: str, bit: int) -> None:
    sim = initial
    assert sim.lines.get(name) is False
    assert sim.wire() == ["[W 20: 12] Sr [R 20: 03 00]"]  # GPIOA (A0, A1 latched on), GPIOB
    sim.harness.drive_from_bms(name, True)
    assert sim.lines.get(name) is True
    assert sim.wire() == [f"[W 20: 12] Sr [R 20: 03 {1 << bit:02X}]"]
    assert [sim.lines.get(other) for other in LINES_FROM_BMS] == [
        other == name for other in LINES_FROM_BMS]
    sim.harness.drive_from_bms(name, False)
    assert sim.lines.get(name) is False


# --- active low -------------------------------------------------------------------------------
def test_active_low_output_drives_the_pin_low_when_on(inverted: Sim) -> None:
    sim = inverted
    sim.lines.go_safe()
    chip = sim.expander(0x20)
    assert chip.output_level("A0") is True  # safe = off = pin high
    assert sim.line_to_bms("ignition") is False
    sim.bus.take_log()
    sim.lines.set("ignition", True)
    assert sim.wire() == ["[W 20: 14 00 00]"]
    assert chip.output_level("A0") is False
    assert sim.line_to_bms("ignition") is True
    assert sim.lines.get("ignition") is True
    sim.lines.set("hv_interlock", True)  # an active-high neighbour on the same port
    assert sim.wire() == ["[W 20: 14 02 00]"]
    sim.lines.set("ignition", False)
    assert sim.wire() == ["[W 20: 14 03 00]"]
    assert sim.line_to_bms("ignition") is False and sim.line_to_bms("hv_interlock") is True


def test_active_low_input_is_inverted_back(inverted: Sim) -> None:
    sim = inverted
    chip = sim.expander(0x20)
    sim.harness.drive_from_bms("fault_output", True)
    assert chip.pin("B3") is False  # the buffer inverts: the pin is low while the fault is on
    assert sim.lines.get("fault_output") is True
    sim.harness.drive_from_bms("fault_output", False)
    assert chip.pin("B3") is True
    assert sim.lines.get("fault_output") is False
    sim.harness.drive_from_bms("precharge", True)  # not inverted
    assert chip.pin("B2") is True and sim.lines.get("precharge") is True
    sim.harness.drive_from_bms("precharge", False)


def test_active_low_safe_level_is_latched_before_the_pin_becomes_an_output(
        inverted: Sim) -> None:
    chip0 = [w for w in inverted.open_log if w.startswith("[W 20:")]
    assert chip0[:3] == ["[W 20: 14 01 00]", "[W 20: 14 01 00]", "[W 20: 00 78 7F]"]


# --- names ------------------------------------------------------------------------------------
def test_unknown_output_name_raises_and_writes_nothing(initial: Sim) -> None:
    sim = initial
    with pytest.raises(LimitError, match=r"lines: 'ignitoin' is not an output of this rig "
                                         r"\(outputs: ignition, hv_interlock"):
        sim.lines.set("ignitoin", True)
    with pytest.raises(LimitError, match="'main_positive' is not an output"):
        sim.lines.set("main_positive", True)  # an input cannot be driven
    with pytest.raises(LimitError, match=r"'sense_open\[17\]' is not an output"):
        sim.lines.set("sense_open[17]", True)
    with pytest.raises(LimitError, match=r"lines: 'contactor' is not a line of this rig "
                                         r"\(inputs: main_positive"):
        sim.lines.get("contactor")
    assert sim.wire() == []
    assert sim.line_to_bms("ignition") is True
