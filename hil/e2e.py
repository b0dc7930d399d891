"""End-to-end protection of safety frames: alive counter and CRC-8.

The layout (CRC in byte 0 over the frame ID's low byte and bytes 1..7, 4-bit counter in byte 1)
is documented in dbc/bms.dbc. The rig fills it in on frames it sends and checks it on frames it
receives; the reference BMS does the same on its side.
"""

from __future__ import annotations

from crccheck.crc import Crc8SaeJ1850

COUNTER_MODULO = 16


def crc8(frame_id: int, payload: bytes | bytearray) -> int:
    """CRC-8/SAE-J1850 over the data ID (low byte of the frame ID) and bytes 1..7."""
    return Crc8SaeJ1850.calc(bytes([frame_id & 0xFF]) + bytes(payload[1:]))


def protect(frame_id: int, payload: bytes | bytearray, counter: int) -> bytes:
    """Return `payload` with the counter in byte 1 (low nibble) and the CRC in byte 0."""
    data = bytearray(payload)
    data[1] = (data[1] & 0xF0) | (counter % COUNTER_MODULO)
    data[0] = crc8(frame_id, data)
    return bytes(data)


def crc_ok(frame_id: int, payload: bytes | bytearray) -> bool:
    """True when byte 0 matches the CRC of the rest of the frame."""
    return len(payload) >= 2 and payload[0] == crc8(frame_id, payload)


def counter_of(payload: bytes | bytearray) -> int:
    return payload[1] & 0x0F


def counter_ok(previous: int | None, current: int) -> bool:
    """The alive counter must advance by exactly one; the first frame is always accepted."""
    return previous is None or current == (previous + 1) % COUNTER_MODULO
