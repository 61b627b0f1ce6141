"""SympyModel and CallableModel: derivatives, verified/sampled ball bounds, rigor levels, bad input."""

from __future__ import annotations

import importlib.util
import math
import sys
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

from plproof import InvalidInput, MissingDependency, NotCertifiable, Problem, TwoLayer, precision
from plproof.routes.ball import check
from plproof.models.ball import BoundsAtRadius, HessianGridBounds, ball_bounds, hessian_norms_at
from plproof.numeric.scalars import FLOATS, INTERVALS
from plproof.models.callable_model import CallableModel
from plproof.models.sympy_model import SympyModel, perron_upper
from plproof.numeric.rigor import RigorLevel

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"plproof_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def toy():
    return load_example("toy_w1w2")


@pytest.fixture(scope="module")
def net():
    """The two-layer network of the examples: (built-in TwoLayer, SympyModel, CallableModel, w0)."""
    sym, num = load_example("sympy_model"), load_example("numpy_model")
    builtin = TwoLayer(sym.X, sym.WIDTH, seed=1)
    return builtin, sym.model, num.model, builtin.default_w0()


def ball_sample(w0: np.ndarray, R: float, k: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    pts = []
    for i in range(k):
        u = rng.standard_normal(w0.size)
        pts.append(w0 + R * (1.0 if i % 2 else rng.random()) * u / np.linalg.norm(u))
    return pts


def fd_jacobian(model, w: np.ndarray, h: float = 1e-6) -> np.ndarray:
    return np.stack([(model.F(w + h * e) - model.F(w - h * e)) / (2 * h) for e in np.eye(w.size)], axis=1)


# ---------------------------------------------------------------------------- the toy of docs/theory.md §5
def test_toy_hessian_bound_is_exactly_one_and_jacobian_bound_is_the_ball_value(toy):
    model, w0, R = toy.model, toy.problem.w0, 0.3
    assert toy.problem.n == 1 and toy.problem.m == 2 and list(w0) == [10.0, 0.0]
    assert model.hessian_bound(w0, R) == 1.0  # H = [[0, 1], [1, 0]]: sound (>= 1) and tight (<= 1)
    jb = model.jacobian_bound(w0, R)
    # sup_B |DF| = sup_B |w| = 10 + R; the box alone would give sqrt(10.3^2 + 0.3^2) = 10.3044 (box vs ball slack),
    # the bound |DF(w0)| + R eps reaches the ball value up to rounding upward
    assert 10.0 + R <= jb <= 10.3 + 1e-12
    bb = model.bounds_at(w0, R)
    assert isinstance(bb, BoundsAtRadius) and bb.rigor is RigorLevel.VERIFIED and bb.method == "interval box"
    lam0 = float(model.kernel(w0)[0, 0])
    mu = (math.sqrt(lam0) - math.sqrt(toy.problem.n) * bb.epsilon.hi * R) ** 2  # docs/theory.md §4.1, sharper form
    assert mu == pytest.approx(9.7**2, abs=1e-9)
    assert 2 * bb.jacobian_norm.hi * 1.0 / mu == pytest.approx(0.2189, abs=1e-4) and 0.2189 <= R  # v2 radius


def test_toy_is_certified_verified_by_check_with_mu_94(toy):
    ev = check(toy.problem, rigor="verified", radius=0.3, confirm=False)
    assert ev.certified and ev.rigor is RigorLevel.VERIFIED
    q = ev.quantities
    assert q["mu"].lo == pytest.approx(94.09, abs=1e-9) and q["L_F"].hi == pytest.approx(10.3, abs=1e-9)
    assert q["epsilon"].hi == 1.0 and q["R_fl"].hi <= 0.3


def test_radius_bounds_for_check_are_sound_monotone_and_capped(net):
    _, sym, num, w0 = net
    rb = sym.ball_bounds(w0)
    assert isinstance(rb, HessianGridBounds) and rb.rigor is RigorLevel.VERIFIED
    radii = [1e-8, 0.01, 0.1, 0.5]
    eps = [rb.epsilon(FLOATS, R) for R in radii]
    assert eps == sorted(eps) and rb.epsilon(FLOATS, 2 * rb.cap) == math.inf
    J0 = sym.jacobian(w0)
    for R in (0.01, 0.1):
        pts = ball_sample(w0, R, 20, seed=7)
        assert max(np.linalg.norm(sym.jacobian(w) - J0, 2) for w in pts) <= rb.delta(FLOATS, R)
        drift = INTERVALS.hi(rb.delta(INTERVALS, INTERVALS.of(R)))
        assert rb.delta(FLOATS, R) <= drift <= rb.delta(FLOATS, R) * (1 + 1e-12)
        assert max(np.linalg.norm(H, 2) for w in pts for H in sym.hessians(w)) <= rb.epsilon(FLOATS, R)
    assert rb.curvature(FLOATS, 0.1, 2.0) == pytest.approx(2 * rb.delta(FLOATS, 0.1) / 0.1)
    sampled = num.ball_bounds(w0)
    assert sampled.rigor is RigorLevel.SAMPLED and sampled.epsilon(FLOATS, 0.01) <= rb.epsilon(FLOATS, 0.01)


def test_toy_exact_and_high_precision_kernels(toy):
    with precision(exact=True):
        K = toy.model.kernel([Fraction(97, 10), Fraction(1, 3)])
    assert K[0, 0] == Fraction(97, 10) ** 2 + Fraction(1, 9)
    with precision(digits=40):
        K = toy.model.kernel(["9.7", "0.1"])
        assert abs(K[0, 0] - mpmath.mpf("94.1")) < mpmath.mpf(10) ** -35
    J, E = toy.model.jacobian_enclosure([9.7, 0.1])
    assert np.array_equal(J, [[0.1, 9.7]]) and not E.any()


# ---------------------------------------------------------------------------- derivatives
def test_sympy_jacobian_and_hessians_match_finite_differences(net):
    _, sym, _, w0 = net
    w = w0 + 0.3 * np.random.default_rng(3).standard_normal(w0.size)
    assert np.abs(sym.jacobian(w) - fd_jacobian(sym, w)).max() < 1e-8
    H = sym.hessians(w)
    h = 1e-6
    H_fd = np.stack([(sym.jacobian(w + h * e) - sym.jacobian(w - h * e)) / (2 * h) for e in np.eye(w.size)], axis=2)
    assert H.shape == (sym.n_outputs, sym.n_params, sym.n_params)
    assert np.abs(H - H_fd).max() < 1e-7 and np.array_equal(H, H.transpose(0, 2, 1))


def test_sympy_high_precision_matches_builtin_at_40_digits(net):
    builtin, sym, _, w0 = net
    with precision(digits=40):
        diff = sym.jacobian(w0) - builtin.jacobian(w0)
    assert max(abs(v) for v in diff.ravel()) < mpmath.mpf(10) ** -35


@pytest.mark.parametrize("analytic", [True, False])
def test_callable_jacobian_methods_against_closed_form(net, analytic):
    builtin, _, num, w0 = net
    w = w0 + 0.2 * np.random.default_rng(4).standard_normal(w0.size)
    if analytic:
        model, tol = num, 1e-13
        assert model.jacobian_method == "complex-step"
    else:  # np.real kills the imaginary part: complex step must be detected as wrong and replaced
        model, tol = CallableModel(lambda v: np.real(num.fn(v)), num.n_params, w0=w0), 1e-8
        assert model.jacobian_method == "central-difference"
    assert np.abs(model.jacobian(w) - builtin.jacobian(w)).max() < tol


def test_callable_high_precision_needs_an_mpmath_capable_fn(net):
    builtin, _, num, w0 = net
    float_only = CallableModel(lambda w: np.real(num.fn(w.astype(complex))), num.n_params, w0=w0)
    with pytest.raises(InvalidInput, match="mpmath-capable"):
        with precision(digits=30):
            float_only.F(w0)
    with precision(digits=30):  # the example switches to mpmath.tanh on object arrays
        diff = num.jacobian(w0) - builtin.jacobian(w0)  # central differences at 70 digits
    assert max(abs(v) for v in diff.ravel()) < mpmath.mpf(10) ** -25


def test_ball_arithmetic_encloses_sympy_models_and_refuses_callables(net):
    pytest.importorskip("flint")
    from plproof.numeric.arith import BallArith

    builtin, sym, num, w0 = net
    ar = BallArith(128)
    with ar.active():
        mid, rad = ar.mid_rad(sym.kernel(w0, ar))
        with pytest.raises(NotCertifiable, match="cannot be enclosed rigorously"):
            num.kernel(w0, ar)
    assert np.all(np.abs(builtin.kernel(w0) - mid) <= rad + 1e-15) and rad.max() < 1e-14


def test_callable_user_jacobian_is_used_and_checked():
    model = CallableModel(lambda w: np.array([w[0] * w[1]]), 2, jacobian=lambda w: np.array([[w[1], w[0]]]),
                          w0=[10.0, 0.0])
    assert model.jacobian_method == "user" and np.array_equal(model.jacobian([2.0, 3.0]), [[3.0, 2.0]])
    bad = CallableModel(lambda w: np.array([w[0] * w[1]]), 2, jacobian=lambda w: np.array([w[1], w[0]]))
    with pytest.raises(InvalidInput, match=r"shape \(1, 2\)"):
        bad.jacobian([1.0, 2.0])


# ---------------------------------------------------------------------------- the same network four ways
def test_kernels_agree_across_builtin_sympy_callable(net):
    builtin, sym, num, w0 = net
    K = builtin.kernel(w0)
    assert np.abs(sym.kernel(w0) - K).max() < 1e-10
    assert np.abs(num.kernel(w0) - K).max() < 1e-10
    assert np.abs(sym.F(w0) - builtin.F(w0)).max() < 1e-12


# ---------------------------------------------------------------------------- ball bounds and rigor levels
def test_verified_bounds_dominate_the_true_values_in_the_ball(net):
    _, sym, num, w0 = net
    R = 0.1
    bb = ball_bounds(sym, w0, R)
    assert len(bb.per_output) == sym.n_outputs and max(bb.per_output) == bb.epsilon.hi
    assert bb.rigor is RigorLevel.VERIFIED and bb.epsilon.assumptions
    pts = ball_sample(w0, R, 40, seed=5)
    eps_true = max(np.linalg.norm(H, 2) for w in pts for H in sym.hessians(w))
    lip_true = max(np.linalg.norm(sym.jacobian(w), 2) for w in pts)
    assert eps_true <= bb.epsilon.hi and lip_true <= bb.jacobian_norm.hi
    assert bb.epsilon.hi < 3 * eps_true and bb.jacobian_norm.hi < 1.5 * lip_true  # measured: 1.5x and 1.17x of 200-point maxima
    sampled = ball_bounds(num, w0, R, samples=3)
    assert sampled.rigor is RigorLevel.SAMPLED and "not a bound" in sampled.epsilon.assumptions[0]
    assert sampled.epsilon.hi <= bb.epsilon.hi and sampled.jacobian_norm.hi <= bb.jacobian_norm.hi
    assert sampled.epsilon.hi == pytest.approx(eps_true, rel=0.3)
    assert num.sampled_hessian_bound(w0, R, samples=3) == sampled.epsilon.hi


def test_sampled_hessian_norms_full_and_power_iteration_agree_with_exact(net):
    _, sym, _, w0 = net
    exact = np.array([np.linalg.norm(H, 2) for H in sym.hessians(w0)])
    full = hessian_norms_at(sym, w0, np.random.default_rng(0))  # m = 32: products along the basis
    power = hessian_norms_at(sym, w0, np.random.default_rng(0), iters=300, full_max=0)
    assert np.allclose(full, exact, rtol=1e-6)
    assert np.all(power <= exact * (1 + 1e-6)) and np.all(power >= 0.99 * exact)


def test_perron_bound_is_sound_and_handles_zero_and_inf():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((5, 5))
    M = np.abs(A + A.T)
    ub = perron_upper([[Fraction(float(v)) for v in row] for row in M])
    assert np.linalg.norm(A + A.T, 2) <= np.abs(np.linalg.eigvalsh(M)).max() <= ub <= 1.001 * np.linalg.eigvalsh(M)[-1]
    assert perron_upper([[Fraction(0)] * 2] * 2) == 0 and perron_upper([[math.inf, 0], [0, 1]]) == math.inf


def test_unsupported_function_falls_back_to_sampled_and_undefined_box_gives_no_bound():
    a, b = sp.symbols("a b")
    model = SympyModel([sp.erf(a) * b, a + b], [a, b], w0=[0.5, 1.0])
    assert model.interval_obstacle == "no interval evaluator for erf" and model.ball_rigor is RigorLevel.SAMPLED
    assert model.bounds_at(np.array([0.5, 1.0]), 0.1, samples=2).rigor is RigorLevel.SAMPLED
    with pytest.raises(NotCertifiable, match="erf"):
        model.hessian_bound([0.5, 1.0], 0.1)
    log_model = SympyModel([sp.log(a) + b, a * b], [a, b], w0=[0.5, 1.0])
    assert log_model.hessian_bound([0.5, 1.0], 0.1) == pytest.approx(1 / 0.4**2 + 1e-9, rel=1e-3)
    assert log_model.hessian_bound([0.5, 1.0], 1.0) == math.inf  # log is undefined on part of the box


def test_ball_bounds_dispatch(net):
    builtin, sym, _, w0 = net
    assert ball_bounds(builtin, w0, 0.1) is None  # the built-in families use their own bounds
    with pytest.raises(InvalidInput, match="radius"):
        ball_bounds(sym, w0, -1.0)
    with pytest.raises(InvalidInput, match="w0"):
        ball_bounds(sym, w0[:-1], 0.1)


# ---------------------------------------------------------------------------- bad input
def test_stray_symbols_and_bad_sympy_input():
    a, b, c = sp.symbols("a b c")
    with pytest.raises(InvalidInput, match="symbol c "):
        SympyModel([a * b + c], [a, b])
    x = sp.Symbol("x")
    with pytest.raises(InvalidInput, match="2 columns but there are 1 input"):
        SympyModel(a * x, [a], inputs=[x], data=np.ones((3, 2)))
    with pytest.raises(InvalidInput, match="NaN or Inf"):
        SympyModel(a * x, [a], inputs=[x], data=[1.0, np.nan])
    with pytest.raises(InvalidInput, match="undefined function"):
        SympyModel([sp.Function("g")(a)], [a])
    with pytest.raises(InvalidInput, match="Symbols"):
        SympyModel([a], ["a"])
    with pytest.raises(InvalidInput, match="not rational"):
        with precision(exact=True):
            SympyModel([sp.exp(a)], [a]).F([0])
    model = SympyModel(a * x**2, [a], inputs=[x], data=[1.0, 2.0, 3.0])
    assert model.n_outputs == 3 and np.array_equal(model.F([2.0]), [2.0, 8.0, 18.0])


@pytest.mark.parametrize("expr", ["Abs(a)*b", "Max(a, b)", "Piecewise((a, a > 0), (0, True))", "sign(a)*b",
                                  "Heaviside(a)*b", "Min(a, 0) + b"])
def test_non_smooth_expressions_are_marked_and_refused(expr):
    a, b = sp.symbols("a b")
    model = SympyModel([sp.sympify(expr, locals={"a": a, "b": b})], [a, b], w0=[1.0, 1.0])
    assert not model.is_smooth
    assert "non-smooth" in Problem(model, [0.0], [1.0, 1.0]).obstruction()
    with pytest.raises(NotCertifiable, match="not smooth"):
        ball_bounds(model, [1.0, 1.0], 0.1)


def test_callable_bad_outputs():
    with pytest.raises(InvalidInput, match="1-D array"):
        CallableModel(lambda w: np.ones((2, 2)), 2)
    with pytest.raises(InvalidInput, match=r"shape \(3,\)"):
        CallableModel(lambda w: np.ones(2), 2, n_outputs=3)
    with pytest.raises(InvalidInput, match="NaN or Inf"):
        CallableModel(lambda w: np.array([np.nan, 1.0]), 2)
    with pytest.raises(InvalidInput, match="fn raised ZeroDivisionError"):
        CallableModel(lambda w: np.array([1 / 0]), 1)
    model = CallableModel(lambda w: np.array([1.0 / w[0], w[1]]), 2, w0=[1.0, 1.0])
    with pytest.raises(InvalidInput, match="NaN or Inf"), np.errstate(divide="ignore"):
        model.F([0.0, 1.0])
    with pytest.raises(InvalidInput, match="shape"):
        CallableModel(lambda w: w[:1] if w[0] == 0 else w, 2).F([1.0, 1.0])
    with pytest.raises(InvalidInput, match="n_params"):
        CallableModel(lambda w: w, 0)


def test_torch_missing_gives_install_hint(monkeypatch):
    from plproof.models import torch_model

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependency, match=r"pip install 'plproof\[torch\]'"):
        torch_model.TorchModel(object(), [[1.0]])


# ---------------------------------------------------------------------------- SymPy models in certificates
def test_sympy_description_is_a_json_expression_tree_that_round_trips():
    import json

    a, b, x = sp.symbols("a b x")
    exprs = [sp.tanh(a * x) * b + 0.1 * a**2, sp.exp(-b) * sp.sin(a) / (1 + a**2) + sp.sqrt(2) * sp.pi,
             sp.log(1 + b**2) + 2**a + sp.Abs(x) * sp.cosh(b) + a ** sp.Rational(3, 2)]
    model = SympyModel(exprs, [a, b], inputs=[x], data=[[0.5], [-2.0]], w0=[0.7, -0.4])
    desc = json.loads(json.dumps(model.describe()))
    assert {"family", "class", "n_outputs", "n_params", "params", "inputs", "X", "outputs"} <= set(desc)
    assert desc["params"] == ["a", "b"] and desc["X"] == [[0.5], [-2.0]] and desc["n_outputs"] == 6
    assert {"op": "mul", "args": [{"op": "pow", "args": [{"sym": "a"}, {"int": 2}]},
                                  {"rational": "3602879701896397/36028797018963968"}]} in desc["outputs"][0]["args"]
    again = SympyModel.from_description(desc)
    assert again.describe() == desc
    w = np.array([0.9, 0.3])
    assert np.array_equal(again.F(w), model.F(w)) and np.array_equal(again.jacobian(w), model.jacobian(w))
    with pytest.raises(InvalidInput, match="expression tree"):
        SympyModel.from_description({**desc, "outputs": [{"op": "eval", "args": [{"sym": "a"}]}]})
    with pytest.raises(InvalidInput, match="expression tree"):
        SympyModel.from_description({**desc, "outputs": [{"sym": "__import__"}]})


def test_sympy_sqrt_at_the_edge_of_its_domain():
    from plproof.verify.expr import ExprFamily

    w1, w2 = sp.symbols("w1 w2")
    at_zero = SympyModel([sp.sqrt(w1) + w2], [w1, w2], w0=[0.0, 0.5])
    with pytest.raises(InvalidInput, match="domain"):
        check(Problem(at_zero, [1.0]), confirm=False)
    near = SympyModel([sp.sqrt(w1) + w2], [w1, w2], w0=[1e-4, 0.5])
    w0 = near.default_w0()
    far = check(Problem(near, near.F(w0) + 0.1), confirm=False)
    assert far.verdict.value == "not certified" and "no_hessian_bound" in far.hints  # the ball leaves w1 > 0
    close = check(Problem(near, near.F(w0) + 1e-6), confirm=False)
    assert close.certified and close.quantities["R"].hi < 1e-4
    R = Fraction(close.quantities["R"].hi)
    assert ExprFamily(near.describe()).epsilon(w0, R) <= Fraction(close.quantities["epsilon"].hi)


def test_sympy_non_integer_power_of_a_negative_number():
    w1, w2 = sp.symbols("w1 w2")
    negative = SympyModel([w1 ** sp.Rational(7, 3) + w2], [w1, w2], w0=[-0.5, 0.5])
    with pytest.raises(InvalidInput, match="domain"):
        check(Problem(negative, [1.0]), confirm=False)
    near = SympyModel([w1 ** sp.Rational(7, 3) + w2], [w1, w2], w0=[1e-3, 0.5])
    ev = check(Problem(near, [1.0]), confirm=False)  # every ball tried crosses w1 = 0
    assert ev.verdict.value == "not certifiable" and "domain" in ev.reason


@pytest.mark.parametrize("expr", ["Abs(w1*x) + w2*x**2", "Max(w1*x, w2)", "floor(w1)*x + w2", "Mod(w1, 1)*x + w2",
                                  "sign(w1)*x + w2*x**2"])
def test_sympy_non_smooth_model_with_inputs_is_not_certifiable(expr):
    from plproof.loading import build_problem

    w1, w2, x = sp.symbols("w1 w2 x")
    model = SympyModel(sp.sympify(expr, locals={"w1": w1, "w2": w2, "x": x}), [w1, w2], inputs=[x],
                       data=[[1.0], [2.0]], w0=[0.5, 0.3])
    problem = build_problem(Problem(model, [1.0, 2.0]))  # the CLI's load step: F and DF at w0 evaluate
    ev = check(problem, confirm=False)
    assert ev.verdict.value == "not certifiable" and ev.reason.startswith("non-smooth")
    assert SympyModel(sp.Abs(x) * w1 * w2, [w1, w2], inputs=[x], data=[[-1.0]]).is_smooth  # |x| is data
