"""The vectorised verified centre of MLP, RandomFeatures and Linear models (docs/rigor.md §3.2): its midpoint-radius
enclosures of F(w0) and K(w0) contain the arb-ball values, are tight, give the ball path's verdicts, and reach
`verified` without python-flint at the centre."""

from __future__ import annotations

import numpy as np
import pytest

from plproof import Problem, check
from plproof.data import uniform_targets, unit_inputs
from plproof.models import MLP, Linear, RandomFeatures
from plproof.numeric import midrad_blas as mr
from plproof.numeric.rigor import RigorLevel
from plproof.theory import centre as centre_mod

SMOOTH = ["tanh", "sigmoid", "softplus", "sin", "gelu"]
ALL = SMOOTH + ["relu", "leaky_relu", "abs"]


def _contains(mid_rad, exact_mid, exact_rad):
    mid, rad = mid_rad
    return bool(np.all(np.abs(mid - exact_mid) + exact_rad <= rad))


@pytest.mark.parametrize("activation", SMOOTH)
@pytest.mark.parametrize("widths,init", [([24], "standard"), ([12, 10], "standard"), ([8, 10, 6], "symmetric")])
def test_mlp_enclosure_contains_the_arb_values_and_is_tight(activation, widths, init):
    pytest.importorskip("flint")
    from plproof.numeric.arith import BallArith

    rng = np.random.default_rng(len(widths))
    model = MLP(unit_inputs(7, 5, len(widths)) * rng.uniform(0.5, 3.0), widths, activation, seed=3, init=init)
    w = model.default_w0() * rng.uniform(0.5, 2.0)
    F, K = centre_mod.mlp_enclosure(model, w)
    ar = BallArith(128)
    with ar.active():
        F_arb, K_arb = ar.mid_rad(model.F(w, ar)), ar.mid_rad(model.kernel(w, ar))
    assert _contains(F, *F_arb) and _contains(K, *K_arb)
    # tight: the radii stay within 2^-30 of the scale, about 10^5 u (an arb ball at 128 bits is ~2^-120)
    assert np.max(K[1]) <= 2.0**-30 * np.max(np.abs(K[0])) and np.max(F[1]) <= 2.0**-30 * (np.max(np.abs(F[0])) + 1)


def test_mlp_enclosure_contains_mpmath_values_at_50_digits():
    """The same containment against a plain mpmath evaluation (no python-flint needed)."""
    from plproof.numeric.arith import MPArith

    model = MLP(unit_inputs(5, 3, 2), [9, 7], "tanh", seed=5)
    w = model.default_w0()
    F, K = centre_mod.mlp_enclosure(model, w)
    ar = MPArith(50)
    with ar.active():
        F_mp = np.array([float(x) for x in model.F(w, ar)])
        K_mp = np.array([[float(x) for x in row] for row in model.kernel(w, ar)])
    # a 50-digit value rounded to float is within u of the exact one, far inside the radii
    assert np.all(np.abs(F[0] - F_mp) <= F[1] + 1e-15 * np.abs(F_mp))
    assert np.all(np.abs(K[0] - K_mp) <= K[1] + 1e-15 * np.abs(K_mp))


def test_linear_enclosure_contains_the_exact_values():
    from fractions import Fraction

    rng = np.random.default_rng(0)
    X, w = rng.standard_normal((30, 40)), rng.standard_normal(40)
    F, K = centre_mod.linear_enclosure(X, w)
    Xq = [[Fraction(v) for v in row] for row in X]
    for i in (0, 7, 29):
        assert abs(Fraction(F[0][i]) - sum(a * Fraction(b) for a, b in zip(Xq[i], w))) <= Fraction(F[1][i])
        for j in (0, 13, 29):
            assert abs(Fraction(K[0][i, j]) - sum(a * b for a, b in zip(Xq[i], Xq[j]))) <= Fraction(K[1][i, j])


@pytest.mark.parametrize("activation", ALL)
def test_random_features_centre_agrees_with_the_ball_path(activation):
    pytest.importorskip("flint")
    problem = Problem(RandomFeatures(unit_inputs(8, 4, 1), 40, activation, seed=2), uniform_targets(8, 0.3, 1))
    new, old = centre_mod.centre(problem, RigorLevel.VERIFIED), centre_mod._balls(problem)
    assert new.method != old.method and new.lambda0.rigor is RigorLevel.VERIFIED
    for a, b in ((new.lambda0, old.lambda0), (new.res_norm, old.res_norm), (new.jac_norm, old.jac_norm)):
        assert a.lo <= b.hi and b.lo <= a.hi  # both contain the true value
        assert b.lo - a.lo <= 1e-9 * abs(b.lo) + 1e-300


SLOW = pytest.mark.slow  # 3-5 s each: the MLP ball bounds run in arb balls


@pytest.mark.parametrize("activation,widths,target", [
    ("tanh", [16], 0.01), pytest.param("sin", [12, 12], 0.01, marks=SLOW),
    pytest.param("sigmoid", [12, 10], 0.5, marks=SLOW), pytest.param("gelu", [10, 8, 6], 0.01, marks=SLOW)])
def test_mlp_centre_gives_the_ball_paths_verdict(monkeypatch, activation, widths, target):
    pytest.importorskip("flint")
    problem = Problem(MLP(unit_inputs(6, 4, 1), widths, activation, seed=1), uniform_targets(6, target, 1))
    new = check(problem, "verified", confirm=False)
    assert new.quantities["lambda0"].rigor is RigorLevel.VERIFIED
    monkeypatch.setattr(centre_mod, "_vectorised", lambda problem: None)
    old = check(problem, "verified", confirm=False)
    assert new.verdict == old.verdict
    lam_new, lam_old = new.quantities["lambda0"].lo, old.quantities["lambda0"].lo
    assert lam_new <= old.quantities["lambda0"].hi and lam_old - lam_new <= 1e-9 * abs(lam_old)


@pytest.mark.parametrize("model", [lambda: MLP(unit_inputs(6, 4, 1), [10, 8], "tanh", seed=1),
                                   lambda: RandomFeatures(unit_inputs(6, 4, 1), 30, "sigmoid"),
                                   lambda: Linear(unit_inputs(20, 30, 1))])
def test_the_centre_is_verified_without_python_flint(monkeypatch, model):
    """Without python-flint (once the activation tables exist) the centre is still verified, and says how."""
    built = model()
    problem = Problem(built, uniform_targets(built.n_outputs, 0.2, 1))
    monkeypatch.setattr(centre_mod, "have_flint", lambda: False)
    monkeypatch.setattr(centre_mod, "_balls", None)  # the ball path must not be reached
    try:
        c = centre_mod.centre(problem, RigorLevel.VERIFIED)
    except Exception as exc:  # only the one-off table build may need python-flint
        pytest.importorskip("flint", reason=str(exc))
        raise
    assert c.lambda0.rigor is RigorLevel.VERIFIED and "BLAS" in c.method and not c.notes


def test_without_python_flint_the_tables_are_missing_and_the_note_says_so(monkeypatch):
    from plproof.errors import MissingDependency

    def missing(*args, **kwargs):
        raise MissingDependency("ball arithmetic needs python-flint: pip install 'plproof[flint]'")

    problem = Problem(MLP(unit_inputs(5, 3, 1), [8], "softplus"), uniform_targets(5, 0.2, 1))
    monkeypatch.setattr(centre_mod, "have_flint", lambda: False)
    monkeypatch.setattr(centre_mod, "enclose", missing)
    c = centre_mod.centre(problem, RigorLevel.VERIFIED)
    assert c.lambda0.rigor is not RigorLevel.VERIFIED
    assert any("softplus" in note and "python-flint" in note for note in c.notes)


def test_product_and_gram_radii_cover_perturbed_inputs():
    """(M, R) covers every T with |T - M| <= R: the products' radii cover T B and T T^T at the extreme points."""
    rng = np.random.default_rng(4)
    M = rng.standard_normal((9, 50))
    R = np.abs(rng.standard_normal((9, 50))) * 1e-6
    B = rng.standard_normal((50, 11))
    for sign in (1.0, -1.0):
        T = M + sign * R * np.sign(rng.standard_normal(M.shape))
        C, C_rad = mr.product((M, R), B)
        G, G_rad = mr.gram((M, R))
        assert np.all(np.abs(C - T @ B) <= C_rad) and np.all(np.abs(G - T @ T.T) <= G_rad)


@pytest.fixture
def no_flint_tables(monkeypatch):
    """Activation tables built as without python-flint (mpmath.iv), the cache emptied before and after."""
    from plproof.numeric import enclosures

    enclosures.table.cache_clear()
    monkeypatch.setattr(enclosures, "have_flint", lambda: False)
    yield enclosures
    enclosures.table.cache_clear()


def test_tables_without_python_flint_enclose_sin(no_flint_tables):
    """sin's table (and its 2 pi reduction) in mpmath.iv: the enclosures contain 40-digit mpmath values."""
    import mpmath

    x = np.concatenate([np.linspace(-30, 30, 2001), [1e-300, -3.5, 4.0 + 2**-40, 1e5 + 0.25]])
    (s, s_rad), (c, c_rad) = no_flint_tables.enclose("sin", x, None, 1)
    with mpmath.workdps(40):
        for xi, si, ri, ci, qi in zip(x, s, s_rad, c, c_rad):
            assert abs(mpmath.sin(xi) - si) <= ri and abs(mpmath.cos(xi) - ci) <= qi
            assert ri < 1e-12 and qi < 1e-12


def test_tables_without_python_flint_match_python_flints(no_flint_tables):
    pytest.importorskip("flint")
    plain = no_flint_tables.table("sin")
    no_flint_tables.table.cache_clear()
    no_flint_tables.have_flint = lambda: True
    flint_built = no_flint_tables.table("sin")
    d = plain.d
    assert np.array_equal(plain.rows[: d + 1], flint_built.rows[: d + 1]) and plain.reduction == flint_built.reduction
    assert np.allclose(plain.rows[d + 1:], flint_built.rows[d + 1:], rtol=0.05, atol=0)


def test_without_python_flint_gelu_has_no_table_and_says_so(no_flint_tables):
    from plproof.errors import MissingDependency

    with pytest.raises(MissingDependency, match="gelu"):
        no_flint_tables.table("gelu")


@pytest.mark.parametrize("problem", [
    lambda: Problem(Linear(unit_inputs(16, 24, 3)), uniform_targets(16, 0.5, 3)),
    lambda: Problem(RandomFeatures(unit_inputs(6, 3, 2), 40, "softplus", seed=2), uniform_targets(6, 0.5, 2)),
    pytest.param(lambda: Problem(MLP(unit_inputs(3, 3, 4), [64, 64, 64], "tanh", seed=4, init="symmetric"),
                                 uniform_targets(3, 0.001, 4)), marks=SLOW)])
def test_certificates_from_the_vectorised_centre_verify(problem, tmp_path):
    """The verifier re-checks these centres by its own arithmetic (exact rationals, mpmath.iv): it accepts them."""
    from plproof.certificate.build import from_evidence
    from plproof.certificate.format import write_certificate
    from plproof.verify import verify

    built = problem()
    ev = check(built, "verified", confirm=False)
    assert "BLAS" in ev.hints["centre_method"] and ev.quantities["lambda0"].rigor is RigorLevel.VERIFIED
    assert ev.verdict.value == "certified"
    write_certificate(from_evidence(ev, built), tmp_path / "c.json")
    result = verify(tmp_path / "c.json")
    assert result.valid, result.reason


def test_a_tiny_lambda_min_is_retried_in_balls():
    """Two inputs 1e-7 apart: lambda_min(K) ~ 1e-15 is below the float radii, 128-bit balls prove it > 0."""
    pytest.importorskip("flint")
    X = unit_inputs(4, 3, 1)
    X[1] = X[0] + 1e-7 * np.array([1.0, -1.0, 0.5])
    problem = Problem(MLP(X, [16, 16], "tanh", seed=1), uniform_targets(4, 0.1, 1))
    assert centre_mod._network(problem).lambda0.lo <= 0
    c = centre_mod.centre(problem, RigorLevel.VERIFIED)
    assert c.lambda0.lo > 0 and c.method == "python-flint balls" and "did not separate" in c.notes[0]
