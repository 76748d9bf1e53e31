"""The PMMTalk animators: the trained model behind the ``Animator`` and ``LiveAnimator`` protocols.

Offline, ``PMMTalkAnimator`` is ``model.inference.animate`` as a ``CurveTrack``. Live,
``LivePMMTalkAnimator`` wraps a ``StreamSession`` (model frames at the model's fps) and resamples them
to the output fps the way offline does (linear between the two model frames around k * model_fps /
fps), handing out output frame k once audio up to k / fps + ``lookahead_s`` is in. The model cannot
finish a frame sooner than its own latency (``inference.latency_s``, plus one model frame for the
interpolation when output frames fall between model frames), so a smaller ``lookahead_s`` is raised
to that. The activity (for the idle layer) is the live loudness envelope, as in the live phonetic
animator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import rig
from ..audio.loudness import LiveLoudness
from ..model.inference import StreamSession, animate, interpolate, latency_s, load_model, model_positions, set_compute
from ..model.pmmtalk import PMMTalk
from ..tracks import SAMPLE_RATE_HZ, Audio, CurveTrack, LiveCoeffs, num_frames_for


HOP_SAMPLES = SAMPLE_RATE_HZ // 100
WARM_UP_HOPS = 30
"""0.3 s of silence through a throwaway session when the animator is built."""


def _model(ckpt: PMMTalk | str | Path) -> PMMTalk:
    return ckpt.eval() if isinstance(ckpt, PMMTalk) else load_model(ckpt)


class PMMTalkAnimator:
    """``Animator``: a whole recording through the model. ckpt: a run folder, a packaged model's
    name, or a loaded ``PMMTalk``; style: 0 = neutral, training subjects from 1; compute: where the
    pretrained networks run (``inference.set_compute``)."""

    name = "pmmtalk"

    def __init__(self, ckpt: PMMTalk | str | Path, style: int = 0, compute: str = "cpu"):
        self.model = set_compute(_model(ckpt), compute)
        self.style = style

    @property
    def reads_text(self) -> bool:
        """Whether a transcript changes anything: only a model with a text branch reads one."""
        return self.model.text is not None

    def animate(self, audio: Audio, fps: float, text: str | None = None) -> CurveTrack:
        """The 32 coefficients, frame k at k / fps; ``text`` (what was said) replaces the recogniser."""
        coeffs = animate(self.model, audio, fps, transcript=text or None, style=self.style)
        return CurveTrack(rig.MODEL_CHANNELS, coeffs, fps)


def min_lookahead_s(model: PMMTalk, fps: float | None = None) -> float:
    """The shortest look-ahead the live animator can keep at output rate ``fps``: the model's latency,
    one more model frame when output frames fall between model frames (they interpolate between two;
    not when the model's fps is a multiple of ``fps``), and a sample of rounding."""
    model_fps = model.config.fps
    between = fps is None or not float(model_fps / fps).is_integer()
    return latency_s(model.config) + (1.0 / model_fps if between else 0.0) + 1.0 / SAMPLE_RATE_HZ


class LivePMMTalkAnimator:
    """``LiveAnimator`` over a ``StreamSession``.

    fps: output frame rate (frame k shows stream time k / fps); lookahead_s: audio after a frame's
    time that is in before the frame comes out, at least ``min_lookahead_s(model)`` (raised to it).
    Not thread-safe; one animator per stream. A gap (``skip``) ends the model's stream and starts a
    new one after it, as a new utterance.
    """

    name = "pmmtalk"

    def __init__(self, ckpt: PMMTalk | str | Path, fps: float, lookahead_s: float = 0.0, style: int = 0,
                 compute: str = "cpu"):
        if fps <= 0 or lookahead_s < 0:
            raise ValueError(f"need fps > 0 and lookahead_s >= 0, got {fps}, {lookahead_s}")
        self.model = set_compute(_model(ckpt), compute)
        self.style = style
        self.fps = float(fps)
        self.lookahead_s = max(float(lookahead_s), min_lookahead_s(self.model, self.fps))
        self.loudness = LiveLoudness(SAMPLE_RATE_HZ, self.fps)
        self._received = 0  # stream samples received or skipped
        self._next_frame = 0  # next output frame
        self._flushed = False
        self._warm_up()
        self._start_session()

    def _warm_up(self) -> None:
        """Run a throwaway session on a little silence, so that the first real hops do not pay for
        first calls (library set-up, caches): a slow first hop would make the engine skip audio."""
        self.session = StreamSession(self.model, self.style)
        silence = np.zeros(HOP_SAMPLES, np.float32)
        for _ in range(WARM_UP_HOPS):
            self.session.push(silence)

    def _start_session(self) -> None:
        """A model stream from the current stream position (after a gap, the recogniser's decoder is
        reused: building one costs 0.15 s, which would make a slow machine fall further behind)."""
        previous = getattr(self, "session", None)
        decoder = previous.release_decoder() if previous is not None else None
        self.session = StreamSession(self.model, self.style, recogniser_decoder=decoder)
        self._session_start = self._received  # stream sample of the session's first sample
        self._coeffs = np.zeros((0, rig.NUM_COEFFS), np.float32)  # model frames from _coeffs_first
        self._coeffs_first = 0
        self._session_done = False

    def process(self, samples: np.ndarray) -> LiveCoeffs:
        """Feed the next audio (float32 mono 16 kHz, any length); returns the frames now finished."""
        self._check_open()
        samples = np.asarray(samples, np.float32).reshape(-1)
        self.loudness.push(samples)
        self._take(self.session.push(samples))
        self._received += len(samples)
        finished = self._received / SAMPLE_RATE_HZ - self.lookahead_s
        return self._emit(num_frames_for(finished, self.fps) if finished >= 0 else 0)

    def skip(self, num_samples: int) -> int:
        """``num_samples`` of audio were dropped: frames before the new position not out yet are
        dropped (returns how many); the model starts a new stream after the gap."""
        self._check_open()
        if num_samples <= 0:
            return 0
        self.loudness.skip(num_samples)
        self._received += num_samples
        end = max(self._next_frame, num_frames_for(self._received / SAMPLE_RATE_HZ - 1e-9, self.fps))
        skipped, self._next_frame = end - self._next_frame, end
        self._start_session()
        return skipped

    def flush(self) -> LiveCoeffs:
        """End of stream: every frame up to the last sample (the model finishes its last frames
        without the audio after them, as offline)."""
        self._check_open()
        self._take(self.session.flush())
        self._session_done = True
        self._flushed = True
        return self._emit(num_frames_for(self._received / SAMPLE_RATE_HZ, self.fps))

    def _take(self, coeffs: np.ndarray) -> None:
        if len(coeffs):
            self._coeffs = np.concatenate([self._coeffs, coeffs])

    def _emit(self, end_frame: int) -> LiveCoeffs:
        first = self._next_frame
        positions = model_positions(first, max(end_frame - first, 0), self.fps, self.model.config.fps,
                                    self._session_start)
        if not self._session_done:  # each frame needs the model frames around it (one, on a model frame)
            model_end = self._coeffs_first + len(self._coeffs)
            positions = positions[np.ceil(positions - 1e-9) < model_end]
        n = len(positions)
        if n == 0:
            return LiveCoeffs(first, np.zeros((0, rig.NUM_COEFFS), np.float32), np.zeros(0, np.float32))
        coeffs = interpolate(self._coeffs, positions - self._coeffs_first)
        activity = self.loudness.envelope(first, n)
        self._next_frame = first + n
        # model frames before the next output frame's lower neighbour are never needed again
        keep_from = int(np.floor(model_positions(self._next_frame, 1, self.fps, self.model.config.fps,
                                                 self._session_start)[0]))
        drop = min(max(keep_from - self._coeffs_first, 0), max(len(self._coeffs) - 1, 0))
        self._coeffs, self._coeffs_first = self._coeffs[drop:], self._coeffs_first + drop
        return LiveCoeffs(first, coeffs, activity)

    def _check_open(self) -> None:
        if self._flushed:
            raise RuntimeError("the stream was flushed; build a new animator for the next one")
