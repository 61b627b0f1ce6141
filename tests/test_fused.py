"""The run route's numba kernels (plproof/routes/trajectory/kernels.py, docs/rigor.md §5.8) against the numpy code
they replace: the same proven bounds (bitwise where the operations are the same, within 1e-12 and never below
reference/COVER where sums run in another order), the same verdict and T, certificates that verify."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from plproof import Problem, TwoLayer
from plproof.certificate.build import run_certificate
from plproof.certificate.format import seal
from plproof.data import unit_inputs, uniform_targets
from plproof.routes.trajectory import certify_run, default_step, error_bounds, fused
from plproof.routes.trajectory.recipe import COVER
from plproof.routes.trajectory.two_layer import TwoLayerFloat
from plproof.verify import check
from plproof.verify.eigen import extremes
from plproof.verify.tanh import EDGE, STEP, table_tanh

pytest.importorskip("numba")


@pytest.fixture
def numpy_only(monkeypatch):
    """A context in which the error bounds are evaluated by numpy (the switch set)."""
    def switch(off: bool) -> None:
        if off:
            monkeypatch.setenv(fused.ENV, "1")
        else:
            monkeypatch.delenv(fused.ENV, raising=False)
    return switch


def _same_bound(fast: np.ndarray, ref: np.ndarray) -> None:
    """fast is ref up to the order of sums of non-negative terms: equal where not finite, else within 1e-12
    relative and never below ref / COVER."""
    fast, ref = np.asarray(fast, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert fast.shape == ref.shape
    assert np.array_equal(np.isnan(fast), np.isnan(ref)) and np.array_equal(np.isinf(fast), np.isinf(ref))
    fin = np.isfinite(ref)
    if np.isinf(ref).any():
        assert np.array_equal(fast[np.isinf(ref)], ref[np.isinf(ref)])
    assert np.all(np.abs(fast[fin] - ref[fin]) <= 1e-12 * np.abs(ref[fin]))
    assert np.all(fast[fin] >= ref[fin] / COVER)


def test_the_switch(monkeypatch) -> None:
    assert fused.kernels() is not None
    monkeypatch.setenv(fused.ENV, "1")
    assert fused.kernels() is None
    monkeypatch.setenv(fused.ENV, "0")
    assert fused.kernels() is not None
    monkeypatch.delenv(fused.ENV)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    fused._load.cache_clear()
    try:
        assert fused.kernels() is None
    finally:
        fused._load.cache_clear()


def test_kernels_refuse_a_constant_changed_only_where_it_is_defined(monkeypatch) -> None:
    """numba's cache keys on kernels.py alone: a constant it compiles in, changed in its defining module only,
    stops the import instead of leaving stale cached code in use."""
    import importlib

    from plproof.routes.trajectory import kernels, recipe

    monkeypatch.setattr(recipe, "TINY", 2.0**-999)
    with pytest.raises(RuntimeError, match="compiled-in constant"):
        importlib.reload(kernels)
    monkeypatch.undo()
    importlib.reload(kernels)


def _tanh_points(seed: int) -> np.ndarray:
    """Random and edge inputs of the table's tanh: cell boundaries and their neighbours, subnormals, 0, -0, +-EDGE and
    just beyond, huge, +-inf, nan."""
    rng = np.random.default_rng(seed)
    cells = (rng.integers(-24 * 256, 24 * 256, 500) + 0.5) * STEP
    return np.concatenate([rng.standard_normal(20_000) * 4, cells, np.nextafter(cells, 30), np.nextafter(cells, -30),
                           10.0 ** rng.uniform(-320, 1.3, 2_000) * rng.choice([-1, 1], 2_000),
                           [0.0, -0.0, 5e-324, -5e-324, 2.2e-308, EDGE, -EDGE, np.nextafter(EDGE, 30),
                            np.nextafter(-EDGE, -30), 25.0, -710.0, 1e300, -1e300, np.inf, -np.inf, np.nan]])


def test_activation_kernel_is_the_table_tanh_bitwise() -> None:
    """gd_step's A, D by the kernel ``activation`` are plproof.verify.tanh.table_tanh(Z) and 1 - A*A bit for bit
    (signed zeros and nan included), on random and edge inputs, in arrays whose size leaves every remainder modulo
    the kernel's LANES (the vector groups and the entries after them), each edge value in every lane."""
    z = _tanh_points(3)
    kern, table = fused.kernels(), fused.tanh_table()
    bits = lambda x: x.view(np.uint64)  # noqa: E731
    edges = np.concatenate([z[-16:], z[20_000:20_500]])  # the edge values first, then cell midpoints
    shapes = [(1, z.size), (z.size // 7, 7), (2, 4)] + [(3, 8 * q + r) for q in (0, 1, 5) for r in range(8) if q + r]
    for i, (n, m) in enumerate(shapes):
        Z = z[-n * m:].reshape(n, m)[::-1].copy() if i < 3 else np.resize(np.roll(edges, i), (n, m))
        A, D = np.empty_like(Z), np.empty_like(Z)
        kern.activation(Z, table, A, D)
        ref = table_tanh(Z)
        assert np.array_equal(bits(A), bits(ref)) and np.array_equal(bits(D), bits(1.0 - ref * ref)), (n, m)
    assert np.isnan(Z).any() and (np.isnan(A) == np.isnan(Z)).all()  # the last shape holds the edge values too


def _recipe(n: int, d: int, m: int, seed: int, scale: float = 1.0) -> tuple[TwoLayerFloat, float]:
    X = unit_inputs(n, d, seed)
    problem = Problem(TwoLayer(X, m, "tanh", seed), uniform_targets(n, 0.3, seed))
    w0 = np.asarray(problem.w0, dtype=np.float64) * scale
    return TwoLayerFloat(problem.model, problem.y, w0), default_step(problem)


@pytest.mark.parametrize("scale", [1.0, 40.0])
def test_verifier_reruns_the_producers_steps_bitwise(numpy_only, scale) -> None:
    """The verifier's own float steps (plproof.verify.trajectory._Data.step) from w0 are gd_step's iterates bitwise,
    with numba and with numpy (its segments then end without a gap at the stored checkpoints); weights with
    |z| > 24 (scale 40)."""
    from fractions import Fraction

    from plproof.verify.families import rebuild
    from plproof.verify.trajectory import _Data

    problem = Problem(TwoLayer(unit_inputs(7, 3, 5), 16, "tanh", 5), uniform_targets(7, 0.3, 5))
    w0 = np.asarray(problem.w0, dtype=np.float64) * scale
    problem = Problem(problem.model, problem.y, w0)
    ev = certify_run(problem, max_steps=1, precision="float64")
    fam, y, _ = rebuild(run_certificate(ev, problem)["inputs"], None)
    data = _Data(fam, np.asarray(y, dtype=np.float64), Fraction(2))
    for off in (True, False):
        numpy_only(off)
        rec = TwoLayerFloat(problem.model, problem.y, w0)
        rec.run(12, default_step(problem))
        Wb, vb, _ = data.run(*data.split(w0), default_step(problem), 12)
        assert np.array_equal(Wb, rec.buf.W[:13]) and np.array_equal(vb, rec.buf.v[:13])


@pytest.mark.parametrize("n, d, m, scale", [(7, 3, 16, 1.0), (5, 8, 8, 1.0), (6, 2, 5, 40.0), (9, 4, 12, 0.0)])
def test_defect_and_contraction_kernels_give_the_numpy_bounds(numpy_only, n, d, m, scale) -> None:
    """rho_t, the stage's componentwise bounds and l_t by the kernels against numpy: d < n (eigen-bounds) and
    d >= n, weights with |z| > 24 (scale 40) and all zero."""
    rec, eta = _recipe(n, d, m, 5, scale)
    block = rec.run(9, eta)
    assert block.done == 9
    e = np.geomspace(1e-10, 1e-7, 9)
    LF = np.linspace(1.0, 1.2, 9)
    out = {}
    for off in (True, False):
        numpy_only(off)
        rec.buf.kernels = fused.kernels()  # (the buffers keep the switch they were made with)
        rec.tube.perron.clear()  # the Perron vectors a block leaves for the next (the same start for both)
        error_bounds.entrywise(rec.net, rec.buf, 0, 9)
        st = error_bounds.defect(rec.net, rec.buf, 9, eta)
        stage = {f: np.array(getattr(st, f)) for f in ("Er", "Qn", "EQn", "w_max", "rho", "step")}
        cv = error_bounds.tanh_curvature(rec.net, rec.buf, st, 9)
        out[off] = stage, cv.g.copy(), error_bounds.contraction(cv, rec.tube, eta, e, LF)
    (ref, g_ref, ell_ref), (fast, g_fast, ell_fast) = out[True], out[False]
    for key in ref:
        _same_bound(fast[key], ref[key])
    assert np.array_equal(g_fast, g_ref)
    _same_bound(ell_fast, ell_ref)
    assert np.all(ell_ref >= 1.0)


@pytest.mark.parametrize("d", [3, 12])
def test_tube_kernel_on_non_finite_and_zero_curvature(numpy_only, d) -> None:
    """N, P (and D for d < n) of one block with g holding nan, inf, -inf and zeros (docs/rigor.md §5.4): the kernel
    gives numpy's values, nan and inf included."""
    rec, eta = _recipe(8, d, 6, 2)
    rec.run(8, eta)
    st = error_bounds.defect(rec.net, rec.buf, 8, eta)
    cv = error_bounds.tanh_curvature(rec.net, rec.buf, st, 8)
    cv.g[1, 2, 3], cv.g[5, 0, 0], cv.g[6, 7, 5], cv.g[2] = np.nan, np.inf, -np.inf, 0.0
    cv.g[7, :, 1] = 1e300
    et = np.full(8, 1e-9)[:, None]
    rk = cv.Er + 1.1 * et
    c = rec.tube
    a = c.S2 * rk + cv.ar * (c.S3 * c.xn * et) + cv.ar * cv.F[:, :, 0]
    b = c.S2 * et * (cv.ar + rk)
    with np.errstate(all="ignore"):
        ref = error_bounds._blocks(cv, c, a, b, None, d < 8)
        fast = error_bounds._blocks_fused(fused.kernels(), cv, c, a, b, d < 8)
    for x, y in zip(fast[:2], ref[:2]):
        assert np.isnan(y).any()
        _same_bound(x, y)
    if d < 8:
        _same_bound(fast[2], ref[2])
    else:
        assert fast[2] is None and ref[2] is None


@pytest.mark.parametrize("make", [
    lambda: Problem(TwoLayer(unit_inputs(20, 64, 2026), 4, "tanh", 2026, init="symmetric"),
                    uniform_targets(20, 0.1, 2026)),
    lambda: Problem(TwoLayer(unit_inputs(20, 5, 2026), 64, "tanh", 2026), uniform_targets(20, 0.5, 2026)),
])
def test_certify_run_with_and_without_numba(numpy_only, make) -> None:
    """The same verdict and T either way, and the numba run's certificate verifies."""
    problem = make()
    evs = {}
    for off in (True, False):
        numpy_only(off)
        evs[off] = certify_run(problem)
    assert evs[False].verdict is evs[True].verdict
    assert evs[False].hints["T"] == evs[True].hints["T"]
    _same_bound(evs[False].hints["radii"], evs[True].hints["radii"])
    result = check(seal(run_certificate(evs[False], problem)), None)
    assert result.valid, result.reason


@pytest.mark.parametrize("d", [1, 2, 5, 10])
def test_eigen_kernel_bounds_the_extreme_eigenvalues(d) -> None:
    """The kernel's (lo, hi) (Cholesky at shifts from its own Laguerre estimates) against verify.eigen.extremes
    (shifts from eigvalsh): within 1e-13 max|P| of it wherever numpy's Cholesky completed for the batch, above
    the eigenvalues; zeros, huge, tiny, nan and inf matrices."""
    rng = np.random.default_rng(d)
    B = rng.standard_normal((3, 200, d, d))
    M = B + np.swapaxes(B, -1, -2)
    M[0, :50] = np.einsum("kab,kcb->kac", B[0, :50], B[0, :50])  # positive semidefinite
    M[1, :3], M[1, 3:6], M[1, 6:9] = 0.0, M[1, 3:6] * 1e-200, M[1, 6:9] * 1e150
    M[2, 0, 0, 0], M[2, 1, -1, 0], M[2, 2, -1, -1] = np.nan, np.inf, -np.inf
    M[2, 2, 0, -1] = M[2, 2, -1, 0]
    err = np.abs(rng.standard_normal((3, 200))) * 1e-12
    err[2, 3] = np.inf
    lo, hi = error_bounds.packed_extremes(fused.kernels(), M.reshape(3, 200, d * d)[..., error_bounds._packed(d)],
                                          err, d)
    bad = ~np.isfinite(M).all(axis=(-2, -1)) | ~np.isfinite(err)
    assert np.isinf(lo[bad]).all() and np.isinf(hi[bad]).all() and np.isfinite(lo[~bad]).all()
    fin = np.where(bad[..., None, None], 0.0, M)
    lam = np.linalg.eigvalsh(fin)
    scale = np.abs(fin).max(axis=(-2, -1))
    assert np.all(lo[~bad] >= np.maximum(-lam[..., 0], 0.0)[~bad]) and np.all(hi[~bad] >= np.maximum(lam[..., -1], 0)[~bad])
    for t in (0, 1):  # numpy: Cholesky for the whole batch, else eigh's looser bound
        ref_lo, ref_hi = extremes(M[t], err[t])
        assert np.all(lo[t] <= ref_lo + 1e-13 * scale[t] + 1e-300) and np.all(hi[t] <= ref_hi + 1e-13 * scale[t] + 1e-300)
        if _cholesky_completes(M[t], err[t]):
            assert np.all(np.abs(lo[t] - ref_lo) <= 1e-13 * scale[t] + 1e-300)


def _cholesky_completes(M: np.ndarray, err: np.ndarray) -> bool:
    """Whether verify.eigen.extremes takes its Cholesky path for the batch (not the eigh fallback)."""
    from plproof.verify import eigen

    lam = np.linalg.eigvalsh(M)
    room = 4 * eigen._gamma(M.shape[-1] + 1) * np.abs(np.einsum("...jj->...j", M)).sum(axis=-1) * eigen.COVER
    return eigen._lower(M, lam[..., 0] - room - eigen.TINY) is not None


def test_eigen_kernel_failures_take_numpys_extremes() -> None:
    """Where the kernel's factorisation does not complete (nan), packed_extremes takes verify.eigen.extremes."""
    class Failing:
        @staticmethod
        def eigen_bounds(Pl, err, d, gam, lo, hi) -> None:
            lo[:], hi[:] = 0.0, 0.0
            lo[1], hi[1] = np.nan, np.nan

    M = np.array([[[2.0, 1.0], [1.0, -3.0]]] * 3)
    lo, hi = error_bounds.packed_extremes(Failing, M.reshape(3, 4)[:, error_bounds._packed(2)], np.zeros(3), 2)
    ref = extremes(M[1:2], np.zeros(1))
    assert lo[1] == ref[0][0] > 3.0 and hi[1] == ref[1][0] > 2.0 and lo[0] == hi[2] == 0.0


def test_perron_step_from_the_kept_product_is_the_recomputed_one() -> None:
    """perron_ratio from a previous (u, Gabs u) gives the floats of one power step that recomputes Gabs u."""
    rng = np.random.default_rng(4)
    G = np.abs(rng.standard_normal((6, 6)))
    G = G + G.T
    c1, c2 = np.abs(rng.standard_normal((6, 5))), np.abs(rng.standard_normal((6, 5)))
    _, (u, Gu) = error_bounds.perron_ratio(c1, G, None)
    assert np.array_equal(Gu, G @ u)
    ratio, (u2, Gu2) = error_bounds.perron_ratio(c2, G, (u, Gu))
    w = c2 * (G @ u)
    w = w / w.max(axis=-2, keepdims=True) + error_bounds.FLOOR
    assert np.array_equal(u2, w) and np.array_equal(ratio, (G @ w) / w)


def test_run_evidence_names_the_extra_where_numba_is_missing(monkeypatch) -> None:
    """Without numba the same bounds run in numpy, slower: the evidence says so and names the extra; with numba, or
    with PLPROOF_NO_NUMBA chosen by the user, nothing is said."""
    problem = Problem(TwoLayer(unit_inputs(5, 8, seed=3), 16, "tanh", seed=3, init="symmetric"),
                      uniform_targets(5, 0.05, seed=3))
    monkeypatch.setitem(sys.modules, "numba", None)
    fused._load.cache_clear()
    try:
        assert any("pip install 'plproof[fast]'" in note for note in certify_run(problem).notes)
        monkeypatch.setenv(fused.ENV, "1")
        assert certify_run(problem).notes == []
    finally:
        fused._load.cache_clear()
