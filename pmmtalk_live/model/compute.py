"""Where torch work runs: ``--compute cpu|cuda|cuda:N`` -> a checked torch device.

``cpu`` is the default everywhere; asking for a GPU that is not there is a one-line error, never a
silent fall-back to the CPU (a run that should take an hour would take a week).
"""

from __future__ import annotations

import torch

from ..errors import PmmtalkError


class ComputeError(PmmtalkError):
    """The compute device asked for is not there."""


def torch_device(compute: str) -> torch.device:
    """``cpu``, ``cuda`` (GPU 0) or ``cuda:N`` as a torch device; raises ComputeError when that GPU is absent."""
    if compute == "cpu":
        return torch.device("cpu")
    backend, _, index = compute.partition(":")
    if backend != "cuda" or (index and not index.isdigit()):
        raise ComputeError(f"--compute {compute}: expected cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise ComputeError(f"--compute {compute}: no CUDA GPU here (torch {torch.__version__} sees none); "
                           "use --compute cpu")
    count = torch.cuda.device_count()
    if int(index or 0) >= count:
        raise ComputeError(f"--compute {compute}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}")
    return torch.device("cuda", int(index or 0))


def ctranslate2_placement(compute: str) -> dict:
    """``cpu`` / ``cuda[:N]`` as CTranslate2 model arguments (``device``, ``device_index``,
    ``compute_type``: int8 on the CPU, float16 on a GPU); ComputeError when CTranslate2 sees no such GPU."""
    import ctranslate2

    backend, _, index = compute.partition(":")
    if backend not in ("cpu", "cuda") or (index and (backend == "cpu" or not index.isdigit())):
        raise ComputeError(f"--compute {compute}: expected cpu, cuda or cuda:N")
    if backend == "cpu":
        return {"device": "cpu", "device_index": 0, "compute_type": "int8"}
    count = ctranslate2.get_cuda_device_count()
    if int(index or 0) >= count:
        raise ComputeError(f"--compute {compute}: CTranslate2 sees {count} CUDA GPU(s) "
                           "(no GPU, no CUDA driver, or a CPU-only CTranslate2); use --compute cpu")
    return {"device": "cuda", "device_index": int(index or 0), "compute_type": "float16"}
