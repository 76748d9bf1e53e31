"""The sound-card inputs PortAudio offers: listing them (``pmmtalk-live devices``), picking one by index
or by name, and the settings it accepts.

PortAudio finds its devices once, when ``sounddevice`` is first imported (here: lazily, at the first
use). A device or a PulseAudio server that appears later (``PULSE_SERVER`` set in ``os.environ``
afterwards) is seen only after ``reinitialize_portaudio()``; the microphone does that itself before
each reconnect attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AudioInputError
from ..tracks import SAMPLE_RATE_HZ

_NO_INPUTS = ("no audio input devices: PortAudio lists none (no sound card, and no PulseAudio or PipeWire "
              "server reachable from this process); `pmmtalk-live devices` shows what this machine offers")


@dataclass(frozen=True)
class InputDevice:
    """A PortAudio device with input channels, as ``pmmtalk-live devices`` lists it."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    default_sample_rate_hz: float
    is_default: bool

    @property
    def label(self) -> str:
        return f"'{self.name}' ({self.host_api})"


def _sounddevice():
    """The sounddevice module, imported on first use (importing it initialises PortAudio)."""
    try:
        import sounddevice
    except OSError as error:  # the PortAudio library itself is missing
        raise AudioInputError(f"cannot use audio devices: {error} (install the libportaudio2 package; "
                              "scripts/setup.sh does)") from error
    return sounddevice


def reinitialize_portaudio() -> None:
    """Make PortAudio enumerate the devices again, so that a device plugged in since, or a PulseAudio
    server named in ``os.environ`` since, is listed. Closes every PortAudio stream in this process."""
    sd = _sounddevice()
    sd._terminate()
    sd._initialize()


def list_input_devices() -> list[InputDevice]:
    """Every device PortAudio lists with at least one input channel, in PortAudio's order."""
    sd = _sounddevice()
    host_apis = [api["name"] for api in sd.query_hostapis()]
    try:
        default_index = int(sd.default.device[0])
    except (TypeError, ValueError, sd.PortAudioError):
        default_index = -1
    return [InputDevice(index=int(info["index"]), name=str(info["name"]), host_api=host_apis[info["hostapi"]],
                        max_input_channels=int(info["max_input_channels"]),
                        default_sample_rate_hz=float(info["default_samplerate"]),
                        is_default=int(info["index"]) == default_index)
            for info in sd.query_devices() if info["max_input_channels"] > 0]


def format_devices() -> str:
    """The input devices as text for ``pmmtalk-live devices`` (says so plainly when there are none)."""
    devices = list_input_devices()
    if not devices:
        return _NO_INPUTS.split(";")[0] + "."
    width = max(len(d.name) for d in devices)
    lines = ["audio inputs (PortAudio):"]
    for d in devices:
        lines.append(f"  {'*' if d.is_default else ' '} {d.index:>3}  {d.name:<{width}}  {d.host_api:<12}"
                     f"{d.max_input_channels:>3} ch  {d.default_sample_rate_hz:>6.0f} Hz")
    lines.append("* = the system default; pick one with --device INDEX or --device NAME (any part of it, any case)")
    return "\n".join(lines)


def _resolve_input(device: int | str | None) -> InputDevice:
    """The input device ``device`` names (index, digits, or a name's part in any case; None = default)."""
    inputs = list_input_devices()
    if not inputs:
        raise AudioInputError(_NO_INPUTS)
    listing = ", ".join(f"{d.index} '{d.name}'" for d in inputs)
    if device is None:
        return next((d for d in inputs if d.is_default), inputs[0])
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device)
    if isinstance(device, int):
        for d in inputs:
            if d.index == device:
                return d
        raise AudioInputError(f"no input device with index {device}; the inputs are: {listing}")
    key = str(device).strip().lower()
    matches = [d for d in inputs if d.name.lower() == key] or [d for d in inputs if key in d.name.lower()]
    if not matches:
        raise AudioInputError(f"no input device matches '{device}'; the inputs are: {listing}")
    if len(matches) > 1:
        names = ", ".join(f"{d.index} '{d.name}'" for d in matches)
        raise AudioInputError(f"'{device}' matches several input devices ({names}); give more of the name or "
                              "the index")
    return matches[0]


def _input_settings(device: InputDevice, rate_hz: int | None) -> tuple[int, int]:
    """(sample rate Hz, channels) the device accepts for float32 input: 16 kHz if it can (no resampling),
    else its default rate; mono if it can, else stereo, else all its channels."""
    sd = _sounddevice()
    rates = [rate_hz] if rate_hz else list(dict.fromkeys([SAMPLE_RATE_HZ, int(round(device.default_sample_rate_hz))]))
    channel_options = list(dict.fromkeys([1, min(2, device.max_input_channels), device.max_input_channels]))
    reason = "no settings tried"
    for rate in rates:
        for channels in channel_options:
            try:
                sd.check_input_settings(device=device.index, channels=channels, dtype="float32", samplerate=rate)
                return rate, channels
            except (sd.PortAudioError, ValueError) as error:
                reason = " ".join(str(error).split())
    raise AudioInputError(f"microphone {device.label} refuses float32 input at {' or '.join(map(str, rates))} Hz "
                          f"({reason})")
