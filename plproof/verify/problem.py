"""Re-check a ``problem`` certificate from its stored inputs (docs/theory.md §2.5, §4.1, §7, §8, §11).

1. Rebuild the model from its family and parameters; recompute K(w0) and L0 = 1/2 ||F(w0) - y||^2,
   exactly (rationals) for linear models, in mpmath interval arithmetic otherwise.
2. Centre claims: lambda_min(K(w0)) > hint shift s (positive-definiteness test of K - sI),
   ||DF(w0)||, ||r0||, L0 inside their stated enclosures.
3. Ball claims at the stated R, by the verifier's own evaluation of the formulas the certificate
   names: constant kernel (§7: epsilon = delta = 0), §8 + §4.1, or T1-T3 (§11.3-§11.4):
   mu <= (sqrt(lambda0) - delta)_+^2, L_F >= ||DF(w0)|| + delta, beta >= L_F^2 + kappa(R, ||r0||).
4. The theorem (§2.5 / T4 of §11.5) with the certificate's own numbers, in exact rationals:
   mu > 0, 0 < beta eta < 2, R >= R_fl = 2 sqrt(2 L0/mu)/(2 - beta eta) (squared, no roots), and the
   rate 1 - eta mu (2 - beta eta); the reported radii R_fl, R_v1, R_v2, R_existence are upper bounds.
5. Every claim's rigor is at most what this re-check reaches; the recorded GD run agrees with the claim.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np

from plproof.certificate.format import RIGOR_LEVELS, DataMismatch, decode_array, decode_number
from plproof.models import MLP, Linear, RandomFeatures, TwoLayer
from plproof.models.base import Model
from plproof.verify.exact import (
    Failure,
    IntervalNamespace,
    MatrixEnclosure,
    exact_matrix,
    iv_bounds,
    iv_matrix,
    pd_rigor,
    sqrt_hi,
    sqrt_lo,
)

#: activations whose formulas evaluate rigorously in mpmath.iv (no constants rounded at mp precision)
INTERVAL_SAFE = ("tanh", "sigmoid", "sin", "softplus")
#: tolerance for the recorded (floating-point) GD run against the claimed rate and radius
RUN_TOLERANCE = 1e-9


class Claims:
    """The certificate's quantities as exact rationals, with the checks recorded as they pass."""

    def __init__(self, evidence: dict, checked: list[str]) -> None:
        self.q = evidence["quantities"]
        self.checked = checked
        self.used: set[str] = set()

    def has(self, name: str) -> bool:
        return name in self.q

    def _bound(self, name: str, side: str) -> Fraction:
        if name not in self.q:
            raise Failure(f"the certificate does not state {name}, which the theorem needs")
        self.used.add(name)
        value = decode_number(self.q[name][side])
        if isinstance(value, float):  # an infinite bound
            raise Failure(f"{name} has no finite {'upper' if side == 'hi' else 'lower'} bound")
        return value

    def lo(self, name: str) -> Fraction:
        return self._bound(name, "lo")

    def hi(self, name: str) -> Fraction:
        return self._bound(name, "hi")

    def rigor(self, name: str) -> int:
        return RIGOR_LEVELS.index(self.q[name]["rigor"])

    def confirm(self, name: str, ok: bool, what: str, reached: str) -> None:
        """Record that ``name`` satisfies ``what``; fail if not, or if it claims more rigor than ``reached``."""
        if not ok:
            raise Failure(f"{name}: {what} does not hold")
        if self.rigor(name) > RIGOR_LEVELS.index(reached):
            raise Failure(f"{name}: claimed rigor {self.q[name]['rigor']!r} but the re-check only reaches {reached!r}")
        self.checked.append(f"{name}: {what} ({reached})")


def _f(x: Fraction) -> str:
    return f"{float(x):.10g}"


# ---------------------------------------------------------------- 1. rebuild
def rebuild(inputs: dict, base: Path | None) -> tuple[Model, np.ndarray, np.ndarray]:
    """The model, y and w0 from the stored family and parameters (data files checked by sha256)."""
    spec = inputs["model"]
    family = spec["family"]
    try:
        X = decode_array(spec["X"], base) if "X" in spec else None
        if family == "linear":
            model: Model = Linear(X)
        elif family == "random_features":
            model = RandomFeatures(X, spec["width"], spec["activation"], spec["seed"], spec.get("init", "standard"))
        elif family == "two_layer":
            model = TwoLayer(X, spec["width"], spec["activation"], spec["seed"], spec.get("train", "both"),
                             spec.get("init", "standard"))
        elif family == "mlp":
            model = MLP(X, spec["widths"], spec["activation"], spec["seed"], spec.get("init", "standard"))
        else:
            raise Failure(f"model family {family!r} cannot be rebuilt by the verifier "
                          "(supported: linear, random_features, two_layer, mlp)")
    except DataMismatch as exc:
        raise Failure(f"inputs: {exc}") from None
    except KeyError as exc:
        raise Failure(f"inputs.model lacks {exc.args[0]!r}, needed to rebuild a {family} model") from None
    except (TypeError, ValueError) as exc:
        raise Failure(f"inputs.model cannot be rebuilt: {exc}") from None
    for key, value in (("n_outputs", model.n_outputs), ("n_params", model.n_params)):
        if key in spec and spec[key] != value:
            raise Failure(f"inputs.model.{key} = {spec[key]} but the rebuilt model has {value}")
    try:
        y, w0 = decode_array(inputs["y"], base), decode_array(inputs["w0"], base)
    except DataMismatch as exc:
        raise Failure(f"inputs: {exc}") from None
    if y.shape != (model.n_outputs,) or w0.shape != (model.n_params,):
        raise Failure(f"inputs: y has shape {list(y.shape)} and w0 {list(w0.shape)}, "
                      f"expected [{model.n_outputs}] and [{model.n_params}]")
    return model, y, w0


# ---------------------------------------------------------------- 2. centre
def _rationals(a: np.ndarray) -> np.ndarray:
    return np.array([Fraction(v) for v in a.ravel()], dtype=object).reshape(a.shape)


def centre(model: Model, y: np.ndarray, w0: np.ndarray) -> tuple[MatrixEnclosure, Fraction, Fraction, str]:
    """K(w0) enclosure, L0 in [lo, hi], and the rigor reached: exact for linear models, else verified."""
    if isinstance(model, Linear):
        X = _rationals(model.X)
        r = X @ _rationals(w0) - _rationals(y)
        L0 = sum(v * v for v in r) / 2
        return exact_matrix(X @ X.T), L0, L0, pd_rigor(model.n_outputs)
    if isinstance(model, (TwoLayer, MLP)) and model.activation.name not in INTERVAL_SAFE:
        raise Failure(f"activation {model.activation.name!r} is not re-checked in interval arithmetic "
                      f"(supported: {', '.join(INTERVAL_SAFE)})")
    ns = IntervalNamespace(30)
    with ns.active():
        K = model.kernel(w0, ns)
        r = model.F(w0, ns) - ns.asarray(y)
        L0 = (r @ r) / 2
        return iv_matrix(K), *iv_bounds(L0), "verified"


def check_centre(claims: Claims, hints: dict, K: MatrixEnclosure, L0_lo: Fraction, L0_hi: Fraction,
                 level: str) -> Fraction:
    """The claims at w0; returns the verified lower bound on lambda_min(K(w0))."""
    shift = decode_number(hints["lambda0_shift"]) if "lambda0_shift" in hints else claims.lo("lambda0")
    if isinstance(shift, float) or not K.lambda_min_above(shift):
        raise Failure(f"lambda0: K(w0) - s I is not positive definite for the stated shift s = {float(shift):.10g}")
    claims.checked.append(f"lambda_min(K(w0)) > s = {_f(shift)} (positive-definiteness test, {level})")
    if claims.lo("lambda0") > shift and K.lambda_min_above(claims.lo("lambda0")):
        shift = claims.lo("lambda0")  # e.g. a shift rounded to a float just below the stated exact bound
    claims.confirm("lambda0", claims.lo("lambda0") <= shift and K.lambda_min_below(claims.hi("lambda0")),
                   f"{_f(claims.lo('lambda0'))} <= lambda_min(K(w0)) <= {_f(claims.hi('lambda0'))}", level)
    if claims.has("jacobian_norm_w0"):
        lo, hi = claims.lo("jacobian_norm_w0"), claims.hi("jacobian_norm_w0")
        claims.confirm("jacobian_norm_w0", K.lambda_max_below(hi * hi) and (lo <= 0 or K.lambda_max_above(lo * lo)),
                       f"{_f(lo)} <= ||DF(w0)||_2 <= {_f(hi)}", level)
    claims.confirm("L0", claims.lo("L0") <= L0_lo and L0_hi <= claims.hi("L0"),
                   f"L0 = 1/2 ||F(w0) - y||^2 in [{_f(claims.lo('L0'))}, {_f(claims.hi('L0'))}]", level)
    if claims.has("residual_norm_w0"):
        lo, hi = claims.lo("residual_norm_w0"), claims.hi("residual_norm_w0")
        claims.confirm("residual_norm_w0", (lo <= 0 or lo * lo <= 2 * L0_lo) and hi >= 0 and hi * hi >= 2 * L0_hi,
                       f"||F(w0) - y|| in [{_f(lo)}, {_f(hi)}]", level)
    return shift


# ---------------------------------------------------------------- 3. ball bounds
class BallFormulas:
    """Upper bounds over B(w0, R) recomputed from the model: delta, epsilon and kappa(rho) (docs/theory.md §4.1, §8, §11)."""

    def __init__(self, model: Model, w0: np.ndarray, hints: dict, checked: list[str]) -> None:
        self.n = model.n_outputs
        name = f"{hints.get('bounds', '')} {hints.get('reference', '')}"
        constant = isinstance(model, Linear) or (isinstance(model, TwoLayer) and model.train == "output")
        self.kind = "constant" if constant else ("tight" if "§11" in name else "theory" if "§8" in name else "")
        if self.kind == "constant":
            if "§7" not in name:
                raise Failure(f"the certificate's ball bounds {name.strip()!r} are not the constant-kernel bounds "
                              "(docs/theory.md §7) of this linear-in-w model")
            checked.append("ball bounds: F is linear in w, so every Hessian is 0 and K is constant (docs/theory.md §7)")
            return
        if not self.kind:
            raise Failure(f"unknown ball-bound formulas {name.strip()!r}: expected docs/theory.md §8 or §11")
        assert isinstance(model, TwoLayer)
        act = model.activation
        if not act.smooth or act.S1 is None or act.S2 is None:
            raise Failure(f"activation {act.name!r} has no finite S1, S2: no Hessian bound (docs/theory.md §9)")
        self.train = model.train
        self.s = 1 / sqrt_lo(Fraction(model.width))
        self.S1, self.S2 = Fraction(act.S1), Fraction(act.S2)
        _, v0 = model.split(np.asarray(w0, dtype=float))
        self.v_inf = max(abs(Fraction(v)) for v in v0)
        X = _rationals(model.X)
        self.x_max = max(sqrt_hi(sum(v * v for v in row)) for row in X)
        gram = exact_matrix(X @ X.T)
        t = decode_number(hints["X_norm"]) if "X_norm" in hints else None
        if t is not None and not isinstance(t, float) and gram.lambda_max_below(t * t):
            self.X_norm = t
            checked.append(f"||X||_2 < {_f(t)} (positive-definiteness test of t^2 I - X X^T)")
        else:
            self.X_norm = sqrt_hi(sum(v * v for v in X.ravel()))
            checked.append(f"||X||_2 <= ||X||_F <= {_f(self.X_norm)} (the stated X_norm is not proved)")
        self.sqrt_n = sqrt_hi(Fraction(self.n))
        checked.append(f"ball bounds: {self.kind} formulas of docs/theory.md "
                       f"{'§11.3-§11.4 (T1-T3)' if self.kind == 'tight' else '§8 and §4.1'}")

    def V(self, R: Fraction) -> Fraction:
        return self.v_inf + (R if self.train == "both" else 0)

    def epsilon(self, R: Fraction) -> Fraction:
        """max_k sup_B ||Hess f_k|| (docs/theory.md §8, per-neuron formula)."""
        if self.kind == "constant":
            return Fraction(0)
        a = self.V(R) * self.S2 * self.x_max ** 2
        if self.train == "hidden":
            return self.s * a
        return self.s * (a + sqrt_hi(a * a + 4 * self.S1 ** 2 * self.x_max ** 2)) / 2

    def delta(self, R: Fraction) -> Fraction:
        """sup_B ||DF(w) - DF(w0)||: T1 (§11.3) or sqrt(n) epsilon R (§4.1)."""
        if self.kind == "constant":
            return Fraction(0)
        if self.kind == "theory":
            return self.sqrt_n * self.epsilon(R) * R
        c = self.S2 * self.v_inf * self.x_max
        sig = c if self.train == "hidden" else (c + sqrt_hi(c * c + 4 * self.S1 ** 2)) / 2
        return self.s * self.X_norm * sig * R

    def kappa(self, R: Fraction, rho: Fraction) -> Fraction:
        """sup ||sum_k r_k Hess f_k|| over B and ||r|| <= rho: T3 (§11.4) or sqrt(n) rho epsilon (§4.1)."""
        if self.kind == "constant":
            return Fraction(0)
        if self.kind == "theory":
            return self.sqrt_n * rho * self.epsilon(R)
        alpha = self.V(R) * self.S2 * rho * min(self.X_norm ** 2, self.sqrt_n * self.x_max ** 2)
        if self.train == "hidden":
            return self.s * alpha
        gamma = self.S1 * self.X_norm * rho
        return self.s * (alpha + sqrt_hi(alpha * alpha + 4 * gamma * gamma)) / 2


def check_ball(claims: Claims, ball: BallFormulas, K: MatrixEnclosure, lambda0: Fraction, mu_scale: int,
               level: str) -> None:
    """The ball claims at the stated radius R, against the verifier's own evaluation of the formulas."""
    R = claims.hi("R")
    delta = ball.delta(R)
    mu = lambda0 if delta == 0 else max(sqrt_lo(lambda0) - delta, Fraction(0)) ** 2
    L_F = claims.hi("jacobian_norm_w0") + delta
    rho = claims.hi("residual_norm_w0")
    beta = L_F * L_F + ball.kappa(R, rho)
    for name, claimed, bound, what in (
            ("delta", claims.hi("delta") if claims.has("delta") else None, delta, "sup_B ||DF(w) - DF(w0)||"),
            ("epsilon", claims.hi("epsilon") if claims.has("epsilon") else None, ball.epsilon(R),
             "max_k sup_B ||Hess f_k||"),
            ("L_F", claims.hi("L_F"), L_F, "sup_B ||DF(w)||"),
            ("beta", claims.hi("beta"), beta, "sup ||Hess L|| on B ∩ {L <= L0}")):
        if claimed is None:
            continue
        if ball.kind == "constant" and name in ("L_F", "beta"):  # ||DF||^2 = ||Hess L|| = lambda_max(K) (§7)
            square = claimed * claimed if name == "L_F" else claimed
            claims.confirm(name, claimed >= 0 and K.lambda_max_below(square),
                           f"{what} < {_f(claimed)} (lambda_max(K) test)", level)
        else:
            claims.confirm(name, claimed >= bound, f"{what} <= {_f(claimed)} (recomputed {_f(bound)})", level)
    mu_claim = claims.lo("mu") / mu_scale
    claims.confirm("mu", mu_claim <= mu, f"lambda_min(K(w)) >= mu = {_f(mu_claim)} on B(w0, R) "
                                         f"(recomputed (sqrt(lambda0) - delta)_+^2 = {_f(mu)})", level)
    if claims.has("beta_ball"):
        beta_ball = L_F * L_F + ball.kappa(R, rho + L_F * R)
        claims.confirm("beta_ball", claims.hi("beta_ball") >= beta_ball,
                       f"sup_B ||Hess L|| <= {_f(claims.hi('beta_ball'))} (recomputed {_f(beta_ball)})", level)


# ---------------------------------------------------------------- 4. the theorem
def check_theorem(claims: Claims, mu_scale: int, level: str) -> None:
    """docs/theory.md §2.5 / §11.5 (T4) with the stated numbers, each inequality in exact rationals."""
    mu, beta, L0, R = claims.lo("mu") / mu_scale, claims.hi("beta"), claims.hi("L0"), claims.lo("R")
    eta = claims.lo("step")
    if eta != claims.hi("step"):
        raise Failure("step: the GD step must be one number (lo = hi)")
    gap = 2 - beta * eta  # 2 - beta eta
    for ok, what in ((mu > 0, "mu > 0"), (eta > 0 and gap > 0, "0 < beta eta < 2"),
                     (R >= 0 and R * R * gap * gap * mu >= 8 * L0, "R >= R_fl = 2 sqrt(2 L0/mu)/(2 - beta eta)")):
        if not ok:
            raise Failure(f"theorem (docs/theory.md §2.5): {what} does not hold with the stated numbers")
        claims.checked.append(f"theorem (docs/theory.md §2.5): {what} (exact rationals)")
    rate = 1 - eta * mu * gap
    claims.confirm("rate", claims.hi("rate") >= rate, f"L_t <= rate^t L0 with rate = {_f(claims.hi('rate'))} "
                                                      f">= 1 - eta mu (2 - beta eta) = {_f(rate)}", level)
    radii = {"R_fl": gap * gap * mu, "R_existence": mu}  # radius^2 * factor >= numerator
    numer = {"R_fl": 8 * L0, "R_existence": 2 * L0}
    if claims.has("R_v1"):
        radii["R_v1"], numer["R_v1"] = mu * mu, 8 * claims.hi("beta_ball" if claims.has("beta_ball") else "beta") * L0
    if claims.has("R_v2"):
        radii["R_v2"], numer["R_v2"] = mu * mu, 8 * claims.hi("L_F") ** 2 * L0
    for name, factor in radii.items():
        if claims.has(name):
            r = claims.hi(name)
            claims.confirm(name, r >= 0 and r * r * factor >= numer[name], f"radius formula <= {_f(r)}", level)


def check_run(evidence: dict, claims: Claims, mu_scale: int) -> None:
    """The recorded GD run agrees with the claim: L_t <= rate^t L0 and ||w_t - w0|| <= R (float record)."""
    traj = evidence.get("trajectory")
    if not traj:
        return
    try:
        losses = [float(v) for v in traj["losses"]]
        dists = [float(v) for v in traj["distances"]]
        lams = [float(v) for v in traj.get("lambda_mins", [])]
    except (TypeError, ValueError):
        raise Failure("trajectory: recorded values are not numbers") from None
    if not all(map(math.isfinite, losses + dists + lams)):
        raise Failure("trajectory: the recorded GD run has non-finite values, contradicting convergence")
    rate, L0, R = float(claims.hi("rate")), float(claims.hi("L0")), float(claims.hi("R"))
    for t, loss in enumerate(losses):
        if loss > L0 * rate**t * (1 + RUN_TOLERANCE) + 1e-20 * max(1.0, L0):
            raise Failure(f"trajectory: L_{t} = {loss:.6e} exceeds the claimed bound {L0 * rate**t:.6e}")
    for t, dist in enumerate(dists):
        if dist > R * (1 + RUN_TOLERANCE):
            raise Failure(f"trajectory: ||w_{t} - w0|| = {dist:.6e} leaves the ball of radius {R:.6e}")
    mu = float(claims.lo("mu")) / mu_scale
    for lam in lams:
        if lam < mu * (1 - 1e-6):
            raise Failure(f"trajectory: lambda_min(K(w_t)) = {lam:.6e} is below the claimed mu = {mu:.6e}")
    claims.checked.append(f"recorded GD run ({len(losses) - 1} steps) within the claimed rate and radius")


# ---------------------------------------------------------------- 5. consistency and the whole check
def check_consistency(cert: dict, evidence: dict, checked: list[str]) -> None:
    """Enclosures are ordered; hypothesis statuses agree with their margins; the overall rigor is the weakest."""
    for name, enc in evidence["quantities"].items():
        lo, hi = decode_number(enc["lo"]), decode_number(enc["hi"])
        if lo > hi:
            raise Failure(f"{name}: empty enclosure, lo = {float(lo):.10g} > hi = {float(hi):.10g}")
    for h in evidence["hypotheses"]:
        m = h.get("margin")
        if m is None:
            continue
        lo, hi = decode_number(m["lo"]), decode_number(m["hi"])
        if lo > hi or h["status"] == "held" and lo < 0 or h["status"] == "failed" and hi > 0:
            raise Failure(f"hypothesis {h['name']!r}: status {h['status']!r} contradicts its margin "
                          f"[{float(lo):.6g}, {float(hi):.6g}]")
    levels = [enc["rigor"] for enc in evidence["quantities"].values()]
    weakest = min(levels, key=RIGOR_LEVELS.index, default="exact")
    for where, level in (("certificate", cert["rigor"]), ("evidence", evidence.get("rigor", weakest))):
        if RIGOR_LEVELS.index(level) > RIGOR_LEVELS.index(weakest):
            raise Failure(f"{where} rigor {level!r} is stronger than its weakest part {weakest!r}")
    checked.append(f"enclosures ordered, hypothesis statuses match their margins, overall rigor {cert['rigor']!r}")


def check_obstruction(evidence: dict, model: Model, checked: list[str]) -> None:
    """A structural "not certifiable" verdict (m < n, non-smooth) must hold for the rebuilt model."""
    reason = evidence.get("reason", "")
    if evidence["verdict"] != "not certifiable":
        return
    if reason.startswith("under-parameterised"):
        if not model.n_params < model.n_outputs:
            raise Failure(f"claimed under-parameterised, but m = {model.n_params} >= n = {model.n_outputs}")
        checked.append(f"m = {model.n_params} < n = {model.n_outputs}: K is singular (docs/theory.md §5)")
    elif reason.startswith("non-smooth"):
        if model.is_smooth:
            raise Failure("claimed non-smooth, but the rebuilt model is smooth")
        checked.append("the model is not C^2 (docs/theory.md §9)")


def check_problem(cert: dict, base: Path | None, quick: bool, checked: list[str]) -> None:
    """Everything a ``problem`` certificate claims, re-derived from its inputs (raises Failure)."""
    evidence = cert["evidence"]
    check_consistency(cert, evidence, checked)
    model, y, w0 = rebuild(cert["inputs"], base)
    checked.append(f"rebuilt {model.family} model: n = {model.n_outputs}, m = {model.n_params}")
    claims = Claims(evidence, checked)
    mu_scale = 2 if cert["convention"] == "B" else 1  # convention B: mu = 2 lambda_min (docs/theory.md §1.4)
    if evidence["verdict"] != "certified":
        check_obstruction(evidence, model, checked)
        if claims.has("lambda0"):
            check_centre(claims, evidence["hints"], *centre(model, y, w0))
        checked.append(f"verdict {evidence['verdict']!r}: the theorem is not claimed, only the stated values re-checked")
        return
    K, L0_lo, L0_hi, level = centre(model, y, w0)
    lambda0 = check_centre(claims, evidence["hints"], K, L0_lo, L0_hi, level)
    check_ball(claims, BallFormulas(model, w0, evidence["hints"], checked), K, lambda0, mu_scale, level)
    check_theorem(claims, mu_scale, level)
    check_run(evidence, claims, mu_scale)
    skipped = sorted(set(evidence["quantities"]) - claims.used)
    if skipped:
        checked.append(f"not used by the theorem, not re-checked: {', '.join(skipped)}")
