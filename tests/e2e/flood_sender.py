"""Sends N numbered HIL_Flood frames at a given rate to a python-can bus (a separate process).

Usage: python flood_sender.py JSON_BUS_KWARGS COUNT FRAMES_PER_SECOND
"""

import json
import sys
import time

import can


def main() -> None:
    bus_kwargs, count, rate = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    bus = can.Bus(**bus_kwargs)
    start = time.perf_counter()
    try:
        for seq in range(count):
            due = start + seq / rate
            while (delay := due - time.perf_counter()) > 0:
                time.sleep(delay if delay > 0.001 else 0)
            data = seq.to_bytes(4, "little") + (0xA5A5A5A5).to_bytes(4, "little")
            bus.send(can.Message(arbitration_id=0x7F0, data=data, is_extended_id=False))
        print(f"SENT {count} in {time.perf_counter() - start:.3f} s", flush=True)
    finally:
        bus.shutdown()


if __name__ == "__main__":
    main()
