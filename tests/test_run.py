"""The run route (docs/theory.md §12, T6): certify_run, its certificate, the independent re-check, sabotage."""

from __future__ import annotations

import copy
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from plproof import InvalidInput, Linear, NotCertifiable, Problem, TwoLayer
from plproof.data import unit_inputs, uniform_targets
from plproof.evidence import Status, Verdict
from plproof.numeric.arith import MPArith
from plproof.numeric.runners import gradient_descent
from plproof.numeric.scalars import INTERVALS
from plproof.certificate.build import run_certificate
from plproof.routes.trajectory import error_bounds, fused, recipe, terminal, two_layer
from plproof.routes.trajectory import certify_run, default_step, plain_run
from plproof.certificate.format import seal
from plproof.verify import check
from plproof.verify.families import rebuild
from plproof.verify import trajectory
from plproof.verify.tanh import STEP, max_error, table_tanh, tanh_error
from plproof.verify.exact import MatrixEnclosure
from plproof.verify.trajectory import _Data, _pd_float, _segment


def reference(width: int = 2, seed: int = 2026) -> Problem:
    """The reference case of issue 4: n = 20 unit inputs in d = 64, targets in [-0.1, 0.1], symmetric init."""
    X = unit_inputs(20, 64, seed)
    return Problem(TwoLayer(X, width, "tanh", seed, init="symmetric"), uniform_targets(20, 0.1, seed))


@pytest.fixture(scope="module")
def certified() -> tuple[Problem, object, dict]:
    problem = reference(4)
    ev = certify_run(problem)
    return problem, ev, run_certificate(ev, problem)


def _recheck(cert: dict, base=None) -> list[str]:
    """The verifier's checks of a (resealed) run certificate; AssertionError with its reason if not valid."""
    result = check(seal(cert), base)
    assert result.valid, result.reason
    return result.checked


def _rejected(cert: dict, match: str) -> None:
    result = check(seal(cert), None)
    assert result.outcome == "invalid" and match in result.reason, result.reason


# ---------------------------------------------------------------- producer
def test_reference_case_certifies_at_small_width(certified) -> None:
    problem, ev, _ = certified
    assert ev.verdict is Verdict.CERTIFIED, ev.reason
    assert ev.route == "run" and all(h.status is Status.HELD for h in ev.hypotheses)
    q = ev.quantities
    assert 0 < q["e_T"].hi < q["R_T"].lo and q["mu_T"].lo > 0 and 0 < q["c_T"].lo <= 1
    assert 0 < q["rate"].hi < 1
    assert not any("tanh" in a for a in ev.assumptions) and ev.rigor.label == "verified"  # proven, not assumed
    # the float run really converges, at the claimed rate from T on (within the float floor)
    T, eta = ev.hints["T"], ev.hints["step"]
    w_T = plain_run(problem, eta, T)
    assert np.array_equal(w_T, ev.hints["checkpoints"][-1])
    w_more = plain_run(Problem(problem.model, problem.y, w_T), eta, 200)
    L = float(problem.loss(w_more))
    assert L <= q["rate"].hi ** 200 * q["rho_bar"].hi ** 2 / 2 + 1e-28


def test_shadowing_bound_holds_against_a_40_digit_trajectory() -> None:
    """||w_t - w~_t|| <= e_t with w_t exact GD (40 digits) on a small net: T6 (i) (docs/theory.md §12.1)."""
    X = unit_inputs(5, 3, 1)
    problem = Problem(TwoLayer(X, 4, "tanh", 1), uniform_targets(5, 0.3, 1))
    eta = default_step(problem)
    ev = certify_run(problem, step=eta, max_steps=60, checkpoint_every=20)
    C, E, steps = ev.hints["checkpoints"], ev.hints["radii"], ev.hints["checkpoint_steps"]
    assert steps[:4] == [0, 20, 40, 60] and E[0] == 0
    ar = MPArith(40)
    w = problem.w0
    gaps = []
    for j in range(1, 4):
        w = gradient_descent(problem, eta, 20, arith=ar, w0=w).w_final
        with mpmath.workdps(40):
            gap = float(mpmath.sqrt(sum((wi - mpmath.mpf(ci)) ** 2 for wi, ci in zip(w, C[j]))))
        gaps.append(gap)
        assert gap <= E[j], (steps[j], gap, E[j])
    assert max(gaps) > 0  # the float run does differ from exact GD: the bound is doing work


def test_rho_zero_breaks_the_shadowing_bound(monkeypatch) -> None:
    """Sabotage: without the float defect rho_t the radii would be 0, below the real float/exact gap."""
    X = unit_inputs(5, 3, 1)
    problem = Problem(TwoLayer(X, 4, "tanh", 1), uniform_targets(5, 0.3, 1))
    real = two_layer.defect

    def no_rho(*args, **kw):
        st = real(*args, **kw)
        st.rho = st.rho * 0.0
        return st

    monkeypatch.setattr(two_layer, "defect", no_rho)
    eta = default_step(problem)
    ev = certify_run(problem, step=eta, max_steps=20, checkpoint_every=20)
    assert ev.hints["radii"][1] < 1e-300  # only the upward roundings of 0 remain
    w = gradient_descent(problem, eta, 20, arith=MPArith(40)).w_final
    with mpmath.workdps(40):
        gap = float(mpmath.sqrt(sum((wi - mpmath.mpf(ci)) ** 2 for wi, ci in zip(w, ev.hints["checkpoints"][1]))))
    assert gap > ev.hints["radii"][1]


def test_step_above_two_over_beta_does_not_certify() -> None:
    """At 10/lambda_max(K(w0)) GD blows up. (At 2.5/lambda_max it catapults to eta lambda_max(K(w~_T)) = 1.78 and
    converges: with the one-sided bound on lambda_max(S) that run certifies, and the verifier confirms it.)"""
    problem = reference(4)
    ev = certify_run(problem, step=10 * default_step(problem), max_steps=3000, precision="float64")
    assert ev.verdict is Verdict.NOT_CERTIFIED


def test_terminal_ball_too_small_fails(certified) -> None:
    problem, ev, _ = certified
    bb = problem.model.ball_bounds(ev.hints["checkpoints"][-1])
    args = (bb, ev.quantities["lambda_T"].lo, ev.quantities["jacobian_norm_T"].hi,
            ev.quantities["residual_norm_T"].hi, ev.quantities["e_T"].hi)
    good = terminal._terminal_state(INTERVALS, *args, ev.quantities["R_T"].hi, ev.hints["step"])
    small = terminal._terminal_state(INTERVALS, *args, ev.quantities["R_T"].hi / 10, ev.hints["step"])
    assert INTERVALS.lo(good["margin"]) > 0 > INTERVALS.hi(small["margin"])


def test_amplification_beyond_float64_is_reported() -> None:
    X = unit_inputs(20, 5, 2026)
    problem = Problem(TwoLayer(X, 4, "tanh", 2026), uniform_targets(20, 0.5, 2026))
    ev = certify_run(problem, max_steps=5000, precision="float64")
    assert ev.verdict is Verdict.NOT_CERTIFIED
    assert "float64 error amplification" in ev.reason and "exceeds what float64 can certify" in ev.reason
    assert "precision='double-double' may close it" in ev.reason  # the next step to try, for this model


class _ShiftedLinear(Linear):
    """A user subclass that changes F: it inherits no closed form."""

    def _F(self, w, ar):
        return super()._F(w, ar) + 1


@pytest.mark.parametrize("make", [
    lambda X, y: Problem(TwoLayer(X, 4, "relu", 0), y),
    lambda X, y: Problem(TwoLayer(X, 4, "abs", 0, train="hidden"), y),
    lambda X, y: Problem(_ShiftedLinear(np.hstack([X, X])), y),
])
def test_refuses_what_it_cannot_certify(make) -> None:
    X = unit_inputs(3, 3, 0)
    with pytest.raises(NotCertifiable, match="not certifiable by the run route"):
        certify_run(make(X, uniform_targets(3, 0.1, 0)))


@pytest.mark.parametrize("kw", [{"step": -1.0}, {"step": math.inf}, {"max_steps": 0}, {"rigor": "exact"},
                                {"checkpoint_every": 0}])
def test_rejects_bad_arguments(kw) -> None:
    with pytest.raises(InvalidInput):
        certify_run(reference(2), **kw)


def test_a_requested_rigor_below_verified_is_met_by_the_verified_result() -> None:
    ev = certify_run(reference(2), rigor="sampled")
    assert ev.certified and ev.rigor.label == "verified"


# ---------------------------------------------------------------- the recipe's tanh, proven (docs/rigor.md §11.7)
def test_table_tanh_error_bound_is_proven_and_within_the_8u_the_recipe_allows() -> None:
    """The recipe's tanh (plproof/verify/tanh.py's table) is within its bound E of tanh (mpmath at 160 bits), E is
    tanh_error(z, m) bitwise and <= max_error() <= the 8u that the recipe's 64u bound on tanh'' needs (docs/rigor.md
    §5.4), on >= 1e5 points: random scales, near 0 and subnormals, where tanh crosses powers of 2, near saturation
    and the table's edge, its cell boundaries; E = inf where z is not finite."""
    rng = np.random.default_rng(12)
    cells = (rng.integers(-24 * 256, 24 * 256, 2_000) + 0.5) * STEP  # the table's cell boundaries
    parts = [rng.standard_normal(45_000) * 3, rng.uniform(-25, 25, 20_000),
             10.0 ** rng.uniform(-320, 1.5, 20_000) * rng.choice([-1, 1], 20_000),
             np.arctanh(2.0 ** -np.arange(1, 40))[:, None] * (1 + rng.uniform(-1e-12, 1e-12, (39, 300))),
             rng.uniform(18, 20, 5_000), cells, np.nextafter(cells, 30), np.nextafter(cells, -30),
             np.array([0.0, -0.0, 5e-324, 0.5493061443340549, 19.0615, 24.0, np.nextafter(24.0, 30), 710.0, 1e300])]
    z = np.concatenate([np.ravel(p) for p in parts])
    assert z.size >= 100_000
    E = np.empty_like(z)
    A = table_tanh(z, error=E)
    assert np.array_equal(E, tanh_error(z, A)) and np.array_equal(A, table_tanh(z))
    assert E.max() <= max_error() <= recipe.TANH_ERR == trajectory.TANH_ERR
    with mpmath.workprec(160):
        for zi, ai, ei in zip(z.tolist(), A.tolist(), E.tolist()):
            exact = mpmath.tanh(mpmath.mpf(zi))
            assert abs(mpmath.mpf(ai) - exact) + abs(exact) * mpmath.mpf(2) ** -140 <= ei, (zi, ai, ei)
    odd = np.array([np.nan, np.inf, -np.inf, -30.0])
    E = np.empty(4)
    assert np.array_equal(table_tanh(odd, error=E), [np.nan, 1.0, -1.0, -1.0], equal_nan=True)
    assert np.isinf(E[:3]).all() and E[3] <= max_error()


def test_a_tanh_bound_beyond_8u_stops_producer_and_verifier(monkeypatch, certified) -> None:
    """Where the table's bound exceeded the 8u premise of the 64u bound on tanh'', both sides say so: the check
    cannot be skipped (every run makes the constants that hold it)."""
    problem, _, cert = certified
    monkeypatch.setattr(recipe, "TANH_ERR", max_error() / 2)
    monkeypatch.setattr(trajectory, "TANH_ERR", max_error() / 2)
    with pytest.raises(NotCertifiable, match="tanh table"):
        certify_run(problem)
    result = check(seal(cert), None)
    assert not result.valid and "tanh table" in result.reason


# ---------------------------------------------------------------- rho_t against exact GD steps
def _exact_step(X: np.ndarray, y: np.ndarray, W: np.ndarray, v: np.ndarray, eta: float) -> tuple[list, list, list]:
    """G(w) = w - eta grad L(w) at the float point (W, v) in 60 digits, s = m^-1/2 and eta exact: (W1, v1, r)."""
    n, d = X.shape
    m = W.shape[0]
    mp = mpmath.mpf
    s = 1 / mpmath.sqrt(m)
    A = [[mpmath.tanh(mpmath.fsum(mp(X[k, c]) * mp(W[i, c]) for c in range(d))) for i in range(m)] for k in range(n)]
    r = [s * mpmath.fsum(A[k][i] * mp(v[i]) for i in range(m)) - mp(y[k]) for k in range(n)]
    gW = [[s * mp(v[i]) * mpmath.fsum(r[k] * (1 - A[k][i] ** 2) * mp(X[k, c]) for k in range(n)) for c in range(d)]
          for i in range(m)]
    gv = [s * mpmath.fsum(r[k] * A[k][i] for k in range(n)) for i in range(m)]
    W1 = [[mp(W[i, c]) - mp(eta) * gW[i][c] for c in range(d)] for i in range(m)]
    return W1, [mp(v[i]) - mp(eta) * gv[i] for i in range(m)], r


@pytest.mark.parametrize("numpy_only", [False, True])
def test_defect_bounds_the_exact_step(monkeypatch, numpy_only) -> None:
    """||G(w~_t) - w~_{t+1}|| <= rho_t and |r~ - r(w~_t)| <= Er at every step of a block (exact GD step in 60
    digits from each float iterate), by the numba kernels and by numpy; the anchor's EA, ED bound |A~ - tanh z|,
    |D~ - tanh' z| entrywise. Weights scaled so that some |z| > EDGE."""
    if numpy_only:
        monkeypatch.setenv(fused.ENV, "1")
    X = unit_inputs(6, 3, 4)
    problem = Problem(TwoLayer(X, 5, "tanh", 4), uniform_targets(6, 0.3, 4))
    w0 = np.asarray(problem.w0, dtype=np.float64).copy()
    w0[:3] *= 30.0  # one neuron saturates
    rec = two_layer.TwoLayerFloat(problem.model, problem.y, w0)
    eta = default_step(problem)
    block = rec.run(8, eta)
    buf, ratios = rec.buf, []
    with mpmath.workdps(60):
        for t in range(8):
            W1, v1, r = _exact_step(X, problem.y, buf.W[t], buf.v[t], eta)
            gap = mpmath.sqrt(mpmath.fsum((W1[i][c] - mpmath.mpf(buf.W[t + 1][i, c])) ** 2
                                          for i in range(5) for c in range(3))
                              + mpmath.fsum((v1[i] - mpmath.mpf(buf.v[t + 1][i])) ** 2 for i in range(5)))
            assert gap <= block.rho[t], (t, gap, block.rho[t])
            ratios.append(float(gap / block.rho[t]))
            assert all(abs(mpmath.mpf(buf.r[t, k]) - r[k]) <= block.stage.Er[t, k] for k in range(6))
            EA, ED = error_bounds.activation_errors(rec.net, buf, t)
            for k in range(6):
                for i in range(5):
                    a = mpmath.tanh(mpmath.fsum(mpmath.mpf(X[k, c]) * mpmath.mpf(buf.W[t][i, c]) for c in range(3)))
                    assert abs(mpmath.mpf(buf.A[t, k, i]) - a) <= EA[k, i]
                    assert abs(mpmath.mpf(buf.D[t, k, i]) - (1 - a * a)) <= ED[k, i]
    assert max(ratios) > 1e-3  # the float step does differ from the exact one: the bound is doing work
    assert np.abs(rec.net.X @ buf.W[0].T).max() > 24.0


def test_entrywise_bounds_in_chunks_are_the_blocks(monkeypatch) -> None:
    """The entrywise bounds run after every chunk of steps while their A, D are in cache (recipe.ENTRIES): the
    stage of a block run in chunks of 3 steps (and a last one of 2) is bitwise the stage recomputed afterwards in
    one pass, for the float and the dd recipe."""
    from plproof.routes.trajectory import double_double, recipe as rc

    problem = Problem(TwoLayer(unit_inputs(7, 3, 2), 6, "tanh", 2), uniform_targets(7, 0.3, 2))
    eta = default_step(problem)
    monkeypatch.setattr(rc, "ENTRIES", 3 * 7 * 6)
    for cls in (two_layer.TwoLayerFloat, double_double.TwoLayerDD):
        rec = cls(problem.model, problem.y, np.asarray(problem.w0, dtype=np.float64))
        assert rec.buf.chunk == 3
        rec.run(8, eta)
        rec.run(8, eta)  # a second block from slot 0 (dd: its pairs kept, the float stages again)
        first = [x.copy() for x in (rec.buf.Er[:8], rec.buf.Eq[:8], rec.buf.EQ[:8], rec.buf.g[:8])]
        error_bounds.entrywise(rec.net, rec.buf, 0, 8)
        again = (rec.buf.Er[:8], rec.buf.Eq[:8], rec.buf.EQ[:8], rec.buf.g[:8])
        assert all(np.array_equal(x, y) for x, y in zip(first, again))


# ---------------------------------------------------------------- the independent re-check
def test_certificate_rechecks(certified) -> None:
    _, _, cert = certified
    checked = _recheck(cert)
    assert any("every segment" in c for c in checked) and any("terminal: mu_T >=" in c for c in checked)


def test_batched_recheck_matches_step_by_step(certified) -> None:
    """The verifier evaluates rho_t and l_t over batches of steps, l_t on tube radii e_hat_t >= e_t (at most about
    twice e_t, so only the tube corrections grow): one step per batch gives the same radius to 1e-4."""
    _, ev, cert = certified
    fam, y, _ = rebuild(cert["inputs"], None)
    one, many = (_Data(fam, np.asarray(y, dtype=np.float64), Fraction(ev.hints["X_norm"])) for _ in range(2))
    C, steps, eta = ev.hints["checkpoints"], ev.hints["checkpoint_steps"], ev.hints["step"]
    e_step = e_batch = 0.0
    for j in range(len(steps) - 1):  # one _Data each: l_t's Perron vectors and eigen-bounds carry over steps
        k = steps[j + 1] - steps[j]
        e_step = _segment(one, eta, C[j], e_step, k, C[j + 1], batch=1)
        e_batch = _segment(many, eta, C[j], e_batch, k, C[j + 1], batch=32)
    assert 0 < e_step and e_batch == pytest.approx(e_step, rel=1e-4, abs=0)


def test_terminal_pd_test_by_float_cholesky() -> None:
    """The verifier's float PD test (Higham's bound on the exact float midpoint) proves lambda_min(K) > s for s
    below lambda_min by more than its loss, refuses s above it, and leaves a midpoint that is not floats to the
    exact test."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((30, 30))
    K = A @ A.T / 30 + np.eye(30)
    K = np.tril(K) + np.tril(K, -1).T
    lam = np.linalg.eigvalsh(K)
    enc = MatrixEnclosure([[Fraction(x) for x in row] for row in K], Fraction(1, 10**9))
    assert _pd_float(enc, Fraction(lam[0] * (1 - 1e-6)) + enc.radius, 1)
    assert not _pd_float(enc, Fraction(lam[0] * (1 + 1e-6)) + enc.radius, 1)
    assert _pd_float(enc, enc.radius - Fraction(lam[-1] * (1 + 1e-6)), -1)  # lambda_max(K) < t
    assert not _pd_float(enc, enc.radius - Fraction(lam[-1] * (1 - 1e-6)), -1)
    third = MatrixEnclosure([[Fraction(1, 3)]], Fraction(0))
    assert not _pd_float(third, Fraction(0), 1) and third.lambda_min_above(Fraction(0))


def test_batched_contraction_is_the_per_step_one() -> None:
    """l_t of a batch at once (_Data.ells, Perron vectors and eigen-bounds shared by groups of REFRESH steps) is
    bitwise the l_t of the same steps one call at a time; d = 5 < n = 20, so the eigen-bounds are used."""
    problem = Problem(TwoLayer(unit_inputs(20, 5, 2026), 16, "tanh", 2026), uniform_targets(20, 0.5, 2026))
    ev = certify_run(problem, max_steps=40, precision="float64")
    fam, y, _ = rebuild(run_certificate(ev, problem)["inputs"], None)
    batch, single = (_Data(fam, np.asarray(y, dtype=np.float64), Fraction(ev.hints["X_norm"])) for _ in range(2))
    W, v = batch.split(ev.hints["checkpoints"][0])
    k = 11  # not a multiple of REFRESH: groups end inside the batch
    Wb, vb, parts = batch.run(W, v, ev.hints["step"], k)
    _, b = batch.errors(Wb, vb, ev.hints["step"], parts)
    e = np.geomspace(1e-12, 1e-9, k)
    LF = np.linspace(1.0, 1.1, k)
    at_once = batch.ells(ev.hints["step"], e, LF, vb[:k], b)
    one_by_one = [single.ell(ev.hints["step"], float(e[j]), float(LF[j]), vb[j], {key: x[j] for key, x in b.items()})
                  for j in range(k)]
    assert at_once.tolist() == one_by_one and np.all(at_once > 1.0)


def test_recheck_rejects_a_corrupted_iterate(certified) -> None:
    _, _, cert = certified
    bad = copy.deepcopy(cert)
    data = bad["inputs"]["run"]["checkpoints"]["data"]
    p = len(data) // len(bad["inputs"]["run"]["checkpoint_steps"])
    data[3 * p] += 1e-7  # one coordinate of the fourth checkpoint: its gap enters the re-derived e_T
    _rejected(bad, "e_T")


def test_recheck_rejects_a_shadowing_radius_that_is_too_small(certified) -> None:
    _, _, cert = certified
    bad = copy.deepcopy(cert)
    e_T = bad["evidence"]["quantities"]["e_T"]
    e_T["hi"] = e_T["hi"] / 10 if isinstance(e_T["hi"], float) else e_T["hi"]
    _rejected(bad, "e_T")


def test_recheck_rejects_a_step_above_two_over_beta(certified) -> None:
    _, ev, cert = certified
    bad = copy.deepcopy(cert)
    bad["inputs"]["run"]["step"] = 20 * ev.hints["step"]
    _rejected(bad, "")


def test_recheck_rejects_a_terminal_ball_that_is_too_small(certified) -> None:
    _, _, cert = certified
    bad = copy.deepcopy(cert)
    bad["hints"]["R_T"] = bad["hints"]["R_T"] / 10
    _rejected(bad, "verdict")


def test_certificate_round_trips_through_files(certified, tmp_path) -> None:
    from plproof.certificate.format import load_certificate, write_certificate

    _, ev, cert = certified
    path = write_certificate(cert, tmp_path / "run.json")
    loaded = load_certificate(path)
    assert _recheck(loaded, tmp_path)
    assert loaded["kind"] == "run" and "verified" == loaded["rigor"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2026, 1, 2])
def test_reference_certifies_at_the_empirical_width(seed: int) -> None:
    """Issue 4: the run route certifies where GD reaches 1e-20 (2^1-2^2 here), the ball route does not."""
    from plproof.routes.ball import check

    ev = certify_run(reference(2, seed))
    assert ev.certified, ev.reason
    assert not check(reference(2, seed), confirm=False).certified
    checked = _recheck(run_certificate(ev, reference(2, seed)))
    assert checked


def test_the_terminal_jacobian_bound_leaves_room_for_the_verifiers_float_cholesky() -> None:
    """Above n = 100 the verifier proves ||DF|| < J by a float Cholesky test of J^2 I - K, blind to gaps below
    ~4 (n + 1) u tr K: the producer's J must leave that room (an n = 200 run certificate was rejected)."""
    from plproof.numeric.verified import lambda_max_upper
    from plproof.routes.trajectory.terminal import jacobian_norm
    from plproof.verify.exact import exact_matrix

    rng = np.random.default_rng(3)  # one large eigenvalue, many small: t I - K has a large trace
    G = rng.standard_normal((150, 2))
    K = 20 * G @ G.T / 150 + 0.5 * np.eye(150) + 1e-3 * rng.standard_normal((150, 150))
    K = np.tril(K) + np.tril(K, -1).T
    tight = float(lambda_max_upper(K, 0.0, method="float").hi)
    assert not exact_matrix(K).lambda_max_below(Fraction(tight))  # the failure the room prevents
    enc = jacobian_norm(K, 0.0, ())
    assert exact_matrix(K).lambda_max_below(Fraction(enc.hi) ** 2)
    assert enc.hi <= math.sqrt(np.linalg.eigvalsh(K)[-1]) * (1 + 1e-8)  # and costs nothing


@pytest.mark.parametrize("floor, slack, top", [(1e-3, 0.0, 0.5), (1e-3, 0.2, 0.5), (0.3, 1e-9, 0.31), (2.0, 0.0, 5.0)])
def test_terminal_search_skips_the_radii_below_its_floor(floor: float, slack: float, top: float) -> None:
    """terminal's search for the smallest closing radius skips the grid radii below e + ||r||/sqrt(lambda), where
    margin(R) <= R - floor: the same radius as scanning from the bottom, from fewer margin evaluations."""
    from plproof.routes.trajectory.terminal import _smallest

    calls: list[float] = []

    def margin(R: float) -> float:
        calls.append(R)
        return min(R - floor * (1 + slack), top - R)

    found = _smallest(margin, 1.0, floor)
    with_floor = len(calls)
    calls.clear()
    assert found == _smallest(margin, 1.0)
    assert found is None or margin(found) > 0  # None: no grid radius in (0.3, 0.31), nor any below 1 above 2
    assert with_floor < len(calls)


@pytest.mark.parametrize("step, precision, numba", [(50.0, "float64", True), (50.0, "float64", False),
                                                    (3.0, "auto", True), (50.0, "double-double", True)])
def test_an_unstable_run_gives_its_verdict_without_numpy_warnings(monkeypatch, step: float, precision: str,
                                                                  numba: bool) -> None:
    """Steps far above 2/beta overflow within a few steps: the verdict says so (diverged, or amplification), and no
    RuntimeWarning of the bounds' formulas (overflow in multiply) reaches the user, with numba or numpy."""
    import warnings

    if not numba:
        monkeypatch.setenv(fused.ENV, "1")
    problem = Problem(TwoLayer(unit_inputs(20, 5, 2026), 128, "tanh", 2026), uniform_targets(20, 0.5, 2026))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = certify_run(problem, step=step, precision=precision)
    assert ev.verdict is Verdict.NOT_CERTIFIED and ("diverged" in ev.reason or "amplification" in ev.reason)


# ---------------------------------------------------------------- coarse first (docs/rigor.md §10 item 6)
def test_the_coarse_contraction_is_above_the_sharp_one_and_both_bound_the_sampled_tube() -> None:
    """l_t without the eigen-bounds >= the sharp l_t >= ||I - eta Hess L|| sampled over B(w~, e) on a two-layer tanh
    net with d < n far from a minimiser, where the eigen-bounds lower it."""
    from tests.test_run_generic import _sampled_norm

    problem = Problem(TwoLayer(unit_inputs(12, 3, 5), 6, "tanh", 5), uniform_targets(12, 0.5, 5))
    w = np.asarray(problem.w0, dtype=np.float64) + 0.4 * np.random.default_rng(5).standard_normal(problem.w0.size)
    eta, e = 1.0 / float(np.linalg.eigvalsh(problem.model.kernel(w))[-1]), 1e-3
    ell = {}
    for coarse in (False, True):
        rec = two_layer.TwoLayerFloat(problem.model, problem.y, w, coarse)
        block = rec.run(1, eta)
        anchor = rec.anchor(block, 0)
        LF = np.array([float(anchor.jac.hi) + anchor.kappa * e]) * (1 + 1e-9)
        ell[coarse] = float(rec.contraction(block, 1, eta, np.array([e]), LF, anchor)[0])
    sampled = _sampled_norm(problem.model, problem.y, w, eta, e, points=12)
    assert sampled <= ell[False] < ell[True], (sampled, ell)


def _stops(monkeypatch) -> list[tuple[bool, str, int]]:
    """(coarse, stop, steps) of every run certify_run makes, in order."""
    from plproof.routes.trajectory import certify

    stops, real = [], certify._run

    def run(recipe, *args):
        rec = real(recipe, *args)
        stops.append((recipe.coarse, rec.stop, rec.steps))
        return rec

    monkeypatch.setattr(certify, "_run", run)
    return stops


@pytest.mark.parametrize("make, max_steps, refined", [
    (lambda: reference(4), 200_000, False),  # the coarse run closes
    (lambda: Problem(TwoLayer(unit_inputs(20, 5, 2026), 8, "tanh", 2026), uniform_targets(20, 0.5, 2026)),
     200_000, True),  # its e_t reaches COARSE_ROOM of R_max early (amplification e^18), the sharp run closes
    (lambda: Problem(TwoLayer(unit_inputs(20, 5, 2026), 4, "tanh", 2026), uniform_targets(20, 0.5, 2026)),
     5000, True),  # neither closes: float64's amplification
])
def test_the_coarse_run_certifies_where_and_when_the_sharp_run_does(monkeypatch, make, max_steps: int,
                                                                    refined: bool) -> None:
    """certify_run's coarse first pass either closes at the step where the sharp run closes or hands over to the
    sharp run from w0; its certificates verify (the verifier's own sharp e_t is below the coarse one)."""
    from plproof.routes.trajectory.certify import _run, make_recipe

    problem = make()
    stops = _stops(monkeypatch)
    ev = certify_run(problem, max_steps=max_steps, precision="float64")
    sharp = _run(make_recipe(problem), default_step(problem), max_steps, 100)
    assert [s[0] for s in stops] == ([True, False] if refined else [True])
    assert (stops[0][1] == "refine") is refined and stops[-1][1:] == (sharp.stop, sharp.steps)
    assert ev.certified is (sharp.stop == "closed") and ev.hints["T"] == sharp.steps
    if ev.certified:
        _recheck(run_certificate(ev, problem))


def test_a_coarse_terminal_that_closes_only_at_a_smaller_radius_hands_over(monkeypatch, certified) -> None:
    """Where the coarse run's terminal ball fails with its e_t but closes at 0, the sharp run's smaller e_t might
    close it: the coarse run stops there ("refine"), at the step where the sharp run closes."""
    import dataclasses

    from plproof.routes.trajectory.certify import REFINE, _run

    problem, ev, _ = certified

    class Hesitant(two_layer.TwoLayerFloat):
        def terminal(self, block, j, anchor, e, eta):
            term, R_max = super().terminal(block, j, anchor, e, eta)
            if e > 0 and term is not None:  # as if e_t were too large for every ball
                term = dataclasses.replace(term, closes=False)
            return term, R_max

    rec = _run(Hesitant(problem.model, problem.y, problem.w0, coarse=True), ev.hints["step"], 200_000, 100)
    assert (rec.stop, rec.steps) == (REFINE, ev.hints["T"])
    sharp = _run(Hesitant(problem.model, problem.y, problem.w0), ev.hints["step"], ev.hints["T"] + 100, 100)
    assert sharp.stop == "max_steps"  # the sharp recipe does not hand over: it never closes here


def test_a_coarse_run_that_does_not_close_reports_no_shadowing_radius_it_did_not_prove() -> None:
    """A coarse run's failed terminal attempts are made at radius 0: they must not reach the evidence as a terminal
    ball with e_T = 0 (which would claim ||w_T - w~_T|| <= 0 at rigor verified)."""
    ev = certify_run(reference(4), max_steps=500)
    assert ev.verdict is Verdict.NOT_CERTIFIED and ev.hints["stop"] == "max_steps"
    assert "e_T" not in ev.quantities or ev.quantities["e_T"].hi > 0, ev.quantities["e_T"]
