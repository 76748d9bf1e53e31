"""What the studio page does to a running session: tune its preset, run its commands, list its takes.

Every action goes through what the rest of the daemon already uses, never a copy of it:

- preset edits: ``retarget.edit.PresetEdit`` (the preset files' own validation), then the session's
  ``use_preset`` (the same checks as a remote ``/Preset``: the take being recorded, the OSC sinks'
  names), then the engine takes the preset at its next hop;
- commands (preset switch, record start/stop, slate, take): the remote-control port's ``Commands``,
  under its lock;
- takes: the take recorder's folder, read with ``sinks.csv_take.read_take``.

When the preset in use changes elsewhere (its file was edited, a remote ``/Preset``), the edit starts
again from the new preset and the page is told (``preset_version``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from ..control.remote import Commands
from ..errors import PresetError, StudioError
from ..retarget.edit import PresetEdit, document_of, save_folder
from ..retarget.preset import Preset, list_presets
from ..sinks.take_recorder import TakeRecorder
from ..stream.engine import Engine
from ..stream.stats import LiveStats
from .feed import StudioFeed

log = logging.getLogger(__name__)


class StudioSession(Protocol):
    """What the studio needs of a live session (``serve.ServeSession`` is one)."""

    engine: Engine
    commands: Commands
    stats: LiveStats

    @property
    def recorder(self) -> TakeRecorder: ...

    def use_preset(self, preset: Preset) -> None: ...


class LiveStudio:
    """The studio's side of one session. Call it from one thread (the studio's event loop)."""

    def __init__(self, session: StudioSession, feed: StudioFeed) -> None:
        self.session = session
        self.feed = feed
        self.preset_version = 0
        """Counts the times the page must fetch the preset again (an edit elsewhere, an undo, a save)."""
        self.showing = "edited"
        """``edited`` or ``saved``: which of the two the stream runs (A/B)."""
        self._edit = PresetEdit(session.engine.next_preset)
        self._known: set[int] = {id(self._edit.preset)}
        """ids of the presets the studio asked for: the engine running one of these is no news."""

    # --- the preset ----------------------------------------------------------------------------------

    @property
    def edit(self) -> PresetEdit:
        """The edit of the preset in use, started again when that preset changed elsewhere."""
        running = self.session.engine.next_preset
        if id(running) not in self._known and not self._same_as_edit(running):
            log.info("studio: preset %s changed outside the studio; editing it from its file", running.name)
            self._edit = PresetEdit(running)
            self._known = {id(running)}
            self.showing = "edited"
            self.preset_version += 1
        return self._edit

    def _same_as_edit(self, running: Preset) -> bool:
        """The file the studio saved, reloaded by the watcher: same path, same content."""
        edit = self._edit
        return running.path == edit.path and document_of(running) == document_of(edit.preset)

    def preset_document(self) -> dict:
        """The preset the stream runs, with the file's keys (``GET /api/preset``)."""
        edit = self.edit
        return document_of(edit.saved if self.showing == "saved" else edit.preset)

    def state(self) -> dict:
        edit = self.edit
        return {"name": edit.name, "path": str(edit.path), "changed": edit.changed, "undo": edit.undo_depth,
                "showing": self.showing, "version": self.preset_version, "save_folder": str(save_folder())}

    def patch(self, changes: Any) -> dict:
        """Apply a partial preset document to the stream; PresetError (nothing changed) when it does not validate."""
        edit = self.edit
        depth = edit.undo_depth
        preset = edit.patch(changes)
        try:
            self._run(preset)
        except PresetError:  # the session refused it (a take's columns): the edit forgets it too
            if edit.undo_depth > depth:
                edit.undo()
            raise
        self.showing = "edited"
        return self.preset_document()

    def undo(self) -> dict:
        self._run(self.edit.undo())
        self.showing = "edited"
        self.preset_version += 1
        return self.preset_document()

    def revert(self) -> dict:
        self._run(self.edit.revert())
        self.showing = "edited"
        self.preset_version += 1
        return self.preset_document()

    def compare(self, use: Any) -> dict:
        """A/B: run the saved file (``saved``) or the edit (``edited``); the edit is kept either way."""
        if use not in ("saved", "edited"):
            raise PresetError(f"compare: 'use' must be saved or edited, got {str(use)[:40]!r}")
        edit = self.edit
        self._run(edit.saved if use == "saved" else edit.preset)
        self.showing = use
        return self.preset_document()

    def save(self, name: Any = None) -> Path:
        """Save the edit over its file (``name`` None) or as a new preset; the stream then runs that file."""
        edit = self.edit
        path = edit.save(name)
        self._run(edit.preset)
        self.showing = "edited"
        self.preset_version += 1
        log.info("studio: preset saved to %s", path)
        return path

    def _run(self, preset: Preset) -> None:
        self.session.use_preset(preset)
        self._known.add(id(preset))

    # --- presets, commands, takes --------------------------------------------------------------------

    @staticmethod
    def presets() -> list[dict]:
        return [{"name": info.name, "path": str(info.path), "description": info.description,
                 "error": info.error} for info in list_presets()]

    def command(self, address: Any, args: Any) -> list:
        """A remote-control command, as the OSC port would carry it out; its reply as [address, *args]."""
        if not isinstance(address, str) or not isinstance(args, list):
            raise StudioError('a command is {"address": "/RecordStart", "args": [...]}')
        reply = self.session.commands.run(address, args)
        return [reply[0], *reply[1]] if reply is not None else []

    @property
    def takes_folder(self) -> Path:
        return Path(self.session.recorder.folder)

    def recording(self) -> dict | None:
        writer = self.session.recorder.writer
        if writer is None:
            return None
        return {"take": writer.csv_path.name, "frames": writer.rows_written}
