"""Loading DBC files and finding messages and signals in them, with errors people can act on.

cantools does the parsing and the codec; this module only wraps its failures into one-line
`ConfigError`s that name the file and line, and resolves ``Message.Signal`` names with a
"did you mean" for typos.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import cantools
from cantools.database.can import Database, Message, Signal

from hil.errors import ConfigError
from hil.yamlfile import did_you_mean

_LINE_RE = re.compile(r"line (\d+)")
_NAME_RE = re.compile(r"signals? (\w+)")


@dataclass(frozen=True)
class SignalRef:
    """A signal in a message, addressed as the DBC writes it: ``Message.Signal``."""

    message: Message
    signal: Signal

    @property
    def name(self) -> str:
        return f"{self.message.name}.{self.signal.name}"

    @property
    def mux_value(self) -> int | None:
        """The multiplexer value that carries this signal, or None if not multiplexed."""
        ids = self.signal.multiplexer_ids
        return ids[0] if ids and len(ids) == 1 else None

    def choice_value(self, label: str) -> int | None:
        """Raw value of an enum label (``"FAULT"`` -> 5), or None without such a label."""
        for raw, named in (self.signal.choices or {}).items():
            if str(named) == label:
                return int(raw)
        return None

    def choice_label(self, value: float) -> str | None:
        choices = self.signal.choices or {}
        named = choices.get(int(value)) if float(value).is_integer() else None
        return str(named) if named is not None else None


class CanDatabase:
    """One or more DBC files seen as one namespace of messages."""

    def __init__(self, databases: list[tuple[Path, Database]]) -> None:
        self.sources = [path for path, _ in databases]
        self._by_name: dict[str, Message] = {}
        self._by_id: dict[tuple[int, bool], Message] = {}
        for path, db in databases:
            for msg in db.messages:
                if msg.name in self._by_name:
                    raise ConfigError(f"message {msg.name!r} is defined in two DBC files",
                                      path=path)
                key = (msg.frame_id, msg.is_extended_frame)
                if key in self._by_id:
                    other = self._by_id[key].name
                    raise ConfigError(f"frame ID 0x{msg.frame_id:X} of {msg.name} is already "
                                      f"used by {other} in another DBC file", path=path)
                self._by_name[msg.name] = msg
                self._by_id[key] = msg

    @classmethod
    def load(cls, *paths: str | os.PathLike[str], strict: bool = True) -> CanDatabase:
        return cls([(Path(p), load_dbc(p, strict=strict)) for p in paths])

    @property
    def messages(self) -> list[Message]:
        return list(self._by_name.values())

    def message(self, name: str) -> Message:
        try:
            return self._by_name[name]
        except KeyError:
            hint = did_you_mean(name, self._by_name)
            raise KeyError(f"no message {name!r} in {self._describe()}{hint}") from None

    def by_frame_id(self, frame_id: int, extended: bool = False) -> Message | None:
        return self._by_id.get((frame_id, extended))

    def signal(self, qualified: str) -> SignalRef:
        """Resolve ``Message.Signal``; KeyError with a suggestion when either part is unknown."""
        if "." not in qualified:
            hint = did_you_mean(qualified, self._all_signal_names)
            raise KeyError(f"signal {qualified!r} must be written Message.Signal{hint}")
        msg_name, sig_name = qualified.split(".", 1)
        msg = self.message(msg_name)
        for sig in msg.signals:
            if sig.name == sig_name:
                return SignalRef(msg, sig)
        hint = did_you_mean(qualified, self._all_signal_names)
        raise KeyError(f"no signal {sig_name!r} in message {msg_name}{hint}")

    @cached_property
    def _all_signal_names(self) -> list[str]:
        return [f"{m.name}.{s.name}" for m in self._by_name.values() for s in m.signals]

    def _describe(self) -> str:
        return ", ".join(p.name for p in self.sources) or "the DBC"


def load_dbc(path: str | os.PathLike[str], *, strict: bool = True) -> Database:
    """Load one DBC; any failure becomes a ConfigError naming the file and, if known, the line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("DBC file not found", path=path)
    try:
        db = cantools.database.load_file(path, database_format="dbc", strict=strict)
    except Exception as err:  # cantools raises several unrelated types for bad input
        raise _dbc_error(path, err) from err
    assert isinstance(db, Database)
    return db


def _dbc_error(path: Path, err: Exception) -> ConfigError:
    text = str(err).strip().removeprefix("DBC: ").strip('"')
    text = " ".join(text.split())
    line = None
    match = _LINE_RE.search(text)
    if match:
        line = int(match.group(1))
    else:
        name = _NAME_RE.search(text)
        if name:
            line = _find_line(path, f"SG_ {name.group(1)} ")
    hint = ""
    if "does not fit" in text or "overlap" in text:
        hint = " (this DBC only loads with strict checks off: set dbc_strict: false)"
    return ConfigError(f"DBC does not load: {text}{hint}", path=path, line=line)


def _find_line(path: Path, needle: str) -> int | None:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                if needle in line:
                    return number
    except OSError:
        return None
    return None
