"""One network, four representations: built-in TwoLayer, SympyModel, CallableModel, torch Sequential.

The tangent kernels at w0 agree to 1e-10 and the verdicts agree; the rigor levels differ as they should
(built-in and SymPy ``verified``, a black-box callable ``sampled``, torch translated to the built-in MLP).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from plproof import Problem, RigorLevel, TwoLayer, check
from plproof.cli.check import _translated

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def four():
    sympy_ex, numpy_ex = load("sympy_model"), load("numpy_model")
    builtin = Problem(TwoLayer(sympy_ex.X, sympy_ex.WIDTH, seed=1), sympy_ex.y)
    problems = {"builtin": builtin, "sympy": sympy_ex.problem, "callable": numpy_ex.problem}
    if importlib.util.find_spec("torch") is not None:
        problems["torch"] = _translated(load("torch_model").problem)
    return problems


def test_kernels_agree_at_w0(four):
    K = four["builtin"].kernel()
    for name, problem in four.items():
        np.testing.assert_allclose(problem.kernel(), K, rtol=0, atol=1e-10, err_msg=name)


def test_same_verdict_with_the_rigor_each_representation_allows(four):
    expected = {"builtin": RigorLevel.VERIFIED, "sympy": RigorLevel.VERIFIED, "callable": RigorLevel.SAMPLED,
                "torch": RigorLevel.VERIFIED}
    verdicts = {}
    for name, problem in four.items():
        ev = check(problem, confirm=False)
        verdicts[name] = ev.verdict
        assert ev.rigor is expected[name], name
    assert len(set(verdicts.values())) == 1, verdicts
