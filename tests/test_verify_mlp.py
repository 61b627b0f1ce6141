"""The verifier's own MLP bounds (plproof/verify/mlp.py, docs/rigor.md §2.3): the centre against 50-digit
mpmath, epsilon / delta / kappa against random and adversarial points of the ball, and against the producer."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from plproof.models.mlp import MLP
from plproof.numeric.arith import MPArith
from plproof.theory.mlp_bounds import mlp_ball_bounds, mlp_centre
from plproof.verify.exact import Failure
from plproof.verify.mlp import MLPFamily

DEPTHS = {1: [6], 2: [4, 5], 3: [3, 4, 4]}
CASES = [(d, a) for d in DEPTHS for a in ("tanh", "sigmoid")]
ALL = CASES + [(d, a) for d in DEPTHS for a in ("softplus", "sin")]
FD_STEP = 1e-5
SLACK = 1e-6  # relative; the finite-difference Hessians are accurate to ~1e-9


def setup(depth: int, activation: str, n: int = 4) -> tuple[MLP, np.ndarray, np.ndarray, MLPFamily]:
    seed = 10 * depth + len(activation)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    X *= 1.5 / np.linalg.norm(X, axis=1, keepdims=True)
    model = MLP(X, DEPTHS[depth], activation, seed=seed)
    w0 = model.default_w0()
    return model, w0, rng.standard_normal(n), MLPFamily(X, DEPTHS[depth], activation, w0)


@pytest.mark.parametrize("depth,activation", ALL)
def test_centre_encloses_kernel_and_loss_at_50_digits(depth: int, activation: str) -> None:
    model, w0, y, fam = setup(depth, activation)
    assert (fam.n, fam.m) == (model.n_outputs, model.n_params)
    K, lo, hi, level = fam.centre(y)
    assert level == "verified" and K.radius < Fraction(1, 10**20) and 0 <= hi - lo < Fraction(1, 10**20)
    ar = MPArith(50)
    K_ref, F_ref = model.kernel(w0, ar), model.F(w0, ar)
    with ar.active():
        mp = lambda q: mpmath.mpf(q.numerator) / q.denominator  # noqa: E731
        dist = mpmath.sqrt(sum((K_ref[i, j] - mp(K.mid[i][j])) ** 2 for i in range(fam.n) for j in range(fam.n)))
        L0 = sum((F_ref - y) ** 2) / 2
        assert dist <= mp(K.radius) + mpmath.mpf(10) ** -40
        assert mp(lo) - mpmath.mpf(10) ** -40 <= L0 <= mp(hi) + mpmath.mpf(10) ** -40


# ------------------------------------------------------------------ Hessians and ascent (float64, finite differences)
def hessians(model: MLP, w: np.ndarray) -> np.ndarray:
    """Per-output Hessians, n x P x P, by central differences of the closed-form Jacobian."""
    H = np.empty((model.n_outputs, w.size, w.size))
    for i in range(w.size):
        e = np.zeros(w.size)
        e[i] = FD_STEP
        H[:, :, i] = (model.jacobian(w + e) - model.jacobian(w - e)) / (2 * FD_STEP)
    return (H + H.transpose(0, 2, 1)) / 2


def top(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvalue of largest modulus, unit eigenvector) of each symmetric matrix of a stack."""
    ev, V = np.linalg.eigh(H)
    i = np.argmax(np.abs(ev), axis=-1)
    return np.take_along_axis(ev, i[..., None], -1)[..., 0], np.take_along_axis(V, i[..., None, None], -1)[..., 0]


def curvature(H: np.ndarray, kind: str) -> tuple[float, np.ndarray, np.ndarray]:
    """(value, r, u) with value = |u^T (sum_k r_k H_k) u|, a lower bound on ``eps`` = max_k ||H_k|| (r = e_k,
    exact) or on ``kappa`` = sup_{|r| = 1} ||sum_k r_k H_k|| (the best r for each top eigenvector u of an H_k,
    then u <- top eigenvector of sum r_k H_k, r <- (u^T H_k u)_k normalised, twice)."""
    lams, us = top(H)
    if kind == "eps":
        k = int(np.argmax(np.abs(lams)))
        return abs(lams[k]), np.sign(lams[k]) * np.eye(len(H))[k], us[k]
    q = np.einsum("ai,kij,aj->ak", us, H, us)  # q[a, k] = u_a^T H_k u_a
    u = us[int(np.argmax(np.linalg.norm(q, axis=1)))]
    for step in range(3):
        q = np.einsum("i,kij,j->k", u, H, u)
        r = q / np.linalg.norm(q)
        if step < 2:
            u = top(np.einsum("k,kij->ij", r, H))[1]
    return float(np.linalg.norm(q)), r, u


def project(w: np.ndarray, w0: np.ndarray, R: float) -> np.ndarray:
    d = w - w0
    return w if np.linalg.norm(d) <= R else w0 + d * (R / np.linalg.norm(d))


def ascend(model: MLP, w0: np.ndarray, R: float, w: np.ndarray, kind: str, steps: int = 5) -> float:
    """Projected ascent from w on ``eps``/``kappa`` (gradient of u^T H_r u: third difference of J^T r along u)
    or ``delta`` = ||DF(w) - DF(w0)||_2 (gradient of a^T DF b: sum_k a_k H_k b); the best value seen."""
    J0, best, t = model.jacobian(w0), 0.0, 1e-3
    for _ in range(steps + 1):
        if kind == "delta":
            U, s, Vt = np.linalg.svd(model.jacobian(w) - J0)
            value, a, b = s[0], U[:, 0], Vt[0]
            g = (a @ model.jacobian(w + FD_STEP * b) - a @ model.jacobian(w - FD_STEP * b)) / (2 * FD_STEP)
        else:
            value, r, u = curvature(hessians(model, w), kind)
            g = sum(r @ model.jacobian(w + s * t * u) * c for s, c in ((1, 1), (0, -2), (-1, 1))) / t**2
        best = max(best, value)
        w = project(w + (R / 3) * g / max(np.linalg.norm(g), 1e-300), w0, R)
    return best


def structured(n: int) -> np.ndarray:
    """Inputs of norm 1.5 in R^3: two nearly parallel, then coordinate directions (a badly conditioned X)."""
    X = np.array([[1.0, 0, 0], [1.0, 0.1, 0], [0, 1.0, 0], [0, 0, 1.0], [0.6, 0.8, 0]])[:n]
    return X * (1.5 / np.linalg.norm(X, axis=1, keepdims=True))


@pytest.mark.parametrize("R", [0.3, 2.0])
@pytest.mark.parametrize("data", ["random", "structured"])
@pytest.mark.parametrize("depth,activation", [c for c in ALL if c[0] == 2]
                         + [pytest.param(*c, marks=pytest.mark.slow) for c in ALL if c[0] == 3])  # depth 3: ~20 s
def test_ball_bounds_hold_at_random_and_adversarial_points(depth: int, activation: str, data: str, R: float) -> None:
    """Ours and the producer's epsilon, delta, kappa (rho = 1: the joint bound nu of M9) against the best of 40
    random points and projected ascent; bound / found is printed and stays below 200 (measured <= 125)."""
    model, w0, _, fam = setup(depth, activation)
    if data == "structured":
        model = MLP(structured(fam.n), DEPTHS[depth], activation, seed=model.seed)
        fam = MLPFamily(model.X, DEPTHS[depth], activation, w0)
    Rq = Fraction(R)
    prod = mlp_ball_bounds(model, w0, R)
    bound = {"eps": float(fam.epsilon(Rq)), "delta": float(fam.delta(Rq)),
             "kappa": float(fam.kappa(Rq, Fraction(1)))}
    producer = {"eps": prod.epsilon, "delta": prod.delta, "kappa": prod.nu}
    rng = np.random.default_rng(depth)
    J0 = model.jacobian(w0)
    found = dict.fromkeys(bound, 0.0)
    points = []
    for i in range(40):
        d = rng.standard_normal(w0.size)
        w = w0 + d * (R / np.linalg.norm(d)) * (1.0 if i % 2 else rng.uniform())
        H = hessians(model, w)
        values = {"eps": curvature(H, "eps")[0], "kappa": curvature(H, "kappa")[0],
                  "delta": np.linalg.norm(model.jacobian(w) - J0, 2)}
        points.append((values["eps"], w))
        found = {key: max(found[key], values[key]) for key in found}
    starts = [w for _, w in sorted(points, key=lambda p: -p[0])[:2]]
    for kind in found:
        found[kind] = max([found[kind]] + [ascend(model, w0, R, w, kind) for w in starts])
    print(f"depth {depth} {activation} {data} R={R}: bound / found",
          ", ".join(f"{k} {bound[k] / found[k]:.2f}" for k in found))
    for kind in found:
        assert 0 < found[kind] <= bound[kind] * (1 + SLACK) <= producer[kind] * (1 + 1e-9) * (1 + SLACK), kind
        assert bound[kind] < 200 * found[kind], kind


@pytest.mark.parametrize("depth,activation", ALL)
def test_agrees_with_the_producer(depth: int, activation: str) -> None:
    """Ours = mlp_ball_bounds up to rounding for epsilon (the same M1-M6), and never above it for delta
    and kappa (ours: min of M9 and M7; the producer's curvature is rho nu); delta <= R nu << R ||eps||."""
    model, w0, _, fam = setup(depth, activation)
    centre = mlp_centre(model, w0)
    assert fam.delta(Fraction(0)) == 0 and fam.epsilon(Fraction(0)) > 0
    previous = Fraction(0)
    for R in (0.1, 0.5, 2.0):
        prod = mlp_ball_bounds(model, w0, R, centre)
        Rq = Fraction(R)
        ours = [float(fam.epsilon(Rq)), float(fam.delta(Rq)), float(fam.kappa(Rq, Fraction(1)))]
        theirs = [prod.epsilon, prod.delta, prod.nu]
        ratios = [a / b for a, b in zip(ours, theirs)]
        eps_norm = np.linalg.norm(prod.epsilon_per_input)
        print(f"depth {depth} {activation} R={R}: ours / producer eps {ratios[0]:.9f} delta {ratios[1]:.9f} "
              f"kappa {ratios[2]:.9f}; delta / (R ||eps||) {prod.delta / (R * eps_norm):.3f}")
        assert all(r <= 1 + 1e-9 for r in ratios) and ratios[0] >= 1 - 1e-9
        assert prod.delta <= R * prod.nu * (1 + 1e-12) and prod.nu <= eps_norm * (1 + 1e-12)
        assert fam.epsilon(Fraction(R)) >= previous
        previous = fam.epsilon(Fraction(R))
    if depth >= 2:  # M9 and the Riemann sum act: well below the per-input R ||eps|| of M7
        assert prod.delta < 0.8 * R * np.linalg.norm(prod.epsilon_per_input)


def test_a_two_hidden_layer_ball_certificate_verifies(tmp_path) -> None:
    """MLP [64, 64]: certified by the ball route (not before M9: delta was R ||eps||) and re-checked by the verifier."""
    import plproof
    from plproof.certificate.build import from_evidence
    from plproof.certificate.format import write_certificate
    from plproof.data import uniform_targets, unit_inputs
    from plproof.verify import verify

    problem = plproof.Problem(MLP(unit_inputs(3, 2, seed=1), [64, 64], "tanh", seed=2, init="symmetric"),
                              uniform_targets(3, 0.001, 2))
    ev = plproof.check(problem, confirm=False)
    assert ev.certified, ev.reason
    write_certificate(from_evidence(ev, problem), tmp_path / "mlp.json")
    result = verify(tmp_path / "mlp.json")
    assert result.valid, result.reason


def test_rejects_what_it_cannot_check() -> None:
    model, w0, _, _ = setup(1, "tanh")
    for act in ("relu", "gelu", "swish"):
        with pytest.raises(Failure):
            MLPFamily(model.X, [6], act, w0)
    with pytest.raises(Failure):
        MLPFamily(model.X, [6], "tanh", w0[:-1])
    with pytest.raises(Failure):
        MLPFamily(model.X, [0], "tanh", w0)
    fam = MLPFamily(model.X, [6], "tanh", w0)
    with pytest.raises(Failure):
        fam.epsilon(Fraction(-1))
    huge = [fam.epsilon(Fraction(10) ** k) for k in (6, 30)]  # no float overflow in the Perron vector
    assert 0 < huge[0] < huge[1]
    with pytest.raises(Failure):
        fam.centre(np.zeros(fam.n + 1))


def test_module_imports_no_producer_code() -> None:
    """plproof.verify.mlp and what it imports load no plproof.models/theory/numeric module (the package
    __init__ is bypassed so that only this module's own imports are measured)."""
    code = ("import sys, types, plproof; pkg = types.ModuleType('plproof.verify'); "
            "pkg.__path__ = [plproof.__path__[0] + '/verify']; sys.modules['plproof.verify'] = pkg; "
            "import plproof.verify.mlp; "
            "print(sorted(m for m in sys.modules if m.startswith(('plproof.models', 'plproof.theory', "
            "'plproof.numeric'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
