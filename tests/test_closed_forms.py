"""Closed forms apply only to the function they were derived for (plproof.models.base.closed_form_obstacle).

A subclass of a built-in family that changes F, its derivatives or its kernel, or a model with a user
activation, must never be certified with the family's formulas: it is differentiated from its own F and
checked at rigor ``sampled`` at best, with the reason in the evidence. A harmless subclass keeps them.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

import plproof
from plproof import MLP, Linear, NotCertifiable, Problem, RandomFeatures, RigorLevel, TwoLayer
from plproof.data import uniform_targets, unit_inputs
from plproof.evidence import Verdict
from plproof.models.activations import ACTIVATIONS, Activation, is_builtin
from plproof.models.base import closed_form_obstacle, generic_model
from plproof.numeric.arith import BallArith, MPArith, have_flint
from plproof.routes.trajectory import certify_run
from plproof.theory.ball import two_layer_constants
from plproof.theory.mlp_bounds import mlp_centre

X2 = unit_inputs(2, 2, 1)
Y2 = uniform_targets(2, 0.001, 1)
X_LIN = np.array([[1, 2, 0, 1], [0, 1, 1, -1]], dtype=float)
Y_LIN = np.array([1.0, 2.0])

#: tiny members of each family whose exact class certifies at rigor verified (checked below)
FAMILIES = {
    "two_layer": (TwoLayer, lambda cls, **kw: cls(X2, 4, seed=1, init="symmetric", **kw), Y2),
    "random_features": (RandomFeatures, lambda cls, **kw: cls(X2, 4, seed=1, **kw), Y2),
    "mlp": (MLP, lambda cls, **kw: cls(X2, [4, 4], seed=1, init="symmetric", **kw), Y2),
    "linear": (Linear, lambda cls, **kw: cls(X_LIN, **kw), Y_LIN),
}
#: a smaller MLP for the generic (slow, sampled) path
SMALL_MLP = (MLP, lambda cls, **kw: cls(X2, [2, 2], seed=1, init="symmetric", **kw), Y2)

#: overrides: F = 0 (PL* false: K = 0), F doubled, a wrong Jacobian, a wrong kernel
OVERRIDES = {
    "_F zero": ("_F", lambda base: lambda self, w, ar: base._F(self, w, ar) * 0),
    "_F changed": ("_F", lambda base: lambda self, w, ar: base._F(self, w, ar) * 2),
    "_jacobian": ("_jacobian", lambda base: lambda self, w, ar: base._jacobian(self, w, ar) * 3),
    "_kernel": ("_kernel", lambda base: lambda self, w, ar: base._kernel(self, w, ar) * 9),
}


def subclass(base: type, **body) -> type:
    """A user subclass of ``base`` with the given class body."""
    return type(f"User{base.__name__}", (base,), body)


def everything_said(ev) -> str:
    """The reason, notes and every quantity's assumptions of an Evidence, as one text."""
    parts = [ev.reason, *ev.notes]
    parts += [a for q in ev.quantities.values() for a in q.assumptions]
    return "\n".join(parts)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_exact_classes_keep_their_closed_forms_and_certify_verified(family):
    base, make, y = FAMILIES[family]
    model = make(base)
    assert closed_form_obstacle(model) is None and model.closed_forms_apply
    ev = plproof.check(Problem(model, y), confirm=False)
    assert ev.verdict is Verdict.CERTIFIED and ev.rigor >= RigorLevel.VERIFIED, ev.reason


@pytest.mark.parametrize("override", list(OVERRIDES))
@pytest.mark.parametrize("family", ["two_layer", "random_features", "mlp", "linear"])
def test_overriding_subclass_is_never_certified_with_the_parents_formulas(family, override):
    base, make, y = SMALL_MLP if family == "mlp" else FAMILIES[family]
    name, body = OVERRIDES[override]
    model = make(subclass(base, **{name: body(base)}))
    reason = closed_form_obstacle(model)
    assert reason is not None and name in reason and not model.closed_forms_apply
    ev = plproof.check(Problem(model, y), confirm=False)
    assert not (ev.certified and ev.rigor >= RigorLevel.VERIFIED)
    assert ev.rigor is RigorLevel.SAMPLED or not ev.certified
    assert f"redefines {name}" in everything_said(ev)
    if override == "_F zero":  # K = 0 everywhere: PL* is false
        assert ev.verdict is not Verdict.CERTIFIED
        assert ev.quantities["lambda0"].hi <= 1e-12


def test_generic_derivatives_come_from_the_subclass_f():
    """F doubled: DF doubles and K quadruples, whatever _jacobian/_kernel say; a wrong _jacobian is ignored."""
    w = FAMILIES["two_layer"][1](TwoLayer).default_w0()
    parent = FAMILIES["two_layer"][1](TwoLayer)
    doubled = FAMILIES["two_layer"][1](subclass(TwoLayer, _F=OVERRIDES["_F changed"][1](TwoLayer)))
    wrong_jacobian = FAMILIES["two_layer"][1](subclass(TwoLayer, _jacobian=lambda self, w, ar: 0 * w))
    J = parent.jacobian(w)
    assert np.allclose(generic_model(parent).jacobian(w), J, rtol=1e-7, atol=1e-9)  # the generic path itself
    assert np.allclose(doubled.jacobian(w), 2 * J, rtol=1e-7, atol=1e-9)
    assert np.allclose(doubled.kernel(w), 4 * parent.kernel(w), rtol=1e-7, atol=1e-9)
    r = np.array([0.3, -0.7])
    assert np.allclose(doubled.vjp(w, r), 2 * J.T @ r, rtol=1e-7, atol=1e-9)
    assert np.allclose(wrong_jacobian.jacobian(w), J, rtol=1e-7, atol=1e-9)
    # at high precision: central differences at twice the digits
    hp = np.asarray(MPArith(30).to_float(doubled.jacobian(w, MPArith(30))))
    assert np.allclose(hp, 2 * J, rtol=1e-12, atol=1e-14)


@pytest.mark.skipif(not have_flint(), reason="python-flint not installed")
def test_no_enclosure_of_numerical_derivatives():
    model = FAMILIES["two_layer"][1](subclass(TwoLayer, _F=OVERRIDES["_F changed"][1](TwoLayer)))
    with pytest.raises(NotCertifiable, match="redefines _F"):
        model.kernel(model.default_w0(), BallArith(64))


def test_family_bounds_refuse_a_model_they_do_not_describe():
    tl = FAMILIES["two_layer"][1](subclass(TwoLayer, _F=OVERRIDES["_F zero"][1](TwoLayer)))
    with pytest.raises(NotCertifiable, match="redefines _F"):
        two_layer_constants(tl, tl.default_w0())
    assert tl.ball_bounds(tl.default_w0()).rigor is RigorLevel.SAMPLED
    mlp = SMALL_MLP[1](subclass(MLP, _F=OVERRIDES["_F zero"][1](MLP)))
    with pytest.raises(NotCertifiable, match="redefines _F"):
        mlp_centre(mlp, mlp.default_w0())


def wrong_tanh() -> Activation:
    """tanh's own function with S1-S3 far too small (true: 1, 0.7698, 2)."""
    return Activation("mytanh", True, 0.1, 0.01, 0.01, True, ACTIVATIONS["tanh"]._derivs)


@pytest.mark.parametrize("activation", [wrong_tanh(), dataclasses.replace(ACTIVATIONS["tanh"])],
                         ids=["wrong constants", "equal copy of tanh"])
def test_user_activation_is_never_verified(activation):
    assert not is_builtin(activation) and is_builtin(ACTIVATIONS["tanh"])
    for model in (FAMILIES["two_layer"][1](TwoLayer, activation=activation),
                  SMALL_MLP[1](MLP, activation=activation)):
        assert "user activation" in closed_form_obstacle(model) and "S1-S3 not proved" in closed_form_obstacle(model)
        ev = plproof.check(Problem(model, Y2), confirm=False)
        assert ev.rigor is RigorLevel.SAMPLED, ev.reason
        assert "S1-S3 not proved" in everything_said(ev)


def test_activation_identity_is_against_the_registry_as_built(monkeypatch):
    mine = wrong_tanh()
    monkeypatch.setitem(ACTIVATIONS, "mytanh", mine)
    assert not is_builtin(mine)
    assert closed_form_obstacle(TwoLayer(X2, 4, "mytanh")) is not None


class Documented(TwoLayer):
    """A two-layer net with a docstring, a helper method, a constant, its own describe and constructor."""

    label = "documented"

    def __init__(self, X, width, note: str = "", **kw) -> None:
        super().__init__(X, width, **kw)
        self.note = note

    def helper(self) -> float:
        return float(np.abs(self.v0).max())

    @staticmethod
    def tool() -> int:
        return 1

    def describe(self) -> dict:
        return {**super().describe(), "note": self.note}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_harmless_subclass_keeps_the_closed_forms_and_certifies_like_its_parent(family):
    base, make, y = FAMILIES[family]
    harmless = subclass(base, __doc__="Mine.", helper=lambda self: 1, CONSTANT=3)
    parent_ev = plproof.check(Problem(make(base), y), confirm=False)
    ev = plproof.check(Problem(make(harmless), y), confirm=False)
    assert closed_form_obstacle(make(harmless)) is None
    assert ev.verdict is Verdict.CERTIFIED and ev.rigor is parent_ev.rigor >= RigorLevel.VERIFIED
    assert ev.quantities["mu"].lo == parent_ev.quantities["mu"].lo


def test_harmless_overrides_keep_the_closed_forms():
    model = Documented(X2, 4, note="x", seed=1, init="symmetric")
    assert closed_form_obstacle(model) is None
    ev = plproof.check(Problem(model, Y2), confirm=False)
    assert ev.certified and ev.rigor is RigorLevel.VERIFIED


@pytest.mark.parametrize("body, named", [
    ({"n_params": property(lambda self: 12)}, "n_params"),
    ({"split": lambda self, w, ar=None: TwoLayer.split(self, w, ar)}, "split"),
    ({"is_smooth": True}, "is_smooth"),
    ({"family": "two_layer_v2"}, "family"),
    ({"jacobian": lambda self, w, arith=None: TwoLayer.jacobian(self, w, arith)}, "jacobian"),
    ({"__getattribute__": lambda self, name: object.__getattribute__(self, name)}, "__getattribute__"),
    ({"scale": property(lambda self: 1.0)}, "scale"),  # a property could stand in for state the formulas read
])
def test_what_counts_as_a_redefinition(body, named):
    reason = closed_form_obstacle(FAMILIES["two_layer"][1](subclass(TwoLayer, **body)))
    assert reason is not None and named in reason


def test_an_instance_shadowing_a_method_loses_the_closed_forms():
    model = FAMILIES["two_layer"][1](TwoLayer)
    model._F = lambda w, ar: 0 * TwoLayer._F(model, w, ar)
    assert "_F" in closed_form_obstacle(model)


def test_a_mixin_after_the_family_is_scanned_too():
    class Hook:
        def __getattribute__(self, name):
            return object.__getattribute__(self, name)

    cls = type("Mixed", (TwoLayer, Hook), {})
    assert "__getattribute__" in closed_form_obstacle(FAMILIES["two_layer"][1](cls))


def test_models_outside_the_families_are_unaffected():
    from plproof import CallableModel

    model = CallableModel(lambda w: np.array([w[0] + w[1], w[1]]), 2)
    assert closed_form_obstacle(model) is None and not model.closed_forms_apply


def test_run_route_refuses_an_overriding_subclass():
    X = unit_inputs(20, 64, 2026)
    y = uniform_targets(20, 0.1, 2026)
    cls = subclass(TwoLayer, _F=OVERRIDES["_F zero"][1](TwoLayer))
    with pytest.raises(NotCertifiable, match="redefines _F"):
        certify_run(Problem(cls(X, 4, "tanh", 2026, init="symmetric"), y))
    with pytest.raises(NotCertifiable, match="S1-S3 not proved"):
        certify_run(Problem(TwoLayer(X, 4, dataclasses.replace(ACTIVATIONS["tanh"]), 2026, init="symmetric"), y))


@pytest.mark.parametrize("cls", [TwoLayer, RandomFeatures, MLP, Linear])
def test_constructor_parameters_are_documented(cls):
    doc = inspect.getdoc(cls)
    assert "Parameters\n----------" in doc and "docs/theory.md §" in doc
    for name in list(inspect.signature(cls.__init__).parameters)[1:]:
        assert f"\n{name} : " in doc, f"{cls.__name__} does not document {name}"
    assert "Initialize self" not in (cls.__init__.__doc__ or "Initialize self")
