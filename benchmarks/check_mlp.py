"""The verified centre of a deep MLP (K(w0), F(w0), lambda_min, ||DF||, r0): midpoint-radius BLAS vs float.

Run: ``python -m benchmarks.check_mlp``. Goal (issue 18): the verified centre within 3x of float estimates.
Rows, wall seconds (best of interleaved runs; set OPENBLAS_NUM_THREADS=1):

* ``float kernel``: the baseline a user would write, K = c^2 A_L A_L^T + sum_l c_l^2 (Delta Delta^T) o (A A^T) by a
  numpy forward/backward pass with np.tanh, plus eigvalsh and ||F - y|| (no enclosure);
* ``sampled``: plproof's centre at rigor ``sampled`` (the model's float K = J J^T, J formed);
* ``verified``: plproof's centre at rigor ``verified`` (docs/rigor.md §3.2);
* ``arb balls``: the previous verified path (python-flint balls per element, ``_balls``), on a smaller net
  because it costs O(n m) Python-level ball operations; its ratio is against ``verified`` on that same net.
"""

from __future__ import annotations

import numpy as np

from benchmarks.lambda_min import best_times
from plproof import MLP, Problem
from plproof.data import uniform_targets, unit_inputs
from plproof.numeric.arith import have_flint
from plproof.numeric.rigor import RigorLevel
from plproof.theory import centre as centre_mod


def float_centre(model: MLP, w: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """lambda_min(K(w)) and ||F(w) - y|| in float64: the structured kernel with np.tanh, no error bounds."""
    mats, v = model.split(w)
    acts, derivs = [model.X], []
    for l, W in enumerate(mats):
        Z = acts[-1] @ W.T / (1.0 if l == 0 else np.sqrt(W.shape[1]))
        T = np.tanh(Z)
        acts.append(T)
        derivs.append(1 - T * T)
    out = 1 / np.sqrt(len(v))
    F = acts[-1] @ v * out
    K = acts[-1] @ acts[-1].T * out**2
    G = np.broadcast_to(v * out, acts[-1].shape)
    for l in range(len(mats) - 1, -1, -1):
        delta = G * derivs[l]
        c2 = 1.0 if l == 0 else 1.0 / mats[l].shape[1]
        K += (delta @ delta.T) * (acts[l] @ acts[l].T) * c2
        if l:
            G = delta @ mats[l] / np.sqrt(mats[l].shape[1])
    return float(np.linalg.eigvalsh(K)[0]), float(np.linalg.norm(F - y))


def _problem(n: int, d: int, widths: list[int]) -> Problem:
    return Problem(MLP(unit_inputs(n, d, 0), widths, "tanh", seed=0), uniform_targets(n, 0.1, 0))


def main(n: int = 200, d: int = 10, widths: tuple[int, ...] = (1000, 1000), small: tuple[int, ...] = (40, 40),
         repeat: int = 5) -> dict:
    problem = _problem(n, d, list(widths))
    centre_mod.centre(problem, RigorLevel.VERIFIED)  # builds the tanh table once per process
    w0 = problem.w0
    best = best_times({"float": lambda: float_centre(problem.model, w0, problem.y),
                       "sampled": lambda: centre_mod.centre(problem, RigorLevel.SAMPLED),
                       "verified": lambda: centre_mod.centre(problem, RigorLevel.VERIFIED)}, repeat)
    print(f"verified MLP centre, tanh, n={n}, d={d}, widths={list(widths)} (m={problem.m})")
    print(f"  float kernel (numpy baseline)   {best['float']:7.3f} s   (1.00x)")
    print(f"  plproof sampled (J formed)      {best['sampled']:7.3f} s   ({best['sampled'] / best['float']:.2f}x)")
    print(f"  plproof verified                {best['verified']:7.3f} s   ({best['verified'] / best['float']:.2f}x)")
    out = {"ratio": best["verified"] / best["float"]}
    if not have_flint():
        print("  arb balls: python-flint is not installed (pip install 'plproof[flint]')")
        return out
    tiny = _problem(n, d, list(small))
    old = best_times({"verified": lambda: centre_mod.centre(tiny, RigorLevel.VERIFIED),
                      "balls": lambda: centre_mod._balls(tiny)}, 1)
    print(f"  on widths={list(small)} (m={tiny.m}): verified {old['verified']:.3f} s, "
          f"arb balls {old['balls']:.3f} s ({old['balls'] / old['verified']:.0f}x the verified)")
    out["arb_ratio"] = old["balls"] / old["verified"]
    return out


if __name__ == "__main__":
    main()
