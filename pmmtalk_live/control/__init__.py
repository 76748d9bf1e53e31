"""Remote control: the Live Link Face app's OSC commands (``/Slate``, ``/RecordStart``, ...), so tools that
drive an iPhone's recording (Switchboard, scripts) drive ours. The daemon implements ``ControlTarget``;
``Commands`` carries the commands out on it, one at a time, for ``ControlServer`` (UDP, 127.0.0.1:8000 unless
told otherwise) and the studio page alike. docs/remote-control.md
lists the commands and their replies.
"""

from .remote import DEFAULT_PORT, CommandRefused, Commands, ControlServer, ControlTarget

__all__ = ["DEFAULT_PORT", "CommandRefused", "Commands", "ControlServer", "ControlTarget"]
