"""Retargeting: source channels -> a target rig's curves through a preset (mix, gain, offset, smoothing, clamp).

``preset`` reads and validates ``presets/*.yaml`` and runs them (``Preset.retargeter``, ``Preset.apply``);
``filters`` holds the smoothing filters. Format and tuning: docs/presets.md.
"""

from .preset import Preset, PresetInfo, Retargeter, check_preset, describe_preset, list_presets, load_preset

__all__ = ["Preset", "PresetInfo", "Retargeter", "check_preset", "describe_preset", "list_presets",
           "load_preset"]
