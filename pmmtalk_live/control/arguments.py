"""The remote commands' arguments: what tools send -> what a ``ControlTarget`` gets. Each helper
checks one kind of value and raises ``CommandRefused`` with a one-line reason (docs/remote-control.md)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ..animators.emotion import DEFAULT_INTENSITY, EMOTIONS, Emotion
from ..errors import ControlError
from ..sinks.csv_take import check_take_name

_DIGITS = re.compile(r"\s*[0-9]{1,10}\s*")
_PRESET_NAME = re.compile(r"\w[\w .-]{0,63}")


class CommandRefused(ControlError):
    """A command refused before it reached the target; the message is the one-line reason."""


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def count(args: list[Any], least: int, most: int, usage: str) -> list[Any]:
    """``args`` padded with None up to ``most``; CommandRefused unless there are ``least`` to ``most``."""
    if not least <= len(args) <= most:
        wanted = f"{least}" if least == most else f"{least} to {most}"
        raise CommandRefused(f"takes {wanted} argument{'s' if most != 1 else ''} ({usage or 'none'}), got {len(args)}")
    return args + [None] * (most - len(args))


def whole_number(value: Any, what: str, low: int, high: int) -> int:
    """An int, a string of digits or a float with no fraction (tools send all three) in low..high."""
    number = None
    if isinstance(value, bool):
        pass  # OSC's T and F are no numbers
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    if number is None or not low <= number <= high:
        raise CommandRefused(f"{what} {shown(value)} is not a whole number {low}..{high}")
    return number


def port(value: Any) -> int:
    return whole_number(value, "port", 1, 65535)


def ip(value: Any) -> str:
    """An IPv4 or IPv6 address to send to (no host names: the app takes addresses, and a name lookup would block)."""
    try:
        ip = ipaddress.ip_address(value.strip()) if isinstance(value, str) else None
    except ValueError:
        ip = None
    if ip is None:
        raise CommandRefused(f"{shown(value)} is not an IP address")
    if ip.is_unspecified:
        raise CommandRefused(f"{ip} is not an address to send to")
    return str(ip)


def name(value: Any, what: str) -> str:
    """A slate or subject: a string (or a whole number, which some tools send for a slate) that is
    safe in a take file name."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise CommandRefused(f"{what} {shown(value)} is not a string")
    return check_take_name(value, what)


def preset_name(value: Any) -> str:
    # A bare name only: a path would let the network load (and quote in errors) any YAML file.
    if (not isinstance(value, str) or not _PRESET_NAME.fullmatch(value) or ".." in value
            or value.endswith((".yaml", ".yml"))):
        raise CommandRefused(f"preset {shown(value)} is not a bare preset name "
                        "(letters, digits, '_', '-', '.', spaces; no path, no .yaml)")
    return value


def emotion(name: Any, intensity: Any) -> Emotion:
    """An emotion name (any case) and an optional intensity 0..1 (a number, or digits as text)."""
    if not isinstance(name, str):
        raise CommandRefused(f"emotion {shown(name)} is not a name ({', '.join(EMOTIONS)})")
    if intensity is None:
        intensity = DEFAULT_INTENSITY
    elif isinstance(intensity, str):
        try:
            intensity = float(intensity)
        except ValueError:
            raise CommandRefused(f"intensity {shown(intensity)} is not a number 0..1") from None
    elif isinstance(intensity, bool) or not isinstance(intensity, (int, float)):
        raise CommandRefused(f"intensity {shown(intensity)} is not a number 0..1")
    try:
        return Emotion(name.strip().lower(), round(float(intensity), 4))  # OSC floats are float32
    except ValueError as error:
        raise CommandRefused(str(error)) from None
