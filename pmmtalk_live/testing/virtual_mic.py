"""A virtual microphone for tests, benchmarks and demos on machines without a sound card.

A private PulseAudio daemon (in a temporary folder, reached only by processes given ``env``) with a
pipe source: whatever is written into its FIFO (16 kHz mono s16le) is what a recording client hears.
A feeder thread writes into the FIFO at real-time pace on the monotonic clock, in ``chunk_ms``
chunks: the audio given to ``feed()``, and silence in between, because PulseAudio's pipe source
produces nothing at all while its FIFO is empty (an ``InputStream`` then gets no callbacks, which a
microphone would take for a device that went away). The pipe source reads its FIFO only while a
client records, so the feeder skips chunks while more than ``MAX_BACKLOG_S`` sits unread: what is
said while nobody listens is lost, as with a real microphone, and a client that starts recording
does not get stale audio.

Measured here (PulseAudio 16.1, PortAudio through ALSA's ``pulse`` device, 2 cores): the audio
arrives bit-exact; with 20 ms chunks and 10 ms device blocks the callbacks come in pairs 0.1 ms
apart, every 20.0 ms, the first within 0.3 to 2 ms of the write. A device opened at 44.1 or 48 kHz
(PulseAudio resamples) hears the same audio (correlation 0.9999 after resampling back) 3 to 10 ms
later. PortAudio's ADC timestamps on this path are off by up to a block (even in the future).

In this process (PortAudio lists devices once, at ``import sounddevice``; ``activate`` sets
``os.environ`` and re-initialises it)::

    with VirtualMicrophone() as mic:
        mic.activate()
        source = open_source("mic", device=mic.device)
        source.start()
        writes = mic.feed(samples)     # [(first sample of the chunk, time.monotonic() written), ...]
        mic.wait_fed()

From another process: ``subprocess.Popen([... "--device", mic.device], env={**os.environ, **mic.env})``.
``env`` names only the server's socket, its cookie and the source: the process keeps its own HOME.
"""

from __future__ import annotations

import array
import collections
import errno
import fcntl
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..tracks import SAMPLE_RATE_HZ

log = logging.getLogger(__name__)

DEVICE = "pulse"
"""The PortAudio (ALSA) device that records from PulseAudio's default source."""
SOURCE_NAME = "vmic"
MAX_BACKLOG_S = 0.1
"""Unread audio in the FIFO beyond which the feeder skips chunks (nobody is recording)."""
_PIPE_BUF = 4096  # writes up to this size into a FIFO are atomic


class VirtualMicrophoneError(RuntimeError):
    """PulseAudio is missing, fails to start, or died under the feeder."""


@dataclass
class _Take:
    """Audio queued by ``feed()``: s16 samples, how to pace them, and the record of each write."""

    pcm: np.ndarray  # int16, shape (n,)
    chunk_samples: int
    realtime: bool
    writes: list = field(default_factory=list)  # (first take sample of the chunk, monotonic time written)
    position: int = 0
    samples_skipped: int = 0
    done: threading.Event = field(default_factory=threading.Event)


class VirtualMicrophone:
    """A private PulseAudio daemon with a FIFO-fed microphone; a context manager (``start``/``stop``).

    chunk_ms: the feeder's default write size (the recipe: 20 ms). start_timeout_s: how long the
    daemon may take to come up.
    """

    def __init__(self, *, chunk_ms: float = 20, start_timeout_s: float = 10.0) -> None:
        self.chunk_ms = chunk_ms
        self.start_timeout_s = start_timeout_s
        self.device = DEVICE
        self.folder: str | None = None
        self._daemon: subprocess.Popen | None = None
        self._feeder: threading.Thread | None = None
        self._feeder_stop = threading.Event()
        self._takes: collections.deque[_Take] = collections.deque()
        self._takes_lock = threading.Lock()
        self._error: str | None = None
        self._saved_environ: dict[str, str | None] | None = None

    # --- the daemon -----------------------------------------------------------------------------------

    @staticmethod
    def available() -> bool:
        """Whether the pulseaudio binary is installed."""
        return shutil.which("pulseaudio") is not None

    @property
    def socket_path(self) -> str:
        return os.path.join(self._folder(), "native")

    @property
    def fifo_path(self) -> str:
        return os.path.join(self._folder(), f"{SOURCE_NAME}.fifo")

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach this microphone (merge into its environment)."""
        return {"PULSE_SERVER": f"unix:{self.socket_path}", "PULSE_COOKIE": os.path.join(self._folder(), "cookie"),
                "PULSE_SOURCE": SOURCE_NAME}

    @property
    def running(self) -> bool:
        return self._daemon is not None and self._daemon.poll() is None

    def _folder(self) -> str:
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="pmmtalk-vmic-")
        return self.folder

    def __enter__(self) -> "VirtualMicrophone":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Start the daemon (again, after ``kill``, at the same address) and the feeder; returns once
        the microphone exists. Raises ``VirtualMicrophoneError`` with the daemon's last words."""
        if self.running:
            return
        binary = shutil.which("pulseaudio")
        if binary is None:
            raise VirtualMicrophoneError("pulseaudio is not installed (Debian: pulseaudio pulseaudio-utils "
                                         "libasound2-plugins; scripts/setup.sh installs them)")
        folder = self._folder()
        for stale in (self.fifo_path, self.socket_path):  # left by a killed daemon
            if os.path.exists(stale):
                os.unlink(stale)
        log_path = os.path.join(folder, "daemon.log")
        command = [binary, "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--realtime=no",
                   "--high-priority=no", "--log-target=stderr",
                   "-L", f"module-native-protocol-unix auth-anonymous=1 socket={self.socket_path}",
                   "-L", f"module-null-sink sink_name=vsink rate={SAMPLE_RATE_HZ} channels=1",
                   "-L", f"module-pipe-source source_name={SOURCE_NAME} file={self.fifo_path} format=s16le "
                         f"rate={SAMPLE_RATE_HZ} channels=1"]
        # The daemon's own HOME and runtime folder: it writes its cookie and state there, not in ~.
        daemon_env = {**os.environ, "HOME": folder, "XDG_RUNTIME_DIR": folder}
        with open(log_path, "ab") as log_file:
            self._daemon = subprocess.Popen(command, env=daemon_env, stdin=subprocess.DEVNULL,
                                            stdout=log_file, stderr=log_file, start_new_session=True)
        try:
            self._wait_ready(log_path)
        except BaseException:
            self._kill_daemon()
            raise
        log.debug("virtual microphone: PulseAudio %d ready in %s", self._daemon.pid, folder)
        self._start_feeder()

    def _wait_ready(self, log_path: str) -> None:
        """Until the socket accepts a connection and the pipe source has made its FIFO."""
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            if self._daemon.poll() is not None:
                raise VirtualMicrophoneError(f"pulseaudio exited with status {self._daemon.returncode}: "
                                             f"{_tail(log_path)}")
            if "Failed to load module" in _tail(log_path):
                raise VirtualMicrophoneError(f"pulseaudio could not set up the microphone: {_tail(log_path)}")
            if os.path.exists(self.fifo_path) and _accepts(self.socket_path):
                return
            if time.monotonic() > deadline:
                raise VirtualMicrophoneError(f"pulseaudio was not ready after {self.start_timeout_s:g} s: "
                                             f"{_tail(log_path)}")
            time.sleep(0.02)

    def kill(self) -> None:
        """Kill the daemon as a crash would (SIGKILL): a recording client loses its device. The
        folder stays; ``start()`` brings a new daemon up at the same address."""
        self._stop_feeder()
        self._kill_daemon()

    def stop(self) -> None:
        """Stop the feeder and the daemon (by its PID), put back ``os.environ`` if ``activate``
        changed it, remove the folder. Idempotent."""
        self._stop_feeder()
        self._kill_daemon()
        if self._saved_environ is not None:
            for name, value in self._saved_environ.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved_environ = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        with self._takes_lock:
            for take in self._takes:
                take.done.set()
            self._takes.clear()

    def _kill_daemon(self) -> None:
        daemon, self._daemon = self._daemon, None
        if daemon is None or daemon.poll() is not None:
            return
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=10)

    def activate(self, *, reinitialize: bool = True) -> None:
        """Point this process at the microphone: ``env`` into ``os.environ`` (put back by ``stop``)
        and, with ``reinitialize``, PortAudio re-initialised so that it lists ``device``. That closes
        every PortAudio stream in this process."""
        if self._saved_environ is None:
            self._saved_environ = {name: os.environ.get(name) for name in self.env}
        os.environ.update(self.env)
        if reinitialize:
            from ..audio.devices import reinitialize_portaudio

            reinitialize_portaudio()

    # --- feeding --------------------------------------------------------------------------------------

    def feed(self, samples: np.ndarray, chunk_ms: float | None = None, realtime: bool = True) -> list:
        """Queue mono float32 samples at 16 kHz (shape (n,), -1..1) to be said into the microphone,
        after what is already queued. realtime: paced on the monotonic clock, one ``chunk_ms`` chunk
        when it is due; False: as fast as the FIFO takes them.

        Returns the list the feeder fills as it writes: ``(first sample, time.monotonic() written)``
        per chunk, the sample counted from this call's ``samples[0]``. Chunks skipped because nobody
        was recording are not in it."""
        if not self.running or self._feeder is None:
            raise VirtualMicrophoneError("the virtual microphone is not running (start() it first)")
        pcm = np.clip(np.round(np.asarray(samples, np.float64).reshape(-1) * 32768), -32768, 32767).astype("<i2")
        chunk_samples = max(1, int(round((chunk_ms or self.chunk_ms) * SAMPLE_RATE_HZ / 1000)))
        take = _Take(pcm, min(chunk_samples, _PIPE_BUF // 2), realtime)
        if len(pcm):
            with self._takes_lock:
                self._takes.append(take)
        return take.writes

    def wait_fed(self, timeout_s: float | None = None) -> bool:
        """Wait until everything queued by ``feed`` has been written; False on timeout. Raises
        ``VirtualMicrophoneError`` if the daemon died under the feeder (not by ``kill``)."""
        with self._takes_lock:
            last = self._takes[-1] if self._takes else None
        done = last is None or last.done.wait(timeout_s)
        if self._error:
            raise VirtualMicrophoneError(self._error)
        return done

    def _start_feeder(self) -> None:
        fd = os.open(self.fifo_path, os.O_WRONLY | os.O_NONBLOCK)  # the daemon holds the read end open
        self._feeder_stop.clear()
        self._error = None
        self._feeder = threading.Thread(target=self._run_feeder, args=(fd,), name="virtual-mic-feeder", daemon=True)
        self._feeder.start()

    def _stop_feeder(self) -> None:
        self._feeder_stop.set()
        if self._feeder is not None:
            self._feeder.join(timeout=5)
            self._feeder = None

    def _run_feeder(self, fd: int) -> None:
        """Write a chunk whenever one is due: the current take's next samples, else silence."""
        silence = np.zeros(max(1, int(round(self.chunk_ms * SAMPLE_RATE_HZ / 1000))), "<i2")
        origin_s = time.monotonic()
        written = 0  # samples of the microphone's timeline so far (silence and skipped chunks included)
        try:
            while not self._feeder_stop.is_set():
                with self._takes_lock:
                    take = self._takes[0] if self._takes else None
                if take is not None and not take.realtime:
                    self._write_all(fd, take)
                    written += len(take.pcm)
                    origin_s = time.monotonic() - written / SAMPLE_RATE_HZ  # silence goes on from now
                    self._take_done(take)
                    continue
                chunk = silence if take is None else take.pcm[take.position:take.position + take.chunk_samples]
                due_s = origin_s + (written + len(chunk)) / SAMPLE_RATE_HZ
                if self._feeder_stop.wait(max(0.0, due_s - time.monotonic())):
                    break
                wrote = _backlog_bytes(fd) <= MAX_BACKLOG_S * SAMPLE_RATE_HZ * 2 and _write_atomic(fd, chunk)
                written += len(chunk)
                if take is None:
                    continue
                if wrote:
                    take.writes.append((take.position, time.monotonic()))
                else:
                    take.samples_skipped += len(chunk)
                take.position += len(chunk)
                if take.position >= len(take.pcm):
                    if take.samples_skipped:
                        log.debug("virtual microphone: %d samples of a take skipped (nobody was recording)",
                                  take.samples_skipped)
                    self._take_done(take)
        except BrokenPipeError:
            if not self._feeder_stop.is_set():
                self._error = "the virtual microphone's PulseAudio daemon died (its FIFO has no reader)"
                log.warning("%s", self._error)
        finally:
            os.close(fd)

    def _take_done(self, take: _Take) -> None:
        with self._takes_lock:
            if self._takes and self._takes[0] is take:
                self._takes.popleft()
        take.done.set()

    def _write_all(self, fd: int, take: _Take) -> None:
        """A take as fast as the FIFO takes it, in atomic pieces."""
        while take.position < len(take.pcm) and not self._feeder_stop.is_set():
            piece = take.pcm[take.position:take.position + _PIPE_BUF // 2]
            if _write_atomic(fd, piece):
                take.writes.append((take.position, time.monotonic()))
                take.position += len(piece)
            else:
                select.select([], [fd], [], 0.1)


def _write_atomic(fd: int, pcm: np.ndarray) -> bool:
    """Write s16 samples (at most PIPE_BUF bytes: all or nothing); False if the FIFO is full."""
    try:
        os.write(fd, pcm.tobytes())
        return True
    except BlockingIOError:
        return False
    except OSError as error:
        if error.errno == errno.EPIPE:
            raise BrokenPipeError(*error.args) from error
        raise


def _backlog_bytes(fd: int) -> int:
    """Bytes written into the FIFO and not yet read by the daemon."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]


def _accepts(path: str) -> bool:
    """Whether a UNIX socket at ``path`` accepts connections."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
            return True
        except OSError:
            return False


def _tail(path: str, max_lines: int = 6) -> str:
    """The last error lines of the daemon's log on one line (warnings about D-Bus and cookies left out)."""
    try:
        with open(path, errors="replace") as file:
            lines = [line.strip() for line in file if line.strip()]
    except OSError:
        return "(no log)"
    errors = [line for line in lines if line.startswith("E:")] or lines
    return " | ".join(errors[-max_lines:]) or "(no output)"
