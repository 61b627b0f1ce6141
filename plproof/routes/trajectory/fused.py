"""The switch of the run route's numba kernels (:mod:`plproof.routes.trajectory.kernels`, docs/rigor.md §5.8, and
:mod:`plproof.routes.trajectory.dd_kernels`, §9.7).

With numba installed (the ``fast`` extra) the two-layer float recipe evaluates its tanh (bitwise the same floats) and
its entrywise error bounds by compiled kernels, the same proven quantities in fewer passes, and the double-double
recipe steps by the kernels of the verifier's dd step, bitwise the same; without numba, or with
``PLPROOF_NO_NUMBA=1``, by the numpy code (:mod:`~plproof.routes.trajectory.error_bounds`,
:mod:`plproof.verify.dd_step`). numba is imported on first use, not
with plproof.
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType

import numpy as np

#: set to 1 to evaluate the error bounds by numpy even where numba is installed
ENV = "PLPROOF_NO_NUMBA"


def kernels(name: str = "kernels") -> ModuleType | None:
    """The kernels module ``plproof.routes.trajectory.<name>`` ("kernels" or "dd_kernels"), or None: numba is not
    installed or ``PLPROOF_NO_NUMBA`` is set (not "" or "0")."""
    if os.environ.get(ENV, "").strip() not in ("", "0"):
        return None
    return _load(name)


def missing() -> str | None:
    """A note for run evidence where numba is not installed (None where it is, or where PLPROOF_NO_NUMBA chose numpy)."""
    if os.environ.get(ENV, "").strip() not in ("", "0") or _load("kernels") is not None:
        return None
    return ("numba is not installed, so the run route's bounds ran in numpy (about 2.5x slower in float64, 15x in "
            "double-double; the same bounds): pip install 'plproof[fast]'")


@functools.cache
def _load(name: str) -> ModuleType | None:
    try:
        import numba  # noqa: F401
    except ImportError:
        return None
    return importlib.import_module(f"plproof.routes.trajectory.{name}")


@functools.cache
def tanh_table() -> np.ndarray:
    """The verifier's tanh table (:func:`plproof.verify.tanh._rows`) by grid point: row j = (c^_0..c^_5, R_j, 0), 8
    doubles (one load per row in the kernel ``activation``)."""
    from plproof.verify.tanh import _rows

    columns = _rows()
    table = np.zeros((columns[0].shape[0], 8))
    table[:, :len(columns)] = np.stack(columns, axis=1)
    return table
