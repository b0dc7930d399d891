"""A simulated I2C bus with the smbus2 `SMBus` interface, down to the raw bytes.

Drivers talk to this exactly as to `smbus2.SMBus(n)` on a Pi. Every call becomes the message
sequence the Linux adapter would put on the wire (START, address, bytes, repeated START,
STOP); chip models see those events one byte at a time, so the real pitfalls reproduce: the
register byte SMBus helpers always write first, pointer persistence, a mux selection that only
takes effect after STOP. An address nobody answers is NACKed with `OSError(121)`, as on a Pi.

Every transaction is logged, so tests assert on the bytes sent and benchmarks count them.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from smbus2 import i2c_msg

log = logging.getLogger(__name__)

GENERAL_CALL = 0x00
SMBUS_BLOCK_MAX = 32


class I2cDevice:
    """A simulated chip: override the hooks the bus calls for each bus event.

    `start` is called for every (repeated) START addressed to the device and returns the ACK;
    `start_general_call` instead for a write to address 0x00 (only if `general_call` is set), so
    a chip can tell a general call from a write to its own address; `write_byte` returns the ACK
    for each byte; `stop` is called once at the STOP of every transaction the device took part in.
    """

    address: int = 0
    general_call = False  # answers writes to address 0x00

    def start(self, read: bool) -> bool:
        return True

    def start_general_call(self) -> bool:
        """A (repeated) START with address 0x00, write. Returns the ACK."""
        return self.start(False)

    def write_byte(self, value: int) -> bool:
        return True

    def read_byte(self) -> int:
        return 0xFF

    def stop(self) -> None:
        pass

    def downstream(self) -> Sequence[Segment]:
        """Bus segments this device connects through now (only switches have any)."""
        return ()

    def all_segments(self) -> Sequence[Segment]:
        """Every segment behind this device, connected or not."""
        return self.downstream()


@dataclass
class Segment:
    """A stretch of bus wire and the devices on it."""

    name: str
    devices: list[I2cDevice] = field(default_factory=list)

    def add(self, device: I2cDevice) -> I2cDevice:
        self.devices.append(device)
        return device


@dataclass(frozen=True)
class Message:
    address: int
    read: bool
    data: bytes  # bytes written, or bytes read back

    def __str__(self) -> str:
        rw = "R" if self.read else "W"
        return f"[{rw} {self.address:02X}: {self.data.hex(' ').upper()}]"

    @property
    def wire_bytes(self) -> int:
        """Bytes clocked for this message: address byte plus data."""
        return 1 + len(self.data)


@dataclass(frozen=True)
class Transaction:
    """START ... STOP: messages separated by repeated STARTs. `nacked` if it was aborted."""

    messages: tuple[Message, ...]
    nacked: bool = False

    @property
    def wire_bytes(self) -> int:
        return sum(m.wire_bytes for m in self.messages)

    def __str__(self) -> str:
        return " Sr ".join(str(m) for m in self.messages) + (" NACK" if self.nacked else "")


class SimSMBus:
    """Drop-in for `smbus2.SMBus` whose wire is a tree of `Segment`s with chip models on it."""

    def __init__(self, bus: int = 1, root: Segment | None = None,
                 atomic: Callable[[], AbstractContextManager[object]] | None = None) -> None:
        self.bus = bus
        self.root = root or Segment(f"i2c-{bus}")
        self.log: list[Transaction] = []
        self.collisions = 0
        self.closed = False
        self._lock = threading.RLock()
        # Everything one transaction changes (a general-call update of all DACs) must reach
        # the analog harness as one update: `atomic` provides that scope.
        self._atomic = atomic or nullcontext

    # --- wiring ---------------------------------------------------------------------------
    def add(self, device: I2cDevice) -> I2cDevice:
        return self.root.add(device)

    def devices(self) -> Iterator[I2cDevice]:
        """Every device on the bus, whatever the switches select."""
        stack = [self.root]
        while stack:
            segment = stack.pop()
            for device in segment.devices:
                yield device
                stack.extend(device.all_segments())

    def _responders(self, address: int) -> list[I2cDevice]:
        found: list[I2cDevice] = []
        self._collect(self.root, address, found)
        return found

    def _collect(self, segment: Segment, address: int, found: list[I2cDevice]) -> None:
        for device in segment.devices:
            if address == GENERAL_CALL:
                if device.general_call:  # 0x00 is reserved: no device has it as its own address
                    found.append(device)
            elif device.address == address:
                found.append(device)
            for child in device.downstream():
                self._collect(child, address, found)

    # --- the wire -------------------------------------------------------------------------
    def transfer(self, parts: Sequence[tuple[int, bool, bytes | int]]) -> list[bytes]:
        """One transaction. parts: (address, read, data-to-write or count-to-read).

        Returns the bytes read for each read part. Raises OSError(121) on a NACK, after STOP.
        """
        with self._lock, self._atomic():
            if self.closed:
                raise OSError(errno.EBADF, "bus is closed")
            touched: list[I2cDevice] = []
            done: list[Message] = []
            reads: list[bytes] = []
            try:
                for address, read, payload in parts:
                    targets = self._responders(address)
                    acked = [d for d in targets if _start(d, address, read)]
                    for d in targets:
                        if d not in touched:
                            touched.append(d)
                    if not acked:  # the address byte was clocked: log it, with no data
                        done.append(Message(address, read, b""))
                        raise _Nack(address, done)
                    if len(acked) > 1 and address != GENERAL_CALL:
                        self.collisions += 1
                        log.warning("I2C address collision at 0x%02X on bus %d", address,
                                    self.bus)
                    if read:
                        count = int(payload)  # type: ignore[arg-type]
                        data = bytearray()
                        for _ in range(count):
                            value = 0xFF
                            for d in acked:  # open-drain: several drivers AND together
                                value &= d.read_byte() & 0xFF
                            data.append(value)
                        reads.append(bytes(data))
                        done.append(Message(address, True, bytes(data)))
                    else:
                        data = bytes(payload)  # type: ignore[arg-type]
                        for i, value in enumerate(data):
                            acks = [d.write_byte(value) for d in acked]
                            if not any(acks):
                                done.append(Message(address, False, data[: i + 1]))
                                raise _Nack(address, done)
                        done.append(Message(address, False, data))
            except _Nack as nack:
                self.log.append(Transaction(tuple(nack.done), nacked=True))
                raise OSError(errno.EREMOTEIO,
                              f"Remote I/O error (no ACK from 0x{nack.address:02X})") from None
            except BaseException:
                self.log.append(Transaction(tuple(done), nacked=True))
                raise
            else:
                self.log.append(Transaction(tuple(done)))
            finally:  # STOP reaches every chip of the transaction, however it ended
                for d in touched:
                    d.stop()
            return reads

    # --- the smbus2 API -------------------------------------------------------------------
    def write_quick(self, i2c_addr: int, force: bool | None = None) -> None:
        self.transfer([(i2c_addr, False, b"")])

    def read_byte(self, i2c_addr: int, force: bool | None = None) -> int:
        return self.transfer([(i2c_addr, True, 1)])[0][0]

    def write_byte(self, i2c_addr: int, value: int, force: bool | None = None) -> None:
        self.transfer([(i2c_addr, False, bytes([value & 0xFF]))])

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        return self.transfer([(i2c_addr, False, bytes([register])), (i2c_addr, True, 1)])[0][0]

    def write_byte_data(self, i2c_addr: int, register: int, value: int,
                        force: bool | None = None) -> None:
        self.transfer([(i2c_addr, False, bytes([register, value & 0xFF]))])

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        data = self.transfer([(i2c_addr, False, bytes([register])), (i2c_addr, True, 2)])[0]
        return data[0] | (data[1] << 8)  # SMBus words are little-endian

    def write_word_data(self, i2c_addr: int, register: int, value: int,
                        force: bool | None = None) -> None:
        self.transfer([(i2c_addr, False, bytes([register, value & 0xFF, (value >> 8) & 0xFF]))])

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int,
                            force: bool | None = None) -> list[int]:
        if not 0 < length <= SMBUS_BLOCK_MAX:
            raise ValueError(f"block length must be 1..{SMBUS_BLOCK_MAX} bytes, got {length}")
        return list(self.transfer([(i2c_addr, False, bytes([register])),
                                   (i2c_addr, True, length)])[0])

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int],
                             force: bool | None = None) -> None:
        if len(data) > SMBUS_BLOCK_MAX:
            raise ValueError(f"Data length cannot exceed {SMBUS_BLOCK_MAX} bytes")
        self.transfer([(i2c_addr, False, bytes([register, *data]))])

    def i2c_rdwr(self, *i2c_msgs: i2c_msg) -> None:
        parts: list[tuple[int, bool, bytes | int]] = []
        for msg in i2c_msgs:
            if msg.flags & 0x0001:  # I2C_M_RD
                parts.append((msg.addr, True, msg.len))
            else:
                parts.append((msg.addr, False, bytes(msg)))
        reads = iter(self.transfer(parts))
        for msg in i2c_msgs:
            if msg.flags & 0x0001:
                for i, value in enumerate(next(reads)):
                    msg.buf[i] = bytes([value])

    def close(self) -> None:
        self.closed = True

    def open(self, bus: int) -> None:
        self.bus = bus
        self.closed = False

    def __enter__(self) -> SimSMBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- for tests and benchmarks ---------------------------------------------------------
    def take_log(self) -> list[Transaction]:
        """The transactions since the last call (and forget them)."""
        with self._lock:
            out, self.log = self.log, []
        return out


def _start(device: I2cDevice, address: int, read: bool) -> bool:
    if address == GENERAL_CALL:
        # A read from 0x00 is the START byte, not a general call: nobody acknowledges it.
        return not read and device.start_general_call()
    return device.start(read)


class _Nack(Exception):
    def __init__(self, address: int, done: list[Message]) -> None:
        self.address = address
        self.done = done
