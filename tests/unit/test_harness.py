"""Unit tests for hil.sim.harness: the shared-memory analog harness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hil.sim.harness import LINES_FROM_BMS, LINES_TO_BMS, AnalogHarness, HarnessSnapshot


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AnalogHarness]:
    monkeypatch.delenv("HIL_KEEP_HARNESS", raising=False)
    h = AnalogHarness.create(16, 4, directory=str(tmp_path))
    yield h
    h.close()


def test_create_makes_a_zeroed_file_of_the_right_size(harness: AnalogHarness,
                                                      tmp_path: Path) -> None:
    assert harness.path.parent == tmp_path
    assert harness.path.name.startswith("hil-harness-")
    assert harness.path.stat().st_size == AnalogHarness.size_for(16, 4)
    assert (harness.n_cells, harness.n_temps) == (16, 4)
    assert harness.cell_volts.shape == (16,) and not harness.cell_volts.any()
    assert harness.ntc_ohms.shape == (4,) and not harness.ntc_ohms.any()
    assert not harness.sense_open.any() and not harness.balancing.any()
    assert not harness.lines_to_bms.any() and not harness.lines_from_bms.any()


@pytest.mark.parametrize(("cells", "temps"), [(1, 1), (7, 3), (16, 4), (192, 64)])
def test_size_for_fits_every_array(cells: int, temps: int) -> None:
    size = AnalogHarness.size_for(cells, temps)
    assert size % 8 == 0
    used = 64 + 8 * cells + 8 * temps + 2 * cells + len(LINES_TO_BMS) + len(LINES_FROM_BMS)
    assert used <= size < used + 4 * 8


def test_attach_sees_what_the_creator_writes(harness: AnalogHarness) -> None:
    bms_side = AnalogHarness.attach(harness.path)
    try:
        assert (bms_side.n_cells, bms_side.n_temps) == (16, 4)
        with harness.update():
            harness.cell_volts[:] = np.linspace(3.6, 3.75, 16)
            harness.ntc_ohms[:] = [10_000.0, 9_000.0, 8_000.0, 7_000.0]
            harness.sense_open[3] = 1
        harness.set_line("ignition", True)
        harness.set_line("charger_connected", True)
        harness.set_line("charger_connected", False)
        snap = bms_side.snapshot()
        assert isinstance(snap, HarnessSnapshot)
        np.testing.assert_allclose(snap.cell_volts, np.linspace(3.6, 3.75, 16))
        np.testing.assert_array_equal(snap.ntc_ohms, [10_000.0, 9_000.0, 8_000.0, 7_000.0])
        assert snap.sense_open.tolist() == [0, 0, 0, 1] + [0] * 12
        assert snap.lines == {"ignition": True, "hv_interlock": False,
                              "charger_connected": False}
    finally:
        bms_side.close()


def test_snapshot_is_a_copy(harness: AnalogHarness) -> None:
    harness.cell_volts[:] = 3.7
    snap = harness.snapshot()
    harness.cell_volts[:] = 4.2
    assert np.all(snap.cell_volts == 3.7)
    snap.cell_volts[0] = 0.0
    assert harness.cell_volts[0] == 4.2


def test_updates_leave_the_sequence_even(harness: AnalogHarness) -> None:
    for value in (3.6, 3.7, 3.8):
        with harness.update():
            assert int(harness._header[6]) % 2 == 1  # odd while writing
            harness.cell_volts[:] = value
        assert int(harness._header[6]) % 2 == 0
        assert np.all(harness.snapshot().cell_volts == value)


def test_lines_from_the_bms(harness: AnalogHarness) -> None:
    bms_side = AnalogHarness.attach(harness.path)
    try:
        bms_side.drive_from_bms("precharge", True)
        bms_side.drive_from_bms("main_negative", True)
        bms_side.balancing[2] = 1
        assert harness.line_from_bms("precharge")
        assert harness.line_from_bms("main_negative")
        assert not harness.line_from_bms("main_positive")
        assert not harness.line_from_bms("fault_output")
        assert harness.balancing.tolist()[:4] == [0, 0, 1, 0]
        bms_side.drive_from_bms("precharge", False)
        assert not harness.line_from_bms("precharge")
    finally:
        bms_side.close()


def test_unknown_line_names(harness: AnalogHarness) -> None:
    with pytest.raises(ValueError):
        harness.set_line("ignitoin", True)
    with pytest.raises(ValueError):
        harness.line_from_bms("ignition")  # a line to the BMS, not from it


def test_close_of_the_creator_removes_the_file(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIL_KEEP_HARNESS", raising=False)
    h = AnalogHarness.create(4, 2, directory=str(tmp_path))
    bms_side = AnalogHarness.attach(h.path)
    bms_side.close()
    assert h.path.exists()  # the attached side does not delete it
    h.close()
    assert not h.path.exists()
    assert list(tmp_path.iterdir()) == []


def test_attach_refuses_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(bytes(256))
    with pytest.raises(ValueError, match="is not an analog harness file"):
        AnalogHarness.attach(path)
