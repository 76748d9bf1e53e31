"""The package as a user installs it: a wheel built from the source, installed into a fresh virtual
environment (the dependencies seen from the project's own environment, so nothing is downloaded), run
from a folder far from the source. Everything the package reads at run time must be in the wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from pmmtalk_live.sinks.csv_take import read_take
from tests.conftest import REPO

PACKAGE = REPO / "pmmtalk_live"


def run(*args, cwd=None, timeout=120):
    # a clean environment: no PYTHONPATH that could lead back to the source tree
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)


def runtime_files() -> set[str]:
    """Every file of the package in the source but caches: the modules, data, the packaged models, the
    presets (through the pmmtalk_live/presets link), as paths inside the wheel."""
    found = set()
    for path in PACKAGE.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            found.add(path.relative_to(REPO).as_posix())
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the wheel, the venv's bin folder, the installed package folder)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "presets", source / "presets")
    shutil.copytree(PACKAGE, source / "pmmtalk_live", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "-q", "-w", root / "dist", source)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (root / "dist").glob("pmmtalk_live-*.whl")

    venv = root / "venv"
    made = run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    # the project's environment after the venv's own: torch, pocketsphinx, ... without a download; a
    # plain path in a .pth does not run that environment's own .pth files, so its editable link to
    # the source tree stays out
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q",
                    wheel)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return wheel, venv / "bin", site / "pmmtalk_live"


def test_the_wheel_holds_every_file_the_package_reads(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = runtime_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    for required in ("pmmtalk_live/presets/arkit.yaml", "pmmtalk_live/data/example.wav",
                     "pmmtalk_live/data/models/default/model.safetensors"):
        assert required in names


def test_the_installed_command_finds_its_presets_and_animates(installed, tmp_path):
    _, bin_dir, package = installed
    where = run(bin_dir / "python", "-c", "import pmmtalk_live; print(pmmtalk_live.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).parent == package, where.stdout + where.stderr  # not the source tree

    listed = run(bin_dir / "pmmtalk-live", "presets", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for name in ("arkit", "metahuman", "vrm"):
        assert f"{package / 'presets' / name}.yaml" in listed.stdout, listed.stdout

    example = package / "data" / "example.wav"
    for animator in ("phonetic", "pmmtalk"):  # pmmtalk: the packaged default model
        done = run(bin_dir / "pmmtalk-live", "animate", example, "--animator", animator, "--preset", "metahuman",
                   "-o", tmp_path / animator, "-q", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        take = read_take(tmp_path / animator / "example_1_pmmtalk_raw.csv")
        assert take.num_frames == 521 and take.column("JawOpen").max() > 0.2


def test_the_installed_studio_serves_its_page_and_a_take(installed, tmp_path):
    """``pmmtalk-live studio TAKE.csv`` from the wheel: the page, its scripts and the take come from
    the installed package (its static files are package data)."""
    import re
    import signal
    import urllib.request

    _, bin_dir, package = installed
    done = run(bin_dir / "pmmtalk-live", "animate", package / "data" / "example.wav", "--animator", "phonetic",
               "-o", tmp_path / "takes", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    studio = subprocess.Popen([bin_dir / "pmmtalk-live", "studio", tmp_path / "takes" / "example_1_pmmtalk_raw.csv",
                               "--address", "127.0.0.1:0"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        line = studio.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line + (studio.stderr.read() if studio.poll() is not None else "")
        page = urllib.request.urlopen(url[0], timeout=10).read().decode()
        assert "/static/app.js" in page
        for script in ("app.js", "face.js", "editor.js", "plot.js", "style.css"):
            assert urllib.request.urlopen(f"{url[0]}static/{script}", timeout=10).status == 200
        take = urllib.request.urlopen(f"{url[0]}api/takes/example_1_pmmtalk_raw.csv", timeout=10).read()
        assert b'"frames": 521' in take
    finally:
        studio.send_signal(signal.SIGINT)
        assert studio.wait(timeout=20) == 0
