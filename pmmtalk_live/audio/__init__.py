"""Audio in: files (``files``), the microphone (``microphone``, ``devices``), raw PCM on stdin and the
sources the live engine reads (``sources``), resampling and loudness.

The raw-PCM defaults live here, read by ``sources``, the serve settings and the command line's help.
"""

RAW_FORMAT_NAMES = ("s16le", "s32le", "f32le")
"""Sample formats raw PCM on stdin may have (``sources.RAW_FORMATS`` decodes them)."""
DEFAULT_RAW_RATE_HZ = 16000
DEFAULT_RAW_CHANNELS = 1
DEFAULT_RAW_FORMAT = "s16le"
