"""The checkpoint shipped in the package: it loads offline, is the default animator, and animates a
recording live at the default look-ahead, and closes the lips on a held-out voice's bilabials."""

from pathlib import Path

import numpy as np
import pytest

from pmmtalk_live import rig
from pmmtalk_live.animators import DEFAULT_ANIMATOR, DEFAULT_MODEL, make_animator, make_live_animator
from pmmtalk_live.audio.files import read_audio
from pmmtalk_live.config import ServeConfig
from pmmtalk_live.model.inference import load_model, packaged_models
from pmmtalk_live.tracks import num_frames_for

SHIPPED = Path(__file__).resolve().parent.parent / "pmmtalk_live" / "data" / "models" / DEFAULT_MODEL
MAX_BYTES = 20 * 1024 * 1024

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_default_checkpoint_ships_small_and_safe():
    assert DEFAULT_MODEL in packaged_models()
    files = sorted(p.name for p in SHIPPED.iterdir())
    assert files == ["config.yaml", "model.safetensors"]  # safetensors and YAML: nothing is unpickled
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) <= MAX_BYTES


def test_serve_and_animate_default_to_it():
    assert DEFAULT_ANIMATOR == "pmmtalk" and ServeConfig().animator == "pmmtalk" and ServeConfig().ckpt is None
    assert make_animator("pmmtalk").model.config == load_model(DEFAULT_MODEL).config


def test_it_is_trained():
    """A trained model opens the jaw on speech and keeps it shut in the example's opening silence."""
    example = read_audio("pmmtalk_live/data/example.wav")
    track = make_animator("pmmtalk").animate(example, 60)
    jaw = track.values[:, rig.MODEL_CHANNELS.index("jawOpen")]
    assert jaw[:10].max() < 0.1
    assert np.percentile(jaw, 90) > 0.15


def test_it_animates_live_at_the_default_lookahead():
    """10 ms hops (the engine's default) at serve's 100 ms look-ahead: every frame comes, numbered in
    order. Its speed is a benchmark's business, not a test's (`make bench`: scripts/bench_model.py
    times it on one core; a shared CI machine's timings say nothing)."""
    example = read_audio("pmmtalk_live/data/example.wav").samples[:16000 * 6]
    animator = make_live_animator("pmmtalk", fps=60, lookahead_s=0.1)
    assert animator.lookahead_s <= 0.1  # the default look-ahead holds with the shipped model
    outs = [animator.process(example[i:i + 160]) for i in range(0, len(example), 160)] + [animator.flush()]
    assert [o.first_frame for o in outs if o.num_frames] == list(np.cumsum([0] + [o.num_frames for o in outs if o.num_frames])[:-1])
    assert sum(o.num_frames for o in outs) == num_frames_for(6.0, 60)


@pytest.fixture(scope="module")
def held_out_voice_bilabials():
    """A sentence full of P/B/M spoken by flite's rms, a voice training held out, with the engine's
    exact phone times, 0.3 s of silence either side."""
    from pmmtalk_live.corpus.voices import VOICE_BY_NAME, SynthRequest, synthesize
    from pmmtalk_live.tracks import Audio, Phone

    speech = synthesize(VOICE_BY_NAME["flite-rms"], [SynthRequest("Bob and Pam bumped the lamp, then Mum mopped up.")],
                        None)[0]
    assert speech.sample_rate_hz == 16000
    pad = np.zeros(4800, np.float32)
    audio = Audio(np.concatenate([pad, speech.samples.astype(np.float32), pad]), 16000)
    phones = [Phone(p.label, p.start_s + 0.3, p.end_s + 0.3) for p in speech.phones]
    return audio, phones


def test_its_lips_close_on_a_held_out_voices_bilabials_live_and_offline(held_out_voice_bilabials):
    """The lips-closed output at work: the default closes the lips on the word-interior P/B/M of a
    synthetic voice it never trained on, live (10 ms hops, default look-ahead) and offline."""
    from pmmtalk_live.evaluation.live_report import stream
    from pmmtalk_live.evaluation.lipsync import interior_bilabials, score
    from pmmtalk_live.tracks import CurveTrack

    audio, phones = held_out_voice_bilabials
    bilabials = interior_bilabials(phones)
    assert len(bilabials) >= 6
    live = stream(make_live_animator("pmmtalk", fps=60, lookahead_s=0.1), audio.samples)[0]
    offline = make_animator("pmmtalk").animate(audio, 60)
    for track in (live, offline):
        scores = score(CurveTrack(rig.MODEL_CHANNELS, track.values, 60), phones)
        assert scores.closures >= len(bilabials) - 1, f"{scores.closures}/{len(bilabials)} bilabials closed"
        assert scores.aperture_ratio >= 3.0
