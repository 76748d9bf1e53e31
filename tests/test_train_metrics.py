"""Evaluation metrics on constructed cases: what each number must say when the answer is known."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pmmtalk_live import rig
from pmmtalk_live.train.calibrate import best_setting
from pmmtalk_live.evaluation.curve_errors import (aperture, closure_events, closures_hit, evaluate, jitter, lag_ms,
                                        lip_errors, lip_vertex_errors)

FPS = 30
JAW = rig.CHANNEL_INDEX["jawOpen"]
SMILE = rig.CHANNEL_INDEX["mouthSmileLeft"]
CHEEK = rig.CHANNEL_INDEX["cheekPuff"]


def _speech(num_frames: int = 150, seed: int = 0, closures=(30, 60, 95, 120)) -> np.ndarray:
    """A talking face: the jaw opens and shuts smoothly, with 3-frame closures at the given frames."""
    rng = np.random.default_rng(seed)
    coeffs = np.zeros((num_frames, 32))
    t = np.arange(num_frames) / FPS
    coeffs[:, JAW] = 0.35 + 0.25 * np.sin(2 * np.pi * 2.3 * t) * np.sin(2 * np.pi * 0.7 * t + 0.4)
    coeffs[:, SMILE] = 0.2 + 0.1 * np.sin(2 * np.pi * 0.5 * t)
    coeffs[:, CHEEK] = rng.uniform(0, 0.1, num_frames)
    for start in closures:
        coeffs[start:start + 3, JAW] = 0.02
    return coeffs


def _shifted(coeffs: np.ndarray, frames: int) -> np.ndarray:
    """The same motion ``frames`` later (the first row held at the start)."""
    return np.concatenate([np.repeat(coeffs[:1], frames, axis=0), coeffs[:-frames]])


def test_identical_prediction_scores_zero_error_and_zero_lag():
    reference = _speech()
    result = evaluate([(reference, reference), (_speech(90, 1, (40,)), _speech(90, 1, (40,)))], FPS)
    assert result["lip_max_error"] == 0 and result["lip_mean_error"] == 0
    assert result["lag_ms"] == 0
    assert result["closure_events"] == 5 and result["closure_rate"] == 1.0
    assert result["jitter_prediction"] == result["jitter_reference"] > 0
    assert result["utterances"] == 2 and result["frames"] == 240
    assert json.loads(json.dumps(result)) == result


def test_a_late_copy_reads_as_its_lag_in_ms():
    reference = _speech()
    assert lag_ms(_shifted(reference, 3), reference, FPS) == pytest.approx(100.0)
    assert lag_ms(reference, _shifted(reference, 2), FPS) == pytest.approx(-2000 / 30)
    pooled = evaluate([(_shifted(r, 4), r) for r in (_speech(150, 0), _speech(120, 2, (50, 80)))], 60)
    assert pooled["lag_ms"] == pytest.approx(4000 / 60)
    assert lag_ms(np.zeros((50, 32)), reference[:50], FPS) is None  # a still face has no timing


def test_a_missed_closure_lowers_the_closure_rate():
    reference = _speech()
    assert closure_events(reference) == [(30, 33), (60, 63), (95, 98), (120, 123)]
    prediction = reference.copy()
    prediction[95:98, JAW] = 0.4  # the model opens where the speaker closed
    assert closures_hit(prediction, reference, FPS) == (3, 4)
    assert evaluate([(prediction, reference)], FPS)["closure_rate"] == 0.75
    late = _shifted(reference, 1)  # one frame late still closes within the tolerance
    assert closures_hit(late, reference, FPS) == (4, 4)


def test_closures_at_the_edges_are_rest_not_speech():
    reference = _speech(closures=(30,))
    reference[:5, JAW] = 0.0
    reference[-5:, JAW] = 0.0
    assert closure_events(reference) == [(30, 33)]
    assert aperture(reference)[:5].max() == 0


def test_lip_errors_look_at_jaw_and_mouth_only():
    reference = _speech()
    prediction = reference.copy()
    prediction[:, CHEEK] += 0.5
    assert lip_errors(prediction, reference)[0].max() == 0
    prediction[10, SMILE] += 0.3
    prediction[20, JAW] -= 0.1
    lip_max, lip_mean = lip_errors(prediction, reference)
    assert lip_max[10] == pytest.approx(0.3) and lip_max[20] == pytest.approx(0.1)
    assert lip_mean[10] == pytest.approx(0.3 / 27)
    result = evaluate([(prediction, reference)], FPS)
    assert result["lip_max_error"] == pytest.approx(0.4 / 150)


def test_vertex_error_is_the_worst_lip_vertex_distance():
    reference = _speech(60)
    prediction = reference.copy()
    prediction[7, JAW] += 0.2
    basis = np.zeros((32, 5, 3))
    basis[JAW, 0] = (0.0, -3.0, 4.0)  # a lip vertex that moves 5 units at jawOpen = 1
    basis[JAW, 4] = (0.0, -30.0, 0.0)  # the chin: not a lip vertex
    errors = lip_vertex_errors(prediction, reference, basis, [0, 1, 2])
    assert errors[7] == pytest.approx(1.0) and np.delete(errors, 7).max() == 0
    result = evaluate([(prediction, reference)], FPS, basis=basis, lip_vertices=[0, 1, 2])
    assert result["lip_vertex_error"] == pytest.approx(1.0 / 60)
    assert evaluate([(prediction, reference)], FPS)["lip_vertex_error"] is None


def test_jitter_counts_frame_to_frame_shake():
    still = np.full((40, 32), 0.3)
    shaky = still.copy()
    shaky[::2, JAW] += 0.05  # up, down, up: a second difference of 0.1 on one channel of 32, every frame
    assert jitter(np.tile(np.linspace(0, 1, 40)[:, None], (1, 32))) == pytest.approx(0, abs=1e-12)
    result = evaluate([(shaky, still)], FPS)
    assert result["jitter_prediction"] == pytest.approx(0.1 / 32)
    assert result["jitter_reference"] == 0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="frames"):
        evaluate([(np.zeros((10, 32)), np.zeros((14, 32)))], FPS)


def test_calibration_keeps_the_most_closures_near_the_lowest_error_losing_none_to_the_track():
    off = 1.0  # gate threshold: the gate never closes the lips
    measured = {(0.0, off): (0.14, 340, 369), (0.25, off): (0.131, 340, 369), (0.375, off): (0.129, 332, 369),
                (0.5, off): (0.135, 341, 369)}
    assert best_setting(measured) == (0.25, off)  # 0.375 errs less but closes 8 fewer lips than the track alone
    measured[(0.375, 0.6)] = (0.130, 350, 369)  # the gate gives the closures back
    assert best_setting(measured) == (0.375, 0.6)
    measured[(0.0, off)] = (0.14, 330, 369)
    measured[(0.375, off)] = (0.1250, 332, 369)
    assert best_setting(measured) == (0.375, off)  # the gate's closures now cost 4 % more error: over the 2 % allowed
    assert best_setting({(0.0, off): (0.2, 5, 9), (0.5, off): (0.1, 4, 9)}) == (0.0, off)  # always qualifies
    # a model with no track to correct: its gate alone, the most closures within 2 % of the lowest error
    gate_only = {(1.0, off): (0.1085, 3840, 4017), (1.0, 0.5): (0.1086, 3840, 4017), (1.0, 0.3): (0.1086, 3842, 4017),
                 (1.0, 0.1): (0.1200, 3990, 4017)}
    assert best_setting(gate_only) == (1.0, 0.3)
