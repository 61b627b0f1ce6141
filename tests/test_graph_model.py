"""Layer-graph networks (plproof.models.graph): DF, DF^T r and K of every operation against torch.func and against
60-digit finite differences; one definition in float64, mpmath, exact rationals and arb balls; routes and refusals."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from plproof import InvalidInput, LayerGraph, Network, NotCertifiable, Problem, RigorLevel, certify_run, check
from plproof.models.graph.ops import Reshape
from plproof.numeric.arith import EXACT, BallArith, MPArith


class Mine(Reshape):
    """A user's own operation (a reshape's map, but nothing docs/rigor.md §2.7 proves anything about)."""

    ball_bounded = False


def with_head(g: LayerGraph, h: int) -> LayerGraph:
    """Flatten what is not flat, then a dense layer to one output."""
    if len(g.shape(h)) > 1:
        h = g.flatten(h)
    g.dense(h, 1)
    return g


def dense_graph(bias: bool, parametrisation: str) -> LayerGraph:
    g = LayerGraph((3,), parametrisation)
    return with_head(g, g.activation(g.dense(g.input, 4, bias=bias), "tanh"))


def conv_graph(dims: int, stride: int, padding: int, bias: bool, parametrisation: str = "ntk") -> LayerGraph:
    g = LayerGraph((2, 5) if dims == 1 else (2, 5, 4), parametrisation)
    return with_head(g, g.activation(g.conv(g.input, 3, 3 if dims == 1 else (3, 2), stride, padding, bias), "sin"))


def pool_graph(dims: int) -> LayerGraph:
    g = LayerGraph((2, 6) if dims == 1 else (2, 5, 6))
    h = g.activation(g.conv(g.input, 2, 1), "tanh")
    return with_head(g, g.avg_pool(h, 2, stride=2 if dims == 1 else (2, 1), padding=1))


def activation_graph(name: str) -> LayerGraph:
    g = LayerGraph((3,))
    return with_head(g, g.activation(g.dense(g.input, 4), name))


def scale_graph(divide: bool) -> LayerGraph:
    g = LayerGraph((3,))
    return with_head(g, g.scale(g.activation(g.dense(g.input, 4), "tanh"), 2.5, divide))


def residual_graph() -> LayerGraph:
    g = LayerGraph((3,))
    h = g.activation(g.dense(g.input, 4), "tanh")
    skip = g.dense(g.input, 4, bias=False, parametrisation="standard")
    return with_head(g, g.add(h, g.activation(g.dense(h, 4), "softplus"), skip))


def concat_graph(dim: int) -> LayerGraph:
    g = LayerGraph((2, 3, 4))
    a = g.activation(g.conv(g.input, 2, 2, padding=1), "tanh")
    b = g.avg_pool(g.input, 2, stride=1, padding=1)
    return with_head(g, g.concat([a, b], dim=dim))


def reshape_graph() -> LayerGraph:
    g = LayerGraph((12,))
    h = g.reshape(g.activation(g.dense(g.input, 12), "gelu"), (2, 6))
    return with_head(g, g.activation(g.conv(h, 2, 2, stride=2), "sigmoid"))


GRAPHS = {
    "dense-bias-ntk": lambda: dense_graph(True, "ntk"), "dense-standard": lambda: dense_graph(False, "standard"),
    "conv1d": lambda: conv_graph(1, 2, 1, True), "conv2d": lambda: conv_graph(2, 1, 0, False, "standard"),
    "conv2d-pad": lambda: conv_graph(2, 2, 1, True), "pool1d": lambda: pool_graph(1), "pool2d": lambda: pool_graph(2),
    **{f"act-{a}": (lambda a=a: activation_graph(a)) for a in ("tanh", "sigmoid", "softplus", "sin", "gelu")},
    "scale": lambda: scale_graph(False), "divide": lambda: scale_graph(True), "residual": residual_graph,
    "concat0": lambda: concat_graph(0), "concat2": lambda: concat_graph(2), "reshape": reshape_graph,
}


def network(name: str, n: int = 4, seed: int = 0) -> Network:
    g = GRAPHS[name]()
    X = np.random.default_rng(seed).standard_normal((n, math.prod(g.input_shape)))
    return Network(X, g, seed=seed + 1)


# ---------------------------------------------------------------- an independent evaluation in torch
def torch_F(torch, net: Network):
    """w -> F(w) by torch.nn.functional, node by node (an independent implementation of the graph)."""
    nnf = torch.nn.functional
    g = net.graph
    X = torch.from_numpy(net.X).reshape((net.n_outputs,) + g.input_shape)

    def F(w):
        tensors, start = [], 0
        for p in g.params:
            tensors.append(w[start:start + p.size].reshape(p.shape))
            start += p.size
        vals = [X]
        for node in g.nodes[1:]:
            op, xs = node.op, [vals[i] for i in node.inputs]
            kind = type(op).__name__
            if kind in ("Dense", "Conv"):
                W = tensors[op.weight]
                b = None if op.bias is None else tensors[op.bias]
                c = 1 / math.sqrt(op.fan_in) if op.parametrisation == "ntk" else 1.0
                if kind == "Dense":
                    y = nnf.linear(xs[0], c * W)
                else:
                    conv = nnf.conv1d if len(op.kernel) == 1 else nnf.conv2d
                    y = conv(xs[0], c * W, stride=op.stride, padding=op.padding)
                if b is not None:
                    y = y + b.reshape((-1,) + (1,) * (y.dim() - 2))
            elif kind == "AvgPool":
                pool = nnf.avg_pool1d if len(op.kernel) == 1 else nnf.avg_pool2d
                y = pool(xs[0], op.kernel, op.stride, op.padding)
            elif kind == "Reshape":
                y = xs[0].reshape((-1,) + op.shape)
            elif kind == "Activate":
                y = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "sin": torch.sin, "gelu": nnf.gelu,
                     "softplus": lambda z: nnf.softplus(z, threshold=1e4)}[op.activation.name](xs[0])
            elif kind == "Scale":
                y = xs[0] / op.factor if op.divide else xs[0] * op.factor
            elif kind == "Add":
                y = sum(xs[1:], xs[0])
            else:
                y = torch.cat(xs, dim=op.dim + 1)
            vals.append(y)
        return vals[-1].reshape(-1)

    return F


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_jacobian_and_kernel_agree_with_torch_func(name):
    torch = pytest.importorskip("torch")
    net = network(name)
    w = net.default_w0()
    F = torch_F(torch, net)
    wt = torch.from_numpy(w)
    F_t = F(wt).detach().numpy()
    J_t = torch.func.jacrev(F)(wt).detach().numpy()
    scale = np.abs(J_t).max()
    assert np.abs(net.F(w) - F_t).max() <= 1e-12 * max(np.abs(F_t).max(), 1.0)
    assert np.abs(net.jacobian(w) - J_t).max() <= 1e-12 * scale
    K_t = J_t @ J_t.T
    assert np.abs(net.kernel(w) - K_t).max() <= 1e-12 * np.abs(K_t).max()
    r = np.random.default_rng(5).standard_normal(net.n_outputs)
    vjp_t = torch.func.vjp(F, wt)[1](torch.from_numpy(r))[0].numpy()
    assert np.abs(net.vjp(w, r) - vjp_t).max() <= 1e-12 * np.abs(vjp_t).max()


@pytest.mark.parametrize("name", ["dense-bias-ntk", "conv1d", "conv2d-pad", "pool2d", "residual", "concat2",
                                  "act-gelu", "divide"])
def test_jacobian_matches_60_digit_finite_differences(name):
    net = network(name, n=2)
    w = net.default_w0()
    ar = MPArith(60)
    with ar.active():
        J = net.jacobian(w, ar)
        K = net.kernel(w, ar)
        wm, h = ar.asarray(w), mpmath.mpf(10) ** -20  # truncation ~h^2, rounding ~10^-60/h
        cols = []
        for j in range(w.size):
            e = ar.zeros(w.size)
            e[j] = h
            cols.append((net.F(wm + e, ar) - net.F(wm - e, ar)) / (2 * h))
        err = max(abs(v) for v in (J - np.stack(cols, axis=1)).ravel())
        kerr = max(abs(v) for v in (K - J @ J.T).ravel())
    assert err < mpmath.mpf(10) ** -35 and kerr < mpmath.mpf(10) ** -55
    assert np.abs(ar.to_float(J) - net.jacobian(w)).max() < 1e-13


def test_kernel_sides_of_a_convolution_agree():
    """The position-pair form (few positions) and the J J^T form (many) of a convolution's kernel block."""
    for shape, kernel in (((3, 3, 2), 2), ((3, 9, 9), 3)):
        g = LayerGraph(shape)
        with_head(g, g.activation(g.conv(g.input, 4, kernel), "tanh"))
        net = Network(np.random.default_rng(0).standard_normal((3, math.prod(shape))), g)
        w = net.default_w0()
        J = net.jacobian(w)
        assert np.abs(net.kernel(w) - J @ J.T).max() <= 1e-13 * np.abs(J @ J.T).max()


def test_balls_enclose_and_exact_rationals_are_exact():
    net = network("residual", n=3)
    w = net.default_w0()
    ar = BallArith(128)
    with ar.active():
        mid, rad = ar.mid_rad(net.kernel(w, ar))
    with MPArith(60).active():
        K60 = net.kernel(w, MPArith(60))
        assert all(abs(k - m) <= r for k, m, r in zip(K60.ravel(), mid.ravel(), rad.ravel()))
    K = net.kernel(w)
    assert rad.max() <= 1e-15 * np.abs(K).max() and np.abs(mid - K).max() <= 1e-13 * np.abs(K).max()
    g = LayerGraph((1, 4, 4), "standard")
    with_head(g, g.scale(g.avg_pool(g.conv(g.input, 2, 2, padding=1), 2), 3.0, divide=True))
    linear = Network(np.random.default_rng(1).standard_normal((3, 16)), g)
    w = linear.default_w0()
    Ke = linear.kernel(w, EXACT)
    assert all(type(v).__name__ == "Fraction" for v in Ke.ravel())
    assert np.abs(Ke.astype(float) - linear.kernel(w)).max() < 1e-13
    with pytest.raises(InvalidInput, match="square root"):
        network("dense-bias-ntk").F(network("dense-bias-ntk").default_w0(), EXACT)


def test_description_round_trip_and_torch_order_of_shapes():
    net = network("concat2")
    again = Network(net.X, LayerGraph.from_description(net.describe()["graph"]), net.default_w0())
    w = net.default_w0() + 0.1
    assert np.array_equal(again.F(w), net.F(w))
    conv = network("conv2d").graph.params[0]
    assert conv.name == "conv0.weight" and conv.shape == (3, 2, 3, 2)  # torch's (out, in, kh, kw)


def test_fixed_tensors_are_not_parameters():
    g = LayerGraph((3,))
    h = g.activation(g.dense(g.input, 4), "tanh")
    g.dense(h, 1, bias=False)
    frozen = LayerGraph.from_description({**g.describe(), "params": [
        {"name": "dense0.weight", "shape": [4, 3], "fixed": np.ones((4, 3)).tolist()}, *g.describe()["params"][1:]]})
    X = np.random.default_rng(0).standard_normal((3, 3))
    net = Network(X, frozen)
    assert net.n_params == 4 + 4 and net.jacobian(net.default_w0()).shape == (3, 8)
    J = net.jacobian(net.default_w0())
    assert np.abs(net.kernel(net.default_w0()) - J @ J.T).max() < 1e-14


def test_standard_parametrisation_draws_by_fan_in():
    g = LayerGraph((400,), "standard")
    g.dense(g.input, 50)
    w = g.init(0)
    assert abs(np.std(w[:20000]) - 1 / 20) < 0.002


def test_bad_graphs_and_inputs_are_refused():
    g = LayerGraph((3,))
    with pytest.raises(InvalidInput, match="flat inputs"):
        LayerGraph((2, 3)).dense(0, 1)
    with pytest.raises(InvalidInput, match="does not fit"):
        LayerGraph((1, 2, 2)).conv(0, 1, 3)
    with pytest.raises(InvalidInput, match="one number per example"):
        Network(np.zeros((2, 3)), (g.dense(g.input, 2), g)[1])
    g = dense_graph(True, "ntk")
    with pytest.raises(InvalidInput, match="4 features per row"):
        Network(np.zeros((2, 4)), g)
    with pytest.raises(InvalidInput, match="one shape"):
        g.add(g.input, 1)
    with pytest.raises(InvalidInput, match="unknown parametrisation"):
        LayerGraph((3,), "mup")


def test_relu_graph_is_not_smooth_and_not_certifiable():
    g = LayerGraph((3,))
    with_head(g, g.activation(g.dense(g.input, 8), "relu"))
    net = Network(np.random.default_rng(0).standard_normal((4, 3)), g)
    assert not net.is_smooth and "relu" in net.smooth_obstacle and "node 2" in net.smooth_obstacle
    with pytest.raises(NotCertifiable, match="relu"):
        net.ball_bounds(net.default_w0())


def test_check_is_verified_where_the_graph_is_covered_and_names_the_op_where_not():
    g = LayerGraph((3,))
    with_head(g, g.activation(g.dense(g.input, 64), "tanh"))
    rng = np.random.default_rng(0)
    problem = Problem(Network(rng.standard_normal((5, 3)), g), 0.1 * rng.standard_normal(5))
    assert problem.model.ball_rigor is RigorLevel.VERIFIED
    assert not any("at best" in note for note in check(problem).notes)
    run = certify_run(problem, max_steps=20)  # the run route takes it too (tests/test_graph_run.py)
    assert run.hints["bounds"] == "graph" and run.hints["anchors"] >= 1
    def conv_graph(mine: bool) -> LayerGraph:
        g = LayerGraph((1, 4, 4))
        h = g.activation(g.conv(g.input, 2, 3, padding=1), "tanh")
        return with_head(g, g.node(Mine((32,)), h) if mine else h)  # Mine: an operation of the user's own

    assert Network(rng.standard_normal((3, 16)), conv_graph(False)).ball_rigor is RigorLevel.VERIFIED
    g = conv_graph(True)
    problem = Problem(Network(rng.standard_normal((3, 16)), g), 0.1 * rng.standard_normal(3))
    evidence = check(problem)
    assert evidence.rigor is RigorLevel.SAMPLED
    assert any("sampled at best (node 3 (Mine)" in note for note in evidence.notes)
    with pytest.raises(NotCertifiable, match=r"sampled estimates \(node 3 \(Mine\)"):
        certify_run(problem)
