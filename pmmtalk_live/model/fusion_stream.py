"""The text branch (viseme input) and the fusion of a live ``StreamSession``, in numpy.

At the engine's 10 ms hops a live call fuses one frame or none, and torch's per-call overhead (module
calls, tensor wrapping, ``torch.cat``) cost more than the arithmetic: together about a quarter of the
live model's time. The same layers run here on weights copied once (``frozen.weights_once``); equal to
``model.text`` + ``model.fusion`` in eval mode within float32 rounding (tests/test_model_filterbank.py).
A model whose text branch reads phones and words keeps the torch path.
"""

from __future__ import annotations

import numpy as np

from .decoder import numpy_gelu
from .frozen import array, weights_once
from .pmmtalk import PMMTalk


def supports(model: PMMTalk) -> bool:
    """Whether ``FusionStream`` can stand in for the model's text branch and fusion."""
    return model.text is None or model.text.input == "visemes"


class FusionStream:
    """fuse(audio features (n, d), viseme track (n, VISEME_DIM) or None) -> fused features (n, d) float32."""

    def __init__(self, model: PMMTalk):
        if not supports(model):
            raise ValueError("FusionStream needs a model without text or with viseme text input")
        others = (model.text,) if model.text is not None else ()
        self._weights = weights_once(lambda: _numpy_fusion(model), model.fusion, *others)

    def fuse(self, audio: np.ndarray, visemes: np.ndarray | None) -> np.ndarray:
        w = self._weights
        n = len(audio)
        given = {"audio": np.asarray(audio, np.float32)}
        if visemes is not None and "text" in w["mix"]:
            (w1, b1), (w2, b2) = w["mix"]["text"]
            given["text"] = numpy_gelu(np.asarray(visemes, np.float32) @ w1 + b1) @ w2 + b2
        parts = [given[name] if name in given else np.broadcast_to(w["absent"][name], (n, len(w["absent"][name])))
                 for name in w["modalities"]]
        return np.concatenate(parts, 1) @ w["fusion"][0] + w["fusion"][1]


def _numpy_fusion(model: PMMTalk) -> dict:
    fusion = model.fusion
    out = dict(modalities=fusion.modalities,
               absent={name: array(fusion.absent[name]) for name in fusion.modalities},
               fusion=(array(fusion.mix.weight).T.copy(), array(fusion.mix.bias)), mix={})
    if model.text is not None:
        first, last = model.text.mix[0], model.text.mix[2]
        out["mix"]["text"] = ((array(first.weight).T.copy(), array(first.bias)),
                              (array(last.weight).T.copy(), array(last.bias)))
    return out
