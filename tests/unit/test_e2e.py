"""Unit tests for hil.e2e: CRC-8/SAE-J1850 and the 4-bit alive counter."""

from __future__ import annotations

import pytest
from crccheck.crc import Crc8SaeJ1850
from hypothesis import given, settings
from hypothesis import strategies as st

from hil import e2e

FAST = settings(max_examples=100, deadline=None, database=None)

frame_ids = st.integers(0, 0x7FF)
payloads = st.binary(min_size=2, max_size=8)
counters = st.integers(0, 1000)


def test_crc8_sae_j1850_check_value() -> None:
    # the catalogue check value of CRC-8/SAE-J1850 (poly 0x1D, init 0xFF, xorout 0xFF)
    assert Crc8SaeJ1850.calc(b"123456789") == 0x4B


def test_crc8_covers_the_id_low_byte_and_bytes_1_to_7() -> None:
    payload = bytes([0xAA, 1, 2, 3, 4, 5, 6, 7])
    assert e2e.crc8(0x1A0, payload) == Crc8SaeJ1850.calc(bytes([0xA0, 1, 2, 3, 4, 5, 6, 7]))
    # byte 0 (the CRC itself) does not take part
    assert e2e.crc8(0x1A0, payload) == e2e.crc8(0x1A0, b"\x00" + payload[1:])
    # only the low byte of the frame ID does
    assert e2e.crc8(0x0A0, payload) == e2e.crc8(0x1A0, payload)
    assert e2e.crc8(0x0A1, payload) != e2e.crc8(0x0A0, payload)


def test_protect_known_frame() -> None:
    # VCU_Request (0x100), counter 0, DRIVE request (value 1 at bit 12)
    data = e2e.protect(0x100, bytes([0, 0x10, 0, 0, 0, 0, 0, 0]), 0)
    assert data[1:] == bytes([0x10, 0, 0, 0, 0, 0, 0])
    assert data[0] == Crc8SaeJ1850.calc(bytes([0x00, 0x10, 0, 0, 0, 0, 0, 0]))


@FAST
@given(frame_id=frame_ids, payload=payloads, counter=counters)
def test_protect_round_trip(frame_id: int, payload: bytes, counter: int) -> None:
    data = e2e.protect(frame_id, payload, counter)
    assert len(data) == len(payload)
    assert e2e.crc_ok(frame_id, data)
    assert e2e.counter_of(data) == counter % 16
    # high nibble of byte 1 and bytes 2.. are the caller's
    assert data[1] & 0xF0 == payload[1] & 0xF0
    assert data[2:] == payload[2:]


@FAST
@given(frame_id=frame_ids, payload=payloads, counter=counters, data=st.data())
def test_any_single_bit_flip_is_detected(frame_id: int, payload: bytes, counter: int,
                                         data: st.DataObject) -> None:
    protected = bytearray(e2e.protect(frame_id, payload, counter))
    bit = data.draw(st.integers(0, len(protected) * 8 - 1))
    protected[bit // 8] ^= 1 << (bit % 8)
    assert not e2e.crc_ok(frame_id, protected)


@FAST
@given(frame_id=frame_ids, payload=payloads, counter=counters)
def test_crc_is_bound_to_the_frame_id(frame_id: int, payload: bytes, counter: int) -> None:
    protected = e2e.protect(frame_id, payload, counter)
    other = (frame_id & ~0xFF) | ((frame_id + 1) & 0xFF)
    assert not e2e.crc_ok(other, protected)


@pytest.mark.parametrize("payload", [b"", b"\x00"])
def test_too_short_frames_are_never_ok(payload: bytes) -> None:
    assert not e2e.crc_ok(0x100, payload)


@FAST
@given(st.integers(0, 15))
def test_counter_ok_accepts_exactly_the_next_value(previous: int) -> None:
    nxt = (previous + 1) % 16
    assert e2e.counter_ok(previous, nxt)
    for other in range(16):
        if other != nxt:
            assert not e2e.counter_ok(previous, other)


def test_counter_wraps_and_first_frame_is_accepted() -> None:
    assert e2e.counter_ok(15, 0)
    assert not e2e.counter_ok(15, 15)  # repeated frame
    assert all(e2e.counter_ok(None, c) for c in range(16))


def test_counter_of_reads_the_low_nibble_of_byte_1() -> None:
    assert e2e.counter_of(bytes([0xFF, 0xA7])) == 7
    assert e2e.counter_of(bytes([0x00, 0x0F, 0xFF])) == 15
