"""JaxModel: a pure f(params, x) over a pytree; DF, K and DF^T r against the layer graph of the same network (and
torch.func where installed) to 1e-12; smoothness read from the jaxpr; sampled ball bounds; refusals."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")

from plproof import (InvalidInput, LayerGraph, Network, NotCertifiable, Problem, RigorLevel, check,  # noqa: E402
                     precision)
from plproof.models.ball import fd_hvp  # noqa: E402
from plproof.models.jax_model import JaxModel  # noqa: E402

jnp = jax.numpy
WIDTH = 6


def two_layer(params, x):
    return params["v"] @ jnp.tanh(params["W"] @ x + params["b"]) / jnp.sqrt(WIDTH) + params["c"]


def instance(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((5, 3))
    params = {"W": rng.standard_normal((WIDTH, 3)), "b": rng.standard_normal(WIDTH), "v": rng.standard_normal(WIDTH),
              "c": np.array(0.3)}
    return JaxModel(two_layer, params, X), params, X


def as_graph(params, X) -> tuple[Network, np.ndarray]:
    """The same network as a layer graph, with w in the pytree's order (W, b, c, v: ravel_pytree sorts keys)."""
    g = LayerGraph((3,), "standard")
    hidden = g.activation(g.dense(g.input, WIDTH, name="W"), "tanh")
    g.dense(g.scale(hidden, float(np.sqrt(WIDTH)), divide=True), 1, name="v")
    w = np.concatenate([params["W"].ravel(), params["b"], params["v"], [float(params["c"])]])
    return Network(X, g, w), np.concatenate([params["W"].ravel(), params["b"], [float(params["c"])], params["v"]])


def test_matches_the_layer_graph_to_1e12():
    model, params, X = instance()
    net, w_jax = as_graph(params, X)
    assert np.array_equal(model.default_w0(), w_jax)
    perm = np.r_[0:24, 30, 24:30]  # graph order (W, b, v, c) -> pytree order (W, b, c, v)
    w_net = net.default_w0()
    assert np.abs(model.F(w_jax) - net.F(w_net)).max() < 1e-14
    J_net = net.jacobian(w_net)[:, perm]
    assert np.abs(model.jacobian(w_jax) - J_net).max() <= 1e-12 * np.abs(J_net).max()
    K = J_net @ J_net.T
    assert np.abs(model.kernel(w_jax) - K).max() <= 1e-12 * np.abs(K).max()
    r = np.random.default_rng(1).standard_normal(5)
    assert np.abs(model.vjp(w_jax, r) - J_net.T @ r).max() <= 1e-12 * np.abs(J_net.T @ r).max()


def test_agrees_with_torch_func_where_installed():
    torch = pytest.importorskip("torch")
    model, params, X = instance()
    w = model.default_w0()
    Xt = torch.from_numpy(X)

    def F(v):
        W, b, c, out = v[:18].reshape(6, 3), v[18:24], v[24], v[25:]
        return torch.tanh(Xt @ W.T + b) @ out / np.sqrt(WIDTH) + c

    J = torch.func.jacrev(F)(torch.from_numpy(w)).numpy()
    assert np.abs(model.jacobian(w) - J).max() <= 1e-12 * np.abs(J).max()


def test_hessian_vector_products_and_sampled_bounds():
    model, _, _ = instance()
    w = model.default_w0()
    V = np.random.default_rng(2).standard_normal((5, w.size))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    assert np.abs(model.hessian_vector_products(w, V) - fd_hvp(model.jacobian, w, V)).max() < 1e-6
    assert model.ball_bounds(w).rigor is RigorLevel.SAMPLED
    assert check(Problem(model, np.zeros(5)), rigor="sampled", confirm=False).rigor is RigorLevel.SAMPLED


def test_smoothness_is_read_from_the_jaxpr():
    _, params, X = instance()
    relu = JaxModel(lambda p, x: p["v"] @ jax.nn.relu(p["W"] @ x), params, X)
    assert not relu.is_smooth and "max" in relu.smooth_obstacle
    with pytest.raises(NotCertifiable, match="not C\\^2|not smooth"):
        relu.ball_bounds(relu.default_w0())
    assert JaxModel(lambda p, x: p["v"] @ jnp.sin(p["W"] @ x), params, X).is_smooth


def test_bad_input_and_float64_only():
    model, params, X = instance()
    with pytest.raises(InvalidInput, match="one number per input row"):
        JaxModel(lambda p, x: p["W"] @ x, params, X)
    with pytest.raises(InvalidInput, match="f failed"):
        JaxModel(lambda p, x: p["nope"] @ x, params, X)
    with pytest.raises(NotCertifiable, match="float64 only"):
        with precision(digits=30):
            model.F(model.default_w0())
