"""Two-layer tangent kernel at n = 200, d = 10, width = 10,000: structured K versus J @ J.T.

Run: ``python benchmarks/kernel.py``. Prints times measured in this run and their ratio.
"""

from __future__ import annotations

import numpy as np

from benchmarks.timing import best_of
from plproof import TwoLayer
from plproof.data import unit_inputs


def main(n: int = 200, d: int = 10, width: int = 10_000) -> None:
    model = TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0)
    w = model.default_w0()
    J = model.jacobian(w)
    t_blas = best_of(lambda: J @ J.T)
    t_kernel = best_of(lambda: model.kernel(w))
    t_jac = best_of(lambda: model.jacobian(w), repeat=3)
    err = np.max(np.abs(model.kernel(w) - J @ J.T)) / np.max(np.abs(J @ J.T))
    print(f"two-layer tanh kernel, n={n}, d={d}, width={width} (m={model.n_params} parameters)")
    print(f"  plain J @ J.T on a ready J       {t_blas * 1e3:9.1f} ms   (1.00x)")
    print(f"  plproof kernel (structured)      {t_kernel * 1e3:9.1f} ms   ({t_kernel / t_blas:.2f}x)")
    print(f"  plproof jacobian + J @ J.T       {(t_jac + t_blas) * 1e3:9.1f} ms   ({(t_jac + t_blas) / t_blas:.2f}x)")
    print(f"  relative difference of the two kernels: {err:.1e}")


if __name__ == "__main__":
    main()
