"""The run manifest: everything needed to know what a run tested, with what, and how.

Rig and its file hash, calibration, DUT profile and DBC hashes, the BMS firmware version read
off the bus, framework version and git commit, start time, host. It heads the HTML report, goes
into JUnit as test-suite properties and into the results history, so two runs can be compared
knowing what differed between them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import socket
import subprocess
from pathlib import Path

import hil
from hil.calibration import describe_calibration
from hil.decoder import CanIntegrity
from hil.rig.config import RigConfig
from hil.signals import SignalStore

REPO = Path(__file__).resolve().parents[2]


def sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def git_sha(root: Path = REPO) -> str:
    """The framework's commit (with '-dirty' for local changes), or 'unknown' outside git."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("-dirty" if dirty.strip() else "")


def now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def static_manifest(config: RigConfig, defects: list[str], started: str) -> dict[str, str]:
    """What is known before the rig opens."""
    profile_path = config.resolve(config.file.dut.profile)
    return {
        "rig": config.name,
        "rig_file": str(config.path),
        "rig_sha256": sha256(config.path),
        "calibration": describe_calibration(config),
        "profile": str(profile_path),
        "profile_sha256": sha256(profile_path),
        "defects": ", ".join(defects) or "none",
        "framework_version": hil.__version__,
        "git_sha": git_sha(),
        "started": started,
        "host": socket.gethostname(),
        "python": platform.python_version(),
    }


def live_manifest(profile: object, store: SignalStore, dbc_paths: list[Path],
                  timestamp_source: str) -> dict[str, str]:
    """What the open rig tells: firmware version from the bus, DBC hashes."""
    latest = {}
    for name in getattr(profile, "firmware_signals", []):
        sample = store.latest(name)
        latest[name] = None if sample is None else sample.value
    version = profile.firmware_version(latest)  # type: ignore[attr-defined]
    return {
        "firmware_version": version or "not reported",
        "dbc_sha256": ", ".join(f"{p.name}: {sha256(p)[:16]}" for p in dbc_paths),
        "timestamp_source": timestamp_source,
    }


def integrity_summary(integrity: CanIntegrity, lost: str | None) -> tuple[bool, str]:
    """(trustworthy, one paragraph) about the run's CAN path."""
    bus_off = integrity.bus_off_events
    parts = [
        f"{integrity.frames:,} frames ({integrity.transmitted:,} sent by the rig)",
        f"{integrity.unknown_frames:,} with IDs not in the DBC",
        f"{integrity.undecodable_frames:,} undecodable",
        f"{integrity.error_frames:,} error frames",
        f"{bus_off} bus-off events",
        f"E2E: {integrity.e2e_crc_errors} CRC and {integrity.e2e_counter_errors} counter errors",
        "drops/overruns: not reported by this interface",
    ]
    trustworthy = integrity.trustworthy and bus_off == 0 and lost is None
    text = "; ".join(parts)
    if lost:
        text = f"CAN path LOST during the run: {lost}. " + text
    return trustworthy, text
