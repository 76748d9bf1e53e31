"""The command line: parses arguments and calls the stages; every user-facing failure is one line."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

from . import __version__
from .errors import ConfigError, PmmtalkError


def _text(args: argparse.Namespace) -> str | None:
    if args.text_file:
        try:
            return Path(args.text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise PmmtalkError(f"cannot read transcript {args.text_file}: {err}") from None
    return args.text


def _emotion(text: str):
    from .animators.emotion import parse_emotion

    try:
        return parse_emotion(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _compute(text: str) -> str:
    from .config import COMPUTE_PATTERN

    if not COMPUTE_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")
    return text


def cmd_animate(args: argparse.Namespace) -> int:
    from .offline import animate_file

    _log_to_stderr(verbose=False)  # warnings: a truncated file, a transcript that cannot be aligned
    if len(args.input) > 1 or Path(args.input[0]).is_dir():
        return _animate_many(args)
    result = animate_file(args.input[0], args.output, fps=args.fps, text=_text(args), preset=args.preset,
                          animator=args.animator, ckpt=args.ckpt,
                          idle=not args.no_idle, seed=args.seed, slate=args.slate, take=args.take,
                          subject=args.subject, show_progress=not args.quiet, compute=args.compute,
                          emotion=args.emotion)
    print(f"take: {result.take_path}")
    print(f"  {result.curves.num_frames} frames at {args.fps:g} fps ({result.audio.duration_s:.2f} s), "
          f"preset {args.preset}, mouth from {result.driven_by}")
    return 0


def _animate_many(args: argparse.Namespace) -> int:
    from .batch import animate_many, expand_inputs
    from .offline import check_takes_folder

    for option, value in (("--take", args.take), ("--slate", args.slate), ("--text", args.text),
                          ("--text-file", args.text_file)):
        if value is not None:
            raise PmmtalkError(f"{option} is for one recording; with several, each take is named from its file")
    check_takes_folder(Path(args.output))
    recordings = expand_inputs(args.input)
    result = animate_many(recordings, args.output, jobs=args.jobs, show_progress=not args.quiet, fps=args.fps,
                          preset=args.preset, animator=args.animator, ckpt=args.ckpt, idle=not args.no_idle,
                          seed=args.seed, subject=args.subject, compute=args.compute, emotion=args.emotion)
    for done in result.done:
        print(f"take: {done.take_path} ({done.source}: {done.num_frames} frames, {done.duration_s:.2f} s, "
              f"mouth from {done.driven_by})")
    print(f"animated {len(result.done)} of {len(recordings)} recordings into {args.output}")
    for source, reason in result.failed:
        print(f"pmmtalk-live: failed: {source}: {reason.removeprefix(f'{source}: ')}", file=sys.stderr)
    return 2 if result.failed else 0


def cmd_plot(args: argparse.Namespace) -> int:
    from .plot import plot_take

    plot_take(args.take, args.output)
    print(f"plot: {args.output}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from .retarget.preset import check_preset, describe_preset, list_presets, load_preset

    if args.action == "list":
        for info in list_presets():
            print(f"{info.name:<14} {info.description}  ({info.path})")
    elif args.action == "show":
        print(describe_preset(load_preset(args.name)))
    else:
        failed = 0
        for path in args.files:
            try:
                preset = check_preset(path)
            except PmmtalkError as err:
                print(f"pmmtalk-live: error: {err}", file=sys.stderr)
                failed += 1
            else:
                print(f"{path}: ok ({len(preset.output_names)} curves)")
        return 2 if failed else 0
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from .audio.sources import format_devices, list_input_devices
    from .errors import AudioInputError

    listing = format_devices()
    if not list_input_devices():
        raise AudioInputError(listing)  # a script asking for a microphone learns there is none
    print(listing)
    return 0


_SERVE_OPTIONS = ("input", "device", "fast", "loop", "raw_rate", "raw_channels", "raw_format", "preset",
                  "animator", "ckpt", "compute", "fps", "lookahead_ms", "hop_ms", "max_backlog_ms", "subject", "osc", "livelink",
                  "record", "takes_dir", "slate", "control", "studio", "idle", "emotion", "seed", "quiet")


def cmd_serve(args: argparse.Namespace) -> int:
    from .config import load_config
    from .serve import ServeSession

    overrides = {name: getattr(args, name) for name in _SERVE_OPTIONS}
    if args.no_osc:
        overrides["osc"] = False
    if args.no_livelink:
        overrides["livelink"] = False
    config = load_config(args.config, overrides)
    _log_to_stderr(verbose=args.verbose)
    if args.characters:
        return _serve_characters(args.characters, config)
    stop = threading.Event()
    session = ServeSession(config, status_stream=sys.stderr)
    try:
        _say_if_lookahead_raised(config.lookahead_ms, session.engine.animator)
        for line in session.describe():
            print(line, file=sys.stderr)
        print("serving; Ctrl-C stops" + (" and closes the take" if config.record else ""), file=sys.stderr)
        _stop_on_signals(stop)
        summary = session.run(stop)
    finally:
        session.close()
    if summary.audio_s == 0:
        raise PmmtalkError(f"no audio came from the input ({session.source.description}): it ended at once, "
                           "empty; nothing was animated")
    print(f"served {summary.audio_s:.1f} s: {summary.frames_sent} frames sent, {summary.frames_dropped} dropped, "
          f"latency p50 {summary.latency_p50_ms:.0f} ms p95 {summary.latency_p95_ms:.0f} ms, "
          f"real-time factor {summary.real_time_factor:.2f}", file=sys.stderr)
    for take in session.finished_takes:
        print(f"take: {take.csv_path} ({take.rows} frames{', INCOMPLETE' if take.error else ''})")
    for take in session.failed_takes:
        print(f"pmmtalk-live: error: take {take.csv_path} stopped after {take.rows} frames, valid up to "
              f"there: {take.error}", file=sys.stderr)
    return 1 if session.failed_takes else 0


def cmd_studio(args: argparse.Namespace) -> int:
    from .config import parse_studio
    from .studio import StudioServer
    from .studio.takes import take_file

    _log_to_stderr(verbose=args.verbose)
    where = parse_studio(args.address, "--address")
    path = Path(args.take)
    if path.is_dir():
        folder, name = path, None
    else:
        folder, name = path.parent, take_file(path.parent, path.name, ".csv").name  # TakeError: one line
    server = StudioServer(where.host, where.port, takes_folder=folder, open_take=name)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server.start()
        print(f"studio: open {server.url} in a browser ({'take ' + name if name else 'takes in ' + str(folder)}); "
              "Ctrl-C stops", file=sys.stderr)
        stop.wait()
    finally:
        server.close()
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    def on_signal(signum, _frame):
        stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second Ctrl-C ends at once

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if hasattr(signal, "SIGXFSZ"):  # the file size limit: a failed write the take survives, not a crash
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _serve_characters(path: str, config) -> int:
    """``serve --characters FILE``: several characters, one model, one control port (characters.py).
    Exit 1 when a character's input failed (the others served to the end)."""
    from .characters import Cast, load_characters

    if config.studio is not None:
        raise ConfigError("--studio shows one character; it cannot be used with --characters")
    cast = Cast(load_characters(path, config), control=config.control)
    stop = threading.Event()
    try:
        _say_if_lookahead_raised(config.lookahead_ms, cast.sessions[0].engine.animator)
        for line in cast.describe():
            print(line, file=sys.stderr)
        print("serving; Ctrl-C stops and closes the takes", file=sys.stderr)
        _stop_on_signals(stop)
        summaries = cast.run(stop)
    finally:
        cast.close()
    for session in cast.sessions:
        summary = summaries.get(session.subject)
        if summary is not None:
            print(f"{session.subject}: served {summary.audio_s:.1f} s: {summary.frames_sent} frames sent, "
                  f"{summary.frames_dropped} dropped, real-time factor {summary.real_time_factor:.2f}", file=sys.stderr)
        for take in session.finished_takes:
            print(f"take: {take.csv_path} ({take.rows} frames{', INCOMPLETE' if take.error else ''})")
    for subject, error in cast.failed.items():
        print(f"pmmtalk-live: error: character {subject}: {error}", file=sys.stderr)
    return 1 if cast.failed else 0


def _say_if_lookahead_raised(asked_ms: float, animator) -> None:
    """The PMMTalk animator cannot finish a frame sooner than its model allows: a smaller look-ahead
    is raised to that minimum, and the user should know (one line)."""
    used_ms = animator.lookahead_s * 1000.0
    if used_ms > asked_ms + 1e-6:
        print(f"pmmtalk-live: warning: look-ahead {asked_ms:g} ms is below the {animator.name} animator's "
              f"minimum of {used_ms:.4g} ms; using {used_ms:.4g} ms", file=sys.stderr)


def cmd_train(args: argparse.Namespace) -> int:
    from .model.compute import torch_device
    from .train.features import prepare_features
    from .train.trainer import process_compute, read_config_for_run, train

    # this process's GPU (under torchrun: its local rank's), there or not: said now, not after the features
    feature_compute = process_compute(args.compute)
    torch_device(feature_compute)
    model_config = read_config_for_run(args.config, args.out)
    if model_config.visual:
        from .model.encoders.visual import visual_branch_status

        print(visual_branch_status(model_config), file=sys.stderr)
    features = prepare_features(model_config, args.data, jobs=args.jobs, show_progress=not args.quiet,
                                compute=feature_compute)
    result = train(args.data, args.config, args.out, features=features, show_progress=not args.quiet,
                   steps=args.steps, compute=args.compute)
    if result.get("rank", 0) == 0:
        figures = ", ".join(f"{k} {v:.4f}" for k, v in result.items()
                            if isinstance(v, float) and k not in ("checksum",))
        print(f"run: {args.out} (step {result['step']}: {figures})")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation.run_report import evaluate_run, format_results, read_mesh_basis
    from .model.inference import checkpoint_folder

    basis, lip_vertices = read_mesh_basis(args.basis) if args.basis else (None, None)
    ckpt = checkpoint_folder(args.ckpt)
    packaged = ckpt != Path(args.ckpt)  # inside the installed package: its report goes here instead
    out = args.out or str(Path(f"eval-{args.ckpt}-{Path(args.data).name}") if packaged
                          else ckpt / f"eval-{Path(args.data).name}")
    results = evaluate_run(args.data, ckpt, out, split_name=args.split, basis=basis,
                           lip_vertices=lip_vertices, show_progress=not args.quiet, compute=args.compute)
    print(format_results(results))
    print(f"written: {out}/metrics.json, {out}/plots.png")
    return 0


def cmd_dataset(args: argparse.Namespace) -> int:
    from .dataset import DATASET_FILE, DatasetError, create_dataset, importers

    for path in (args.takes, args.csv, args.json, args.audio):
        if path and not Path(path).exists():
            raise DatasetError(f"{path}: no such file or folder")
    if args.takes and Path(args.takes).is_dir() and not any(Path(args.takes).rglob("*_raw.csv")):
        raise DatasetError(f"{args.takes}: no Live Link Face takes in it (<Slate>_<Take>_<Subject>_raw.csv)")
    out = Path(args.out)
    made = next((p for p in (out, out / DATASET_FILE) if not p.exists()), None)  # what this run creates
    create_dataset(out, fps=args.fps)
    try:
        if args.takes:
            summary = importers.import_live_link_face_takes(args.takes, out, subject=args.subject)
        elif args.csv:
            summary = importers.import_arkit_csv(args.csv, args.audio, out, args.subject or "actor")
        else:
            summary = importers.import_arkit_json(args.json, args.audio, out, args.subject or "actor")
        print(summary)
        if not summary.imported:
            raise DatasetError(f"nothing imported into {out}" + (" (the reasons are above)" if summary.skipped else ""))
    except BaseException:
        if made is not None:  # no empty dataset is left behind
            shutil.rmtree(made) if made.is_dir() else made.unlink()
        raise
    return 0


def cmd_corpus(args: argparse.Namespace) -> int:
    from .corpus import build_corpus

    _log_to_stderr(verbose=False)
    summary = build_corpus(args.out, args.hours, jobs=args.jobs, seed=args.seed, languages=args.languages,
                           show_progress=not args.quiet)
    print(summary)
    return 0


class _StatusAwareHandler(logging.StreamHandler):
    """Log lines on stderr that do not collide with the status line redrawn there."""

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream.isatty():
            self.stream.write("\r\033[K")
        super().emit(record)


def _log_to_stderr(verbose: bool) -> None:
    handler = _StatusAwareHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pmmtalk-live: %(levelname)s: %(message)s"))
    root = logging.getLogger("pmmtalk_live")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def build_parser() -> argparse.ArgumentParser:
    from .animators import ANIMATORS, DEFAULT_ANIMATOR, DEFAULT_COMPUTE, DEFAULT_FPS, DEFAULT_LOOKAHEAD_MS, FPS_CHOICES
    from .animators.emotion import DEFAULT_INTENSITY, EMOTIONS, NEUTRAL
    from .audio import DEFAULT_RAW_CHANNELS, DEFAULT_RAW_FORMAT, DEFAULT_RAW_RATE_HZ, RAW_FORMAT_NAMES
    from .control import DEFAULT_PORT as DEFAULT_CONTROL_PORT
    from .studio import DEFAULT_HOST as STUDIO_HOST
    from .studio import DEFAULT_PORT as DEFAULT_STUDIO_PORT
    from .retarget import LIVE_PRESET, TAKE_PRESET
    from .sinks import DEFAULT_LIVELINK_PORT, DEFAULT_OSC_PORT, DEFAULT_SLATE, DEFAULT_SUBJECT
    from .stream import DEFAULT_HOP_MS, DEFAULT_MAX_BACKLOG_MS, HOP_MS_RANGE

    parser = argparse.ArgumentParser(
        prog="pmmtalk-live",
        description="Drive an ARKit-rigged face (MetaHuman, VRM) from speech: animate recordings "
                    "into Live Link Face takes, tune retarget presets.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("animate", help="animate recordings into Live Link Face CSV takes",
                       description="Animate a recording (WAV/FLAC/OGG, any rate and channels) into a "
                                   "Live Link Face CSV take, with the audio written beside it. Several "
                                   "recordings or folders are animated in parallel; those that fail are "
                                   "listed and the others go on.")
    p.add_argument("input", metavar="IN", nargs="+", help="recordings, or folders of them")
    p.add_argument("-o", "--output", metavar="DIR", default="takes", help="takes folder (default: takes)")
    text = p.add_mutually_exclusive_group()
    text.add_argument("--text", help="transcript: phones from forced alignment (more accurate)")
    text.add_argument("--text-file", metavar="FILE", help="transcript read from a UTF-8 file")
    p.add_argument("--preset", default=TAKE_PRESET,
                   help=f"retarget preset name or YAML file (default: {TAKE_PRESET}; {LIVE_PRESET} for MetaHumans)")
    p.add_argument("--fps", type=int, choices=FPS_CHOICES, default=DEFAULT_FPS,
                   help=f"frame rate (default: {DEFAULT_FPS})")
    p.add_argument("--animator", choices=ANIMATORS, default=DEFAULT_ANIMATOR,
                   help="pmmtalk (the trained model, default) or phonetic (phones -> visemes)")
    p.add_argument("--ckpt", metavar="RUN", help="pmmtalk: a trained run folder or a packaged model name "
                   "(default: the shipped model)")
    p.add_argument("--compute", default=DEFAULT_COMPUTE, type=_compute, metavar="cpu|cuda[:N]",
                   help=f"pmmtalk: where the pretrained networks run (default: {DEFAULT_COMPUTE}; cuda: the speech "
                        "encoder, the Whisper recogniser and Wav2Lip on the GPU, in float16)")
    p.add_argument("--slate", help="slate name (default: from the input file name)")
    p.add_argument("--take", type=int, help="take number (default: the next free one)")
    p.add_argument("--subject", default=DEFAULT_SUBJECT, help=f"subject name in the file name (default: {DEFAULT_SUBJECT})")
    p.add_argument("--seed", type=int, default=0, help="idle layer seed (blinks, gaze, head)")
    p.add_argument("--no-idle", action="store_true", help="no blinks, gaze, head motion or expression")
    p.add_argument("--emotion", type=_emotion, default=NEUTRAL, metavar="NAME[:INTENSITY]",
                   help=f"the face's mood: {', '.join(EMOTIONS)}; intensity 0..1 (default "
                        f"{DEFAULT_INTENSITY:g}); docs/expression.md")
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="several recordings: processes at a time "
                   "(default: every core)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_animate)

    p = sub.add_parser("plot", help="plot a take: waveform and curve groups over time",
                       description="Plot a Live Link Face CSV take (the WAV beside it, if any, on top).")
    p.add_argument("take", metavar="TAKE.csv")
    p.add_argument("-o", "--output", metavar="PNG", required=True, help="image to write")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("presets", help="list, show or check retarget presets",
                       description="Retarget presets map the animation channels to your rig's curves.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the presets found and where")
    show = actions.add_parser("show", help="a preset's curves, mixes, filters and idle settings")
    show.add_argument("name", help="preset name or YAML file")
    check = actions.add_parser("check", help="validate preset files (file, line and key of each error)")
    check.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("train", help="train a PMMTalk model on a dataset (resumable; torchrun for several GPUs)",
                       description="Train PMMTalk. Runs again on the same --out folder resume. Several "
                                   "processes: torchrun --nproc-per-node N -m pmmtalk_live.cli train ...")
    p.add_argument("--data", required=True, nargs="+", metavar="DIR",
                   help="dataset folder(s) (docs/dataset.md); a synthetic corpus holds out its validation voices")
    p.add_argument("--config", metavar="CFG.yaml", help="model: and train: settings (docs/model.md)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="processes computing the pseudo-text/visual features before training (default: every core)")
    p.add_argument("--out", required=True, metavar="RUN", help="run folder: checkpoints, config, progress")
    p.add_argument("--steps", type=int, help="stop at this step (the run's plan stays; run again to go on)")
    p.add_argument("--compute", default=DEFAULT_COMPUTE, type=_compute, metavar="cpu|cuda[:N]",
                   help=f"where the model trains and its features are made (default: {DEFAULT_COMPUTE}; under "
                        "torchrun, cuda gives each process its local rank's GPU)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="evaluate a trained run on a dataset: lip error, closures, jitter, lag")
    p.add_argument("--data", required=True, metavar="DIR")
    p.add_argument("--ckpt", required=True, metavar="RUN", help="run folder (config.yaml + model.safetensors) "
                   "or a packaged model name (default, ...)")
    p.add_argument("--out", metavar="DIR", help="where metrics.json and plots.png go (default: RUN/eval-<data>; "
                   "for a packaged model eval-<name>-<data>)")
    p.add_argument("--split", choices=("all", "val", "train"), default="all", help="utterances to use")
    p.add_argument("--basis", metavar="MESH.npz", help="blendshape basis (32, V, 3) + lip_vertices: vertex error")
    p.add_argument("--compute", default=DEFAULT_COMPUTE, type=_compute, metavar="cpu|cuda[:N]",
                   help=f"where the model runs (default: {DEFAULT_COMPUTE})")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("dataset", help="import Live Link Face takes or ARKit CSV/JSON into a training dataset")
    p.add_argument("--out", required=True, metavar="DIR", help="dataset folder (created if needed)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--takes", metavar="PATH", help="Live Link Face takes (a folder or a _raw.csv) with WAVs")
    source.add_argument("--csv", metavar="FILE", help="an ARKit blendshape CSV (needs --audio)")
    source.add_argument("--json", metavar="FILE", help="an ARKit blendshape JSON (needs --audio)")
    p.add_argument("--audio", metavar="FILE", help="the recording of a --csv or --json file")
    p.add_argument("--subject", help="speaker id (default: from the take's file name)")
    p.add_argument("--fps", type=int, default=60, help="the dataset's coefficient rate when it is created")
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("corpus", help="build the synthetic training corpus (docs/corpus.md)",
                       description="Synthetic speech with exact phone timings (flite, festival, espeak-ng), "
                                   "labelled by the phonetic animator, augmented like real microphones.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="build, resume or extend a corpus (a dataset folder at 30 fps)")
    build.add_argument("--hours", type=float, required=True, help="audio to reach, in hours (more extends it)")
    build.add_argument("--out", required=True, metavar="DIR", help="corpus folder (created if needed)")
    build.add_argument("--jobs", type=int, metavar="N", help="processes (default: every core)")
    build.add_argument("--seed", type=int, default=0, help="decides every utterance (default: 0)")
    build.add_argument("--languages", nargs="+", metavar="LANG", help="of en cmn de es (default: all)")
    build.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_corpus)

    p = sub.add_parser("devices", help="list the audio input devices (microphones) and their sample rates")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser(
        "serve", help="drive a character live: microphone (or file, stdin) to Unreal, recording takes",
        description="Animate live speech and stream it to Unreal: OSC to the bundled plugin and Live Link "
                    "Face packets to stock Unreal (default: both on 127.0.0.1), recording takes on request. "
                    "Settings come from --config (YAML, same names with _) and then the options.")
    p.add_argument("--config", metavar="FILE", help="YAML file with any of the settings below")
    p.add_argument("--characters", metavar="FILE", help="several characters in one daemon: YAML list of "
                   "characters (subject, input, preset, sinks, ...), the other settings their defaults "
                   "(docs/serve.md)")
    src = p.add_argument_group("input")
    src.add_argument("--input", metavar="mic|FILE|-", help="the microphone (default), an audio file, or - for raw "
                     "PCM on stdin")
    src.add_argument("--device", metavar="X", help="microphone by index or name (see `pmmtalk-live devices`)")
    src.add_argument("--fast", action="store_const", const=True, help="files: as fast as possible, not at real-time pace")
    src.add_argument("--loop", action="store_const", const=True, help="files: start again at the end")
    src.add_argument("--raw-rate", type=int, metavar="HZ",
                     help=f"stdin: sample rate (default {DEFAULT_RAW_RATE_HZ})")
    src.add_argument("--raw-channels", type=int, metavar="N", help=f"stdin: channels (default {DEFAULT_RAW_CHANNELS})")
    src.add_argument("--raw-format", choices=RAW_FORMAT_NAMES,
                     help=f"stdin: sample format (default {DEFAULT_RAW_FORMAT})")
    anim = p.add_argument_group("animation")
    anim.add_argument("--preset", help=f"retarget preset name or YAML file (default: {LIVE_PRESET}); reloads on change")
    anim.add_argument("--animator", choices=ANIMATORS,
                      help="pmmtalk (the trained model, default) or phonetic (phones -> visemes)")
    anim.add_argument("--ckpt", metavar="RUN", help="pmmtalk: a trained run folder or a packaged model name "
                      "(default: the shipped model)")
    anim.add_argument("--compute", type=_compute, metavar="cpu|cuda[:N]",
                      help=f"pmmtalk: where the pretrained networks run (default: {DEFAULT_COMPUTE}; cuda: the "
                           "speech encoder, the Whisper recogniser and Wav2Lip on the GPU, in float16)")
    anim.add_argument("--fps", type=int, choices=FPS_CHOICES, help=f"output frame rate (default: {DEFAULT_FPS})")
    anim.add_argument("--lookahead-ms", type=float, metavar="MS", help="audio after a frame it waits for "
                      f"(default: {DEFAULT_LOOKAHEAD_MS:g}; less = lower latency, less anticipation)")
    anim.add_argument("--hop-ms", type=float, metavar="MS", help=f"analysis hop, {HOP_MS_RANGE[0]:g} to "
                      f"{HOP_MS_RANGE[1]:g} ms (default: {DEFAULT_HOP_MS:g})")
    anim.add_argument("--max-backlog-ms", type=float, metavar="MS", help="audio older than this when its turn "
                      f"comes is skipped and counted (default: {DEFAULT_MAX_BACKLOG_MS:g})")
    anim.add_argument("--no-idle", dest="idle", action="store_const", const=False,
                      help="no blinks, gaze, head motion or expression")
    anim.add_argument("--emotion", metavar="NAME[:INTENSITY]",
                      help=f"the face's mood at the start: {', '.join(EMOTIONS)}; intensity 0..1 (default "
                           f"{DEFAULT_INTENSITY:g}); remote /Emotion changes it live")
    anim.add_argument("--seed", type=int, help="idle layer seed")
    out = p.add_argument_group("outputs")
    out.add_argument("--osc", action="append", metavar="HOST:PORT[@SUBJECT]",
                     help=f"OSC to the bundled Unreal plugin (repeatable; default 127.0.0.1:{DEFAULT_OSC_PORT})")
    out.add_argument("--livelink", action="append", metavar="HOST:PORT[@SUBJECT]",
                     help=f"Live Link Face packets for stock Unreal (repeatable; default 127.0.0.1:{DEFAULT_LIVELINK_PORT})")
    out.add_argument("--no-osc", action="store_true", help="no OSC stream")
    out.add_argument("--no-livelink", action="store_true", help="no Live Link Face stream")
    out.add_argument("--subject", help=f"Live Link subject name (default: {DEFAULT_SUBJECT})")
    out.add_argument("--record", metavar="DIR", help="record a take from the start into DIR (Ctrl-C closes it)")
    out.add_argument("--takes-dir", metavar="DIR", help="where /RecordStart puts takes (default: --record, else takes)")
    out.add_argument("--slate", help=f"slate name of recorded takes (default: {DEFAULT_SLATE})")
    out.add_argument("--control", metavar="HOST:PORT|off",
                     help=f"remote-control OSC port (default 127.0.0.1:{DEFAULT_CONTROL_PORT}; off = none)")
    out.add_argument("--studio", nargs="?", const="on", metavar="HOST:PORT",
                     help=f"the studio web page: watch the face, meters, tune the preset live "
                          f"(default address {STUDIO_HOST}:{DEFAULT_STUDIO_PORT}; docs/studio.md)")
    p.add_argument("-q", "--quiet", action="store_const", const=True, help="no status line")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("studio", help="play recorded takes in the studio web page (face, audio, scrubbing)",
                       description="Serve the studio page for recorded takes: open a take's CSV (its WAV plays "
                                   "with it) or a takes folder, then open the printed address in a browser. "
                                   "For a live session use `serve --studio`.")
    p.add_argument("take", metavar="TAKE.csv|DIR", help="a take (…_raw.csv) or a folder of takes")
    p.add_argument("--address", default=f"{STUDIO_HOST}:{DEFAULT_STUDIO_PORT}", metavar="HOST:PORT",
                   help=f"where the page is served (default: {STUDIO_HOST}:{DEFAULT_STUDIO_PORT})")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.set_defaults(func=cmd_studio)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PmmtalkError as err:
        print(f"pmmtalk-live: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pmmtalk-live: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
