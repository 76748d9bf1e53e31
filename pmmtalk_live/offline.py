"""Offline animation of a recording: the same stages as the live daemon, run over a whole file.

    read_audio --Audio--> animator --CurveTrack(32 coeffs)--> + FaceLayers --CurveTrack(61 source)-->
        preset.apply --CurveTrack(output curves)--> CSV take (+ the audio beside it)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import rig
from .animators import DEFAULT_ANIMATOR, DEFAULT_COMPUTE, DEFAULT_FPS, DEFAULT_LOOKAHEAD_MS, Animator, make_animator
from .animators.emotion import NEUTRAL, Emotion
from .animators.expression import EXPRESSION_OFF, FaceLayers
from .animators.idle import IDLE_OFF
from .audio.files import read_audio
from .audio.loudness import loudness_envelope
from .errors import AlignmentError, TakeError
from .retarget import TAKE_PRESET
from .retarget.preset import Preset, load_preset
from .sinks import DEFAULT_SUBJECT
from .sinks.csv_take import write_take
from .prosody import prosody_track
from .tracks import SAMPLE_RATE_HZ, Audio, CurveTrack
STAGES = 5
"""Progress steps of ``animate_file``: phones, expression (idle layer, prosody, emotion), retarget,
writing the take, done."""

log = logging.getLogger(__name__)


@dataclass
class AnimateResult:
    take_path: Path
    audio: Audio
    coeffs: CurveTrack
    """The animator's 32 coefficients."""
    curves: CurveTrack
    """The preset's output curves, as written to the take."""
    driven_by: str = ""
    """What the mouth came from, for the user: the transcript, phone recognition or the audio alone."""


def animate_audio(audio: Audio, *, fps: float, text: str | None = None, animator: str | Animator = DEFAULT_ANIMATOR,
                  ckpt: str | None = None, preset: Preset, idle: bool = True, seed: int = 0,
                  emotion: Emotion = NEUTRAL, on_stage: Callable[[str], None] | None = None,
                  ) -> tuple[CurveTrack, CurveTrack]:
    """(32 coefficients, the preset's output curves) for a whole recording at ``fps``.

    ``animator``: a name (with ``ckpt`` for ``pmmtalk``) or an animator already built; ``on_stage``
    is called with each later stage's name as it starts. The face above the animator (idle layer,
    expression layer from the prosody, ``emotion``) is the live engine's, frame by frame (``FaceLayers``)."""
    if isinstance(animator, str):
        animator = make_animator(animator, ckpt)
    coeffs = animator.animate(audio, fps, text)
    if coeffs.names != rig.MODEL_CHANNELS:
        raise ValueError(f"{animator.name}: coefficients must be rig.MODEL_CHANNELS in order, "
                         f"got {coeffs.names[:3]}...")
    _tell(on_stage, "expression")
    settings = (preset.idle, preset.expression) if idle else (IDLE_OFF, EXPRESSION_OFF)
    # speaking livens the idle layer: blinks come faster, the head moves more
    activity = loudness_envelope(audio.samples, audio.sample_rate_hz, fps, coeffs.num_frames)
    if audio.sample_rate_hz != SAMPLE_RATE_HZ:
        raise ValueError(f"audio at {audio.sample_rate_hz} Hz; read_audio gives {SAMPLE_RATE_HZ} Hz")
    prosody = prosody_track(audio.samples, fps, DEFAULT_LOOKAHEAD_MS / 1000.0)
    layers = FaceLayers(fps, *settings, seed=seed, emotion=emotion)
    source = np.zeros((coeffs.num_frames, len(rig.SOURCE_CHANNELS)), np.float32)
    for k in range(coeffs.num_frames):
        frame_prosody = prosody if k < prosody.f0_hz.shape[0] else None
        layers.frame(coeffs.values[k], float(activity[k]), frame_prosody, k, out=source[k])
    _tell(on_stage, "retarget")
    return coeffs, preset.apply(CurveTrack(rig.SOURCE_CHANNELS, source, fps))


def animate_file(path: str | Path, out_dir: str | Path, *, fps: float = DEFAULT_FPS, text: str | None = None,
                 animator: str | Animator = DEFAULT_ANIMATOR, ckpt: str | None = None, preset: str | Path = TAKE_PRESET,
                 idle: bool = True, seed: int = 0, slate: str | None = None, take: int | None = None,
                 subject: str = DEFAULT_SUBJECT, show_progress: bool = True, compute: str = DEFAULT_COMPUTE,
                 emotion: Emotion = NEUTRAL, on_stage: Callable[[str], None] | None = None) -> AnimateResult:
    """Animate one recording into a Live Link Face take in ``out_dir``; returns where it went.

    ``animator``: a name (with ``ckpt``, ``compute``) or one already built; ``on_stage``: called as
    each of the ``STAGES`` steps after reading ends (``batch`` counts them)."""
    path = Path(path)
    check_takes_folder(Path(out_dir))
    loaded_preset = load_preset(preset)  # a bad preset or model fails before any slow work
    built = make_animator(animator, ckpt, compute) if isinstance(animator, str) else animator
    with tqdm(total=STAGES, desc="animate", unit="step", disable=not show_progress, leave=False) as bar:
        def stage(name: str) -> None:
            bar.update(1)
            bar.set_postfix_str(name)
            _tell(on_stage, name)

        bar.set_postfix_str("reading audio")
        audio = read_audio(path)
        stage("phones" + (" (forced alignment)" if text else " (recognition)"))
        try:
            coeffs, curves = animate_audio(audio, fps=fps, text=text, animator=built,
                                           preset=loaded_preset, idle=idle, seed=seed, emotion=emotion,
                                           on_stage=stage)
        except AlignmentError as error:  # a transcript that cannot be aligned: the recording still can be
            log.warning(f"{path}: {error}; animated without the transcript, from "
                        f"{_driven_by(built, None)}")
            text = None
            coeffs, curves = animate_audio(audio, fps=fps, animator=built, preset=loaded_preset, idle=idle,
                                           seed=seed, emotion=emotion, on_stage=stage)
        stage("writing take")
        take_path = write_take(Path(out_dir), curves, audio, slate=slate or slate_from(path),
                               take=take, subject=subject, timecode="take")
        stage("done")
    return AnimateResult(take_path, audio, coeffs, curves, _driven_by(built, text))


def check_takes_folder(out_dir: Path) -> None:
    """Fail before any slow work when ``out_dir`` cannot hold takes: it, or a folder it would go
    in, is a file, or cannot be written. The folder itself is made when the first take is written."""
    for folder in (out_dir, *out_dir.parents):
        if not folder.exists():
            continue
        if not folder.is_dir():
            where = "is a file" if folder == out_dir else f"is inside {folder}, a file"
            raise TakeError(f"{out_dir}: {where}, not a folder; -o names the folder the takes go in")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise TakeError(f"{out_dir}: no permission to write in {folder}")
        return


def _driven_by(animator: Animator, text: str | None) -> str:
    if not getattr(animator, "reads_text", True):
        return ("the audio alone (this model has no text branch: the transcript was not used; "
                "--animator phonetic animates from it)" if text else "the audio alone (the model's speech encoder)")
    return "the transcript (forced alignment)" if text else "phones recognised in the audio"


def _tell(on_stage: Callable[[str], None] | None, stage: str) -> None:
    if on_stage is not None:
        on_stage(stage)


def slate_from(path: Path) -> str:
    """A slate name from the recording's file name (letters, digits, '-' only)."""
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in path.stem).strip("-")
    return name or "take"

