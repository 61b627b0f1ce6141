"""BLAS threads of plproof's step loops (plproof/numeric/threads.py): the setting, its bad values, and that a GD
run sees it while the BLAS pool is restored afterwards."""

from __future__ import annotations

import numpy as np
import pytest

from plproof import CallableModel
from plproof.errors import InvalidInput
from plproof.numeric import threads
from plproof.numeric.runners import gradient_descent
from plproof.problem import Problem

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_pool() -> list[int]:
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


def test_setting_and_bad_values(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    assert threads.loop_threads() == 1
    monkeypatch.setenv(threads.ENV, "3")
    assert threads.loop_threads() == 3
    monkeypatch.setenv(threads.ENV, " System ")
    assert threads.loop_threads() is None
    for bad in ("0", "-1", "two", "1.5"):
        monkeypatch.setenv(threads.ENV, bad)
        with pytest.raises(InvalidInput, match=threads.ENV):
            threads.loop_threads()


def test_a_gd_run_uses_the_setting_and_restores_the_pool(monkeypatch):
    if not blas_pool():
        pytest.skip("threadpoolctl finds no BLAS in this numpy")
    before = blas_pool()
    seen = []

    def F(w):
        seen.append(blas_pool())
        return np.tanh(w)

    problem = Problem(CallableModel(F, 2, w0=[0.1, 0.2]), [0.0, 0.0])
    for setting, want in (("2", [2]), (None, [1])):
        if setting is None:
            monkeypatch.delenv(threads.ENV, raising=False)
        else:
            monkeypatch.setenv(threads.ENV, setting)
        seen.clear()
        gradient_descent(problem, 0.1, 2)
        assert seen and all(pool == want * len(before) for pool in seen)
        assert blas_pool() == before
