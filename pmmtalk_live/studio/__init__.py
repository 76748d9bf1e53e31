"""The studio: a local web page that shows the face the sinks drive, its meters and curves, and tunes
the preset live (``pmmtalk-live serve --studio``), or plays recorded takes (``pmmtalk-live studio``).

    engine --CurveFrame--> StudioFeed (a Sink) --> StudioServer (aiohttp, own thread) --WebSocket--> page
    page --HTTP JSON--> StudioServer --> LiveStudio --> PresetEdit / the session's Commands

The page (static/) draws the face with its own vector head (static/face.js). docs/studio.md documents
the page and its API.
"""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470
"""The studio's port: http://127.0.0.1:8470/ (``--studio HOST:PORT`` picks another)."""

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "LiveStudio", "StudioFeed", "StudioServer"]


def __getattr__(name: str):
    """The classes load on first use, so reading the defaults (the CLI, the config) does not import aiohttp."""
    if name == "StudioFeed":
        from .feed import StudioFeed
        return StudioFeed
    if name == "LiveStudio":
        from .live import LiveStudio
        return LiveStudio
    if name == "StudioServer":
        from .server import StudioServer
        return StudioServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
