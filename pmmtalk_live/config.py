"""Settings of ``pmmtalk-live serve``: defaults, then a YAML file (``--config``), then the command line.

The YAML keys are the long options with ``_`` for ``-`` (``lookahead_ms: 80``); docs/serve.md lists
them. Sinks are ``HOST:PORT`` strings, optionally ``HOST:PORT@SUBJECT`` for a sink that carries its
own subject name (several characters from one daemon), or mappings ``{host, port, subject}``.
Errors are one line naming the file and the key (ConfigError).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ConfigError

DEFAULT_OSC_PORT = 9000
"""Where our Unreal plugin listens by default (docs/protocol.md)."""
DEFAULT_LIVELINK_PORT = 11111
"""Where stock Unreal's Apple ARKit Face Support listens (Live Link Face packets)."""
DEFAULT_CONTROL_PORT = 8000
"""The Live Link Face app's OSC port: tools that drive the app's recording send here."""
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
    raw_rate: int = 16000
    raw_channels: int = 1
    raw_format: str = "s16le"
    preset: str = "metahuman"
    animator: str = "pmmtalk"
    ckpt: str | None = None
    """The PMMTalk model (``animator: pmmtalk``): a run folder or a packaged model name; None = the
    shipped default model."""
    compute: str = "cpu"
    """Where the PMMTalk model's speech encoder runs: ``cpu`` or ``cuda`` / ``cuda:N``."""
    fps: int = 60
    lookahead_ms: float = 100.0
    hop_ms: float = 10.0
    max_backlog_ms: float = 100.0
    subject: str = "pmmtalk"
    osc: list[Destination] | None = None
    """None = 127.0.0.1:9000, unless only ``livelink`` is given."""
    livelink: list[Destination] | None = None
    """None = 127.0.0.1:11111, unless only ``osc`` is given."""
    record: str | None = None
    """Record a take from the start into this folder."""
    takes_dir: str | None = None
    """Where takes started by ``/RecordStart`` go (default: ``record``, else ``takes``)."""
    slate: str = "live"
    control: Destination | None = field(default_factory=lambda: Destination("127.0.0.1", DEFAULT_CONTROL_PORT))
    """The remote-control port; None = off."""
    idle: bool = True
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
_CHOICES = {"fps": (30, 60), "raw_format": ("s16le", "s32le", "f32le"), "animator": ("phonetic", "pmmtalk")}
_RANGES = {"lookahead_ms": (0.0, 1000.0), "hop_ms": (10.0, 20.0), "max_backlog_ms": (20.0, 5000.0),
           "raw_rate": (1000, 384000), "raw_channels": (1, 64)}


def parse_destination(text: str, default_port: int, what: str) -> Destination:
    """``HOST:PORT[@SUBJECT]``, ``[IPv6]:PORT``, or a bare ``HOST`` (default port). Raises ConfigError."""
    text = str(text).strip()
    subject = None
    if "@" in text:
        text, subject = text.rsplit("@", 1)
        if not subject:
            raise ConfigError(f"{what} {text}@: empty subject name after '@'")
    host, port = text, str(default_port)
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ConfigError(f"{what} '{text}': missing ']' after an IPv6 address")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"{what} '{text}': expected [IPv6]:PORT")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host:
        raise ConfigError(f"{what} '{text}': no host (write HOST:PORT, e.g. 127.0.0.1:{default_port})")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"{what} '{text}': port must be a number from 1 to 65535")
    return Destination(host, int(port), subject)


def _destination(value, default_port: int, what: str) -> Destination:
    if isinstance(value, dict):
        unknown = set(value) - {"host", "port", "subject"}
        if unknown or "host" not in value:
            raise ConfigError(f"{what}: a mapping needs host (and port, subject), got keys {sorted(value)}")
        port = value.get("port", default_port)
        text = f"{value['host']}:{port}" if ":" not in str(value["host"]) else f"[{value['host']}]:{port}"
        return parse_destination(text + (f"@{value['subject']}" if value.get("subject") else ""), default_port, what)
    if isinstance(value, (str, int)):
        return parse_destination(str(value), default_port, what)
    raise ConfigError(f"{what}: expected HOST:PORT, got {value!r}")


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
            raise ConfigError(f"{where}: {key}: unknown setting{hint}")
        setattr(config, name, _convert(name, value, f"{where}: {key}"))
    return config


def _convert(name: str, value, what: str):
    if name == "osc":
        return _destinations(value, DEFAULT_OSC_PORT, what)
    if name == "livelink":
        return _destinations(value, DEFAULT_LIVELINK_PORT, what)
    if name == "control":
        if value is None or value is False or value == "off":
            return None
        return _destination(value, DEFAULT_CONTROL_PORT, what)
    default = _FIELDS[name].default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{what}: expected true or false, got {value!r}")
    elif isinstance(default, (int, float)) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{what}: expected a number, got {value!r}")
        if isinstance(default, int) and value != int(value):
            raise ConfigError(f"{what}: expected a whole number, got {value!r}")
        value = type(default)(value)
    elif value is not None and not isinstance(value, (str, int)):
        raise ConfigError(f"{what}: expected text, got {value!r}")
    elif value is not None:
        value = str(value)
    if name == "compute" and not COMPUTE_PATTERN.fullmatch(value):
        raise ConfigError(f"{what}: expected cpu, cuda or cuda:N, got {value!r}")
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ConfigError(f"{what}: must be one of {', '.join(map(str, _CHOICES[name]))}, got {value!r}")
    if name in _RANGES:
        low, high = _RANGES[name]
        if not low <= value <= high:
            raise ConfigError(f"{what}: must be from {low:g} to {high:g}, got {value:g}")
    return value


def load_config(path: str | Path | None, overrides: dict | None = None) -> ServeConfig:
    """Defaults, then the YAML file at ``path`` (if any), then ``overrides`` (command-line values;
    None entries are left out). Raises ConfigError with one line."""
    config = ServeConfig()
    if path is not None:
        apply_settings(config, _read_yaml(Path(path)), str(path))
    if overrides:
        apply_settings(config, {k: v for k, v in overrides.items() if v is not None}, "command line")
    return config


def _read_yaml(path: Path) -> dict:
    try:
        if path.is_dir():
            raise ConfigError(f"{path}: is a folder, not a config file")
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: too large for a config file")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (a config is UTF-8 YAML)") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ConfigError(f"{path}{line}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings (key: value), got {type(data).__name__}")
    return data
