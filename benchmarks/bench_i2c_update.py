"""I2C cost of one full pack update, through the real cell drivers on the simulated bus.

For 16, 96 and 192 cells: the bytes and transactions our drivers put on the wire for one
update of every cell (all outputs changing together), the wire time at 100 and 400 kHz, and
the minimum the chips' command formats allow (hardware-reference section 10):

- MCP4728: one switch write per segment, one Fast Write per chip (9 bytes), then connect every
  used segment and one general-call software update.
- AD5675R: one switch write per segment, one 4-byte word per channel; the LDAC pulse costs no
  bus time when it is a Pi GPIO. Our rigs pulse LDAC through an MCP23017 pin (two 4-byte
  writes), which the table shows separately.

Ratio = our bytes / minimum bytes (goal: within 5 %).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from hil.i2c.timing import FAST, STANDARD, wire_seconds
from hil.profile import Profile
from hil.rig.config import load_rig_config
from hil.rig.context import RigContext
from hil.sim.i2c.bus import SimSMBus

REPO = Path(__file__).resolve().parent.parent


def _chips(count: int, addresses: list[int], per_segment: int) -> tuple[str, int]:
    lines = []
    segments = 0 if count <= per_segment else math.ceil(count / per_segment)
    for i in range(count):
        address = addresses[i % per_segment]
        if segments:
            lines.append(f"    - {{bus: 1, address: {address}, mux: 0x70, "
                         f"mux_channel: {i // per_segment}}}")
        else:
            lines.append(f"    - {{bus: 1, address: {address}}}")
    return "\n".join(lines), segments


def rig_text(part: str, cells: int) -> tuple[str, int, int]:
    if part == "mcp4728":
        chips = math.ceil(cells / 4)
        listing, segments = _chips(chips, list(range(0x60, 0x68)), 8)
        section = f"  driver: mcp4728\n  count: {cells}\n  output_gain: 1.25\n  chips:\n{listing}"
    else:
        chips = math.ceil(cells / 8)
        listing, segments = _chips(chips, list(range(0x0C, 0x10)), 4)
        section = (f"  driver: ad5675r\n  count: {cells}\n  gain2: true\n  update: ldac_line\n"
                   f"  ldac_line: dac_ldac\n  chips:\n{listing}")
    text = f"""
name: bench
dut: {{profile: {REPO / 'dbc' / 'bms.profile.yaml'}}}
dut_power: {{driver: manual}}
can: {{driver: python-can, interface: virtual, channel: bench}}
i2c: {{driver: sim}}
cells:
{section}
temperatures:
  driver: ad5272
  count: 1
  ntc: {{model: beta, r25_ohms: 10000, beta: 3435}}
  sensors: [{{coarse: {{bus: 2, address: 0x2C, r_nominal_ohms: 100000}}}}]
current: {{driver: ivt-s-can}}
lines:
  driver: mcp23017
  chips: [{{bus: 1, address: 0x20}}]
  outputs: {{dac_ldac: {{chip: 0, pin: A0, safe: true}}}}
limits:
  cell_volts: {{min: 0.0, max: 5.0}}
  temperature_celsius: {{min: -20, max: 100}}
  current_amps: {{min: -1, max: 1}}
safe_state: {{cell_volts: 3.7, temperature_celsius: 25}}
"""
    return text, chips, segments


def measure(part: str, cells: int) -> dict[str, float]:
    text, chips, segments = rig_text(part, cells)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(text)
        config = load_rig_config(path)
        ctx = RigContext(config, Profile.load(config.resolve(config.file.dut.profile)),
                         on_lost=print)
        opened = {}
        try:
            for kind in ("i2c", "lines", "cells"):
                cls, section = config.drivers[kind]
                opened[kind] = ctx.shared[kind] = cls.open(section, ctx)
            source = opened["cells"]
            bus: SimSMBus = opened["i2c"].sim_buses[1]
            source.set(dict.fromkeys(range(1, cells + 1), 3.6))
            bus.take_log()
            source.set({i: 3.7 + 0.001 * i for i in range(1, cells + 1)})
            ours = [t.wire_bytes for t in bus.take_log()]
        finally:
            opened["i2c"].close()
            ctx.close_harness()
    if part == "mcp4728":
        minimum = [2] * segments + [9] * chips + ([2] if segments else []) + [2]
        ldac = []
    else:
        minimum = [2] * segments + [4] * cells
        ldac = [4, 4]  # two MCP23017 OLAT writes for the LDAC pulse
    return {
        "ours_bytes": sum(ours), "ours_tx": len(ours), "min_bytes": sum(minimum),
        "ours_100k_ms": wire_seconds(ours, STANDARD) * 1e3,
        "ours_400k_ms": wire_seconds(ours, FAST) * 1e3,
        "min_100k_ms": wire_seconds(minimum, STANDARD) * 1e3,
        "min_400k_ms": wire_seconds(minimum, FAST) * 1e3,
        "ldac_bytes": sum(ldac),
    }


def run() -> tuple[str, list[str], list[list[object]], list[str]]:
    rows = []
    for part in ("mcp4728", "ad5675r"):
        for cells in (16, 96, 192):
            m = measure(part, cells)
            core = m["ours_bytes"] - m["ldac_bytes"]
            rows.append([part, cells, int(m["ours_tx"]), int(m["ours_bytes"]),
                         int(m["min_bytes"]), m["ours_100k_ms"], m["min_100k_ms"],
                         m["ours_400k_ms"], m["min_400k_ms"], core / m["min_bytes"],
                         m["ours_bytes"] / m["min_bytes"]])
    notes = [
        "bytes include address bytes; wire time = 9 clocks/byte + START/STOP + t_BUF per "
        "transaction (UM10204 minimums), Linux per-transaction overhead not included",
        "ratio = our bytes / minimum; 'with LDAC' counts the AD5675R LDAC pulse sent through "
        "an MCP23017 pin (zero with a Pi GPIO)",
    ]
    header = ["DAC", "cells", "transactions", "bytes", "min bytes", "100k ms", "min 100k ms",
              "400k ms", "min 400k ms", "ratio", "with LDAC"]
    return "I2C bytes and wire time per full pack update", header, rows, notes
