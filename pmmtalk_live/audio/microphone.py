"""The microphone: a sound-card input through PortAudio (sounddevice), on the 16 kHz mono timeline.

The microphone survives its device vanishing (a USB microphone pulled, the PulseAudio server
restarted): it logs a warning, tries to reopen the device about once a second (logging each attempt)
and, when audio comes back, continues the timeline where the wall clock says it should be, so that
``start_sample`` jumps forward by the audio lost in between.
"""

from __future__ import annotations

import collections
import logging
import threading
import time

import numpy as np

from ..errors import AudioInputError
from ..tracks import SAMPLE_RATE_HZ
from .blocks import MonoBlocks, QueuedSource
from .devices import _input_settings, _resolve_input, _sounddevice, reinitialize_portaudio

log = logging.getLogger(__name__)

SILENT_DEVICE_TIMEOUT_S = 1.0
"""A microphone that delivers nothing for this long counts as gone and is reopened."""
RECONNECT_INTERVAL_S = 1.0
"""Pause between attempts to reopen a microphone that went away."""
MAX_ADC_AGE_S = 1.0
"""A device timestamp that puts the first sample further back than this is not believed."""


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


class Microphone(QueuedSource):
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
        self._blocks = MonoBlocks(self.rate_hz, self.channels)
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
