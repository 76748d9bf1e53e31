"""The codec2-examples evaluation set: the committed transcripts are well-formed and alignable, the
loader cuts each utterance from its recording at the right samples, and a machine without the Debian
package gets one clear line naming it."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from pmmtalk_live.evaluation import codec2_examples as c2
from pmmtalk_live.errors import EvalDataError
from pmmtalk_live.phonetic import words_in_dictionary
from pmmtalk_live.tracks import SAMPLE_RATE_HZ


def test_transcripts_file_is_well_formed():
    doc = yaml.safe_load(c2.YAML_PATH.read_text(encoding="utf-8"))
    assert doc["package"] == c2.PACKAGE and "Whisper" in doc["about"]
    entries = c2.read_entries()
    assert len({e.id for e in entries}) == len(entries) >= 20
    total_s = sum(e.end_s - e.start_s for e in entries)
    assert 60 <= total_s <= 300, total_s  # "a few minutes"
    for e in entries:
        assert e.file.endswith((".raw", ".wav")) and e.file not in doc["skipped"], e
        if e.file.endswith(".raw"):
            assert e.sample_rate_hz in (8000, 16000), e
        assert 0 <= e.start_s < e.end_s and e.end_s - e.start_s <= 12, e
        known, unknown = words_in_dictionary(e.text)
        assert known and not unknown, (e.id, unknown)  # the aligner would drop an unknown word
    for raw in doc["utterances"]:
        assert raw["whisper"], raw["id"]  # what Whisper heard is kept beside every transcript


def _write_set(folder, entries):
    path = folder / "set.yaml"
    path.write_text(yaml.safe_dump({"package": c2.PACKAGE, "utterances": entries}))
    return path


def test_loader_cuts_utterances_at_their_samples(tmp_path):
    """An 8 kHz raw file whose samples count up: each utterance starts where its ``start_s`` says,
    at 16 kHz, and the file is read once for both."""
    (tmp_path / "raw").mkdir()
    ramp = (np.arange(8000 * 3) % 30000).astype("<i2")  # 3 s at 8 kHz, value = sample index
    ramp.tofile(tmp_path / "raw" / "ramp.raw")
    path = _write_set(tmp_path, [
        {"id": "a", "file": "raw/ramp.raw", "sample_rate_hz": 8000, "start_s": 0.5, "end_s": 1.0, "text": "one"},
        {"id": "b", "file": "raw/ramp.raw", "sample_rate_hz": 8000, "start_s": 2.0, "end_s": 2.75, "text": "two"},
    ])
    a, b = c2.codec2_set(path, tmp_path)
    assert (a.name, b.name, a.text) == ("codec2/a", "codec2/b", "one")
    assert len(a.audio.samples) == SAMPLE_RATE_HZ // 2 and len(b.audio.samples) == SAMPLE_RATE_HZ * 3 // 4
    # 16 kHz sample k of the whole file sits at 8 kHz sample k / 2: value (k / 2) / 32768
    for utt, start_s in ((a, 0.5), (b, 2.0)):
        middle = len(utt.audio.samples) // 2
        expected = (start_s * 8000 + middle / 2) / 32768
        assert utt.audio.samples[middle] == pytest.approx(expected, rel=1e-3), utt.name  # the filter's gain: 1 +- 5e-4


def test_missing_package_is_one_clear_line(tmp_path):
    path = _write_set(tmp_path, [{"id": "a", "file": "raw/gone.raw", "sample_rate_hz": 8000, "start_s": 0,
                                  "end_s": 1, "text": "one"}])
    with pytest.raises(EvalDataError, match=r"install Debian's codec2-examples \(apt-get install codec2-examples\)"):
        c2.codec2_set(path, tmp_path)


def test_installed_recordings_match_the_transcripts():
    if not c2.CODEC2_FOLDER.is_dir():
        pytest.skip("Debian's codec2-examples is not installed (make setup installs it as root)")
    entries = c2.read_entries()
    utts = c2.codec2_set()
    assert len(utts) == len(entries)
    for e, utt in zip(entries, utts):
        assert utt.audio.duration_s == pytest.approx(e.end_s - e.start_s, abs=1e-3), e.id
        assert np.abs(utt.audio.samples).max() > 0.05, e.id  # speech, not the silence past a file's end
