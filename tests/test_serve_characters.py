"""``serve --characters FILE``: several characters in one daemon, on real sockets and real files: each
character's frames under its own subject to its own destinations with its own preset, its own take,
the same frames a daemon of its own gives; remote control addressed by subject; the file's errors."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from pythonosc.osc_message import OscMessage as PyOscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from pmmtalk_live.characters import Cast, load_characters
from pmmtalk_live.config import Destination, ServeConfig
from pmmtalk_live.errors import ConfigError
from pmmtalk_live.retarget.preset import load_preset
from pmmtalk_live.sinks.csv_take import read_take

from .conftest import EXAMPLE_WAV
from .test_serve import osc_frames, osc_names, run_cli
from .wire import Collector, decode_live_link_face


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> tuple[Path, Path]:
    """Two different 1.5 s pieces of the bundled example."""
    audio, rate = sf.read(EXAMPLE_WAV, dtype="float32")
    folder = tmp_path_factory.mktemp("clips")
    first, second = folder / "ada.wav", folder / "bob.wav"
    sf.write(first, audio[: int(1.5 * rate)], rate)
    sf.write(second, audio[rate: int(2.5 * rate)], rate)
    return first, second


def write_characters(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_two_characters_each_to_its_own_sinks_with_its_own_preset(clips, tmp_path):
    """Two files, one daemon: Ada (metahuman) and Bob (vrm, happy) each reach only their own OSC and
    Live Link Face receivers under their own subject, each records its own take, and each take holds
    exactly what a daemon serving that character alone records."""
    ada_wav, bob_wav = clips
    with Collector() as ada_osc, Collector() as ada_ll, Collector() as bob_osc, Collector() as bob_ll:
        characters = write_characters(tmp_path / "cast.yaml", f"""\
characters:
  - subject: Ada
    input: {ada_wav}
    preset: metahuman
    osc: {ada_osc.address}
    livelink: {ada_ll.address}
  - subject: Bob
    input: {bob_wav}
    preset: vrm
    emotion: happy:0.7
    osc: {bob_osc.address}
    livelink: {bob_ll.address}
    record: {tmp_path / 'bob_takes'}
""")
        result = run_cli("serve", "--characters", str(characters), "--fast", "--record", str(tmp_path / "takes"),
                         "--control", "0")
        assert result.returncode == 0, result.stderr
        assert "character Ada:" in result.stderr and "character Bob:" in result.stderr
        for subject, osc, livelink, preset in (("Ada", ada_osc, ada_ll, "metahuman"), ("Bob", bob_osc, bob_ll, "vrm")):
            names = load_preset(preset).output_names
            assert osc.wait_for(lambda p: len(osc_frames(p)) >= 91, 10)
            announced = osc_names(osc.payloads())
            assert {a[1] for a in announced} == {subject} and tuple(announced[0][8:]) == names
            frames = osc_frames(osc.payloads())
            assert {args[1] for _, args in frames} == {subject}
            num_frames = len(frames)
            assert livelink.wait_for(lambda p: len(p) >= num_frames, 10)
            assert {decode_live_link_face(d).subject for d in livelink.payloads()} == {subject}

    ada = read_take(tmp_path / "takes" / "live_1_Ada_raw.csv")
    bob = read_take(tmp_path / "bob_takes" / "live_1_Bob_raw.csv")
    assert not (tmp_path / "takes" / "live_1_Bob_raw.csv").exists()
    assert ada.subject == "Ada" and bob.subject == "Bob"
    for take, wav, preset, extra in ((ada, ada_wav, "metahuman", []), (bob, bob_wav, "vrm", ["--emotion", "happy:0.7"])):
        alone = tmp_path / f"alone_{take.subject}"
        result = run_cli("serve", "--input", str(wav), "--fast", "--subject", take.subject, "--preset", preset,
                         "--record", str(alone), "--control", "off", "--no-osc", "--livelink", "127.0.0.1:9", "-q",
                         *extra)
        assert result.returncode == 0, result.stderr
        single = read_take(alone / f"live_1_{take.subject}_raw.csv")
        assert single.names == take.names and single.num_frames == take.num_frames
        np.testing.assert_array_equal(single.values, take.values)


def test_a_broken_input_ends_that_character_only(clips, tmp_path):
    """A character whose file is missing is one line; the other serves to the end; exit 1."""
    with Collector() as osc:
        characters = write_characters(tmp_path / "cast.yaml", f"""\
characters:
  - {{subject: Ada, input: {clips[0]}, osc: {osc.address}, livelink: false}}
  - {{subject: Bob, input: {tmp_path / 'missing.wav'}, osc: {osc.address}, livelink: false}}
""")
        result = run_cli("serve", "--characters", str(characters), "--fast", "--control", "off")
        assert result.returncode == 1, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("pmmtalk-live: error:")]
        assert len(errors) == 1 and errors[0].startswith("pmmtalk-live: error: character Bob: ")
        assert "missing.wav" in errors[0]
        assert osc.wait_for(lambda p: len(osc_frames(p)) >= 91, 10)
        assert {args[1] for _, args in osc_frames(osc.payloads())} == {"Ada"}


class Daemon:
    """A Cast of two looping characters in a thread, its control port on an ephemeral port."""

    def __init__(self, tmp_path: Path, clips: tuple[Path, Path]):
        self.osc = {subject: Collector() for subject in ("Ada", "Bob")}
        base = ServeConfig(loop=True, livelink=[], takes_dir=str(tmp_path / "takes"), quiet=True)
        configs = load_characters(write_characters(tmp_path / "cast.yaml", f"""\
characters:
  - {{subject: Ada, input: {clips[0]}, osc: {self.osc['Ada'].address}}}
  - {{subject: Bob, input: {clips[1]}, osc: {self.osc['Bob'].address}}}
"""), base)
        self.cast = Cast(configs, control=Destination("127.0.0.1", 0))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.cast.run, args=(self.stop,), daemon=True)
        self.thread.start()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10)

    def ask(self, address: str, *args, replies: int = 1) -> list[tuple[str, list]]:
        builder = OscMessageBuilder(address)
        for arg in args:
            builder.add_arg(arg)
        self.sock.sendto(builder.build().dgram, self.cast.control.address)
        answers = [PyOscMessage(self.sock.recv(8192)) for _ in range(replies)]
        return [(m.address, list(m.params)) for m in answers]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(20)
        self.cast.close()
        self.sock.close()
        for collector in self.osc.values():
            collector.close()


@pytest.fixture
def daemon(tmp_path, clips):
    d = Daemon(tmp_path, clips)
    yield d
    d.close()


def test_remote_control_addressed_to_one_subject(daemon, tmp_path):
    """/Ada/X reaches Ada alone; /X reaches each (a reply per character); /LiveLinkSubject without a
    subject, and an unknown subject, are refused with /Error."""
    (address, (timecode,)), = daemon.ask("/Ada/RecordStart", "scene", 3)
    assert address == "/Ada/RecordStartConfirm" and timecode.count(":") == 3
    assert {s.subject for s in daemon.cast.sessions if s.outputs.recorder.writer} == {"Ada"}

    replies = dict(daemon.ask("/RecordStart", replies=2))
    assert replies["/Error"][0] == "/Ada/RecordStart" and "recording" in replies["/Error"][1]
    assert "/Bob/RecordStartConfirm" in replies

    (address, args), = daemon.ask("/LiveLinkSubject", "Carl")
    assert address == "/Error" and "/<Subject>/LiveLinkSubject" in args[1]
    (address, args), = daemon.ask("/Nobody/Preset", "arkit")
    assert address == "/Error" and "no character 'Nobody'" in args[1] and "Ada, Bob" in args[1]

    (address, args), = daemon.ask("/Bob/LiveLinkSubject")
    assert address == "/Error" and args[0] == "/Bob/LiveLinkSubject"  # the name is missing: Bob's own error

    stops = dict(daemon.ask("/RecordStop", replies=2))
    assert set(stops) == {"/Ada/RecordStopConfirm", "/Bob/RecordStopConfirm"}
    assert Path(stops["/Ada/RecordStopConfirm"][1]).name == "scene_3_Ada_raw.csv"
    assert Path(stops["/Bob/RecordStopConfirm"][1]).name == "live_1_Bob_raw.csv"
    assert daemon.ask("/BatteryQuery") == [("/Battery", [1.0])]  # a query is answered once, by the daemon


def test_preset_and_subject_commands_change_one_character(daemon):
    """/Bob/Preset switches Bob's curves only; /Bob/LiveLinkSubject renames Bob's stream only."""
    for command in (("/Bob/LiveLinkSubject", "Carl"), ("/Carl/Preset", "vrm")):
        builder = OscMessageBuilder(command[0])
        builder.add_arg(command[1])
        daemon.sock.sendto(builder.build().dgram, daemon.cast.control.address)
    assert daemon.ask("/BatteryQuery")[0][0] == "/Battery"  # both carried out before the answer
    vrm, live = load_preset("vrm").output_names, daemon.cast.sessions[0].presets.preset.output_names
    assert vrm != live
    carl, ada = daemon.osc["Bob"], daemon.osc["Ada"]
    assert carl.wait_for(lambda p: any(a[1] == "Carl" and tuple(a[8:]) == vrm for a in osc_names(p)), 10)
    mark = len(ada.payloads())
    assert ada.wait_for(lambda p: len(osc_frames(p[mark:])) >= 5, 10)
    assert {args[1] for _, args in osc_frames(ada.payloads())} == {"Ada"}
    assert all(a[1] == "Ada" and tuple(a[8:]) == live for a in osc_names(ada.payloads()))


@pytest.mark.parametrize("text, message", [
    ("characters:\n  - {subject: Ada, input: a.wav}\n  - {subject: Ada, input: b.wav}\n",
     "cast.yaml:3: character 2: subject: Ada is character 1's too"),
    ("characters:\n  - {subject: Ada, input: '-'}\n  - {subject: Bob, input: '-'}\n",
     "cast.yaml:3: character 2: input: - (stdin) is character 1's already"),
    ("characters:\n  - subject: Ada\n    fps: 30\n",
     "cast.yaml:3: character 1: fps: is the daemon's, the same for every character"),
    ("characters:\n  - subject: Ada\n    presett: arkit\n", "cast.yaml:3: character 1: presett: unknown setting"),
    ("characters:\n  - subject: Ada\n    emotion: glum\n", "cast.yaml:3: character 1: emotion:"),
    ("characters:\n  - input: a.wav\n", "cast.yaml:2: character 1: subject: missing"),
    ("characters:\n  - subject: 'A/B'\n", "cast.yaml:2: character 1: subject:"),
    ("subject: Ada\n", "cast.yaml: expected one key, characters"),
    ("characters: Ada\n", "cast.yaml:1: characters: expected a list"),
    ("characters:\n  - Ada\n", "cast.yaml:2: character 1: expected a mapping"),
])
def test_characters_file_errors_are_one_line(tmp_path, text, message):
    with pytest.raises(ConfigError) as error:
        load_characters(write_characters(tmp_path / "cast.yaml", text), ServeConfig())
    shown = str(error.value)
    assert "\n" not in shown and message in shown, shown


def test_characters_take_the_serve_settings_as_defaults(tmp_path):
    base = ServeConfig(preset="vrm", slate="scene", record="takes", osc=[Destination("10.0.0.5", 9000)])
    ada, bob = load_characters(write_characters(tmp_path / "cast.yaml", """\
characters:
  - {subject: Ada, input: a.wav}
  - {subject: Bob, input: '-', raw_rate: 48000, preset: arkit, osc: 10.0.0.6:9001, livelink: 10.0.0.6}
"""), base)
    assert (ada.preset, ada.slate, ada.record, ada.osc, ada.input) == ("vrm", "scene", "takes", base.osc, "a.wav")
    assert (bob.preset, bob.raw_rate, bob.input) == ("arkit", 48000, "-")
    assert bob.destinations() == ([Destination("10.0.0.6", 9001)], [Destination("10.0.0.6", 11111)])


def test_the_example_characters_file_reads():
    ada, bob, narrator = load_characters(Path(__file__).parent.parent / "examples" / "characters.yaml", ServeConfig())
    assert (ada.subject, ada.device, ada.osc) == ("Ada", "USB", [])
    assert bob.record == "takes/bob" and len(bob.livelink) == 2
    assert (narrator.input, narrator.raw_rate, narrator.idle) == ("-", 48000, False)
