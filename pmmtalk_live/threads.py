"""One compute thread for the live path: torch's and numpy's BLAS (OpenBLAS) alike.

Live, the model computes a few frames per 10 ms hop. Spread over threads, that little work costs more
in hand-offs than in arithmetic, and when Unreal (or anything else) keeps the other cores busy the
waiting threads stall it: a 5-row matrix product in the Whisper head took 10 ms with OpenBLAS's
default threads on a busy 2-core machine, 0.1 ms on one (the whole shipped model live: 0.70x real
time against 0.05x). So the daemon, the live benchmarks and the speed tests run on one thread.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from threadpoolctl import threadpool_limits


def use_one_thread() -> None:
    """For the rest of the process: one torch thread and one BLAS thread."""
    torch.set_num_threads(1)
    threadpool_limits(limits=1, user_api="blas")


@contextmanager
def one_thread():
    """The same, restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(threads)
