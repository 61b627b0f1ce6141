"""Model families: closed-form Jacobians against 60-digit finite differences, kernels, activations."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from plproof import MLP, InvalidInput, Linear, RandomFeatures, TwoLayer, precision
from plproof.models.activations import ACTIVATIONS, get
from plproof.numeric.arith import FLOAT64, MPArith

SMOOTH = [a for a in ACTIVATIONS if ACTIVATIONS[a].smooth]


def build(family: str, n: int, d: int, width: int, activation: str, seed: int):
    X = np.random.default_rng(seed).standard_normal((n, d))
    if family == "linear":
        return Linear(X)
    if family == "random_features":
        return RandomFeatures(X, width, activation, seed=seed)
    if family == "mlp":
        return MLP(X, [width, 2], activation, seed=seed)
    return TwoLayer(X, width, activation, seed=seed, train=family.split(":")[1])


FAMILIES = ["linear", "random_features", "two_layer:both", "two_layer:hidden", "two_layer:output", "mlp"]


def fd_jacobian_mp(model, w, h: str = "1e-25"):
    """Central differences at the current mpmath precision: (F(w + h e_j) - F(w - h e_j)) / 2h."""
    ar = MPArith(60)
    with ar.active():
        wm = ar.asarray(w)
        step = mpmath.mpf(h)
        cols = []
        for j in range(model.n_params):
            e = np.zeros(model.n_params, dtype=object)
            e[:] = mpmath.mpf(0)
            e[j] = step
            cols.append((model.F(wm + e, ar) - model.F(wm - e, ar)) / (2 * step))
        return np.array(cols, dtype=object).T


@settings(max_examples=8)
@given(family=st.sampled_from(FAMILIES), n=st.integers(1, 3), d=st.integers(1, 3),
       width=st.sampled_from([1, 2, 3]), activation=st.sampled_from(SMOOTH), seed=st.integers(0, 2**16))
@example(family="two_layer:both", n=2, d=2, width=1, activation="tanh", seed=0)
@example(family="two_layer:both", n=3, d=2, width=3, activation="sigmoid", seed=1)
@example(family="mlp", n=2, d=2, width=3, activation="softplus", seed=2)
@example(family="random_features", n=2, d=3, width=3, activation="gelu", seed=3)
def test_jacobian_matches_60_digit_finite_differences(family, n, d, width, activation, seed):
    model = build(family, n, d, width, activation, seed)
    w = model.default_w0() + np.random.default_rng(seed + 1).standard_normal(model.n_params) * 0.3
    with precision(digits=60) as ar:
        J_mp = model.jacobian(w)
        J_fd = fd_jacobian_mp(model, w)
        scale = max(abs(v) for v in J_mp.ravel()) or mpmath.mpf(1)
        rel = max(abs(a - b) for a, b in zip(J_mp.ravel(), J_fd.ravel())) / scale
    assert rel < mpmath.mpf("1e-20")
    J_float = model.jacobian(w)
    assert np.max(np.abs(J_float - ar.to_float(J_mp))) <= 1e-12 * max(1.0, float(scale))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_kernel_equals_jacobian_product(family, activation):
    model = build(family, 5, 3, 7, activation, 11)
    w = model.default_w0()
    J = model.jacobian(w)
    np.testing.assert_allclose(model.kernel(w), J @ J.T, rtol=1e-13, atol=1e-13)
    with precision(digits=40):
        Kmp, Jmp = model.kernel(w), model.jacobian(w)
        diff = Kmp - Jmp @ Jmp.T
        assert max(abs(v) for v in diff.ravel()) < mpmath.mpf("1e-35")


def test_mlp_with_one_layer_is_the_two_layer_net():
    X = np.random.default_rng(0).standard_normal((4, 3))
    a, b = MLP(X, [6], "tanh", seed=5), TwoLayer(X, 6, "tanh", seed=5)
    w = a.default_w0()
    np.testing.assert_array_equal(w, b.default_w0())
    np.testing.assert_allclose(a.jacobian(w), b.jacobian(w), rtol=0, atol=1e-15)


def test_symmetric_init_gives_zero_output():
    X = np.random.default_rng(0).standard_normal((5, 4))
    for model in (TwoLayer(X, 8, init="symmetric"), MLP(X, [4, 6], init="symmetric")):
        w0 = model.default_w0()
        assert np.max(np.abs(model.F(w0))) < 1e-15  # float summation order may leave rounding
        with precision(digits=30):
            assert all(v == 0 for v in model.F(w0))  # pairs (a, -a) cancel exactly in order


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_derivatives_and_constants(name):
    act = get(name)
    grid = np.linspace(-12, 12, 20001)
    values = act.derivatives(grid, FLOAT64, 3)
    # derivatives against mpmath numerical differentiation at a few points (smooth ones)
    if act.smooth:
        with precision(digits=40) as ar:  # mpmath: mpmath.diff raises the working precision (double-double cannot)
            for z in (-1.7, -0.3, 0.4, 2.2):
                exact = act.derivatives(ar.asarray(np.array([z])), ar, 3)
                f = lambda t: act(ar.asarray(np.array([t])), ar)[0]  # noqa: E731
                for k in (1, 2, 3):
                    assert abs(exact[k][0] - mpmath.diff(f, mpmath.mpf(z), k)) < mpmath.mpf("1e-15")
        for k, S in ((1, act.S1), (2, act.S2), (3, act.S3)):
            sup = np.max(np.abs(values[k]))
            assert sup <= S, f"S{k} of {name} is below a sampled value"
            assert sup >= 0.999 * S, f"S{k} of {name} is not tight"
    else:
        assert act.S2 is None


def test_nonsmooth_activation_marks_model_nonsmooth():
    X = np.eye(3)
    assert not TwoLayer(X, 4, "relu").is_smooth
    assert not MLP(X, [4], "abs").is_smooth
    assert TwoLayer(X, 4, "tanh").is_smooth
    # only the output layer trained: F is linear in v, so smooth whatever sigma is
    assert RandomFeatures(X, 4, "relu").is_smooth


@pytest.mark.parametrize("bad, message", [
    (lambda: TwoLayer(np.eye(3), 0), "width must be an integer >= 1"),
    (lambda: TwoLayer(np.eye(3), 2.5), "width must be an integer >= 1"),
    (lambda: TwoLayer(np.eye(3), 3, "swishy"), "unknown activation 'swishy'"),
    (lambda: TwoLayer(np.eye(3), 3, train="all"), "unknown train mode"),
    (lambda: TwoLayer(np.eye(3), 3, init="symmetric"), "width must be even"),
    (lambda: Linear([[1.0, np.nan]]), "NaN or Inf"),
    (lambda: Linear([[1.0, np.inf]]), "NaN or Inf"),
    (lambda: Linear(np.zeros((0, 3))), "non-empty 2-D"),
    (lambda: MLP(np.eye(2), []), "non-empty list"),
    (lambda: Linear(np.eye(2)).F([1.0, 2.0, 3.0]), "w must have length 2"),
])
def test_bad_model_input_says_what_to_change(bad, message):
    with pytest.raises(InvalidInput, match=message):
        bad()


@pytest.mark.parametrize("family", FAMILIES)
def test_vjp_is_jacobian_transpose_times_r(family):
    """DF(w)^T r without forming DF equals the product with the closed-form Jacobian."""
    model = build(family, 5, 3, 4, "tanh", 3)
    w = model.default_w0() + 0.2
    r = np.random.default_rng(4).standard_normal(model.n_outputs)
    np.testing.assert_allclose(model.vjp(w, r), model.jacobian(w).T @ r, rtol=0, atol=1e-14)
    with precision(digits=40):
        diff = model.vjp(w, r) - model.jacobian(w).T @ r
        assert max(abs(v) for v in diff) < mpmath.mpf("1e-35")
    with pytest.raises(InvalidInput, match="r must have length"):
        model.vjp(w, np.ones(model.n_outputs + 1))
