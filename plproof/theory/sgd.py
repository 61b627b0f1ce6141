"""SGD under local PL* (LZB's SGD theorem): the step, the rate, the radius and the mean-loss form, in any
scalar namespace (docs/theory.md §3).

Sum-form loss L = sum_i l_i, l_i = 1/2 (f_i - y_i)^2, each l_i beta-smooth on the ball, L mu-PL* there,
mini-batches of s indices drawn i.i.d. uniformly, w_{t+1} = w_t - eta sum_{i in B_t} grad l_i(w_t).
Pass floats (``plproof.numeric.scalars.FLOATS``) to search, intervals (``INTERVALS``) to prove.
"""

from __future__ import annotations

from typing import Any


def step(mu: Any, beta: Any, n: int, s: int) -> Any:
    """eta* = mu / (beta (n beta + mu (s - 1))), the minimiser of the one-step bound (docs/theory.md §3)."""
    return mu / (beta * (n * beta + mu * (s - 1)))


def rate(mu: Any, eta: Any, n: int, s: int) -> Any:
    """1 - mu s eta / n: E[L_{t+1} 1{in B}] <= this times E[L_t 1{in B}] for 0 < eta <= eta* (docs/theory.md §3)."""
    return 1 - mu * s * eta / n


def radius(S: Any, L0: Any, mu: Any, beta: Any, n: int, delta: Any) -> Any:
    """R = 2 n sqrt(2 beta L0) / (mu delta): Markov's inequality on the expected path length (docs/theory.md §3)."""
    return 2 * n * S.sqrt(2 * beta * L0) / (mu * delta)


def smaller(S: Any, a: Any, b: Any) -> Any:
    """min(a, b) in S (for intervals, an enclosure of the min of any two points of a and b)."""
    return S.between(min(S.lo(a), S.lo(b)), min(S.hi(a), S.hi(b)))


def grad_bound(S: Any, g0: Any, delta_R: Any, eps: Any, R: Any) -> Any:
    """sup_B max_i ||grad f_i|| <= g0 + min(delta(R), eps R) for g0 >= max_i ||grad f_i(w0)||: a row of DF changes
    by at most ||DF(w) - DF(w0)||_2 <= delta(R), and by at most sup ||Hess f_i|| R <= eps R (docs/theory.md §3)."""
    return g0 + smaller(S, delta_R, eps * R)


def example_curvature(S: Any, eps: Any, kappa: Any, rho: Any) -> Any:
    """sup_B |r_i| ||Hess f_i|| <= rho min(eps, kappa), with |r_i| <= rho = ||r0|| + g R on B and eps, kappa =
    curvature(R, 1) each >= sup_B ||Hess f_i||. Each l_i is then beta-smooth on B with beta = g^2 + this, as
    ||Hess l_i|| = ||grad f_i grad f_i^T + r_i Hess f_i|| (docs/theory.md §3)."""
    return rho * smaller(S, eps, kappa)


def mean_pl(mu: Any, n: int) -> Any:
    """mu_bar = mu / n: the PL* constant of the mean loss L / n (docs/theory.md §3, mean-loss form)."""
    return mu / n


def mean_step(eta: Any, s: int) -> Any:
    """eta_bar = s eta: the step on the batch-averaged gradient (1/s) sum_{i in B} grad l_i giving the same
    iterates; at eta* it is s mu_bar / (beta (beta + mu_bar (s - 1))) (docs/theory.md §3)."""
    return s * eta


def mse_step(eta: Any, s: int) -> Any:
    """s eta / 2: the learning rate of torch.nn.MSELoss() (mean of (f_i - y_i)^2, no 1/2) over the batch
    giving the same iterates (docs/theory.md §3)."""
    return s * eta / 2
