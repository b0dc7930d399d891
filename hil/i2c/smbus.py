"""The slice of the smbus2 `SMBus` interface our drivers use, as a typing Protocol.

A driver accepts anything with these methods: `smbus2.SMBus(1)` on a Pi, or
`hil.sim.i2c.bus.SimSMBus` on a PC. Big-endian chips need their words byte-swapped, because
SMBus word calls are little-endian; drivers use `i2c_rdwr` or block calls to avoid that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from smbus2 import i2c_msg


class SMBusLike(Protocol):
    def write_byte(self, i2c_addr: int, value: int, force: bool | None = None) -> None: ...

    def read_byte(self, i2c_addr: int, force: bool | None = None) -> int: ...

    def write_byte_data(self, i2c_addr: int, register: int, value: int,
                        force: bool | None = None) -> None: ...

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int: ...

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int: ...

    def write_word_data(self, i2c_addr: int, register: int, value: int,
                        force: bool | None = None) -> None: ...

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int,
                            force: bool | None = None) -> list[int]: ...

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int],
                             force: bool | None = None) -> None: ...

    def i2c_rdwr(self, *i2c_msgs: i2c_msg) -> None: ...

    def close(self) -> None: ...
