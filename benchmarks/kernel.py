"""Two-layer tangent kernel at n = 200, d = 10, width = 10,000: plproof's structured K against a jitted JAX version
of the same formula and against J @ J.T.

Run: ``python -m benchmarks.kernel``. Goal (issue 18): plproof's ``model.kernel(w)`` (float64,
K = ((X X^T) o (B B^T) + A A^T)/m, B = sigma'(X W^T) diag(v), A = sigma(X W^T), docs/theory.md §8) as fast as
``jax.jit`` of the same formula. Both on one thread: OPENBLAS_NUM_THREADS=1, and XLA_FLAGS set here to one
intra-op thread unless already set (before jax is imported). Wall-clock best of 5 interleaved runs.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from benchmarks.peers import peer
from benchmarks.timing import best_of
from plproof import TwoLayer
from plproof.data import unit_inputs

#: one XLA CPU thread, as OPENBLAS_NUM_THREADS=1 gives numpy one BLAS thread
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def jax_kernel(X: np.ndarray, W: np.ndarray, v: np.ndarray) -> Callable[[], np.ndarray] | None:
    """The structured tanh kernel under ``jax.jit`` in float64 (compiled here), or None if jax is not installed."""
    os.environ.setdefault("XLA_FLAGS", XLA_ONE_THREAD)
    jax = peer("jax")
    if jax is None:
        return None
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    @jax.jit
    def kernel(X, W, v):  # noqa: N803 - the maths' names
        A = jnp.tanh(X @ W.T)
        B = (1 - A * A) * v
        return ((X @ X.T) * (B @ B.T) + A @ A.T) / W.shape[0]

    args = [jnp.asarray(a) for a in (X, W, v)]
    kernel(*args).block_until_ready()
    return lambda: np.asarray(kernel(*args).block_until_ready())


def main(n: int = 200, d: int = 10, width: int = 10_000, repeat: int = 5) -> dict:
    model = TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0)
    w = model.default_w0()
    K = model.kernel(w)
    run = jax_kernel(model.X, model.W0, model.v0)
    t_kernel = t_jax = float("inf")
    for _ in range(repeat):  # interleaved, before the Jacobian's large arrays change the allocator's state
        t_kernel = min(t_kernel, best_of(lambda: model.kernel(w), repeat=1))
        if run is not None:
            t_jax = min(t_jax, best_of(run, repeat=1))
    J = model.jacobian(w)
    t_blas = best_of(lambda: J @ J.T, repeat=3)
    t_jac = best_of(lambda: model.jacobian(w), repeat=3)
    err = np.max(np.abs(K - J @ J.T)) / np.max(np.abs(J @ J.T))
    print(f"two-layer tanh kernel, n={n}, d={d}, width={width} (m={model.n_params} parameters)")
    print(f"  plproof kernel (structured)      {t_kernel * 1e3:9.1f} ms   (1.00x)")
    print(f"  plain J @ J.T on a ready J       {t_blas * 1e3:9.1f} ms   ({t_blas / t_kernel:.2f}x plproof)")
    print(f"  plproof jacobian + J @ J.T       {(t_jac + t_blas) * 1e3:9.1f} ms   ({(t_jac + t_blas) / t_kernel:.2f}x)")
    print(f"  relative difference of the two kernels: {err:.1e}")
    out = {"plproof_s": t_kernel}
    if run is not None:
        diff = np.max(np.abs(run() - K)) / np.max(np.abs(K))
        print(f"  jax.jit of the same formula      {t_jax * 1e3:9.1f} ms   ({t_jax / t_kernel:.2f}x plproof; "
              f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}); relative difference {diff:.1e}")
        out.update(jax_s=t_jax, ratio=t_kernel / t_jax)
    return out


if __name__ == "__main__":
    main()
