"""Transition to linearity for two-layer networks (docs/theory.md §8, §4.4).

The Hessian of f(.; x) w.r.t. (W, v) is block-diagonal over neurons with an exact spectrum; over a ball
its norm is bounded by (V S2 ||x||^2 + sqrt(V^2 S2^2 ||x||^4 + 4 S1^2 ||x||^2)) / (2 sqrt m),
V = ||v0||_inf + R, which falls like m^(-1/2) up to the sqrt(log m) growth of ||v0||_inf; so does the
change of the tangent kernel over the ball.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plproof import TwoLayer, precision
from plproof.data import unit_inputs
from plproof.numeric.arith import FLOAT64
from plproof.strategies import SMOOTH_ACTIVATIONS, two_layer_problems
from plproof.properties._helpers import DIGITS, MP50, point_near, spectrum

WIDTHS = 2 ** np.arange(6, 13)
REPEATS = 5
SLOPE_RANGE = (-0.6, -0.4)


def neuron_terms(model, w, x, ar):
    """a_i = m^-1/2 v_i sigma''(z_i), b_i = m^-1/2 sigma'(z_i) at w for input x (docs/theory.md §8)."""
    W, v = model.split(w, ar)
    scale = 1 / ar.sqrt(ar.asarray(float(model.width)))
    _, d1, d2 = model.activation.derivatives(W @ ar.asarray(x), ar, 2)
    return v * d2 * scale, d1 * scale


def neuron_eigenvalues(a, b, xx, sqrt):
    """The two non-zero eigenvalues 1/2 (a ||x||^2 +- sqrt(a^2 ||x||^4 + 4 b^2 ||x||^2)) of each neuron's block."""
    root = [sqrt(ai * ai * xx * xx + 4 * bi * bi * xx) for ai, bi in zip(a, b)]
    return [(ai * xx + r) / 2 for ai, r in zip(a, root)] + [(ai * xx - r) / 2 for ai, r in zip(a, root)]


def ball_bound(S1, S2, V, xx, width):
    """sup over B(w0, R) of ||H(.; x)||_2 (docs/theory.md §8), with V = ||v0||_inf + R."""
    return (V * S2 * xx + np.sqrt(V * V * S2 * S2 * xx * xx + 4 * S1 * S1 * xx)) / (2 * np.sqrt(width))


@pytest.mark.plproof(theory="§8", source="docs/theory.md §8 (Hessian for one input, spectrum)", rigor="high-precision",
                     symbols="spec H(w; x) = {1/2 (a_i ||x||^2 +- sqrt(a_i^2 ||x||^4 + 4 b_i^2 ||x||^2))} u {0}",
                     precision=MP50)
@given(problem=two_layer_problems(max_n=2, max_width=4, max_dim=3, train="both"), seed=st.integers(0, 2**32 - 1),
       radius=st.floats(0, 2))
def test_two_layer_hessian_spectrum_is_the_per_neuron_formula(problem, seed, radius, pl_record):
    """For f(x; W, v) = m^-1/2 v^T sigma(W x), the Hessian w.r.t. (W, v) at any w, from central differences
    of the closed-form Jacobian (h = 1e-20, 50 digits), has exactly the eigenvalues
    1/2 (a_i ||x||^2 +- sqrt(a_i^2 ||x||^4 + 4 b_i^2 ||x||^2)), i = 1..m, and d - 1 zeros per neuron,
    to 1e-25 of the largest; hence ||H||_2 is their largest modulus."""
    model = problem.model
    single = TwoLayer(model.X[:1], model.width, model.activation, seed=model.seed, train="both", init=model.init)
    w = point_near(problem, seed, radius)
    with precision(digits=DIGITS) as ar:
        h = mpmath.mpf("1e-20")
        wm = ar.asarray(w)
        basis = np.identity(single.n_params, dtype=object)
        H = np.array([(single.jacobian(wm + h * e, ar)[0] - single.jacobian(wm - h * e, ar)[0]) / (2 * h)
                      for e in basis], dtype=object)
        observed = spectrum(H)[0]
        a, b = neuron_terms(single, wm, single.X[0], ar)
        xx = ar.asarray(single.X[0]) @ ar.asarray(single.X[0])
        zeros = [mpmath.mpf(0)] * (single.width * (single.input_dim - 1))
        expected = sorted(neuron_eigenvalues(a, b, xx, mpmath.sqrt) + zeros)
        top = max(abs(v) for v in expected)
        error = max(abs(o - e) for o, e in zip(observed, expected))
    pl_record.margin(1 - error / (mpmath.mpf("1e-25") * top), example={"problem": problem, "w": w})
    assert error <= mpmath.mpf("1e-25") * top


@pytest.mark.plproof(theory="§8", source="docs/theory.md §8 (rigorous bound over the ball)", rigor="high-precision",
                     symbols="||H(w; x)||_2 <= (V S2 ||x||^2 + sqrt(V^2 S2^2 ||x||^4 + 4 S1^2 ||x||^2)) / (2 sqrt m), "
                             "w in B(w0, R), V = ||v0||_inf + R", precision=MP50)
@given(problem=two_layer_problems(train="both"), seed=st.integers(0, 2**32 - 1), R=st.floats(0.01, 3),
       fraction=st.floats(0, 1))
def test_two_layer_hessian_norm_is_below_the_ball_bound(problem, seed, R, fraction, pl_record):
    """At any w in B(w0, R) and every data point x, the exact Hessian norm
    max_i 1/2 (|a_i| ||x||^2 + sqrt(a_i^2 ||x||^4 + 4 b_i^2 ||x||^2)) is at most the bound of docs/theory.md §8
    with V = ||v0||_inf + R and the activation's S1, S2 (50 digits)."""
    model = problem.model
    act = model.activation
    w = point_near(problem, seed, fraction * R)
    V = float(np.max(np.abs(model.v0))) + R
    margins = []
    with precision(digits=DIGITS) as ar:
        for x in model.X:
            xx = float(x @ x)
            a, b = neuron_terms(model, ar.asarray(w), x, ar)
            norm = max(abs(e) for e in neuron_eigenvalues(a, b, ar.asarray(xx), mpmath.sqrt))
            bound = ball_bound(act.S1, act.S2, V, xx, model.width)
            margins.append((bound - norm) / bound)
    pl_record.margin(min(margins), example={"problem": problem, "w": w, "R": R})
    assert min(margins) >= 0


def width_series(activation, n, d, seed, R, R_kernel):
    """Median over REPEATS seeds of (Hessian ball bound / (R + sqrt(2 ln 2m)), kernel change) per width."""
    X = unit_inputs(n, d, seed)
    xx = np.sum(X * X, axis=1)
    out = []
    for width in WIDTHS:
        rows = []
        for rep in range(REPEATS):
            model = TwoLayer(X, int(width), activation, seed=seed + 7919 * rep)
            act = model.activation
            V = np.max(np.abs(model.v0)) + R
            hessian = np.max(ball_bound(act.S1, act.S2, V, xx, width)) / (R + np.sqrt(2 * np.log(2 * width)))
            s, s1, s2 = act.derivatives(X @ model.W0.T, FLOAT64, 2)
            # gradient of tr K(w) at w0 (docs/theory.md §8 kernel formula): the direction the kernel moves most
            grad_v = 2 * model.v0 * np.sum(s1**2 * xx[:, None], axis=0) / width
            grad_W = ((2 * model.v0**2 * s1 * s2 * xx[:, None] + 2 * s * s1) / width).T @ X
            direction = model.join(grad_W, grad_v)
            w0 = model.default_w0()
            moved = w0 + R_kernel * direction / np.linalg.norm(direction)
            change = np.linalg.norm(model.kernel(moved) - model.kernel(w0), 2)
            rows.append((hessian, change))
        out.append(np.median(rows, axis=0))
    return np.array(out)


@pytest.mark.plproof(theory="§8, §4.3, §4.4", source="Liu-Zhu-Belkin NeurIPS 2020 (transition to linearity); "
                     "docs/theory.md §8 scaling", rigor="sampled", precision={"arithmetic": "float64"},
                     symbols="log-log slope over m = 2^6..2^12 of eps(m) / (R + sqrt(2 ln 2m)) and of "
                             "||K(w0 + R u) - K(w0)||_2 lies in [-0.6, -0.4]")
@given(activation=st.sampled_from(SMOOTH_ACTIVATIONS), n=st.integers(1, 4), d=st.integers(2, 4),
       seed=st.integers(0, 2**20))
def test_hessian_bound_and_kernel_change_fall_like_inverse_sqrt_width(activation, n, d, seed, pl_record):
    """For two-layer networks of widths m = 2^6..2^12 (median of 5 initialisations per width), the fitted
    exponent p of m^p lies in [-0.6, -0.4] for (i) the certified Hessian bound over B(w0, 1) divided by
    the sqrt(log m) envelope R + sqrt(2 ln 2m) of ||v0||_inf + R (docs/theory.md §8 scaling), and (ii) the
    kernel change ||K(w0 + R u) - K(w0)||_2, R = 1/4, along the unit direction u of steepest increase of tr K."""
    series = width_series(activation, n, d, seed, R=1.0, R_kernel=0.25)
    logs = np.log(WIDTHS.astype(float))
    slopes = [float(np.polyfit(logs, np.log(series[:, j]), 1)[0]) for j in range(2)]
    lo, hi = SLOPE_RANGE
    pl_record.margin(min(min(s - lo, hi - s) for s in slopes),
                     example={"activation": activation, "n": n, "d": d, "seed": seed, "slopes": slopes})
    assert all(lo <= s <= hi for s in slopes), slopes
