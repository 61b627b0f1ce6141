"""The generic run recipe (docs/rigor.md §10): midpoint-radius enclosures, certification and re-checks."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from plproof.certificate.build import run_certificate
from plproof.certificate.format import seal
from plproof.evidence import Verdict
from plproof.models import MLP, Linear, TwoLayer
from plproof.models.two_layer import RandomFeatures
from plproof.problem import Problem
from plproof.routes.trajectory.certify import certify_run, default_step
from plproof.routes.trajectory.generic import RECIPE
from plproof.verify import check
from plproof.verify import midrad as mr


def _data(n: int = 6, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1)[:, None], rng.standard_normal(n)


def _valid(cert: dict) -> bool:
    return check(seal(cert), None).valid


# ---------------------------------------------------------------- enclosures against mpmath
FUNCS = {"tanh": (mr.mr_tanh, mpmath.tanh), "exp": (mr.mr_exp, mpmath.exp), "log1p": (mr.mr_log1p, mpmath.log1p),
         "sin": (mr.mr_sin, mpmath.sin), "cos": (mr.mr_cos, mpmath.cos), "erf": (mr.mr_erf, mpmath.erf),
         "sqrt": (mr.mr_sqrt, mpmath.sqrt)}


def _contains(x: mr.MR, exact: list) -> bool:
    with mpmath.workdps(40):
        return all(abs(mpmath.mpf(float(m)) - v) <= mpmath.mpf(float(r))
                   for m, r, v in zip(x.mid.ravel(), mr.radius(x).ravel(), exact))


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_elementwise_enclosures_contain_mpmath(name: str) -> None:
    rng = np.random.default_rng(1)
    mid = rng.uniform(0.01, 6, 400) if name in ("log1p", "sqrt") else rng.uniform(-6, 6, 400)
    rad = rng.uniform(0, 1e-9, 400)
    lo = mid - rad  # an exact point of each ball: mid - rad (rounded: still within rad up to 1 ulp)
    f, g = FUNCS[name]
    x = f(mr.MR(mid, rad))
    with mpmath.workdps(40):
        pts = [g(mpmath.mpf(float(v))) for v in lo] + [g(mpmath.mpf(float(v))) for v in mid]
    both = mr.MR(np.concatenate([x.mid, x.mid]), np.concatenate([x.rad, x.rad]))
    assert _contains(both, pts)


def test_libm_within_the_stated_four_ulp() -> None:
    """The libm assumption of docs/rigor.md §10, measured: every function within 4 ulp of mpmath (tanh is not
    assumed: plproof/verify/tanh.py bounds it, tests/test_run.py)."""
    z = np.random.default_rng(2).uniform(-8, 8, 3000)
    for name, (f, g) in FUNCS.items():
        if name == "tanh":
            continue
        pts = np.abs(z) if name in ("log1p", "sqrt") else z
        out = f(mr.MR(pts)).mid
        with mpmath.workdps(40):
            worst = max(abs(mpmath.mpf(float(o)) - g(mpmath.mpf(float(p)))) / math.ulp(max(abs(float(o)), 2.0**-1000))
                        for o, p in zip(out, pts))
        assert worst <= 4, (name, float(worst))


def test_arithmetic_and_matmul_enclose_exact_results() -> None:
    rng = np.random.default_rng(3)
    A, B = mr.MR(rng.standard_normal((5, 7)), rng.uniform(0, 1e-12, (5, 7))), mr.MR(rng.standard_normal(7))
    exact = [sum(mpmath.mpf(float(a)) * mpmath.mpf(float(b)) for a, b in zip(row, B.mid)) for row in A.mid]
    assert _contains(A @ B, exact)
    a, b = mr.MR(rng.standard_normal(50)), mr.MR(rng.uniform(1, 2, 50))
    with mpmath.workdps(40):
        for got, op in ((a / b, lambda p, q: p / q), (a * b - a, lambda p, q: p * q - p), (1 - a * a, None)):
            vals = [op(mpmath.mpf(float(p)), mpmath.mpf(float(q))) if op else 1 - mpmath.mpf(float(p)) ** 2
                    for p, q in zip(a.mid, b.mid)]
            assert _contains(got, vals)


def test_step_encloses_a_high_precision_gd_step() -> None:
    X, y = _data()
    model = TwoLayer(X, 16, "sigmoid", train="hidden")
    w, eta = model.default_w0(), 0.3
    w1, rho, res = mr.gd_step(model, w, y, eta)
    with mpmath.workdps(40):
        from plproof.numeric.arith import MPArith

        ns = MPArith(40)
        r = model.F(w, ns) - ns.asarray(y)
        exact = ns.asarray(w) - model.vjp(w, r, ns) * eta
        gap = mpmath.sqrt(sum((mpmath.mpf(float(a)) - b) ** 2 for a, b in zip(w1, exact)))
    assert gap <= rho and 0 < rho < 1e-12


# ---------------------------------------------------------------- certification and re-checks
CASES = {  # width where the run route closes (GD itself converges at every width here)
    "linear": lambda X, y: Problem(Linear(np.random.default_rng(5).standard_normal((6, 12))), y),
    "random-features": lambda X, y: Problem(RandomFeatures(X, 32, "sin"), y),
    "output-sigmoid": lambda X, y: Problem(TwoLayer(X, 32, "sigmoid", train="output"), y),
    # the sharp l_t (docs/rigor.md §10); the generic l_t needed width 1024 here (sin GD width not yet measured)
    "both-sin": lambda X, y: Problem(TwoLayer(X, 4, "sin"), y),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_certifies_and_verifies(name: str) -> None:
    X, y = _data()
    problem = CASES[name](X, y)
    ev = certify_run(problem)
    assert ev.verdict is Verdict.CERTIFIED, ev.reason
    assert ev.hints["recipe"] == RECIPE
    cert = run_certificate(ev, problem)
    assert _valid(cert)


SLOW_CASES = {
    "hidden-softplus": lambda X, y: Problem(TwoLayer(X, 1024, "softplus", train="hidden"), y),
    "hidden-tanh": lambda X, y: Problem(TwoLayer(X, 1024, "tanh", train="hidden"), y),
    "both-sigmoid": lambda X, y: Problem(TwoLayer(X, 4, "sigmoid"), y),  # GD reaches 1e-20 from width 2
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_CASES))
def test_certifies_and_verifies_slow(name: str) -> None:
    X, y = _data()
    problem = SLOW_CASES[name](X, y)
    ev = certify_run(problem)
    assert ev.verdict is Verdict.CERTIFIED, ev.reason
    assert _valid(run_certificate(ev, problem))


#: (activation, train) -> (width, step fraction) where the run route certifies on _data(), within 4x of the
#: power-of-two width where float GD reaches L <= 1e-20 within 4e5 steps (measured: docs/rigor.md §10), at that
#: fraction of eta = 1/lambda_max(K(w0)) (the width search's fallback where the default step's error amplification
#: is too large: tests/test_width.py); slow ones opt in with --runslow
NEAR_GD = {("tanh", "both"): (4, 1), ("tanh", "output"): (8, 1), ("gelu", "both"): (4, 0.25),
           ("gelu", "hidden"): (8, 0.5)}
NEAR_GD_SLOW = {("tanh", "hidden"): (16, 1), ("sigmoid", "both"): (4, 1), ("softplus", "both"): (4, 0.25)}


@pytest.mark.parametrize("activation,train,width,fraction",
                         [(a, t, m, f) for (a, t), (m, f) in NEAR_GD.items()]
                         + [pytest.param(a, t, m, f, marks=pytest.mark.slow) for (a, t), (m, f) in NEAR_GD_SLOW.items()])
def test_certifies_near_the_gd_width(activation: str, train: str, width: int, fraction: float) -> None:
    X, y = _data()
    problem = Problem(TwoLayer(X, width, activation, train=train), y)
    ev = certify_run(problem, step=default_step(problem) * fraction, precision="float64")
    assert ev.verdict is Verdict.CERTIFIED, ev.reason
    assert _valid(run_certificate(ev, problem))


@pytest.fixture(scope="module")
def certified() -> tuple[Problem, object, dict]:
    X, y = _data()
    problem = Problem(TwoLayer(X, 1024, "softplus", train="hidden"), y)
    ev = certify_run(problem)
    return problem, ev, run_certificate(ev, problem)


def _tampered(cert: dict, edit) -> dict:
    import copy

    from plproof.certificate.format import decode_array, encode_array

    out = copy.deepcopy(cert)
    run = out["inputs"]["run"]
    C = decode_array(run["checkpoints"], None).copy()
    run["checkpoints"] = encode_array(edit(C))
    return out


def test_corrupted_iterate_is_rejected(certified) -> None:
    _, _, cert = certified

    def bump(C: np.ndarray) -> np.ndarray:
        C[len(C) // 2] += 1e-3
        return C

    assert not _valid(_tampered(cert, bump))


def test_terminal_ball_too_small_is_rejected(certified) -> None:
    _, _, cert = certified
    import copy

    small = copy.deepcopy(cert)
    small["hints"]["R_T"] = small["hints"]["R_T"] / 10
    assert not _valid(small)


def test_wrong_recipe_name_is_rejected(certified) -> None:
    _, _, cert = certified
    import copy

    bad = copy.deepcopy(cert)
    bad["inputs"]["run"]["recipe"] = "some other recipe"
    assert not _valid(bad)


def test_zero_rho_does_not_reach_the_certificate(certified, monkeypatch) -> None:
    """A producer with rho_t = 0 states e_T = 0; the certificate's evidence is the verifier's own derivation,
    whose e_T comes from its own rho_t (> 0), so the zeroed radius never enters a certificate."""
    problem, _, _ = certified
    from plproof.routes.trajectory import generic

    real = generic.gd_step
    monkeypatch.setattr(generic, "gd_step", lambda *a: (lambda w1, rho, res: (w1, 0.0, res))(*real(*a)))
    sabotaged = certify_run(problem)
    assert sabotaged.quantities["e_T"].hi < 1e-300
    cert = run_certificate(sabotaged, problem)
    assert cert["evidence"]["quantities"]["e_T"]["hi"] > 1e-12


def test_step_above_two_over_beta_does_not_certify() -> None:
    X, y = _data()
    problem = Problem(TwoLayer(X, 32, "sigmoid", train="output"), y)
    ev = certify_run(problem, step=2.5 * default_step(problem), max_steps=500)
    assert ev.verdict is Verdict.NOT_CERTIFIED


def test_mlp_runs_through_the_generic_recipe() -> None:
    X, y = _data(4)
    ev = certify_run(Problem(MLP(X, [8, 8]), y), max_steps=64)
    assert ev.hints["recipe"] == RECIPE and ev.hints["bounds"] == "mlp"


# ---------------------------------------------------------------- the sharp l_t of two-layer nets (docs/rigor.md §10)
def _tube_case(activation: str, train: str):
    """A tiny net far from a minimiser (large residual, so S matters), a point w, its step and a tube radius."""
    from plproof.numeric.scalars import FLOATS

    X, y = _data(4, 2, seed=3)
    model = TwoLayer(X, 3, activation, seed=1, train=train)
    w = model.default_w0() + 0.3 * np.random.default_rng(4).standard_normal(model.n_params)
    eta, e = 1.0 / float(np.linalg.eigvalsh(model.kernel(w))[-1]), 0.05
    LF = (math.sqrt(float(np.linalg.eigvalsh(model.kernel(w))[-1])) * (1 + 1e-6)
          + float(model.ball_bounds(w, "tight").delta(FLOATS, e)) * 1.01)  # >= sup ||DF|| on B(w, e) (T1)
    return model, y, w, eta, e, LF


def _sampled_norm(model, y, w, eta: float, e: float, points: int = 24) -> float:
    """max ||I - eta Hess L|| at w and random points of B(w, e) (central-difference Hessians of the exact gradient)."""
    rng = np.random.default_rng(5)
    grad = lambda u: model.vjp(u, model.F(u) - y)  # noqa: E731
    worst, p = 0.0, model.n_params
    for j in range(points + 1):
        d = rng.standard_normal(p)
        u = w + (e * rng.uniform(0, 1) ** (1 / p) * d / np.linalg.norm(d) if j else 0)
        H = np.column_stack([(grad(u + 1e-6 * c) - grad(u - 1e-6 * c)) / 2e-6 for c in np.eye(p)])
        worst = max(worst, float(np.abs(np.linalg.eigvalsh(np.eye(p) - eta * (H + H.T) / 2)).max()))
    return worst


def _producer_ell(model, y, w, eta: float, e: float, LF: float, sabotage: bool = False) -> float:
    from plproof.routes.trajectory.error_bounds import contraction
    from plproof.routes.trajectory.generic import MidRadGD

    sharp = MidRadGD(model, y, w).sharp
    cv = sharp.curvature([sharp.at(w)])
    if sabotage:  # drop S altogether: l = max(1, eta LF^2 - 1), as if the Hessian were J^T J
        cv.g, cv.F, cv.qn, cv.qr, cv.Er = cv.g * 0, cv.F * 0, None, cv.qr * 0, cv.Er * 0
        return float(contraction(cv, sharp.tube, eta, np.zeros(1), np.array([LF]))[0])
    return float(contraction(cv, sharp.tube, eta, np.array([e]), np.array([LF]))[0])


def _verifier_ell(model, y, w, eta: float, e: float, LF: float) -> float:
    from plproof.verify.families import Family
    from plproof.verify.trajectory import _TwoLayerTube

    spec = {"family": "two_layer", "n_outputs": model.n_outputs, "n_params": model.n_params, "width": model.width,
            "activation": model.activation.name, "train": model.train}
    fam = Family(spec, model.X, w, model)
    tube = _TwoLayerTube(fam, fam.ball("two-layer-t1-t3", w, None, []), [])
    return tube.ell(model, y, w, eta, e, LF)


SHARP_GRID = [(a, t) for a in ("tanh", "sigmoid", "softplus", "sin", "gelu") for t in ("both", "hidden")]


@pytest.mark.parametrize("activation,train", SHARP_GRID)
def test_sharp_contraction_bounds_the_tube(activation: str, train: str) -> None:
    """l_t (producer and verifier) >= ||I - eta Hess L|| sampled over B(w, e); the sabotaged l_t without S
    (as if Hess L = J^T J) falls below the sampled value, so this test catches an l_t that is too small."""
    model, y, w, eta, e, LF = _tube_case(activation, train)
    sampled = _sampled_norm(model, y, w, eta, e)
    ell, ell_v = _producer_ell(model, y, w, eta, e, LF), _verifier_ell(model, y, w, eta, e, LF)
    assert sampled <= ell and sampled <= ell_v, (sampled, ell, ell_v)
    if train == "both":  # not vacuous ('hidden' on this tiny tube: within ~9x, docs/rigor.md §10)
        assert ell < 1 + 4 * (sampled - 1)
    assert _producer_ell(model, y, w, eta, e, LF, sabotage=True) < sampled



def test_a_run_whose_windows_contract_reports_a_negative_log_amplification() -> None:
    """Windows of step Jacobians (docs/rigor.md §10) can prove that a run contracts overall, log-amplification < 0
    (two-layer tanh, train='hidden', width 2 on _data() gets there after about 1e4 steps). Building its enclosure
    [0, negative] raised InvalidInput ("empty enclosure"), which the CLI reports as bad input; now a verdict."""
    from plproof.routes.trajectory.certify import RunRecord, _evidence, make_recipe

    X, y = _data()
    problem = Problem(TwoLayer(X, 2, "tanh", train="hidden"), y)
    rec = RunRecord(steps=9000, log_amplification=-0.25, stop="max_steps")
    ev = _evidence(problem, default_step(problem), rec, 100, make_recipe(problem))
    amp = ev.quantities["log_amplification"]
    assert amp.lo <= -0.25 <= amp.hi < 0
    assert ev.verdict is Verdict.NOT_CERTIFIED and "max_steps" in ev.reason


def test_a_subnormal_step_length_does_not_crash_the_block_planner() -> None:
    """softplus, train='hidden', width 2 at eta/4 (the width search's last fallback) on _data(): the steps shrink
    to subnormal lengths, and the driver's plan of the next block divided by the last one, int(inf) raised
    OverflowError (found by python -m benchmarks.run_families). Now the run goes on to its verdict."""
    X, y = _data()
    problem = Problem(TwoLayer(X, 2, "softplus", train="hidden"), y)
    ev = certify_run(problem, step=default_step(problem) / 4, max_steps=5_500)  # the crash came at ~5,400
    assert ev.verdict is Verdict.NOT_CERTIFIED and ev.hints["T"] > 0, ev.reason
