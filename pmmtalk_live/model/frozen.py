"""Numpy copies of a module's weights for the live numpy paths (``ConvStream``, ``CausalDecoderStream``,
``GateStream``), made once per version of the weights rather than once per live session.

A live session starts again after every gap in the audio (a source that lost audio, a machine that fell
behind and skipped), so a copy per session made a slow machine slower exactly when it could least
afford it. The copy is kept while the module lives and its weights are unchanged: a training step or a
``load_state_dict`` (in-place writes, which bump a tensor's version) or ``.to()`` (new storage) makes
the next session copy again.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch
from torch import nn

T = TypeVar("T")

_COPIES: weakref.WeakKeyDictionary[nn.Module, tuple[tuple, object]] = weakref.WeakKeyDictionary()


def array(t: torch.Tensor) -> np.ndarray:
    """A tensor -> its own float32 numpy copy (never a view of the weights)."""
    return t.detach().cpu().float().numpy().copy()


def weights_once(build: Callable[[], T], module: nn.Module, *others: nn.Module) -> T:
    """``build()`` (numpy copies of the weights of ``module`` and ``others``), or the copy made last time
    for the same modules with the same weights. Callers must not write into what it returns."""
    modules = (module, *others)
    stamp = tuple((id(m), tuple((t._version, t.data_ptr()) for t in (*m.parameters(), *m.buffers()))) for m in modules)
    kept = _COPIES.get(module)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    copy = build()
    _COPIES[module] = (stamp, copy)
    return copy
