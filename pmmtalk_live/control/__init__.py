"""Remote control: the Live Link Face app's OSC commands (``/Slate``, ``/RecordStart``, ...), so tools that
drive an iPhone's recording (Switchboard, scripts) drive ours. The daemon implements ``ControlTarget``;
``ControlServer`` listens on UDP (127.0.0.1:8000 unless told otherwise) and calls it. docs/remote-control.md
lists the commands and their replies.
"""

from .remote import DEFAULT_PORT, ControlServer, ControlTarget

__all__ = ["DEFAULT_PORT", "ControlServer", "ControlTarget"]
