"""The analog harness: the wires between the emulator and the BMS, as shared memory.

On a real rig the BMS sees DAC output voltages on its cell sense lines, thermistor resistances
on its NTC inputs and relay contacts on its digital inputs, and drives contactor coils and
balancing switches. On the simulated rig those quantities live in one memory-mapped file that
the emulator side writes and the reference BMS process reads (and the other way round for the
BMS's outputs). Nothing else passes between them except CAN.

A sequence lock makes a multi-value update (a whole pack of cells) appear to the reader all at
once, as one LDAC edge does on the real DACs.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = 0x48494C48  # "HILH"
VERSION = 2
HEADER_WORDS = 8

#: Digital lines the emulator drives into the BMS.
LINES_TO_BMS: tuple[str, ...] = ("ignition", "hv_interlock", "charger_connected")
#: Digital lines the BMS drives (contactor coils, fault output), read by the emulator.
LINES_FROM_BMS: tuple[str, ...] = ("main_positive", "main_negative", "precharge", "fault_output")


@dataclass(frozen=True)
class HarnessSnapshot:
    """A consistent copy of everything the BMS can measure at one instant."""

    cell_volts: np.ndarray
    ntc_ohms: np.ndarray
    sense_open: np.ndarray
    lines: dict[str, bool]
    hall_volts: float = 0.0  # an analog current sensor's output, if the rig emulates one


def _pad8(n: int) -> int:
    return (n + 7) // 8 * 8


class AnalogHarness:
    """Shared-memory wiring between emulator and BMS. One side creates, the other attaches."""

    def __init__(self, path: Path, mm: mmap.mmap, owner: bool) -> None:
        self.path = path
        self._mm = mm
        self._owner = owner
        header = np.frombuffer(mm, dtype=np.int64, count=HEADER_WORDS)
        if header[0] != MAGIC or header[1] != VERSION:
            raise ValueError(f"{path} is not an analog harness file (version {VERSION})")
        self.n_cells = int(header[2])
        self.n_temps = int(header[3])
        self._header = header
        offset = HEADER_WORDS * 8
        self.cell_volts = np.frombuffer(mm, np.float64, self.n_cells, offset)
        offset += self.n_cells * 8
        self.ntc_ohms = np.frombuffer(mm, np.float64, self.n_temps, offset)
        offset += self.n_temps * 8
        self.sense_open = np.frombuffer(mm, np.uint8, self.n_cells, offset)
        offset += _pad8(self.n_cells)
        self.balancing = np.frombuffer(mm, np.uint8, self.n_cells, offset)
        offset += _pad8(self.n_cells)
        self.lines_to_bms = np.frombuffer(mm, np.uint8, len(LINES_TO_BMS), offset)
        offset += _pad8(len(LINES_TO_BMS))
        self.lines_from_bms = np.frombuffer(mm, np.uint8, len(LINES_FROM_BMS), offset)
        offset += _pad8(len(LINES_FROM_BMS))
        self.hall_volts = np.frombuffer(mm, np.float64, 1, offset)

    @staticmethod
    def size_for(n_cells: int, n_temps: int) -> int:
        return (HEADER_WORDS * 8 + 8 * n_cells + 8 * n_temps + 2 * _pad8(n_cells)
                + _pad8(len(LINES_TO_BMS)) + _pad8(len(LINES_FROM_BMS)) + 8)

    @classmethod
    def create(cls, n_cells: int, n_temps: int, directory: str | None = None) -> AnalogHarness:
        """Create a new harness file (in /dev/shm when available) with everything at zero.

        HIL_HARNESS_DIR chooses the folder and HIL_KEEP_HARNESS=1 keeps the file after close,
        so a test can check the state a run left behind (e.g. after SIGTERM).
        """
        directory = directory or os.environ.get("HIL_HARNESS_DIR")
        if directory is None and os.path.isdir("/dev/shm"):
            directory = "/dev/shm"
        fd, name = tempfile.mkstemp(prefix="hil-harness-", suffix=".bin", dir=directory)
        size = cls.size_for(n_cells, n_temps)
        os.ftruncate(fd, size)
        mm = mmap.mmap(fd, size)
        os.close(fd)
        header = np.frombuffer(mm, dtype=np.int64, count=HEADER_WORDS)
        header[:] = 0
        header[2] = n_cells
        header[3] = n_temps
        header[1] = VERSION
        header[0] = MAGIC
        del header
        return cls(Path(name), mm, owner=True)

    @classmethod
    def attach(cls, path: str | os.PathLike[str]) -> AnalogHarness:
        with open(path, "r+b") as fh:
            mm = mmap.mmap(fh.fileno(), 0)
        return cls(Path(path), mm, owner=False)

    # --- emulator side -------------------------------------------------------------------
    @contextmanager
    def update(self) -> Iterator[None]:
        """Group writes so the BMS sees all of them or none (sequence lock, writer side).

        Self-healing: if an earlier update was interrupted (Ctrl-C) and left the sequence odd,
        this one still ends even.
        """
        odd = int(self._header[6]) | 1
        self._header[6] = odd  # odd: write in progress
        try:
            yield
        finally:
            self._header[6] = odd + 1

    def set_line(self, name: str, level: bool) -> None:
        self.lines_to_bms[LINES_TO_BMS.index(name)] = 1 if level else 0

    def line_from_bms(self, name: str) -> bool:
        return bool(self.lines_from_bms[LINES_FROM_BMS.index(name)])

    # --- BMS side -------------------------------------------------------------------------
    def snapshot(self) -> HarnessSnapshot:
        """A consistent copy of the emulator-driven quantities (sequence lock, reader side)."""
        for attempt in range(2000):
            before = int(self._header[6])
            cells = self.cell_volts.copy()
            ohms = self.ntc_ohms.copy()
            opens = self.sense_open.copy()
            lines = self.lines_to_bms.copy()
            hall = float(self.hall_volts[0])
            consistent = before % 2 == 0 and int(self._header[6]) == before
            if consistent or attempt == 1999:  # a writer that died mid-update: take what is there
                return HarnessSnapshot(
                    cells, ohms, opens,
                    {name: bool(lines[i]) for i, name in enumerate(LINES_TO_BMS)}, hall)
            time.sleep(0)
        raise AssertionError("unreachable")

    def drive_from_bms(self, name: str, level: bool) -> None:
        self.lines_from_bms[LINES_FROM_BMS.index(name)] = 1 if level else 0

    # --- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        """Unmap; the creating side also deletes the file."""
        for attr in ("cell_volts", "ntc_ohms", "sense_open", "balancing", "lines_to_bms",
                     "lines_from_bms", "hall_volts", "_header"):
            if hasattr(self, attr):
                delattr(self, attr)
        with contextlib.suppress(BufferError):  # a view still exists; freed at exit
            self._mm.close()
        if self._owner and os.environ.get("HIL_KEEP_HARNESS") != "1":
            self.path.unlink(missing_ok=True)
