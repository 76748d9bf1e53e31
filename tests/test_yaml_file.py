"""The one reader of users' YAML files (presets, serve configs): hostile files give one short line, never a
traceback, with libyaml's loader and with PyYAML's pure-Python one alike."""

from __future__ import annotations

import time

import pytest
import yaml

from pmmtalk_live import yaml_file
from pmmtalk_live.errors import PresetError

LOADERS = [pytest.param(yaml.SafeLoader, id="python")]
if hasattr(yaml, "CSafeLoader"):
    LOADERS.append(pytest.param(yaml.CSafeLoader, id="libyaml"))


def alias_chain(links: int) -> str:
    """Each anchor a list holding the previous one: shallow text, ``links`` levels deep once read."""
    lines = ["l0: &l0 [1]"] + [f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, links)]
    return "\n".join(lines) + "\n"


def alias_bomb(levels: int) -> str:
    """The 'billion laughs': each level ten of the previous one, 10**levels values once expanded."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


HOSTILE = {
    "flow nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 20 levels deep"),
    "flow nesting within libyaml's limit": ("a: " + "[" * 900 + "]" * 900 + "\n", "nested more than 20 levels deep"),
    "block nesting": ("".join(" " * i + f"k{i}:\n" for i in range(3000)) + " " * 3000 + "1\n",
                      "nested more than 20 levels deep"),
    "alias chain": (alias_chain(2000), "nested more than 20 levels deep"),
    "alias bomb": (alias_bomb(9), "more than 100000 values once aliases are expanded"),
    "value containing itself": ("a: &a [1, *a]\n", "a value cannot contain itself"),
    "duplicate key": ("a: 1\nb:\n  c: 1\n  c: 2\n", ":4: b.c: duplicate key (first given on line 3)"),
    "not YAML": ("a: [1, 2\n", "not valid YAML"),
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text, message", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_documents_are_one_short_line(loader, text, message):
    started = time.monotonic()
    with pytest.raises(PresetError) as caught:
        yaml_file.compose(text, "x.yaml", PresetError, loader=loader)
    error = str(caught.value)
    assert error.startswith("x.yaml") and message in error, error
    assert "\n" not in error and len(error) < 200
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("loader", LOADERS)
def test_ordinary_documents_compose(loader):
    root = yaml_file.compose("a: &x {b: [1, 2]}\nc: *x\nd:\n  <<: *x\n  e: 3\n", "x.yaml", PresetError, loader=loader)
    assert yaml_file.value_of(root) == {"a": {"b": [1, 2]}, "c": {"b": [1, 2]}, "d": {"b": [1, 2], "e": 3}}
    assert yaml_file.compose("# nothing\n", "x.yaml", PresetError, loader=loader) is None


@pytest.mark.parametrize("text, reason", [
    ("!!python/name:os.system", "could not determine a constructor"),
    ("1" + "0" * 5000, "a number of 5001 digits"),
    ("2024-13-45", "month must be in 1..12"),
])
def test_values_the_safe_constructor_refuses_are_value_errors(text, reason):
    node = yaml_file.compose(f"a: {text}\n", "x.yaml", PresetError).value[0][1]
    with pytest.raises(ValueError, match=reason):
        yaml_file.value_of(node)


def test_files_that_cannot_be_read(tmp_path):
    def read(path, max_bytes=100):
        with pytest.raises(PresetError) as caught:
            yaml_file.read_text(path, "preset file", PresetError, max_bytes)
        return str(caught.value)

    assert read(tmp_path / "none.yaml").endswith("none.yaml: no such preset file")
    assert "is a folder, not a preset file" in read(tmp_path)
    (tmp_path / "big.yaml").write_text("a: 1\n" * 100)
    assert "too large for a preset file (at most 100 bytes)" in read(tmp_path / "big.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    assert "not a text file" in read(tmp_path / "bin.yaml")
    assert "not a regular file" in read(__import__("pathlib").Path("/dev/zero"))


def test_quotes_are_short_and_on_one_line():
    assert yaml_file.shorten("a\nb" + "c" * 100) == "a\\nb" + "c" * 36 + "..."
    assert yaml_file.show(True) == "true" and yaml_file.show(None) == "null"
    nested = [[list(range(1000))] * 1000] * 1000
    assert len(yaml_file.show(nested)) < 100
