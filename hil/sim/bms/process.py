"""The reference BMS as an OS process: `python -m hil.sim.bms --can-url ... --harness ...`.

A 10 ms cyclic task like a real controller's: between ticks it receives CAN frames, on each
tick it samples the analog harness, runs the firmware and sends what is due. It stops on
SIGTERM, on SIGINT, or when its parent goes away (stdin closes), and always leaves its
contactor outputs open.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import can
import cantools

from hil.sim.bms import defects as defect_registry
from hil.sim.bms.canio import BmsCanIo
from hil.sim.bms.firmware import ReferenceBms
from hil.sim.bms.params import DEFAULT_PARAMS, load_params
from hil.sim.harness import LINES_FROM_BMS, AnalogHarness

log = logging.getLogger("hil.sim.bms")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hil.sim.bms",
                                     description="Reference BMS process for the simulated rig")
    parser.add_argument("--can", required=True, metavar="JSON",
                        help='python-can Bus arguments, e.g. {"interface": "remote", '
                             '"channel": "ws://127.0.0.1:5000/"}')
    parser.add_argument("--harness", required=True, type=Path)
    parser.add_argument("--dbc", required=True, type=Path)
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS)
    parser.add_argument("--defect", action="append", default=[])
    parser.add_argument("--cells", type=int)
    parser.add_argument("--temperatures", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hall", metavar="OFFSET_V:V_PER_A", default=None,
                        help="read pack current from an analog Hall sensor instead of the IVT-S")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bms %(levelname)s %(message)s")
    params = load_params(args.params)
    updates = {}
    if args.cells:
        updates["cells"] = args.cells
    if args.temperatures:
        updates["temperatures"] = args.temperatures
    if args.hall:
        offset, gain = (float(x) for x in args.hall.split(":"))
        updates["current_sensor"] = params.current_sensor.model_copy(update={
            "kind": "hall", "hall_offset_volts": offset, "hall_volts_per_amp": gain})
    params = params.model_copy(update=updates)
    params, flags = defect_registry.apply(params, defect_registry.resolve(args.defect))
    db = cantools.database.load_file(args.dbc)

    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()

    harness = AnalogHarness.attach(args.harness)
    bus = can.Bus(**json.loads(args.can))
    try:
        now = time.monotonic()
        bms = ReferenceBms(params, flags, seed=args.seed, now=now)
        io = BmsCanIo(db, bms, now)
        print("READY", flush=True)
        log.info("firmware %s, %d cells, %d temperatures, defects: %s",
                 params.firmware_version, params.cells, params.temperatures,
                 ", ".join(args.defect) or "none")
        _run(bus, harness, bms, io, params.tick_seconds, stop)
    finally:
        for name in LINES_FROM_BMS:  # a controller losing power opens its contactors
            harness.drive_from_bms(name, False)
        harness.balancing[:] = 0
        bus.shutdown()
        harness.close()
    return 0


def _run(bus: can.BusABC, harness: AnalogHarness, bms: ReferenceBms, io: BmsCanIo,
         tick: float, stop: threading.Event) -> None:
    next_tick = time.monotonic()
    latched: set[str] = set()
    while not stop.is_set():
        # Every frame that has arrived is taken before the step, even when the tick is
        # already late: a controller's CAN interrupt does not wait for its task, and a
        # process stalled by its OS must not see the frames queued meanwhile as a timeout.
        while True:
            remaining = next_tick - time.monotonic()
            frame = bus.recv(remaining if remaining > 0 else 0.0)
            if frame is not None:
                io.receive(frame, time.monotonic())
            elif remaining <= 0:
                break
        now = time.monotonic()
        outputs = bms.step(now, harness.snapshot())
        active = {name for name, on in bms.faults().items() if on}
        if active != latched:  # the BMS's own log: which faults came and went, and when
            log.info("faults %s -> %s in %s (current silent %.3f s, VCU silent %.3f s)",
                     sorted(latched), sorted(active), bms.state.name,
                     bms.silent_seconds("current", now), bms.silent_seconds("vcu", now))
            latched = active
        harness.drive_from_bms("main_positive", outputs.main_positive)
        harness.drive_from_bms("main_negative", outputs.main_negative)
        harness.drive_from_bms("precharge", outputs.precharge)
        harness.drive_from_bms("fault_output", outputs.fault_output)
        harness.balancing[: len(outputs.balancing)] = outputs.balancing
        for frame in io.due_frames(now):
            bus.send(frame)
        next_tick += tick
        if next_tick < now - 5 * tick:  # overloaded: resynchronise instead of bursting
            next_tick = now + tick


def _watch_parent(stop: threading.Event) -> None:
    """Our parent holds our stdin open; end-of-file means it is gone, so we stop too."""
    try:
        while os.read(sys.stdin.fileno(), 64):
            pass
    except (OSError, ValueError):
        pass
    stop.set()


if __name__ == "__main__":
    sys.exit(main())
