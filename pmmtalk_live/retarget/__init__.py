"""Retargeting: source channels -> a target rig's curves through a preset (mix, gain, offset, smoothing, clamp).

``preset`` reads and validates ``presets/*.yaml`` and runs them (``Preset.retargeter``, ``Preset.apply``);
``filters`` holds the smoothing filters. Format and tuning: docs/presets.md.
"""

from .preset import Preset, PresetInfo, Retargeter, check_preset, describe_preset, list_presets, load_preset

TAKE_PRESET = "arkit"
"""``animate``'s default: the identity, so a recorded take keeps the animator's ARKit values and any rig
can be retargeted from it later (docs/presets.md)."""
LIVE_PRESET = "metahuman"
"""``serve``'s default: live curves most often drive a MetaHuman through stock Live Link, which needs this
mapping (docs/presets.md)."""

__all__ = ["Preset", "PresetInfo", "Retargeter", "check_preset", "describe_preset", "list_presets",
           "load_preset", "TAKE_PRESET", "LIVE_PRESET"]
