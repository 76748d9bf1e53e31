"""The streaming engine: audio blocks from a source, hop by hop through the live animator, the idle
layer and the retarget preset, out to the sinks and the take recorder on a fixed frame clock.

    source --AudioBlock--> [hop buffer] --hop (160 samples)--> LiveAnimator --LiveCoeffs (n, 32)-->
        FaceLayers (idle, expression from ProsodyStream, emotion) --(61 source channels)-->
        Retargeter --CurveFrame--> Outputs (sinks, take)

Frame clock: frame k shows stream time k / fps, counted from the stream's first sample, so frame
numbers increase monotonically with the audio and never drift from it. A frame leaves once the
animator has its look-ahead of later audio.

No backlog: with a real-time source (a microphone, a file played at pace), when the block the
engine gets to is older than ``max_backlog_ms``, everything queued but the newest block is not
computed: the animator skips it, its frames are counted as dropped, and the stream is back in the
present at once, so latency stays bounded. The audio still goes to
the take, so a recording never has holes the speaker did not make. Sources that can wait (a file
read as fast as possible, stdin) get back-pressure instead and nothing is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from .. import rig
from ..animators import LiveAnimator, LiveCoeffs
from ..audio.sources import Source
from ..animators.emotion import NEUTRAL, Emotion
from ..animators.expression import EXPRESSION_OFF, FaceLayers
from ..animators.idle import IDLE_OFF
from ..prosody import ProsodyFrames, ProsodyStream
from ..retarget.preset import Preset
from ..retarget.watch import PresetWatcher
from ..sinks.outputs import Outputs
from ..tracks import SAMPLE_RATE_HZ, AudioBlock, CurveFrame
from .stats import LiveStats, StatusPrinter

log = logging.getLogger(__name__)

HOP_MS_RANGE = (10.0, 20.0)
DEFAULT_HOP_MS = 10.0
DEFAULT_MAX_BACKLOG_MS = 100.0
READ_TIMEOUT_S = 0.05
"""How long the engine waits for audio before it looks at its stop flag and the preset file again."""
CAPTURE_HISTORY_S = 3.0
"""Capture times of recent blocks kept to timestamp frames (a look-ahead and a hop behind the audio)."""



@dataclass
class EngineSummary:
    frames_sent: int
    frames_dropped: int
    audio_s: float
    real_time_factor: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_max_ms: float


class Engine:
    """Runs one stream from ``source`` until it ends or ``stop`` is set. Single-threaded inside:
    ``run`` does all the work on the calling thread; other threads talk to it through ``Outputs``,
    ``request_preset`` and ``next_frame``."""

    def __init__(self, source: Source, animator: LiveAnimator, presets: PresetWatcher, outputs: Outputs, *,
                 hop_ms: float = DEFAULT_HOP_MS, max_backlog_ms: float = DEFAULT_MAX_BACKLOG_MS,
                 idle: bool = True, seed: int = 0, emotion: Emotion = NEUTRAL, stats: LiveStats | None = None,
                 status: StatusPrinter | None = None, status_extra=None) -> None:
        if not HOP_MS_RANGE[0] <= hop_ms <= HOP_MS_RANGE[1]:
            raise ValueError(f"hop must be {HOP_MS_RANGE[0]:g} to {HOP_MS_RANGE[1]:g} ms, got {hop_ms:g}")
        self.source = source
        self.animator = animator
        self.fps = animator.fps
        self.presets = presets
        self.outputs = outputs
        self.hop_samples = round(hop_ms * SAMPLE_RATE_HZ / 1000)
        self.max_backlog_s = max_backlog_ms / 1000.0
        self.stats = stats or LiveStats()
        self.status = status
        self.status_extra = status_extra
        self._idle_enabled = idle
        self._layers = FaceLayers(self.fps, *self._layer_settings(presets.preset), seed=seed, emotion=emotion)
        self._prosody = ProsodyStream(self.fps, animator.lookahead_s)
        self._pending_emotion: Emotion | None = None
        self._retargeter = presets.preset.retargeter(self.fps)
        self._names = presets.preset.output_names
        self._pending_preset: Preset | None = None
        self._preset_lock = threading.Lock()
        self._held_preset: Preset | None = None
        """A preset file edited to other curves during a take: used once the take stops."""
        self._hop_buffer = np.zeros(0, np.float32)
        self._next_sample = 0
        """The stream sample the engine expects next (blocks before it were seen)."""
        self._captures: deque[tuple[int, float]] = deque()
        """(start sample, capture time) of recent blocks, oldest first."""
        self._next_frame = 0
        self._wall_offset_s = time.time() - time.monotonic()
        self._source_frame = np.zeros(len(rig.SOURCE_CHANNELS), np.float32)

    # --- what other threads may call ----------------------------------------------------------------

    @property
    def next_frame(self) -> int:
        """The number of the next frame to leave (a take started now begins there)."""
        return self._next_frame

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._names

    def frame_wall_time(self, number: int) -> float:
        """Unix time at which the audio of frame ``number`` was captured (estimated from the newest
        block for a frame whose audio has not arrived yet)."""
        captures = tuple(self._captures)  # a snapshot: the engine thread appends meanwhile
        return self._wall_offset_s + _capture_time(captures, round(number * SAMPLE_RATE_HZ / self.fps))

    def request_preset(self, preset: Preset) -> None:
        """Use ``preset`` from the next hop on (thread-safe)."""
        with self._preset_lock:
            self._pending_preset = preset

    @property
    def next_preset(self) -> Preset:
        """The preset from the next hop on: a requested one, else the one in use."""
        with self._preset_lock:
            pending = self._pending_preset
        return pending if pending is not None else self.presets.preset

    @property
    def next_output_names(self) -> tuple[str, ...]:
        """The curve names from the next hop on: a requested preset's, else ``output_names``."""
        with self._preset_lock:
            pending = self._pending_preset
        return pending.output_names if pending is not None else self._names

    # --- the loop -------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> EngineSummary:
        self.source.start()
        try:
            while not stop.is_set():
                block = self.source.read(READ_TIMEOUT_S)
                self._poll_presets()
                if block is None:
                    if self.source.finished:
                        self._end_of_stream()
                        break
                    continue
                self._on_block(block)
                if self.status is not None:
                    self.status.maybe_print(self.stats, self.status_extra() if self.status_extra else "")
        finally:
            if self.status is not None:
                self.status.end()
        snap = self.stats.snapshot()
        return EngineSummary(snap.frames_sent, snap.frames_dropped, snap.audio_s, snap.real_time_factor,
                             snap.latency_p50_ms, snap.latency_p95_ms, snap.latency_max_ms)

    def _on_block(self, block: AudioBlock) -> None:
        if self.source.realtime and self._age_s(block) > self.max_backlog_s:
            # Behind: everything queued is stale. Skip all of it but the newest block, so the stream
            # jumps back to the present in one go rather than thrashing at the limit.
            stale = [block]
            while (newer := self.source.read(0.0)) is not None:
                stale.append(newer)
            # One skip for all of it: each skip restarts the animator's stream.
            skipped = sum(len(self._take_in(old)) for old in stale[:-1])
            if skipped:
                self._skip(skipped)
            block = stale[-1]
        samples = self._take_in(block)
        if len(samples) == 0:
            return
        self._hop_buffer = np.concatenate([self._hop_buffer, samples]) if len(self._hop_buffer) else samples
        while len(self._hop_buffer) >= self.hop_samples:
            hop, self._hop_buffer = self._hop_buffer[:self.hop_samples], self._hop_buffer[self.hop_samples:]
            self._process(hop)

    @staticmethod
    def _age_s(block: AudioBlock) -> float:
        """How long ago the block's newest sample was captured."""
        return time.monotonic() - (block.capture_time_s + len(block.samples) / SAMPLE_RATE_HZ)

    def _take_in(self, block: AudioBlock) -> np.ndarray:
        """Note the block's capture time, record its audio, follow gaps; the samples not seen before."""
        self._captures.append((block.start_sample, block.capture_time_s))
        while len(self._captures) > 2 and self._captures[1][0] < block.start_sample - CAPTURE_HISTORY_S * SAMPLE_RATE_HZ:
            self._captures.popleft()
        self.outputs.record_audio(block)
        samples = block.samples
        if block.start_sample < self._next_sample:  # overlaps audio already seen
            samples = samples[self._next_sample - block.start_sample:]
        elif block.start_sample > self._next_sample:  # the source lost audio (a device came back)
            self._skip(block.start_sample - self._next_sample)
        self._next_sample = max(self._next_sample, block.end_sample)
        return samples

    def _process(self, hop: np.ndarray) -> None:
        started = time.perf_counter()
        self._prosody.process(hop)  # first: a frame the animator finishes now has its prosody ready too
        self._emit(self.animator.process(hop))
        self.stats.hop_done(time.perf_counter() - started, len(hop) / SAMPLE_RATE_HZ, hop)

    def _skip(self, num_samples: int) -> None:
        """Audio not computed (lost at the source, or too late): the animator moves on without it."""
        num_samples += len(self._hop_buffer)
        self._hop_buffer = np.zeros(0, np.float32)
        dropped = self.animator.skip(num_samples)
        self._prosody.skip(num_samples)
        self._layers.skip(dropped)  # the idle layer's clock keeps time with the frames
        self._next_frame += dropped
        self.stats.frames_skipped(dropped)
        if dropped:
            log.debug("skipped %d samples (%d frames)", num_samples, dropped)

    def _end_of_stream(self) -> None:
        if len(self._hop_buffer):
            hop, self._hop_buffer = self._hop_buffer, np.zeros(0, np.float32)
            self._process(hop)
        started = time.perf_counter()
        self._prosody.flush()
        self._emit(self.animator.flush())
        self.stats.compute_s += time.perf_counter() - started

    def _emit(self, out: LiveCoeffs) -> None:
        if out.num_frames == 0:
            return
        if out.first_frame != self._next_frame:
            # the animator's count is the truth; only a skip can move it, and _skip followed it
            log.warning("animator frame %d where the engine expected %d", out.first_frame, self._next_frame)
        source_frame = self._source_frame
        prosody = self._prosody_of(out.first_frame, out.num_frames)
        for i in range(out.num_frames):
            number = out.first_frame + i
            self._layers.frame(out.coeffs[i], float(out.activity[i]), prosody, i, out=source_frame)
            values = self._retargeter.step(source_frame)
            capture_s = _capture_time(self._captures, round(number * SAMPLE_RATE_HZ / self.fps))
            frame = CurveFrame(number, self.fps, capture_s, self._wall_offset_s + capture_s, self._names, values,
                               source_frame.copy())
            self.outputs.send(frame)
            self.stats.frame_sent(time.monotonic() - capture_s)
        self._next_frame = out.first_frame + out.num_frames

    def _prosody_of(self, first: int, count: int) -> ProsodyFrames | None:
        """The prosody of frames ``first`` .. ``first + count - 1``; None (no prosody-driven motion for
        them) in the rare case the tracker is a hop behind the animator."""
        if self._prosody.frames_ready() < first + count:
            return None
        return self._prosody.take(first, count)

    # --- presets and emotion --------------------------------------------------------------------------

    @property
    def emotion(self) -> Emotion:
        """The emotion asked for last (the face may still be blending into it)."""
        with self._preset_lock:
            pending = self._pending_emotion
        return pending if pending is not None else self._layers.emotion.target

    def request_emotion(self, emotion: Emotion) -> None:
        """Blend into ``emotion`` from the next hop on (thread-safe)."""
        with self._preset_lock:
            self._pending_emotion = emotion

    def _poll_presets(self) -> None:
        with self._preset_lock:
            preset, self._pending_preset = self._pending_preset, None
            emotion, self._pending_emotion = self._pending_emotion, None
        if emotion is not None:
            self._layers.set_emotion(emotion)
            log.info("emotion %s", emotion)
        edited = self.presets.poll()
        if preset is not None:
            self._held_preset = None  # a preset asked for replaces an edit waiting for the take's end
        waiting, self._held_preset = edited or self._held_preset, None
        if waiting is not None and self._take_columns_differ(waiting):
            # the take's columns are fixed at its start: other curves would record as zeros
            if edited is not None:
                log.warning("preset %s: the edited file has other curves than the take being recorded; "
                            "it is taken up when the take stops", waiting.name)
            self._held_preset, waiting = waiting, None
        preset = preset or waiting
        if preset is not None:
            self._use_preset(preset)

    def _take_columns_differ(self, preset: Preset) -> bool:
        columns = self.outputs.recording_curves
        return columns is not None and set(preset.output_names) != set(columns)

    def _use_preset(self, preset: Preset) -> None:
        self.presets.adopt(preset)
        retargeter = preset.retargeter(self.fps)
        retargeter.continue_from(self._retargeter)  # a tuned preset goes on smoothly, no jump
        self._retargeter = retargeter
        self._names = preset.output_names
        self._layers.set_settings(*self._layer_settings(preset))
        log.info("preset %s in use (%d curves)", preset.name, len(self._names))

    def _layer_settings(self, preset: Preset):
        """(idle, expression) settings: the preset's, or none of either with ``--no-idle``."""
        return (preset.idle, preset.expression) if self._idle_enabled else (IDLE_OFF, EXPRESSION_OFF)


def _capture_time(captures, sample: int) -> float:
    """``time.monotonic()`` when stream sample ``sample`` entered the microphone, from the (start
    sample, capture time) of recent blocks (oldest first)."""
    for start, capture_s in reversed(captures):
        if start <= sample:
            return capture_s + (sample - start) / SAMPLE_RATE_HZ
    if captures:
        start, capture_s = captures[0]
        return capture_s + (sample - start) / SAMPLE_RATE_HZ
    return time.monotonic()
