"""Live audio in: the microphone, a file (at real-time pace or as fast as possible), raw PCM on stdin.

    device callback | reader thread --AudioBlock--> bounded queue --read(timeout_s)--> the engine

Every source hands out ``tracks.AudioBlock``s on one timeline: mono float32 at ``SAMPLE_RATE_HZ``
(channels averaged, the rate converted on the fly by ``resample.StreamResampler``), ``start_sample``
contiguous unless audio was lost, ``capture_time_s`` the ``time.monotonic()`` at which the block's
first sample entered the microphone (a file at real-time pace: when that sample was due; a file as
fast as possible or stdin: when it was read). The resampler holds back ``latency_samples`` outputs
until later input arrives; capture times account for that, so a block's time is its own first
sample's, not that of the device block it came out of.

Two kinds of pacing (``Source.realtime``):

- real time (the microphone, a file played at pace): the source never waits for the engine. If the
  engine stops reading, the queue (``REALTIME_QUEUE_S``) fills and further blocks are dropped and
  counted; the engine sees the gap in ``start_sample``.
- as fast as possible (a file with ``realtime=False``, stdin): a short queue gives back-pressure: the
  reader waits while the engine is behind, nothing is lost, and stdin's writer blocks in turn.

The microphone survives its device vanishing (a USB microphone pulled, the PulseAudio server
restarted): it logs a warning, tries to reopen the device about once a second (logging each attempt)
and, when audio comes back, continues the timeline where the wall clock says it should be, so that
``start_sample`` jumps forward by the audio lost in between.

PortAudio finds its devices once, when ``sounddevice`` is first imported (here: lazily, at the first
use). A device or a PulseAudio server that appears later (``PULSE_SERVER`` set in ``os.environ``
afterwards) is seen only after ``reinitialize_portaudio()``; the microphone does that itself before
each reconnect attempt.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import select
import sys
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import numpy as np

from ..errors import AudioInputError
from ..tracks import SAMPLE_RATE_HZ, AudioBlock, InputFrames
from .files import _printable, read_audio
from .input_frames import MICROPHONE_SUBTYPE, RAW_SUBTYPES, FileInput
from .resample import StreamResampler

log = logging.getLogger(__name__)

REALTIME_QUEUE_S = 2.0
"""Audio a real-time source holds for an engine that does not read; beyond it blocks are dropped."""
BACKPRESSURE_QUEUE_S = 0.5
"""Audio an as-fast-as-possible source reads ahead of the engine before it waits."""
SILENT_DEVICE_TIMEOUT_S = 1.0
"""A microphone that delivers nothing for this long counts as gone and is reopened."""
RECONNECT_INTERVAL_S = 1.0
"""Pause between attempts to reopen a microphone that went away."""
MAX_ADC_AGE_S = 1.0
"""A device timestamp that puts the first sample further back than this is not believed."""

RAW_FORMATS = {"s16le": (np.dtype("<i2"), 1.0 / 32768), "s32le": (np.dtype("<i4"), 1.0 / 2**31),
               "f32le": (np.dtype("<f4"), 1.0)}
"""Raw PCM on stdin: name -> (sample dtype, scale to -1..1)."""

_NO_INPUTS = ("no audio input devices: PortAudio lists none (no sound card, and no PulseAudio or PipeWire "
              "server reachable from this process); `pmmtalk-live devices` shows what this machine offers")


class Source(Protocol):
    """What the streaming engine uses of an audio source.

    ``start()`` begins capture (a device stream or a reader thread); ``read(timeout_s)`` returns the
    next block, or None when nothing arrived within ``timeout_s`` seconds or the source has finished;
    ``finished`` turns True once a file or stdin ended (or the source was closed) and every block has
    been read. ``close()`` stops everything and joins the threads; calling it again does nothing.
    Thread-safe: blocks are produced on a device callback or a reader thread.
    """

    description: str
    """One line for the serve banner, e.g. "microphone 'pulse' (ALSA) at 44100 Hz, 2 ch -> 16 kHz mono"."""
    realtime: bool
    """True: the source does not wait for the engine (the engine drops audio when behind).
    False: the source waits for the engine (back-pressure), nothing is lost."""
    overflows: int
    """Times audio was dropped because a buffer was full (the device's or this source's queue)."""
    reconnects: int
    """Times the microphone came back after its device went away."""
    samples_lost: int
    """16 kHz samples missing from the timeline (gaps in ``start_sample``)."""

    @property
    def finished(self) -> bool: ...

    def start(self) -> None: ...

    def read(self, timeout_s: float) -> AudioBlock | None: ...

    def close(self) -> None: ...


def open_source(spec: str | os.PathLike | BinaryIO, *, device: int | str | None = None, realtime: bool = True,
                block_ms: float = 10, raw_rate_hz: int = 16000, raw_channels: int = 1, raw_format: str = "s16le",
                loop: bool = False) -> Source:
    """The source ``spec`` names: ``"mic"``, ``"-"`` (raw PCM on stdin), a binary stream (raw PCM, for
    tests and embedding), or an audio file path (a file called ``mic`` is ``./mic``).

    device: the microphone by index or by any part of its name (any case); None = the system default.
    realtime: files only: True = at real-time pace, False = as fast as the engine reads.
    block_ms: audio per block (the microphone's device block, a file's block, stdin's read size).
    raw_rate_hz, raw_channels, raw_format: stdin only: the PCM layout (``RAW_FORMATS``).
    loop: files only: start again at the end, forever.

    Raises ``AudioInputError`` (one line) for a file that cannot be used, a microphone that does not
    exist or refuses the settings, or a bad raw layout. The source is not started.
    """
    if not 1 <= block_ms <= 1000:
        raise AudioInputError(f"block_ms must be 1..1000 ms, got {block_ms}")
    if hasattr(spec, "read"):
        return RawPcmSource(spec, rate_hz=raw_rate_hz, channels=raw_channels, sample_format=raw_format,
                            block_ms=block_ms)
    if spec == "-":
        return RawPcmSource(None, rate_hz=raw_rate_hz, channels=raw_channels, sample_format=raw_format,
                            block_ms=block_ms)
    if spec == "mic":
        return Microphone(device, block_ms=block_ms)
    return FileSource(spec, realtime=realtime, block_ms=block_ms, loop=loop)


# --- devices ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InputDevice:
    """A PortAudio device with input channels, as ``pmmtalk-live devices`` lists it."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    default_sample_rate_hz: float
    is_default: bool

    @property
    def label(self) -> str:
        return f"'{self.name}' ({self.host_api})"


def _sounddevice():
    """The sounddevice module, imported on first use (importing it initialises PortAudio)."""
    try:
        import sounddevice
    except OSError as error:  # the PortAudio library itself is missing
        raise AudioInputError(f"cannot use audio devices: {error} (install the libportaudio2 package; "
                              "scripts/setup.sh does)") from error
    return sounddevice


def reinitialize_portaudio() -> None:
    """Make PortAudio enumerate the devices again, so that a device plugged in since, or a PulseAudio
    server named in ``os.environ`` since, is listed. Closes every PortAudio stream in this process."""
    sd = _sounddevice()
    sd._terminate()
    sd._initialize()


def list_input_devices() -> list[InputDevice]:
    """Every device PortAudio lists with at least one input channel, in PortAudio's order."""
    sd = _sounddevice()
    host_apis = [api["name"] for api in sd.query_hostapis()]
    try:
        default_index = int(sd.default.device[0])
    except (TypeError, ValueError, sd.PortAudioError):
        default_index = -1
    return [InputDevice(index=int(info["index"]), name=str(info["name"]), host_api=host_apis[info["hostapi"]],
                        max_input_channels=int(info["max_input_channels"]),
                        default_sample_rate_hz=float(info["default_samplerate"]),
                        is_default=int(info["index"]) == default_index)
            for info in sd.query_devices() if info["max_input_channels"] > 0]


def format_devices() -> str:
    """The input devices as text for ``pmmtalk-live devices`` (says so plainly when there are none)."""
    devices = list_input_devices()
    if not devices:
        return _NO_INPUTS.split(";")[0] + "."
    width = max(len(d.name) for d in devices)
    lines = ["audio inputs (PortAudio):"]
    for d in devices:
        lines.append(f"  {'*' if d.is_default else ' '} {d.index:>3}  {d.name:<{width}}  {d.host_api:<12}"
                     f"{d.max_input_channels:>3} ch  {d.default_sample_rate_hz:>6.0f} Hz")
    lines.append("* = the system default; pick one with --device INDEX or --device NAME (any part of it, any case)")
    return "\n".join(lines)


def _resolve_input(device: int | str | None) -> InputDevice:
    """The input device ``device`` names (index, digits, or a name's part in any case; None = default)."""
    inputs = list_input_devices()
    if not inputs:
        raise AudioInputError(_NO_INPUTS)
    listing = ", ".join(f"{d.index} '{d.name}'" for d in inputs)
    if device is None:
        return next((d for d in inputs if d.is_default), inputs[0])
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device)
    if isinstance(device, int):
        for d in inputs:
            if d.index == device:
                return d
        raise AudioInputError(f"no input device with index {device}; the inputs are: {listing}")
    key = str(device).strip().lower()
    matches = [d for d in inputs if d.name.lower() == key] or [d for d in inputs if key in d.name.lower()]
    if not matches:
        raise AudioInputError(f"no input device matches '{device}'; the inputs are: {listing}")
    if len(matches) > 1:
        names = ", ".join(f"{d.index} '{d.name}'" for d in matches)
        raise AudioInputError(f"'{device}' matches several input devices ({names}); give more of the name or "
                              "the index")
    return matches[0]


def _input_settings(device: InputDevice, rate_hz: int | None) -> tuple[int, int]:
    """(sample rate Hz, channels) the device accepts for float32 input: 16 kHz if it can (no resampling),
    else its default rate; mono if it can, else stereo, else all its channels."""
    sd = _sounddevice()
    rates = [rate_hz] if rate_hz else list(dict.fromkeys([SAMPLE_RATE_HZ, int(round(device.default_sample_rate_hz))]))
    channel_options = list(dict.fromkeys([1, min(2, device.max_input_channels), device.max_input_channels]))
    reason = "no settings tried"
    for rate in rates:
        for channels in channel_options:
            try:
                sd.check_input_settings(device=device.index, channels=channels, dtype="float32", samplerate=rate)
                return rate, channels
            except (sd.PortAudioError, ValueError) as error:
                reason = " ".join(str(error).split())
    raise AudioInputError(f"microphone {device.label} refuses float32 input at {' or '.join(map(str, rates))} Hz "
                          f"({reason})")


# --- conversion to the 16 kHz mono timeline ----------------------------------------------------------

class _MonoBlocks:
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


class _CaptureClock:
    """Capture times of a device's frames from one noisy estimate per callback.

    A callback's estimate of when its first frame entered the ADC is late by however long the
    callback waited (scheduling, buffering; through PulseAudio's pipe source, callbacks come in
    bursts, so the estimates alternate by a whole block), and never early. So the clock uses the
    earliest of the recent estimates, each carried to frame 0 by the frame count: frame n entered
    at ``n / rate_hz + min(estimate_k - n_k / rate_hz)`` over the callbacks of the last
    ``WINDOW_S``. The window lets it follow a device clock that drifts against the monotonic clock
    and forget a freak early estimate.
    """

    WINDOW_S = 2.0

    def __init__(self, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self._frames = 0
        self._offsets: collections.deque[tuple[int, float]] = collections.deque()  # (frame, offset), rising

    def block_start_s(self, num_frames: int, estimate_s: float) -> float:
        """Capture time (monotonic) of the first of the next ``num_frames`` frames."""
        index = self._frames
        self._frames += num_frames
        offset_s = estimate_s - index / self.rate_hz
        while self._offsets and self._offsets[-1][1] >= offset_s:
            self._offsets.pop()
        self._offsets.append((index, offset_s))
        while self._offsets[0][0] < index - self.WINDOW_S * self.rate_hz:
            self._offsets.popleft()
        return index / self.rate_hz + self._offsets[0][1]


# --- the queue every source delivers through ----------------------------------------------------------

_END = object()


class _QueuedSource:
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


# --- the microphone -----------------------------------------------------------------------------------

class Microphone(_QueuedSource):
    """A sound-card input through PortAudio (sounddevice), ``block_ms`` per device callback.

    device: index, or any part of the name in any case (exact names win), or None for the system
        default input. rate_hz: the device rate to ask for (None: 16 kHz if the device accepts it,
        else its default rate); anything but 16 kHz is resampled on the fly.

    Capture time: from the callback's ``time_info`` (``currentTime - inputBufferAdcTime``: how long
    ago the first frame entered the ADC) when PortAudio gives both and the result is plausible, else
    by assuming the block's last frame arrived at the callback; then smoothed (``_CaptureClock``).
    """

    def __init__(self, device: int | str | None = None, *, block_ms: float = 10, rate_hz: int | None = None) -> None:
        super().__init__(realtime=True, block_ms=block_ms)
        self.block_ms = block_ms
        self.device = _resolve_input(device)
        self.rate_hz, self.channels = _input_settings(self.device, rate_hz)
        self._requested_rate_hz = rate_hz
        self.block_frames = max(1, int(round(block_ms * self.rate_hz / 1000)))
        self.silent_timeout_s = SILENT_DEVICE_TIMEOUT_S
        self.reconnect_interval_s = RECONNECT_INTERVAL_S
        self._blocks = _MonoBlocks(self.rate_hz, self.channels)
        self._clock = _CaptureClock(self.rate_hz)  # a fresh one for each stream
        self._stream = None
        self._wake = threading.Event()  # the stream ended, or close() was called
        self._last_callback_s = 0.0
        self.description = self._describe()

    def _describe(self) -> str:
        if (self.rate_hz, self.channels) == (SAMPLE_RATE_HZ, 1):
            return f"microphone {self.device.label} at {self.rate_hz} Hz, mono"
        return f"microphone {self.device.label} at {self.rate_hz} Hz, {self.channels} ch -> 16 kHz mono"

    @property
    def samples_lost(self) -> int:
        return self._samples_dropped + self._blocks.samples_skipped

    def start(self) -> None:
        """Open and start the device stream (``AudioInputError`` if PortAudio refuses it)."""
        if self._started:
            return
        if self._closed:
            raise RuntimeError("the source is closed")
        self._open_stream()
        log.info("%s: started, %d frames per callback", self.description, self.block_frames)
        self._start_thread(self._supervise, "microphone-supervisor")

    def _open_stream(self) -> None:
        sd = _sounddevice()
        self._wake.clear()
        self._clock = _CaptureClock(self.rate_hz)
        try:
            stream = sd.InputStream(device=self.device.index, samplerate=self.rate_hz, channels=self.channels,
                                    dtype="float32", blocksize=self.block_frames, callback=self._callback,
                                    finished_callback=self._wake.set)
            self._last_callback_s = time.monotonic()
            stream.start()
        except (sd.PortAudioError, ValueError) as error:
            raise AudioInputError(f"microphone {self.device.label}: cannot open it at {self.rate_hz} Hz, "
                                  f"{self.channels} ch ({' '.join(str(error).split())})") from error
        self._stream = stream

    def _callback(self, indata: np.ndarray, frames: int, time_info, status) -> None:
        now = time.monotonic()
        self._last_callback_s = now
        try:
            if status.input_overflow:
                self.overflows += 1
                log.debug("%s: input overflow (the device dropped audio)", self.description)
            estimate_s = now - frames / self.rate_hz  # the block's last frame arrived by now
            if time_info.currentTime and time_info.inputBufferAdcTime:
                adc_age_s = time_info.currentTime - time_info.inputBufferAdcTime
                if 0.0 < adc_age_s < MAX_ADC_AGE_S:
                    estimate_s = min(estimate_s, now - adc_age_s)
            block = self._blocks.push(indata.copy(), self._clock.block_start_s(frames, estimate_s))
            if block is not None:
                self._deliver(block)
        except Exception:  # a raise here would stop the stream; keep capturing
            log.exception("%s: error in the audio callback", self.description)

    def _supervise(self) -> None:
        """Watch the stream; when it ends or goes silent, reopen the device until it is back."""
        while not self._stop.is_set():
            self._wake.wait(timeout=0.1)
            if self._stop.is_set():
                return
            silent_s = time.monotonic() - self._last_callback_s
            if not self._wake.is_set() and silent_s < self.silent_timeout_s:
                continue
            reason = "its stream stopped" if self._wake.is_set() else f"no audio for {silent_s:.1f} s"
            log.warning("microphone %s went away (%s); trying to reopen it every %g s", self.device.label, reason,
                        self.reconnect_interval_s)
            self._close_stream()
            block = self._blocks.end_segment()
            if block is not None:
                self._deliver(block)
            self._reconnect()

    def _reconnect(self) -> None:
        gone_s = time.monotonic()
        attempt = 0
        while not self._stop.wait(self.reconnect_interval_s):
            attempt += 1
            self.reconnect_attempts += 1
            try:
                reinitialize_portaudio()  # a device that came back may have a new index
                device = _resolve_input(self.device.name)
                rate_hz, channels = _input_settings(device, self._requested_rate_hz)
                self.device, self.rate_hz, self.channels = device, rate_hz, channels
                self.block_frames = max(1, int(round(self.block_ms * rate_hz / 1000)))
                self._blocks.set_input(rate_hz, channels)
                self._open_stream()
            except Exception as error:  # the device is still gone; never give up, never crash
                # every attempt for the first ten seconds, then once a minute (debug: all of them)
                level = logging.WARNING if attempt <= 10 or attempt % 60 == 0 else logging.DEBUG
                log.log(level, "microphone %s: reconnect attempt %d failed: %s", self.device.label, attempt,
                        " ".join(str(error).split()))
                continue
            self.reconnects += 1
            self.description = self._describe()
            log.warning("microphone %s is back after %.1f s (%d attempts)", self.device.label,
                        time.monotonic() - gone_s, attempt)
            return

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort()
        except Exception as error:
            log.debug("%s: abort: %s", self.description, error)
        try:
            stream.close()
        except Exception as error:
            log.debug("%s: close: %s", self.description, error)

    def close(self) -> None:
        """Stop the stream and the supervisor (also mid-reconnect); idempotent."""
        self._stop.set()  # before waking the supervisor, which would otherwise take it for a lost device
        self._wake.set()
        super().close()
        self._close_stream()


# --- files --------------------------------------------------------------------------------------------

class FileSource(_QueuedSource):
    """An audio file (any format ``files.read_audio`` reads, checked the same way), in ``block_ms`` blocks.

    realtime=True: block k (samples k*n .. (k+1)*n) is handed out when its last sample is due,
    ``start + (k+1) * block``, as a microphone would; its ``capture_time_s`` is when its first sample
    was due, ``start + k * block`` (monotonic clock). realtime=False: as fast as the engine reads,
    ``capture_time_s`` = when the block was read. loop=True: the file again and again, forever.
    """

    def __init__(self, path: str | os.PathLike, *, realtime: bool = True, block_ms: float = 10,
                 loop: bool = False) -> None:
        super().__init__(realtime=realtime, block_ms=block_ms)
        self.path = path
        self.samples = read_audio(path).samples  # one-line AudioInputErrors for anything unusable
        self.loop = loop
        self.block_samples = max(1, int(round(block_ms * SAMPLE_RATE_HZ / 1000)))
        self.description = (f"file '{_printable(os.fspath(path))}' ({self._format()}, "
                             f"{len(self.samples) / SAMPLE_RATE_HZ:.1f} s{', looped' if loop else ''}) "
                             f"{'at real-time pace' if realtime else 'as fast as possible'}")

    def _format(self) -> str:
        import soundfile as sf

        try:
            info = sf.info(self.path)
        except Exception:  # read_audio could read it; the description can do without
            return "-> 16 kHz mono"
        return f"{info.samplerate} Hz, {info.channels} ch -> 16 kHz mono"

    def start(self) -> None:
        self._start_thread(self._run, "file-source")

    def _run(self) -> None:
        try:
            own = FileInput(self.path, loop=self.loop)  # the file's own frames, for the take
        except (RuntimeError, OSError) as error:  # read_audio could read it: the take does without
            log.warning("%s: cannot read its own audio for the take (%s)", self.description, error)
            own = None
        try:
            self._play(own)
        finally:
            if own is not None:
                own.close()

    def _play(self, own: FileInput | None) -> None:
        n = len(self.samples)
        started_s = time.monotonic()
        position = 0  # timeline index of the next block's first sample
        while not self._stop.is_set() and (self.loop or position < n):
            if self.loop:
                samples = np.take(self.samples, np.arange(position, position + self.block_samples), mode="wrap")
            else:
                samples = self.samples[position:position + self.block_samples]
            own_frames = own.until(position + len(samples)) if own is not None else None
            if self.realtime:
                due_s = started_s + (position + len(samples)) / SAMPLE_RATE_HZ
                if self._stop.wait(max(0.0, due_s - time.monotonic())):
                    return
                self._deliver(AudioBlock(samples, position, started_s + position / SAMPLE_RATE_HZ, own_frames))
            elif not self._deliver(AudioBlock(samples, position, time.monotonic(), own_frames)):
                return
            position += len(samples)
        log.debug("%s: ended after %d samples", self.description, position)
        self._finish()


# --- raw PCM on stdin ---------------------------------------------------------------------------------

class RawPcmSource(_QueuedSource):
    """Raw interleaved PCM from stdin (``stream=None``) or a binary stream, read on a thread until EOF.

    sample_format: a ``RAW_FORMATS`` name (little-endian s16, s32 or f32). Reads of any size are fine:
    a frame split across reads is joined; a partial frame at EOF is dropped with a warning. Never real
    time: reading waits while the engine is behind. ``capture_time_s``: when the audio was read (a
    read's last frame counts as arriving then).
    A stream with a file descriptor is read with ``os.read`` after ``select``, so ``close()`` can stop
    a reader that waits for input; don't read from it elsewhere.
    """

    def __init__(self, stream: BinaryIO | None = None, *, rate_hz: int = 16000, channels: int = 1,
                 sample_format: str = "s16le", block_ms: float = 10) -> None:
        super().__init__(realtime=False, block_ms=block_ms)
        if sample_format not in RAW_FORMATS:
            raise AudioInputError(f"raw PCM format '{sample_format}' is not one of {', '.join(RAW_FORMATS)}")
        if int(rate_hz) != rate_hz or rate_hz <= 0:
            raise AudioInputError(f"raw PCM rate must be a positive whole number of Hz, got {rate_hz}")
        if int(channels) != channels or channels < 1:
            raise AudioInputError(f"raw PCM channels must be 1 or more, got {channels}")
        self._stream = stream if stream is not None else sys.stdin.buffer
        self.name = "stdin" if stream is None else getattr(stream, "name", "stream")
        self.rate_hz, self.channels, self.sample_format = int(rate_hz), int(channels), sample_format
        self._dtype, self._scale = RAW_FORMATS[sample_format]
        self._frame_bytes = self._dtype.itemsize * self.channels
        self._read_bytes = max(1, int(round(block_ms * self.rate_hz / 1000))) * self._frame_bytes
        self._blocks = _MonoBlocks(self.rate_hz, self.channels, RAW_SUBTYPES[sample_format])
        self.description = f"{self.name}: raw {sample_format} at {self.rate_hz} Hz, {self.channels} ch -> 16 kHz mono"
        try:
            self._fd: int | None = self._stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.BytesIO and friends
            self._fd = None

    def start(self) -> None:
        self._start_thread(self._run, "raw-pcm-source")

    def _read_some(self) -> bytes | None:
        """Up to one block of bytes; b"" at EOF; None if nothing came within 0.1 s."""
        if self._fd is None:
            read = getattr(self._stream, "read1", None) or self._stream.read
            return read(self._read_bytes)
        ready, _, _ = select.select([self._fd], [], [], 0.1)
        return os.read(self._fd, self._read_bytes) if ready else None

    def _run(self) -> None:
        pending = b""
        frames_read = 0
        try:
            while not self._stop.is_set():
                data = self._read_some()
                if data is None:
                    continue
                if not data:
                    break
                read_s = time.monotonic()
                pending += data
                usable = len(pending) - len(pending) % self._frame_bytes
                if usable == 0:
                    continue
                own = np.frombuffer(pending[:usable], self._dtype).reshape(-1, self.channels)
                pending = pending[usable:]
                frames = own.astype(np.float32) * np.float32(self._scale)
                if not np.isfinite(frames).all():
                    at_s = (frames_read + int(np.argmin(np.isfinite(frames).all(axis=1)))) / self.rate_hz
                    raise AudioInputError(f"{self.name}: NaN or infinite samples (the first at {at_s:.3f} s); "
                                          "float audio must be finite")
                frames_read += len(frames)
                # as a microphone's block: its last frame arrived by the time it was read
                block = self._blocks.push(frames, read_s - len(frames) / self.rate_hz, own)
                if block is not None and not self._deliver(block):
                    return
        except AudioInputError as error:
            self._finish(error)
            return
        except OSError as error:
            self._finish(AudioInputError(f"{self.name}: reading failed after {frames_read / self.rate_hz:.2f} s "
                                         f"({error})"))
            return
        if self._stop.is_set():
            return
        if pending:
            log.warning("%s: ended inside a frame; %d trailing bytes ignored", self.name, len(pending))
        block = self._blocks.end_segment()
        if block is not None:
            self._deliver(block)
        log.debug("%s: EOF after %d frames (%.2f s)", self.name, frames_read, frames_read / self.rate_hz)
        self._finish()
