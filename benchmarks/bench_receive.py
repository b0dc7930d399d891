"""Receive path throughput: our decode-into-store vs plain cantools decode, same frames.

The receive path must keep up with a fully loaded 500 kbit/s bus (~4,000 frames/s). Frames are
a realistic mix from dbc/bms.dbc (cell voltages, status, faults, pack values). The baseline is
`Message.decode` alone; ours adds frame counting, E2E checks and appending every signal to its
history. Reported: frames/s of each, their ratio, and the share of one core a full bus costs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import can

from hil import e2e
from hil.dbc import CanDatabase
from hil.decoder import Decoder
from hil.signals import SignalStore

DBC = Path(__file__).resolve().parent.parent / "dbc" / "bms.dbc"
FULL_BUS = 4000.0


def frames(db: CanDatabase, count: int) -> list[can.Message]:
    cells = db.message("BMS_CellVoltages")
    status = db.message("BMS_Status")
    pack = db.message("BMS_Pack")
    out = []
    for i in range(count):
        kind = i % 4
        if kind < 2:
            mux = i % 48
            values = {"CellVoltagesMux": mux}
            values.update({f"CellVoltage{mux * 4 + s + 1:03d}": 3.7 for s in range(4)})
            data, msg = cells.encode(values), cells
        elif kind == 2:
            values = {s.name: 0 for s in status.signals}
            data = e2e.protect(status.frame_id, status.encode(values), i)
            msg = status
        else:
            data, msg = pack.encode({"PackVoltage": 600.0, "PackCurrent": 12.3, "SOC": 55.5,
                                     "SOH": 100}), pack
        out.append(can.Message(timestamp=i * 2.5e-4, arbitration_id=msg.frame_id, data=data,
                               is_extended_id=False))
    return out


def best_rate(fn: Callable[[list[can.Message]], None], items: list[can.Message],
              repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn(items)
        best = min(best, time.perf_counter() - started)
    return len(items) / best


def run() -> tuple[str, list[str], list[list[object]], list[str]]:
    db = CanDatabase.load(DBC)
    msgs = frames(db, 20_000)

    def plain(items: list[can.Message]) -> None:
        for m in items:
            db.by_frame_id(m.arbitration_id).decode(m.data, decode_choices=False)

    def ours(items: list[can.Message]) -> None:
        decoder = Decoder(db, SignalStore(), ["BMS_Status"])
        for m in items:
            decoder.on_message_received(m)

    base = best_rate(plain, msgs)
    mine = best_rate(ours, msgs)
    rows = [
        ["plain cantools decode", base, 1.0, FULL_BUS / base * 100],
        ["hil receive path (decode + store)", mine, mine / base, FULL_BUS / mine * 100],
    ]
    notes = [f"ratio = frames/s relative to plain cantools in this process; "
             f"full bus = {FULL_BUS:,.0f} frames/s"]
    return ("Receive path throughput", ["path", "frames/s", "ratio", "% core at full bus"],
            rows, notes)
