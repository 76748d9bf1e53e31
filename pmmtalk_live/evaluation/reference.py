"""The reference a real recording is scored against: the teacher (``render_phones``) on the forced
alignment of its transcript, with the offline loudness, exactly as ``PhoneticAnimator.animate(audio,
fps, text)`` gives it. Shared by the evaluation reports (``model_report``, ``stream_report``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio.loudness import loudness_envelope
from ..errors import RecognizerError
from ..phonetic import phones, render_phones
from ..tracks import Audio, Phone, num_frames_for
from .sets import Utterance


@dataclass
class Sample:
    """One utterance and its reference: ``coeffs`` (T, 32) float32 at the report's fps, T =
    ``num_frames_for(audio.duration_s, fps)``, and the timed ``phones`` they were rendered from."""

    name: str
    audio: Audio
    coeffs: np.ndarray
    phones: list[Phone]


def real_samples(utts: list[Utterance], fps: float) -> list[Sample]:
    """Recordings with transcripts -> samples whose reference is the teacher on the forced alignment.
    Raises RecognizerError when an alignment fails."""
    out = []
    for utt in utts:
        aligned = phones.align_phones(utt.audio, utt.text)
        n = num_frames_for(utt.audio.duration_s, fps)
        loudness = loudness_envelope(utt.audio.samples, utt.audio.sample_rate_hz, fps, n)
        out.append(Sample(utt.name, utt.audio, render_phones(aligned, n, fps, loudness).values, aligned))
    return out


def aligned_samples(utts: list[Utterance], fps: float) -> tuple[list[Sample], dict[str, str]]:
    """As ``real_samples``, leaving out the recordings whose alignment fails: (samples, {name: why})."""
    samples, skipped = [], {}
    for utt in utts:
        try:
            samples += real_samples([utt], fps)
        except RecognizerError as error:
            skipped[utt.name] = str(error)
    return samples, skipped
