"""The phonetic animator, offline: a whole recording -> pocketsphinx phones -> ``render_phones``.

The work is the phonetic core's (``pmmtalk_live/phonetic/``): phones from ``phonetic.phones``, the
co-articulated visemes, lip seal and loudness from ``phonetic.coarticulation``. This is its ``Animator``.
"""

from __future__ import annotations

from ..audio.loudness import loudness_envelope
from ..phonetic import align_phones, recognize_phones, render_phones
from ..tracks import Audio, CurveTrack, Phone, num_frames_for


class PhoneticAnimator:
    """Speech -> 32 coefficients through pocketsphinx phones and ``render_phones``.

    With a transcript the phones come from forced alignment; without one, from phone recognition.
    """

    name = "phonetic"

    def __init__(self, use_loudness: bool = True):
        self.use_loudness = use_loudness

    def phones(self, audio: Audio, text: str | None = None) -> list[Phone]:
        if text and text.strip():
            return align_phones(audio, text)
        return recognize_phones(audio)

    def animate(self, audio: Audio, fps: float, text: str | None = None) -> CurveTrack:
        """The whole recording's coefficients at ``fps``, one frame per 1/fps s from the first sample."""
        num_frames = num_frames_for(audio.duration_s, fps)
        loudness = None
        if self.use_loudness:
            loudness = loudness_envelope(audio.samples, audio.sample_rate_hz, fps, num_frames)
        return render_phones(self.phones(audio, text), num_frames, fps, loudness)
