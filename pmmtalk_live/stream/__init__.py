"""The streaming engine: audio blocks in, hop by hop through the live animator, frames out to the
sinks on a fixed frame clock (``engine.py``), with live statistics (``stats.py``)."""

from .engine import DEFAULT_HOP_MS, DEFAULT_MAX_BACKLOG_MS, HOP_MS_RANGE

__all__ = ["DEFAULT_HOP_MS", "DEFAULT_MAX_BACKLOG_MS", "HOP_MS_RANGE"]
