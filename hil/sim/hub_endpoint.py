"""The simulated rig's CAN endpoint: a loopback hub process and a python-can `remote` client.

The rig file says `can: {driver: sim-hub}`; the hub (hil.sim.can_hub) starts first, then the
framework and the reference BMS connect to it as two nodes of one bus.
"""

from __future__ import annotations

from pathlib import Path

import pydantic

from hil.drivers.can_bus import PythonCanEndpoint
from hil.drivers.registry import driver
from hil.rig.config import DriverSection
from hil.rig.context import RigContext
from hil.sim.can_hub import is_loopback
from hil.sim.child import ChildProcess

START_TIMEOUT = 10.0


class SimHubSection(DriverSection):
    host: str = "127.0.0.1"
    bitrate: int = pydantic.Field(default=500_000, gt=0,
                                  description="informational: the hub does not pace frames")

    @pydantic.field_validator("host")
    @classmethod
    def _loopback(cls, host: str) -> str:
        if not is_loopback(host) or ":" in host:
            raise ValueError(f"{host!r} is not an IPv4 loopback address; the simulated CAN hub "
                             "only listens on 127.0.0.0/8")
        return host


@driver("can", "sim-hub")
class SimHubEndpoint(PythonCanEndpoint):
    """A `CanEndpoint` whose bus is the loopback hub this endpoint starts and stops."""

    Config = SimHubSection

    def __init__(self, hub: ChildProcess, url: str, ctx: RigContext) -> None:
        self.hub = hub
        self.url = url
        super().__init__({"interface": "remote", "channel": url}, on_lost=ctx.on_lost)

    @classmethod
    def open(cls, config: SimHubSection, ctx: RigContext) -> SimHubEndpoint:
        log = Path(ctx.log_dir, "can_hub.log") if ctx.log_dir else None
        hub = ChildProcess("CAN hub", ["-m", "hil.sim.can_hub", "--host", config.host,
                                       "--port", "0"], log)
        port = int(hub.wait_line("PORT ", START_TIMEOUT).split()[1])
        url = f"ws://{config.host}:{port}/"
        ctx.shared["can_hub_url"] = url
        try:
            return cls(hub, url, ctx)
        except Exception:
            hub.stop()
            raise

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.hub.stop()
