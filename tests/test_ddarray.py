"""Double-double arrays (plproof/numeric/ddarray.py, docs/rigor.md §12) against mpmath at 40 digits: operations
and functions at random and hard inputs, models, GD/SGD, the choice made by precision(), high-precision
eigenvalues, and the fallbacks (mpmath for models that are not array-generic, eigsy without python-flint)."""

from __future__ import annotations

import sys

import mpmath
import numpy as np
import pytest
import sympy as sp

from plproof import MLP, CallableModel, Linear, RandomFeatures, SympyModel, TwoLayer
from plproof.errors import InvalidInput
from plproof.numeric import ddarray as dd
from plproof.numeric import linalg
from plproof.numeric.arith import DDArith, MPArith, high_precision, precision
from plproof.numeric.runners import gradient_descent, sgd
from plproof.problem import Problem

U2 = 2.0**-106
REF = 40  # digits of the mpmath reference


def mp(x) -> np.ndarray:
    return x.to_mpf().ravel() if isinstance(x, dd.DDArray) else np.asarray(x, dtype=object).ravel()


def worst(got, want, floor: float = 0.0) -> float:
    """max |got - want| / max(|want|, floor), in units of 2^-106."""
    with mpmath.workdps(REF + 10):
        return max(float(abs(g - w) / max(abs(w), floor)) if g != w else 0.0
                   for g, w in zip(mp(got), mp(want))) / U2


def dd_random(rng, n: int, scale: float = 1.0) -> dd.DDArray:
    """Random double-doubles with a non-zero low part."""
    hi = rng.standard_normal(n) * scale
    lo = hi * 2.0**-54 * rng.uniform(-1, 1, n)
    s, e = dd.two_sum(hi, lo)
    return dd.DDArray(s, e)


def ref(fn, x: dd.DDArray) -> np.ndarray:
    with mpmath.workdps(REF):
        return np.array([fn(v) for v in x.to_mpf().ravel()], dtype=object)


# ---------------------------------------------------------------- operations
@pytest.mark.parametrize("scale", [1.0, 1e250, 1e-250])
def test_operations_match_mpmath_to_a_few_units_of_2_to_minus_106(scale):
    rng = np.random.default_rng(0)
    x, y = dd_random(rng, 500, scale), dd_random(rng, 500)
    f = np.random.default_rng(1).standard_normal(500)
    with mpmath.workdps(REF + 20):
        X, Y = x.to_mpf(), y.to_mpf()
        assert worst(x + y, X + Y) <= 3
        assert worst(x - y, X - Y) <= 3
        assert worst(x * y, X * Y) <= 7
        assert worst(x * f, X * f.astype(object)) <= 3
        assert worst(x / y, X / Y) <= 10
        assert worst(f / x, f.astype(object) / X) <= 10
        assert worst(dd.sqrt(abs(x)), np.array([mpmath.sqrt(abs(v)) for v in X])) <= 3


def test_cancellation_keeps_relative_accuracy():
    """x - x(1 + 2^-80 t): the accurate sum is relative to the (tiny) result, not to |x|."""
    rng = np.random.default_rng(2)
    x = dd_random(rng, 300)
    t = rng.uniform(-1, 1, 300)
    z = x * dd.add(1.0, t * 2.0**-80)
    with mpmath.workdps(REF + 30):
        assert worst(x - z, x.to_mpf() - z.to_mpf()) <= 3
    assert np.array_equal((x - x).hi, np.zeros(300)) and np.array_equal((x - x).lo, np.zeros(300))


def test_conversions_are_exact_or_nearest():
    with mpmath.workdps(40):
        third = mpmath.mpf(1) / 3
        d = dd.as_dd(np.array([third, mpmath.mpf(2) ** 60 + 1], dtype=object))
        assert abs(d.to_mpf()[0] - third) <= third * 2.0**-106
        assert d.to_mpf()[1] == mpmath.mpf(2) ** 60 + 1
    from fractions import Fraction
    assert dd.as_dd(Fraction(1, 3)).hi == 1 / 3 and dd.as_dd(2**60 + 1).to_mpf()[()] == 2**60 + 1
    with mpmath.workdps(40):
        tenth = dd.as_dd(["0.1"]).to_mpf()[0]
        assert abs(tenth - mpmath.mpf("0.1")) <= mpmath.mpf("0.1") * 2.0**-106 < abs(0.1 - mpmath.mpf("0.1"))


# ---------------------------------------------------------------- functions
HARD = {
    "exp": [0.0, 1e-300, -1e-20, 1e-20, 0.5 * np.log(2), -650.0, 700.0, 1.0 / 512, 88.7],
    "expm1": [1e-300, -1e-25, 1e-10, -0.0027, 0.0027, -40.0, 30.0, -1e-5],
    "tanh": [0.0, 1e-300, -1e-18, 1e-8, 0.5, 19.0, 37.9, 38.0, -60.0, 1e5],
    "sin": [1e-300, 1e-9, np.pi / 4, 1.0, -3.0, 100.0, 8e5 * np.pi, 1e6, 2.0**25],
    "cos": [0.0, 1e-9, np.pi / 4, 1.5, -3.0, 100.0, 1e6],
    "log1p": [1e-300, 1e-30, -1e-30, 1e-8, -0.5, -0.999999, 1.0, 1e10, 1e300],
    "erf": [1e-200, 1e-10, 0.3, -1.0, 2.5, 5.99, 6.01, -8.0, 30.0],
}
FUNCS = {"exp": (dd.exp, mpmath.exp, 4), "expm1": (dd.expm1, mpmath.expm1, 4), "tanh": (dd.tanh, mpmath.tanh, 8),
         "sin": (dd.sin, mpmath.sin, 8), "cos": (dd.cos, mpmath.cos, 8), "log1p": (dd.log1p, mpmath.log1p, 8),
         "erf": (dd.erf, mpmath.erf, 64)}


@pytest.mark.parametrize("name", list(FUNCS))
def test_functions_match_mpmath_at_random_and_hard_inputs(name):
    ours, theirs, bound = FUNCS[name]
    rng = np.random.default_rng(3)
    x = dd.concatenate([dd_random(rng, 400, 3.0), dd.as_dd(np.array(HARD[name]))])
    if name == "log1p":
        x = dd.concatenate([abs(x[:400]) - 0.5, x[400:]])
    # sin, cos: absolute accuracy near their zeros (the reduction x - k pi/2 is absolute)
    floor = 1.0 if name in ("sin", "cos") else 0.0
    assert worst(ours(x), ref(theirs, x), floor) <= bound


def test_function_overflow_and_nan_stay_non_finite():
    x = dd.as_dd(np.array([1e6, np.nan, -1e6]))
    e = dd.exp(x)
    assert np.isinf(e.hi[0]) and np.isnan(e.hi[1]) and e.hi[2] == 0
    assert np.isnan(dd.tanh(x).hi[1]) and dd.tanh(x).hi[0] == 1


# ---------------------------------------------------------------- matrix products and numpy interoperation
@pytest.mark.parametrize("k", [1, 10, 300])
def test_matmul_error_is_relative_to_the_absolute_product(k):
    rng = np.random.default_rng(k)
    A = dd_random(rng, 7 * k).reshape(7, k)
    B = dd_random(rng, k * 5, 1e-3).reshape(k, 5)
    with mpmath.workdps(REF + 10):
        Am, Bm = A.to_mpf().reshape(7, k), B.to_mpf().reshape(k, 5)
        exact, size = Am.dot(Bm), np.abs(Am).dot(np.abs(Bm))
        got = (A @ B).to_mpf()
        assert max(float(abs(g - e) / s) for g, e, s in zip(got.ravel(), exact.ravel(), size.ravel())) <= 4 * U2
    v = B[:, 0]
    assert (A @ v).shape == (7,) and (v @ v).shape == () and (A.T @ A).shape == (k, k)
    with pytest.raises(ValueError, match="do not align"):
        A @ A


def test_matmul_cancels_equal_and_opposite_terms_exactly():
    rng = np.random.default_rng(5)
    a = dd_random(rng, 6)
    v = dd.concatenate([a, -a])
    ones = np.ones((3, 12))
    assert not (ones @ v).hi.any()


def test_numpy_operands_on_either_side():
    x = dd.as_dd(np.array([1.0, -2.0, 3.0]))
    f = np.array([0.5, 0.25, 2.0])
    assert isinstance(f + x, dd.DDArray) and isinstance(np.float64(2) * x, dd.DDArray)
    assert np.array_equal((f - x).hi, f - x.hi) and np.array_equal((1 - x).hi, 1 - x.hi)
    assert np.array_equal(x > 0, [True, False, True]) and np.array_equal(abs(x).hi, [1.0, 2.0, 3.0])
    w = np.where(x > 0, x, x * 0)
    assert isinstance(w, dd.DDArray) and np.array_equal(w.hi, [1.0, 0.0, 3.0])
    c = np.concatenate([x, f])
    assert isinstance(c, dd.DDArray) and c.shape == (6,)
    assert x[:, None].shape == (3, 1) and x.reshape(3, 1).T.shape == (1, 3) and float(x[1]) == -2.0
    assert isinstance(np.tanh(x), dd.DDArray) and np.isfinite(x).all()


# ---------------------------------------------------------------- models and runs against mpmath at 40 digits
def models():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((5, 3)) / np.sqrt(3)
    out = [TwoLayer(X, 6, act, seed=1) for act in ("tanh", "sigmoid", "softplus", "sin", "gelu")]
    return out + [MLP(X, [4, 5], "tanh", seed=2), Linear(rng.standard_normal((4, 7))), RandomFeatures(X, 8, seed=3),
                  TwoLayer(X, 4, "relu", seed=4)]


@pytest.mark.parametrize("model", models(), ids=lambda m: f"{type(m).__name__}-{getattr(m, 'activation', '')}")
def test_model_evaluation_in_double_double_matches_mpmath(model):
    w = model.default_w0() + 0.1
    r = np.linspace(-1, 1, model.n_outputs)
    ar, ref_ar = DDArith(30), MPArith(REF)
    with ref_ar.active():
        want = [model.F(w, ref_ar), model.jacobian(w, ref_ar), model.kernel(w, ref_ar), model.vjp(w, r, ref_ar)]
    with ar.active():
        got = [model.F(w, ar), model.jacobian(w, ar), model.kernel(w, ar), model.vjp(w, r, ar)]
    for g, v in zip(got, want):
        assert isinstance(g, dd.DDArray)
        with mpmath.workdps(REF):
            scale = max(abs(x) for x in v.ravel()) or 1
        assert worst(g, v, float(scale)) <= 2**10  # about 3e-29 of the largest entry


def test_gd_and_sgd_in_double_double_match_mpmath():
    X = np.random.default_rng(8).standard_normal((6, 3)) / np.sqrt(3)
    problem = Problem(TwoLayer(X, 10, "tanh", seed=0), np.linspace(-0.5, 0.5, 6))
    with precision(digits=30):
        ours = gradient_descent(problem, 0.5, 6, lambda_min_every=3)
        ours_sgd = sgd(problem, 0.5, 6, batch=2, seed=1)
    theirs = gradient_descent(problem, 0.5, 6, arith=MPArith(REF))
    theirs_sgd = sgd(problem, 0.5, 6, batch=2, seed=1, arith=MPArith(REF))
    assert ours.arithmetic == "double-double" and len(ours.lambda_mins) == 3
    assert worst(ours.w_final, theirs.w_final, 1.0) <= 2**10
    assert worst(ours_sgd.w_final, theirs_sgd.w_final, 1.0) <= 2**10
    assert np.allclose(ours.losses, theirs.losses, rtol=1e-14, atol=0)


def test_gd_above_30_digits_runs_in_python_flint_or_else_mpmath(monkeypatch):
    X = np.random.default_rng(9).standard_normal((4, 3)) / np.sqrt(3)
    problem = Problem(MLP(X, [5, 4], "tanh", seed=0), np.linspace(-0.3, 0.3, 4))
    ref = gradient_descent(problem, 0.5, 4, arith=MPArith(60)).w_final
    runs = []
    if linalg.have_flint():
        with precision(digits=45):
            runs.append(gradient_descent(problem, 0.5, 4, lambda_min_every=2))
        assert runs[-1].arithmetic == "python-flint-45"
    monkeypatch.setitem(sys.modules, "flint", None)  # python-flint absent: mpmath object arrays
    with precision(digits=45):
        runs.append(gradient_descent(problem, 0.5, 4))
    assert runs[-1].arithmetic == "mpmath-45"
    for run in runs:
        assert all(isinstance(v, mpmath.mpf) for v in run.w_final)
        with mpmath.workdps(60):
            assert max(abs(a - b) for a, b in zip(run.w_final, ref)) <= mpmath.mpf(10) ** -43


def test_sympy_models_evaluate_in_double_double_where_their_functions_allow():
    a, b, c, x = sp.symbols("a b c x")
    exprs = [sp.tanh(a * x) * b + sp.sqrt(c**2 + x**2) / 3 + sp.exp(-a**2) * sp.log(1 + b**2) + sp.erf(c * x) / (1 + a**2),
             sp.sin(b * x) * sp.cos(c) + sp.pi * a**(-2) * x]
    model = SympyModel(exprs, [a, b, c], inputs=[x], data=[0.3, -1.2, 2.0], w0=[0.4, -0.7, 1.1])
    assert model.array_generic and model.dd_obstacle is None
    w, r = model.default_w0(), np.linspace(-1, 1, model.n_outputs)
    ar, ref_ar = DDArith(30), MPArith(REF)
    with ref_ar.active():
        want = [model.F(w, ref_ar), model.jacobian(w, ref_ar), model.vjp(w, r, ref_ar)]
    with ar.active():
        got = [model.F(w, ar), model.jacobian(w, ar), model.vjp(w, r, ar)]
    for g, v in zip(got, want):
        assert isinstance(g, dd.DDArray) and worst(g, v, 1.0) <= 2**8
    with precision(digits=30):
        assert gradient_descent(Problem(model, np.zeros(model.n_outputs)), 0.01, 3).arithmetic == "double-double"
        with pytest.raises(InvalidInput, match="not finite real"):
            SympyModel([sp.log(a)], [a], w0=[-1.0]).F([-1.0])
    cube_root = SympyModel([a ** sp.Rational(1, 3)], [a], w0=[2.0])
    assert cube_root.dd_obstacle.startswith("no double-double evaluator for the power")
    with precision(digits=30):
        assert isinstance(cube_root.arithmetic(), MPArith) and isinstance(cube_root.F([2.0])[0], mpmath.mpf)


# ---------------------------------------------------------------- which arithmetic
def test_precision_chooses_double_double_up_to_30_digits():
    with precision(digits=30) as ar:
        assert isinstance(ar, DDArith) and mpmath.mp.dps == 30
    with precision(digits=12) as ar:
        assert isinstance(ar, DDArith)
    with precision(digits=31) as ar:
        assert isinstance(ar, MPArith)
    assert isinstance(high_precision(50), MPArith)
    with pytest.raises(InvalidInput, match="at most 30"):
        DDArith(31)
    with pytest.raises(InvalidInput, match="integer >= 5"):
        high_precision(True)


def test_models_that_are_not_array_generic_fall_back_to_mpmath():
    a, b = sp.symbols("a b")
    sym = SympyModel([sp.atan(a) * b, a * b], [a, b], w0=[0.3, 0.7])  # atan: no double-double evaluator
    call = CallableModel(lambda w: np.frompyfunc(mpmath.tanh, 1, 1)(w), 2, w0=[0.3, 0.7])

    class Rewritten(TwoLayer):  # a subclass that changes F: its closed forms do not apply
        def _F(self, w, ar):
            return super()._F(w, ar) * 2

    rewritten = Rewritten(np.eye(2), 3)
    with precision(digits=30) as ar:
        for model in (sym, call, rewritten):
            assert isinstance(model.arithmetic(), MPArith)
            out = model.F(model.default_w0())
            assert out.dtype == object and isinstance(out[0], mpmath.mpf)
        traj = gradient_descent(Problem(sym, [0.1, 0.2]), 0.1, 3)
        assert traj.arithmetic == "mpmath-30"
        assert isinstance(TwoLayer(np.eye(2), 3).arithmetic(), DDArith) and ar.fallback.digits == 30


# ---------------------------------------------------------------- eigenvalues
def spd(n: int, seed: int) -> np.ndarray:
    J = np.random.default_rng(seed).standard_normal((n, 2 * n))
    return J @ J.T


def mp_eigs(K, digits: int = 50) -> list:
    with mpmath.workdps(digits):
        M = mpmath.matrix(np.asarray(K).tolist())
        return sorted(mpmath.eigsy((M + M.T) / 2, eigvals_only=True))


def test_eigenvalues_at_30_digits_match_mpmath():
    K = spd(12, 0)
    want = mp_eigs(K)
    got = linalg.eigvalsh_hp(K, 30)
    with mpmath.workdps(50):
        assert max(abs(g - w) for g, w in zip(got, want)) <= mpmath.mpf(10) ** -30 * want[-1]
    assert linalg.lambda_min_hp(K, 30).lo == float(want[0]) == linalg.lambda_min_hp(K, 50).lo
    assert linalg.lambda_max_hp(K, 30).hi == float(want[-1])


def test_eigenvalues_of_repeated_and_close_clusters():
    Q = np.linalg.qr(np.random.default_rng(1).standard_normal((8, 8)))[0]
    for d in ([1, 1, 1, 2, 3, 4, 5, 6], [1, 1 + 1e-13, 2, 3, 4, 5, 6, 7.0]):
        K = (Q * np.array(d, dtype=float)) @ Q.T
        want = mp_eigs(K)
        with mpmath.workdps(50):
            assert max(abs(g - w) for g, w in zip(linalg.eigvalsh_hp(K, 30), want)) <= mpmath.mpf(10) ** -29


def test_eigenvalues_beyond_30_digits_with_and_without_flint(monkeypatch):
    K = spd(6, 2)
    want = mp_eigs(K, 60)
    with mpmath.workdps(60):
        tol = mpmath.mpf(10) ** -44 * want[-1]
        if linalg.have_flint():
            assert max(abs(g - w) for g, w in zip(linalg.eigvalsh_hp(K, 45), want)) <= tol
            Kmp = np.array([[mpmath.mpf(v) for v in row] for row in K], dtype=object)  # negative entries too
            assert max(abs(g - w) for g, w in zip(linalg.eigvalsh_hp(Kmp, 45), want)) <= tol
        monkeypatch.setitem(sys.modules, "flint", None)  # python-flint absent: mpmath eigsy
        assert not linalg.have_flint()
        assert max(abs(g - w) for g, w in zip(linalg.eigvalsh_hp(K, 45), want)) <= tol


def test_refinement_that_does_not_settle_falls_back_to_mpmath(monkeypatch):
    K = spd(5, 3)
    monkeypatch.setattr(linalg, "ROUNDS", 0)
    with mpmath.workdps(50):
        assert max(abs(g - w) for g, w in zip(linalg.eigvalsh_hp(K, 30), mp_eigs(K))) <= mpmath.mpf(10) ** -28
