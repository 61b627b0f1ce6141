"""The lazy eigen-bounds of the sharp l_t (error_bounds._peaks, docs/rigor.md §10 item 5): the floats of computing
every eigen-bound, with fewer computed; on both paths (numba kernels and numpy)."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest

from plproof import Problem, TwoLayer
from plproof.data import uniform_targets, unit_inputs
from plproof.routes.trajectory import default_step, error_bounds, fused
from plproof.routes.trajectory.two_layer import TwoLayerFloat

PATHS = ["numpy"] + (["numba"] if importlib.util.find_spec("numba") else [])


@pytest.fixture(params=PATHS)
def path(request, monkeypatch) -> str:
    """Each evaluation path in turn (fused.ENV set: numpy)."""
    if request.param == "numpy":
        monkeypatch.setenv(fused.ENV, "1")
    else:
        monkeypatch.delenv(fused.ENV, raising=False)
    return request.param


def _run(n: int, d: int, m: int, steps: int, seed: int = 3) -> tuple[TwoLayerFloat, error_bounds.Curvature, float]:
    """A two-layer tanh recipe after ``steps`` GD steps and its Curvature of them."""
    problem = Problem(TwoLayer(unit_inputs(n, d, seed), m, "tanh", seed), uniform_targets(n, 0.5, seed))
    rec = TwoLayerFloat(problem.model, problem.y, np.asarray(problem.w0, dtype=np.float64))
    eta = default_step(problem)
    assert rec.run(steps, eta).done == steps
    st = error_bounds.defect(rec.net, rec.buf, steps, eta)
    return rec, error_bounds.tanh_curvature(rec.net, rec.buf, st, steps), eta


def _fresh(cv: error_bounds.Curvature, **changes) -> error_bounds.Curvature:
    """A copy of cv with nothing computed yet (no eigen-bounds, no Perron ratios, no moved)."""
    return dataclasses.replace(cv, _eigen=None, _grams=None, _moved=None, perron={}, **changes)


def _all_known(cv: error_bounds.Curvature, c: error_bounds.TubeConstants) -> error_bounds.Curvature:
    """cv with every eigen-bound computed first: the full evaluation."""
    lo, _, _ = cv.extremes(c)
    cv.extremes(c, np.ones(lo.shape, dtype=bool))
    return cv


def _ells(rec: TwoLayerFloat, cv: error_bounds.Curvature, eta: float, steps: int, full: bool,
          LB: np.ndarray | None = None) -> list[np.ndarray]:
    """l_t for three tube radii in turn (the driver's tries), lazily or with every eigen-bound computed first."""
    rec.tube.perron.clear()  # the Perron vectors a block leaves for the next: the same start for both
    if full:
        cv = _all_known(cv, rec.tube)
    LF = np.linspace(1.0, 1.3, steps)
    return [error_bounds.contraction(cv, rec.tube, eta, np.full(steps, e), LF, LB) for e in (0.0, 1e-9, 1e-4)]


def _same(lazy: list[np.ndarray], full: list[np.ndarray]) -> None:
    for x, y in zip(lazy, full):
        assert np.array_equal(x, y, equal_nan=True)


@pytest.mark.parametrize("n, d, m, steps", [(20, 5, 64, 9), (12, 3, 40, 6), (6, 8, 10, 5)])
def test_lazy_contraction_is_the_full_one(path, n, d, m, steps) -> None:
    """The same floats of l_t over several e as with every eigen-bound computed (d >= n: none is), and fewer
    eigen-bounds computed where there are any."""
    rec, cv, eta = _run(n, d, m, steps)
    lazy_cv, full_cv = _fresh(cv), _fresh(cv)
    lazy = _ells(rec, lazy_cv, eta, steps, False)
    _same(lazy, _ells(rec, full_cv, eta, steps, True))
    if d < n:
        known = lazy_cv.extremes(rec.tube)[2]
        assert 0 < known.sum() < known.size
    else:
        assert lazy_cv._eigen is None
    assert all(np.isfinite(x).all() and (x >= 1.0).all() for x in lazy)


def test_lazy_contraction_with_non_finite_curvature(path) -> None:
    """g with nan, inf and huge entries: the same l_t (nan where full's is) as with every eigen-bound computed."""
    rec, cv, eta = _run(20, 5, 32, 9)
    g = cv.g.copy()
    g[1, 2, 3], g[5, 0, 0], g[6, 7, 5] = np.nan, np.inf, -np.inf
    g[7, :, 1] = 1e300
    lazy = _ells(rec, _fresh(cv, g=g), eta, 9, False)
    full = _ells(rec, _fresh(cv, g=g.copy()), eta, 9, True)
    _same(lazy, full)
    assert np.isnan(lazy[0][1]) and np.isfinite(lazy[0][0])


def test_lazy_contraction_of_a_mini_batch(path) -> None:
    """Mini-batch weights (stride 1, the numpy blocks) and an evaluation error F varying over neurons."""
    rec, cv, eta = _run(20, 5, 32, 6)
    rng = np.random.default_rng(1)
    weight = rng.integers(0, 3, size=cv.ar.shape).astype(np.float64)
    mini = dict(weight=weight, cmax=weight.max(axis=1), F=np.broadcast_to(cv.F, cv.g.shape) * 1.5)
    lazy_cv = _fresh(cv, **mini)
    assert lazy_cv.stride == 1
    LB = np.full(6, 1.1)
    _same(_ells(rec, lazy_cv, eta, 6, False, LB), _ells(rec, _fresh(cv, **mini), eta, 6, True, LB))
    known = lazy_cv.extremes(rec.tube)[2]
    assert known.shape == (6, 32) and known.sum() < known.size


def test_peaks_on_crafted_entries(path) -> None:
    """_peaks against the full formula on crafted N, P, D, q2: ties, N <= D, nan and inf entries, rows where only
    a late entry matters."""
    rec, cv, _ = _run(20, 5, 24, 9)
    rng = np.random.default_rng(7)
    N, P = rng.random((9, 24)), rng.random((9, 24))
    D = rng.random((9, 24)) * 0.1
    N[0, :] = 0.5  # ties
    N[2, 3], D[3, 4], P[5, :], D[6, 6] = np.nan, np.nan, 10.0, np.inf
    P[4, 5], D[4, 5], P[4, 6] = np.inf, np.inf, np.inf  # inf unless its eigen-bound is finite
    N[7] = D[7] / 2  # N <= D: no eigen-bound can change row 7
    q2 = rng.random((9, 24))
    lazy_cv = _fresh(cv)
    top_N, top_P = error_bounds._peaks(lazy_cv, rec.tube, N, P, D, q2)
    lo, hi, _ = _all_known(_fresh(cv), rec.tube).extremes(rec.tube)
    anchor = np.arange(9) // cv.stride
    ref_N = error_bounds._lemma_b(np.minimum(N, lo[anchor] + D), q2)
    ref_P = error_bounds._lemma_b(np.minimum(P, hi[anchor] + D), q2)
    assert np.array_equal(top_N, ref_N, equal_nan=True) and np.array_equal(top_P, ref_P, equal_nan=True)
    assert np.isnan(top_N[2]) and np.isnan(top_N[3]) and np.isinf(top_P[4])
    assert lazy_cv.extremes(rec.tube)[2].sum() < lo.size
