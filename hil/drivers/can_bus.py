"""The CAN endpoint over any python-can interface (SocketCAN on a Pi, `remote` on the sim rig).

One receive thread reads the bus and hands each frame to the listeners (decoder, CAN log) in
order. Frames we send are handed to the same listeners right after `send` returns, marked
`is_rx=False`, so logs and the signal store show both directions. A receive error that is not
part of shutting down means the bus is lost: the rig is told, and goes to its safe state.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import can
import pydantic

from hil.capabilities import CanEndpoint
from hil.drivers.registry import driver
from hil.errors import DriverError
from hil.rig.config import DriverSection
from hil.yamlfile import did_you_mean

if TYPE_CHECKING:
    from hil.rig.context import RigContext

log = logging.getLogger(__name__)


class PythonCanEndpoint(CanEndpoint):
    """A `CanEndpoint` on a python-can bus built from the rig file's arguments."""

    def __init__(self, bus_kwargs: dict[str, Any],
                 on_lost: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.bus_kwargs = dict(bus_kwargs)
        try:
            self.bus = can.Bus(**bus_kwargs)
        except Exception as err:  # python-can raises many types for "cannot open"
            described = ", ".join(f"{k}={v}" for k, v in bus_kwargs.items())
            raise DriverError(f"cannot open CAN bus ({described}): {err}") from err
        self._listeners: list[can.Listener] = []
        self._dispatch_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._log: can.Listener | None = None
        self._log_path: Path | None = None
        self._on_lost = on_lost
        self._stopping = threading.Event()
        self.lost_reason: str | None = None
        self.received = 0
        self.sent = 0
        self._thread = threading.Thread(target=self._receive_loop, name="hil-can-rx",
                                        daemon=True)
        self._thread.start()

    @property
    def timestamp_source(self) -> str:
        interface = self.bus_kwargs.get("interface", "?")
        if interface == "socketcan":
            return "kernel receive time (SO_TIMESTAMPNS), not controller hardware time"
        if interface == "remote":
            return "simulated hub receive time (host clock)"
        return f"{interface} receive timestamps"

    @property
    def channel_info(self) -> str:
        return str(getattr(self.bus, "channel_info", self.bus_kwargs))

    def send(self, msg: can.Message) -> None:
        if self.lost_reason is not None:
            raise DriverError(f"CAN bus lost: {self.lost_reason}")
        with self._send_lock:
            self.bus.send(msg, timeout=0.2)
            echo = copy.copy(msg)
            echo.timestamp = time.time()
            echo.is_rx = False
            self.sent += 1
        self._dispatch(echo)

    def add_listener(self, listener: can.Listener) -> None:
        with self._dispatch_lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: can.Listener) -> None:
        with self._dispatch_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def start_log(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.stop_log()
        writer = can.Logger(path)
        with self._dispatch_lock:
            self._log = writer
            self._log_path = path

    def stop_log(self) -> Path | None:
        with self._dispatch_lock:
            writer, path = self._log, self._log_path
            self._log = self._log_path = None
        if writer is not None:
            writer.stop()  # flushes and closes the file
        return path

    def _dispatch(self, msg: can.Message) -> None:
        with self._dispatch_lock:
            for listener in self._listeners:
                try:
                    listener.on_message_received(msg)
                except Exception:  # a broken listener must not stop the receive path
                    log.exception("CAN listener %r failed", listener)
            if self._log is not None:
                self._log.on_message_received(msg)

    def _receive_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                msg = self.bus.recv(0.1)
            except Exception as err:
                if self._stopping.is_set():
                    return
                self._lost(f"receiving failed: {err or type(err).__name__}")
                return
            if msg is None:
                continue
            self.received += 1
            self._dispatch(msg)

    def _lost(self, reason: str) -> None:
        self.lost_reason = reason
        log.error("CAN bus lost: %s", reason)
        if self._on_lost is not None:
            self._on_lost(f"CAN bus lost: {reason}")

    def close(self) -> None:
        if self._closed:
            return
        super().close()
        self._stopping.set()
        self._thread.join(timeout=2)
        self.stop_log()
        try:
            self.bus.shutdown()
        except Exception as err:  # a bus that is already gone cannot be shut down cleanly
            log.warning("CAN bus shutdown: %s", err)


class PythonCanSection(DriverSection):
    """Any python-can interface: `interface`, `channel`, `bitrate`, plus extra `options`."""

    interface: str
    channel: str | int
    bitrate: int = pydantic.Field(default=500_000, gt=0)
    options: dict[str, Any] = pydantic.Field(default_factory=dict)

    @pydantic.field_validator("interface")
    @classmethod
    def _known_interface(cls, name: str) -> str:
        if name not in can.VALID_INTERFACES:
            hint = did_you_mean(name, can.VALID_INTERFACES)
            raise ValueError(f"unknown python-can interface {name!r}{hint}")
        if name == "udp_multicast":
            raise ValueError("udp_multicast sends onto the LAN from the default network "
                             "namespace; use driver: sim-hub for a simulated bus")
        return name

    def bus_kwargs(self) -> dict[str, Any]:
        return {"interface": self.interface, "channel": self.channel, "bitrate": self.bitrate,
                **self.options}


@driver("can", "python-can")
class RealCanEndpoint(PythonCanEndpoint):
    """The rig's CAN HAT (or any adapter python-can supports), e.g. SocketCAN `can0`."""

    Config = PythonCanSection

    @classmethod
    def open(cls, config: PythonCanSection, ctx: RigContext) -> RealCanEndpoint:
        return cls(config.bus_kwargs(), on_lost=ctx.on_lost)
