"""The verifier's models: rebuild a certificate's model and bound it over a ball in exact rationals.

A family is rebuilt from ``inputs.model`` only when its ``class`` is the built-in class of that family
(a user subclass may change F, so it inherits no closed form). F and K are evaluated by the family's
formula module (plproof.models.linear / two_layer) in the verifier's own interval arithmetic; the
ball bounds below are the verifier's own, selected by the explicit bound-set id ``hints.bounds``:

* ``constant-kernel``: F linear in w, every Hessian 0, K constant (docs/theory.md §7);
* ``two-layer-t1-t3``: T1-T3 (docs/theory.md §11.3-§11.4); ``two-layer-s8``: §8 with §4.1;
* ``mlp``: docs/rigor.md §2 (plproof.verify.mlp); ``graph``: docs/rigor.md §2.7 (plproof.verify.graph);
  ``generic-hessian``: per-output Hessian bounds of a
  SymPy model over the ball (plproof.verify.expr) with §4.1.

Each bound set gives delta(R) >= sup_B ||DF(w) - DF(w0)||, epsilon(R) >= max_k sup_B ||Hess f_k|| and
kappa(R, rho) >= sup ||sum_k r_k Hess f_k|| over B and ||r|| <= rho, as Fractions.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from plproof.certificate.format import DataMismatch, DataMissing, decode_array
from plproof.verify.exact import (
    ACTIVATION_BOUNDS,
    Failure,
    IntervalNamespace,
    MatrixEnclosure,
    U,
    Unverifiable,
    cholesky_margin,
    exact_matrix,
    iv_bounds,
    iv_matrix,
    pd_rigor,
    sqrt_hi,
    sqrt_lo,
)

#: activations with a kink: not C^2, so no ball bound exists (docs/theory.md §9)
NON_SMOOTH = ("relu", "leaky_relu", "abs")
#: family -> the one class the verifier rebuilds for it
CLASSES = {"linear": "plproof.models.linear.Linear", "two_layer": "plproof.models.two_layer.TwoLayer",
           "random_features": "plproof.models.two_layer.RandomFeatures", "mlp": "plproof.models.mlp.MLP",
           "sympy": "plproof.models.sympy_model.SympyModel", "graph": "plproof.models.graph.network.Network"}


def _rationals(a: np.ndarray) -> np.ndarray:
    return np.array([Fraction(v) for v in a.ravel()], dtype=object).reshape(a.shape)


def _norm_below_float(X: np.ndarray, t: Fraction, X_F2: Fraction) -> bool:
    """||X||_2 < t proved in floats. G = fl(X X^T) has ||G - X X^T||_2 <= e = gamma_d ||X||_F^2 (each entry a dot
    product of length d, any order, FMA allowed: |error| <= gamma_d |x_i|^T |x_j|, and || |X||X|^T ||_F <=
    ||X||_F^2). With the shift s = 2e, B = fl((t^2 - s) I - G) differs from (t^2 - s) I - G on the diagonal only,
    by at most the exact ``diag``, so lambda_min(t^2 I - X X^T) >= s + cholesky_margin(B) - diag - e. False where
    this cannot decide (the caller's exact test decides then)."""
    if X.dtype != np.float64:
        return False
    n, d = X.shape
    e = d * U / (1 - d * U) * X_F2
    shift = Fraction(float(2 * e))
    G = X @ X.T
    level = t * t - shift
    B = float(level) * np.eye(n) - G
    if not np.isfinite(B).all():
        return False
    margin = cholesky_margin(B)
    if margin is None:
        return False
    diag = max(abs(level - Fraction(G[i, i]) - Fraction(B[i, i])) for i in range(n))
    return shift + margin - diag - e > 0


class Family:
    """A rebuilt model: sizes, smoothness, the centre enclosure and the ball bounds of one bound set."""

    def __init__(self, spec: dict, X: np.ndarray | None, w0: np.ndarray, model: Any = None) -> None:
        self.spec, self.X, self.w0, self.model = spec, X, w0, model
        self.n, self.m = int(spec["n_outputs"]), int(spec["n_params"])
        act = spec.get("activation")
        self.activation = act
        self.smooth = act not in NON_SMOOTH
        self.constant = spec["family"] in ("linear", "random_features") or spec.get("train") == "output"
        self.bounds: Any = None
        self._norms: dict[Any, tuple[Fraction, Fraction, str]] = {}

    def data_norms(self, X_norm_hint: Any) -> tuple[Fraction, Fraction, str]:
        """(max_k ||x_k||, ||X||_2, how ||X||_2 was bounded), upper bounds, computed once per hint: ||X||_2 is
        the hint t when t^2 I - X X^T > 0 is proved, else ||X||_F."""
        key = X_norm_hint if isinstance(X_norm_hint, Fraction) else None
        if key not in self._norms:
            X = _rationals(self.X)
            rows = [sum(v * v for v in row) for row in X]
            x_max, X_F2 = max(sqrt_hi(q) for q in rows), sum(rows)
            if key is not None and key > 0 and (_norm_below_float(self.X, key, X_F2)
                                                or exact_matrix(X @ X.T).lambda_max_below(key * key)):
                self._norms[key] = x_max, key, f"||X||_2 < {float(key):.10g} (positive-definiteness test of t^2 I - X X^T)"
            else:
                X_F = sqrt_hi(X_F2)
                self._norms[key] = x_max, X_F, f"||X||_2 <= ||X||_F <= {float(X_F):.10g} (no proved X_norm hint)"
        return self._norms[key]

    # ------------------------------------------------------------ centre
    def centre(self, y: np.ndarray) -> tuple[MatrixEnclosure, Fraction, Fraction, str]:
        """K(w0) as an enclosure, L0 = 1/2 ||F(w0) - y||^2 in [lo, hi], and the rigor reached."""
        if self.spec["family"] == "linear":
            X = _rationals(self.X)
            r = X @ _rationals(self.w0) - _rationals(y)
            L0 = sum(v * v for v in r) / 2
            return exact_matrix(X @ X.T), L0, L0, pd_rigor(self.n)
        if hasattr(self.model, "centre"):
            return self.model.centre(y) if self.spec["family"] in ("mlp", "graph") else self.model.centre(self.w0, y)
        ns = IntervalNamespace(30)
        with ns.active():
            K = self.model.kernel(self.w0, ns)
            r = self.model.F(self.w0, ns) - ns.asarray(y)
            return iv_matrix(K), *iv_bounds((r @ r) / 2), "verified"

    # ------------------------------------------------------------ ball
    def ball(self, bound_set: str, centre_w: np.ndarray, X_norm_hint: Any, checked: list[str]) -> "Ball":
        """The verifier's bounds over B(centre_w, R) of the named bound set."""
        if not self.smooth:
            raise Failure(f"activation {self.activation!r} is not C^2: no ball bound exists (docs/theory.md §9)")
        expected = ("constant-kernel",) if self.constant else {
            "two_layer": ("two-layer-t1-t3", "two-layer-s8"), "mlp": ("mlp",), "graph": ("graph",),
            "sympy": ("generic-hessian",)}.get(self.spec["family"], ())
        if bound_set not in expected:
            raise Failure(f"hints.bounds = {bound_set!r} is not a bound set of a {self.spec['family']} model "
                          f"(expected {' or '.join(expected) or 'none'})")
        if bound_set == "constant-kernel":
            checked.append("ball bounds: F is linear in w, every Hessian is 0, K is constant (docs/theory.md §7)")
            return Ball()
        if bound_set == "mlp":
            checked.append("ball bounds: the verifier's own MLP bounds (docs/rigor.md §2)")
            if np.array_equal(centre_w, self.w0):
                return self.model
            from plproof.verify.mlp import MLPFamily

            return MLPFamily(self.X, list(self.spec["widths"]), self.activation, centre_w)
        if bound_set == "graph":
            checked.append("ball bounds: the verifier's own per-layer graph bounds (docs/rigor.md §2.7)")
            if np.array_equal(centre_w, self.w0):
                return self.model
            from plproof.verify.graph import GraphFamily

            return GraphFamily(self.spec, self.X, centre_w)
        if bound_set == "generic-hessian":
            checked.append("ball bounds: per-output Hessian bounds over the ball in interval arithmetic (§4.1)")
            return GenericBall(self.model, centre_w, self.n)
        return TwoLayerBall(self, centre_w, X_norm_hint, bound_set == "two-layer-t1-t3", checked)


class Ball:
    """A model linear in w: delta = epsilon = kappa = 0 on every ball."""

    constant = True

    def delta(self, R: Fraction) -> Fraction:
        return Fraction(0)

    def epsilon(self, R: Fraction) -> Fraction:
        return Fraction(0)

    def kappa(self, R: Fraction, rho: Fraction) -> Fraction:
        return Fraction(0)


class GenericBall(Ball):
    """docs/theory.md §4.1 from a max per-output Hessian bound epsilon: delta = sqrt(n) eps R, kappa = sqrt(n) rho eps."""

    constant = False

    def __init__(self, model: Any, w0: np.ndarray, n: int) -> None:
        self.model, self.w0, self.sqrt_n = model, w0, sqrt_hi(Fraction(n))

    def epsilon(self, R: Fraction) -> Fraction:
        return self.model.epsilon(self.w0, R)

    def delta(self, R: Fraction) -> Fraction:
        return self.sqrt_n * self.epsilon(R) * R

    def kappa(self, R: Fraction, rho: Fraction) -> Fraction:
        return self.sqrt_n * rho * self.epsilon(R)


class TwoLayerBall(Ball):
    """T1-T3 (docs/theory.md §11.3-§11.4) or §8 + §4.1 for a two-layer net centred at ``w``."""

    constant = False

    def __init__(self, fam: Family, w: np.ndarray, X_norm_hint: Any, tight: bool, checked: list[str]) -> None:
        self.tight, self.train, self.n = tight, fam.spec.get("train", "both"), fam.n
        S1, S2, _ = ACTIVATION_BOUNDS[fam.activation]
        self.S1, self.S2 = S1, S2
        self.s = 1 / sqrt_lo(Fraction(int(fam.spec["width"])))  # >= 1/sqrt(width)
        _, v = fam.model.split(np.asarray(w, dtype=np.float64))
        self.v_inf = max(abs(Fraction(x)) for x in v)
        self.x_max, self.X_norm, note = fam.data_norms(X_norm_hint)
        checked.append(note)
        self.sqrt_n = sqrt_hi(Fraction(self.n))
        checked.append("ball bounds: " + ("T1-T3 of docs/theory.md §11.3-§11.4" if tight else
                                          "docs/theory.md §8 and §4.1"))

    def _V(self, R: Fraction) -> Fraction:
        return self.v_inf + (R if self.train == "both" else 0)

    def epsilon(self, R: Fraction) -> Fraction:
        """max_k sup_B ||Hess f_k|| by the per-neuron formula (docs/theory.md §8)."""
        a = self._V(R) * self.S2 * self.x_max ** 2
        if self.train == "hidden":
            return self.s * a
        return self.s * (a + sqrt_hi(a * a + 4 * self.S1 ** 2 * self.x_max ** 2)) / 2

    def delta(self, R: Fraction) -> Fraction:
        """T1: s ||X|| sig(c) R (§11.3), or sqrt(n) epsilon R (§4.1)."""
        if not self.tight:
            return self.sqrt_n * self.epsilon(R) * R
        c = self.S2 * self.v_inf * self.x_max
        sig = c if self.train == "hidden" else (c + sqrt_hi(c * c + 4 * self.S1 ** 2)) / 2
        return self.s * self.X_norm * sig * R

    def kappa(self, R: Fraction, rho: Fraction) -> Fraction:
        """T3 (§11.4), or sqrt(n) rho epsilon (§4.1)."""
        if not self.tight:
            return self.sqrt_n * rho * self.epsilon(R)
        alpha = self._V(R) * self.S2 * rho * min(self.X_norm ** 2, self.sqrt_n * self.x_max ** 2)
        if self.train == "hidden":
            return self.s * alpha
        gamma = self.S1 * self.X_norm * rho
        return self.s * (alpha + sqrt_hi(alpha * alpha + 4 * gamma * gamma)) / 2


# ---------------------------------------------------------------- rebuild
def rebuild(inputs: dict, base: Path | None) -> tuple[Family, np.ndarray, np.ndarray]:
    """The family, y and w0 from ``inputs`` (data files checked by sha256); Unverifiable for user code."""
    spec = inputs["model"]
    family = spec.get("family")
    if CLASSES.get(family) != spec.get("class") or "generic" in spec:
        where = f" ({spec['code']['path']})" if isinstance(spec.get("code"), dict) else ""
        raise Unverifiable(f"the model is {spec.get('class') or family!r}{where}, not a built-in family class: "
                           "re-checking it needs its code (plproof verify --run-code)")
    try:
        y, w0 = decode_array(inputs["y"], base), decode_array(inputs["w0"], base)
        X = decode_array(spec["X"], base) if "X" in spec else None
    except DataMismatch as exc:
        raise Failure(f"inputs: {exc}") from None
    except DataMissing as exc:
        raise Unverifiable(str(exc)) from None
    act = spec.get("activation")
    if act is not None and act not in ACTIVATION_BOUNDS and act not in NON_SMOOTH:
        raise Unverifiable(f"activation {act!r} has no constants proved in this verifier (it has: "
                           f"{', '.join(ACTIVATION_BOUNDS)}): the certificate cannot be re-checked here")
    model: Any = None
    try:
        if family in ("two_layer", "random_features"):
            from plproof.models.two_layer import RandomFeatures, TwoLayer

            train = "output" if family == "random_features" else spec["train"]
            if ("seed" in spec) != (train != "both") or ("init" in spec) != (train != "both"):
                raise Failure("inputs.model.seed and init are given exactly when some weights are fixed by them "
                              "(train != 'both')")
            model = (RandomFeatures(X, spec["width"], spec["activation"], spec["seed"], spec["init"])
                     if family == "random_features" else
                     TwoLayer(X, spec["width"], spec["activation"], spec.get("seed", 0), spec["train"],
                              spec.get("init", "standard")))
        elif family == "mlp":
            from plproof.verify.mlp import MLPFamily

            if "seed" in spec or "init" in spec:
                raise Failure("inputs.model: an MLP's weights are all parameters (in w0): no seed or init")
            model = MLPFamily(X, list(spec["widths"]), spec["activation"], w0)
        elif family == "graph":
            from plproof.verify.graph import GraphFamily

            model = GraphFamily(spec, X, w0)
        elif family == "sympy":
            from plproof.verify.expr import ExprFamily

            model = ExprFamily(spec, X=X)
    except KeyError as exc:
        raise Failure(f"inputs.model lacks {exc.args[0]!r}, needed to rebuild a {family} model") from None
    except (TypeError, ValueError) as exc:
        raise Failure(f"inputs.model cannot be rebuilt: {str(exc)[:200]}") from None
    except ImportError as exc:
        raise Unverifiable(f"this verifier cannot rebuild {family} models ({exc})") from None
    fam = Family(spec, X, w0, model)
    sizes = (X.shape if family == "linear" else (model.n, model.m) if family in ("mlp", "sympy", "graph")
             else (model.n_outputs, model.n_params))
    if tuple(sizes) != (fam.n, fam.m):
        raise Failure(f"inputs.model states n = {fam.n}, m = {fam.m}, but the rebuilt model has {sizes}")
    if y.shape != (fam.n,) or w0.shape != (fam.m,):
        raise Failure(f"inputs: y has shape {list(y.shape)} and w0 {list(w0.shape)}, expected [{fam.n}] and [{fam.m}]")
    return fam, y, w0
