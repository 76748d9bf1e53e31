"""Using a trained PMMTalk: load it, animate a recording, or stream live audio through it.

    load_model(run folder | packaged name) -> PMMTalk (eval mode)
    animate(model, audio, fps_out) -> coeffs (T_out, 32) in 0..1      offline, a whole recording
    StreamSession(model).push(samples) -> coeffs (n, 32) at model fps  live, as the audio comes

**Offline** (``prepare_batch`` + ``animate``): the pseudo-text is made as the model was trained on
it: a ``visemes`` model runs the live phone recogniser over the recording (``live_text.viseme_track``),
a ``phones`` model the recogniser ``config.recognizer`` (or the transcript given) and the word
encoder; the Wav2Lip generator makes the pseudo-visual frames when the branch is on and has its
checkpoint (else the branch counts as absent, as in training with modality dropout). The model runs
at its own fps and the result is resampled linearly to ``fps_out``.

**Live** (``StreamSession``): the audio branch streams (the filterbank encoder frame by frame, or
wav2vec 2.0 chunk by chunk over the same windows as offline), the text branch comes from a streaming
recogniser (``TextFrames``; a ``visemes`` model makes its own, ``live_text.py``, and so does a
``text_stream`` model, ``live_words.py``, whose offline text is made the same way), each frame is
fused once both have it and fed to a ``DecoderStream``, which returns it once the decoder's own
look-ahead is in. A frame at
time t waits for audio up to t + ``latency_s(config)``: 95.8 ms for the shipped model (5 frames at
60 fps and half a filterbank window), (chunk - 1 + 2 x look-ahead) / fps for a chunked wav2vec 2.0.
With the same per-frame text features (or none), the session equals offline inference within float
rounding, however the audio is cut into pushes. The visual branch streams too when the model has
its Wav2Lip generator (``encoders/visual.MouthStream``: each frame's mouth once its mel window is in,
the frames of a push generated together, then the mouth encoder); on a CPU that is far slower than real time.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ..errors import AudioInputError
from ..rig import NUM_COEFFS
from ..tracks import SAMPLE_RATE_HZ, Audio, num_frames_for
from .batch import Batch
from .checkpoint import CONFIG, WEIGHTS, CheckpointError, load_run
from .config import ModelConfig
from .decoder import CausalDecoderStream, DecoderStream
from .fusion_stream import FusionStream, supports as supports_numpy_fusion
from .gate import GateStream
from .pmmtalk import PMMTalk
from .recognizers import Transcript

PACKAGED_MODELS = "data/models"
"""Packaged checkpoints: ``pmmtalk_live/data/models/<name>/`` holding a run folder's two files."""

WHOLE_DECODE_FRAMES = 2048
"""Offline, longer recordings go through a ``DecoderStream`` (same result) instead of one (T, T) mask."""
STREAM_PIECE_FRAMES = 512
"""... fed this many frames at a time: memory stays linear in the length (pieces of the whole
recording at once would make (T, T) score arrays again)."""


# --- loading -------------------------------------------------------------------------------------------

def packaged_models() -> list[str]:
    """Names of the checkpoints shipped with the package."""
    folder = Path(str(files("pmmtalk_live"))) / PACKAGED_MODELS
    return sorted(p.name for p in folder.iterdir() if (p / WEIGHTS).is_file()) if folder.is_dir() else []


def checkpoint_folder(name_or_path: str | Path) -> Path:
    """The folder a checkpoint name means: a run folder as given, else the packaged model of that name
    (which may not exist: ``load_model`` says so)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir() or not str(name_or_path) or "/" in str(name_or_path):
        return path
    return Path(str(files("pmmtalk_live"))) / PACKAGED_MODELS / str(name_or_path)


def load_model(name_or_path: str | Path, device: str | torch.device = "cpu") -> PMMTalk:
    """A run folder (``config.yaml`` + ``model.safetensors``) or a packaged checkpoint by name, in eval
    mode. Raises CheckpointError (one line) when it is neither or cannot be loaded."""
    folder = checkpoint_folder(name_or_path)
    if folder.is_dir():
        return load_run(folder, device)
    shipped = ", ".join(packaged_models()) or "none shipped yet"
    raise CheckpointError(f"no model '{name_or_path}': not a run folder ({CONFIG} + {WEIGHTS}) nor a packaged "
                          f"model (packaged: {shipped})")


def set_compute(model: PMMTalk, compute: str, half: bool | None = None) -> PMMTalk:
    """Where the model's pretrained networks run: ``cpu`` (the default) or ``cuda`` / ``cuda:N``.

    On a GPU go the three branches' heavy parts: the audio encoder (Whisper through CTranslate2 in
    float16, or wav2vec 2.0), the text branch's Whisper recogniser (faster-whisper in float16, or
    transformers) and the visual branch's Wav2Lip generator. wav2vec 2.0 and Wav2Lip run in float16
    when ``half`` (default: on a GPU; ``scripts/bench_gpu.sh`` measures what it changes). The model's
    own heads, the mouth encoder, the fusion and the decoder stay on the CPU: live they run a frame or
    two per hop, cheaper in numpy than a trip to the GPU and back. Raises a one-line PmmtalkError
    (ComputeError, SpeechEncoderError, RecognizerError) when that GPU is absent, or when the model has
    nothing a GPU can run (a filterbank model with the phone recogniser).
    """
    from .compute import ComputeError, torch_device

    config = model.config
    on_gpu = [config.audio_encoder in ("whisper", "wav2vec2"),
              model.text is not None and config.text_input != "visemes" and config.recognizer != "pocketsphinx",
              model.visual is not None and bool(config.wav2lip_checkpoint)]
    if compute != "cpu" and not any(on_gpu):
        raise ComputeError(f"--compute {compute}: this model runs nothing a GPU could: its audio branch is "
                           f"{config.audio_encoder} (numpy) and it has no Whisper text or Wav2Lip visual branch")
    device = torch_device(compute)  # a GPU that is not there: said now, not on the first hop
    half = device.type == "cuda" if half is None else half
    model.compute, model.half = compute, half
    if config.audio_encoder == "whisper":
        from .encoders.whisper import speech_model

        speech_model(config.speech_model, compute, 1)  # loads there now (the sessions share it)
        model.audio.compute = compute
    elif config.audio_encoder == "wav2vec2":
        model.audio.place(device, half)
    if on_gpu[1]:
        from .recognizers import make_recognizer

        make_recognizer(config.recognizer, compute)
    return model


# --- offline ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=2)
def _pseudo_visual(wav2lip_checkpoint: str, reference_face: str | None, compute: str = "cpu", half: bool = False):
    from .compute import torch_device
    from .encoders.visual import make_pseudo_visual

    return make_pseudo_visual(ModelConfig(visual=True, wav2lip_checkpoint=wav2lip_checkpoint,
                                          reference_face=reference_face), torch_device(compute), half)


def pseudo_visual_of(model: PMMTalk):
    """The Wav2Lip frame maker of a model whose visual branch has its generator, on the model's
    compute (``set_compute``); loaded once and shared."""
    config = model.config
    return _pseudo_visual(config.wav2lip_checkpoint, config.reference_face, model.compute, model.half)


def prepare_batch(model: PMMTalk, audio: Audio, transcript: Transcript | str | None = None,
                  style: int = 0) -> Batch:
    """One recording as the model's input: audio, and the pseudo-text and pseudo-visual features of
    the branches the model has (each absent when it cannot be made).

    transcript: what was said, timed (``Transcript``) or as text (force-aligned to the audio); None =
    recognise it with ``config.recognizer``.
    """
    config = model.config
    if audio.sample_rate_hz != SAMPLE_RATE_HZ:
        raise AudioInputError(f"the model needs {SAMPLE_RATE_HZ} Hz audio, got {audio.sample_rate_hz} Hz")
    samples = np.asarray(audio.samples, np.float32)
    num_frames = num_frames_for(audio.duration_s, config.fps)
    batch = Batch(audio=torch.from_numpy(samples)[None], audio_lengths=torch.tensor([len(samples)]),
                  frame_mask=torch.ones(1, num_frames, dtype=torch.bool), styles=torch.tensor([style]))
    if model.text is not None and config.text_input == "visemes":
        from ..phonetic import align_phones
        from .live_text import viseme_track

        phones = None  # recognised live, as in training; a transcript's alignment replaces them
        if isinstance(transcript, str):
            phones = align_phones(audio, transcript)  # a transcript that cannot be aligned is an error, as for the phonetic animator
        elif transcript is not None:
            phones = transcript.phones
        batch.visemes = torch.from_numpy(viseme_track(samples, config, num_frames, phones=phones))[None]
        batch.text_present = torch.tensor([True])
    elif model.text is not None and config.text_stream and transcript is None:
        from .live_words import transcript_track

        phone_ids, word_vectors = transcript_track(samples, config, num_frames, compute=model.compute)  # as live
        batch.phone_ids = torch.from_numpy(phone_ids)[None]
        batch.word_vectors = None if word_vectors is None else torch.from_numpy(word_vectors)[None]
        batch.text_present = torch.tensor([True])
    elif model.text is not None:
        from .encoders.text import shared_word_encoder, text_frames
        from .recognizers import _aligned, make_recognizer

        if transcript is None:
            transcript = make_recognizer(config.recognizer, model.compute).recognize(audio)
        elif isinstance(transcript, str):
            transcript = _aligned(audio, transcript, None)  # falls back to phone recognition
        word_encoder = shared_word_encoder(config.word_encoder) if config.word_encoder else None
        phone_ids, word_vectors = text_frames(transcript, num_frames, config.fps, word_encoder)
        batch.phone_ids = torch.from_numpy(phone_ids)[None]
        batch.word_vectors = torch.from_numpy(word_vectors)[None] if word_encoder is not None else None
        batch.text_present = torch.tensor([True])
    if model.visual is not None and config.wav2lip_checkpoint:
        from .encoders.visual import mouths_to_tensor

        visual = pseudo_visual_of(model)
        batch.mouths = mouths_to_tensor(visual.generate_mouths(samples, config.fps, num_frames))[None]
        batch.visual_present = torch.tensor([True])
    return batch


@torch.no_grad()
def model_coeffs(model: PMMTalk, batch: Batch) -> np.ndarray:
    """A one-utterance batch -> coeffs (T, 32) float32 at the model's fps (no alignment losses)."""
    features, present = model.encode(batch)
    fused = model.fusion(features, present)
    prior = model.prior(batch, present)
    if fused.shape[1] <= WHOLE_DECODE_FRAMES:
        coeffs = model.decoder(fused, batch.styles, prior=prior,
                               prior_present=None if prior is None else present["text"])[0]
    else:  # in pieces: a stream attends over its cache and the piece, (piece, cache + piece) per head
        track = None if prior is None or not present["text"][0] else prior[0].numpy()
        causal = model.config.decoder_lookahead == 0
        stream = (CausalDecoderStream if causal else DecoderStream)(model.decoder, int(batch.styles[0]))
        parts = []
        for first in range(0, fused.shape[1], STREAM_PIECE_FRAMES):
            piece = fused[0, first:first + STREAM_PIECE_FRAMES]
            if causal:
                parts.append(stream.push(piece.numpy(), None if track is None else track[first:first + len(piece)]))
            else:
                parts.append(stream.push(piece))
        coeffs = torch.cat(parts + [stream.flush()])
    if model.gate is not None:
        coeffs = model.gate.close(coeffs, features["audio"][0])
    return coeffs.float().numpy()


def animate(model: PMMTalk, audio: Audio, fps_out: float = 60, transcript: Transcript | str | None = None,
            style: int = 0) -> np.ndarray:
    """A whole recording -> coeffs (T_out, 32) float32 in 0..1, frame k at time k / fps_out,
    T_out = ``num_frames_for(duration, fps_out)``."""
    coeffs = model_coeffs(model, prepare_batch(model, audio, transcript, style))
    num_frames = num_frames_for(audio.duration_s, fps_out)
    return interpolate(coeffs, model_positions(0, num_frames, fps_out, model.config.fps))


def model_positions(first_frame: int, num_frames: int, fps: float, model_fps: float,
                    start_sample: int = 0) -> np.ndarray:
    """Fractional model frame (float64) at the time of output frames ``first_frame ..`` at ``fps``, for
    a model stream that started at stream sample ``start_sample``, shape (num_frames,)."""
    times = np.arange(first_frame, first_frame + num_frames) / fps - start_sample / SAMPLE_RATE_HZ
    return times * model_fps


def interpolate(coeffs: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """coeffs (T, 32) at fractional frames ``positions`` (n,) -> (n, 32), linear, clamped to the ends."""
    positions = np.clip(positions, 0, len(coeffs) - 1)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, len(coeffs) - 1)
    weight = (positions - low)[:, None].astype(np.float32)
    return (coeffs[low] * (1 - weight) + coeffs[high] * weight).astype(np.float32)


# --- live ------------------------------------------------------------------------------------------------

class TextFrames(Protocol):
    """Live per-frame text features: what a streaming recogniser knows when a frame is fused."""

    ready: int
    """Frames 0 .. ready - 1 have final text features."""

    def push(self, samples: np.ndarray) -> None:
        """The audio the session received (float32 16 kHz, contiguous)."""
        ...

    def flush(self) -> None:
        """End of stream: every frame becomes ready."""
        ...

    def frames(self, first_frame: int, num_frames: int) -> dict[str, np.ndarray]:
        """The ``Batch`` text fields (without the batch axis) for model frames ``first_frame ..``:
        ``phone_ids`` (n,) int64 and ``word_vectors`` (n, WORD_DIM) or None, or ``visemes`` (n, 33)."""
        ...


class StreamSession:
    """One live utterance or stream through the model: 16 kHz audio in, coefficients at the model's fps out.

    ``push(samples)`` returns the frames finished by this audio (often none), in order; ``flush()`` the
    rest at the end. Frame k shows time k / fps from the first sample. The audio branch streams
    (``model.audio.stream()``: wav2vec 2.0 in chunks, or the filterbank encoder frame by frame), the
    text branch comes from ``text`` (a ``visemes`` model makes its own streaming recogniser,
    ``LiveVisemes``, a ``text_stream`` model its ``LiveTranscript``; another ``phones`` model has none
    unless given, and runs as audio only), the visual branch from a ``MouthStream`` when the model has
    its generator, a frame is fused once every branch has it, and the decoder returns it once its own
    look-ahead is in. The result
    equals offline inference (``model_coeffs`` with the same text features, or none) within float
    rounding, whatever the sizes of the pushes. Memory is bounded. Not thread-safe.
    """

    def __init__(self, model: PMMTalk, style: int = 0, text: TextFrames | None = None, recogniser_decoder=None):
        """``recogniser_decoder``: a visemes model's streaming recogniser reuses this pocketsphinx
        decoder (``release_decoder`` of the session before) instead of building one (0.15 s)."""
        if model.training:
            raise ValueError("StreamSession needs model.eval(): dropout would make it differ from offline")
        self.model = model
        self.config = model.config
        self.audio = model.audio.stream()
        if model.text is not None and text is None and self.config.text_input == "visemes":
            from .live_text import LiveVisemes

            text = LiveVisemes(self.config, recogniser_decoder)
        elif model.text is not None and text is None and self.config.text_stream:
            from .live_words import LiveTranscript

            text = LiveTranscript(self.config, compute=model.compute)
        self.text = text if model.text is not None else None
        self.mouths = _mouth_stream(model)  # the visual branch, when it has its generator
        self._visual = np.zeros((0, self.config.d_model), np.float32)  # visual features from _next_frame on
        # a causal decoder answers each frame as it comes: its numpy form saves torch's per-call overhead
        self.decoder = (CausalDecoderStream if self.config.decoder_lookahead == 0 else DecoderStream)(model.decoder, style)
        self.gate = GateStream(model.gate) if model.gate is not None else None
        self._gate_audio = np.zeros((0, self.config.d_model), np.float32)  # audio features of the frames the decoder has not answered yet
        self.num_samples = 0  # received so far
        self._features = np.zeros((0, self.config.d_model), np.float32)  # audio features not fused yet, from _next_frame
        # numpy for the audio and viseme branches; torch for phones and words, and the visual branch
        self.fusion = FusionStream(model) if supports_numpy_fusion(model) and self.mouths is None else None
        self._next_frame = 0  # next frame to fuse
        self._flushed = False

    def release_decoder(self):
        """The streaming recogniser's decoder, for the next session to reuse (None if it has none);
        this session must not be used after."""
        release = getattr(self.text, "release_decoder", None)
        return release() if release is not None else None

    @property
    def latency_s(self) -> float:
        """Longest wait of a frame for audio after its time."""
        return latency_s(self.config)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """The next audio (float32 mono 16 kHz, (n,), any n) -> coeffs (m, 32) float32 of the next m frames."""
        if self._flushed:
            raise RuntimeError("push after flush: start a new StreamSession")
        samples = np.asarray(samples, np.float32).reshape(-1)
        self.num_samples += len(samples)
        if self.text is not None:
            self.text.push(samples)
        if self.mouths is not None:
            self._add_visual(self.mouths.push(samples))
        features = self.audio.push(samples)
        if not len(features) and not len(self._features):  # most hops: no frame can be fused
            return _rows([])
        return self._fuse(features)

    def flush(self) -> np.ndarray:
        """End of stream -> coeffs of every frame left (up to the last sample), computed as offline."""
        if self._flushed:
            return _rows([])
        self._flushed = True
        if self.text is not None:
            self.text.flush()
        if self.mouths is not None:
            self._add_visual(self.mouths.flush())
        out = self._fuse(self.audio.flush())
        return _rows([out, self._gated(self.decoder.flush().numpy())])

    @torch.inference_mode()
    def _fuse(self, audio_features: torch.Tensor) -> np.ndarray:
        """New audio features -> fuse the frames whose text is ready too, feed the decoder -> its coeffs."""
        self._features = np.concatenate([self._features, audio_features.numpy()])
        count = len(self._features)
        if self.text is not None:
            count = min(count, self.text.ready - self._next_frame)
        if self.mouths is not None:
            count = min(count, len(self._visual))
        if count <= 0:
            return _rows([])
        audio = self._features[:count]
        given = self.text.frames(self._next_frame, count) if self.text is not None else {}
        prior = given["visemes"][:, :NUM_COEFFS] if self.config.viseme_residual and self.text is not None else None
        if self.fusion is not None:
            fused = self.fusion.fuse(audio, given.get("visemes"))
        else:
            fused = self._torch_fused(audio, given).numpy()
        if not isinstance(self.decoder, CausalDecoderStream):
            fused = torch.from_numpy(fused)
        coeffs = self.decoder.push(fused, prior) if prior is not None else self.decoder.push(fused)
        if self.gate is not None:
            self._gate_audio = np.concatenate([self._gate_audio, audio])
        self._features = self._features[count:]
        self._visual = self._visual[count:]
        self._next_frame += count
        return self._gated(coeffs.numpy())

    @torch.inference_mode()
    def _add_visual(self, mouths: np.ndarray) -> None:
        """New generated mouths -> their visual features (the mouth encoder, all at once)."""
        if len(mouths):
            from .encoders.visual import mouths_to_tensor

            tensor = mouths_to_tensor(mouths)[None]
            encoded = self.model.visual[1](self.model.visual[0](tensor, torch.ones(1, len(mouths), dtype=torch.bool)))
            self._visual = np.concatenate([self._visual, encoded[0].numpy()])

    def _torch_fused(self, audio: np.ndarray, given: dict) -> torch.Tensor:
        """The text branch (phones and words) and the fusion through the torch modules -> (n, d_model)."""
        count = len(audio)
        features = {"audio": torch.from_numpy(audio)[None]}
        present = {"audio": torch.tensor([True])}
        if self.text is not None:
            tensors = {name: torch.from_numpy(value)[None] for name, value in given.items() if value is not None}
            features["text"] = self.model.text(tensors.get("phone_ids"), tensors.get("word_vectors"),
                                               torch.ones(1, count, dtype=torch.bool), tensors.get("visemes"))
            present["text"] = torch.tensor([True])
        if self.mouths is not None:
            features["visual"] = torch.from_numpy(self._visual[:count])[None]
            present["visual"] = torch.tensor([True])
        return self.model.fusion(features, present)[0]

    def _gated(self, coeffs: np.ndarray) -> np.ndarray:
        """The decoder's next frames -> the same with the closure gate applied (if the model has one),
        from the audio features of those frames (the decoder answers them in order, maybe later)."""
        if self.gate is None or not len(coeffs):
            return coeffs
        audio, self._gate_audio = self._gate_audio[:len(coeffs)], self._gate_audio[len(coeffs):]
        return self.gate.close(coeffs, audio)


def latency_s(config: ModelConfig) -> float:
    """Longest wait (s) of a model frame for audio after its time in a ``StreamSession``: its audio
    features' (and the text's, made as late), and the decoder's own look-ahead."""
    if config.audio_encoder == "mel":
        from .encoders.filterbank import latency_s as audio_latency_s
    elif config.audio_encoder == "whisper":
        from .encoders.whisper import latency_s as audio_latency_s
    else:
        from .encoders.audio import latency_s as audio_latency_s
    decoder = config.decoder_lookahead
    if config.audio_encoder == "wav2vec2" and decoder:
        # the chunk holding frame t + decoder look-ahead must be complete, with its own look-ahead
        audio = (config.audio_chunk_frames - 1 + config.lookahead_frames + decoder) / config.fps
    else:
        audio = audio_latency_s(config) + decoder / config.fps
    latency = audio
    if config.text and config.text_stream:  # the text of frame t + decoder look-ahead must be settled too
        from .live_words import text_latency_s

        latency = max(latency, text_latency_s(config) + decoder / config.fps)
    if config.visual and config.wav2lip_checkpoint:  # and its mouth generated from a whole mel window
        from .encoders.mel import window_lookahead_s

        latency = max(latency, window_lookahead_s(config.fps) + decoder / config.fps)
    return latency


def _mouth_stream(model: PMMTalk):
    """A ``MouthStream`` for a model whose visual branch has its Wav2Lip generator, else None."""
    if model.visual is None or not model.config.wav2lip_checkpoint:
        return None
    from .encoders.visual import MouthStream

    return MouthStream(pseudo_visual_of(model), model.config.fps)


def _rows(parts: list[np.ndarray]) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, NUM_COEFFS), np.float32)
