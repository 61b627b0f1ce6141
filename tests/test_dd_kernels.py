"""The producer's double-double step by numba kernels (plproof/routes/trajectory/dd_kernels.py, docs/rigor.md §9.7)
against the verifier's numpy dd_step: every output bitwise the same, the same raises, the same certified run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from plproof.certificate.build import run_certificate
from plproof.certificate.format import seal
from plproof.routes.trajectory import certify_run, fused
from plproof.verify import check
from plproof.verify.dd_step import dd_step

from tests.test_run_dd import small

pytest.importorskip("numba")

SHAPES = ((12, 4, 4), (20, 5, 16), (100, 10, 64))


def _inputs(n: int, d: int, m: int, seed: int, scale: float = 1.0, lo: float = 2.0**-60) -> tuple:
    """X, y, eta, W_hi, W_lo, v_hi, v_lo: Gaussian data and weights (W of size ``scale``), lo parts about lo |hi|
    (with some exact zeros in hi and lo)."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.uniform(-0.5, 0.5, n)
    W, v = rng.standard_normal((m, d)) * scale, rng.standard_normal(m)
    W.flat[::5], v[::3] = 0.0, 0.0
    Wl, vl = W * rng.standard_normal((m, d)) * lo, v * rng.standard_normal(m) * lo
    Wl.flat[1::4] = 0.0
    return X, y, 0.37, W, Wl, v, vl


def _bitwise(fast, ref) -> None:
    """Every field of the two DDSteps has the same float64 bits (signed zeros included)."""
    for field in dataclasses.fields(ref):
        a, b = np.asarray(getattr(fast, field.name)), np.asarray(getattr(ref, field.name))
        assert a.shape == b.shape and a.dtype == b.dtype == np.float64, field.name
        assert np.array_equal(a.view(np.uint64), b.view(np.uint64)), field.name


@pytest.fixture(scope="module")
def kernels():
    return fused.kernels("dd_kernels")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1.0, 12.0, 40.0, 1e-3, 1e-285])
def test_the_step_is_bitwise_the_verifiers(kernels, shape, scale) -> None:
    """Weights of size 12 and 40 put |z| on both sides of the saturation of dd tanh (|z| >= 41); 1e-285 makes
    products fall under Dekker's threshold 2^-900 (their bound u|p| in place of the error term)."""
    for seed in range(2):
        args = _inputs(*shape, seed, scale)
        if scale >= 12:
            z = np.abs(args[0] @ args[3].T)
            assert (z >= 41).any() and (z < 41).any()
        _bitwise(kernels.dd_step(*args), dd_step(*args))


def test_float_lo_parts_and_other_steps(kernels) -> None:
    """lo parts 0 (a float iterate: the slices skip lo), as large as hi allows, and other step sizes."""
    for lo in (0.0, 2.0**-53):
        for eta in (1e-3, 1.0, 7.5):
            X, y, _, W, Wl, v, vl = _inputs(20, 5, 16, 3, 2.0, lo)
            _bitwise(kernels.dd_step(X, y, eta, W, Wl, v, vl), dd_step(X, y, eta, W, Wl, v, vl))


@pytest.mark.parametrize("where", ["Z", "split", "update", "inf"])
def test_overflow_raises_in_both(kernels, where) -> None:
    """FloatingPointError from both steps where X W^T overflows, where Veltkamp's split of s A v overflows
    (v, y ~ 1e306), where only the update Q o (eta s v) overflows (v, y ~ 1e155), at an inf weight."""
    X, y, eta, W, Wl, v, vl = _inputs(12, 4, 4, 5)
    if where == "Z":
        W = W * 1e306
    elif where == "inf":
        W[1, 2] = np.inf
    else:
        big = 1e306 if where == "split" else 1e155
        v, y = v * big, y * big
    for step in (kernels.dd_step, dd_step):
        with np.errstate(all="ignore"), pytest.raises(FloatingPointError):
            step(X, y, eta, W, Wl, v, vl)


def test_certify_run_is_the_same_with_and_without_numba(monkeypatch) -> None:
    """certify_run in double-double: the same T and checkpoints (bitwise) by the kernels and by numpy; the
    kernels' certificate verifies."""
    problem = small()
    fast = certify_run(problem, checkpoint_every=10, precision="double-double")
    monkeypatch.setenv(fused.ENV, "1")
    assert fused.kernels("dd_kernels") is None
    ref = certify_run(problem, checkpoint_every=10, precision="double-double")
    monkeypatch.delenv(fused.ENV)
    assert fast.certified and ref.certified
    assert fast.hints["T"] == ref.hints["T"] and fast.hints["checkpoint_steps"] == ref.hints["checkpoint_steps"]
    C, R = fast.hints["checkpoints"], ref.hints["checkpoints"]
    assert C.shape == R.shape and np.array_equal(C.view(np.uint64), R.view(np.uint64))
    assert C[1:, 1].any()  # real lo parts
    result = check(seal(run_certificate(fast, problem)), None)
    assert result.valid, result.reason
