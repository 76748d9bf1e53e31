"""The studio's web server: the page, its JSON API and the frame WebSocket, on its own thread.

    GET  /                      the page (static/index.html; static/ holds its scripts)
    GET  /api/state             mode, fps, the preset's edit state, recording, takes folder
    GET  /api/preset            the preset the stream runs, with the preset file's keys
    PATCH /api/preset           a partial preset document, applied live, or 400 with the validation message
    POST /api/preset/undo | /api/preset/revert | /api/preset/compare {"use"} | /api/preset/save {"name"?}
    GET  /api/presets           the presets found (name, path, description)
    POST /api/command           {"address": "/RecordStart", "args": [...]}: a remote-control command
    GET  /api/takes             the takes folder's takes; /api/takes/<csv> one take's frames; /takes/<file> its files
    GET  /ws                    frames (binary, ``feed.FrameView``), curves and meters (JSON), pushed

docs/studio.md documents all of it. aiohttp serves; nothing here parses HTTP by hand. Every answer is
JSON; a refusal is ``{"error": "one line"}`` with 400 (bad request) or 404.

The page is for this machine: the server binds 127.0.0.1 unless told otherwise (then it warns), and
it answers only requests whose Host is an address it listens on or ``localhost`` and whose Origin, if
any, is its own, so a web site open in the same browser cannot reach it (DNS rebinding, cross-site
requests). Requests that change something must be JSON.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import threading
import time
from pathlib import Path

from aiohttp import WSMsgType, web

from ..animators.emotion import EMOTIONS
from ..control.remote import open_to_network
from ..errors import PmmtalkError, StudioError
from .live import LiveStudio
from .feed import FrameView
from .takes import TakeMissing, list_takes, take_file, take_frames

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

FRAME_INTERVAL_S = 0.05
"""How often queued frames go to the pages, three at a time at 60 fps (their own timing is kept: each
frame carries its number, and the page draws it at its time, a little behind)."""
CURVES_INTERVAL_S = 0.2
"""How often the output curves and source channels behind them go along (the meters beside the sliders)."""
STATS_INTERVAL_S = 0.5
"""How often the meters (latency, real-time factor, dropped frames, recording) are pushed."""
MAX_BODY_BYTES = 256 * 1024
"""Largest request body: a whole preset document is about 20 kB."""


class StudioServer:
    """Serves the studio for a live session (``live``) or a takes folder alone (playback).

    Binds at construction (a port in use fails here with StudioError); ``start`` runs it on a daemon
    thread; ``close`` stops it. ``url`` is what to open in a browser.
    """

    def __init__(self, host: str, port: int, *, live: LiveStudio | None = None, takes_folder: Path,
                 open_take: str | None = None) -> None:
        self.live = live
        self.takes_folder = Path(takes_folder)
        self.open_take = open_take
        """A take's CSV name the page opens at once (``pmmtalk-live studio TAKE.csv``)."""
        self.clients = 0
        self._sockets: set[web.WebSocketResponse] = set()
        self._view = FrameView()
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._pusher: asyncio.Task | None = None
        self._watched = asyncio.Event()
        """Set while a page is connected (the pusher sleeps otherwise)."""
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        self._loop.run_until_complete(self._runner.setup())
        try:
            self._loop.run_until_complete(web.TCPSite(self._runner, host, port).start())
        except OSError as error:
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()
            raise StudioError(_bind_error(host, port, error)) from None
        self.host, self.port = self._runner.addresses[0][:2]  # the real port when 0 was asked for
        self._allowed_hosts = _allowed_hosts(self.host, self.port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "[::]") else host
        return f"http://{shown}:{self.port}/"

    def start(self) -> "StudioServer":
        self._thread = threading.Thread(target=self._serve, name="pmmtalk-studio", daemon=True)
        self._thread.start()
        log.info("studio: %s", self.url)
        if open_to_network(self.host):
            log.warning("studio: %s:%s is open to the network, with no authentication: whoever reaches it "
                        "can change presets, start takes and read them; bind 127.0.0.1 or a trusted "
                        "network only (docs/studio.md, Security)", self.host, self.port)
        return self

    def close(self) -> None:
        """Stop serving and close the port (open pages are disconnected). Safe to call twice."""
        if self._loop.is_closed():
            return
        if self._thread is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        else:
            self._loop.run_until_complete(self._shutdown())
        self._loop.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        if self.live is not None:
            self._pusher = self._loop.create_task(self._push())
        self._loop.run_forever()

    async def _shutdown(self) -> None:
        if self._pusher is not None:
            self._pusher.cancel()
        for ws in list(self._sockets):
            await ws.close()
        await self._runner.cleanup()

    # --- the application ---------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_BODY_BYTES)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/preset", self._preset)
        app.router.add_patch("/api/preset", self._patch)
        app.router.add_post("/api/preset/{action}", self._preset_action)
        app.router.add_get("/api/presets", self._presets)
        app.router.add_post("/api/command", self._command)
        app.router.add_get("/api/takes", self._takes)
        app.router.add_get("/api/takes/{name}", self._take)
        app.router.add_get("/takes/{name}", self._take_file)
        app.router.add_get("/ws", self._websocket)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler):
        """This machine's pages only (Host and Origin), JSON bodies only; errors become JSON."""
        if self._allowed_hosts is not None and request.host.lower() not in self._allowed_hosts:
            return _error(403, f"host {request.host[:80]!r} is not this studio's address (open {self.url})")
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() != f"{request.scheme}://{request.host}".lower():
            return _error(403, f"requests from {origin[:80]!r} are refused: only the studio page may use its API")
        if request.method in ("POST", "PATCH", "PUT") and request.content_type != "application/json":
            return _error(415, "send JSON (Content-Type: application/json)")
        try:
            return await handler(request)
        except web.HTTPException as http:
            if http.status >= 400 and not http.text.startswith("{"):
                return _error(http.status, http.reason)
            raise
        except PmmtalkError as error:  # a refusal a user can act on: one line, the stream goes on
            return _error(404 if isinstance(error, TakeMissing) else 400, str(error))

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def _state(self, request: web.Request) -> web.Response:
        live = self.live
        state = {"mode": "live" if live else "playback", "takes_folder": str(self.takes_folder),
                 "open_take": self.open_take}
        if live is not None:
            engine = live.session.engine
            state.update(fps=engine.fps, preset=live.state(), recording=live.recording(),
                         animator=engine.animator.name, emotions=list(EMOTIONS),
                         emotion={"name": engine.emotion.name, "intensity": engine.emotion.intensity})
        return web.json_response(state)

    def _live(self) -> LiveStudio:
        if self.live is None:
            raise web.HTTPNotFound(text=json.dumps({"error": "no live session: this studio plays takes only"}),
                                   content_type="application/json")
        return self.live

    async def _preset(self, request: web.Request) -> web.Response:
        return web.json_response(self._live().preset_document())

    async def _patch(self, request: web.Request) -> web.Response:
        live = self._live()
        document = live.patch(await _json(request))
        return web.json_response(document)

    async def _preset_action(self, request: web.Request) -> web.Response:
        live = self._live()
        body = await _json(request) if request.can_read_body else {}
        if not isinstance(body, dict):
            raise StudioError("send a JSON object")
        match request.match_info["action"]:
            case "undo":
                return web.json_response(live.undo())
            case "revert":
                return web.json_response(live.revert())
            case "compare":
                return web.json_response(live.compare(body.get("use")))
            case "save":
                path = live.save(body.get("name"))
                return web.json_response({"saved": str(path), "state": live.state()})
        raise web.HTTPNotFound()

    async def _presets(self, request: web.Request) -> web.Response:
        self._live()
        return web.json_response(await asyncio.to_thread(LiveStudio.presets))

    async def _command(self, request: web.Request) -> web.Response:
        live = self._live()
        body = await _json(request)
        if not isinstance(body, dict):
            raise StudioError('a command is {"address": "/RecordStart", "args": [...]}')
        reply = await asyncio.to_thread(live.command, body.get("address"), body.get("args", []))
        return web.json_response({"reply": reply, "state": live.state(), "recording": live.recording()})

    async def _takes(self, request: web.Request) -> web.Response:
        return web.json_response(await asyncio.to_thread(list_takes, self.takes_folder))

    async def _take(self, request: web.Request) -> web.Response:
        path = take_file(self.takes_folder, request.match_info["name"], ".csv")
        return web.json_response(await asyncio.to_thread(take_frames, path))

    async def _take_file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = take_file(self.takes_folder, name, ".wav" if name.endswith(".wav") else ".csv")
        return web.FileResponse(path)

    # --- frames and meters ---------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=10.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        self.clients = len(self._sockets)
        self._watched.set()
        if self.live is not None:
            self.live.feed.watching = True
        try:
            async for message in ws:  # the page sends nothing; reading notices when it goes away
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            self._sockets.discard(ws)
            self.clients = len(self._sockets)
            if not self._sockets:
                self._watched.clear()
                if self.live is not None:
                    self.live.feed.watching = False
        return ws

    async def _push(self) -> None:
        """Frames every ``FRAME_INTERVAL_S``, meters every ``STATS_INTERVAL_S``, to every open page."""
        live = self.live
        next_stats = next_curves = 0.0
        while True:
            await self._watched.wait()  # no page, no work: the feed keeps only the newest frame meanwhile
            await asyncio.sleep(FRAME_INTERVAL_S)
            try:
                frames = live.feed.drain()
                if not self._sockets:
                    continue
                messages: list[str | bytes] = []
                now = time.monotonic()
                if frames:
                    messages.append(self._view.frames(frames, live.session.stats.level_db))
                    if now >= next_curves:
                        next_curves = now + CURVES_INTERVAL_S
                        messages.append(json.dumps(self._view.curves(frames[-1]), allow_nan=False))
                if now >= next_stats:
                    next_stats = now + STATS_INTERVAL_S
                    messages.append(json.dumps(self._meters(), allow_nan=False))
                for message in messages:
                    for ws in list(self._sockets):
                        await _send(ws, message)
            except Exception as error:  # a bug here must not end the page's feed for the session
                log.warning("studio: cannot send frames: %s: %s", type(error).__name__, error)

    def _meters(self) -> dict:
        live = self.live
        snap = live.session.stats.snapshot(recent=True)
        return {"type": "meters", "latency_p50_ms": _finite(snap.latency_p50_ms),
                "latency_p95_ms": _finite(snap.latency_p95_ms), "real_time_factor": _finite(snap.real_time_factor),
                "frames_sent": snap.frames_sent, "frames_dropped": snap.frames_dropped,
                "level_db": _finite(live.session.stats.level_db), "recording": live.recording(),
                "emotion": str(live.session.engine.emotion),
                "preset": live.state()}


async def _send(ws: web.WebSocketResponse, message: str | bytes) -> None:
    try:
        await (ws.send_bytes(message) if isinstance(message, bytes) else ws.send_str(message))
    except (ConnectionError, RuntimeError):
        pass  # the page went away; its handler removes it


async def _json(request: web.Request):
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise StudioError("the request body is not JSON") from None


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _finite(value: float) -> float | None:
    return round(value, 2) if value == value and abs(value) != float("inf") else None


def _allowed_hosts(host: str, port: int) -> set[str] | None:
    """The Host headers a request may carry: the bound address and loopback names, with the port.
    None (any) when bound to every address, where the machine's own names are not known here."""
    if host in ("0.0.0.0", "::"):
        return None
    names = {host, f"[{host}]", "localhost", "127.0.0.1", "[::1]"}
    return {f"{name}:{port}".lower() for name in names}


def _bind_error(host: str, port: int, error: OSError) -> str:
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return f"studio port {where} is in use (another pmmtalk-live studio?); choose another with --studio HOST:PORT"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"studio address {host!r} is not an address of this machine"
    if error.errno == errno.EACCES:
        return f"studio port {where} needs administrator rights (ports below 1024); choose another"
    return f"cannot open studio port {where}: {error.strerror or error}"
