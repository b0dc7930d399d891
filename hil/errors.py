"""One error root for the framework, and the few kinds users need to tell apart.

User mistakes (bad files, unknown names, values outside the rig's limits) are `HilError`s
whose message is one line: the CLI and the pytest plugin print them without a traceback.
"""

from __future__ import annotations

import os


class HilError(Exception):
    """Root of every error the framework raises on purpose."""


class ConfigError(HilError):
    """A user-written file (rig, profile, scenario, DBC, parameters) is wrong.

    The message names the file, the line and the field, then what is wrong and what is allowed:
    ``rigs/sim.yaml:12: can.bitrate: expected an integer, got 'fast'``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.path is not None:
            where = _display_path(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        if self.field:
            where += f"{self.field}: "
        return where + self.reason


class ScenarioError(ConfigError):
    """A scenario file is malformed or refers to names the DUT profile does not have."""


class LimitError(HilError):
    """A requested output is outside the rig's limits; refused before anything was written."""


class DriverError(HilError):
    """Hardware (or its simulated twin) did not do what was asked."""


class BusLostError(HilError):
    """The CAN bus or the device under test went away while a test was running."""


def _display_path(path: str) -> str:
    """Paths inside the working directory relative to it, as users type them; others whole."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
