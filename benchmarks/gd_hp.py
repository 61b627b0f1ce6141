"""High-precision GD on a two-layer tanh net: plproof's gradient_descent at 30 digits vs a plain mpmath loop.

Both evaluate F, DF^T r and the update in mpmath at 30 significant digits from the same w0; the peer
is the loop a user writes with mpmath scalars (lists, no numpy object arrays). Run:
``python -m benchmarks.gd_hp``.
"""

from __future__ import annotations

import time

import mpmath

from plproof import TwoLayer
from plproof.data import uniform_targets, unit_inputs
from plproof.numeric.arith import precision
from plproof.numeric.runners import gradient_descent
from plproof.problem import Problem


def mpmath_gd(X: list, y: list, W: list, v: list, step: float, steps: int) -> tuple[list, list, list]:
    """GD on L = 1/2 sum_j (m^{-1/2} v . tanh(W x_j) - y_j)^2 with mpmath scalars: (losses, W, v)."""
    m, d = len(v), len(X[0])
    s = 1 / mpmath.sqrt(m)
    eta = mpmath.mpf(step)
    losses = []
    for t in range(steps + 1):
        gW = [[mpmath.mpf(0)] * d for _ in range(m)]
        gv = [mpmath.mpf(0)] * m
        loss = mpmath.mpf(0)
        for x, yj in zip(X, y):
            a = [mpmath.tanh(mpmath.fsum(W[i][k] * x[k] for k in range(d))) for i in range(m)]
            r = s * mpmath.fsum(v[i] * a[i] for i in range(m)) - yj
            loss += r * r / 2
            for i in range(m):
                gv[i] += r * s * a[i]
                c = r * s * v[i] * (1 - a[i] * a[i])
                for k in range(d):
                    gW[i][k] += c * x[k]
        losses.append(loss)
        if t < steps:
            W = [[W[i][k] - eta * gW[i][k] for k in range(d)] for i in range(m)]
            v = [v[i] - eta * gv[i] for i in range(m)]
    return losses, W, v


def main(n: int = 10, d: int = 3, width: int = 32, steps: int = 50, digits: int = 30) -> dict:
    X, y = unit_inputs(n, d, 0), uniform_targets(n, 0.5, 0)
    model = TwoLayer(X, width, "tanh", seed=0)
    problem = Problem(model, y)
    step = 0.5
    print(f"GD at {digits} digits: two-layer tanh, n={n}, d={d}, width={width} (m={model.n_params}), {steps} steps")
    t0 = time.perf_counter()
    with precision(digits=digits):
        traj = gradient_descent(problem, step, steps)
    t_ours = time.perf_counter() - t0
    with mpmath.workdps(digits):
        Xm = [[mpmath.mpf(float(v)) for v in row] for row in X]
        Wm = [[mpmath.mpf(float(v)) for v in row] for row in model.W0]
        t0 = time.perf_counter()
        losses, W_end, v_end = mpmath_gd(Xm, [mpmath.mpf(float(v)) for v in y], Wm, [mpmath.mpf(float(v)) for v in model.v0],
                           step, steps)
        t_peer = time.perf_counter() - t0
        peer_w = [x for row in W_end for x in row] + v_end
        rel = max(abs(a - b) for a, b in zip(traj.w_final, peer_w)) / max(abs(b) for b in peer_w)
    print(f"  plproof gradient_descent (precision(digits={digits}))  {t_ours:8.3f} s  (1.00x)")
    print(f"  plain mpmath loop                                 {t_peer:8.3f} s  ({t_peer / t_ours:.2f}x plproof)")
    print(f"  final loss {traj.final_loss:.6e} (mpmath loop: {float(losses[-1]):.6e}); max difference of the final "
          f"parameters, relative to max |w|: {float(rel):.1e}")
    return {"plproof_s": t_ours, "mpmath_s": t_peer, "rel_diff": float(rel)}


if __name__ == "__main__":
    main()
