"""The studio's server and API against a real session (file source at real-time pace, real sockets,
real HTTP): live preset edits reach the Live Link Face packets, refusals are the preset files' own
messages, commands are the remote-control port's, takes are read back, and nothing outside the page's
own origin or folders is reachable."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from pmmtalk_live import rig
from pmmtalk_live.config import Destination, ServeConfig, load_config
from pmmtalk_live.errors import ConfigError, StudioError
from pmmtalk_live.studio import DEFAULT_PORT, StudioServer

from .conftest import user_presets_folder
from .test_serve_control import Session
from .wire import decode_live_link_face

MOUTH_CLOSE = rig.LIVE_LINK_FACE_NAMES.index("MouthClose")


def call(url: str, method: str = "GET", body=None, headers: dict | None = None):
    """(status, JSON answer) of one request."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if response.headers.get_content_type() == "application/json" else raw
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def studio(tmp_path, monkeypatch):
    user_presets_folder(tmp_path, monkeypatch)
    s = Session(tmp_path, preset="mine", studio=Destination("127.0.0.1", 0))
    s.url = s.session.studio.url
    yield s
    s.close()


def test_state_and_preset(studio):
    status, state = call(studio.url + "api/state")
    assert status == 200 and state["mode"] == "live" and state["fps"] == 60
    assert state["preset"]["name"] == "mine" and not state["preset"]["changed"]
    status, preset = call(studio.url + "api/preset")
    assert set(preset) == {"description", "smoothing", "idle", "expression", "outputs"}
    assert preset["outputs"]["JawOpen"] == {"mix": {"jawOpen": 1.0, "mouthClose": -1.0}, "gain": 1.25, "offset": 0.0,
                                            "clamp": [0.0, 1.0], "region": "jaw"}


def test_a_patch_reaches_the_live_link_packets_within_100_ms(studio):
    assert studio.livelink.wait_for(lambda p: len(p) >= 10, 20)
    last_value = lambda: decode_live_link_face(studio.livelink.payloads()[-1]).values[MOUTH_CLOSE]
    assert last_value() == 0.0  # MouthClose is a constant 0 in this preset
    sent = time.monotonic()
    status, _ = call(studio.url + "api/preset", "PATCH", {"outputs": {"MouthClose": {"offset": 0.5}}})
    assert status == 200
    assert studio.livelink.wait_for(lambda p: decode_live_link_face(p[-1]).values[MOUTH_CLOSE] == 0.5, 5)
    arrived = next(t for t, data in studio.livelink.datagrams
                   if t >= sent and decode_live_link_face(data).values[MOUTH_CLOSE] == 0.5)
    assert arrived - sent < 0.1, f"{(arrived - sent) * 1000:.0f} ms"


def test_a_bad_value_is_refused_with_the_preset_files_message_and_the_stream_goes_on(studio):
    status, answer = call(studio.url + "api/preset", "PATCH", {"outputs": {"JawOpen": {"gain": "loud"}}})
    assert status == 400
    assert answer["error"].endswith("outputs.JawOpen.gain: expected a number, got 'loud'")
    count = len(studio.livelink.payloads())
    assert studio.livelink.wait_for(lambda p: len(p) >= count + 30, 10)
    assert call(studio.url + "api/state")[1]["preset"]["changed"] is False


def test_undo_compare_and_save(studio, tmp_path):
    call(studio.url + "api/preset", "PATCH", {"outputs": {"JawOpen": {"gain": 0.5}}})
    assert call(studio.url + "api/preset/compare", "POST", {"use": "saved"})[1]["outputs"]["JawOpen"]["gain"] == 1.25
    assert call(studio.url + "api/preset")[1]["outputs"]["JawOpen"]["gain"] == 1.25
    assert call(studio.url + "api/preset/compare", "POST", {"use": "edited"})[1]["outputs"]["JawOpen"]["gain"] == 0.5
    assert call(studio.url + "api/preset/undo", "POST", {})[1]["outputs"]["JawOpen"]["gain"] == 1.25
    assert call(studio.url + "api/preset/undo", "POST", {}) == (400, {"error": "nothing to undo"})
    call(studio.url + "api/preset", "PATCH", {"outputs": {"JawOpen": {"gain": 0.75}}})
    status, saved = call(studio.url + "api/preset/save", "POST", {"name": "mine_soft"})
    assert status == 200 and saved["saved"] == str(tmp_path / "presets" / "mine_soft.yaml")
    assert "# MetaHuman" in (tmp_path / "presets" / "mine_soft.yaml").read_text()
    assert saved["state"]["name"] == "mine_soft" and not saved["state"]["changed"]
    status, refused = call(studio.url + "api/preset/save", "POST", {"name": "../../outside"})
    assert status == 400 and "not a plain name" in refused["error"]


def test_an_edit_elsewhere_restarts_the_studio_edit(studio, tmp_path):
    call(studio.url + "api/preset", "PATCH", {"outputs": {"JawOpen": {"gain": 0.5}}})
    version = call(studio.url + "api/state")[1]["preset"]["version"]
    studio.send("/Preset", "metahuman")  # the remote-control port switches preset
    studio.sync()
    state = call(studio.url + "api/state")[1]["preset"]
    assert state["name"] == "metahuman" and state["version"] > version and not state["changed"]


def test_commands_are_the_remote_control_ports(studio, tmp_path):
    status, started = call(studio.url + "api/command", "POST", {"address": "/RecordStart", "args": ["scene", 3]})
    assert status == 200 and started["reply"][0] == "/RecordStartConfirm"
    assert started["recording"]["take"] == "scene_3_pmmtalk_raw.csv"
    status, refused = call(studio.url + "api/command", "POST", {"address": "/RecordStart", "args": []})
    assert status == 400 and "already" in refused["error"]
    studio.frames_after(studio.osc, 30)
    status, stopped = call(studio.url + "api/command", "POST", {"address": "/RecordStop", "args": []})
    assert stopped["reply"][0] == "/RecordStopConfirm" and stopped["recording"] is None
    assert call(studio.url + "api/command", "POST", {"address": "/Slate", "args": ["../x"]})[0] == 400
    assert call(studio.url + "api/command", "POST", {"address": "/Nope", "args": []}) == (400, {"error": "unknown command"})

    takes = call(studio.url + "api/takes")[1]
    assert [t["csv"] for t in takes] == ["scene_3_pmmtalk_raw.csv"] and takes[0]["wav"] == "scene_3_pmmtalk.wav"
    status, take = call(studio.url + "api/takes/scene_3_pmmtalk_raw.csv")
    assert status == 200 and take["frames"] >= 30 and len(take["wire"][0]) == 61 and take["wav"]
    status, wav = call(studio.url + "takes/scene_3_pmmtalk.wav")
    assert status == 200 and wav[:4] == b"RIFF"


@pytest.mark.parametrize("path", ["api/takes/..%2F..%2Fetc%2Fpasswd", "takes/..%2Fpresets%2Fmine.yaml",
                                  "takes/%2Fetc%2Fpasswd", "api/takes/.hidden.csv", "takes/x.yaml",
                                  "static/..%2F..%2Fserver.py"])
def test_no_file_outside_the_takes_folder_or_the_page(studio, path):
    status, answer = call(studio.url + path)
    assert status in (400, 403, 404)


def test_only_this_machines_page_may_call(studio):
    assert call(studio.url + "api/state", headers={"Host": "attacker.example:80"})[0] == 403  # DNS rebinding
    status, answer = call(studio.url + "api/preset", "PATCH", {"outputs": {"JawOpen": {"gain": 0}}},
                          headers={"Origin": "http://attacker.example"})
    assert status == 403 and "refused" in answer["error"]
    status, answer = call(studio.url + "api/preset", "PATCH", b'{"outputs": {}}',
                          headers={"Content-Type": "text/plain"})  # a cross-site form cannot send JSON
    assert status == 415
    assert call(studio.url + "api/preset", "PATCH", b"not json")[0] == 400
    assert call(studio.url + "api/state")[1]["preset"]["changed"] is False


def test_a_port_in_use_is_one_line(tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        with pytest.raises(StudioError, match="in use"):
            StudioServer("127.0.0.1", busy.getsockname()[1], takes_folder=tmp_path)
    finally:
        busy.close()


def test_the_studio_address_setting():
    assert load_config(None, {"studio": "on"}).studio == Destination("127.0.0.1", DEFAULT_PORT)
    assert load_config(None, {"studio": "9001"}).studio == Destination("127.0.0.1", 9001)
    assert load_config(None, {}).studio is None
    with pytest.raises(ConfigError, match="studio"):
        load_config(None, {"studio": "host:notaport"})


def test_binding_to_the_network_warns(tmp_path, caplog):
    server = StudioServer("0.0.0.0", 0, takes_folder=tmp_path)
    try:
        server.start()
        assert any("open to the network" in r.message for r in caplog.records)
    finally:
        server.close()
