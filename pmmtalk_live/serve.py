"""``pmmtalk-live serve``: one live session, wired from a ``ServeConfig``.

    audio source (mic | file | stdin) --> Engine (live animator, idle layer, preset) --> Outputs:
        OSC to our Unreal plugin, Live Link Face packets for stock Unreal, the take recorder
    remote-control port (OSC, the Live Link Face app's commands) --> Commands --> this session (ControlTarget)
    studio page (--studio: face preview, meters, preset tuning) <-- a StudioFeed sink; its commands --> Commands

Everything that can fail on a user's mistake (a preset, a host, a port in use, a device, a takes
folder) is checked before the first audio is read, each with one clear line.
"""

from __future__ import annotations

import logging
import threading

from .animators import make_live_animator
from .animators.emotion import Emotion
from .config import ServeConfig
from .control.remote import MAX_LIVELINK_ADDRESSES, Commands, ControlServer
from .errors import PresetError, SinkError
from .retarget.preset import Preset, load_preset
from .retarget.watch import PresetWatcher
from .sinks.csv_take import check_take_name
from .sinks.livelinkface import LiveLinkFaceSink
from .sinks.osc import OscSink, format_address
from .sinks.take_recorder import TakeRecorder
from .sinks.outputs import Outputs
from .stream.engine import Engine, EngineSummary
from .threads import use_one_thread
from .stream.stats import LiveStats, StatusPrinter

log = logging.getLogger(__name__)


class ServeSession:
    """A running daemon: source, engine, sinks, recorder and control port. Implements the remote
    control's ``ControlTarget``: its methods are called from the control thread."""

    def __init__(self, config: ServeConfig, status_stream=None, model=None) -> None:
        """``model``: a loaded PMMTalk model to stream from instead of loading ``config.ckpt`` (several
        characters share one; each session has its own stream state)."""
        from .audio.sources import open_source

        self.config = config
        self.subject = check_take_name(config.subject, "subject")
        self.slate = check_take_name(config.slate, "slate")
        self.next_take: int | None = None
        self.presets = PresetWatcher(config.preset)
        self._own_subject: set[int] = set()
        """ids of the sinks that carry their own subject name (not changed by /LiveLinkSubject)."""
        self._added_livelink: list[LiveLinkFaceSink] = []
        """The Live Link Face sinks ``/AddLiveLinkAddress`` added; the command line's are not here."""
        recorder = TakeRecorder(config.takes_folder, fps=config.fps, on_failure=self._take_failed)
        recorder.check_folder()  # an unwritable takes folder is found now, not at the first /RecordStart
        self.outputs = Outputs(recorder=recorder)
        self.stats = LiveStats()
        self.source = None
        self.control = None
        self.studio = None
        self.commands = Commands(self)
        """The remote-control commands, one at a time, for the control port and the studio page."""
        try:
            osc, livelink = config.destinations()
            for dest in osc:
                sink = OscSink(dest.host, dest.port, subject=dest.subject or self.subject)
                sink.check_names(self.presets.preset.output_names)
                self._add_sink(sink, dest.subject)
            for dest in livelink:
                self._add_sink(LiveLinkFaceSink(dest.host, dest.port, subject=dest.subject or self.subject),
                               dest.subject)
            if config.control is not None:
                self.control = ControlServer(self, host=config.control.host, port=config.control.port,
                                             commands=self.commands)
            device = int(config.device) if config.device is not None and str(config.device).isdigit() else config.device
            self.source = open_source(config.input, device=device, realtime=not config.fast, loop=config.loop,
                                      raw_rate_hz=config.raw_rate, raw_channels=config.raw_channels,
                                      raw_format=config.raw_format)
            # The live process computes on one thread whatever the animator: a few frames per hop is too
            # little work to share, and idle torch/BLAS workers would spin or stall behind Unreal (threads.py).
            use_one_thread()
            animator = make_live_animator(config.animator, config.fps, config.lookahead_ms / 1000.0,
                                          config.ckpt if model is None else model, config.compute)
        except BaseException:
            self.close()
            raise
        status = None if config.quiet or status_stream is None else StatusPrinter(status_stream)
        self.engine = Engine(self.source, animator, self.presets, self.outputs, hop_ms=config.hop_ms,
                             max_backlog_ms=config.max_backlog_ms, idle=config.idle, seed=config.seed,
                             emotion=config.emotion,
                             stats=self.stats, status=status, status_extra=self._status_extra)
        if config.studio is not None:
            try:
                self.studio = self._open_studio(config.studio.host, config.studio.port)
            except BaseException:
                self.close()
                raise

    def _open_studio(self, host: str, port: int):
        from .studio import LiveStudio, StudioFeed, StudioServer

        feed = StudioFeed()
        self.outputs.add(feed)
        return StudioServer(host, port, live=LiveStudio(self, feed), takes_folder=self.recorder.folder)

    @property
    def recorder(self) -> TakeRecorder:
        return self.outputs.recorder

    def _add_sink(self, sink, own_subject: str | None) -> None:
        if own_subject:
            self._own_subject.add(id(sink))
        self.outputs.add(sink)

    def describe(self) -> list[str]:
        """What the session does, a line each (printed at start)."""
        animator = self.engine.animator
        lines = [f"input: {self.source.description}",
                 f"animator: {animator.name}, {self.config.fps} fps, look-ahead "
                 f"{animator.lookahead_s * 1000:g} ms, hop {self.config.hop_ms:g} ms",
                 f"preset: {self.presets.preset.name} ({self.presets.preset.path}; reloads when the file changes)",
                 "face: " + (f"idle layer, expression from the voice, emotion {self.config.emotion} "
                             "(/Emotion changes it)" if self.config.idle else "mouth only (--no-idle)")]
        for sink in self.outputs.sinks:
            lines.append(f"sending: {sink.description}")
        if self.control is not None:
            host, port = self.control.address
            lines.append(f"remote control: OSC on {host}:{port} (Live Link Face commands, /Preset)")
        if self.studio is not None:
            lines.append(f"studio: open {self.studio.url} in a browser (face, meters, preset tuning)")
        lines.append(f"takes: {self.outputs.recorder.folder.absolute()}"
                     + (" (recording from the start)" if self.config.record else " (on /RecordStart)"))
        return lines

    def run(self, stop: threading.Event) -> EngineSummary:
        """Serve until the input ends or ``stop`` is set; the take (if any) is closed at the end."""
        if self.control is not None:
            self.control.start()
        if self.studio is not None:
            self.studio.start()
        if self.config.record:
            self.record_start(None, None)
        return self.engine.run(stop)

    def close(self) -> None:
        """Stop the control port and the source, finish the take, close the sinks. Safe to call twice."""
        if self.studio is not None:
            self.studio.close()
        if self.control is not None:
            self.control.close()
        if self.source is not None:
            self.source.close()
        self.outputs.close()

    @property
    def finished_takes(self):
        return self.outputs.recorder.finished

    @property
    def failed_takes(self):
        """The takes a failed write ended (their files are valid up to the last whole row)."""
        return [take for take in self.finished_takes if take.error is not None]

    def _status_extra(self) -> str:
        recorder = self.outputs.recorder
        writer = recorder.writer
        if writer is not None:
            return f"REC {writer.csv_path.name} {writer.rows_written / self.config.fps:.0f} s"
        last = recorder.finished[-1] if recorder.finished else None
        if last is not None and last.error is not None:  # until the next take: the disk refused a write
            return f"TAKE FAILED {last.csv_path.name} after {last.rows / self.config.fps:.1f} s"
        return ""

    def _take_failed(self, take) -> None:
        """A write the disk refused ended ``take`` (engine thread; the recorder logged it): tell the
        remote controller; streaming goes on."""
        if self.control is not None:
            self.control.report_error("/RecordStart", f"take {take.csv_path} stopped after {take.rows} rows "
                                                      f"(valid up to there): {take.error}")

    # --- ControlTarget: the remote-control commands ------------------------------------------------

    def record_start(self, slate: str | None, take: int | None) -> str:
        engine = getattr(self, "engine", None)
        first = engine.next_frame if engine is not None else 0
        wall = engine.frame_wall_time(first) if engine is not None and first > 0 else None
        names = engine.next_output_names if engine is not None else self.presets.preset.output_names
        writer = self.outputs.recorder.start(slate=slate or self.slate, take=take if take is not None else self.next_take,
                                             subject=self.subject, first_frame=first, wall_time_s=wall,
                                             curve_names=names)
        self.next_take = None
        return writer.start_timecode

    def record_stop(self) -> tuple[str, str, str] | None:
        done = self.outputs.recorder.stop()
        if done is None:
            return None
        return done.timecode, str(done.csv_path), str(done.wav_path)

    def set_slate(self, name: str) -> None:
        self.slate = check_take_name(name, "slate")

    def set_take(self, number: int) -> None:
        self.next_take = number

    def set_subject(self, name: str) -> None:
        self.subject = check_take_name(name, "subject")
        for sink in self.outputs.sinks:
            if id(sink) not in self._own_subject:
                sink.subject = self.subject

    def add_livelink_address(self, host: str, port: int) -> None:
        where = format_address(host, port)
        if any(isinstance(s, LiveLinkFaceSink) and s.destination == where for s in self.outputs.sinks):
            raise SinkError(f"already streaming Live Link Face packets to {where}")
        if len(self._added_livelink) >= MAX_LIVELINK_ADDRESSES:
            raise SinkError(f"at most {MAX_LIVELINK_ADDRESSES} addresses can be added; "
                            "/ClearAllLiveLinkAddresses removes them")
        sink = LiveLinkFaceSink(host, port, subject=self.subject)
        self._added_livelink.append(sink)
        self._add_sink(sink, None)

    def clear_livelink_addresses(self) -> None:
        added, self._added_livelink = self._added_livelink, []
        self.outputs.remove_where(lambda s: any(s is a for a in added))

    def set_emotion(self, emotion: Emotion) -> None:
        self.engine.request_emotion(emotion)

    def set_streaming(self, on: bool) -> None:
        self.outputs.streaming = on

    def set_preset(self, name: str) -> None:
        self.use_preset(load_preset(name))  # raises PresetError: the preset in use stays

    def use_preset(self, preset: Preset) -> None:
        """Run ``preset`` from the next hop on (a remote ``/Preset``, a studio edit); PresetError when
        the take being recorded or a sink cannot take its curves (the preset in use stays)."""
        writer = self.outputs.recorder.writer
        if writer is not None and set(preset.output_names) != set(writer.curve_names):
            # the take's columns are fixed at its start: other curves would record as zeros
            raise PresetError(f"take {writer.csv_path.name} is recording; preset {preset.name!r} has other "
                              "curves than its columns; /RecordStop first")
        for sink in self.outputs.sinks:
            if isinstance(sink, OscSink):
                sink.check_names(preset.output_names)
        self.engine.request_preset(preset)

