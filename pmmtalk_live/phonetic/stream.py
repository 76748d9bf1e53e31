"""Streaming phone recognition -> co-articulated visemes, hop by hop (``PhoneStream``, ``VisemeStream``).

Offline, ``render_phones`` sees the phones of a whole recording; live, ``VisemeStream`` sees 10 ms hops
and must hand out each frame once its look-ahead is in, never to change it again. Per hop:

```
hop (160 samples) --> LiveLoudness (causal envelope; is this hop quiet?)
                  --> PhoneStream  (pocketsphinx, one utterance at a time; ended at pauses and at a
                                    maximum length; idle, not decoding, between utterances)
frames whose look-ahead is in --> phones within REACH_S of them (ended utterances + the current
                                  utterance's best partial segmentation) --> render_phones --> LiveCoeffs
```

``render_phones`` is the offline renderer itself, run on a window of frames
(``first_frame``): a frame depends only on the phones within ``REACH_S`` of it, so where the live
phones agree with the offline ones the frames are the same. The look-ahead is what lets a frame see
the phones after it (anticipatory co-articulation: lips round before an "oo") and what gives the
recogniser's best path time to settle. ``python -m pmmtalk_live.evaluation.live_report`` measures lip-sync
and speed (docs/live-animator.md).
"""

from __future__ import annotations

import wave
from functools import lru_cache
from importlib.resources import files

import numpy as np

from .. import rig
from ..audio.loudness import LiveLoudness, level_db
from ..tracks import SAMPLE_RATE_HZ, LiveCoeffs, Phone, num_frames_for
from .coarticulation import REACH_S, render_phones
from .phones import FRAME_S, new_phone_decoder, normalize_label

HOP_SAMPLES = SAMPLE_RATE_HZ // 100
"""10 ms: pocketsphinx's frame shift, the engine's hop, and the step of the pause logic."""

PAUSE_S = 0.3
"""Quiet that ends an utterance. The decoder then idles (no cost) until speech comes back."""

ONSET_S = 0.03
"""Sound that starts an utterance (shorter clicks do not)."""

PREROLL_S = 0.2
"""Audio before the onset fed to a new utterance: the decoder hears the silence before the speech,
as it does offline, and a soft onset is not cut."""

SOFT_MAX_UTTERANCE_S = 5.0
MAX_UTTERANCE_S = 10.0
"""Speech without a pause is cut into utterances: after ``SOFT_MAX_UTTERANCE_S`` at the first quiet
hop (a stop closure, a breath), after ``MAX_UTTERANCE_S`` regardless. Reading the best partial
segmentation costs time in proportion to the utterance, so this bounds the cost per hop."""

CMN_UPDATE_HOPS = 50
"""pocketsphinx updates its cepstral mean only when an utterance ends; asking it to every this many
hops adapts to a new voice or microphone within the first utterance."""

PRIME_S = 3.0
"""A new decoder starts from the cepstral mean left by decoding this much of the bundled example
(once per process): from pocketsphinx's default mean it hears its first utterance worse (see
docs/live-animator.md)."""


class PhoneStream:
    """Streaming phone recognition: 10 ms hops in, timed phones on the stream timeline out.

    Its own pocketsphinx decoder (the offline recogniser's model and search) decodes one utterance
    at a time, ``process_raw`` per hop. ``phones`` gives the phones of the ended utterances, ``SIL``
    over the pauses between them, and the current utterance's best partial segmentation. Times are
    seconds from the stream's first sample; skipped audio has no phones.
    """

    def __init__(self, prime_s: float = PRIME_S, decoder=None):
        """``decoder``: a pocketsphinx decoder to reuse (``release_decoder`` of an earlier stream: no
        utterance open), keeping the cepstral mean it adapted; None = a new one, primed."""
        reused = decoder is not None
        self.decoder = decoder if reused else new_phone_decoder()
        self.done: list[Phone] = []  # ended utterances and pauses, in time order
        self.utterance_start: int | None = None  # stream sample; None while idle
        self.pause_start = 0  # stream sample where the current pause began (while idle)
        self.fed = 0  # stream sample just after the last hop pushed
        self.utterances = 0  # utterances ended so far
        self._preroll: list[np.ndarray] = []
        self._loud_run = 0  # samples: the current run of non-quiet hops (idle) ...
        self._quiet_run = 0  # ... and of quiet hops (in an utterance)
        self._hops = 0  # hops decoded
        if prime_s > 0 and not reused:
            self._prime(prime_s)

    def release_decoder(self):
        """End the stream's utterance and hand over its decoder (built in about 0.15 s) for a new
        stream to reuse; this stream must not be used after."""
        self.end()
        decoder, self.decoder = self.decoder, None
        return decoder

    def push(self, hop: np.ndarray, quiet: bool) -> None:
        """The next hop of audio (float32, up to ``HOP_SAMPLES``) and whether it is a pause."""
        self.fed += len(hop)
        if self.utterance_start is None:
            self._preroll.append(hop)
            while sum(map(len, self._preroll)) > PREROLL_S * SAMPLE_RATE_HZ:
                self._preroll.pop(0)
            self._loud_run = 0 if quiet else self._loud_run + len(hop)
            if self._loud_run >= ONSET_S * SAMPLE_RATE_HZ:
                self._start(self.fed - sum(map(len, self._preroll)), np.concatenate(self._preroll))
            return
        self.decoder.process_raw(_pcm16(hop), full_utt=False)
        self._hops += 1
        if self._hops % CMN_UPDATE_HOPS == 0:
            self.decoder.get_cmn(True)
        self._quiet_run = self._quiet_run + len(hop) if quiet else 0
        length = (self.fed - self.utterance_start) / SAMPLE_RATE_HZ
        if self._quiet_run >= PAUSE_S * SAMPLE_RATE_HZ:
            self.end()
        elif length >= MAX_UTTERANCE_S or (length >= SOFT_MAX_UTTERANCE_S and quiet):
            self.end()
            self._start(self.fed, np.zeros(0, np.float32))

    def end(self) -> None:
        """End the utterance (if any) at the audio pushed so far; the decoder idles."""
        if self.utterance_start is not None:
            self.decoder.end_utt()
            self.done += self._segmentation(until=self.fed)
            self.utterances += 1
            self.utterance_start = None
            self.pause_start = self.fed
        self._preroll, self._loud_run, self._quiet_run = [], 0, 0

    def skip(self, num_samples: int) -> None:
        """Audio was lost: the utterance ends before the gap, a pause starts after it."""
        self.end()
        self.fed += num_samples
        self.pause_start = self.fed

    def phones(self, start_s: float, end_s: float) -> list[Phone]:
        """The phones known now that overlap ``start_s .. end_s``, in time order."""
        if self.utterance_start is None:
            current = [Phone("SIL", self.pause_start / SAMPLE_RATE_HZ, self.fed / SAMPLE_RATE_HZ)]
        else:
            current = self._segmentation(until=self.fed, from_s=start_s)
        return [p for p in self.done + current if p.end_s >= start_s and p.start_s <= end_s]

    def forget(self, before_s: float) -> None:
        """Drop ended phones that end before ``before_s`` (no frame still to come needs them)."""
        self.done = [p for p in self.done if p.end_s >= before_s]

    def _start(self, sample: int, preroll: np.ndarray) -> None:
        if sample > self.pause_start:
            self.done.append(Phone("SIL", self.pause_start / SAMPLE_RATE_HZ, sample / SAMPLE_RATE_HZ))
        self.utterance_start = sample
        self._preroll, self._loud_run, self._quiet_run = [], 0, 0
        self.decoder.start_utt()
        if len(preroll):
            self.decoder.process_raw(_pcm16(preroll), full_utt=False)

    def _segmentation(self, until: int, from_s: float = 0.0) -> list[Phone]:
        """The current utterance's best segmentation on the stream timeline (the phones ending from
        ``from_s`` on), the last phone held on to ``until``: the best path ends about 5 frames
        (50 ms) before the audio, which the feature computation still holds back."""
        offset = self.utterance_start / SAMPLE_RATE_HZ
        from_frame = (from_s - offset) / FRAME_S - 1
        out: list[Phone] = []
        for seg in self.decoder.seg() or ():  # None before the first frame is decoded
            if seg.end_frame < from_frame:
                continue
            start = offset + seg.start_frame * FRAME_S
            end = offset + (seg.end_frame + 1) * FRAME_S
            out.append(Phone(normalize_label(seg.word), start, end))
        until_s = until / SAMPLE_RATE_HZ
        if out and out[-1].end_s < until_s:
            out[-1] = Phone(out[-1].label, out[-1].start_s, until_s)
        return [p for p in out if p.start_s < until_s]

    def _prime(self, seconds: float) -> None:
        self.decoder.set_cmn(_primed_cmn(seconds))


@lru_cache(maxsize=4)
def _primed_cmn(seconds: float) -> str:
    """The cepstral mean after decoding the first ``seconds`` of the bundled example."""
    # the stdlib reader: the example is 16 kHz 16-bit mono, and read_audio would import scipy (~1 s)
    with wave.open(str(files("pmmtalk_live") / "data" / "example.wav")) as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (SAMPLE_RATE_HZ, 2, 1)
        pcm = wav.readframes(int(seconds * SAMPLE_RATE_HZ))
    decoder = new_phone_decoder()
    decoder.start_utt()
    hop_bytes = 2 * HOP_SAMPLES
    for i in range(0, len(pcm), hop_bytes):
        decoder.process_raw(pcm[i:i + hop_bytes], full_utt=False)
    decoder.end_utt()
    return decoder.get_cmn()


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


class VisemeStream:
    """Streaming co-articulated visemes: 16 kHz audio in, finished frames of the 32 coefficients out.

    It keeps the ``animators.LiveAnimator`` contract (``process``/``skip``/``flush``; frame k is
    finished once audio up to k / fps + lookahead_s is in): the live phonetic animator is this stream
    under a name, and the model's ``visemes`` pseudo-text (``model.live_text``) is its output.

    fps: output frame rate; frame k shows stream time k / fps.
    lookahead_s: audio after a frame's time that must be in before the frame is finished (its
        latency); more look-ahead sees more of the phones after the frame.
    prime_s: the decoder starts from the cepstral mean of this much of the bundled example
        (``PRIME_S``; 0 = pocketsphinx's default mean).

    Building one takes about 0.15 s (the acoustic model; the first in a process 0.3 s, priming
    included): build it before the stream starts. A call costs about 0.7 ms of CPU per 10 ms of audio.
    Not thread-safe: call ``process``/``skip``/``flush`` from one thread (one per audio stream;
    several may run in parallel threads). Memory stays bounded: the audio kept is the
    look-ahead plus a 30 ms window, the phones those within ``REACH_S`` and the current utterance.
    """

    def __init__(self, fps: float, lookahead_s: float = 0.1, prime_s: float = PRIME_S, decoder=None):
        if fps <= 0 or lookahead_s < 0:
            raise ValueError(f"need fps > 0 and lookahead_s >= 0, got {fps}, {lookahead_s}")
        self.fps = float(fps)
        self.lookahead_s = float(lookahead_s)
        self.recogniser = PhoneStream(prime_s, decoder)
        self.loudness = LiveLoudness(SAMPLE_RATE_HZ, self.fps)
        self._received = 0  # stream samples received or skipped
        self._pending = np.zeros(0, np.float32)  # the part of a hop not yet decoded
        self._next_frame = 0
        self._flushed = False

    def process(self, samples: np.ndarray) -> LiveCoeffs:
        """Feed the next audio (float32 mono 16 kHz, any length); returns the frames now finished."""
        self._check_open()
        samples = np.asarray(samples, np.float32).reshape(-1)
        levels = self.loudness.push(samples)  # one level per 10 ms hop completed, aligned with ours
        audio = np.concatenate([self._pending, samples])
        for i, level in enumerate(levels):
            self.recogniser.push(audio[i * HOP_SAMPLES:(i + 1) * HOP_SAMPLES], self.loudness.is_quiet(level))
        self._pending = audio[len(levels) * HOP_SAMPLES:].copy()
        self._received += len(samples)
        finished = self._received / SAMPLE_RATE_HZ - self.lookahead_s
        return self._emit(num_frames_for(finished, self.fps) if finished >= 0 else 0)

    def skip(self, num_samples: int) -> int:
        """``num_samples`` of audio were dropped: frames before the stream's new position that are not
        out yet are dropped too (their audio or look-ahead is gone); returns how many."""
        self._check_open()
        if num_samples <= 0:
            return 0
        self.recogniser.skip(len(self._pending) + num_samples)
        self.loudness.skip(num_samples)
        self._pending = np.zeros(0, np.float32)
        self._received += num_samples
        # frames showing a time before the new position: frame k with k / fps < received / rate
        end = max(self._next_frame, num_frames_for(self._received / SAMPLE_RATE_HZ - 1e-9, self.fps))
        skipped, self._next_frame = end - self._next_frame, end
        return skipped

    def flush(self) -> LiveCoeffs:
        """End of stream: every frame up to the last sample, finished with the look-ahead there is."""
        self._check_open()
        if len(self._pending):
            self.recogniser.push(self._pending, self.loudness.is_quiet(level_db(self._pending)))
        self.recogniser.end()
        self._flushed = True
        return self._emit(num_frames_for(self._received / SAMPLE_RATE_HZ, self.fps))

    def _emit(self, end_frame: int) -> LiveCoeffs:
        first, n = self._next_frame, max(end_frame - self._next_frame, 0)
        if n == 0:
            return LiveCoeffs(first, np.zeros((0, rig.NUM_COEFFS), np.float32), np.zeros(0, np.float32))
        phones = self.recogniser.phones(first / self.fps - REACH_S, (end_frame - 1) / self.fps + REACH_S)
        activity = self.loudness.envelope(first, n)
        coeffs = render_phones(phones, n, self.fps, activity, first_frame=first).values
        self.recogniser.forget(before_s=end_frame / self.fps - REACH_S)
        self._next_frame = end_frame
        return LiveCoeffs(first, coeffs, activity)

    def _check_open(self) -> None:
        if self._flushed:
            raise RuntimeError("the stream was flushed; build a new stream for the next one")
