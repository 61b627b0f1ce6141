"""Certificates of seeded SGD runs (docs/theory.md §12.6): T6 step by step on the mini-batch iteration, the full
loss's terminal ball, the verifier's own regeneration of the batches, and sabotage."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from plproof.certificate.build import run_certificate
from plproof.certificate.format import decode_array, encode_array, seal
from plproof.data import uniform_targets, unit_inputs
from plproof.errors import InvalidInput, NotCertifiable
from plproof.evidence import Verdict
from plproof.models import MLP, TwoLayer
from plproof.problem import Problem
from plproof.routes.trajectory.certify import certify_run, default_sgd_step
from plproof.routes.trajectory.sampler import Sampler
from plproof.verify import check
from plproof.verify.midrad import batch_jacobian_upper, rows_of
from tests.test_run_generic import _sampled_norm

#: n = 12 unit inputs in d = 8, targets in +-0.1, symmetric init. Measured (docs/rigor.md §10, SGD): plain float
#: SGD at the default step 1/(s max_i K_ii) reaches L <= 1e-20 from width 2 for s = 1, 4, 6 (width 2 starts from a
#: singular K(w0)); the run route certifies s = 6 from width 4 and s = 1, 4 from width 8 (the slow test below).
N, D = 12, 8


def _problem(width: int) -> Problem:
    return Problem(TwoLayer(unit_inputs(N, D, seed=1), width, "tanh", seed=1, init="symmetric"),
                   uniform_targets(N, 0.1, seed=1))


def _valid(cert: dict) -> bool:
    return check(seal(cert), None).valid


CASES = [(1, "iid"), (4, "epochs"), (N // 2, "iid")]


@pytest.fixture(scope="module")
def certified() -> dict[tuple[int, str], tuple[Problem, object, dict]]:
    out = {}
    problem = _problem(16)
    for s, sampler in CASES:
        ev = certify_run(problem, method="sgd", batch_size=s, seed=7, sampler=sampler)
        out[s, sampler] = (problem, ev, run_certificate(ev, problem))
    return out


@pytest.mark.parametrize("s,sampler", CASES)
def test_batch_sizes_certify_and_verify(certified, s: int, sampler: str) -> None:
    problem, ev, cert = certified[s, sampler]
    assert ev.verdict is Verdict.CERTIFIED, ev.reason
    assert ev.hints["method"] == "sgd" and (ev.hints["sampler"], ev.hints["seed"], ev.hints["batch_size"]) == (
        sampler, 7, s)
    assert ev.hints["step"] == default_sgd_step(problem, s)
    assert cert["claim"]["theorem"] == "sgd-run/A" and cert["evidence"]["verdict"] == "certified"
    assert cert["evidence"]["setting"] == {"method": "sgd", "sampler": sampler, "seed": 7, "batch_size": s, "n": N}
    assert check(cert, None).valid
    assert "SGD continued past T is not covered" in cert["claim"]["words"]


def _sgd_longdouble(problem: Problem, eta: float, sampler: Sampler, T: int) -> np.ndarray:
    """The SGD iteration with the same batches in 80-bit extended precision (about 1e-19 relative per step): a
    proxy of the exact iterates w_t, far closer to them than the certified radius e_T."""
    model = problem.model
    X, y = model.X.astype(np.longdouble), problem.y.astype(np.longdouble)
    m, d = model.width, X.shape[1]
    w = problem.w0.astype(np.longdouble)
    W, v = w[:m * d].reshape(m, d).copy(), w[m * d:].copy()
    scale = 1 / np.sqrt(np.longdouble(m))
    lr = np.longdouble(eta)
    for B in sampler.batches(0, T):
        Xb = X[B]
        A = np.tanh(Xb @ W.T)
        r = (A @ v) * scale - y[B]
        gW = ((1 - A * A) * r[:, None]).T @ Xb * (scale * v)[:, None]
        gv = A.T @ r * scale
        W, v = W - lr * gW, v - lr * gv
    return np.concatenate([W.ravel(), v])


@pytest.mark.parametrize("s,sampler", CASES)
def test_the_exact_sgd_iterate_is_within_e_T(certified, s: int, sampler: str) -> None:
    """||w_T - w~_T|| <= e_T with w_T from extended precision; the iterate of other batches (seed 8) is not."""
    problem, ev, cert = certified[s, sampler]
    T, eta = ev.hints["T"], ev.hints["step"]
    w_T = decode_array(cert["inputs"]["run"]["checkpoints"], None)[-1]
    e_T = cert["evidence"]["quantities"]["e_T"]["hi"]
    exact = _sgd_longdouble(problem, eta, Sampler(sampler, 7, s, N), T)
    assert float(np.linalg.norm(exact - w_T.astype(np.longdouble))) <= e_T
    other = _sgd_longdouble(problem, eta, Sampler(sampler, 8, s, N), T)
    assert float(np.linalg.norm(other - w_T.astype(np.longdouble))) > 1e3 * e_T


def _edit(cert: dict, path: str, value) -> dict:
    out = copy.deepcopy(cert)
    node, keys = out, path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return out


def test_edited_sampler_step_and_iterates_are_rejected(certified) -> None:
    _, _, cert = certified[4, "epochs"]
    run = cert["inputs"]["run"]
    C = decode_array(run["checkpoints"], None).copy()
    C[len(C) // 2] += 1e-6
    for path, value in (("inputs.run.sampler.seed", 8), ("inputs.run.sampler.batch_size", 3),
                        ("inputs.run.sampler.algorithm", "iid"), ("inputs.run.sampler.batches_sha256", "0" * 64),
                        ("inputs.run.step", run["step"] * 0.5), ("inputs.run.checkpoints", encode_array(C)),
                        ("inputs.run.continuation_step", run["continuation_step"] * 2), ("inputs.run.method", "gd"),
                        ("claim.theorem", "gd-run/A"), ("evidence.quantities.e_T.hi", 0.0)):
        assert not _valid(_edit(cert, path, value)), path
    gd = _edit(cert, "claim.theorem", "gd-run/A")
    for key in ("method", "sampler", "continuation_step"):
        del gd["inputs"]["run"][key]
    assert not _valid(gd)  # the same iterates as a GD run: the verifier's GD re-run misses every checkpoint


def test_a_too_small_rho_does_not_reach_the_certificate(monkeypatch) -> None:
    """A producer with rho_t = 0 states e_T = 0; the certificate's e_T is the verifier's own (> 0)."""
    from plproof.routes.trajectory import generic

    real = generic.gd_step
    monkeypatch.setattr(generic, "gd_step", lambda *a: (lambda w1, rho, res: (w1, 0.0, res))(*real(*a)))
    problem = _problem(16)
    sabotaged = certify_run(problem, method="sgd", batch_size=4, seed=7)
    assert sabotaged.quantities["e_T"].hi < 1e-300
    cert = run_certificate(sabotaged, problem)
    assert cert["evidence"]["quantities"]["e_T"]["hi"] > 1e-13


def test_a_step_above_two_over_beta_b_does_not_certify() -> None:
    """eta above 2/lambda_max(K_B(w0)) for every batch of the run: each step expands, T6 cannot close."""
    problem = _problem(16)
    sampler = Sampler("iid", 7, 4, N)
    K = problem.kernel()
    beta_b = min(float(np.linalg.eigvalsh(K[np.ix_(B, B)])[-1]) for B in sampler.batches(0, 200))
    ev = certify_run(problem, method="sgd", batch_size=4, seed=7, step=2.2 / beta_b, max_steps=200)
    assert ev.verdict is Verdict.NOT_CERTIFIED
    cert = run_certificate(ev, problem)
    assert cert["evidence"]["verdict"] == "not certified" and check(cert, None).valid


def _small() -> Problem:
    return Problem(TwoLayer(unit_inputs(5, 8, seed=3), 16, "tanh", seed=3, init="symmetric"),
                   uniform_targets(5, 0.05, seed=3))


def test_sgd_continued_past_t_is_proved_at_a_confidence() -> None:
    """§3 from w_T (docs/theory.md §12.6): the run goes on after T6 closes until §3's ball fits; its radius is at
    least e_T + 2 n sqrt(2 beta_S L(w_T))/(mu_S delta) with the verifier's own numbers."""
    problem = _small()
    plain = certify_run(problem, method="sgd", batch_size=2, seed=1, sampler="epochs")
    ev = certify_run(problem, method="sgd", batch_size=2, seed=1, sampler="epochs", confidence=0.9)
    assert ev.certified and ev.hints["T"] > plain.hints["T"] and ev.hints["confidence"] == 0.9
    cert = run_certificate(ev, problem)
    assert check(cert, None).valid and "with probability >= 0.9, SGD continued" in cert["claim"]["words"]
    q = {k: v.get("hi", v.get("lo")) for k, v in cert["evidence"]["quantities"].items()}
    assert q["eta_S"] <= q["mu_S"] / (q["beta_S"] * 5 * q["beta_S"]) < ev.hints["step"]  # eta* is far below the run's
    rho = q["residual_norm_T"] + q["L_F_T"] * q["e_T"]
    assert q["R_S"] - q["e_T"] >= 2 * 5 * rho * math.sqrt(q["beta_S"]) / (q["mu_S"] * 0.1)


def test_an_unreachable_confidence_falls_back_to_t6() -> None:
    problem = _small()
    ev = certify_run(problem, method="sgd", batch_size=2, seed=1, sampler="epochs", confidence=1 - 1e-12)
    assert ev.certified and "R_S" not in ev.hints and "did not fit" in ev.conclusions[-1]
    cert = run_certificate(ev, problem)
    assert check(cert, None).valid and "SGD continued past T is not covered" in cert["claim"]["words"]
    with pytest.raises(InvalidInput):
        certify_run(problem, confidence=0.9)  # GD
    with pytest.raises(InvalidInput):
        certify_run(problem, method="sgd", batch_size=2, confidence=1.0)


def test_a_deep_net_certifies_through_the_two_sided_contraction() -> None:
    """An MLP: l_t = max(1 + eta h, eta (LB^2 + h) - 1), h from M9 on sqrt(cmax) (||r_B|| + LB e) (rigor §10)."""
    problem = Problem(MLP(unit_inputs(3, 3, seed=5), [16, 16], "tanh", seed=5, init="symmetric"),
                      uniform_targets(3, 0.001, seed=5))
    ev = certify_run(problem, method="sgd", batch_size=2, seed=1, sampler="epochs")
    assert ev.verdict is Verdict.CERTIFIED and ev.hints["bounds"] == "mlp", ev.reason
    assert _valid(run_certificate(ev, problem))


def test_batch_jacobian_bound_is_above_the_true_norm_and_close() -> None:
    model = _problem(16).model
    w = model.default_w0() + 0.1 * np.random.default_rng(2).standard_normal(model.n_params)
    J = model.jacobian(w)
    for rows in (np.array([3]), np.array([1, 5, 5, 9]), np.arange(N)):
        true = float(np.linalg.norm(np.repeat(J, np.bincount(rows, minlength=N), axis=0), 2))
        bound = batch_jacobian_upper(model, w, rows)
        assert true <= bound <= 1.1 * true  # rho(|K_B|) >= lambda_max(K_B): 7% above on the whole batch here


@pytest.mark.parametrize("train", ["both", "hidden"])
def test_mini_batch_contraction_bounds_the_tube(train: str) -> None:
    """l_t of a batch with a repeated index (producer and verifier) >= ||I - eta Hess L_B|| sampled over the tube;
    the l_t of the full loss's Hessian at the same point is not a bound for it (so the test can fail)."""
    from plproof.numeric.scalars import FLOATS
    from plproof.routes.trajectory.error_bounds import contraction
    from plproof.routes.trajectory.generic import MidRadGD
    from plproof.verify.families import Family
    from plproof.verify.trajectory import _TwoLayerTube

    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 2))
    X /= np.linalg.norm(X, axis=1)[:, None]
    y = rng.standard_normal(5)
    model = TwoLayer(X, 3, "tanh", seed=1, train=train)
    w = model.default_w0() + 0.3 * rng.standard_normal(model.n_params)
    rows = np.array([4, 1, 4])
    e = 0.05
    K = model.kernel(w)
    eta = 1.0 / float(np.max(np.diag(K)))
    delta = float(model.ball_bounds(w, "tight").delta(FLOATS, e)) * 1.01
    LF = math.sqrt(float(np.linalg.eigvalsh(K)[-1])) * (1 + 1e-6) + delta  # >= sup ||DF|| on B(w, e) (T1)
    LB = batch_jacobian_upper(model, w, rows) + math.sqrt(2) * delta  # cmax = 2
    sharp = MidRadGD(model, y, w).sharp
    ell = float(contraction(sharp.curvature([sharp.at(w, rows)]), sharp.tube, eta, np.array([e]), np.array([LF]),
                            np.array([LB]))[0])
    spec = {"family": "two_layer", "n_outputs": 5, "n_params": model.n_params, "width": 3, "activation": "tanh",
            "train": train}
    fam = Family(spec, model.X, w, model)
    ell_v = _TwoLayerTube(fam, fam.ball("two-layer-t1-t3", w, None, []), []).ell(model, y, w, eta, e, LF, rows, LB)
    sampled = _sampled_norm(rows_of(model, rows), y[rows], w, eta, e, points=16)  # L_B is the batch model's loss
    assert sampled <= ell and sampled <= ell_v, (sampled, ell, ell_v)
    assert ell < 1 + 10 * (sampled - 1)
    full = float(contraction(sharp.curvature([sharp.at(w)]), sharp.tube, eta, np.zeros(1), np.array([LF]))[0])
    assert full != ell


def test_bad_sgd_arguments_are_one_line() -> None:
    problem = _problem(16)
    for kwargs, word in (({"method": "sgd"}, "batch_size"), ({"batch_size": 2}, "method='sgd'"),
                         ({"method": "adam"}, "method"), ({"method": "sgd", "batch_size": 13}, "batch size"),
                         ({"method": "sgd", "batch_size": 2, "sampler": "shuffle"}, "sampler")):
        with pytest.raises(InvalidInput) as err:
            certify_run(problem, **kwargs)
        assert word in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(NotCertifiable):
        certify_run(problem, method="sgd", batch_size=2, precision="double-double")


def test_sympy_models_have_no_mini_batches() -> None:
    import sympy as sp

    from plproof.models.sympy_model import SympyModel

    w1, w2 = sp.symbols("w1 w2")
    with pytest.raises(NotCertifiable, match="rows of X .* not on a SympyModel; use method='gd'"):
        certify_run(Problem(SympyModel([w1 * w2, w1 + w2], [w1, w2], w0=[1, 2]), [2.0, 3.0]), method="sgd",
                    batch_size=1)


@pytest.mark.slow
@pytest.mark.parametrize("s,width", [(1, 8), (4, 8), (N // 2, 4)])
def test_certifies_near_the_empirical_sgd_width(s: int, width: int) -> None:
    """The smallest widths 2^k where the default-step SGD run certifies (plain SGD converges from width 2)."""
    problem = _problem(width)
    ev = certify_run(problem, method="sgd", batch_size=s, seed=0)
    assert ev.verdict is Verdict.CERTIFIED, ev.reason
    assert _valid(run_certificate(ev, problem))
