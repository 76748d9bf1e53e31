"""Preset hot-reload: tune a preset's YAML while watching the character.

``PresetWatcher`` holds the preset in use and checks its file's modification time and size at most
every ``interval_s``. A changed file is reloaded; one that no longer validates is reported (file,
line, key) and the old preset stays in use, so a half-typed edit never breaks a live session.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from ..errors import PresetError
from .preset import Preset, load_preset

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.5


class PresetWatcher:
    """The preset in use, reloaded when its file changes. Not thread-safe: poll from one thread."""

    def __init__(self, name_or_path: str | Path, interval_s: float = POLL_INTERVAL_S) -> None:
        """Loads the preset now; raises PresetError when it does not validate."""
        self.interval_s = interval_s
        self.preset = load_preset(name_or_path)
        self.reloads = 0
        self.failed_reloads = 0
        self.last_error: str | None = None
        self._stamp = _stamp(self.preset.path)
        self._next_check = time.monotonic() + interval_s

    def adopt(self, preset: Preset) -> None:
        """Watch ``preset`` (already loaded, e.g. by a remote ``/Preset`` command) from now on."""
        self.preset = preset
        self._stamp = _stamp(preset.path)
        self.last_error = None

    def poll(self) -> Preset | None:
        """The reloaded preset when its file changed and still validates, else None (cheap: one stat
        per ``interval_s``)."""
        now = time.monotonic()
        if now < self._next_check:
            return None
        self._next_check = now + self.interval_s
        stamp = _stamp(self.preset.path)
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            preset = load_preset(self.preset.path)
        except PresetError as error:
            self.failed_reloads += 1
            self.last_error = str(error)
            log.error("preset not reloaded, still using the previous version: %s", error)
            return None
        self.preset = preset
        self.reloads += 1
        self.last_error = None
        log.info("preset %s reloaded from %s", preset.name, preset.path)
        return preset


def _stamp(path: Path) -> tuple[int, int] | None:
    """(mtime in ns, size), or None while the file is missing (an editor saving by rename)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
