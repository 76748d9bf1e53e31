"""The training dataset: takes and ARKit files in, checked on the way back, cropped and batched in step."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from pmmtalk_live import rig
from pmmtalk_live.model.config import WORD_DIM, tiny_config
from pmmtalk_live.sinks.csv_take import write_take
from pmmtalk_live.tracks import SAMPLE_RATE_HZ, Audio, CurveTrack, num_frames_for
from pmmtalk_live.dataset import (COEFFS_HEADER, DatasetError, create_dataset, load_dataset, read_coeffs, split,
                                  write_utterance)
from pmmtalk_live.dataset.importers import (channel_for, import_arkit_csv, import_arkit_json,
                                            import_live_link_face_takes)
from pmmtalk_live.train.batches import CoeffDataset, collate

JAW = rig.CHANNEL_INDEX["jawOpen"]


def _audio(seconds: float, seed: int = 0) -> Audio:
    n = int(round(seconds * SAMPLE_RATE_HZ))
    return Audio(np.random.default_rng(seed).uniform(-0.5, 0.5, n).astype(np.float32))


def _ramp_audio(seconds: float) -> Audio:
    """Audio whose every sample says its time: 0.9 * t / seconds."""
    n = int(round(seconds * SAMPLE_RATE_HZ))
    return Audio((0.9 * np.arange(n) / n).astype(np.float32))


def _values(num_frames: int, channels: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (num_frames, channels)).astype(np.float32)


def _one_line(error: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


# --- Live Link Face takes ------------------------------------------------------------------------------

def test_a_take_imports_by_name_and_reads_back_at_30_fps(tmp_path):
    takes = tmp_path / "takes"
    audio = _audio(1.0)
    track = CurveTrack(rig.SOURCE_CHANNELS, _values(num_frames_for(1.0, 60), len(rig.SOURCE_CHANNELS)), 60)
    write_take(takes, track, audio, slate="Scene", take=1, subject="Ana", timecode="system")

    summary = import_live_link_face_takes(takes, tmp_path / "data")
    assert summary.imported == ["Scene_1_Ana"] and summary.skipped == []

    [utt] = load_dataset(tmp_path / "data")
    assert (utt.id, utt.subject, utt.fps) == ("Scene_1_Ana", "Ana", 60.0)
    assert utt.duration_s == pytest.approx(1.0)
    at_60 = read_coeffs(utt, 60)
    for i, name in enumerate(rig.MODEL_CHANNELS):  # by name: the CSV swaps JawLeft/JawRight, MouthLeft/Right
        np.testing.assert_allclose(at_60[:, i], track.column(name), atol=1e-6, err_msg=name)
    at_30 = read_coeffs(utt, 30)
    assert at_30.shape == (num_frames_for(1.0, 30), 32)
    np.testing.assert_allclose(at_30, at_60[::2], atol=1e-6)
    wav, rate = soundfile.read(utt.audio_path, dtype="float32")
    assert rate == SAMPLE_RATE_HZ and len(wav) == len(audio.samples)
    np.testing.assert_allclose(wav, audio.samples, atol=1 / 32768)


def test_a_30_fps_take_is_interpolated_to_the_60_fps_dataset(tmp_path):
    track = CurveTrack(rig.MODEL_CHANNELS, _values(num_frames_for(0.5, 30), 32, seed=1), 30)
    write_take(tmp_path / "takes", track, _audio(0.5), slate="S", take=3, subject="Bo")
    import_live_link_face_takes([tmp_path / "takes" / "S_3_Bo_raw.csv"], tmp_path / "data", subject="Bob")

    [utt] = load_dataset(tmp_path / "data")
    assert utt.subject == "Bob" and utt.source.endswith("S_3_Bo_raw.csv")
    at_60 = read_coeffs(utt, 60)
    np.testing.assert_allclose(at_60[::2], track.values, atol=1e-6)
    np.testing.assert_allclose(at_60[1:-1:2], 0.5 * (track.values[:-1] + track.values[1:]), atol=1e-6)


def test_takes_without_audio_or_channels_are_skipped_with_a_reason_each(tmp_path):
    takes = tmp_path / "takes"
    write_take(takes, CurveTrack(rig.MODEL_CHANNELS, _values(30, 32), 60), _audio(0.5), slate="S", take=1, subject="A")
    write_take(takes, CurveTrack(rig.MODEL_CHANNELS, _values(30, 32), 60), None, slate="S", take=2, subject="A")
    (takes / "S_9_A_raw.csv").write_text("not,a,take\n")

    summary = import_live_link_face_takes(takes, tmp_path / "data")
    assert summary.imported == ["S_1_A"]
    reasons = dict(summary.skipped)
    assert "no audio beside it (expected S_2_A.wav)" in reasons[str(takes / "S_2_A_raw.csv")]
    assert "Timecode" in reasons[str(takes / "S_9_A_raw.csv")]
    assert all("\n" not in reason for reason in reasons.values())

    again = import_live_link_face_takes(takes / "S_1_A_raw.csv", tmp_path / "data")
    assert again.imported == [] and "already in the dataset" in again.skipped[0][1]


# --- ARKit CSV and JSON --------------------------------------------------------------------------------

def test_arkit_csv_with_prefixed_names_ms_timestamps_and_semicolons(tmp_path):
    values = _values(16, 32, seed=2)
    extra = ["blendShapes.eyeBlinkLeft"]
    header = ["Timestamp"] + [f"blendShapes.{name}" for name in reversed(rig.MODEL_CHANNELS)] + extra
    lines = [";".join(header)]
    for k, row in enumerate(values):
        lines.append(";".join([f"{1000 + k * 1000 / 30:.6f}"] + [f"{v:.7f}" for v in row[::-1]] + ["0.5"]))
    (tmp_path / "face.csv").write_text("\n".join(lines) + "\n")
    soundfile.write(tmp_path / "face.wav", _audio(1.5).samples, 48000)  # 0.5 s at 48 kHz: resampled

    create_dataset(tmp_path / "data", fps=30)
    summary = import_arkit_csv(tmp_path / "face.csv", tmp_path / "face.wav", tmp_path / "data", subject="Cy")
    assert summary.imported == ["face"]
    [utt] = load_dataset(tmp_path / "data")
    coeffs = read_coeffs(utt, 30)
    assert len(coeffs) == num_frames_for(utt.duration_s, 30) == 16
    np.testing.assert_allclose(coeffs, values, atol=1e-6)


def test_arkit_csv_at_a_fixed_fps_and_its_errors(tmp_path):
    values = _values(10, 32, seed=3)
    names = [name.upper() for name in rig.MODEL_CHANNELS]
    (tmp_path / "a.csv").write_text(",".join(names) + "\n" + "\n".join(",".join(map(str, r)) for r in values))
    soundfile.write(tmp_path / "a.wav", _audio(0.3).samples, SAMPLE_RATE_HZ)
    import_arkit_csv(tmp_path / "a.csv", tmp_path / "a.wav", tmp_path / "d", "Di", fps=30, id="take-a")
    [utt] = load_dataset(tmp_path / "d")
    np.testing.assert_allclose(read_coeffs(utt, 30), values, atol=1e-6)

    with pytest.raises(DatasetError) as error:
        import_arkit_csv(tmp_path / "a.csv", tmp_path / "a.wav", tmp_path / "d", "Di", id="again")
    _one_line(error, "a.csv", "no time column")

    (tmp_path / "b.csv").write_text("time," + ",".join(names[1:]) + "\n0," + ",".join(["0.1"] * 31) + "\n")
    with pytest.raises(DatasetError) as error:
        import_arkit_csv(tmp_path / "b.csv", tmp_path / "a.wav", tmp_path / "d", "Di")
    _one_line(error, "b.csv", "no column for jawForward")

    (tmp_path / "c.csv").write_text("time," + ",".join(names) + "\n0," + ",".join(["0.1"] * 31 + ["x"]) + "\n")
    with pytest.raises(DatasetError) as error:
        import_arkit_csv(tmp_path / "c.csv", tmp_path / "a.wav", tmp_path / "d", "Di")
    _one_line(error, "c.csv", "line 2", "NOSESNEERRIGHT is 'x'")

    (tmp_path / "e.csv").write_text("time," + ",".join(names) + "\n0," + ",".join(["50"] * 32) + "\n")
    with pytest.raises(DatasetError) as error:
        import_arkit_csv(tmp_path / "e.csv", tmp_path / "a.wav", tmp_path / "d", "Di")
    _one_line(error, "e.csv", "outside 0..1")

    with pytest.raises(Exception) as error:
        import_arkit_csv(tmp_path / "a.csv", tmp_path / "missing.wav", tmp_path / "d", "Di", fps=30)
    _one_line(error, "missing.wav", "no such file")


def test_channel_names_in_any_spelling():
    assert channel_for("blendShapes.jawOpen") == "jawOpen"
    assert channel_for("JawOpen") == channel_for("jaw_open") == channel_for("BlendShapes/JAWOPEN") == "jawOpen"
    assert channel_for("eyeBlinkLeft") is None


def test_arkit_json_frames_and_names_with_weights(tmp_path):
    values = _values(12, 32, seed=4)
    soundfile.write(tmp_path / "v.wav", _audio(0.4).samples, SAMPLE_RATE_HZ)
    frames = [{"time": 5.0 + k / 30, "blendshapes": {**dict(zip(rig.MODEL_CHANNELS, map(float, row))), "tongueOut": 0}}
              for k, row in enumerate(values)]
    (tmp_path / "frames.json").write_text(json.dumps(frames))
    names = [rig.to_pascal(n) for n in rig.MODEL_CHANNELS]
    (tmp_path / "weights.json").write_text(json.dumps(
        {"names": names, "frames": [{"timestamp": k / 30, "weights": row.tolist()} for k, row in enumerate(values)]}))
    (tmp_path / "arrays.json").write_text(json.dumps({"names": names, "weights": values.tolist(), "fps": 30}))

    create_dataset(tmp_path / "d", fps=30)
    for name in ("frames", "weights", "arrays"):
        summary = import_arkit_json(tmp_path / f"{name}.json", tmp_path / "v.wav", tmp_path / "d", "Ed")
        assert summary.imported == [name]
    for utt in load_dataset(tmp_path / "d"):
        np.testing.assert_allclose(read_coeffs(utt, 30)[:12], values, atol=1e-6, err_msg=utt.id)

    (tmp_path / "bad.json").write_text('[{"time": 0, "blendshapes": ')
    with pytest.raises(DatasetError) as error:
        import_arkit_json(tmp_path / "bad.json", tmp_path / "v.wav", tmp_path / "d", "Ed")
    _one_line(error, "bad.json", "not valid JSON")
    (tmp_path / "short.json").write_text(json.dumps({"names": names, "frames": [{"time": 0, "weights": [0.1]}]}))
    with pytest.raises(DatasetError) as error:
        import_arkit_json(tmp_path / "short.json", tmp_path / "v.wav", tmp_path / "d", "Ed")
    _one_line(error, "short.json", "frame 0", "1 weights, 32 names")


# --- the dataset on disk --------------------------------------------------------------------------------

def _dataset(tmp_path, seconds=(0.5,), fps=60):
    root = tmp_path / "data"
    create_dataset(root, fps=fps)
    for k, s in enumerate(seconds):
        write_utterance(root, f"u{k}", _audio(s, k), _values(num_frames_for(s, fps), 32, k), fps, f"S{k % 2}")
    return root


@pytest.mark.parametrize("damage, fragments", [
    (lambda f: f.joinpath("coeffs.csv").write_text(
        f.joinpath("coeffs.csv").read_text().replace(",jawOpen,", ",jawOpen_,", 1)),
     ("coeffs.csv", "line 1", "missing column(s) jawOpen")),
    (lambda f: f.joinpath("coeffs.csv").write_text(
        "\n".join(f.joinpath("coeffs.csv").read_text().splitlines()[:-1]) + "\n"),
     ("coeffs.csv", "30 rows, expected 31")),
    (lambda f: f.joinpath("audio.wav").unlink(), ("audio.wav", "missing")),
    (lambda f: f.joinpath("meta.yaml").write_text("transcript: hi\n"), ("meta.yaml", "subject is None")),
])
def test_malformed_utterances_give_one_line_naming_the_file(tmp_path, damage, fragments):
    root = _dataset(tmp_path)
    damage(root / "utterances" / "u0")
    with pytest.raises(DatasetError) as error:
        load_dataset(root)
    _one_line(error, *fragments)


def test_nan_in_coeffs_is_refused_by_name(tmp_path):
    root = _dataset(tmp_path)
    path = root / "utterances" / "u0" / "coeffs.csv"
    lines = path.read_text().splitlines()
    cells = lines[3].split(",")
    cells[1 + JAW] = "nan"
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as error:
        load_dataset(root)
    _one_line(error, "coeffs.csv", "line 4", "jawOpen is nan")
    assert path.read_text().splitlines()[0] == ",".join(COEFFS_HEADER)


def test_split_is_deterministic_by_id_or_by_subject(tmp_path):
    root = _dataset(tmp_path, seconds=[0.2] * 10)
    utterances = load_dataset(root)
    train, val = split(utterances, 0.3, seed=1)
    assert (train, val) == split(utterances, 0.3, seed=1)
    assert len(train) + len(val) == 10 and val and train and not set(train) & set(val)
    train, val = split(utterances, 0.3, seed=1, by="subject")
    assert {u.subject for u in val} in ({"S0"}, {"S1"}) and not {u.subject for u in train} & {u.subject for u in val}


# --- the torch Dataset and collate ----------------------------------------------------------------------

def _ramp_dataset(tmp_path, seconds=2.3):
    root = tmp_path / "ramp"
    create_dataset(root, fps=60)
    n = num_frames_for(seconds, 60)
    coeffs = np.zeros((n, 32))
    coeffs[:, JAW] = np.arange(n) / 60 / seconds  # says its time, like the audio
    write_utterance(root, "ramp", _ramp_audio(seconds), coeffs, 60, "Ana")
    return load_dataset(root)


def test_crops_keep_audio_and_frames_in_step(tmp_path):
    utterances = _ramp_dataset(tmp_path)
    config = tiny_config(speakers=["Ana"])
    spf = SAMPLE_RATE_HZ / config.fps

    def features(utt):
        t = num_frames_for(utt.duration_s, config.fps)
        return {"phone_ids": np.arange(t)}

    dataset = CoeffDataset(utterances * 6, config, features=features, max_seconds=1.0, seed=7)
    starts = set()
    for index in range(len(dataset)):
        item = dataset[index]
        frames, samples = len(item["coeffs"]), len(item["audio"])
        assert frames == 30 and num_frames_for(samples / SAMPLE_RATE_HZ, config.fps) == frames
        assert abs(samples - frames * spf) < spf
        start_s = item["start_frame"] / config.fps
        assert float(item["coeffs"][0, JAW]) * 2.3 == pytest.approx(start_s, abs=1e-4)
        assert float(item["audio"][0]) / 0.9 * 2.3 == pytest.approx(start_s, abs=2e-4)
        assert item["phone_ids"].tolist() == list(range(item["start_frame"], item["start_frame"] + 30))
        assert item["style"] == 1
        starts.add(item["start_frame"])
    assert len(starts) > 1

    again = CoeffDataset(utterances * 6, config, max_seconds=1.0, seed=7)
    assert [again[i]["start_frame"] for i in range(6)] == [dataset[i]["start_frame"] for i in range(6)]
    again.set_epoch(1)
    assert [again[i]["start_frame"] for i in range(6)] != [dataset[i]["start_frame"] for i in range(6)]
    assert [again[i]["start_frame"] for i in range(6)] == [dataset.item(i, 1)["start_frame"] for i in range(6)]


def test_collate_pads_and_says_what_is_present(tmp_path):
    root = _dataset(tmp_path, seconds=(0.5, 0.3), fps=60)
    config = tiny_config(speakers=["S1"])

    def features(utt):
        if utt.id != "u0":
            return {}
        t = num_frames_for(utt.duration_s, config.fps)
        return {"phone_ids": np.full(t, 3), "word_vectors": np.ones((t, WORD_DIM)),
                "mouths": np.full((t, 48, 96, 3), 255, np.uint8)}

    dataset = CoeffDataset(load_dataset(root), config, features=features)
    batch = collate([dataset[0], dataset[1]])
    long, short = num_frames_for(0.5, 30), num_frames_for(0.3, 30)
    assert batch.audio.shape == (2, 8000) and batch.audio_lengths.tolist() == [8000, 4800]
    assert batch.frame_mask.shape == (2, long) and batch.frame_mask.sum(1).tolist() == [long, short]
    assert batch.coeffs.shape == (2, long, 32) and float(batch.coeffs[1, short:].abs().sum()) == 0
    assert batch.styles.tolist() == [0, 1]
    assert batch.text_present.tolist() == [True, False] and batch.visual_present.tolist() == [True, False]
    assert batch.phone_ids.shape == (2, long) and batch.phone_ids[1].sum() == 0
    assert batch.word_vectors.shape == (2, long, WORD_DIM)
    assert batch.mouths.shape == (2, long, 3, 48, 96) and float(batch.mouths[0].min()) == 1.0

    plain = collate([CoeffDataset(load_dataset(root), config)[1]])
    assert plain.phone_ids is None and plain.mouths is None and plain.text_present.tolist() == [False]
