"""Audio in: real files of every kind read to 16 kHz mono, bad files fail with one clear line."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pmmtalk_live.audio.files import read_audio
from pmmtalk_live.audio.resample import StreamResampler, resample
from pmmtalk_live.errors import AudioInputError
from pmmtalk_live.tracks import SAMPLE_RATE_HZ


def tone(hz: float, rate_hz: int, duration_s: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(rate_hz * duration_s))) / rate_hz
    return amplitude * np.sin(2 * np.pi * hz * t)


def dominant_hz(samples: np.ndarray, rate_hz: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate_hz / len(samples))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def write_png(path: Path) -> None:
    """A real 1x1 grey PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


# (container, encoding, sample rate, channels); lossy codecs get a looser length check (codec padding).
FORMATS = [
    ("WAV", "PCM_U8", 8000, 1),
    ("WAV", "PCM_16", 16000, 1),
    ("WAV", "PCM_24", 22050, 2),
    ("WAV", "PCM_32", 96000, 1),
    ("WAV", "FLOAT", 44100, 2),
    ("WAV", "DOUBLE", 32000, 6),
    ("FLAC", "PCM_24", 44100, 2),
    ("FLAC", "PCM_16", 48000, 1),
    ("OGG", "VORBIS", 48000, 2),
    ("OGG", "OPUS", 48000, 1),
    ("MP3", "MPEG_LAYER_III", 44100, 2),
    ("AIFF", "PCM_16", 11025, 1),
]
LOSSY = {"VORBIS", "OPUS", "MPEG_LAYER_III"}


@pytest.mark.parametrize("container, encoding, rate_hz, channels", FORMATS,
                         ids=[f"{c}-{e}-{r}-{n}ch" for c, e, r, n in FORMATS])
def test_every_format_reads_as_16khz_mono_with_the_right_length_pitch_and_level(
        tmp_path, container, encoding, rate_hz, channels):
    path = tmp_path / f"tone.{container.lower()}"
    samples = np.repeat(tone(440.0, rate_hz, 1.5)[:, None], channels, axis=1)
    sf.write(path, samples, rate_hz, format=container, subtype=encoding)

    audio = read_audio(path)

    assert audio.sample_rate_hz == SAMPLE_RATE_HZ
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.duration_s == pytest.approx(1.5, abs=0.05 if encoding in LOSSY else 1e-3)
    assert dominant_hz(audio.samples, SAMPLE_RATE_HZ) == pytest.approx(440.0, abs=2.0)
    middle = audio.samples[4000:-4000]
    assert rms(middle) == pytest.approx(0.5 / np.sqrt(2), rel=0.03 if encoding in LOSSY else 0.01)


@pytest.mark.parametrize("rate_hz", [48000, 44100, 22050])
def test_a_tone_above_the_new_nyquist_is_suppressed_and_one_below_is_kept(tmp_path, rate_hz):
    high = tone(10_000.0, rate_hz, 1.0)
    low = tone(1000.0, rate_hz, 1.0)
    edge = 1000  # output samples near the ends carry the filter's ramp
    high_out = resample(high, rate_hz, SAMPLE_RATE_HZ)[edge:-edge]
    low_out = resample(low, rate_hz, SAMPLE_RATE_HZ)[edge:-edge]
    assert 20 * np.log10(rms(high_out) / rms(high)) < -40.0
    assert 20 * np.log10(rms(low_out) / rms(low)) == pytest.approx(0.0, abs=0.1)

    # The file reader goes through the same filter.
    path = tmp_path / "high.wav"
    sf.write(path, high, rate_hz, subtype="FLOAT")
    assert 20 * np.log10(rms(read_audio(path).samples[edge:-edge]) / rms(high)) < -40.0


def test_stereo_is_mixed_to_the_mean_of_both_channels(tmp_path):
    left, right = tone(440.0, 16000, 1.0), tone(1000.0, 16000, 1.0)
    sf.write(tmp_path / "two.wav", np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    sf.write(tmp_path / "opposed.wav", np.stack([left, -left], axis=1), 16000, subtype="FLOAT")

    mixed = read_audio(tmp_path / "two.wav").samples
    np.testing.assert_allclose(mixed, (left + right) / 2, atol=1e-6)
    assert np.abs(read_audio(tmp_path / "opposed.wav").samples).max() < 1e-6


def test_silence_is_audio_not_an_error(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((44100 * 2, 2)), 44100, subtype="PCM_16")
    audio = read_audio(str(path))
    assert audio.duration_s == pytest.approx(2.0, abs=1e-3)
    assert not audio.samples.any()


def test_a_wav_whose_data_is_cut_short_reads_the_part_that_is_there(tmp_path):
    whole = tmp_path / "whole.wav"
    sf.write(whole, tone(440.0, 16000, 2.0), 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:44 + 16000 * 2])  # the header still says 2 s; 1 s is there

    audio = read_audio(cut)
    assert audio.duration_s == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_allclose(audio.samples[:8000], read_audio(whole).samples[:8000], atol=1e-6)


def test_float_audio_louder_than_full_scale_is_scaled_not_clipped(tmp_path):
    loud = tone(440.0, 16000, 1.0, amplitude=4.0)
    path = tmp_path / "loud.wav"
    sf.write(path, loud, 16000, subtype="FLOAT")
    samples = read_audio(path).samples
    assert np.abs(samples).max() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(samples, loud / np.abs(loud).max(), atol=1e-6)


def _write_bad(kind: str, folder: Path) -> Path:
    """A file (or lack of one) that read_audio must refuse."""
    good = folder / "good.wav"
    sf.write(good, tone(440.0, 16000, 1.0), 16000, subtype="PCM_16")
    path = folder / f"bad-{kind}"
    if kind == "missing":
        return folder / "no-such.wav"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "header-only":
        path.write_bytes(good.read_bytes()[:44])
    elif kind == "header-cut":
        path.write_bytes(good.read_bytes()[:20])
    elif kind in ("flac-cut", "ogg-cut"):
        whole = folder / f"whole.{kind[:-4]}"
        sf.write(whole, tone(440.0, 44100, 3.0), 44100)
        data = whole.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    elif kind == "text":
        path.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nhello there\n")
    elif kind == "png":
        write_png(path)
    elif kind in ("nan", "inf"):
        samples = tone(440.0, 16000, 1.0)
        samples[8000] = np.nan if kind == "nan" else np.inf
        sf.write(path, samples, 16000, format="WAV", subtype="FLOAT")
    elif kind == "newline\nin-name":
        path.write_bytes(b"")
    return path


BAD = {
    "missing": "no such file",
    "folder": "folder",
    "empty": "empty",
    "header-only": "no samples",
    "header-cut": "truncated",
    "flac-cut": "truncated",
    "ogg-cut": "truncated",  # libsndfile finds no frames in a cut Vorbis stream
    "text": "not an audio file",
    "png": "not an audio file",
    "nan": "NaN",
    "inf": "infinite",
    "newline\nin-name": "empty",
}


@pytest.mark.parametrize("kind", BAD, ids=[k.replace("\n", "-") for k in BAD])
def test_bad_input_is_one_line_that_names_the_file(tmp_path, kind):
    path = _write_bad(kind, tmp_path)
    with pytest.raises(AudioInputError) as caught:
        read_audio(path)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    assert path.name.replace("\n", "\\n") in message
    assert BAD[kind] in message


def test_a_file_longer_than_the_limit_is_refused_from_its_header(tmp_path):
    # A real two-hour 8 kHz 8-bit WAV, its 57.6 MB of silence left sparse on disk.
    path = tmp_path / "two-hours.wav"
    num_bytes = 2 * 3600 * 8000
    header = (b"RIFF" + struct.pack("<I", 36 + num_bytes) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
              + b"data" + struct.pack("<I", num_bytes))
    path.write_bytes(header)
    os.truncate(path, len(header) + num_bytes)

    with pytest.raises(AudioInputError, match=r"7200\.0 s long, more than the limit of 3600 s"):
        read_audio(path)
    short = tmp_path / "short.wav"
    sf.write(short, tone(440.0, 16000, 2.0), 16000)
    with pytest.raises(AudioInputError, match="short.wav"):
        read_audio(short, max_duration_s=1.0)
    assert read_audio(short, max_duration_s=2.5).duration_s == pytest.approx(2.0)


@pytest.mark.parametrize("from_hz, to_hz", [(48000, 16000), (44100, 16000), (8000, 16000),
                                            (22050, 16000), (16000, 16000), (16000, 48000)])
def test_streaming_resampler_equals_the_one_shot_result(from_hz, to_hz):
    rng = np.random.default_rng(7)
    signal = rng.standard_normal(from_hz + 123)
    expected = resample(signal, from_hz, to_hz)

    resampler = StreamResampler(from_hz, to_hz)
    for attempt in range(2):  # flush() leaves a fresh resampler behind
        pieces, start = [], 0
        for size in [0, 1, 7, 480, 0, 2048] + [int(n) for n in rng.integers(0, 5000, 40)]:
            pieces.append(resampler.process(signal[start:start + size]))
            start += size
        pieces.append(resampler.process(signal[start:]))
        produced_before_flush = sum(map(len, pieces))
        pieces.append(resampler.flush())
        streamed = np.concatenate(pieces)
        assert streamed.dtype == np.float32
        assert len(streamed) == len(expected)
        np.testing.assert_allclose(streamed, expected, atol=1e-6)
        # Live, only the filter's half-length is held back: under 2 ms.
        assert len(expected) - produced_before_flush == resampler.latency_samples
        assert resampler.latency_samples < 0.002 * to_hz


def test_a_wav_cut_short_is_read_with_a_warning_saying_how_much_is_missing(tmp_path, caplog):
    """A header that says 8.67 s over a file holding 0.03 s: what is there is used, and the user is
    told both lengths (a whole WAV, or one whose writer never filled in the size, says nothing)."""
    whole = tmp_path / "whole.wav"
    sf.write(whole, tone(220.0, 16000, 8.67), 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:44 + 480 * 2])
    unset = tmp_path / "unset.wav"
    unset.write_bytes(cut.read_bytes()[:40] + struct.pack("<I", 0xFFFFFFFF) + cut.read_bytes()[44:])
    with caplog.at_level("WARNING", logger="pmmtalk_live"):
        assert read_audio(whole).duration_s == pytest.approx(8.67)
        assert read_audio(unset).duration_s == pytest.approx(0.03)
        assert caplog.messages == []
        assert read_audio(cut).duration_s == pytest.approx(0.03)
    assert len(caplog.messages) == 1
    assert "cut.wav: truncated: the header says 8.67 s of audio, the file holds 0.03 s" in caplog.messages[0]
