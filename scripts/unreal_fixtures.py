"""Fixtures for the Unreal plugin's host checks: datagrams made by the daemon's own OSC encoder.

Each scenario is a sequence of datagrams (``*.bin``, exactly what ``pmmtalk_live.sinks.osc`` puts on the
wire) and, in ``manifest.txt``, what they hold (decoded fields) and what the plugin must push to Live Link
for them (static data and frames: names normalised, values clamped). The C++ test
(unreal_plugin/HostChecks/Tests/FixtureTests.cpp) decodes every datagram with the plugin's core and
compares; the fuzzer starts from these files. VMC fixtures come from python-osc, a third-party encoder.

    python scripts/unreal_fixtures.py            # rewrite unreal_plugin/HostChecks/Fixtures
    python scripts/unreal_fixtures.py --check    # exit 1 if the committed fixtures are out of date

Manifest lines (strings hex-encoded UTF-8, floats as their 32-bit patterns, so nothing needs escaping):

    scenario NAME [vmc=SUBJECTHEX]
    datagram FILE
    names subject=HEX schema=N fps=BITS count=N part=I/K first=N names=HEX,HEX,...
    frame subject=HEX schema=N number=N timetag=N values=BITS,...
    expect-static subject=HEX names=HEX,...
    expect-frame subject=HEX number=N sendertime=SECONDS values=BITS,...
    end
"""

from __future__ import annotations

import argparse
import filecmp
import math
import struct
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from pmmtalk_live import rig
from pmmtalk_live.retarget.preset import load_preset
from pmmtalk_live.sinks.osc import NTP_UNIX_OFFSET_S, encode_frame, encode_names, ntp_timetag, schema_id

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "unreal_plugin" / "HostChecks" / "Fixtures"
WALL_TIME_S = 1763942400.5  # 2025-11-24 00:00:00.5 UTC, the example of docs/protocol.md section 2.4


def hexstr(text: str) -> str:
    return text.encode("utf-8").hex() or "-"


def bits(value: float) -> str:
    return struct.pack(">f", value).hex()


def pushed_value(name: str, value: float) -> float:
    """What the plugin pushes for a received value: NaN/inf -> 0, blendshapes clamped to 0..1, rotations kept."""
    value = float(np.float32(value))
    if not math.isfinite(value):
        return 0.0
    if normalised(name) in rig.ROTATION_NAMES:
        return value
    return min(max(value, 0.0), 1.0)


def normalised(name: str) -> str:
    """A Live Link Face name in any case becomes Unreal's spelling; other names stay as sent."""
    for canonical in rig.LIVE_LINK_FACE_NAMES:
        if canonical.lower() == name.lower():
            return canonical
    return name


@dataclass
class Scenario:
    name: str
    vmc_subject: str | None = None
    lines: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    pushed_names: dict[str, list[str]] = field(default_factory=dict)
    """Per subject (lower case), the names last pushed as static data: a frame re-pushes only on change."""

    def __post_init__(self):
        # A new source announces the daemon's default subject (and the VMC subject) with the 61 names.
        self.pushed_names["pmmtalk"] = list(rig.LIVE_LINK_FACE_NAMES)
        if self.vmc_subject is not None:
            self.pushed_names[self.vmc_subject.lower()] = list(rig.LIVE_LINK_FACE_NAMES)

    def datagram(self, data: bytes) -> None:
        file = f"{self.name}_{len(self.files):02d}.bin"
        self.files[file] = data
        self.lines.append(f"datagram {file}")

    def names(self, subject: str, names: list[str], fps: float) -> None:
        """The names message (all its parts); the subject's static data if it is new to the plugin."""
        datagrams = encode_names(subject, names, fps)
        first = 0
        for index, datagram in enumerate(datagrams):
            self.datagram(datagram)
            count = _names_in_part(datagram)
            self.lines.append(
                f"names subject={hexstr(subject)} schema={schema_id(names)} fps={bits(fps)} count={len(names)} "
                f"part={index}/{len(datagrams)} first={first} names={','.join(hexstr(n) for n in names[first:first + count]) or '-'}")
            first += count
        if subject.lower() not in self.pushed_names:
            self.static(subject, [normalised(n) for n in names])

    def static(self, subject: str, names: list[str]) -> None:
        self.pushed_names[subject.lower()] = names
        self.lines.append(f"expect-static subject={hexstr(subject)} names={','.join(hexstr(n) for n in names) or '-'}")

    def frame(self, subject: str, names: list[str], number: int, values: list[float], *, pushed: bool = True,
              wall_time_s: float = WALL_TIME_S) -> None:
        datagram = encode_frame(subject, schema_id(names), number, wall_time_s, np.array(values, np.float32))
        self.datagram(datagram)
        sent = [0.0 if not math.isfinite(v) else float(np.float32(v)) for v in values]  # the encoder's rule
        self.lines.append(
            f"frame subject={hexstr(subject)} schema={schema_id(names)} number={number} "
            f"timetag={ntp_timetag(wall_time_s)} values={','.join(bits(v) for v in sent) or '-'}")
        if not pushed:
            return
        wanted = [normalised(n) for n in names]
        if self.pushed_names.get(subject.lower()) != wanted:
            self.static(subject, wanted)
        timetag = ntp_timetag(wall_time_s)
        sender_s = (timetag >> 32) - NTP_UNIX_OFFSET_S + (timetag & 0xFFFF_FFFF) / 2**32
        self.lines.append(
            f"expect-frame subject={hexstr(subject)} number={number} sendertime={sender_s!r} "
            f"values={','.join(bits(pushed_value(n, v)) for n, v in zip(names, sent)) or '-'}")


def _names_in_part(datagram: bytes) -> int:
    """How many names a names datagram carries: its type tags minus the 8 header arguments."""
    address_end = datagram.index(b"\x00")
    tags_start = (address_end // 4 + 1) * 4
    tags = datagram[tags_start:datagram.index(b"\x00", tags_start)].decode()
    return len(tags) - len(",isifiiii")


def vmc_bundle(values: dict[str, float]) -> bytes:
    """A VMC sender's frame as python-osc encodes it: one Val message per blend shape, then Apply."""
    bundle = OscBundleBuilder(0)  # python-osc writes timetag 0 ... 1 for "immediately"
    for name, value in values.items():
        message = OscMessageBuilder("/VMC/Ext/Blend/Val")
        message.add_arg(name, "s")
        message.add_arg(value, "f")
        bundle.add_content(message.build())
    bundle.add_content(OscMessageBuilder("/VMC/Ext/Blend/Apply").build())
    return bundle.build().dgram


def scenarios() -> list[Scenario]:
    arkit = list(load_preset("arkit").output_names)
    vrm = list(load_preset("vrm").output_names)
    assert arkit == list(rig.LIVE_LINK_FACE_NAMES)
    out = []

    # The daemon's default: 61 ARKit curves, subject pmmtalk. The plugin announced these names already,
    # so no static data is pushed again; out-of-range and non-finite values; rotations left signed.
    s = Scenario("arkit")
    s.names("pmmtalk", arkit, 60.0)
    ramp = [i / 60 for i in range(61)]
    s.frame("pmmtalk", arkit, 0, ramp)
    wild = ramp.copy()
    wild[17], wild[18], wild[0] = 1.5, -0.25, 1.0  # JawOpen over, MouthClose under, EyeBlinkLeft at the edge
    wild[52], wild[53], wild[60] = -0.3, 0.45, -1.25  # HeadYaw, HeadPitch, RightEyeRoll: radians
    s.frame("pmmtalk", arkit, 1, wild, wall_time_s=WALL_TIME_S + 1 / 60)
    broken = ramp.copy()
    broken[17], broken[19], broken[52] = float("nan"), float("inf"), float("-inf")
    s.frame("pmmtalk", arkit, 2, broken, wall_time_s=WALL_TIME_S + 2 / 60)
    out.append(s)

    # docs/protocol.md's own examples (sections 2.3 and 2.4), byte for byte.
    s = Scenario("doc_example")
    s.names("Anna", ["JawOpen", "MouthClose"], 60.0)
    s.frame("Anna", ["JawOpen", "MouthClose"], 1234, [0.5, 0.25])
    out.append(s)

    # The VRM preset at 30 fps: names that are not ARKit's stay as they are, and are clamped as blendshapes.
    s = Scenario("vrm")
    s.names("Ada", vrm, 30.0)
    s.frame("Ada", vrm, 7, [0.1 * i for i in range(len(vrm))])
    out.append(s)

    # Apple's camelCase spellings: published as Unreal's PascalCase; headYaw is still a rotation.
    s = Scenario("camel_case")
    camel = ["jawOpen", "mouthClose", "headYaw", "eyeBlinkLeft"]
    s.names("Bob", camel, 60.0)
    s.frame("Bob", camel, 3, [0.75, 2.0, -0.5, -1.0])
    out.append(s)

    # More names than one datagram holds: the names message comes in parts.
    s = Scenario("multipart")
    many = [f"Curve{i:03d}_{'abcdefghijklmnopqrst'[: 5 + i % 15]}" for i in range(250)]
    s.names("Crowd", many, 60.0)
    s.frame("Crowd", many, 100, [(i % 11) / 10 for i in range(250)])
    out.append(s)

    # UTF-8 subjects and names.
    s = Scenario("unicode")
    names = ["JawOpen", "Lächeln", "眉"]
    s.names("Ämma 角色", names, 60.0)
    s.frame("Ämma 角色", names, 0, [0.5, 0.75, 0.125])
    out.append(s)

    # No curves at all is legal: schema 0, frames of no values.
    s = Scenario("empty")
    s.names("Silent", [], 60.0)
    s.frame("Silent", [], 5, [])
    out.append(s)

    # A preset switched mid-stream: new names, static data re-pushed; then back.
    s = Scenario("schema_change")
    s.names("pmmtalk", arkit, 60.0)
    s.frame("pmmtalk", arkit, 10, ramp)
    s.names("pmmtalk", vrm, 60.0)
    s.frame("pmmtalk", vrm, 11, [0.5] * len(vrm))
    s.frame("pmmtalk", arkit, 12, ramp)  # its schema is still known: no names needed
    s.frame("pmmtalk", arkit, 12, ramp, pushed=False)  # a repeat: dropped
    s.frame("pmmtalk", arkit, 11, ramp, pushed=False)  # late: dropped
    out.append(s)

    # Frames before their names are dropped; a frame whose count disagrees with its names too.
    s = Scenario("dropped")
    s.frame("Late", ["JawOpen"], 0, [0.5], pushed=False)
    s.names("Late", ["JawOpen"], 60.0)
    s.frame("Late", ["JawOpen"], 1, [0.5])
    wrong = encode_frame("Late", schema_id(["JawOpen"]), 2, WALL_TIME_S, np.array([0.5, 0.5], np.float32))
    s.datagram(wrong)
    s.lines.append(f"frame subject={hexstr('Late')} schema={schema_id(['JawOpen'])} number=2 "
                   f"timetag={ntp_timetag(WALL_TIME_S)} values={bits(0.5)},{bits(0.5)}")
    out.append(s)

    # VMC, from python-osc: values accumulate until Apply; names in first-seen order, normalised.
    s = Scenario("vmc", vmc_subject="VMC")
    first = {"A": 0.25, "Blink": 1.0, "jawOpen": 0.5}
    s.datagram(vmc_bundle(first))
    s.static("VMC", ["A", "Blink", "JawOpen"])
    s.lines.append(f"expect-frame subject={hexstr('VMC')} number=0 sendertime=none "
                   f"values={','.join(bits(v) for v in first.values())}")
    second = {"A": 1.5, "O": 0.75}  # A clamped; O is new (names change); Blink and JawOpen hold
    s.datagram(vmc_bundle(second))
    s.static("VMC", ["A", "Blink", "JawOpen", "O"])
    s.lines.append(f"expect-frame subject={hexstr('VMC')} number=1 sendertime=none "
                   f"values={','.join(bits(v) for v in [1.0, 1.0, 0.5, 0.75])}")
    out.append(s)
    return out


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.bin"):
        old.unlink()
    lines = ["# Written by scripts/unreal_fixtures.py from pmmtalk_live.sinks.osc (and python-osc for VMC): do not edit."]
    for scenario in scenarios():
        header = f"scenario {scenario.name}"
        if scenario.vmc_subject is not None:
            header += f" vmc={hexstr(scenario.vmc_subject)}"
        lines += [header, *scenario.lines, "end"]
        for file, data in scenario.files.items():
            (directory / file).write_bytes(data)
    (directory / "manifest.txt").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed fixtures instead of writing")
    args = parser.parse_args()
    if not args.check:
        write(FIXTURES)
        print(f"unreal fixtures: wrote {FIXTURES.relative_to(REPO)}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        write(fresh)
        names = sorted(p.name for p in fresh.iterdir())
        committed = sorted(p.name for p in FIXTURES.iterdir()) if FIXTURES.is_dir() else []
        _, mismatch, errors = filecmp.cmpfiles(fresh, FIXTURES, names, shallow=False)
        if names != committed or mismatch or errors:
            print("unreal fixtures are out of date: run python scripts/unreal_fixtures.py and commit "
                  f"(differ: {sorted(set(mismatch + errors) | (set(names) ^ set(committed)))})", file=sys.stderr)
            return 1
    print(f"unreal fixtures: {len(names)} files up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
