"""End to end, with no Unreal: the Python daemon's OSC stream over real UDP into the plugin's Live Link source.

The plugin side is ``pmm_plugin_e2e`` (unreal_plugin/HostChecks/Tests/PluginE2E.cpp): the real source,
factory and settings compiled against the engine stubs, added to a recording fake Live Link client and
ticked like the game thread. This script drives it (one command per stdin line) and checks what the
source pushed to Live Link:

1. the real daemon, ``pmmtalk-live serve`` on the bundled recording, sending to one port under two
   subjects (two characters through one source) and recording a take: the subjects appear with the
   preset's 61 names, every frame pushed is a row of the take (same values), in order;
2. the daemon's sender (``OscSink``) with values chosen here: exact values, clamping, NaN, the VRM
   preset's names at 30 fps, a subject renamed mid-stream, a late frame, malformed datagrams, keep-alive
   while quiet, a subject filter edited in the details panel, and nothing pushed after shutdown.

    python scripts/unreal_e2e.py --harness build/unreal-host/pmm_plugin_e2e

Run by ctest (``e2e.daemon``) from scripts/unreal_check.sh. Exit 1 with the failed check on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pmmtalk_live import rig
from pmmtalk_live.retarget.preset import load_preset
from pmmtalk_live.sinks.csv_take import read_take
from pmmtalk_live.sinks.osc import OscSink, encode_frame, schema_id
from pmmtalk_live.tracks import CurveFrame

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_WAV = REPO / "pmmtalk_live" / "data" / "example.wav"
REPLY_TIMEOUT_S = 60.0


class CheckFailed(Exception):
    pass


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Plugin:
    """The harness process: a pmmtalk source in a recording Live Link client."""

    def __init__(self, harness: str, connection: str):
        self.process = subprocess.Popen([harness, connection], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        expect(self._line() == "READY", "the harness did not report READY")

    def _line(self) -> str:
        ready, _, _ = select.select([self.process.stdout], [], [], REPLY_TIMEOUT_S)
        expect(bool(ready), f"no reply from the harness within {REPLY_TIMEOUT_S:.0f} s")
        line = self.process.stdout.readline()
        expect(line != "", f"the harness exited (code {self.process.poll()})")
        return line.rstrip("\n")

    def command(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self._line()

    def wait_frames(self, subject: str, count: int, timeout_s: float = 20.0) -> int:
        reply = self.command(f"wait-frames {subject} {count} {timeout_s}")
        expect(reply.startswith("OK "), f"{subject}: only {reply.split()[-1]} of {count} frames arrived")
        return int(reply.split()[1])

    def wait_values(self, directory: Path, subject: str, values: list[float], timeout_s: float = 20.0) -> None:
        """Until a frame of ``subject`` with these values has been pushed (frame counts do not tell: Update
        pushes kept-alive frames of a quiet subject meanwhile)."""
        deadline = time.monotonic() + timeout_s
        while not any(f["values"] == values for f in frames_of(self.pushes(directory), subject)):
            expect(time.monotonic() < deadline, f"{subject}: the frame {values[:1]}... did not arrive")
            time.sleep(0.05)

    def pushes(self, directory: Path) -> list[dict]:
        path = directory / f"pushes_{time.monotonic_ns()}.jsonl"
        expect(self.command(f"dump {path}") == "OK", "dump failed")
        return [json.loads(line) for line in path.read_text().splitlines()]

    def quit(self) -> int:
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        _, errors = self.process.communicate(timeout=REPLY_TIMEOUT_S)
        if errors:
            sys.stderr.write(errors)
        return self.process.returncode


def frames_of(pushes: list[dict], subject: str) -> list[dict]:
    return [p for p in pushes if p["kind"] == "frame" and p["subject"] == subject]


KEEP_ALIVE_PERIOD_S = 0.25  # PmmtalkReceiver.h: KeepAlivePeriodSeconds


def wire_frames(frames: list[dict]) -> list[dict]:
    """A subject's frames that came from datagrams, without the ones Update kept alive.

    A kept-alive frame is pushed by Update (the game thread), at least KEEP_ALIVE_PERIOD_S after the
    subject's previous frame on the subject's one clock, and repeats that frame or is the neutral pose.
    The thread alone does not tell: Update also pushes a datagram's frame when it finds one queued (the
    receiver thread queued it while Update was pushing), which a busy machine makes common enough."""
    kept_alive = [
        i > 0 and frame["game_thread"]
        and frame["world_time"] - frames[i - 1]["world_time"] >= KEEP_ALIVE_PERIOD_S - 1e-6
        and (frame["values"] == frames[i - 1]["values"] or not any(frame["values"]))
        for i, frame in enumerate(frames)]
    return [frame for frame, kept in zip(frames, kept_alive) if not kept]


def statics_of(pushes: list[dict], subject: str) -> list[dict]:
    return [p for p in pushes if p["kind"] == "static" and p["subject"] == subject]


def daemon_part(harness: str, workdir: Path, python: str) -> None:
    """The real daemon, two subjects on one port, against its own recorded take."""
    port = free_udp_port()
    plugin = Plugin(harness, f"Port={port};BindAddress=127.0.0.1")
    pushes = plugin.pushes(workdir)
    announced = statics_of(pushes, "pmmtalk")
    expect(len(announced) == 1 and announced[0]["names"] == list(rig.LIVE_LINK_FACE_NAMES),
           "the default subject was not announced with the 61 Live Link Face names before any packet")

    takes = workdir / "takes"
    cli = [str(Path(python).parent / "pmmtalk-live")]  # the venv's console script
    command = cli + ["serve", "--input", str(EXAMPLE_WAV), "--fast", "--animator", "phonetic", "--preset", "metahuman",
                     "--no-livelink", "--control", "off", "--osc", f"127.0.0.1:{port}@Ada",
                     "--osc", f"127.0.0.1:{port}@Bob", "--record", str(takes), "--slate", "e2e", "-q"]
    started = time.monotonic()
    daemon = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    expect(daemon.returncode == 0, f"the daemon failed:\n{daemon.stderr}")
    take = read_take(next(takes.glob("*_raw.csv")))
    rows = take.live_link_face_track().values
    for subject in ("Ada", "Bob"):
        plugin.wait_frames(subject, int(0.95 * len(rows)))  # localhost UDP in a burst (--fast): allow a little loss
    pushes = plugin.pushes(workdir)
    expect(plugin.quit() == 0, "the recording client saw a violation (see above)")

    names = list(load_preset("metahuman").output_names)
    for subject in ("Ada", "Bob"):
        statics = statics_of(pushes, subject)
        expect(len(statics) == 1 and statics[0]["names"] == names,
               f"{subject}: static data is not the metahuman preset's names, pushed once")
        frames = wire_frames(frames_of(pushes, subject))
        expect(len(rows) * 0.95 <= len(frames) <= len(rows), f"{subject}: {len(frames)} frames for {len(rows)} take rows")
        expect(all(f["rate"] == [60, 1] for f in frames), f"{subject}: frame rate is not 60/1")
        # Every pushed frame is a take row, in order (rows repeat in silence, so match forward).
        row = 0
        for frame in frames:
            values = np.array(frame["values"], np.float32)
            while row < len(rows) and not np.allclose(rows[row], values, atol=2e-6):
                row += 1
            expect(row < len(rows), f"{subject}: a pushed frame is not the next row of the daemon's take")
            row += 1
    print(f"e2e daemon: 2 subjects x {len(frames)}/{len(rows)} frames matched the daemon's take "
          f"({time.monotonic() - started:.1f} s)")


def frame(number: int, names: tuple[str, ...], values, fps: float = 60.0, wall_time_s: float | None = None) -> CurveFrame:
    now = time.time() if wall_time_s is None else wall_time_s
    return CurveFrame(number=number, fps=fps, capture_time_s=number / fps, wall_time_s=now, names=names,
                      values=np.asarray(values, np.float32))


def sender_part(harness: str, workdir: Path) -> None:
    """The daemon's sender with chosen values: the rules of docs/protocol.md section 2.7, end to end."""
    port = free_udp_port()
    plugin = Plugin(harness, f"Port={port};BindAddress=127.0.0.1;NeutralAfterMs=2000")
    arkit = tuple(load_preset("arkit").output_names)
    vrm = tuple(load_preset("vrm").output_names)
    ada = OscSink("127.0.0.1", port, subject="Ada")
    bob = OscSink("127.0.0.1", port, subject="Bob")

    sent = []
    for number in range(20):
        values = np.linspace(-0.5, 1.5, len(arkit)) * (number + 1) / 20
        values[17] = math.nan if number == 3 else values[17]  # JawOpen: NaN once
        wall = 1763942400.5 + number / 60
        ada.send(frame(number, arkit, values, wall_time_s=wall))
        sent.append((values, wall))
        bob.send(frame(number, vrm, np.full(len(vrm), 0.1 * (number % 10)), fps=30.0))
    plugin.wait_frames("Ada", 20)
    plugin.wait_frames("Bob", 20)
    ada.send(frame(5, arkit, np.zeros(len(arkit))))  # late: dropped
    ada.subject = "Cleo"  # renamed while serving: names then frames under the new subject
    ada.send(frame(20, arkit, np.full(len(arkit), 0.25)))
    plugin.wait_frames("Cleo", 1)

    junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    whole = encode_frame("Bob", schema_id(vrm), 99, time.time(), np.zeros(len(vrm), np.float32))
    for cut in range(0, len(whole), 3):
        junk.sendto(whole[:cut], ("127.0.0.1", port))  # truncated at every length
    junk.sendto(b"#bundle\x00" + os.urandom(200), ("127.0.0.1", port))
    junk.close()
    bob.send(frame(21, vrm, np.full(len(vrm), 0.625), fps=30.0))  # still received after the junk
    plugin.wait_values(workdir, "Bob", [0.625] * len(vrm))
    status = plugin.command("status")
    expect("Receiving" in status and "dropped" in status, f"status does not say receiving with drops: {status}")

    expect(plugin.command("advance 0.5") == "OK", "advance failed")  # quiet: keep-alive from Update
    expect(plugin.command("advance 2.0") == "OK", "advance failed")  # quiet past NeutralAfterMs: neutral
    quiet_pushes = plugin.pushes(workdir)
    plugin.command("edit Subjects=Bob")  # the details panel narrows the filter
    ada.subject = "Ada"
    ada.send(frame(40, arkit, np.full(len(arkit), 0.5)))
    bob.send(frame(40, vrm, np.full(len(vrm), 0.75), fps=30.0))
    plugin.wait_values(workdir, "Bob", [0.75] * len(vrm))
    expect(plugin.command("remove") == "OK", "remove failed")
    pushes_at_removal = plugin.pushes(workdir)
    bob.send(frame(41, vrm, np.full(len(vrm), 0.75), fps=30.0))
    time.sleep(0.3)  # nothing may come of that datagram: give it time to arrive if it were going to
    pushes = plugin.pushes(workdir)
    ada.close()
    bob.close()
    expect(plugin.quit() == 0, "the recording client saw a violation (see above)")

    expect(len(pushes) == len(pushes_at_removal), "pushes after the source was shut down")
    ada_frames = wire_frames(frames_of(pushes, "Ada"))
    expect(len(ada_frames) == 20, f"Ada: {len(ada_frames)} frames pushed from the wire, 20 sent (one late one dropped)")
    for got, (values, wall) in zip(ada_frames, sent):
        want = [0.0 if not math.isfinite(v) else (v if name in rig.ROTATION_NAMES else min(max(v, 0.0), 1.0))
                for name, v in zip(arkit, values.astype(np.float32).tolist())]
        expect(np.allclose(got["values"], want, atol=0, rtol=0), "Ada: pushed values are not the clamped sent values")
        expect(abs(got["world_time"] - wall) < 1e-6, "Ada: world time is not the frame's capture time")
    expect(statics_of(pushes, "Bob")[0]["names"] == list(vrm), "Bob: static data is not the VRM preset's names")
    expect(all(f["rate"] == [30, 1] for f in frames_of(pushes, "Bob")), "Bob: frames not stamped 30/1")
    expect(len(statics_of(pushes, "Cleo")) == 1 and frames_of(pushes, "Cleo")[0]["values"] == [0.25] * len(arkit),
           "the renamed subject did not appear with its names and frame")
    # Quiet after Bob's last frame from the wire: Update re-pushes it, then the neutral pose after 2 s.
    bob_frames = frames_of(quiet_pushes, "Bob")
    last_wire = bob_frames.index(wire_frames(bob_frames)[-1])
    kept = [f["values"] for f in bob_frames[last_wire + 1:]]
    held, neutral = [0.625] * len(vrm), [0.0] * len(vrm)
    expect(len(kept) >= 2 and kept[0] == held and kept[-1] == neutral
           and all(v == held for v in kept[:kept.index(neutral)]) and all(v == neutral for v in kept[kept.index(neutral):]),
           f"keep-alive while quiet: want Bob's last frame, then neutral after 2 s; got {[v[:1] for v in kept]}")
    removed = [p["subject"] for p in pushes if p["kind"] == "remove"]
    expect(sorted(removed) == ["Ada", "Cleo", "pmmtalk"], f"the filter edit removed {removed}")
    # From the filter's removal of Ada on (Update may keep Ada alive until the edit lands).
    after_filter = pushes[next(i for i, p in enumerate(pushes) if p["kind"] == "remove" and p["subject"] == "Ada") + 1:]
    expect(not frames_of(after_filter, "Ada") and frames_of(after_filter, "Bob"),
           f"the subject filter is not applied: after it, Ada {[f['values'][:1] for f in frames_of(after_filter, 'Ada')]}, "
           f"Bob {[f['values'][:1] for f in frames_of(after_filter, 'Bob')]}")
    print(f"e2e sender: {len(pushes)} pushes checked (values, clamping, rename, late frame, junk, keep-alive, filter, shutdown)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--harness", required=True, help="the pmm_plugin_e2e executable")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="unreal-e2e-") as tmp:
        try:
            daemon_part(args.harness, Path(tmp), sys.executable)
            sender_part(args.harness, Path(tmp))
        except CheckFailed as failure:
            print(f"e2e FAILED: {failure}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
