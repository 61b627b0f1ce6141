"""Verified lambda_min / lambda_max bounds (plproof/numeric/verified.py, docs/rigor.md §0-§1).

Truth is computed at 100 digits with mpmath on the exact rational matrix (floats convert exactly),
so a lower bound above it is a soundness bug; 1e-80 relative slack covers mpmath's own error.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plproof.errors import InvalidInput, MissingDependency
from plproof.numeric import floatbounds as fb
from plproof.numeric import verified as V
from plproof.numeric.rigor import RigorLevel

SLACK = 1e-80


def exact_gram(J: np.ndarray) -> list[list[Fraction]]:
    Q = [[Fraction(float(x)) for x in row] for row in J]
    return [[sum((a * b for a, b in zip(Q[i], Q[j])), Fraction(0)) for j in range(len(Q))] for i in range(len(Q))]


def mp_eigs(rows: list[list[Fraction]]) -> list[mpmath.mpf]:
    with mpmath.workdps(100):
        M = mpmath.matrix([[mpmath.mpf(x.numerator) / x.denominator for x in r] for r in rows])
        return sorted(mpmath.eigsy(M, eigvals_only=True))


def to_mp(x: float | Fraction) -> mpmath.mpf:
    x = Fraction(x)
    return mpmath.mpf(x.numerator) / x.denominator


def frob_sq(rows_a: list[list[Fraction]], K: np.ndarray) -> Fraction:
    return sum(((a - Fraction(float(b))) ** 2 for ra, rb in zip(rows_a, K) for a, b in zip(ra, rb)), Fraction(0))


def jacobian(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "well":
        return rng.standard_normal((8, 40))
    if kind == "ill":  # singular values spread over 6 decades: cond(K) ~ 1e12
        U_, _ = np.linalg.qr(rng.standard_normal((8, 8)))
        V_, _ = np.linalg.qr(rng.standard_normal((30, 8)))
        return (U_ * np.logspace(0, -6, 8)) @ V_.T
    if kind == "near_singular":
        J = rng.standard_normal((6, 20))
        J[5] = J[4] + 1e-9 * rng.standard_normal(20)
        return J
    if kind == "wide_m_lt_n":
        return rng.standard_normal((7, 4))
    if kind == "duplicate_rows":
        J = rng.standard_normal((6, 15))
        J[3] = J[1]
        return J
    raise ValueError(kind)


KINDS = ["well", "ill", "near_singular", "wide_m_lt_n", "duplicate_rows"]


# ----------------------------------------------------------------------------- §0 float bounds


def test_gamma_is_an_upper_bound_and_rejects_bad_k() -> None:
    for k in (0, 1, 2, 3, 7, 100, 10**5, 2**40):
        exact = Fraction(k) * Fraction(1, 2**53) / (1 - Fraction(k, 2**53))
        g = fb.gamma(k)
        assert Fraction(g) >= exact and (g == 0 or Fraction(fb.down(g)) < exact)
        assert Fraction(fb.gamma_ratio(k)) >= exact / (1 - exact)
        assert Fraction(fb.inv_one_minus_gamma(k)) >= 1 / (1 - exact)
    assert fb.gamma(0) == 0.0
    for bad in (-1, 2**52):
        with pytest.raises(InvalidInput):
            fb.gamma(bad)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e150, max_value=1e150), min_size=1, max_size=40))
def test_sumsq_and_directed_helpers_bound_the_exact_value(xs: list[float]) -> None:
    exact = sum((Fraction(x) ** 2 for x in xs), Fraction(0))
    assert Fraction(fb.sumsq_upper(np.array(xs))) >= exact
    assert Fraction(fb.add_up(*xs)) >= sum(map(Fraction, xs), Fraction(0))
    a, b = abs(xs[0]), abs(xs[-1])
    assert Fraction(fb.mul_up(a, b)) >= Fraction(a) * Fraction(b)
    q = Fraction(xs[0]) / 3
    assert Fraction(fb.float_down(q)) <= q <= Fraction(fb.float_up(q))


def test_sumsq_covers_underflowing_squares() -> None:
    xs = np.array([2.0**-540, 3 * 2.0**-560, 5e-324])  # every square underflows to 0 in float64
    exact = sum((Fraction(float(x)) ** 2 for x in xs), Fraction(0))
    assert float(np.dot(xs, xs)) == 0.0
    assert Fraction(fb.sumsq_upper(xs)) >= exact


# ----------------------------------------------------------------------------- §1.1 kernel from J


@pytest.mark.parametrize("kind", KINDS)
def test_kernel_enclosure_bounds_the_product_error(kind: str) -> None:
    J = jacobian(kind, 1)
    ker = V.kernel_enclosure(J)
    assert np.array_equal(ker.K, ker.K.T) and ker.assumptions == (V.BLAS_MODEL,)
    # ||K - J J^T||_2 <= ||K - J J^T||_F; checking the larger Frobenius norm is a stronger test
    assert frob_sq(exact_gram(J), ker.K) <= Fraction(ker.err) ** 2
    fro_sq = sum((Fraction(float(x)) ** 2 for x in J.ravel()), Fraction(0))
    assert Fraction(fb.gram_trace_upper(np.diag(ker.K), J.shape[1])) >= fro_sq


def test_kernel_enclosure_propagates_an_entrywise_J_error() -> None:
    rng = np.random.default_rng(3)
    J_hat = rng.standard_normal((5, 12))
    bound = np.full(J_hat.shape, 1e-6)
    J_true = J_hat + rng.uniform(-1e-6, 1e-6, J_hat.shape)  # any matrix within the entrywise bound
    ker = V.kernel_enclosure(J_hat, bound)
    assert frob_sq(exact_gram(J_true), ker.K) <= Fraction(ker.err) ** 2
    scalar = V.kernel_enclosure(J_hat, 1e-6 * math.sqrt(J_hat.size))
    assert scalar.err == pytest.approx(ker.err, rel=1e-6)
    with pytest.raises(InvalidInput):
        V.kernel_enclosure(J_hat, np.ones((2, 2)))
    with pytest.raises(InvalidInput):
        V.kernel_enclosure(J_hat, -1.0)


# ----------------------------------------------------------------------------- §1.2-1.5 lambda_min


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["float", "arb", "auto"])
def test_lower_bound_never_above_the_100_digit_value(kind: str, method: str) -> None:
    for seed in range(3):
        J = jacobian(kind, seed)
        ker = V.kernel_enclosure(J)
        eigs = mp_eigs(exact_gram(J))
        lam, scale = eigs[0], max(abs(eigs[0]), abs(eigs[-1]))
        enc = V.lambda_min_lower(ker.K, ker.err, method=method, psd=True)
        assert enc.rigor == RigorLevel.VERIFIED
        assert enc.lo <= lam + SLACK * scale, (kind, seed, enc, lam)
        assert enc.hi >= lam - SLACK * scale
        if kind == "well":
            assert (lam - enc.lo) / lam <= 1e-8
        if kind in ("wide_m_lt_n", "duplicate_rows"):
            assert enc.lo == 0.0  # lambda_min = 0 exactly: the Gram flag gives 0, nothing positive


def test_float_path_alone_can_go_negative_and_psd_flag_clips() -> None:
    ker = V.kernel_enclosure(jacobian("wide_m_lt_n", 0))
    raw = V.lambda_min_lower(ker.K, ker.err, method="float")
    assert raw.lo < 0 <= raw.hi
    assert V.lambda_min_lower(ker.K, ker.err, method="float", psd=True).lo == 0.0


def test_linear_example_exact_eigenvalues() -> None:
    X = np.array([[1, 2, 0, 1], [0, 1, 1, -1]], dtype=object)
    K = X @ X.T
    assert K.tolist() == [[6, 1], [1, 3]]
    with mpmath.workdps(60):
        lo_true, hi_true = (9 - mpmath.sqrt(13)) / 2, (9 + mpmath.sqrt(13)) / 2
        for enc, true in ((V.lambda_min_lower(K), lo_true), (V.lambda_max_upper(K), hi_true)):
            assert enc.rigor == RigorLevel.EXACT
            assert isinstance(enc.lo, Fraction) and isinstance(enc.hi, Fraction)
            lo, hi = to_mp(enc.lo), to_mp(enc.hi)
            assert lo <= true <= hi and (hi - lo) / true <= 1e-9
        for method in ("float", "arb", "exact"):
            enc = V.lambda_min_lower(np.array(K, dtype=float), method=method)
            lo, hi = to_mp(enc.lo), to_mp(enc.hi)
            assert lo <= lo_true <= hi and (lo_true - lo) / lo_true <= 1e-9


def test_exact_single_shift_test() -> None:
    K = [[6, 1], [1, 3]]
    assert V.lambda_min_lower_exact(K, Fraction(5, 2)).lo == Fraction(5, 2)
    below = V.lambda_min_lower_exact(K, Fraction(27, 10))
    assert below.lo == -math.inf and below.hi == Fraction(27, 10)
    # the boundary is exact: lambda = 2 is an eigenvalue of [[2,0],[0,3]], so K - 2I is not PD
    assert V.lambda_min_lower_exact([[2, 0], [0, 3]], 2).hi == 2


def test_three_paths_cross_check_on_float_matrices() -> None:
    rng = np.random.default_rng(7)
    for n, m in ((4, 9), (6, 6), (5, 3)):
        K = V.kernel_enclosure(rng.standard_normal((n, m))).K
        encs = [V.lambda_min_lower(K, method=method) for method in ("float", "exact", "arb")]
        lo = max(e.lo for e in encs)
        hi = min(e.hi for e in encs)
        assert lo <= hi, encs  # all contain lambda_min of the same float matrix
        exact = encs[1]
        assert exact.hi - exact.lo <= 1e-12 * abs(exact.hi) + 1e-17


def test_arb_stays_tight_where_the_float_bound_degrades() -> None:
    rng = np.random.default_rng(11)
    n = 60
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    K = (Q * np.logspace(0, -10, n)) @ Q.T
    K = np.tril(K) + np.tril(K, -1).T
    lam = mp_eigs([[Fraction(float(x)) for x in r] for r in K])[0]
    fl = V.lambda_min_lower(K, method="float")
    arb = V.lambda_min_lower(K, method="arb")
    assert fl.lo <= lam and arb.lo <= lam <= arb.hi
    assert (lam - arb.lo) / lam < 1e-4 < (lam - fl.lo) / lam
    auto = V.lambda_min_lower(K)  # auto switches to arb when the Cholesky loses > 1e-8 relative
    assert auto.lo == max(fl.lo, arb.lo)


def test_sabotage_dropping_the_allowance_certifies_a_non_pd_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    # fl(J J^T) for a 3x2 J: singular in exact arithmetic, and its float64 rounding is exactly
    # indefinite, yet LAPACK's Cholesky completes. Found by searching seeds; the asserts prove it.
    J = np.random.default_rng(15).standard_normal((3, 2))
    K = V.kernel_enclosure(J).K
    np.linalg.cholesky(K)  # completes
    truth = V.lambda_min_enclosure_exact(K.astype(object).tolist(), atol=1e-40)
    assert truth.hi < 0  # K is not positive semi-definite
    honest = V.cholesky_lower_bound(K, 0.0)
    assert honest is not None and honest <= truth.lo
    monkeypatch.setattr(V, "gamma_ratio", lambda k: 0.0)
    monkeypatch.setattr(V, "U", 0.0)
    fooled = V.cholesky_lower_bound(K, 0.0)
    assert fooled > truth.hi  # without the allowance the "bound" is above the true lambda_min


@settings(derandomize=True, max_examples=25, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(1, 10),
            st.integers(0, 2**31),
            st.sampled_from([1.0, 1e-3, 1e3]),
        )
    )
)
def test_hypothesis_random_jacobians(params: tuple[int, int, int, float]) -> None:
    n, m, seed, scale = params
    J = np.random.default_rng(seed).standard_normal((n, m)) * scale
    ker = V.kernel_enclosure(J)
    eigs = mp_eigs(exact_gram(J))
    top = max(abs(eigs[0]), abs(eigs[-1]))
    lo_enc = V.lambda_min_lower(ker.K, ker.err, method="float")
    hi_enc = V.lambda_max_upper(ker.K, ker.err, method="float")
    assert lo_enc.lo <= eigs[0] + SLACK * top <= lo_enc.hi + 2 * SLACK * top
    assert hi_enc.lo - SLACK * top <= eigs[-1] <= hi_enc.hi + SLACK * top


# ----------------------------------------------------------------------------- §1.4 upper bounds


def test_lambda_max_and_spectral_norm_upper() -> None:
    rng = np.random.default_rng(5)
    for shape in ((5, 30), (30, 5), (1, 7), (6, 6)):
        A = rng.standard_normal(shape)
        rows = exact_gram(A if shape[0] <= shape[1] else A.T)
        with mpmath.workdps(100):
            true_norm = mpmath.sqrt(mp_eigs(rows)[-1])
            bound = V.spectral_norm_upper(A)
            assert bound >= true_norm and (bound - true_norm) / true_norm < 1e-8
    assert V.spectral_norm_upper(np.zeros((3, 4))) == 0.0
    K = V.kernel_enclosure(rng.standard_normal((10, 20))).K
    lam = mp_eigs([[Fraction(float(x)) for x in r] for r in K])[-1]
    for method in ("float", "arb", "exact"):
        enc = V.lambda_max_upper(K, method=method)
        lo, hi = to_mp(enc.lo), to_mp(enc.hi)
        assert lo <= lam <= hi and (hi - lam) / lam < 1e-10


@pytest.mark.parametrize("n, d", [(20, 64), (100, 10), (300, 5)])
def test_the_verifiers_float_test_proves_the_spectral_norm_bound(n: int, d: int) -> None:
    """The ||X|| hint a certificate carries (spectral_norm_upper with room) leaves the room the verifier's float
    Cholesky test of t^2 I - X X^T needs, so the re-check does not fall back to its exact O(n^4)-bit test (1.7 s at
    n = 100)."""
    from plproof.data import unit_inputs
    from plproof.verify.families import _norm_below_float

    X = unit_inputs(n, d, 3)
    t = V.spectral_norm_upper(X, room=True)
    assert _norm_below_float(X, Fraction(t), sum((Fraction(x) ** 2 for x in X.ravel()), Fraction(0)))
    assert t <= np.linalg.norm(X, 2) * (1 + 1e-8)


def test_upper_option_gives_a_tight_rigorous_hi() -> None:
    J = jacobian("well", 4)
    ker = V.kernel_enclosure(J)
    lam = mp_eigs(exact_gram(J))[0]
    plain = V.lambda_min_lower(ker.K, ker.err, method="float")
    tight = V.lambda_min_lower(ker.K, ker.err, method="float", upper=True)
    assert tight.lo <= lam <= tight.hi <= plain.hi
    assert (tight.hi - lam) / lam < 1e-8


# ----------------------------------------------------------------------------- inputs and fallbacks


def test_bad_inputs_raise_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        V.lambda_min_lower(np.array([[1.0, 2.0], [2.0000001, 1.0]]))
    with pytest.raises(InvalidInput):
        V.lambda_min_lower(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(InvalidInput):
        V.lambda_min_lower(np.eye(2), method="magic")
    with pytest.raises(InvalidInput):
        V.lambda_min_lower(np.eye(2), K_err=-1.0)
    with pytest.raises(InvalidInput):
        V.lambda_min_lower([[1, 2], [3, 4]], method="exact")
    with pytest.raises(InvalidInput):
        V.kernel_enclosure(np.ones(3))


def test_without_flint_arb_raises_and_auto_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "flint", None)  # makes `import flint` raise ImportError
    K = np.array([[2.0, 1.0], [1.0, 2.0]])
    with pytest.raises(MissingDependency, match="python-flint"):
        V.lambda_min_lower(K, method="arb")
    enc = V.lambda_min_lower(K)
    assert enc.lo <= 1.0 <= enc.hi and enc.lo > 0.999999
    assert V.lambda_min_lower([[6, 1], [1, 3]]).rigor == RigorLevel.EXACT  # Fraction arithmetic still works


def test_exact_input_too_large_for_auto_exact_uses_floats_with_rounding_error() -> None:
    n = V.EXACT_AUTO_MAX_N + 3
    rows = [[Fraction(1, 3) if i != j else Fraction(n) for j in range(n)] for i in range(n)]
    enc = V.lambda_min_lower(rows)
    true = Fraction(n) - Fraction(1, 3)  # eigenvalues of (n - 1/3) I + (1/3) 11^T: n - 1/3 and more
    assert enc.rigor == RigorLevel.VERIFIED and enc.lo <= true <= enc.hi
    assert (true - Fraction(enc.lo)) / true < 1e-10
