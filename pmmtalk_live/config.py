"""Settings of ``pmmtalk-live serve``: defaults, then a YAML file (``--config``), then the command line.

The YAML keys are the long options with ``_`` for ``-`` (``lookahead_ms: 80``); docs/serve.md lists
them. Sinks are ``HOST:PORT`` strings, optionally ``HOST:PORT@SUBJECT`` for a sink that carries its
own subject name (several characters from one daemon), or mappings ``{host, port, subject}``.
Errors are one line naming the file and the key (ConfigError).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import yaml_file
from .animators import ANIMATORS, DEFAULT_ANIMATOR, DEFAULT_COMPUTE, DEFAULT_FPS, DEFAULT_LOOKAHEAD_MS, FPS_CHOICES
from .animators.emotion import NEUTRAL, Emotion, parse_emotion
from .audio import DEFAULT_RAW_CHANNELS, DEFAULT_RAW_FORMAT, DEFAULT_RAW_RATE_HZ, RAW_FORMAT_NAMES
from .control import DEFAULT_PORT as DEFAULT_CONTROL_PORT
from .errors import ConfigError, SinkError, TakeError
from .retarget import LIVE_PRESET
from .sinks import DEFAULT_LIVELINK_PORT, DEFAULT_OSC_PORT, DEFAULT_SLATE, DEFAULT_SUBJECT
from .sinks.csv_take import check_take_name
from .sinks.osc import parse_address
from .studio import DEFAULT_HOST as STUDIO_HOST
from .studio import DEFAULT_PORT as DEFAULT_STUDIO_PORT
from .stream import DEFAULT_HOP_MS, DEFAULT_MAX_BACKLOG_MS, HOP_MS_RANGE
from .yaml_file import shorten, show

MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Destination:
    """A sink's address; ``subject`` None = the session's subject (changed by ``/LiveLinkSubject``)."""

    host: str
    port: int
    subject: str | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" + (f"@{self.subject}" if self.subject else "")


@dataclass
class ServeConfig:
    input: str = "mic"
    """``mic``, an audio file, or ``-`` for raw PCM on stdin."""
    device: str | None = None
    """Microphone by index or name (part of it, any case); None = the system default input."""
    fast: bool = False
    """Files: as fast as possible instead of at real-time pace."""
    loop: bool = False
    """Files: start again at the end (demos, long benchmarks)."""
    raw_rate: int = DEFAULT_RAW_RATE_HZ
    raw_channels: int = DEFAULT_RAW_CHANNELS
    raw_format: str = DEFAULT_RAW_FORMAT
    preset: str = LIVE_PRESET
    animator: str = DEFAULT_ANIMATOR
    ckpt: str | None = None
    """The PMMTalk model (``animator: pmmtalk``): a run folder or a packaged model name; None = the
    shipped default model."""
    compute: str = DEFAULT_COMPUTE
    """Where the PMMTalk model's pretrained networks run: ``cpu`` or ``cuda`` / ``cuda:N`` (``inference.set_compute``)."""
    fps: int = DEFAULT_FPS
    lookahead_ms: float = DEFAULT_LOOKAHEAD_MS
    hop_ms: float = DEFAULT_HOP_MS
    max_backlog_ms: float = DEFAULT_MAX_BACKLOG_MS
    subject: str = DEFAULT_SUBJECT
    osc: list[Destination] | None = None
    """None = 127.0.0.1 at ``DEFAULT_OSC_PORT``, unless only ``livelink`` is given."""
    livelink: list[Destination] | None = None
    """None = 127.0.0.1 at ``DEFAULT_LIVELINK_PORT``, unless only ``osc`` is given."""
    record: str | None = None
    """Record a take from the start into this folder."""
    takes_dir: str | None = None
    """Where takes started by ``/RecordStart`` go (default: ``record``, else ``takes``)."""
    slate: str = DEFAULT_SLATE
    control: Destination | None = field(default_factory=lambda: Destination("127.0.0.1", DEFAULT_CONTROL_PORT))
    """The remote-control port; None = off."""
    studio: Destination | None = None
    """The studio page's address (``--studio``); None = no page."""
    idle: bool = True
    emotion: Emotion = NEUTRAL
    """The face's mood at the start (``NAME[:INTENSITY]``); a remote ``/Emotion`` changes it live."""
    seed: int = 0
    quiet: bool = False

    def destinations(self) -> tuple[list[Destination], list[Destination]]:
        """(OSC, Live Link Face) destinations with the defaults filled in."""
        osc, livelink = self.osc, self.livelink
        if osc is None and livelink is None:
            return [Destination("127.0.0.1", DEFAULT_OSC_PORT)], [Destination("127.0.0.1", DEFAULT_LIVELINK_PORT)]
        return list(osc or []), list(livelink or [])

    @property
    def takes_folder(self) -> str:
        return self.takes_dir or self.record or "takes"


_FIELDS = {f.name: f for f in dataclasses.fields(ServeConfig)}
COMPUTE_PATTERN = re.compile(r"cpu|cuda(:[0-9]+)?")
"""``compute``: the CPU, or a CUDA device."""
_CHOICES = {"fps": FPS_CHOICES, "raw_format": RAW_FORMAT_NAMES, "animator": ANIMATORS}
_PORT_ONLY = re.compile(r"[0-9]+")
"""``--control 18006``: a port alone (ASCII digits) is a port on 127.0.0.1."""
_RANGES = {"lookahead_ms": (0.0, 1000.0), "hop_ms": HOP_MS_RANGE, "max_backlog_ms": (20.0, 5000.0),
           "raw_rate": (1000, 384000), "raw_channels": (1, 64)}


def parse_destination(text: str, default_port: int, what: str) -> Destination:
    """``HOST:PORT[@SUBJECT]``, ``[IPv6]:PORT``, or a bare ``HOST`` (default port), as the sinks'
    ``parse_address`` reads them; ``SUBJECT`` must be a name ``--subject`` accepts. Raises ConfigError."""
    text = str(text).strip()
    subject = None
    if "@" in text:
        text, subject = text.rsplit("@", 1)
        if not subject:
            raise ConfigError(f"{what} {text}@: empty subject name after '@'")
        try:
            check_take_name(subject, "subject")
        except TakeError as error:
            raise ConfigError(f"{what} {text}@{subject}: {error}") from None
    return Destination(*_address(text, default_port, what), subject)


def parse_control(value, what: str) -> Destination | None:
    """The remote-control port: ``off`` (any case; false in YAML) for none, a bare ``PORT`` for
    127.0.0.1:PORT, ``HOST:PORT``, ``[IPv6]:PORT``, a bare ``HOST`` (port 8000) or a mapping
    ``{host, port}``. Port 0 picks a free one. Raises ConfigError."""
    return _listen_address(value, DEFAULT_CONTROL_PORT, what, "the control port")


def parse_studio(value, what: str) -> Destination | None:
    """The studio page's address, written as ``parse_control`` reads the control port's (``on`` or
    true: 127.0.0.1 at ``studio.DEFAULT_PORT``)."""
    if value is True or (isinstance(value, str) and value.strip().lower() == "on"):
        value = f"{STUDIO_HOST}:{DEFAULT_STUDIO_PORT}"
    return _listen_address(value, DEFAULT_STUDIO_PORT, what, "the studio")


def _listen_address(value, default_port: int, what: str, role: str) -> Destination | None:
    if value is None or value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    if isinstance(value, dict):
        if not set(value) <= {"host", "port"} or "host" not in value:
            raise ConfigError(f"{what}: a mapping needs host (and port), got keys {sorted(map(str, value))}")
        host, port = str(value["host"]), value.get("port", default_port)
        value = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(f"{what}: expected HOST:PORT or off, got {str(value).lower()[:40]}")
    text = str(value).strip()
    if "@" in text:
        raise ConfigError(f"{what} {text}: {role} has no subject")
    if _PORT_ONLY.fullmatch(text):
        text = f"127.0.0.1:{text}"
    return Destination(*_address(text, default_port, what, listen=True))


def _address(text: str, default_port: int, what: str, listen: bool = False) -> tuple[str, int]:
    try:
        return parse_address(text, default_port, listen=listen)
    except SinkError as error:
        raise ConfigError(f"{what}: {error}") from None


def _destination(value, default_port: int, what: str) -> Destination:
    if isinstance(value, dict):
        unknown = set(value) - {"host", "port", "subject"}
        if unknown or "host" not in value:
            raise ConfigError(f"{what}: a mapping needs host (and port, subject), got keys {show(list(value))}")
        port = value.get("port", default_port)
        text = f"{value['host']}:{port}" if ":" not in str(value["host"]) else f"[{value['host']}]:{port}"
        return parse_destination(text + (f"@{value['subject']}" if value.get("subject") else ""), default_port, what)
    if isinstance(value, (str, int)):
        return parse_destination(str(value), default_port, what)
    raise ConfigError(f"{what}: expected HOST:PORT, got {show(value)}")


def _destinations(value, default_port: int, what: str) -> list[Destination]:
    if value is None or value is False:
        return []
    items = value if isinstance(value, list) else [value]
    return [_destination(item, default_port, what) for item in items]


def apply_settings(config: ServeConfig, settings: dict, where: str) -> ServeConfig:
    """Set ``settings`` (YAML keys -> values) on ``config``; ``where`` names the source in errors."""
    for key, value in settings.items():
        name = str(key).replace("-", "_")
        if name not in _FIELDS:
            close = difflib.get_close_matches(name, _FIELDS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{where}: {shorten(str(key))}: unknown setting{hint}")
        setattr(config, name, _convert(name, value, f"{where}: {key}"))
    return config


_TEXT_MEANING = {"input": "mic, an audio file or -", "device": "a microphone index or name",
                 "preset": "a preset name or file", "ckpt": "a run folder or a packaged model name",
                 "record": "a folder to record takes into (e.g. record: takes)",
                 "takes_dir": "a folder (e.g. takes_dir: takes)"}
"""What a text setting takes, for the error when a file gives something else (``record: true``)."""


def _convert(name: str, value, what: str):
    if name == "osc":
        return _destinations(value, DEFAULT_OSC_PORT, what)
    if name == "livelink":
        return _destinations(value, DEFAULT_LIVELINK_PORT, what)
    if name == "control":
        return parse_control(value, what)
    if name == "studio":
        return parse_studio(value, what)
    if name == "emotion":
        return _emotion(value, what)
    default = _FIELDS[name].default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{what}: expected true or false, got {show(value)}")
    elif isinstance(default, (int, float)):
        value = _number(value, type(default), what)
    else:
        value = _text(name, value, optional=default is None, what=what)
    if name == "compute" and not COMPUTE_PATTERN.fullmatch(value):
        raise ConfigError(f"{what}: expected cpu, cuda or cuda:N, got {show(value)}")
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ConfigError(f"{what}: must be one of {', '.join(map(str, _CHOICES[name]))}, got {show(value)}")
    if name in _RANGES:
        low, high = _RANGES[name]
        if not low <= value <= high:
            raise ConfigError(f"{what}: must be from {low:g} to {high:g}, got {show(value)}")
    return value


def _emotion(value, what: str) -> Emotion:
    if isinstance(value, Emotion):
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{what}: expected NAME[:INTENSITY] (e.g. happy:0.6), got {show(value)}")
    try:
        return parse_emotion(value)
    except ValueError as error:
        raise ConfigError(f"{what}: {error}") from None


def _number(value, kind: type, what: str) -> int | float:
    """``value`` as a finite ``kind`` (int or float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{what}: expected a number, got {show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{what}: expected a finite number, got {show(value)}")
    if kind is int:
        if value != int(value):
            raise ConfigError(f"{what}: expected a whole number, got {show(value)}")
        return int(value)
    try:
        return float(value)
    except OverflowError:
        raise ConfigError(f"{what}: number too large, got {show(value)}") from None


def _text(name: str, value, optional: bool, what: str) -> str | None:
    """``value`` as text (a whole number is fine: ``device: 2``); None or false leave an optional
    setting unset."""
    if optional and (value is None or value is False):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(f"{what}: expected {_TEXT_MEANING.get(name, 'text')}, got {show(value)}")
    return str(value)


def load_config(path: str | Path | None, overrides: dict | None = None) -> ServeConfig:
    """Defaults, then the YAML file at ``path`` (if any), then ``overrides`` (command-line values;
    None entries are left out). Raises ConfigError with one line."""
    config = ServeConfig()
    if path is not None:
        for key, (line, value) in _read_yaml(Path(path)).items():
            apply_settings(config, {key: value}, f"{path}:{line}")
    if overrides:
        apply_settings(config, {k: v for k, v in overrides.items() if v is not None}, "command line")
    return config


def _read_yaml(path: Path) -> dict[str, tuple[int, object]]:
    """The file's settings: key as written -> (line, value). Read like a preset (``yaml_file``): one safe
    loader, duplicate keys and deep nesting refused, every error one line naming the file."""
    text = yaml_file.read_text(path, "config file", ConfigError, MAX_CONFIG_BYTES)
    root = yaml_file.compose(text, str(path), ConfigError)
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{path}: expected a mapping of settings (key: value), got "
                          f"{'a list' if isinstance(root, yaml.SequenceNode) else 'a single value'}")
    try:
        yaml_file.merge_keys(root)
    except ValueError as problem:
        raise ConfigError(f"{path}:{yaml_file.line_of(root)}: bad merge: {problem}") from None
    settings = {}
    for key, value in root.value:
        where = f"{path}:{yaml_file.line_of(key)}"
        if not isinstance(key, yaml.ScalarNode):
            raise ConfigError(f"{where}: a setting's name must be a plain name")
        try:
            settings[key.value] = (yaml_file.line_of(key), yaml_file.value_of(value))
        except ValueError as problem:
            raise ConfigError(f"{where}: {shorten(key.value)}: cannot read value: {problem}") from None
    return settings
