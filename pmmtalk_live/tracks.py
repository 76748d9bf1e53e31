"""The hand-offs between stages: timed phones, mono audio, curve tracks, and their live forms.

Every stage takes and returns one of these, so offline (``animate``) and live (``serve``) use the
same stages. Shapes and units are part of the contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import rig

SAMPLE_RATE_HZ = 16_000
"""The rate every stage after the audio reader works at."""


@dataclass(frozen=True)
class Phone:
    """One timed phone. ``label`` is ARPAbet without stress (``AA``, ``P``) or ``SIL`` for silence."""

    label: str
    start_s: float
    end_s: float
    word: str | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Audio:
    """Mono audio: ``samples`` float32 in -1..1, shape (N,), at ``sample_rate_hz``."""

    samples: np.ndarray
    sample_rate_hz: int = SAMPLE_RATE_HZ

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz


@dataclass
class CurveTrack:
    """Named curves over time: ``values`` float32 of shape (T, len(names)), one row per frame at ``fps``.

    The animators produce tracks over the 32 ``rig.MODEL_CHANNELS``; the idle layer over
    ``rig.IDLE_CHANNELS``; a retarget preset turns source tracks into output curves (any names).
    """

    names: tuple[str, ...]
    values: np.ndarray
    fps: float

    def __post_init__(self) -> None:
        self.names = tuple(self.names)
        self.values = np.asarray(self.values, dtype=np.float32)
        if self.values.ndim != 2 or self.values.shape[1] != len(self.names):
            raise ValueError(f"values shape {self.values.shape} does not fit {len(self.names)} names")

    @property
    def num_frames(self) -> int:
        return self.values.shape[0]

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    def column(self, name: str) -> np.ndarray:
        """One curve, shape (T,)."""
        return self.values[:, self.names.index(name)]


def num_frames_for(duration_s: float, fps: float) -> int:
    """Frames that cover ``duration_s`` at ``fps``: frame k shows time k / fps."""
    return int(np.floor(duration_s * fps)) + 1


def empty_coeffs(num_frames: int, fps: float) -> CurveTrack:
    """A neutral track over the 32 model channels."""
    return CurveTrack(rig.MODEL_CHANNELS, np.zeros((num_frames, rig.NUM_COEFFS), np.float32), fps)


# --- live hand-offs ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class InputFrames:
    """The input's own audio, before it was mixed to mono and resampled: what a take keeps beside its
    16 kHz WAV (``<take>_input.wav``).

    frames: shape (n, channels), as the source delivered them: int16 or int32 at full scale (a 24-bit
        file's samples in the top 24 bits, as ``soundfile`` reads them), or float32/float64 (a float
        input may exceed 1.0: kept as it is).
    start_frame: index of ``frames[0]`` on the input's own timeline, frames at ``rate_hz`` since the
        stream began: frame f is the instant of 16 kHz stream sample ``f * SAMPLE_RATE_HZ / rate_hz``.
    rate_hz: the input's sample rate. subtype: how a take writes them (``sinks.take_wav.SUBTYPES``).
    """

    frames: np.ndarray
    start_frame: int
    rate_hz: int
    subtype: str


@dataclass(frozen=True)
class AudioBlock:
    """A block of live audio as a source delivers it, already mono at ``SAMPLE_RATE_HZ``.

    samples: float32 in -1..1, shape (n,); any n (sources deliver what the device gives).
    start_sample: index of ``samples[0]`` in the stream (16 kHz samples since the stream began);
        consecutive blocks are contiguous unless the source lost audio (a gap = samples lost).
    capture_time_s: ``time.monotonic()`` when ``samples[0]`` entered the microphone (a file played at
        real-time pace: when it was due; as fast as possible or stdin: when it was read).
    input: the input's own frames that arrived with this block (for the take), or None; they need not
        cover the same instants as ``samples`` (a resampler holds some back), only follow each other.
    """

    samples: np.ndarray
    start_sample: int
    capture_time_s: float
    input: InputFrames | None = None

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self.samples)


@dataclass(frozen=True)
class LiveCoeffs:
    """Frames a live animator has finished: frame numbers ``first_frame .. first_frame + n - 1``.

    coeffs: float32 (n, 32) over ``rig.MODEL_CHANNELS``, in 0..1.
    activity: float32 (n,) in 0..1, how much speech there is (the loudness envelope); it livens the
        idle layer (faster blinks, more head motion).
    """

    first_frame: int
    coeffs: np.ndarray
    activity: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.coeffs)


@dataclass(frozen=True)
class CurveFrame:
    """One output frame of named curves, as the sinks get it.

    number: frame counter from 0 at the stream's first sample, strictly increasing; a frame the engine
        skipped (compute fell behind) leaves a gap. The frame shows stream time ``number / fps``.
    fps: the output frame rate (30 or 60).
    capture_time_s: ``time.monotonic()`` when the audio at the frame's time entered the microphone.
    wall_time_s: the same instant as Unix time (``time.time()`` scale): OSC timetags and timecode.
    names: curve names (the preset's output names); values: float32, shape (len(names),).
    sources: the source channels the preset mixed them from, float32 (len(rig.SOURCE_CHANNELS),) in that
        order, or None (a frame not made by the engine); monitors show them, the network sinks do not.
    """

    number: int
    fps: float
    capture_time_s: float
    wall_time_s: float
    names: tuple[str, ...]
    values: np.ndarray
    sources: np.ndarray | None = None

    @property
    def time_s(self) -> float:
        """Stream time the frame shows: seconds after the stream's first sample."""
        return self.number / self.fps
