"""Where the pretrained networks run (``inference.set_compute``, ``--compute``): this machine has no GPU,
so what ``--compute cuda`` changes besides the device is checked here on the CPU: wav2vec 2.0 and
Wav2Lip in float16, the recognisers' placement, and the one-line errors when the GPU is absent.
``scripts/bench_gpu.sh`` runs the same paths on a GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pmmtalk_live.errors import RecognizerError
from pmmtalk_live.model.compute import ComputeError, ctranslate2_placement
from pmmtalk_live.model.config import tiny_config
from pmmtalk_live.model.encoders.face import reference_face_from
from pmmtalk_live.model.encoders.mel import mel_windows
from pmmtalk_live.model.encoders.visual import PseudoVisual, Wav2Lip
from pmmtalk_live.model.inference import StreamSession, model_coeffs, prepare_batch, set_compute
from pmmtalk_live.model.pmmtalk import PMMTalk
from pmmtalk_live.model.recognizers import make_recognizer
from pmmtalk_live.tracks import Audio

from .test_model_inference import stream
from .test_model_live_words import example

NO_GPU = not torch.cuda.is_available()


def test_wav2vec_in_half_precision_stays_close_and_live_still_equals_offline():
    torch.manual_seed(0)
    model = PMMTalk(tiny_config(text=False)).eval()
    samples = example(1.2)
    full = model_coeffs(model, prepare_batch(model, Audio(samples)))
    set_compute(model, "cpu", half=True)  # what --compute cuda does to wav2vec 2.0, on the CPU
    assert next(model.audio.wav2vec.parameters()).dtype == torch.float16
    assert model.audio.project.weight.dtype == torch.float32  # the model's own layers keep float32
    half = model_coeffs(model, prepare_batch(model, Audio(samples)))
    assert half.dtype == np.float32 and not np.array_equal(half, full)  # it did run in float16
    np.testing.assert_allclose(half, full, atol=5e-3)
    live = stream(StreamSession(model), samples, [160] * (len(samples) // 160 + 1))
    np.testing.assert_allclose(live, half, atol=1e-4)


def test_wav2lip_in_half_precision_makes_the_same_mouths_within_a_grey_level():
    torch.manual_seed(0)
    generator = Wav2Lip().eval()
    state = {k: v.clone() for k, v in generator.state_dict().items()}
    windows = mel_windows(example(0.4), 10, 2)
    full = PseudoVisual(generator, reference_face_from(None)).mouths(windows)
    copy = Wav2Lip().eval()
    copy.load_state_dict(state)
    half = PseudoVisual(copy, reference_face_from(None), half=True)
    assert next(half.generator.parameters()).dtype == torch.float16
    mouths = half.mouths(windows)
    assert mouths.dtype == np.uint8 and mouths.shape == full.shape
    assert np.abs(mouths.astype(int) - full.astype(int)).max() <= 2


def test_ctranslate2_placement_is_int8_on_the_cpu_and_float16_on_a_gpu():
    assert ctranslate2_placement("cpu") == {"device": "cpu", "device_index": 0, "compute_type": "int8"}
    for bad in ("gpu", "cuda:x", "cpu:1"):
        with pytest.raises(ComputeError, match="expected cpu, cuda or cuda:N"):
            ctranslate2_placement(bad)


@pytest.mark.skipif(not NO_GPU, reason="this machine has a GPU")
def test_a_gpu_asked_for_and_absent_is_a_one_line_error_for_every_branch():
    with pytest.raises(RecognizerError, match="CTranslate2 sees 0 CUDA GPU") as error:
        make_recognizer("faster-whisper", "cuda")
    assert "\n" not in str(error.value)
    with pytest.raises(ComputeError, match="no CUDA GPU here"):
        set_compute(PMMTalk(tiny_config(text=False)).eval(), "cuda")  # wav2vec 2.0
    words = PMMTalk(tiny_config(text_stream=True, recognizer="faster-whisper")).eval()
    with pytest.raises(ComputeError, match="no CUDA GPU here"):
        set_compute(words, "cuda:0")
    assert words.compute == "cpu" and not words.half  # nothing half-moved


def test_the_gpu_check_runs_to_the_end_on_a_tiny_model_without_a_gpu():
    """``scripts/bench_gpu.py`` (what ``scripts/bench_gpu.sh`` runs on a GPU) as a dry run on the CPU:
    every branch live, the per-branch table, the characters table and the shipped model's row."""
    import subprocess
    import sys

    from .conftest import REPO

    result = subprocess.run([sys.executable, "scripts/bench_gpu.py", "--compute", "cpu", "--tiny", "--seconds", "1",
                             "--characters", "1", "2"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    for branch in ("| audio |", "| text |", "| visual: Wav2Lip |", "| visual: mouth encoder |", "**whole hop**"):
        assert branch in out, out
    rows = [line for line in out.splitlines() if line.startswith(("| 1 |", "| 2 |"))]
    assert len(rows) == 2 and rows[0].endswith(" of 100 |") and rows[1].endswith(" of 200 |"), out  # every hop timed
    assert "| cpu | " in out and "bench_gpu: done" in out
