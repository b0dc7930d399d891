"""DAC cells (MCP4728, AD5675R) on the simulated rig: the exact bytes of a pack update, when the
outputs move, switch selection, codes that never leave the rig's limits.

The drivers run unchanged against the register models of hil/sim/i2c; every assertion on bytes
reads the simulated bus's transaction log, every assertion on outputs reads the analog harness.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.drivers.dac_cells import Ad5675rCellsSection, DacCells
from hil.errors import DriverError, LimitError
from hil.rig.rig import Rig
from hil.sim.harness import AnalogHarness
from hil.sim.i2c.bus import SimSMBus, Transaction

REPO = Path(__file__).resolve().parents[2]
SIM_RIG = REPO / "rigs" / "sim.yaml"
GENERAL_CALL_UPDATE = "[W 00: 08]"
MV = 1e-3


# --- rigs -------------------------------------------------------------------------------------
@dataclass
class Sim:
    rig: Rig
    bus: SimSMBus
    harness: AnalogHarness

    @property
    def cells(self) -> DacCells:
        assert isinstance(self.rig.cells, DacCells)
        return self.rig.cells

    def wire(self) -> list[str]:
        return [str(t) for t in self.bus.take_log()]


def rig_variant(directory: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """rigs/sim.yaml with absolute paths, no slew limit and no fault section, then `change`."""
    data = yaml.safe_load(SIM_RIG.read_text(encoding="utf-8"))
    data["dut"]["profile"] = str(REPO / "dbc" / "bms.profile.yaml")
    data["cells"]["calibration"] = str(REPO / "rigs" / "calibration" / "sim-cells.yaml")
    data["limits"].pop("cell_slew_volts_per_second", None)
    data.pop("faults", None)
    change(data)
    path = directory / "rig.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def opened(path: Path) -> Iterator[Sim]:
    with Rig.load(path, power_dut=False) as rig:
        assert rig.i2c is not None
        yield Sim(rig, rig.i2c.sim_buses[1], rig._ctx.harness())  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    """The shipped simulated rig: 16 cells on 4 MCP4728 at 0x60..0x63, no switch."""
    yield from opened(SIM_RIG)


def _switched(data: dict[str, Any]) -> None:
    # 96 cells: 8 MCP4728 (0x60..0x67) on each of channels 0..2 of a TCA9548A at 0x71; the
    # AD5272s stay behind the switch at 0x70. Limits fall between DAC codes on purpose.
    data["cells"]["count"] = 96
    data["cells"]["chips"] = [{"bus": 1, "mux": 0x71, "mux_channel": seg, "address": 0x60 + i}
                              for seg in range(3) for i in range(8)]
    data["limits"]["cell_volts"] = {"min": 1.0002, "max": 4.2008}


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    yield from opened(rig_variant(tmp_path_factory.mktemp("switched"), _switched))


def _ad5675r(data: dict[str, Any]) -> None:
    # 16 cells on two AD5675R (8 channels each), LDAC of both on MCP23017 0x20 pin A3.
    data["cells"] = {"driver": "ad5675r", "count": 16, "gain2": True, "output_gain": 1.0,
                     "update": "ldac_line", "ldac_line": "dac_ldac",
                     "chips": [{"bus": 1, "address": 0x0C}, {"bus": 1, "address": 0x0D}]}
    data["lines"]["outputs"]["dac_ldac"] = {"chip": 0, "pin": "A3", "safe": True}
    data.pop("readback")


@pytest.fixture(scope="module")
def ad5675r(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    yield from opened(rig_variant(tmp_path_factory.mktemp("ad5675r"), _ad5675r))


def _beyond_dac(data: dict[str, Any]) -> None:
    # The limit (5.2 V) is above what the DAC stage can make (4095 x 1.25 mV = 5.119 V), and
    # fast changes are ramped at 500 V/s in 2 ms steps (1 V per step).
    data["limits"]["cell_volts"] = {"min": 0.0, "max": 5.2}
    data["limits"]["cell_slew_volts_per_second"] = 500.0


@pytest.fixture(scope="module")
def beyond_dac(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    yield from opened(rig_variant(tmp_path_factory.mktemp("beyond"), _beyond_dac))


# --- helpers ----------------------------------------------------------------------------------
def fast_write(address: int, codes: list[int]) -> str:
    """The MCP4728 Fast Write as the log prints it: `00 PD1 PD0 D11..D8`, `D7..D0` per channel,
    power-down bits 00."""
    data = " ".join(f"{code >> 8:02X} {code & 0xFF:02X}" for code in codes)
    return f"[W {address:02X}: {data}]"


def calibrated_code(cell: int, volts: float) -> int:
    """The nearest code by rigs/calibration/sim-cells.yaml, computed here independently:
    actual = gain * nominal + offset, nominal = code x 1.024 mV x 1.25 (gain x2, HAT stage)."""
    entry = CALIBRATION["cells"][cell]
    return round((volts - entry["offset"]) / entry["gain"] / (4.096 / 4096 * 1.25))


CALIBRATION = yaml.safe_load((REPO / "rigs" / "calibration" / "sim-cells.yaml").read_text(
    encoding="utf-8"))


def record_harness(sim: Sim, monkeypatch: pytest.MonkeyPatch
                   ) -> list[tuple[str, np.ndarray]]:
    """After every transaction on the bus: (the transaction, a copy of the harness cells)."""
    seen: list[tuple[str, np.ndarray]] = []
    transfer = sim.bus.transfer

    def recording(parts: Any) -> list[bytes]:
        try:
            return transfer(parts)
        finally:
            seen.append((str(sim.bus.log[-1]), sim.harness.cell_volts.copy()))

    monkeypatch.setattr(sim.bus, "transfer", recording)
    return seen


def decode_fast_writes(log: list[Transaction], cells: DacCells
                       ) -> list[tuple[int, int, int]]:
    """(cell, code, power-down bits) of every channel in every MCP4728 Fast Write of `log`.

    A Fast Write is one 8-byte write to a chip's address; the first byte's top two bits are the
    command (00). Chips are told apart by address and, behind a switch, by the selected channel.
    """
    config = cells.config
    chip_at: dict[tuple[int, int | None, int | None], int] = {}
    for index, loc in enumerate(config.chips):
        chip_at[(loc.address, loc.mux, loc.mux_channel)] = index
    cell_of = {where: cell for cell, where in enumerate(config.cell_channels(), start=1)}
    masks: dict[int, int] = {}
    out: list[tuple[int, int, int]] = []
    for transaction in log:
        for msg in transaction.messages:
            if msg.read:
                continue
            if 0x70 <= msg.address <= 0x77 and len(msg.data) == 1:
                masks[msg.address] = msg.data[0]
                continue
            if not 0x60 <= msg.address <= 0x67 or len(msg.data) != 8:
                continue
            assert msg.data[0] >> 6 == 0, f"not a Fast Write: {transaction}"
            candidates = [index for (address, mux, channel), index in chip_at.items()
                          if address == msg.address and (
                              mux is None or masks.get(mux, 0) >> channel & 1)]
            assert len(candidates) == 1, f"{transaction} reaches chips {candidates}"
            for channel in range(4):
                high, low = msg.data[2 * channel], msg.data[2 * channel + 1]
                cell = cell_of.get((candidates[0], channel))
                if cell is not None:
                    out.append((cell, (high & 0x0F) << 8 | low, high >> 4 & 0b11))
    return out


@pytest.fixture
def at_37(sim: Sim) -> Sim:
    """The sim rig with every cell at 3.7 V and an empty bus log."""
    sim.cells.set_all(3.7)
    sim.bus.take_log()
    return sim


# --- (a) a full pack update -------------------------------------------------------------------
def test_full_pack_update_is_one_fast_write_per_chip_then_one_general_call(
        at_37: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = at_37
    target = {cell: round(3.62 + 0.01 * cell, 3) for cell in range(1, 17)}
    seen = record_harness(sim, monkeypatch)
    before = sim.harness.cell_volts.copy()

    sim.cells.set(target)

    expected = [fast_write(0x60 + chip, [calibrated_code(4 * chip + ch + 1,
                                                         target[4 * chip + ch + 1])
                                         for ch in range(4)]) for chip in range(4)]
    assert [text for text, _ in seen] == [*expected, GENERAL_CALL_UPDATE]
    assert sim.wire() == [*expected, GENERAL_CALL_UPDATE]
    for text, volts in seen[:4]:  # input registers only: the BMS sees nothing yet
        assert np.array_equal(volts, before), f"outputs moved at {text}"
    after = seen[4][1]
    assert np.abs(after - np.array(list(target.values()))).max() < 1.5 * MV
    assert np.array_equal(sim.harness.cell_volts, after)


def test_full_pack_update_bytes_are_pinned(at_37: Sim) -> None:
    """A golden record of the first chip's Fast Write at 3.8 V (cell 1: 3039 = 0xBDF)."""
    at_37.cells.set_all(3.8)
    wire = at_37.wire()
    assert wire[0] == "[W 60: 0B DF 0B E6 0B E7 0B D8]"
    assert len(wire) == 5 and wire[-1] == GENERAL_CALL_UPDATE


def test_harness_moves_only_at_the_general_call_at_model_level(at_37: Sim) -> None:
    """Replaying the driver's Fast Writes without the general call changes no output."""
    sim = at_37
    sim.cells.set_all(3.9)
    fast_writes = [t for t in sim.bus.take_log() if t.messages[0].address != 0]
    sim.cells.set_all(3.7)
    sim.bus.take_log()
    before = sim.harness.cell_volts.copy()
    for transaction in fast_writes:
        msg = transaction.messages[0]
        sim.bus.transfer([(msg.address, False, msg.data)])
    assert np.array_equal(sim.harness.cell_volts, before)
    sim.bus.transfer([(0x00, False, b"\x08")])
    assert np.abs(sim.harness.cell_volts - 3.9).max() < 1.5 * MV
    sim.cells.set_all(3.7)  # the driver's shadow codes are 3.7 V again: make the chips agree


# --- (b) partial updates ----------------------------------------------------------------------
@pytest.mark.parametrize("cell", [1, 6, 11, 16])
def test_one_cell_update_writes_only_the_chip_holding_it(at_37: Sim, cell: int) -> None:
    sim = at_37
    before = sim.harness.cell_volts.copy()
    sim.cells.set({cell: 3.75})
    chip, channel = divmod(cell - 1, 4)
    codes = [calibrated_code(4 * chip + ch + 1, 3.7) for ch in range(4)]
    codes[channel] = calibrated_code(cell, 3.75)
    assert sim.wire() == [fast_write(0x60 + chip, codes), GENERAL_CALL_UPDATE]
    changed = np.flatnonzero(sim.harness.cell_volts != before)
    assert changed.tolist() == [cell - 1]
    assert sim.harness.cell_volts[cell - 1] == pytest.approx(3.75, abs=1.5 * MV)


def test_cells_on_two_chips_give_two_fast_writes_in_chip_order_and_one_update(
        at_37: Sim) -> None:
    sim = at_37
    sim.cells.set({14: 3.65, 2: 3.72, 3: 3.73})
    wire = sim.wire()
    assert [w[:6] for w in wire] == ["[W 60:", "[W 63:", "[W 00:"]
    assert wire[-1] == GENERAL_CALL_UPDATE
    assert sim.cells.commanded(14) == 3.65 and sim.cells.commanded(1) == 3.7


# --- (c) chips behind a switch ----------------------------------------------------------------
def _switch_writes(wire: list[str]) -> list[str]:
    return [w for w in wire if w.startswith(("[W 70:", "[W 71:"))]


def test_switched_full_update_selects_each_segment_once_then_all_for_the_update(
        switched: Sim) -> None:
    sim = switched
    cells = sim.cells
    cells.set_all(3.7)
    assert sim.rig.temperatures is not None
    sim.rig.temperatures.set({2: 30.0})  # leaves the AD5272 switch 0x70 on channel 1
    sim.bus.take_log()
    before = sim.harness.cell_volts.copy()

    cells.set_all(3.8)

    expected = ["[W 70: 00]"]  # the other switch disconnected: its 0x60.. never answer
    for seg in range(3):
        expected.append(f"[W 71: {1 << seg:02X}]")
        for i in range(8):
            first = 32 * seg + 4 * i + 1
            expected.append(fast_write(0x60 + i, [cells.code_for(first + ch, 3.8)
                                                  for ch in range(4)]))
    expected += ["[W 71: 07]", GENERAL_CALL_UPDATE]
    assert sim.wire() == expected
    delta = sim.harness.cell_volts - before  # every segment got the general call
    assert np.abs(delta - 0.1).max() < 2 * MV


def test_switch_is_written_only_when_the_selection_changes(switched: Sim) -> None:
    sim = switched
    cells = sim.cells
    cells.set_all(3.7)
    cells.set({70: 3.71})  # segment 2 (cells 65..96): switch to 04
    sim.bus.take_log()

    cells.set({90: 3.72})  # the same segment: no switch write at all
    assert _switch_writes(sim.wire()) == []
    cells.set({1: 3.72, 40: 3.73})  # segments 0 and 1
    assert _switch_writes(sim.wire()) == ["[W 71: 01]", "[W 71: 02]", "[W 71: 03]"]
    cells.set({33: 3.74})  # segment 1 alone: 03 connects two segments, so 02 is written
    assert _switch_writes(sim.wire()) == ["[W 71: 02]"]
    cells.set({34: 3.75})
    assert _switch_writes(sim.wire()) == []


def test_switched_updates_keep_the_wire_invariants(switched: Sim) -> None:
    """Over mixed updates: no switch write repeats the selection, every Fast Write reaches one
    chip only, every general call goes out with every segment written since the last one
    connected, and every cell shows its request afterwards."""
    sim = switched
    cells = sim.cells
    rng = np.random.default_rng(3)
    cells.set_all(3.7)
    sim.bus.take_log()
    for _ in range(12):
        chosen = rng.choice(np.arange(1, 97), size=int(rng.integers(1, 9)), replace=False)
        request = {int(c): float(rng.uniform(3.0, 4.0)) for c in chosen}
        before = sim.harness.cell_volts.copy()
        cells.set(request)
        log = sim.bus.take_log()
        masks = {0x70: None, 0x71: None}
        pending: set[int] = set()
        for transaction in log:
            (msg,) = transaction.messages
            if msg.address in masks:
                assert masks[msg.address] != msg.data[0], f"repeated selection {transaction}"
                masks[msg.address] = msg.data[0]
            elif msg.address == 0x00:
                connected = masks[0x71] or 0
                assert pending and all(connected >> seg & 1 for seg in pending)
                assert masks[0x70] in (None, 0)
                pending.clear()
            else:
                assert masks[0x70] in (None, 0)
                selected = masks[0x71]
                assert selected is not None and bin(selected).count("1") == 1
                pending.add(selected.bit_length() - 1)
        assert str(log[-1]) == GENERAL_CALL_UPDATE and not pending
        decoded = decode_fast_writes(log, cells)
        assert {cell for cell, _, _ in decoded} >= set(request)
        moved = set(np.flatnonzero(sim.harness.cell_volts != before) + 1)
        assert moved == set(request)
        for cell, volts in request.items():
            assert cells.volts_for(cell, cells.code_for(cell, volts)) == pytest.approx(
                volts, abs=0.63 * MV)


# --- (d) codes and limits ---------------------------------------------------------------------
def test_code_for_is_inside_the_limits_even_where_rounding_would_cross_them(
        switched: Sim) -> None:
    """Limits 1.0002..4.2008 V sit between codes: the nearest code is past them on some cells
    and the driver steps inward; at and inside the limits no code's output is outside."""
    cells = switched.cells
    low, high = cells.limits.low, cells.limits.high
    per_code = cells.lsb_volts * cells.config.output_gain
    crossed = 0
    for cell in range(1, cells.count + 1):
        cal = cells.calibration.cell(cell)
        for volts in (low, high):
            nearest = round(cal.to_nominal(volts) / per_code)
            crossed += not low <= cal.to_actual(nearest * per_code) <= high
        for volts in (low, low + 1e-4, 2.5, high - 1e-4, high):
            code = cells.code_for(cell, volts)
            assert 0 <= code <= 4095
            assert low <= cells.volts_for(cell, code) <= high, (cell, volts, code)
            assert abs(cells.volts_for(cell, code) - volts) <= per_code * 1.01
    assert crossed >= 80  # the clamp was really exercised (identity cells cross at both ends)


def test_code_for_at_the_upper_limit_stays_inside_on_every_calibrated_cell(sim: Sim) -> None:
    cells = sim.cells
    for cell in range(1, 17):
        code = cells.code_for(cell, cells.limits.high)
        assert cells.volts_for(cell, code) <= cells.limits.high
        assert cells.volts_for(cell, code) > cells.limits.high - 1.3 * MV


def test_code_for_at_the_lower_limit_stays_inside_on_every_calibrated_cell(sim: Sim) -> None:
    cells = sim.cells
    for cell in range(1, 17):
        code = cells.code_for(cell, cells.limits.low)
        assert cells.limits.low <= cells.volts_for(cell, code) < cells.limits.low + 1.3 * MV


@pytest.mark.parametrize("request_, message", [
    ({3: 5.01}, "cell 3: 5.01 V is above the limit 5 V (sim.yaml limits.cell_volts)"),
    ({3: -0.01}, "cell 3: -0.01 V is below the limit 0 V"),
    ({3: math.nan}, "cell 3: nan is not a number"),
    ({3: math.inf}, "cell 3: inf V is above the limit"),
    ({17: 3.7}, "cell 17 does not exist (this rig has cells 1..16)"),
    ({0: 3.7}, "cell 0 does not exist"),
    ({1: 3.8, 2: 3.9, 16: 5.5}, "cell 16: 5.5 V is above the limit"),  # all or nothing
])
def test_values_outside_the_limits_raise_and_put_nothing_on_the_bus(
        at_37: Sim, request_: dict[int, float], message: str) -> None:
    sim = at_37
    before = sim.harness.cell_volts.copy()
    with pytest.raises(LimitError) as err:
        sim.cells.set(request_)
    assert message in str(err.value)
    assert sim.bus.take_log() == []
    assert np.array_equal(sim.harness.cell_volts, before)
    assert [sim.cells.commanded(c) for c in range(1, 17)] == [3.7] * 16


def test_value_the_dac_cannot_reach_is_refused_unsent(beyond_dac: Sim) -> None:
    sim = beyond_dac
    sim.cells.set({1: 4.6})  # a small step: one write, no ramp
    sim.bus.take_log()
    with pytest.raises(LimitError, match=r"cell 1: 5.2 V is outside what the DAC can make"):
        sim.cells.set({1: 5.2})
    assert sim.bus.take_log() == []
    assert sim.cells.commanded(1) == 4.6


def test_value_the_dac_cannot_reach_is_refused_unsent_even_when_ramped(
        beyond_dac: Sim) -> None:
    sim = beyond_dac
    sim.cells.set({1: 3.7})
    sim.bus.take_log()
    before = sim.harness.cell_volts.copy()
    with pytest.raises(LimitError, match=r"outside what the DAC can make"):
        sim.cells.set({1: 5.2})  # 1.5 V at 500 V/s in 2 ms steps: a two-step ramp
    try:
        assert sim.bus.take_log() == []
        assert np.array_equal(sim.harness.cell_volts, before)
    finally:
        sim.cells.set({1: 3.7})


def test_ramped_change_stays_on_the_way_and_ends_at_the_request(beyond_dac: Sim) -> None:
    """A 1.5 V step at 500 V/s (1 V per 2 ms step) goes out as two whole-pack updates."""
    sim = beyond_dac
    sim.cells.set({2: 3.0})
    sim.bus.take_log()
    sim.cells.set({2: 4.5})
    log = sim.bus.take_log()
    assert [str(t) for t in log if t.messages[0].address == 0] == [GENERAL_CALL_UPDATE] * 2
    volts = [sim.cells.volts_for(cell, code) for cell, code, _ in decode_fast_writes(
        log, sim.cells) if cell == 2]
    assert volts[0] == pytest.approx(3.75, abs=1.3 * MV)
    assert volts[-1] == pytest.approx(4.5, abs=1.3 * MV)
    assert sim.harness.cell_volts[1] == pytest.approx(4.5, abs=1.5 * MV)


# --- (e) property: no byte on the wire drives a cell outside the limits -----------------------
requests = st.dictionaries(st.integers(1, 16), st.floats(-0.5, 5.5, allow_nan=False),
                           min_size=1, max_size=6)


# The rig's CAN thread (python-can-remote's websocket masks) draws from `random` while
# Hypothesis generates data; that does not touch Hypothesis's own randomness.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@settings(max_examples=50, deadline=None, database=None, derandomize=True)
@given(st.lists(requests, min_size=1, max_size=4))
def test_no_fast_write_ever_carries_a_code_outside_the_limits(
        sim: Sim, calls: list[dict[int, float]]) -> None:
    cells = sim.cells
    low, high = cells.limits.low, cells.limits.high
    sim.bus.take_log()
    wire: list[Transaction] = []
    for request in calls:
        outside = any(not low <= v <= high for v in request.values())
        try:
            cells.set(request)
        except LimitError:
            if outside:  # refused by the limits: refused before anything was written
                assert sim.bus.take_log() == []
            continue
        finally:
            wire += sim.bus.take_log()
        assert not outside, f"{request} was accepted"
        for cell, volts in request.items():
            assert cells.commanded(cell) == volts
            # one code (1.25 mV) when a limit pushed the code inward, plus calibration error
            assert sim.harness.cell_volts[cell - 1] == pytest.approx(volts, abs=2 * MV)
    for cell, code, pd in decode_fast_writes(wire, cells):
        assert pd == 0
        assert low <= cells.volts_for(cell, code) <= high, (cell, code)


# --- (f) AD5675R with an LDAC line ------------------------------------------------------------
def ad5675r_code(volts: float) -> int:
    return round(volts / (5.0 / 65536))  # GAIN pin high: 0..5 V, output stage x1


def word(address: int, channel: int, code: int) -> str:
    return f"[W {address:02X}: {0x10 | channel:02X} {code >> 8:02X} {code & 0xFF:02X}]"


@pytest.fixture
def ad_at_37(ad5675r: Sim) -> Sim:
    ad5675r.cells.set_all(3.7)
    ad5675r.bus.take_log()
    return ad5675r


def test_ad5675r_update_is_input_words_for_changed_channels_then_an_ldac_pulse(
        ad_at_37: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = ad_at_37
    seen = record_harness(sim, monkeypatch)
    before = sim.harness.cell_volts.copy()

    sim.cells.set({1: 3.8, 2: 3.9, 3: 3.7, 9: 3.6})  # cell 3 does not change

    # OLATA: ignition A0 and hv_interlock A1 on (initial state), LDAC on A3 high -> low -> high
    assert [text for text, _ in seen] == [
        word(0x0C, 0, ad5675r_code(3.8)), word(0x0C, 1, ad5675r_code(3.9)),
        word(0x0D, 0, ad5675r_code(3.6)),
        "[W 20: 14 03 00]", "[W 20: 14 0B 00]",
    ]
    assert word(0x0C, 0, ad5675r_code(3.8)) == "[W 0C: 10 C2 8F]"
    for text, volts in seen[:3]:
        assert np.array_equal(volts, before), f"outputs moved at {text}"
    at_edge = seen[3][1]  # the falling edge loads every DAC register at once
    assert sorted(np.flatnonzero(at_edge != before).tolist()) == [0, 1, 8]
    assert at_edge[[0, 1, 8]] == pytest.approx([3.8, 3.9, 3.6], abs=2 * MV)
    assert np.array_equal(seen[4][1], at_edge)


def test_ad5675r_unchanged_cells_write_no_word(ad_at_37: Sim) -> None:
    sim = ad_at_37
    sim.cells.set({5: 3.7, 12: 3.7})
    assert sim.wire() == ["[W 20: 14 03 00]", "[W 20: 14 0B 00]"]


def test_ad5675r_outputs_wait_for_the_pulse_after_the_rig_went_safe(
        ad_at_37: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = ad_at_37
    lines = sim.rig.lines
    assert lines is not None
    lines.go_safe()  # what Rig.go_safe does after the cells went safe: LDAC low
    try:
        seen = record_harness(sim, monkeypatch)
        before = sim.harness.cell_volts.copy()
        sim.cells.set({1: 3.8, 9: 3.6})
        words = [volts for text, volts in seen if text.startswith(("[W 0C:", "[W 0D:"))]
        assert len(words) == 2
        for volts in words:
            assert np.array_equal(volts, before)
    finally:
        monkeypatch.undo()
        lines.set("dac_ldac", True)
        for name, level in sim.rig.config.file.initial.lines.items():
            lines.set(name, level)


def test_ad5675r_section_counts_eight_channels_per_chip() -> None:
    section = Ad5675rCellsSection.model_validate(
        {"driver": "ad5675r", "count": 16, "update": "immediate",
         "chips": [{"address": 0x0C}, {"address": 0x0D}]})
    assert section.cell_channels()[8] == (1, 0)
    with pytest.raises(ValueError, match="fewer than 17 cells"):
        Ad5675rCellsSection.model_validate(
            {"driver": "ad5675r", "count": 17, "update": "immediate",
             "chips": [{"address": 0x0C}, {"address": 0x0D}]})


def test_ad5675r_too_few_channels_message_counts_eight_per_chip() -> None:
    with pytest.raises(ValueError, match="2 chips have 16 channels"):
        Ad5675rCellsSection.model_validate(
            {"driver": "ad5675r", "count": 17, "update": "immediate",
             "chips": [{"address": 0x0C}, {"address": 0x0D}]})


def test_i2c_failure_becomes_driver_error_and_the_next_update_reselects(switched: Sim) -> None:
    """A chip that stops answering: DriverError naming the bus error; the switch cache is
    dropped, so the next update selects its segment again."""
    sim = switched
    cells = sim.cells
    cells.set_all(3.7)
    cells.set({1: 3.71})
    sim.bus.take_log()
    switch = next(d for d in sim.bus.root.devices if d.address == 0x71)
    segment = switch.channels[0]  # type: ignore[attr-defined]
    chip = next(d for d in segment.devices if d.address == 0x60)
    segment.devices.remove(chip)
    try:
        with pytest.raises(DriverError, match="no ACK from 0x60"):
            cells.set({2: 3.72})
    finally:
        segment.devices.insert(0, chip)
    sim.bus.take_log()
    cells.set({2: 3.72})
    # every switch on the bus is written again: the other one off, then this segment
    assert _switch_writes(sim.wire())[:2] == ["[W 70: 00]", "[W 71: 01]"]
    assert sim.harness.cell_volts[1] == pytest.approx(3.72, abs=2 * MV)


def test_a_failed_update_does_not_leak_into_the_next_one(at_37: Sim) -> None:
    sim = at_37
    root = sim.bus.root.devices
    index = next(i for i, d in enumerate(root) if d.address == 0x62)
    chip = root.pop(index)
    try:
        with pytest.raises(DriverError, match="no ACK from 0x62"):
            sim.cells.set_all(3.9)  # 0x60 and 0x61 are loaded, then 0x62 does not answer
    finally:
        root.insert(index, chip)
    assert np.abs(sim.harness.cell_volts - 3.7).max() < 1.5 * MV  # nothing applied yet
    try:
        sim.cells.set({16: 3.75})  # chip 0x63 only
        assert [sim.cells.commanded(c) for c in range(1, 9)] == [3.7] * 8
        assert np.abs(sim.harness.cell_volts[:8] - 3.7).max() < 1.5 * MV
    finally:
        sim.cells.set_all(3.7)
