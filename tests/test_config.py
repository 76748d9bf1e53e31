"""serve settings: defaults, a YAML file, the command line on top; one-line errors naming file and key."""

import re

import pytest

from pmmtalk_live.config import Destination, ServeConfig, load_config, parse_control, parse_destination
from pmmtalk_live.errors import ConfigError


def test_defaults_stream_to_both_local_receivers():
    osc, livelink = ServeConfig().destinations()
    assert osc == [Destination("127.0.0.1", 9000)]
    assert livelink == [Destination("127.0.0.1", 11111)]
    assert ServeConfig().control == Destination("127.0.0.1", 8000)


def test_only_livelink_given_means_no_osc():
    config = load_config(None, {"livelink": ["10.0.0.2:11111"]})
    assert config.destinations() == ([], [Destination("10.0.0.2", 11111)])


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:9000", Destination("127.0.0.1", 9000)),
    ("studio-pc", Destination("studio-pc", 11111)),
    ("[::1]:5000@Alice", Destination("::1", 5000, "Alice")),
    ("::1", Destination("::1", 11111)),
    ("host:1@Bob", Destination("host", 1, "Bob")),
])
def test_destinations_parse(text, expected):
    assert parse_destination(text, 11111, "--livelink") == expected


@pytest.mark.parametrize("text", ["host:0", "host:70000", "host:http", ":9000", "[::1", "[::1]9000", "host:1@"])
def test_bad_destinations_are_one_line_errors(text):
    with pytest.raises(ConfigError) as err:
        parse_destination(text, 9000, "--osc")
    assert "\n" not in str(err.value) and "--osc" in str(err.value)


@pytest.mark.parametrize("text, hint", [
    ("::1:9000", "[::1]:9000"),  # issue 16: an IPv6 address with a port needs brackets
    ("127.0.0.1:\u0669\u0660\u0660\u0660", "port must be a number from 1 to 65535"),  # Arabic-Indic 9000
    ("127.0.0.1:9000@../x", "'..'"),  # a subject as --subject takes it
    ("127.0.0.1:9000@.hidden", "hidden"),
    ("127.0.0.1:9000@-rf", "option-like"),
])
def test_destinations_refused_with_a_hint(text, hint):
    with pytest.raises(ConfigError) as err:
        parse_destination(text, 9000, "--osc")
    assert hint in str(err.value) and str(err.value).startswith("--osc")


@pytest.mark.parametrize("value, expected", [
    ("off", None), ("OFF", None), (" Off ", None), (False, None),
    ("18006", Destination("127.0.0.1", 18006)),  # a bare port is a port on 127.0.0.1
    (18006, Destination("127.0.0.1", 18006)),
    ("127.0.0.1:0", Destination("127.0.0.1", 0)),  # 0 picks a free port
    ("[::1]:0", Destination("::1", 0)),
    ({"host": "127.0.0.1", "port": 0}, Destination("127.0.0.1", 0)),
    ("0.0.0.0:8000", Destination("0.0.0.0", 8000)),  # allowed, with a warning when it binds
])
def test_control_option_forms(value, expected):
    assert parse_control(value, "--control") == expected
    if expected is not None:
        assert load_config(None, {"control": value}).control == expected


@pytest.mark.parametrize("value, message", [
    ("127.0.0.1:65536", "port must be a number from 0 to 65535"),
    ("127.0.0.1:\u0661\u0668\u0660\u0660\u0666", "port must be a number"),
    ("127.0.0.1:8000@Face", "no subject"),
    (True, "expected HOST:PORT or off, got true"),
    ("::1:8000", "[::1]:8000"),
])
def test_bad_control_options(value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_control(value, "--control")


def test_yaml_then_command_line(tmp_path):
    path = tmp_path / "serve.yaml"
    path.write_text("preset: arkit\nfps: 30\nlookahead-ms: 80\nosc:\n  - 127.0.0.1:9001@Alice\n"
                    "  - {host: 127.0.0.1, port: 9002, subject: Bob}\ncontrol: off\nrecord: takes\n")
    config = load_config(path, {"fps": 60, "preset": None})
    assert config.preset == "arkit" and config.fps == 60 and config.lookahead_ms == 80.0
    assert config.osc == [Destination("127.0.0.1", 9001, "Alice"), Destination("127.0.0.1", 9002, "Bob")]
    assert config.control is None
    assert config.takes_folder == "takes"


@pytest.mark.parametrize("content, message", [
    ("lookahed_ms: 50\n", "did you mean 'lookahead_ms'"),
    ("fps: 25\n", "must be one of 30, 60"),
    ("fps: sixty\n", "expected a number"),
    ("hop_ms: 5\n", "must be from 10 to 20"),
    ("quiet: maybe\n", "expected true or false"),
    ("- just\n- a list\n", "expected a mapping"),
    ("preset: [unclosed\n", "serve.yaml:"),
    ("osc: 127.0.0.1:99999\n", "port must be a number"),
])
def test_bad_config_files(tmp_path, content, message):
    path = tmp_path / "serve.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unreadable_config(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not a text file"):
        load_config(tmp_path / "bin.yaml")


@pytest.mark.parametrize("content, message", [
    ("fps: 30\npreset: arkit\nfps: 60\n", "serve.yaml:3: fps: duplicate key (first given on line 1)"),
    ("osc:\n  - {host: a, port: 1, host: b}\n", "serve.yaml:2: osc[0].host: duplicate key"),
    ("record: true\n", "serve.yaml:1: record: expected a folder to record takes into (e.g. record: takes), got true"),
    ("takes_dir: yes\n", "serve.yaml:1: takes_dir: expected a folder"),
    ("preset: false\n", "serve.yaml:1: preset: expected a preset name or file, got false"),
    ("compute: null\n", "serve.yaml:1: compute: expected text, got null"),
    ("control: true\n", "serve.yaml:1: control: expected HOST:PORT or off, got true"),
    ("lookahead_ms: 1" + "0" * 400 + "\n", "serve.yaml:1: lookahead_ms: number too large"),
    ("seed: .inf\n", "serve.yaml:1: seed: expected a finite number, got inf"),
    ("seed: 1" + "0" * 5000 + "\n", "serve.yaml:1: seed: cannot read value: a number of 5001 digits"),
    ("subject: 2024-13-45\n", "serve.yaml:1: subject: cannot read value: month must be in 1..12"),
    ("subject: !!python/name:os.system\n", "serve.yaml:1: subject: cannot read value"),
    ("osc: " + "[" * 3000 + "]" * 3000 + "\n", "serve.yaml:1: nested more than 20 levels deep"),
    ("input: " + "x" * 5000 + "\nfast: [" + "y" * 5000 + "]\n", "serve.yaml:2: fast: expected true or false, got ['yyyy"),
])
def test_config_values_of_the_wrong_kind_are_one_short_line(tmp_path, content, message):
    path = tmp_path / "serve.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    error = str(err.value)
    assert error.startswith(str(path)) and message in error, error
    assert "\n" not in error and len(error) < len(str(path)) + 200


def test_record_false_and_null_mean_no_recording(tmp_path):
    path = tmp_path / "serve.yaml"
    path.write_text("record: false\ndevice: 2\n")
    config = load_config(path)
    assert config.record is None and config.takes_folder == "takes" and config.device == "2"
    path.write_text("record: ~\ntakes_dir: my takes\n")
    assert load_config(path).takes_folder == "my takes"
