"""The ball-bounds protocol, Model.ball_bounds(w0) (docs/rigor.md §2.5): bound set per family, immutability,
recentring, soundness at sampled points of small balls, sampled bounds where closed forms do not apply."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import sympy as sp

from plproof import InvalidInput, NotCertifiable
from plproof.models import MLP, CallableModel, Linear, Model, RandomFeatures, SympyModel, TwoLayer
from plproof.models.activations import ACTIVATIONS
from plproof.models.ball import BallBounds
from plproof.models.base import bound_sets
from plproof.numeric.arith import Arith, have_flint
from plproof.numeric.rigor import RigorLevel
from plproof.numeric.scalars import FLOATS, INTERVALS

SMOOTH = sorted(name for name, act in ACTIVATIONS.items() if act.smooth)
NON_SMOOTH = sorted(name for name, act in ACTIVATIONS.items() if not act.smooth)
X = np.random.default_rng(5).standard_normal((4, 3)) / 2
needs_flint = pytest.mark.skipif(not have_flint(), reason="python-flint not installed")
RADII = (0.05, 0.3)


def sympy_model() -> SympyModel:
    a, b, c = sp.symbols("a b c", real=True)
    return SympyModel([sp.tanh(a + 2 * b), sp.sin(b) + c**2 / 2 + c, sp.exp(c / 4) + a * b], [a, b, c])


def tanh_callable() -> CallableModel:
    return CallableModel(lambda w: np.tanh(X @ w[:3]) + w[3:] ** 2 / 2, 7, w0=np.full(7, 0.3))


class DoubledTwoLayer(TwoLayer):
    """A user subclass that redefines F: the closed forms of TwoLayer do not apply to it."""

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return 2 * super()._F(w, ar)


def case(label: str, build: Any, bound_set: str, flint: bool = False) -> Any:
    return pytest.param(build, bound_set, id=label, marks=[needs_flint] if flint else [])


CASES = [
    case("linear", lambda: Linear(np.hstack([X, X ** 2])), "constant-kernel"),
    *[case(f"random_features-{a}", lambda a=a: RandomFeatures(X, 8, a), "constant-kernel") for a in ACTIVATIONS],
    *[case(f"two_layer-{a}-output", lambda a=a: TwoLayer(X, 6, a, train="output"), "constant-kernel")
      for a in ACTIVATIONS],
    *[case(f"two_layer-{a}-{t}", lambda a=a, t=t: TwoLayer(X, 6, a, seed=2, train=t), "two-layer-t1-t3")
      for a in SMOOTH for t in ("both", "hidden")],
    *[case(f"mlp-{a}", lambda a=a: MLP(X, [5, 4], a, seed=3), "mlp", flint=True) for a in SMOOTH],
    case("sympy", sympy_model, "generic-hessian", flint=True),
    case("callable", tanh_callable, "sampled"),
    case("subclass-redefining-F", lambda: DoubledTwoLayer(X, 6), "sampled"),
]
#: the cases whose bounds are proved (sampled ones are estimates: nothing to check them against)
PROVED = [c for c in CASES if c.values[1] != "sampled"]


def ball_points(w0: np.ndarray, R: float, k: int, seed: int) -> list[np.ndarray]:
    """k seeded points of B(w0, R): alternately on the sphere and inside."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(k):
        u = rng.standard_normal(w0.size)
        out.append(w0 + R * (1.0 if i % 2 else rng.uniform(0.2, 1.0)) * u / np.linalg.norm(u))
    return out


def curvature_matrix(model: Model, w: np.ndarray, r: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """sum_k r_k Hess f_k(w), column j the central difference of DF^T r along e_j (Hessian-vector products)."""
    M = np.stack([(model.vjp(w + h * e, r) - model.vjp(w - h * e, r)) / (2 * h) for e in np.eye(w.size)], axis=1)
    return (M + M.T) / 2


def values(bb: BallBounds) -> list[float]:
    return [v for R in RADII for v in (bb.epsilon(FLOATS, R), bb.delta(FLOATS, R), bb.curvature(FLOATS, R, 1.5))]


@pytest.mark.parametrize("build, bound_set", CASES)
def test_protocol_bound_set_immutability_and_recentring(build, bound_set):
    model = build()
    w0 = model.default_w0()
    bb = model.ball_bounds(w0)
    assert isinstance(bb, BallBounds) and bb.bound_set == bound_set and bb.hints()["bounds"] == bound_set
    assert (bb.rigor is RigorLevel.SAMPLED) == (bound_set == "sampled")
    assert model.ball_bounds(w0, "theory").bound_set == ("two-layer-s8" if bound_set == "two-layer-t1-t3" else bound_set)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bb.w0 = w0  # type: ignore[misc]
    with pytest.raises(ValueError):
        bb.w0[0] = 1.0  # the centre is a read-only copy
    before = values(bb)
    w = ball_points(w0, 0.2, 1, seed=1)[0]
    moved = bb.recentred(w)
    built = model.ball_bounds(w)
    assert type(moved) is type(bb) and moved is not bb and np.array_equal(moved.w0, w)
    assert values(moved) == values(built) and moved.hints() == built.hints()
    assert np.array_equal(bb.w0, w0) and values(bb) == before
    for R in RADII:  # positively homogeneous in rho; intervals enclose the floats
        assert bb.curvature(FLOATS, R, 3.0) == pytest.approx(2 * bb.curvature(FLOATS, R, 1.5), rel=1e-12, abs=0)
        assert INTERVALS.hi(bb.delta(INTERVALS, INTERVALS.of(R))) >= bb.delta(FLOATS, R) * (1 - 1e-12)


@pytest.mark.parametrize("build, bound_set", PROVED)
def test_bounds_hold_at_sampled_points_of_small_balls(build, bound_set):
    """||DF(w) - DF(w0)|| <= delta(R), ||Hess f_k(w)|| <= epsilon(R), ||sum_k r_k Hess f_k(w)|| <= curvature(R, ||r||)."""
    model = build()
    w0 = model.default_w0()
    bb = model.ball_bounds(w0)
    J0 = model.jacobian(w0)
    rng = np.random.default_rng(7)
    for R in RADII:
        for w in ball_points(w0, R, 4, seed=int(R * 100)):
            assert np.linalg.norm(model.jacobian(w) - J0, 2) <= bb.delta(FLOATS, R) * (1 + 1e-9) + 1e-12
            r = rng.standard_normal(model.n_outputs)
            M = curvature_matrix(model, w, r)
            assert np.linalg.norm(M, 2) <= bb.curvature(FLOATS, R, float(np.linalg.norm(r))) * (1 + 1e-6) + 1e-7
            H = max(np.linalg.norm(curvature_matrix(model, w, e), 2) for e in np.eye(model.n_outputs))
            assert H <= bb.epsilon(FLOATS, R) * (1 + 1e-6) + 1e-7


@pytest.mark.parametrize("activation", NON_SMOOTH)
@pytest.mark.parametrize("build", [lambda a: TwoLayer(X, 6, a), lambda a: TwoLayer(X, 6, a, train="hidden"),
                                   lambda a: MLP(X, [4], a)], ids=["two_layer-both", "two_layer-hidden", "mlp"])
def test_non_smooth_models_have_no_ball_bounds_and_say_why(build, activation):
    model = build(activation)
    with pytest.raises(NotCertifiable, match=rf"activation '{activation}' is not C\^2.*docs/theory.md §9"):
        model.ball_bounds(model.default_w0())


def test_a_subclass_redefining_F_gets_sampled_bounds_of_its_own_F():
    model = DoubledTwoLayer(X, 6)
    bb = model.ball_bounds(model.default_w0())
    assert bb.rigor is RigorLevel.SAMPLED and bb.bound_set == "sampled"
    proved = TwoLayer(X, 6).ball_bounds(model.default_w0(), "theory")  # same weights: Hess 2F = 2 Hess F
    assert 0 < bb.epsilon(FLOATS, 0.05) <= 2 * proved.epsilon(FLOATS, 0.05) * (1 + 1e-6)


def test_torch_modules_get_sampled_bounds_or_say_why_not():
    torch = pytest.importorskip("torch")
    from plproof.models.torch_model import TorchModel

    torch.manual_seed(0)
    smooth = TorchModel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)), X)
    bb = smooth.ball_bounds(smooth.default_w0())
    assert bb.bound_set == "sampled" and bb.rigor is RigorLevel.SAMPLED
    kinked = TorchModel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)), X)
    with pytest.raises(NotCertifiable, match="ReLU.*not twice differentiable"):
        kinked.ball_bounds(kinked.default_w0())


class Quadratic(Model):
    """F(w) = (|w|^2 / 2, w_0): a user family with its own bound set (every Hessian of norm <= 1)."""

    family = "quadratic"
    ball_bound_sets = bound_sets(f"{__name__}:UnitHessianBounds")
    n_outputs = 2
    n_params = 3

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return np.array([w @ w / 2, w[0]])

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return np.stack([w, np.eye(3)[0]])


@dataclasses.dataclass(frozen=True, eq=False)
class UnitHessianBounds(BallBounds):
    """Hess f_1 = I, Hess f_2 = 0: epsilon = 1, and the generic delta and curvature of docs/theory.md §4.1."""

    bound_set = "quadratic-unit-hessian"

    def epsilon(self, S: Any, R: Any) -> Any:
        return S.of(1)


def test_a_family_declares_its_bound_set_and_undeclared_models_are_told_what_to_do():
    bb = Quadratic().ball_bounds(np.ones(3))
    assert isinstance(bb, UnitHessianBounds) and bb.delta(FLOATS, 2.0) == pytest.approx(2 * np.sqrt(2))

    class Bare(Quadratic):
        ball_bound_sets = Model.ball_bound_sets

    with pytest.raises(NotCertifiable, match="declare ball_bound_sets.*CallableModel"):
        Bare().ball_bounds(np.ones(3))
    with pytest.raises(InvalidInput, match="unknown bound set"):
        Quadratic().ball_bounds(np.ones(3), "loose")
    with pytest.raises(InvalidInput, match="w0 must be 3 finite numbers"):
        Quadratic().ball_bounds(np.ones(2))


def test_width_extrapolation_is_a_new_labelled_estimate():
    model = TwoLayer(X, 8)
    bb = model.ball_bounds(model.default_w0())
    wide = bb.extrapolated_to_width(2.0**12)
    assert wide.rigor is RigorLevel.SAMPLED and wide.hints()["extrapolated_width"] == 2.0**12
    assert wide.c.s == 2.0**-6 and wide.c.v_inf > bb.c.v_inf and wide.delta(FLOATS, 1.0) < bb.delta(FLOATS, 1.0)
    assert bb.rigor is RigorLevel.VERIFIED and bb.c.s >= 8**-0.5 and "extrapolated_width" not in bb.hints()
    twice = bb.extrapolated_to_width(2.0**6).extrapolated_to_width(2.0**12)
    assert twice.c.v_inf == pytest.approx(wide.c.v_inf, rel=1e-12)


def test_models_do_not_import_theory():
    """Imports point down (docs/architecture.md): the families name their bounds, theory/ is imported on use."""
    code = ("import sys, numpy as np, plproof.models as m; t = m.TwoLayer(np.eye(2), 4); m.MLP(np.eye(2), [2]); "
            "m.Linear(np.eye(2)); assert not [k for k in sys.modules if k.startswith('plproof.theory')]; "
            "t.ball_bounds(t.default_w0()); assert 'plproof.theory.ball' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
