"""The studio's view of the stream: a sink that keeps the frames the other sinks get, for the page.

    engine --CurveFrame--> StudioFeed.send (engine thread: append, nothing else)
    studio event loop --> StudioFeed.drain --> FrameView per frame --> JSON over the WebSocket

``send`` must cost the live path nothing it can notice: it appends the frame to a bounded queue under
a lock. Turning frames into what the page draws (wire order, lip aperture, rounding) happens on the
studio's own thread, and only while a page is connected.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from .. import rig
from ..sinks.livelinkface import WireOrder
from ..tracks import CurveFrame

MAX_QUEUED_FRAMES = 240
"""Frames kept for a page that has not fetched them yet (4 s at 60 fps); older ones are dropped."""

DIGITS = 4
"""Decimals sent to the page: 1e-4 of a blendshape or a radian is below anything visible."""


class StudioFeed:
    """A ``Sink`` for the studio page: frames queue up until the page's sender drains them."""

    subject = "studio"
    description = "the studio page (frames for the face preview and meters)"

    def __init__(self) -> None:
        self.sent = 0
        self.errors = 0
        self.dropped = 0
        """Frames pushed out of the queue before a page fetched them (no page connected, a slow page)."""
        self.watching = False
        """Whether a page is connected; without one ``send`` keeps only the newest frame."""
        self._frames: deque[CurveFrame] = deque(maxlen=MAX_QUEUED_FRAMES)
        self._lock = threading.Lock()

    def send(self, frame: CurveFrame) -> None:
        with self._lock:
            if not self.watching:
                self._frames.clear()
            elif len(self._frames) == MAX_QUEUED_FRAMES:
                self.dropped += 1
            self._frames.append(frame)
            self.sent += 1

    def drain(self) -> list[CurveFrame]:
        """The frames queued since the last call, oldest first."""
        with self._lock:
            frames = list(self._frames)
            self._frames.clear()
        return frames

    def close(self) -> None:
        self.drain()


class FrameView:
    """Turns frames into the page's messages.

    ``frames``: binary, every frame's 61 Live Link Face values (what stock Unreal gets) and lip
    aperture, little-endian, 4-byte fields::

        int32 count, float32 fps, float32 input level (dB),
        int32 frame number x count, float32 values x (count * 61), float32 lip aperture x count

    (binary because it is most of the traffic: no per-number text to format on the daemon's side);
    ``curves``: JSON, the newest frame's output curves by name and the source channels behind them.
    """

    def __init__(self) -> None:
        self._wire = WireOrder()

    def frames(self, frames: list[CurveFrame], level_db: float) -> bytes:
        wire = np.stack([self._wire.values(frame) for frame in frames])
        aperture = rig.lip_aperture(wire, rig.SOURCE_CHANNELS)  # wire order is SOURCE_CHANNELS' order, camelCase
        return b"".join([np.array([len(frames)], "<i4").tobytes(),
                         np.array([frames[-1].fps, level_db], "<f4").tobytes(),
                         np.array([frame.number for frame in frames], "<i4").tobytes(),
                         wire.astype("<f4").tobytes(), aperture.astype("<f4").tobytes()])

    @staticmethod
    def curves(frame: CurveFrame) -> dict:
        sources = frame.sources if frame.sources is not None else np.zeros(len(rig.SOURCE_CHANNELS))
        return {"type": "curves", "names": list(frame.names),
                "outputs": np.round(np.nan_to_num(np.asarray(frame.values, np.float64)), DIGITS).tolist(),
                "sources": np.round(np.nan_to_num(np.asarray(sources, np.float64)), DIGITS).tolist()}
