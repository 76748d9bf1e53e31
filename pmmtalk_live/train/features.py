"""Pseudo-text and pseudo-visual features of dataset utterances, computed once and cached on disk.

Recognising speech and generating Wav2Lip faces costs far more than a training step, so each
utterance's features are computed the first time they are asked for and kept in
``<dataset>/cache/<key>/<utterance id>.npz``, where the key names the settings that made them (the
recogniser, the word encoder, the Wav2Lip checkpoint and the face): change a setting, get a new cache.

    utterance audio --recogniser--> Transcript --text_frames--> phone_ids (T,), word_vectors (T, 384)
    utterance audio --live phone recogniser, 10 ms hops (text_input: visemes)--> visemes (T, 33)
    utterance audio --Wav2Lip (if on)--> mouths (T, 48, 96, 3) uint8
    utterance audio --Whisper encoder on its windows (audio_encoder: whisper)--> speech (T, speech_dim) float16
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..audio.files import read_audio
from ..model.config import ModelConfig
from ..tracks import SAMPLE_RATE_HZ, num_frames_for
from ..dataset import Utterance


class FeatureCache:
    """``features(utt) -> dict`` for ``CoeffDataset``: speech, phone_ids, word_vectors, visemes, mouths
    as the model has them.

    Two parts, each cached under its own key: the Whisper branch's speech features (keyed by the
    encoder and its windows) and the pseudo-text / pseudo-visual ones (keyed by the recogniser, word
    encoder, look-ahead, Wav2Lip and face), so a change to one branch never recomputes the other.
    """

    def __init__(self, config: ModelConfig, dataset_root: str | Path | None = None, compute: str = "cpu"):
        """``dataset_root``: where the cache lives; None = beside each utterance, in its own dataset
        (for training on several datasets at once). ``compute``: where the Whisper encoder, the
        recogniser and Wav2Lip run (``cpu``, ``cuda``, ``cuda:N``; float16 on a GPU, as live)."""
        self.config = config
        self.compute = compute
        self.parts: dict[str, dict] = {}
        """Part name (``speech``, ``branches``) -> the settings that make it (its key's source)."""
        if config.audio_encoder == "whisper":
            self.parts["speech"] = {"fps": config.fps, "speech": {name: getattr(config, name) for name in (
                "speech_model", "speech_dim", "speech_window_s", "speech_hop_s", "speech_lookahead_s")}}
        if config.text or config.visual:
            settings = {"fps": config.fps, "text": config.text, "text_input": config.text_input,
                        "recognizer": config.recognizer,
                        "word_encoder": config.word_encoder, "visual": config.visual,
                        "wav2lip": config.wav2lip_checkpoint, "face": config.reference_face}
            if config.text_input == "visemes":
                from ..model.live_text import text_lookahead_s

                settings["text_lookahead_s"] = round(text_lookahead_s(config), 6)
            if config.text_stream:  # a settings entry only when on: the caches made before it keep their keys
                settings["text_stream"] = {"step_s": config.text_step_s, "window_s": config.text_window_s}
            self.parts["branches"] = settings
        self.keys = {part: hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
                     for part, settings in self.parts.items()}
        self.root = None if dataset_root is None else Path(dataset_root)
        self.threads = 0
        """CPU threads of the Whisper encoder (0: all; one per worker process in ``precompute``)."""
        self._recognizer = None
        self._word_encoder = None
        self._visual = None

    def __call__(self, utt: Utterance) -> dict:
        features: dict[str, np.ndarray] = {}
        audio = None
        for part in self.parts:
            path = self.folder(utt, part) / f"{utt.id}.npz"
            if path.exists():
                with np.load(path) as stored:
                    features.update({name: stored[name] for name in stored.files})
                continue
            audio = audio if audio is not None else read_audio(utt.audio_path)
            computed = self._compute(part, audio)
            path.parent.mkdir(parents=True, exist_ok=True)
            (path.parent / "settings.json").write_text(json.dumps(self.parts[part], indent=1))
            tmp = path.with_suffix(".tmp.npz")
            np.savez_compressed(tmp, **computed)
            tmp.replace(path)
            features.update(computed)
        return features

    def folder(self, utt: Utterance, part: str) -> Path:
        """``<dataset>/cache/<key>/``: the utterance's folder is ``<dataset>/utterances/<id>/``."""
        root = self.root if self.root is not None else utt.audio_path.parent.parent.parent
        return root / "cache" / self.keys[part]

    def cached(self, utt: Utterance) -> bool:
        return all((self.folder(utt, part) / f"{utt.id}.npz").exists() for part in self.parts)

    def _compute(self, part: str, audio) -> dict:
        num_frames = num_frames_for(len(audio.samples) / SAMPLE_RATE_HZ, self.config.fps)
        features: dict[str, np.ndarray] = {}
        if part == "speech":
            from ..model.encoders.whisper import speech_model, speech_track

            model = speech_model(self.config.speech_model, self.compute, self.threads)
            features["speech"] = speech_track(audio.samples, self.config, num_frames, model).astype(np.float16)
            return features
        if self.config.text and self.config.text_input == "visemes":
            from ..model.live_text import viseme_track

            features["visemes"] = viseme_track(audio.samples, self.config, num_frames).astype(np.float16)
        elif self.config.text and self.config.text_stream:
            from ..model.live_words import transcript_track

            phone_ids, word_vectors = transcript_track(audio.samples, self.config, num_frames,  # as live settles it
                                                       compute=self.compute)
            features["phone_ids"] = phone_ids
            if word_vectors is not None:
                features["word_vectors"] = word_vectors.astype(np.float16)
        elif self.config.text:
            from ..model.encoders.text import WordEncoder, text_frames
            from ..model.recognizers import make_recognizer

            if self._recognizer is None:
                self._recognizer = make_recognizer(self.config.recognizer, self.compute)
                self._word_encoder = WordEncoder(self.config.word_encoder) if self.config.word_encoder else None
            transcript = self._recognizer.recognize(audio)
            phone_ids, word_vectors = text_frames(transcript, num_frames, self.config.fps, self._word_encoder)
            features["phone_ids"] = phone_ids
            if self._word_encoder is not None:
                features["word_vectors"] = word_vectors.astype(np.float16)  # a third of the disk, same model input
        if self.config.visual:
            from ..model.compute import torch_device
            from ..model.encoders.visual import make_pseudo_visual

            if self._visual is None:
                self._visual = make_pseudo_visual(self.config, torch_device(self.compute), half=self.compute != "cpu")
            if self._visual is not None:
                features["mouths"] = self._visual.generate_mouths(audio.samples, self.config.fps, num_frames)
        return features

    def precompute(self, utterances: list[Utterance], show_progress: bool = True, jobs: int = 1) -> None:
        """Fill the cache (with a progress bar) before training starts, in ``jobs`` processes."""
        from tqdm import tqdm

        todo = [u for u in utterances if not self.cached(u)]
        bar = tqdm(total=len(utterances), initial=len(utterances) - len(todo), desc="features", unit="utt",
                   disable=not show_progress)
        if jobs <= 1 or len(todo) < 2:
            for utt in todo:
                self(utt)
                bar.update(1)
        else:
            import multiprocessing

            with multiprocessing.get_context("spawn").Pool(jobs, initializer=_start_worker,
                                                          initargs=(self.config, self.root, self.compute)) as pool:
                for _ in pool.imap_unordered(_compute_in_worker, todo, chunksize=4):
                    bar.update(1)
        bar.close()


_worker_cache: FeatureCache | None = None


def _start_worker(config: ModelConfig, root: Path | None, compute: str) -> None:
    global _worker_cache
    import torch

    torch.set_num_threads(1)
    _worker_cache = FeatureCache(config, root, compute)
    _worker_cache.threads = 1


def _compute_in_worker(utt: Utterance) -> None:
    _worker_cache(utt)


def prepare_features(config: ModelConfig, data_dirs: list[str], *, jobs: int = 1,
                     show_progress: bool = True, compute: str = "cpu") -> FeatureCache | None:
    """The feature cache a training run on ``data_dirs`` reads, filled now (with a progress bar, in
    ``jobs`` processes, the pretrained networks on ``compute``) so that training does not wait for it;
    None when the model reads no cached features. Each dataset keeps its own cache, so a second run on
    it starts at once."""
    if not config.cached_features:
        return None
    from ..dataset import load_dataset

    features = FeatureCache(config, compute=compute)
    features.precompute([u for data in data_dirs for u in load_dataset(data)], show_progress=show_progress,
                        jobs=jobs)
    return features
