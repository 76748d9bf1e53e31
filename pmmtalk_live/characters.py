"""``pmmtalk-live serve --characters FILE``: several characters in one daemon.

    characters file --load_characters--> one ServeConfig per character (the serve settings as defaults)
    Cast: one loaded model shared; per character a ServeSession (its input, its own stream state,
        idle layer, preset, sinks and take recorder), its engine on its own thread
    one remote-control port --> Commands(characters=...) --> control.remote.carry_out_for: /<Subject>/X, /X

A character's input that cannot be opened or fails while streaming (a missing device, a broken
file) ends that character with one line; the others go on. Everything else (a preset, a sink, the
control port) is checked for every character before the first audio is read. docs/serve.md.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path

import yaml

from . import yaml_file
from .config import MAX_CONFIG_BYTES, Destination, ServeConfig, apply_settings
from .control.remote import Commands, ControlServer
from .errors import AudioInputError, ConfigError, PmmtalkError, TakeError
from .serve import ServeSession
from .sinks.csv_take import check_take_name
from .stream.engine import EngineSummary
from .yaml_file import shorten

log = logging.getLogger(__name__)

CHARACTER_SETTINGS = ("subject", "input", "device", "fast", "loop", "raw_rate", "raw_channels", "raw_format",
                      "preset", "emotion", "idle", "seed", "osc", "livelink", "record", "takes_dir", "slate")
"""What each character sets for itself; everything else is the daemon's (``--config``, the options)."""

MAX_CHARACTERS = 16
"""A stage has a few characters; each is an input, an engine thread and its sinks."""


def load_characters(path: str | Path, base: ServeConfig) -> list[ServeConfig]:
    """The characters of the file at ``path``, each ``base`` with the character's own settings.
    Raises ConfigError with one line naming the file, the line, the character and the key."""
    path = Path(path)
    text = yaml_file.read_text(path, "characters file", ConfigError, MAX_CONFIG_BYTES)
    root = yaml_file.compose(text, str(path), ConfigError)
    if not isinstance(root, yaml.MappingNode) or [k.value for k, _ in root.value] != ["characters"]:
        raise ConfigError(f"{path}: expected one key, characters: a list of characters (subject, input, "
                          "preset, ...); the daemon's other settings go in --config or on the command line")
    items = root.value[0][1]
    if not isinstance(items, yaml.SequenceNode) or not items.value:
        raise ConfigError(f"{path}:{yaml_file.line_of(items)}: characters: expected a list of characters")
    if len(items.value) > MAX_CHARACTERS:
        raise ConfigError(f"{path}: {len(items.value)} characters, over the limit of {MAX_CHARACTERS}")
    configs = [_character(path, number, item, base) for number, item in enumerate(items.value, 1)]
    _check_together(path, items.value, configs)
    return configs


def _character(path: Path, number: int, node: yaml.Node, base: ServeConfig) -> ServeConfig:
    where = f"{path}:{yaml_file.line_of(node)}: character {number}"
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{where}: expected a mapping of settings (subject: Ada, input: ada.wav, ...)")
    try:
        yaml_file.merge_keys(node)
    except ValueError as problem:
        raise ConfigError(f"{where}: bad merge: {problem}") from None
    config = dataclasses.replace(base)
    names = set()
    for key, value in node.value:
        name = str(key.value).replace("-", "_")
        at = f"{path}:{yaml_file.line_of(key)}: character {number}"
        if name not in CHARACTER_SETTINGS:
            daemon = name in {f.name for f in dataclasses.fields(ServeConfig)}
            reason = ("is the daemon's, the same for every character: set it in --config or on the command line"
                      if daemon else f"unknown setting (a character sets {', '.join(CHARACTER_SETTINGS)})")
            raise ConfigError(f"{at}: {shorten(str(key.value))}: {reason}")
        try:
            value = yaml_file.value_of(value)
        except ValueError as problem:
            raise ConfigError(f"{at}: {shorten(name)}: cannot read value: {problem}") from None
        apply_settings(config, {name: value}, at)
        if name == "subject":
            try:
                check_take_name(config.subject, "subject")
            except TakeError as error:
                raise ConfigError(f"{at}: subject: {error}") from None
        names.add(name)
    if "subject" not in names:
        raise ConfigError(f"{where}: subject: missing (each character streams under its own subject name)")
    return config


def _check_together(path: Path, nodes: list[yaml.Node], configs: list[ServeConfig]) -> None:
    seen: dict[str, int] = {}
    stdin = None
    for number, (node, config) in enumerate(zip(nodes, configs), 1):
        where = f"{path}:{yaml_file.line_of(node)}: character {number}"
        if config.subject in seen:
            raise ConfigError(f"{where}: subject: {config.subject} is character {seen[config.subject]}'s too; "
                              "each character needs its own")
        seen[config.subject] = number
        if config.input == "-":
            if stdin is not None:
                raise ConfigError(f"{where}: input: - (stdin) is character {stdin}'s already; only one "
                                  "character can read stdin")
            stdin = number


class Cast:
    """The running daemon of several characters: a ``ServeSession`` each (no control port, no status
    line of its own), one shared model, one remote-control port for all (``carry_out_for``)."""

    def __init__(self, configs: list[ServeConfig], control: Destination | None) -> None:
        self.failed: dict[str, str] = {}
        """subject -> the one line that ended it (its input could not be opened, or failed)."""
        self.summaries: dict[str, EngineSummary] = {}
        self.sessions: list[ServeSession] = []
        self.control = None
        try:
            model = _shared_model(configs[0])
            for config in configs:
                self._open(dataclasses.replace(config, control=None, studio=None, quiet=True), model)
            if not self.sessions:
                raise AudioInputError("no character's input could be opened: " +
                                      "; ".join(f"{s}: {e}" for s, e in self.failed.items()))
            self.commands = Commands(None, characters=self.sessions)
            if control is not None:
                self.control = ControlServer(None, host=control.host, port=control.port, commands=self.commands)
        except BaseException:
            self.close()
            raise

    def _open(self, config: ServeConfig, model) -> None:
        try:
            self.sessions.append(ServeSession(config, model=model))
        except AudioInputError as error:  # this character's input only: the others go on
            self.failed[config.subject] = str(error)
            log.error("character %s: %s", config.subject, error)

    def describe(self) -> list[str]:
        """What the daemon does, a line each (printed at start)."""
        lines = []
        for session in self.sessions:
            lines.append(f"character {session.subject}:")
            lines += [f"  {line}" for line in session.describe()]
        lines += [f"character {subject}: not started: {error}" for subject, error in self.failed.items()]
        if self.control is not None:
            host, port = self.control.address
            lines.append(f"remote control: OSC on {host}:{port} (/<Subject>/RecordStart: one character; "
                         "/RecordStart: each)")
        return lines

    def run(self, stop: threading.Event) -> dict[str, EngineSummary]:
        """Serve every character until each input ends or ``stop`` is set; each character's take
        closes when its input ends. Returns subject -> summary for those that ran to the end."""
        if self.control is not None:
            self.control.start()
        threads = [threading.Thread(target=self._serve, args=(session, stop), name=f"pmmtalk-{session.subject}",
                                    daemon=True) for session in self.sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)  # the main thread stays free for Ctrl-C
        return self.summaries

    def _serve(self, session: ServeSession, stop: threading.Event) -> None:
        subject = session.subject
        try:
            self.summaries[subject] = session.run(stop)
        except PmmtalkError as error:
            self.failed[subject] = str(error)
            log.error("character %s stopped: %s", subject, error)
        except Exception as error:  # a bug in one character must not take the others down
            self.failed[subject] = f"internal error: {type(error).__name__}: {error}"
            log.exception("character %s stopped", subject)
        finally:
            session.outputs.recorder.stop()  # a failed input still leaves a closed take

    def close(self) -> None:
        """Stop the control port, then every character (takes closed, sinks closed). Safe twice."""
        if self.control is not None:
            self.control.close()
        for session in self.sessions:
            session.close()


def _shared_model(config: ServeConfig):
    """The PMMTalk model every character streams from, loaded once; None for the phonetic animator."""
    if config.animator != "pmmtalk":
        return None
    from .animators import DEFAULT_MODEL
    from .model.inference import load_model

    return load_model(config.ckpt or DEFAULT_MODEL)
