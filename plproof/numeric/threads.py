"""BLAS threads inside plproof's step loops (docs/guide.md, "BLAS threads"; benchmarks/README.md, "Threads").

A GD or SGD run and the high-precision eigenvalue refinement make many small BLAS calls. Between them a
multi-threaded OpenBLAS keeps its worker threads spinning (about 2^28 cycles, OPENBLAS_THREAD_TIMEOUT), which on
a loaded machine burns several times the CPU of one thread for no gain (benchmarks/threads.py). plproof
therefore runs those loops with the BLAS thread pool limited to ``PLPROOF_BLAS_THREADS`` threads (default 1;
``PLPROOF_BLAS_THREADS=system`` leaves the pool as numpy configured it), through threadpoolctl, and restores
it afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Any

from plproof.errors import InvalidInput

#: the environment variable naming the BLAS threads of plproof's step loops: an integer >= 1, or "system"
ENV = "PLPROOF_BLAS_THREADS"


def loop_threads() -> int | None:
    """The BLAS threads for plproof's step loops: ``PLPROOF_BLAS_THREADS`` (default 1), None for "system"."""
    raw = os.environ.get(ENV, "1").strip().lower()
    if raw == "system":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(f"{ENV} must be a number of threads >= 1 or 'system', got {raw!r}")
    return int(raw)


@functools.cache
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController  # the libraries loaded by now (numpy's BLAS) are found

    return ThreadpoolController()


def blas_threads(threads: int | None) -> contextlib.AbstractContextManager:
    """Context limiting every loaded BLAS to ``threads`` threads (None: no change)."""
    if threads is None:
        return contextlib.nullcontext()
    return _controller().limit(limits=threads, user_api="blas")


def step_loop() -> contextlib.AbstractContextManager:
    """The BLAS setting of a plproof step loop: :func:`blas_threads` of :func:`loop_threads`."""
    return blas_threads(loop_threads())
