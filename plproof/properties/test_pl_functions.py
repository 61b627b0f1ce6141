"""One GD step on PL functions: the ADZ worst-case rate (docs/theory.md §6.2-6.3), at 50 digits."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from plproof.properties._helpers import DIGITS, MP50, TOL50, adz_tau

KNS_L, KNS_MU = 8, mpmath.mpf(1) / 32
SOURCE = "Abbaszadehpeivasti, de Klerk, Zamani, Optim. Lett. 2023 (arXiv 2204.00647), Theorem 3"
SYMBOLS = "f(x0 - h f'(x0)) - f* <= tau(L, mu, h) (f(x0) - f*), 0 < h < 2/L"


def kns(x):
    """f(x) = x^2 + 3 sin^2 x and f'(x) = 2x + 3 sin 2x (docs/theory.md §6.2)."""
    return x**2 + 3 * mpmath.sin(x) ** 2, 2 * x + 3 * mpmath.sin(2 * x)


@pytest.mark.plproof(theory="§6.2, §6.3", source=SOURCE + "; KNS 2016 example, mu = 1/32 (docs/theory.md §6.2)",
                     symbols=SYMBOLS + ", f = x^2 + 3 sin^2 x, L = 8, mu = 1/32", rigor="high-precision",
                     precision=MP50)
@given(x0=st.floats(-50, 50), h=st.floats(0.001, 0.249))
def test_adz_one_step_rate_on_the_kns_function(x0, h, pl_record):
    """For f(x) = x^2 + 3 sin^2 x (f* = 0, L = 8, mu = 1/32 valid under convention A) and any x0 and
    h in (0, 2/L): f(x0 - h f'(x0)) <= tau(8, 1/32, h) f(x0), with tau the ADZ rate (squared-ratio form),
    checked at 50 digits to 1e-40 f(x0)."""
    with mpmath.mp.workdps(DIGITS):
        f0, g0 = kns(mpmath.mpf(x0))
        f1, _ = kns(mpmath.mpf(x0) - mpmath.mpf(h) * g0)
        tau = adz_tau(KNS_L, KNS_MU, h)
        if f0 == 0:  # x0 = 0 is the minimiser: x1 = 0
            assert f1 == 0
            return
        margin = (tau * f0 - f1) / f0
    pl_record.margin(margin, example={"x0": x0, "h": h, "tau": tau})
    assert margin >= -TOL50


@st.composite
def pl_quadratics(draw):
    """f(x) = 1/2 x^T A x with eigenvalues of A in {0} u [mu, L]: L-smooth and mu-PL with f* = 0."""
    k = draw(st.integers(1, 5))
    L = draw(st.floats(0.5, 4))
    mu = L * draw(st.floats(0.001, 1))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    spectrum = [draw(st.sampled_from(["0", "mu", "L", "between"])) for _ in range(k)]
    values = [{"0": 0.0, "mu": mu, "L": L, "between": rng.uniform(mu, L)}[s] for s in spectrum]
    Q = np.linalg.qr(rng.standard_normal((k, k)))[0] if draw(st.booleans()) else np.eye(k)
    return {"L": L, "mu": mu, "eigenvalues": values, "Q": Q, "x0": rng.standard_normal(k)}


@pytest.mark.plproof(theory="§6.3", source=SOURCE, symbols=SYMBOLS + ", f = 1/2 x^T A x, spec A in {0} u [mu, L]",
                     rigor="high-precision", precision=MP50)
@given(quad=pl_quadratics(), h_frac=st.floats(0.001, 0.999))
@example(quad={"L": 1.0, "mu": 1.0, "eigenvalues": [0.0, 1.0], "x0": np.array([1.30400005, 0.94708096]),
               "Q": np.array([[-0.76705143, 0.64158561], [0.64158561, 0.76705143]])}, h_frac=0.5)  # Q only float-orthogonal
def test_adz_one_step_rate_on_random_pl_quadratics(quad, h_frac, pl_record):
    """For f(x) = 1/2 x^T A x with A = Q diag(lambda) Q^T, lambda_i in {0} u [mu, L] (so f is L-smooth and
    mu-PL with f* = 0) and h = h_frac 2/L: f(x0 - h A x0) <= tau(L, mu, h) f(x0) at 50 digits, to 1e-40 f(x0).
    Q is the float64 rotation drawn, re-orthonormalised at 50 digits, so A has exactly the drawn eigenvalues."""
    with mpmath.mp.workdps(DIGITS):
        Q = mpmath.qr(mpmath.matrix(quad["Q"].tolist()))[0]
        A = Q * mpmath.diag([mpmath.mpf(v) for v in quad["eigenvalues"]]) * Q.T
        x0 = mpmath.matrix(quad["x0"].tolist())
        L, mu = mpmath.mpf(quad["L"]), mpmath.mpf(quad["mu"])
        h = h_frac * 2 / L
        x1 = x0 - h * (A * x0)
        f0, f1 = (x0.T * A * x0)[0] / 2, (x1.T * A * x1)[0] / 2
        if f0 <= TOL50:  # x0 (numerically) in ker A: f(x1) <= f(x0) ~ 0
            assert f1 <= TOL50
            return
        margin = (adz_tau(L, mu, h) * f0 - f1) / f0
    pl_record.margin(margin, example=quad | {"h": h})
    assert margin >= -TOL50


ADZ_FIXTURES = {  # docs/theory.md §6.3, L = 1: (mu, h) -> ADZ tau to 6 digits
    (0.2, 0.1): 0.961352, (0.2, 0.3): 0.892023, (0.2, 0.5): 0.832970, (0.2, 0.8): 0.762666,
    (0.2, 1.0): 0.727273, (0.2, 1.3): 0.734248, (0.2, 1.6): 0.801379, (0.2, 1.8): 0.898876,
    (0.2, 1.95): 0.978850, (0.5, 0.1): 0.904350, (0.5, 0.3): 0.738644, (0.5, 0.5): 0.605647,
    (0.5, 0.8): 0.462400, (0.5, 1.0): 0.400000, (0.5, 1.3): 0.433396, (0.5, 1.6): 0.588571,
    (0.5, 1.8): 0.780488, (0.5, 1.95): 0.948752,
}


def test_adz_rate_matches_the_published_table_and_its_properties():
    """The tau used above: the table of docs/theory.md §6.3 (L = 1) to 6 digits, tau(1/L) = 2(L - mu)/(2L + mu),
    continuity at the breakpoints 1/L and sqrt(3)/L, and tau <= 1 - mu h (2 - L h)."""
    for (mu, h), value in ADZ_FIXTURES.items():
        assert abs(adz_tau(1, mu, h) - value) <= 5e-7
    with mpmath.mp.workdps(DIGITS):
        for L, mu in [(1, 0.2), (8, mpmath.mpf(1) / 32), (3, 2)]:
            L, mu = mpmath.mpf(L), mpmath.mpf(mu)
            assert abs(adz_tau(L, mu, 1 / L) - 2 * (L - mu) / (2 * L + mu)) < TOL50
            for b in (1 / L, mpmath.sqrt(3) / L):
                eps = mpmath.mpf("1e-30")
                assert abs(adz_tau(L, mu, b - eps) - adz_tau(L, mu, b + eps)) < 1e-25
            for h in mpmath.linspace(0.01 / L, 1.99 / L, 50):
                assert adz_tau(L, mu, h) <= 1 - mu * h * (2 - L * h) + TOL50
