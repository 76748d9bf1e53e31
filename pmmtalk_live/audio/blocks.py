"""What every live source shares: device frames to ``AudioBlock``s on the 16 kHz mono timeline, and the
bounded queue that hands them to the engine.

    device callback | reader thread --AudioBlock--> bounded queue --read(timeout_s)--> the engine

Two kinds of pacing (``Source.realtime``):

- real time (the microphone, a file played at pace): the source never waits for the engine. If the
  engine stops reading, the queue (``REALTIME_QUEUE_S``) fills and further blocks are dropped and
  counted; the engine sees the gap in ``start_sample``.
- as fast as possible (a file with ``realtime=False``, stdin): a short queue gives back-pressure: the
  reader waits while the engine is behind, nothing is lost, and stdin's writer blocks in turn.
"""

from __future__ import annotations

import logging
import queue
import threading

import numpy as np

from ..tracks import SAMPLE_RATE_HZ, AudioBlock, InputFrames
from .input_frames import MICROPHONE_SUBTYPE
from .resample import StreamResampler

log = logging.getLogger(__name__)

REALTIME_QUEUE_S = 2.0
"""Audio a real-time source holds for an engine that does not read; beyond it blocks are dropped."""
BACKPRESSURE_QUEUE_S = 0.5
"""Audio an as-fast-as-possible source reads ahead of the engine before it waits."""


# --- conversion to the 16 kHz mono timeline ----------------------------------------------------------

class MonoBlocks:
    """Device-rate frames, shape (n, channels), to ``AudioBlock``s: mono, 16 kHz, one timeline.

    The timeline is made of segments (a microphone's stream between reconnects). Within a segment
    the samples are contiguous; a new segment starts where the capture time of its first frame says
    it belongs, so ``start_sample`` jumps forward by the audio lost in between (``samples_skipped``).
    """

    def __init__(self, rate_hz: int, channels: int, subtype: str = MICROPHONE_SUBTYPE) -> None:
        self.rate_hz = int(rate_hz)
        self.channels = int(channels)
        self.subtype = subtype
        """How a take writes the input's own frames (``input_frames``), which ride along on the blocks."""
        self._input: list[np.ndarray] = []  # own frames not handed out yet
        self._input_start = 0  # input timeline index of the first of them
        self._input_next = 0  # input timeline index of the next frame pushed
        self.next_sample = 0
        """Timeline index (16 kHz) of the next output sample."""
        self.samples_skipped = 0
        self._next_time_s: float | None = None  # capture time of next_sample, None before any output
        self._resampler: StreamResampler | None = None  # None between segments
        self._segment_in = 0  # frames fed into this segment
        self._segment_out = 0  # samples out of this segment
        self._anchor = (0, 0.0)  # (segment frame index, its capture time) of the latest push
        self._last_capture_s = -np.inf

    def push(self, frames: np.ndarray, first_time_s: float, own: np.ndarray | None = None) -> AudioBlock | None:
        """Frames (n, channels) or (n,) float32 at ``rate_hz`` whose first entered the microphone at
        ``first_time_s`` (monotonic); ``own``: the same frames as the input delivered them (default:
        ``frames``). Returns the 16 kHz samples that are ready, or None."""
        mono = frames.mean(axis=1, dtype=np.float32) if frames.ndim == 2 and frames.shape[1] > 1 else frames.reshape(-1)
        if self._resampler is None:
            self._resampler = StreamResampler(self.rate_hz, SAMPLE_RATE_HZ)
            self._segment_in = self._segment_out = 0
            if self._next_time_s is not None:
                gap = int(round((first_time_s - self._next_time_s) * SAMPLE_RATE_HZ))
                if gap > 0:
                    self.next_sample += gap
                    self.samples_skipped += gap
            self._input_next = round(self.next_sample * self.rate_hz / SAMPLE_RATE_HZ)
        own = frames if own is None else own
        if not self._input:
            self._input_start = self._input_next
        self._input.append(own.reshape(len(own), -1))
        self._input_next += len(own)
        self._anchor = (self._segment_in, first_time_s)
        self._segment_in += len(mono)
        return self._block(self._resampler.process(mono))

    def set_input(self, rate_hz: int, channels: int) -> None:
        """Another device format from the next segment on (a device that came back changed);
        only between segments (after ``end_segment``)."""
        assert self._resampler is None, "set_input inside a segment"
        self.rate_hz, self.channels = int(rate_hz), int(channels)

    def end_segment(self) -> AudioBlock | None:
        """The samples the resampler still holds (the segment's input ends here); the next ``push``
        starts a new segment."""
        if self._resampler is None:
            return None
        block = self._block(self._resampler.flush(), last=True)
        self._resampler = None
        return block

    def _block(self, samples: np.ndarray, last: bool = False) -> AudioBlock | None:
        """``last``: the segment's end, so a block goes out even without samples, for the own frames."""
        if len(samples) == 0 and not (last and self._input):
            return None
        # Output sample k of the segment sits at input frame k * rate_hz / 16000 (the filter is
        # zero-phase): its capture time follows from the latest push's first frame.
        anchor_frame, anchor_time_s = self._anchor
        capture_s = anchor_time_s + (self._segment_out * self.rate_hz / SAMPLE_RATE_HZ - anchor_frame) / self.rate_hz
        # Never before the previous block: a capture clock may step back by up to a block when it finds
        # an earlier envelope, and a reader's clock does not advance with the audio it reads ahead.
        capture_s = max(capture_s, self._last_capture_s)
        self._last_capture_s = capture_s
        own = InputFrames(np.concatenate(self._input), self._input_start, self.rate_hz, self.subtype) \
            if self._input else None
        self._input = []
        block = AudioBlock(samples, self.next_sample, capture_s, own)
        self._segment_out += len(samples)
        self.next_sample += len(samples)
        self._next_time_s = capture_s + len(samples) / SAMPLE_RATE_HZ
        return block


# --- the queue every source delivers through ----------------------------------------------------------

_END = object()


class QueuedSource:
    """The hand-off to the engine: a bounded queue, counters, start/read/close bookkeeping."""

    description = "audio"

    def __init__(self, *, realtime: bool, block_ms: float) -> None:
        self.realtime = realtime
        queue_s = REALTIME_QUEUE_S if realtime else BACKPRESSURE_QUEUE_S
        self._queue: queue.Queue = queue.Queue(maxsize=max(4, int(queue_s * 1000 / block_ms)))
        self._stop = threading.Event()
        self._started = False
        self._closed = False
        self._finished = False
        self._thread: threading.Thread | None = None
        self.overflows = 0
        self.reconnects = 0
        self.reconnect_attempts = 0
        self._samples_dropped = 0

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def samples_lost(self) -> int:
        return self._samples_dropped

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read(self, timeout_s: float) -> AudioBlock | None:
        """The next block; None if none arrived within ``timeout_s`` or the source has finished.
        Raises the ``AudioInputError`` that ended a reader (stdin that failed part-way)."""
        if self._finished:
            return None
        if not self._started:
            raise RuntimeError("start() the source before reading from it")
        try:
            item = self._queue.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            return None
        if item is _END:
            self._finished = True
            return None
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        return item

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
            if self._thread.is_alive():
                log.warning("%s: its reader thread did not stop", self.description)
        self._finished = True

    def _start_thread(self, target, name: str) -> None:
        if self._closed:
            raise RuntimeError("the source is closed")
        if self._started:
            return
        self._started = True
        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def _deliver(self, block: AudioBlock) -> bool:
        """Queue a block. Real time: never waits (a full queue drops it, leaving a gap). Otherwise
        waits for room (back-pressure) until closed. Returns False when the block was not queued."""
        if self.realtime:
            try:
                self._queue.put_nowait(block)
                return True
            except queue.Full:
                self.overflows += 1
                self._samples_dropped += len(block.samples)
                if self.overflows == 1 or self.overflows % 100 == 0:
                    log.warning("%s: the engine is not reading; %d blocks dropped so far", self.description,
                                self.overflows)
                return False
        return self._put_waiting(block)

    def _finish(self, error: BaseException | None = None) -> None:
        """End of the stream (or the error that ended it), after the blocks already queued."""
        self._put_waiting(_END if error is None else error)

    def _put_waiting(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False
