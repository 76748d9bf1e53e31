"""Where the engine's frames go: the network sinks (changed at runtime by remote commands) and the take
recorder, behind one object, so the engine knows no sink by name.

    engine --CurveFrame--> Outputs.send --> every Sink (unless streaming is off) and the take recorder
    engine --AudioBlock--> Outputs.record_audio --> the take's WAVs
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..tracks import AudioBlock, CurveFrame
from . import Sink
from .take_recorder import TakeRecorder


class Outputs:
    """Where frames go: the network sinks (changed at runtime by remote commands) and the take
    recorder. ``send`` runs on the engine thread; the other methods may run on any thread."""

    def __init__(self, sinks: list[Sink] | None = None, recorder: TakeRecorder | None = None) -> None:
        self._lock = threading.Lock()
        self._sinks = list(sinks or [])
        self.recorder = recorder
        self.streaming = True
        """False after ``/LiveLinkStreamStop``: the network sinks get nothing, recording goes on."""

    @property
    def sinks(self) -> list[Sink]:
        with self._lock:
            return list(self._sinks)

    def add(self, sink: Sink) -> None:
        with self._lock:
            self._sinks.append(sink)

    def remove_where(self, predicate: Callable[[Sink], bool]) -> list[Sink]:
        """Remove (and close) the sinks ``predicate`` picks; returns them."""
        with self._lock:
            gone = [s for s in self._sinks if predicate(s)]
            self._sinks = [s for s in self._sinks if not predicate(s)]
        for sink in gone:
            sink.close()
        return gone

    def send(self, frame: CurveFrame) -> None:
        with self._lock:
            sinks = self._sinks if self.streaming else ()
            for sink in sinks:
                sink.send(frame)
        if self.recorder is not None:
            self.recorder.add_frame(frame)

    def record_audio(self, block: AudioBlock) -> None:
        """The audio of a block, for the take being recorded (if any); every block, computed or skipped."""
        if self.recorder is not None:
            self.recorder.add_audio(block.start_sample, block.samples, block.input)

    @property
    def recording_curves(self) -> tuple[str, ...] | None:
        """The curve columns of the take being recorded, fixed at its start; None when not recording."""
        writer = self.recorder.writer if self.recorder is not None else None
        return tuple(writer.curve_names) if writer is not None else None

    def close(self) -> None:
        with self._lock:
            sinks, self._sinks = self._sinks, []
        for sink in sinks:
            sink.close()
        if self.recorder is not None:
            self.recorder.close()
