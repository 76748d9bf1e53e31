"""The torch side of a dataset: ``CoeffDataset`` turns utterances (``dataset.load_dataset``) and their
cached features into model inputs, ``collate`` pads them into a ``model.batch.Batch``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from .. import rig
from ..audio.files import read_audio
from ..dataset.folder import Utterance, read_coeffs
from ..model.batch import Batch
from ..model.config import VISEME_DIM, WORD_DIM, ModelConfig
from ..tracks import SAMPLE_RATE_HZ, num_frames_for

MOUTH_SHAPE = (48, 96, 3)
"""A pseudo-visual mouth frame as ``features`` gives it: the lower half of a 96x96 face, HWC, uint8."""

FEATURE_NAMES = ("speech", "phone_ids", "word_vectors", "visemes", "mouths")


class CoeffDataset(torch.utils.data.Dataset):
    """Utterances as model inputs at ``config.fps``; ``collate`` makes a ``Batch`` of them.

    An item is a dict: ``id``, ``subject``, ``start_frame`` (of the crop in the utterance), ``audio``
    float32 (N,) at 16 kHz, ``coeffs`` float32 (T, 32), ``style`` (``config.style_index(subject)``), and
    what ``features(utt)`` gives for the whole utterance at ``config.fps``, cropped alike: ``speech``
    float16 (T, speech_dim) (the Whisper branch's frozen features, made from the whole utterance, so
    a crop's first frames heard the audio before it, as live), ``phone_ids``
    int64 (T,), ``word_vectors`` float32 (T, 384), ``mouths`` uint8 (T, 48, 96, 3). Frame k shows the
    audio at k / fps from the item's first sample, and T = ``num_frames_for(N / 16000, fps)``.

    ``max_seconds``: utterances longer than that are cropped to ``floor(max_seconds * fps)`` frames at a
    random frame; the audio starts on that frame's sample (rounded) so frames and audio stay in step.
    Crops depend only on ``seed``, the epoch (``item(index, epoch)``, or ``set_epoch`` for ``dataset[index]``)
    and the index, never on worker order.
    """

    def __init__(self, utterances: Sequence[Utterance], config: ModelConfig,
                 features: Callable[[Utterance], dict] | None = None,
                 max_seconds: float | None = None, seed: int = 0, in_memory: bool = False) -> None:
        if max_seconds is not None and not max_seconds * config.fps >= 1:
            raise ValueError(f"max_seconds must hold at least one frame at {config.fps} fps, got {max_seconds!r}")
        self.utterances = list(utterances)
        self.config = config
        self.features = features
        self.max_frames = None if max_seconds is None else int(math.floor(max_seconds * config.fps))
        self.seed = seed
        self.epoch = 0
        self._kept: dict[int, tuple] | None = {} if in_memory else None  # index -> (audio int16, coeffs, extras)

    def set_epoch(self, epoch: int) -> None:
        """Draw new crops in ``__getitem__``: call once per epoch (before the DataLoader's iterator is made)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, index: int) -> dict:
        return self.item(index, self.epoch)

    def item(self, index: int, epoch: int = 0) -> dict:
        """Item ``index`` with the crop of ``epoch`` (the same for the same seed, epoch and index)."""
        utt = self.utterances[index]
        fps = self.config.fps
        if self._kept is not None and index in self._kept:
            pcm, coeffs, extras = self._kept[index]
            audio = pcm.astype(np.float32) / 32768.0  # the file's own 16-bit samples, as read_audio gives them
        else:
            audio = read_audio(utt.audio_path).samples
            num_frames = num_frames_for(len(audio) / SAMPLE_RATE_HZ, fps)
            coeffs = read_coeffs(utt, fps, num_frames)
            extras = self._features(utt, num_frames)
            if self._kept is not None:
                pcm = np.round(audio * 32768.0).astype(np.int16)
                if np.array_equal(pcm.astype(np.float32) / 32768.0, audio):  # 16-bit audio: kept exactly
                    self._kept[index] = (pcm, coeffs, extras)
        num_frames = len(coeffs)

        start, length = 0, num_frames
        if self.max_frames is not None and num_frames > self.max_frames:
            rng = np.random.default_rng([self.seed, epoch, index])
            start, length = int(rng.integers(0, num_frames - self.max_frames + 1)), self.max_frames
            first = round(start * SAMPLE_RATE_HZ / fps)
            # The most samples that still make exactly `length` frames: num_frames_for(n / 16000) == length.
            count = math.ceil(length * SAMPLE_RATE_HZ / fps) - 1
            audio = audio[first:first + count]
            audio = np.pad(audio, (0, count - len(audio)))  # past the end: silence
            coeffs = coeffs[start:start + length]
            extras = {name: value[start:start + length] for name, value in extras.items()}

        item = {"id": utt.id, "subject": utt.subject, "start_frame": start,
                "audio": torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
                "coeffs": torch.from_numpy(np.ascontiguousarray(coeffs, dtype=np.float32)),
                "style": self.config.style_index(utt.subject)}
        for name, value in extras.items():
            item[name] = torch.from_numpy(np.ascontiguousarray(value))
        return item

    def _features(self, utt: Utterance, num_frames: int) -> dict[str, np.ndarray]:
        """``features(utt)`` checked and fitted to ``num_frames`` (one frame short or over is padded with
        zeros or cut: recognisers round their last frame either way)."""
        if self.features is None:
            return {}
        given = self.features(utt) or {}
        unknown = set(given) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"features({utt.id}) gave unknown keys {sorted(unknown)}; expected {FEATURE_NAMES}")
        shapes = {"speech": ((self.config.speech_dim,), np.float16), "phone_ids": ((), np.int64), "word_vectors": ((WORD_DIM,), np.float32),
                  "visemes": ((VISEME_DIM,), np.float32),
                  "mouths": (MOUTH_SHAPE, np.uint8)}
        out = {}
        for name, value in given.items():
            if value is None:
                continue
            tail, dtype = shapes[name]
            value = np.asarray(value)
            if value.ndim != 1 + len(tail) or value.shape[1:] != tail or abs(len(value) - num_frames) > 1:
                raise ValueError(f"features({utt.id})[{name!r}] has shape {value.shape}, expected "
                                 f"{(num_frames,) + tail}")
            if len(value) < num_frames:
                value = np.concatenate([value, np.zeros((num_frames - len(value),) + tail, value.dtype)])
            out[name] = value[:num_frames].astype(dtype, copy=False)
        return out


def collate(items: Sequence[dict]) -> Batch:
    """``CoeffDataset`` items -> a padded ``Batch`` (zeros after each utterance's end).

    ``speech`` is a tensor when every item has it (None when none has it); ``phone_ids``,
    ``word_vectors`` and ``mouths`` are tensors when any item has them (zero rows for
    those that do not), else None; ``text_present`` (phone ids or word vectors there) and
    ``visual_present`` (mouths there) are always (B,) bool. Mouths become (B, T, 3, 48, 96) float in 0..1.
    """
    if not items:
        raise ValueError("collate needs at least one item")
    batch_size = len(items)
    lengths = [len(item["audio"]) for item in items]
    frames = [len(item["coeffs"]) for item in items]
    num_samples, num_frames = max(lengths), max(frames)

    audio = torch.zeros(batch_size, num_samples)
    coeffs = torch.zeros(batch_size, num_frames, rig.NUM_COEFFS)
    frame_mask = torch.zeros(batch_size, num_frames, dtype=torch.bool)
    for b, item in enumerate(items):
        audio[b, :lengths[b]] = item["audio"]
        coeffs[b, :frames[b]] = item["coeffs"]
        frame_mask[b, :frames[b]] = True

    def stacked(name: str, tail: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor | None:
        if not any(name in item for item in items):
            return None
        out = torch.zeros((batch_size, num_frames) + tail, dtype=dtype)
        for b, item in enumerate(items):
            if name in item:
                out[b, :frames[b]] = item[name].to(dtype)
        return out

    mouths = stacked("mouths", MOUTH_SHAPE, torch.uint8)
    speech = None
    if any("speech" in item for item in items):
        if not all("speech" in item for item in items):
            raise ValueError("collate: some items have speech features and some do not")
        speech = stacked("speech", tuple(items[0]["speech"].shape[1:]), torch.float32)
    return Batch(
        audio=audio,
        audio_lengths=torch.tensor(lengths, dtype=torch.int64),
        frame_mask=frame_mask,
        styles=torch.tensor([item["style"] for item in items], dtype=torch.int64),
        phone_ids=stacked("phone_ids", (), torch.int64),
        word_vectors=stacked("word_vectors", (WORD_DIM,), torch.float32),
        visemes=stacked("visemes", (VISEME_DIM,), torch.float32),
        speech=speech,
        text_present=torch.tensor([any(name in item for name in ("phone_ids", "word_vectors", "visemes"))
                                   for item in items]),
        mouths=None if mouths is None else mouths.permute(0, 1, 4, 2, 3).float() / 255.0,
        visual_present=torch.tensor(["mouths" in item for item in items]),
        coeffs=coeffs,
    )
