"""Child processes of the simulated rig (CAN hub, reference BMS): start, wait ready, stop.

Each child gets a pipe on stdin that only we hold: if this process dies, however it dies, the
pipe closes and the child exits. stderr goes to a log file so a child that fails to start can
say why in one line.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hil.errors import DriverError


class ChildProcess:
    def __init__(self, name: str, args: list[str], log_path: Path | None = None) -> None:
        self.name = name
        if log_path is None:
            fd, tmp = tempfile.mkstemp(prefix=f"hil-{name}-", suffix=".log")
            os.close(fd)
            log_path = Path(tmp)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the child
        self.proc = subprocess.Popen(
            [sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._log, close_fds=True)

    def wait_line(self, prefix: str, timeout: float) -> str:
        """Wait for the child to print a line starting with `prefix`; return the line."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        buffered = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buffered += chunk
            for line in buffered.decode(errors="replace").splitlines():
                if line.startswith(prefix):
                    return line
        self.stop()
        raise DriverError(f"{self.name} did not start within {timeout:g} s: {self.last_error()}")

    def last_error(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        for line in reversed(lines):
            if line.strip() and not line.startswith((" ", "Traceback")):
                return line.strip()
        return f"see {self.log_path}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 3.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not go; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self._log.close()
        return self.proc.returncode
