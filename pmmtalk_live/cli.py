"""The command line: parses arguments and calls the stages; every user-facing failure is one line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import PmmtalkError


def _text(args: argparse.Namespace) -> str | None:
    if args.text_file:
        try:
            return Path(args.text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise PmmtalkError(f"cannot read transcript {args.text_file}: {err}") from None
    return args.text


def cmd_animate(args: argparse.Namespace) -> int:
    from .offline import animate_file

    result = animate_file(args.input, args.output, fps=args.fps, text=_text(args), preset=args.preset,
                          idle=not args.no_idle, seed=args.seed, slate=args.slate, take=args.take,
                          subject=args.subject, show_progress=not args.quiet)
    mode = "transcript (forced alignment)" if (args.text or args.text_file) else "phone recognition"
    print(f"take: {result.take_path}")
    print(f"  {result.curves.num_frames} frames at {args.fps:g} fps ({result.audio.duration_s:.2f} s), "
          f"preset {args.preset}, phones from {mode}")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pmmtalk-live",
        description="Drive an ARKit-rigged face (MetaHuman, VRM) from speech: animate recordings "
                    "into Live Link Face takes, tune retarget presets.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("animate", help="animate a recording into a Live Link Face CSV take",
                       description="Animate a recording (WAV/FLAC/OGG, any rate and channels) into a "
                                   "Live Link Face CSV take, with the audio written beside it.")
    p.add_argument("input", metavar="IN", help="the recording")
    p.add_argument("-o", "--output", metavar="DIR", default="takes", help="takes folder (default: takes)")
    text = p.add_mutually_exclusive_group()
    text.add_argument("--text", help="transcript: phones from forced alignment (more accurate)")
    text.add_argument("--text-file", metavar="FILE", help="transcript read from a UTF-8 file")
    p.add_argument("--preset", default="arkit",
                   help="retarget preset name or YAML file (default: arkit; metahuman for MetaHumans)")
    p.add_argument("--fps", type=int, choices=(30, 60), default=60, help="frame rate (default: 60)")
    p.add_argument("--slate", help="slate name (default: from the input file name)")
    p.add_argument("--take", type=int, help="take number (default: the next free one)")
    p.add_argument("--subject", default="pmmtalk", help="subject name in the file name (default: pmmtalk)")
    p.add_argument("--seed", type=int, default=0, help="idle layer seed (blinks, gaze, head)")
    p.add_argument("--no-idle", action="store_true", help="no blinks, gaze or head motion")
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
