"""User-facing failures, one type per kind. The CLI prints ``str(error)`` as one line and exits 2."""


class PmmtalkError(Exception):
    """Base of every error the CLI reports as one line instead of a traceback."""


class AudioInputError(PmmtalkError):
    """Audio that cannot be used: missing, empty, truncated, not audio, absurdly long."""


class PresetError(PmmtalkError):
    """A retarget preset that does not validate; the message names file, line and key."""


class TakeError(PmmtalkError):
    """A take that cannot be written (would overwrite, bad name) or read (not a Live Link Face CSV)."""


class RecognizerError(PmmtalkError):
    """The phone source failed: forced alignment found no path, the model is missing."""


class AlignmentError(RecognizerError):
    """Forced alignment found no path through a transcript; ``animate`` goes on without it."""


class SinkError(PmmtalkError):
    """A destination that cannot be set up: a host that does not resolve, a bad address."""


class ControlError(PmmtalkError):
    """The remote-control port cannot be opened (in use, bad address)."""


class ConfigError(PmmtalkError):
    """A serve configuration file that cannot be read or does not validate."""


class EvalDataError(PmmtalkError):
    """An evaluation set's recordings are not on this machine (a Debian package not installed)."""


class StudioError(PmmtalkError):
    """The studio page's server cannot start (port in use, bad address), or a request it refuses."""
