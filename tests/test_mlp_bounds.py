"""MLP ball bounds (docs/rigor.md §2.3, docs/theory.md §4.1, §8): epsilon, delta and L_F against Hessians and
Jacobians at random, boundary and adversarial (projected-ascent) points of B(w0, R)."""

from __future__ import annotations

import numpy as np
import pytest

from plproof import MLP, InvalidInput, NotCertifiable, TwoLayer
from plproof.theory.mlp_bounds import mlp_ball_bounds, mlp_centre

ACTS = ["tanh", "sigmoid", "softplus", "sin", "gelu"]
DEPTHS = {1: [6], 2: [4, 5], 3: [3, 4, 4]}
FD_STEP = 1e-5
SLACK = 1e-7  # relative; the finite-difference Hessians are accurate to ~1e-9


def data(n: int, d: int, seed: int) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True) * 1.5


def hessians(model: MLP, w: np.ndarray) -> np.ndarray:
    """Per-output Hessians, n x P x P, by central differences of the closed-form Jacobian (float64)."""
    P = w.size
    H = np.empty((model.n_outputs, P, P))
    for i in range(P):
        e = np.zeros(P)
        e[i] = FD_STEP
        H[:, :, i] = (model.jacobian(w + e) - model.jacobian(w - e)) / (2 * FD_STEP)
    return (H + H.transpose(0, 2, 1)) / 2


def hess_norm(model: MLP, w: np.ndarray) -> float:
    return max(np.abs(np.linalg.eigvalsh(Hk)).max() for Hk in hessians(model, w))


def joint_norm(model: MLP, w: np.ndarray) -> float:
    """A lower bound on ||D^2 F(w)|| = sup_{|u| = |v| = 1} ||(u^T H_k v)_k||: |(u^T H_k u)_k| at u the top
    eigenvector of sum_k r_k H_k, r <- (u^T H_k u)_k normalised, from the top eigenvector of each H_k."""
    H = hessians(model, w)
    best = 0.0
    for Hk in H:
        ev, V = np.linalg.eigh(Hk)
        u = V[:, int(np.argmax(np.abs(ev)))]
        for _ in range(4):
            q = np.einsum("i,kij,j->k", u, H, u)
            best = max(best, float(np.linalg.norm(q)))
            ev, V = np.linalg.eigh(np.einsum("k,kij->ij", q / np.linalg.norm(q), H))
            u = V[:, int(np.argmax(np.abs(ev)))]
    return best


def project(w: np.ndarray, w0: np.ndarray, R: float) -> np.ndarray:
    d = w - w0
    nd = np.linalg.norm(d)
    return w if nd <= R else w0 + d * (R / nd)


def ascend_hessian(model: MLP, w0: np.ndarray, R: float, start: np.ndarray, steps: int = 6) -> float:
    """Projected ascent on max_k |u^T H_k(w) u| (u the top eigenvector); returns the best ||H_k|| seen."""
    w, best = start, 0.0
    for _ in range(steps):
        H = hessians(model, w)
        k, val, u, lam = 0, -1.0, None, 0.0
        for j, Hj in enumerate(H):
            ev, V = np.linalg.eigh(Hj)
            i = int(np.argmax(np.abs(ev)))
            if abs(ev[i]) > val:
                k, val, u, lam = j, abs(ev[i]), V[:, i], ev[i]
        best = max(best, val)
        t = 1e-3  # gradient of u^T H_k(w) u = third directional difference of f_k
        g = (model.jacobian(w + t * u)[k] - 2 * model.jacobian(w)[k] + model.jacobian(w - t * u)[k]) / t**2
        g = np.sign(lam) * g
        w = project(w + (R / 3) * g / max(np.linalg.norm(g), 1e-300), w0, R)
    return max(best, hess_norm(model, w))


def ascend_spectral(model: MLP, w0: np.ndarray, R: float, start: np.ndarray, minus_centre: bool,
                    steps: int = 8) -> float:
    """Projected ascent on ||DF(w) - DF(w0)||_2 (or ||DF(w)||_2): gradient of a^T DF(w) b is sum_k a_k H_k b."""
    J0 = model.jacobian(w0) if minus_centre else 0.0
    w, best = start, 0.0
    for _ in range(steps):
        U, s, Vt = np.linalg.svd(model.jacobian(w) - J0)
        best = max(best, s[0])
        a, b = U[:, 0], Vt[0]
        t = 1e-5
        g = (a @ model.jacobian(w + t * b) - a @ model.jacobian(w - t * b)) / (2 * t)
        w = project(w + (R / 3) * g / max(np.linalg.norm(g), 1e-300), w0, R)
    return max(best, np.linalg.norm(model.jacobian(w) - J0, 2))


def ball_points(rng: np.random.Generator, w0: np.ndarray, R: float) -> list[np.ndarray]:
    """Random interior points and points on the sphere of radius R."""
    pts = []
    for i in range(4):
        d = rng.standard_normal(w0.size)
        d *= R / np.linalg.norm(d)
        pts.append(w0 + d * (1.0 if i % 2 else rng.uniform()))
    return pts


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("activation", ACTS)
def test_bounds_hold_at_sampled_and_adversarial_points(depth: int, activation: str) -> None:
    seed = 10 * depth + ACTS.index(activation)
    model = MLP(data(3, 3, seed), DEPTHS[depth], activation, seed=seed)
    w0 = model.default_w0()
    R = 1.0
    b = mlp_ball_bounds(model, w0, R)
    rng = np.random.default_rng(seed)
    pts = ball_points(rng, w0, R)
    J0 = model.jacobian(w0)
    hess = max(hess_norm(model, w) for w in pts + [w0])
    change = max(np.linalg.norm(model.jacobian(w) - J0, 2) for w in pts)
    jnorm = max(np.linalg.norm(model.jacobian(w), 2) for w in pts)
    joint = max(joint_norm(model, w) for w in pts + [w0])
    hess = max(hess, ascend_hessian(model, w0, R, pts[1]))
    change = max(change, ascend_spectral(model, w0, R, pts[1], True))
    jnorm = max(jnorm, ascend_spectral(model, w0, R, pts[3], False))
    assert 0 < hess <= b.epsilon * (1 + SLACK)
    assert 0 < change <= b.delta * (1 + SLACK)
    assert 0 < joint <= b.nu * (1 + SLACK)  # M9: the curvature bound rho nu
    assert 0 < jnorm <= b.jacobian_norm * (1 + SLACK)
    assert np.linalg.norm(J0, 2) <= b.jacobian_norm_w0
    # the ball bounds are not vacuous at these small widths: within a factor 10^3 of what ascent finds
    assert b.epsilon < 1e3 * hess


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
def test_one_hidden_layer_is_the_exact_two_layer_formula(activation: str) -> None:
    """L = 1 gives at most (c/2)(V S2 |x|^2 + sqrt(V^2 S2^2 |x|^4 + 4 S1^2 |x|^2)), V = ||v0||_inf + R
    (docs/theory.md §8), with equality where M3's front does not bind."""
    X = data(5, 4, 7)
    m, R = 12, 0.7
    model = MLP(X, [m], activation, seed=3)
    w0 = model.default_w0()
    b = mlp_ball_bounds(model, w0, R)
    act = model.activation
    V = np.abs(model.v0).max() + R
    xn = np.linalg.norm(X, axis=1)
    exact = (V * act.S2 * xn**2 + np.sqrt((V * act.S2 * xn**2) ** 2 + 4 * act.S1**2 * xn**2)) / (2 * np.sqrt(m))
    simple = (V * act.S2 * xn**2 + act.S1 * xn) / np.sqrt(m)
    eps = np.array(b.epsilon_per_input)
    assert np.all(eps <= exact * (1 + 1e-12)) and np.all(eps <= simple)
    # equality unless M3's front binds: here for softplus, |sigma''(z_i(w0))| + S3 R ||x|| < S2 at the top |v_i|
    assert np.all(eps >= exact * (1 - 1e-14)) == (activation != "softplus")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
def test_one_hidden_layer_joint_bound_is_t1(activation: str) -> None:
    """L = 1: nu <= s ||X|| sig(S2 V x_max), V = ||v0||_inf + R (docs/theory.md §11.3 T1 with v on the ball),
    with equality where M3's front does not bind."""
    X = data(5, 4, 7)
    m, R = 12, 0.7
    model = MLP(X, [m], activation, seed=3)
    b = mlp_ball_bounds(model, model.default_w0(), R)
    act = model.activation
    c = act.S2 * (np.abs(model.v0).max() + R) * np.linalg.norm(X, axis=1).max()
    t1 = np.linalg.norm(X, 2) * (c + np.sqrt(c * c + 4 * act.S1**2)) / (2 * np.sqrt(m))
    assert b.nu <= t1 * (1 + 1e-12)
    assert b.nu >= t1 * (1 - 1e-12) or activation == "softplus"  # M3's front may bind for softplus
    assert b.delta <= R * b.nu * (1 + 1e-12) and b.nu < np.linalg.norm(b.epsilon_per_input)


def test_bound_falls_like_inverse_sqrt_width() -> None:
    """Fixed R, all widths m: epsilon = O(sqrt(log m / m)) (docs/rigor.md §2.3 M7); fitted slope near -1/2."""
    X = data(2, 3, 1)
    widths = [8, 32, 128]
    eps = [mlp_ball_bounds(MLP(X, [m, m], "tanh", seed=3), MLP(X, [m, m], "tanh", seed=3).default_w0(), 1.0).epsilon
           for m in widths]
    slope = np.polyfit(np.log(widths), np.log(eps), 1)[0]
    assert -0.7 < slope < -0.3
    assert eps[0] > eps[1] > eps[2]


def test_monotone_in_radius_and_centre_reused() -> None:
    model = MLP(data(3, 2, 5), [4, 4], "softplus", seed=1)
    w0 = model.default_w0()
    c = mlp_centre(model, w0)
    b = [mlp_ball_bounds(model, w0, R, centre=c) for R in (0.0, 0.5, 2.0)]
    assert b[0].delta == 0.0 and b[0].epsilon > 0
    assert b[0].epsilon <= b[1].epsilon <= b[2].epsilon and b[1].delta <= b[2].delta
    assert b[1] == mlp_ball_bounds(model, w0, 0.5)
    J0 = model.jacobian(w0)
    assert np.linalg.norm(J0, 2) <= c.jacobian_norm <= np.linalg.norm(J0, 2) * (1 + 1e-9)
    assert b[0].jacobian_norm <= c.jacobian_norm * (1 + 1e-12)


def test_centre_backward_vectors_match_float_backprop() -> None:
    model = MLP(data(2, 3, 2), [5, 6], "tanh", seed=4)
    w0 = model.default_w0()
    c = mlp_centre(model, w0)
    (W1, W2), v = model.split(w0)
    for k, x in enumerate(model.X):
        z1 = W1 @ x
        z2 = W2 @ np.tanh(z1) / np.sqrt(5)
        g2 = v / np.sqrt(6)
        d2 = g2 * (1 - np.tanh(z2) ** 2)
        g1 = W2.T @ d2 / np.sqrt(5)
        assert np.allclose(c.g_inf[k], [np.abs(g1).max(), np.abs(g2).max()], rtol=1e-12)
        assert np.allclose(c.d_two[k][1], np.linalg.norm(d2), rtol=1e-12)
    assert c.omega[1] >= np.linalg.norm(W2, 2)


def test_invalid_inputs() -> None:
    X = data(2, 2, 0)
    model = MLP(X, [4], "tanh")
    w0 = model.default_w0()
    with pytest.raises(NotCertifiable):
        mlp_ball_bounds(MLP(X, [4], "relu"), w0, 1.0)
    with pytest.raises(InvalidInput):
        mlp_ball_bounds(model, w0, -1.0)
    with pytest.raises(InvalidInput):
        mlp_ball_bounds(model, w0[:-1], 1.0)
    with pytest.raises(InvalidInput):
        mlp_ball_bounds(TwoLayer(X, 4), w0, 1.0)
