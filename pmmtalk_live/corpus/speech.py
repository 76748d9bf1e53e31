"""What the corpus's engines are asked and what they give back: ``Voice``, ``SynthRequest``, ``Speech``,
and ``CorpusError``. Every other corpus module builds on these; this one imports none of them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import PmmtalkError
from ..tracks import Phone


class CorpusError(PmmtalkError):
    """A corpus that cannot be built: an engine, voice or text source missing, or a corpus folder made
    with other settings. The message names the engine or file."""


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker. ``name`` is the corpus subject (``flite-slt``); ``engine_voice`` what the
    engine calls it; ``f0_hz`` its usual pitch (None: the engine cannot move it)."""

    name: str
    engine: str
    engine_voice: str
    language: str
    f0_hz: float | None = None


@dataclass(frozen=True)
class SynthRequest:
    """One text to speak. ``tempo``: phone durations are multiplied by it (>1 slower); ``pitch``: the
    mean pitch is multiplied by it (where the voice allows)."""

    text: str
    tempo: float = 1.0
    pitch: float = 1.0


@dataclass
class Speech:
    """What an engine spoke: ``samples`` float32 (N,) at ``sample_rate_hz``; ``phones`` in ARPAbet with
    times in seconds from sample 0; ``symbols`` the engine's own symbol of each phone."""

    samples: np.ndarray
    sample_rate_hz: int
    phones: list[Phone]
    symbols: list[str]
    unknown: dict[str, int] = field(default_factory=dict)
    """Engine symbols not in the mapping table (mapped to their nearest class), with counts."""
