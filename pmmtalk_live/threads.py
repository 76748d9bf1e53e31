"""One compute thread for the live path: torch's and numpy's BLAS (OpenBLAS) alike.

Live, the model computes a few frames per 10 ms hop. Spread over threads, that little work costs more
in hand-offs than in arithmetic, and when Unreal (or anything else) keeps the other cores busy the
waiting threads stall it: a small matrix product costs a hundred times more spread over a busy
machine's threads than on one (measured in docs/performance.md). So the daemon, the live benchmarks
and the speed tests run on one thread.
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
