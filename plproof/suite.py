"""The built-in example problems that ``plproof certify`` runs by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from plproof.data import uniform_targets, unit_inputs
from plproof.models import MLP, Linear, RandomFeatures, TwoLayer
from plproof.problem import Problem


def _linear_exact() -> Problem:
    # docs/theory.md §7: K = [[6, 1], [1, 3]], eigenvalues (9 +- sqrt 13)/2, w_inf = (6, 10, 15, -9)/17
    X = np.array([[1, 2, 0, 1], [0, 1, 1, -1]], dtype=float)
    return Problem(Linear(X), [1, 2], [1, 0, -1, 2])


def _random_features() -> Problem:
    return Problem(RandomFeatures(unit_inputs(10, 5, 1), 64, "tanh", seed=1), uniform_targets(10, 0.5, 1))


def _two_layer_symmetric() -> Problem:
    return Problem(TwoLayer(unit_inputs(10, 16, 2), 64, "tanh", seed=2, init="symmetric"),
                   uniform_targets(10, 0.02, 2))


def _two_layer_sigmoid() -> Problem:
    return Problem(TwoLayer(unit_inputs(8, 3, 3), 32, "sigmoid", seed=3), uniform_targets(8, 0.5, 3))


def _mlp() -> Problem:
    return Problem(MLP(unit_inputs(8, 4, 4), [16, 16], "softplus", seed=4), uniform_targets(8, 0.5, 4))


def _underparameterized() -> Problem:
    return Problem(TwoLayer(unit_inputs(10, 3, 5), 1, "tanh", seed=5), uniform_targets(10, 0.5, 5))


def _toy_w1w2() -> Problem:
    from plproof.catalogue import toy_w1w2  # docs/theory.md §5; imported here: the catalogue imports this module

    return toy_w1w2()


def _relu() -> Problem:
    return Problem(TwoLayer(unit_inputs(8, 3, 6), 32, "relu", seed=6), uniform_targets(8, 0.5, 6))


#: name -> builder of the built-in problems (small enough for 50-digit checks)
BUILTIN_PROBLEMS: dict[str, Callable[[], Problem]] = {
    "linear-exact": _linear_exact,
    "random-features-tanh": _random_features,
    "two-layer-tanh-symmetric": _two_layer_symmetric,
    "two-layer-sigmoid": _two_layer_sigmoid,
    "mlp-softplus": _mlp,
    "under-parameterised": _underparameterized,
    "two-layer-relu": _relu,
    "toy-w1w2": _toy_w1w2,
}

#: the verdict each built-in problem must get from ``check`` (a different one is a regression)
EXPECTED_VERDICTS: dict[str, str] = {
    "linear-exact": "certified",
    "random-features-tanh": "certified",
    "two-layer-tanh-symmetric": "certified",
    "two-layer-sigmoid": "not certified",
    "mlp-softplus": "not certified",
    "under-parameterised": "not certifiable",
    "two-layer-relu": "not certifiable",
    "toy-w1w2": "certified",
}


@dataclass(frozen=True)
class Suite:
    """What ``plproof certify`` runs: derivation names, property files and problem names (None = all)."""

    name: str
    derivations: tuple[str, ...] | None
    properties: tuple[str, ...] | None
    problems: tuple[str, ...]


SUITES: dict[str, Suite] = {
    "default": Suite("default", None, None, tuple(BUILTIN_PROBLEMS)),
    # small and deterministic: committed under certificates/paper and re-verified by the tests
    "paper": Suite("paper", ("gradient", "kernel", "pl-star", "gd-rfl"),
                   ("test_pl_star.py", "test_conventions.py", "test_linear_least_squares.py"),
                   ("linear-exact", "two-layer-tanh-symmetric", "under-parameterised")),
    # the examples of plproof.catalogue (each with the textbook value it must match, docs/reports.md)
    "catalogue": Suite("catalogue", ("linear-ls",), ("test_pl_functions.py",),
                       ("linear-exact", "toy-w1w2", "two-layer-tanh-symmetric")),
}
