"""The run route for deep nets and SymPy models (docs/rigor.md §10): certification, re-checks, sabotage, l_t."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import sympy as sp

from plproof.certificate.build import run_certificate
from plproof.certificate.format import decode_array, encode_array, seal
from plproof.data import unit_inputs, uniform_targets
from plproof.errors import NotCertifiable
from plproof.evidence import Verdict
from plproof.models import MLP
from plproof.models.sympy_model import SympyModel
from plproof.numeric.scalars import FLOATS
from plproof.problem import Problem
from plproof.routes.trajectory.certify import certify_run
from plproof.routes.trajectory.generic import RECIPE, MidRadGD
from plproof.routes.width import empirical_run
from plproof.verify import check
from tests.test_run_generic import _sampled_norm


def _valid(cert: dict) -> bool:
    return check(seal(cert), None).valid


def _mlp(widths: list[int]) -> Problem:
    """n = 3 unit inputs in R^3, targets in +-0.001, symmetric init: GD reaches 1e-20 from width 4 at depths 2 and
    3 (not at width 2: measured, see test_gd_width_of_the_mlp_cases); the run route closes at width 4 for both."""
    return Problem(MLP(unit_inputs(3, 3, seed=5), widths, "tanh", seed=5, init="symmetric"),
                   uniform_targets(3, 0.001, seed=5))


W1, W2, W3 = sp.symbols("w1 w2 w3")
A, B, X = sp.symbols("a1:4"), sp.symbols("b1:4"), sp.Symbol("x")
SYMPY = {
    "polynomial": lambda: Problem(SympyModel([W1 * W2 + W3, W1 + W2 ** 2], [W1, W2, W3], w0=[0.5, -0.3, 0.2]),
                                  np.array([1.0, 0.5])),
    "tanh-net": lambda: Problem(SympyModel([sum(a * sp.tanh(b * X) for a, b in zip(A, B))], [*A, *B], inputs=[X],
                                           data=[[0.5], [-1.0]], w0=[0.5, -0.4, 0.3, 1.0, 0.7, -1.2]),
                                np.array([0.3, -0.2])),
    # the box of radius 1 around w leaves the domain of sqrt: the verifier's anchor search halves from there, as the
    # producer's does (it rejected this honest certificate before)
    "sqrt-near-its-domain-edge": lambda: Problem(SympyModel([sp.sqrt(W1) + W2, W3 + W2 * W1], [W1, W2, W3],
                                                            w0=[0.5, 0.1, 0.2]), np.array([1.0, 0.05])),
}


def _certify(problem: Problem) -> dict:
    ev = certify_run(problem, checkpoint_every=100)
    assert ev.verdict is Verdict.CERTIFIED, ev.reason
    assert ev.hints["recipe"] == RECIPE
    cert = run_certificate(ev, problem)
    assert _valid(cert)
    return cert


def test_mlp_depth_2_certifies_within_2x_of_gd_width() -> None:
    assert _certify(_mlp([8, 8]))["hints"]["bounds"] == "mlp"


@pytest.mark.slow
@pytest.mark.parametrize("widths", [[8, 8, 8], [4, 4], [4, 4, 4]])
def test_mlp_certifies_within_2x_of_gd_width_slow(widths: list[int]) -> None:
    _certify(_mlp(widths))


@pytest.mark.slow
@pytest.mark.parametrize("widths", [[2, 2], [2, 2, 2], [4, 4], [4, 4, 4]])
def test_gd_width_of_the_mlp_cases(widths: list[int]) -> None:
    assert (empirical_run(_mlp(widths), max_steps=400_000).stop == "converged") == (widths[0] == 4)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name == "tanh-net" else name
                                  for name in sorted(SYMPY)])  # tanh-net: about 1000 steps of interval jets, 5 s
def test_sympy_model_certifies_and_verifies(name: str) -> None:
    assert _certify(SYMPY[name]())["hints"]["bounds"] == "generic-hessian"


@pytest.fixture(scope="module", params=["sympy", "mlp"])
def certified(request) -> dict:
    return _certify(SYMPY["polynomial"]() if request.param == "sympy" else _mlp([8, 8]))


def test_corrupted_checkpoint_is_rejected(certified: dict) -> None:
    bad = copy.deepcopy(certified)
    run = bad["inputs"]["run"]
    C = decode_array(run["checkpoints"], None).copy()
    assert len(C) >= 2
    C[-1] += 1e-3
    run["checkpoints"] = encode_array(C)
    assert not _valid(bad)


def test_too_small_terminal_ball_is_rejected(certified: dict) -> None:
    small = copy.deepcopy(certified)
    small["hints"]["R_T"] = small["hints"]["R_T"] / 10
    assert not _valid(small)


def test_sympy_without_interval_evaluator_is_refused() -> None:
    model = SympyModel([sp.erf(W1) + W2], [W1, W2], w0=[0.1, 0.2])
    assert model.interval_obstacle
    with pytest.raises(NotCertifiable, match="not certifiable by the run route"):
        certify_run(Problem(model, np.array([0.5])))


def test_ball_bounds_at_a_singular_kernel() -> None:
    """At w = 0 the tanh net's Jacobian vanishes (K = 0, lambda_min = 0) while its Hessian does not: the grid of
    radii falls back to a positive cap (radii 0 raised InvalidInput at such an anchor inside certify_run)."""
    problem = SYMPY["tanh-net"]()
    bounds = problem.model.ball_bounds(problem.w0, "tight").recentred(np.zeros(problem.model.n_params))
    assert min(bounds.radii) > 0
    assert math.isfinite(float(bounds.epsilon(FLOATS, 1e-3)))


# ---------------------------------------------------------------- l_t against the sampled Hessian
def _producer_tube(model, y, w) -> tuple:
    """MidRadGD's first step from w at eta = 1/lambda_max(K(w)): (eta, e, l_0 on B(w, e), the anchor at w, the
    block), e = min(0.05, R_a / 2)."""
    eta = 1.0 / float(np.linalg.eigvalsh(model.kernel(w))[-1])
    recipe = MidRadGD(model, y, w)
    block = recipe.run(1, eta)
    anchor = recipe.anchor(block, 0)
    e = min(0.05, anchor.radius / 2)
    return eta, e, float(recipe.contraction(block, 1, eta, np.array([e]), None, anchor)[0]), anchor, block


def test_mlp_contraction_bounds_the_sampled_tube() -> None:
    """l_t of the producer (MidRadGD.contraction) and of the verifier (its anchor's LF, h1 in the same formula)
    >= ||I - eta Hess L|| sampled over B(w, e) on a tiny MLP far from a minimiser."""
    from plproof.verify.families import Family
    from plproof.verify.mlp import MLPFamily
    from plproof.verify.trajectory import _Generic

    X = unit_inputs(4, 2, seed=3)
    y = np.random.default_rng(3).standard_normal(4)
    model = MLP(X, [3, 3], "tanh", seed=1)
    w = model.default_w0() + 0.3 * np.random.default_rng(4).standard_normal(model.n_params)
    eta, e, ell, _, _ = _producer_tube(model, y, w)
    spec = {"family": "mlp", "n_outputs": 4, "n_params": model.n_params, "widths": [3, 3], "activation": "tanh"}
    fam = Family(spec, X, w, MLPFamily(X, [3, 3], "tanh", w))
    LF, h1, R, _ = _Generic(fam, y, "mlp", None, []).anchor(w)
    assert e <= R
    res = float(np.linalg.norm(model.F(w) - y)) * (1 + 1e-9)
    h = h1 * (res + LF * e)
    ell_v = max(1 + eta * h, eta * (LF * LF + h) - 1)
    sampled = _sampled_norm(model, y, w, eta, e, points=16)
    assert sampled <= ell and sampled <= ell_v, (sampled, ell, ell_v)
    assert math.isfinite(ell) and ell < 1 + 50 * (sampled - 1)  # not vacuous


def test_sympy_contraction_bounds_the_sampled_tube() -> None:
    """The sharp l_t of a SymPy model (producer ExprCurvature, verifier _ExprTube: S = sum_k r_k Hess f_k enclosed
    over the tube's box) >= ||I - eta Hess L|| sampled over B(w, e) far from a minimiser; l without S falls below
    the sampled value (the test catches an l_t that is too small), and the ball bound it replaces is larger."""
    from types import SimpleNamespace

    from plproof.verify.expr import ExprFamily
    from plproof.verify.trajectory import _ExprTube

    problem = SYMPY["tanh-net"]()
    model, y = problem.model, problem.y
    w = problem.w0 + 0.3 * np.random.default_rng(4).standard_normal(model.n_params)
    eta, e, ell, anchor, block = _producer_tube(model, y, w)
    LF = float(anchor.jac.hi) + anchor.data["delta"]
    tube = _ExprTube(SimpleNamespace(model=ExprFamily(model.describe())), y, [])
    ell_v = tube.ell(None, y, w, eta, e, LF)
    sampled = _sampled_norm(model, y, w, eta, e)
    assert sampled <= ell and sampled <= ell_v, (sampled, ell, ell_v)
    assert max(1.0, eta * LF * LF - 1.0) < sampled  # S matters here
    h = anchor.data["h1"] * (float(block.residual[0]) + LF * e)
    assert ell < max(1 + eta * h, eta * (LF * LF + h) - 1)
    with pytest.raises(NotCertifiable, match="full batch"):  # no mini-batch behind this l_t
        MidRadGD(model, y, w).sharp.at(w, np.array([0]))


@pytest.mark.slow
def test_sympy_two_layer_net_certifies_at_gd_width_slow() -> None:
    """The two-layer tanh net of width 4 on tests/test_run_generic.py's data written in SymPy, from TwoLayer's w0
    (benchmarks/run_families.py, the SymPy row: GD reaches 1e-20 at width 4) certifies at width 4 and verifies;
    with the ball bound in place of the sharp l_t it stopped at amplification e^29."""
    from plproof.models import TwoLayer
    from tests.test_run_generic import _data

    X, y = _data()
    width, d = 4, X.shape[1]
    W, v, x = sp.symbols(f"w1:{width * d + 1}"), sp.symbols(f"v1:{width + 1}"), sp.symbols(f"x1:{d + 1}")
    F = sum(v[j] * sp.tanh(sum(W[j * d + c] * x[c] for c in range(d))) for j in range(width)) / sp.sqrt(width)
    w0 = Problem(TwoLayer(X, width, "tanh"), y).w0
    _certify(Problem(SympyModel([F], [*W, *v], inputs=list(x), data=X.tolist(), w0=w0.tolist()), y))


def test_the_ball_routes_next_step_names_the_run_route_where_it_applies() -> None:
    """A ball-route failure suggests the run route for every model the run route takes (it named it for two-layer
    tanh nets only, before the run route took every smooth model), not for a model it refuses."""
    from plproof.models.callable_model import CallableModel
    from plproof.routes.ball import next_step

    def hint(problem: Problem) -> str:
        return next_step(problem, "R >= R_fl", None, None, {})

    assert "--route run" in hint(SYMPY["polynomial"]()) and "--route run" in hint(_mlp([4, 4]))
    black_box = CallableModel(lambda w: np.array([w[0] * w[1], w[0] + w[1] ** 2]), n_params=2, n_outputs=2)
    assert "--route run" not in hint(Problem(black_box, np.array([1.0, 0.5]), np.array([0.5, -0.3])))
