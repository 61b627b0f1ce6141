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
from plproof.loading import load_object

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(target: str):
    return load_object(f"{EXAMPLES}/{target}")


@pytest.fixture(scope="module")
def four():
    sympy_problem = example("sympy_model.py:problem")
    builtin = Problem(TwoLayer(example("sympy_model.py:X"), example("sympy_model.py:WIDTH"), seed=1), sympy_problem.y)
    problems = {"builtin": builtin, "sympy": sympy_problem, "callable": example("numpy_model.py:problem")}
    if importlib.util.find_spec("torch") is not None:
        problems["torch"] = _translated(example("torch_model.py:problem"))
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
