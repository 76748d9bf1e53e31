"""Many recordings into takes at once (``animate a.wav b.wav dir/ -o takes``): one process per core,
each with one torch and one BLAS thread (``threads.py``), the animator built once per process.

    inputs --expand_inputs--> recordings --by slate--> tasks --worker processes (offline.animate_file)-->
        takes, or (recording, one-line reason) for each that failed; the others go on

Recordings that would share a slate (``a/x.wav``, ``b/x.wav``) go to the same task, one after the
other, so their take numbers never race. The progress bar counts the stages of every recording
(phones, idle layer, retarget, writing, done): it moves while a long file is being animated.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import soundfile as sf
from tqdm import tqdm

from .errors import PmmtalkError


@dataclass
class Animated:
    """One recording's take: where it went, its length and what drove the mouth."""

    source: Path
    take_path: Path
    num_frames: int
    duration_s: float
    driven_by: str


@dataclass
class BatchResult:
    done: list[Animated] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    """(recording, why) for each recording that gave no take."""


def audio_extensions() -> frozenset[str]:
    """File name endings libsndfile reads (wav, flac, ogg, mp3, aiff, ...), lower case, no dot."""
    return frozenset(ext.lower() for ext in sf.available_formats()) | {"aif", "opus"}


def expand_inputs(inputs: list[str | os.PathLike]) -> list[Path]:
    """Files as given (any name: a bad one fails on its own); a folder: its audio files, sorted.
    Raises PmmtalkError when a folder holds none."""
    recordings: list[Path] = []
    extensions = audio_extensions()
    for given in map(Path, inputs):
        if given.is_dir():
            found = sorted(p for p in given.iterdir() if p.is_file() and p.suffix.lower().lstrip(".") in extensions)
            if not found:
                raise PmmtalkError(f"{given}: no audio files in this folder ({', '.join(sorted(extensions))})")
            recordings += found
        else:
            recordings.append(given)
    return list(dict.fromkeys(recordings))  # a file named twice is animated once


def animate_many(recordings: list[Path], out_dir: str | os.PathLike, *, jobs: int | None = None,
                 show_progress: bool = True, **options) -> BatchResult:
    """Each recording into a take in ``out_dir`` (``options``: ``offline.animate_file``'s), ``jobs``
    processes at a time (default: every core, at most one per task)."""
    from .offline import STAGES, slate_from

    tasks: dict[str, list[Path]] = {}
    for path in recordings:
        tasks.setdefault(slate_from(path), []).append(path)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    result = BatchResult()
    context = multiprocessing.get_context("spawn")  # a clean process: no torch thread pools forked
    progress = context.Manager().Queue()
    with tqdm(total=STAGES * len(recordings), desc="animate", unit="step", disable=not show_progress) as bar, \
            ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                                initargs=(_log_formatter(),)) as pool:
        pending = {pool.submit(_animate_task, paths, str(out_dir), options, progress) for paths in tasks.values()}
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(progress, bar)
            for future in finished:
                done, failed = future.result()
                result.done += done
                result.failed += failed
        _drain(progress, bar)
    order = {path: i for i, path in enumerate(recordings)}
    result.done.sort(key=lambda a: order[a.source])
    result.failed.sort(key=lambda f: order[f[0]])
    return result


def _drain(progress, bar: tqdm) -> None:
    while True:
        try:
            steps, name = progress.get_nowait()
        except Empty:
            return
        bar.update(steps)
        bar.set_postfix_str(name)


def _log_formatter() -> logging.Formatter | None:
    """How this process shows the package's log lines (the CLI's), for the workers to do the same."""
    handlers = logging.getLogger("pmmtalk_live").handlers
    return handlers[0].formatter if handlers else None


def _start_worker(formatter: logging.Formatter | None) -> None:
    from .threads import use_one_thread

    use_one_thread()  # the cores are shared out between processes, not threads
    if formatter is not None:  # warnings (a truncated file) look as they do in one process
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        root = logging.getLogger("pmmtalk_live")
        root.handlers[:] = [handler]
        root.propagate = False


_animators: dict[tuple, object] = {}
"""Per worker process: the animator built for (name, ckpt, compute), loaded once."""


def _animate_task(paths: list[Path], out_dir: str, options: dict, progress) -> tuple[list, list]:
    from .animators import DEFAULT_ANIMATOR, make_animator
    from .offline import STAGES, animate_file

    done, failed = [], []
    for path in paths:
        left = STAGES
        try:
            key = (options.get("animator", DEFAULT_ANIMATOR), options.get("ckpt"), options.get("compute", "cpu"))
            if key not in _animators:
                _animators[key] = make_animator(*key)
            run = dict(options, animator=_animators[key])

            def on_stage(stage: str, path=path) -> None:
                nonlocal left
                left -= 1
                progress.put((1, f"{path.name}: {stage}"))

            animated = animate_file(path, out_dir, show_progress=False, on_stage=on_stage, **run)
            done.append(Animated(path, animated.take_path, animated.curves.num_frames, animated.audio.duration_s,
                                 animated.driven_by))
        except PmmtalkError as error:
            failed.append((path, str(error)))
        except Exception as error:  # one bad recording must not end the batch
            failed.append((path, f"{type(error).__name__}: {error}"))
        if left > 0:
            progress.put((left, path.name))
    return done, failed
