"""Hypothesis strategies for square-loss interpolation problems, in the style of ``hypothesis.extra.numpy``.

Every strategy generates a :class:`plproof.Problem` (model + targets y + start w0, docs/theory.md §0).
Hypothesis draws only the *structure* (sizes, activation, seeds, singular values); numpy builds the
arrays from the seeds, so examples are cheap and shrink to small, readable problems: sizes shrink
towards their minimum, seeds towards 0, singular values towards 1 and rotations away.

Sizes: ``n`` equations (data points), ``m`` trained parameters, ``width`` hidden units, ``dim``
input dimension. Inputs lie on the unit sphere of R^dim (:func:`plproof.data.unit_inputs`); targets
are uniform in [-y_scale, y_scale]. Arguments are validated when the strategy is *created*: an
invalid one raises :class:`InvalidStrategyArgument`, which is both a
:class:`hypothesis.errors.InvalidArgument` and a :class:`plproof.InvalidInput`.

A generated problem's ``repr`` replays it: ``make_problem('two_layer', n=2, ..., expect={...})`` rebuilds
the same problem from its drawn structure and checks the rebuilt X, y and w0 against the ones shown
(small arrays in full, large ones by shape and sha256 prefix), so a shrunk counterexample can be pasted
into a regression test.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Sequence

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from plproof.data import uniform_targets, unit_inputs
from plproof.errors import InvalidInput
from plproof.models import ACTIVATIONS, MLP, Linear, RandomFeatures, TwoLayer
from plproof.problem import Problem, array_fingerprint, array_repr

__all__ = [
    "GeneratedProblem",
    "InvalidStrategyArgument",
    "make_problem",
    "SMOOTH_ACTIVATIONS",
    "NONSMOOTH_ACTIVATIONS",
    "linear_problems",
    "random_feature_problems",
    "two_layer_problems",
    "mlp_problems",
    "problems",
    "underparameterized_problems",
    "nonsmooth_problems",
]

#: smooth activations (finite S1, S2: the kernel route applies, docs/theory.md §8)
SMOOTH_ACTIVATIONS: tuple[str, ...] = tuple(a for a, act in ACTIVATIONS.items() if act.smooth)
#: activations that are not C^2 (docs/theory.md §9, pitfall 10)
NONSMOOTH_ACTIVATIONS: tuple[str, ...] = tuple(a for a, act in ACTIVATIONS.items() if not act.smooth)

_MAX_SEED = 2**32 - 1
_PARAMS_PER_UNIT = {"both": lambda d: d + 1, "hidden": lambda d: d, "output": lambda d: 1}


class InvalidStrategyArgument(InvalidInput, InvalidArgument):
    """A strategy argument out of range: raised when the strategy is created, not when it is drawn."""


# ----------------------------------------------------------------------------- validation


def _fail(message: str) -> None:
    raise InvalidStrategyArgument(message)


def _check_int(value: Any, name: str, lowest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lowest:
        _fail(f"{name} must be an integer >= {lowest}, got {value!r}")
    return int(value)


def _check_range(lo: Any, hi: Any, name: str, lowest: int) -> tuple[int, int]:
    lo, hi = _check_int(lo, f"min_{name}", lowest), _check_int(hi, f"max_{name}", lowest)
    if lo > hi:
        _fail(f"min_{name}={lo} exceeds max_{name}={hi}: swap or widen them")
    return lo, hi


def _check_condition(max_condition: Any, allow_none: bool) -> float | None:
    if max_condition is None and allow_none:
        return None
    if isinstance(max_condition, bool) or not isinstance(max_condition, (int, float)) \
            or not math.isfinite(max_condition) or max_condition < 1:
        _fail(f"max_condition must be a finite number >= 1 (lambda_max / lambda_min of K(w0)), got {max_condition!r}")
    return float(max_condition)


def _check_positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        _fail(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _seed_strategy(seeds: Any) -> SearchStrategy[int]:
    if isinstance(seeds, SearchStrategy):
        return seeds
    return st.just(_check_int(seeds, "seeds", 0))


def _check_activations(activations: Any, smooth: bool) -> tuple[str, ...]:
    names = (activations,) if isinstance(activations, str) else tuple(activations)
    if not names:
        _fail("activations must name at least one activation")
    allowed = SMOOTH_ACTIVATIONS if smooth else NONSMOOTH_ACTIVATIONS
    for name in names:
        if name not in allowed:
            kind = "smooth" if smooth else "non-smooth"
            _fail(f"activation {name!r} is not a {kind} activation: use one of {', '.join(allowed)}")
    return names


def _check_choices(values: Any, allowed: Sequence[str], name: str) -> tuple[str, ...]:
    names = (values,) if isinstance(values, str) else tuple(values)
    if not names or any(v not in allowed for v in names):
        _fail(f"{name} must be a non-empty selection of {', '.join(allowed)}, got {values!r}")
    return names


# ----------------------------------------------------------------------------- replayable builders


class GeneratedProblem(Problem):
    """A generated :class:`Problem` that remembers how it was built: its ``repr`` is the
    :func:`make_problem` call that rebuilds it, with the arrays it must reproduce."""

    def __init__(self, model: Any, y: Any, w0: Any, family: str, params: dict[str, Any]) -> None:
        super().__init__(model, y, w0)
        self.family, self.params = family, params

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        arrays = {"X": self.model.X, "y": self.y, "w0": self.w0}
        expect = ", ".join(f"{k!r}: {array_repr(a)}" for k, a in arrays.items())
        return f"make_problem({self.family!r}{args}, expect={{{expect}}})"


def _build_linear(n: int, m: int, singular_values: Sequence[float], rotate: bool, seed: int,
                  y_scale: float = 1.0) -> tuple[Any, np.ndarray, np.ndarray]:
    """F(w) = X w with X = U diag(s) V^T (U, V orthogonal from ``seed`` if ``rotate``, else identities);
    y uniform in [-y_scale, y_scale] and w0 standard normal from ``seed``."""
    rank = min(n, m)
    if len(singular_values) != rank:
        raise InvalidInput(f"give min(n, m) = {rank} singular values, got {len(singular_values)}")
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((n, n)))[0] if rotate else np.eye(n)
    V = np.linalg.qr(rng.standard_normal((m, m)))[0] if rotate else np.eye(m)
    S = np.zeros((n, m))
    S[np.arange(rank), np.arange(rank)] = np.asarray(singular_values, dtype=np.float64)
    w0 = rng.standard_normal(m)
    return Linear(U @ S @ V.T), uniform_targets(n, y_scale, seed), w0


def _build_two_layer(n: int, dim: int, width: int, activation: str, seed: int, data_seed: int,
                     train: str = "both", init: str = "standard", y_scale: float = 1.0
                     ) -> tuple[Any, np.ndarray, None]:
    """TwoLayer(X, width, activation, seed, train, init) on X = unit_inputs(n, dim, data_seed),
    y = uniform_targets(n, y_scale, data_seed), w0 the model's default."""
    X = unit_inputs(n, dim, data_seed)
    return TwoLayer(X, width, activation, seed=seed, train=train, init=init), uniform_targets(n, y_scale, data_seed), None


def _build_random_features(n: int, dim: int, width: int, activation: str, seed: int, data_seed: int,
                           init: str = "standard", y_scale: float = 1.0) -> tuple[Any, np.ndarray, None]:
    """As :func:`_build_two_layer` with RandomFeatures (only v trained)."""
    X = unit_inputs(n, dim, data_seed)
    return RandomFeatures(X, width, activation, seed=seed, init=init), uniform_targets(n, y_scale, data_seed), None


def _build_mlp(n: int, dim: int, widths: Sequence[int], activation: str, seed: int, data_seed: int,
               y_scale: float = 1.0) -> tuple[Any, np.ndarray, None]:
    """MLP(X, widths, activation, seed) on X = unit_inputs(n, dim, data_seed), y from data_seed."""
    X = unit_inputs(n, dim, data_seed)
    return MLP(X, list(widths), activation, seed=seed), uniform_targets(n, y_scale, data_seed), None


_BUILDERS = {"linear": _build_linear, "random_features": _build_random_features, "two_layer": _build_two_layer,
             "mlp": _build_mlp}


def make_problem(family: str, *, expect: dict[str, Any] | None = None, **params: Any) -> GeneratedProblem:
    """Build the problem a strategy generates from its drawn structure (what a generated problem's repr shows).

    ``family`` and ``params``: ``"linear"`` (n, m, singular_values, rotate, seed, y_scale),
    ``"random_features"`` (n, dim, width, activation, seed, data_seed, init, y_scale), ``"two_layer"``
    (the same and train) or ``"mlp"`` (n, dim, widths, activation, seed, data_seed, y_scale).
    ``expect`` maps ``"X"``, ``"y"``, ``"w0"`` to the arrays (or :func:`plproof.problem.array_fingerprint`
    strings) the rebuilt problem must have: a mismatch (e.g. numpy's random generator changed) is an
    :class:`InvalidInput`, never a silently different problem.
    """
    if family not in _BUILDERS:
        raise InvalidInput(f"unknown family {family!r}: use one of {', '.join(_BUILDERS)}")
    builder = _BUILDERS[family]
    signature = inspect.signature(builder)
    try:
        signature.bind(**params)
    except TypeError:
        raise InvalidInput(f"make_problem({family!r}) takes {', '.join(signature.parameters)}, "
                           f"got {', '.join(params) or 'nothing'}") from None
    model, y, w0 = builder(**params)
    problem = GeneratedProblem(model, y, w0, family, dict(params))
    built = {"X": model.X, "y": problem.y, "w0": problem.w0}
    for key, want in (expect or {}).items():
        if key not in built:
            raise InvalidInput(f"expect takes X, y and w0, got {key!r}")
        have = built[key]
        same = (array_fingerprint(have) == want if isinstance(want, str)
                else array_repr(have) == array_repr(np.asarray(want, dtype=have.dtype)))
        if not same:
            raise InvalidInput(f"the rebuilt {key} ({array_fingerprint(have)}) differs from the expected one: "
                               "numpy may draw other random numbers here; build the Problem from the arrays")
    return problem


# ----------------------------------------------------------------------------- shared draws


def _kernel_condition(problem: Problem) -> float:
    """lambda_max / lambda_min of K(w0) in float64 (inf when lambda_min <= 0)."""
    lam = np.linalg.eigvalsh(problem.kernel())
    return float(lam[-1] / lam[0]) if lam[0] > 0 else math.inf


def _finish(problem: Problem, max_condition: float | None) -> Problem:
    if max_condition is not None:
        assume(_kernel_condition(problem) <= max_condition)
    return problem


@st.composite
def _linear(draw: Any, n_range: tuple[int, int], m_range: tuple[int, int], under: bool,
            max_condition: float, seeds: SearchStrategy[int], y_scale: float) -> Problem:
    n = draw(st.integers(n_range[0], n_range[1] if under else min(n_range[1], m_range[1])))
    m = draw(st.integers(max(m_range[0], 1), min(m_range[1], n - 1)) if under
             else st.integers(max(m_range[0], n), m_range[1]))
    seed = draw(seeds)
    rotate = draw(st.booleans())
    # singular values s_i = kappa^(-t_i / 2), t_i in [0, 1]: eigenvalues of K in [1/kappa, 1]
    t = np.array([draw(st.floats(0, 1, allow_nan=False)) for _ in range(min(n, m))])
    s = [float(v) for v in max_condition ** (-t / 2)]
    return make_problem("linear", n=n, m=m, singular_values=s, rotate=rotate, seed=seed, y_scale=y_scale)


@st.composite
def _two_layer(draw: Any, n_range: tuple[int, int], width_range: tuple[int, int], dim_range: tuple[int, int],
               activations: tuple[str, ...], trains: tuple[str, ...], inits: tuple[str, ...], under: bool,
               max_condition: float | None, seeds: SearchStrategy[int], y_scale: float,
               random_features: bool) -> Problem:
    d = draw(st.integers(*dim_range))
    train = draw(st.sampled_from(trains))
    per = _PARAMS_PER_UNIT[train](d)
    lo_w, hi_w = width_range
    if under:  # width * per < n
        n_lo, n_hi = max(n_range[0], lo_w * per + 1), n_range[1]
    else:  # width * per >= n
        n_lo, n_hi = n_range[0], min(n_range[1], hi_w * per)
    assume(n_lo <= n_hi)
    n = draw(st.integers(n_lo, n_hi))
    w_lo, w_hi = (lo_w, min(hi_w, (n - 1) // per)) if under else (max(lo_w, -(-n // per)), hi_w)
    init = draw(st.sampled_from(inits))
    if init == "symmetric":  # pairs of neurons: an even width
        assume(w_lo + w_lo % 2 <= w_hi)
        width = 2 * draw(st.integers((w_lo + 1) // 2, w_hi // 2))
    else:
        width = draw(st.integers(w_lo, w_hi))
    activation = draw(st.sampled_from(activations))
    seed, data_seed = draw(seeds), draw(seeds)
    common = dict(n=n, dim=d, width=width, activation=activation, seed=seed, data_seed=data_seed)
    if random_features:
        problem = make_problem("random_features", **common, init=init, y_scale=y_scale)
    else:
        problem = make_problem("two_layer", **common, train=train, init=init, y_scale=y_scale)
    return _finish(problem, max_condition)


@st.composite
def _mlp(draw: Any, n_range: tuple[int, int], width_range: tuple[int, int], dim_range: tuple[int, int],
         depth_range: tuple[int, int], activations: tuple[str, ...], max_condition: float | None,
         seeds: SearchStrategy[int], y_scale: float) -> Problem:
    d = draw(st.integers(*dim_range))
    depth = draw(st.integers(*depth_range))
    widths = [draw(st.integers(*width_range)) for _ in range(depth)]
    params = sum(h * f for h, f in zip(widths, [d] + widths[:-1])) + widths[-1]
    assume(params >= n_range[0])
    n = draw(st.integers(n_range[0], min(n_range[1], params)))
    activation = draw(st.sampled_from(activations))
    seed, data_seed = draw(seeds), draw(seeds)
    problem = make_problem("mlp", n=n, dim=d, widths=widths, activation=activation, seed=seed,
                           data_seed=data_seed, y_scale=y_scale)
    return _finish(problem, max_condition)


# ----------------------------------------------------------------------------- public strategies


def linear_problems(*, min_n: int = 1, max_n: int = 6, min_m: int = 1, max_m: int = 12,
                    max_condition: float = 100.0, seeds: "SearchStrategy[int] | int" = st.integers(0, _MAX_SEED),
                    y_scale: float = 1.0) -> SearchStrategy[Problem]:
    """Over-parameterised linear least-squares problems F(w) = X w (docs/theory.md §7).

    Generates ``X = U diag(s) V^T`` in R^{n x m} with ``min_n <= n <= max_n``, ``max(min_m, n) <= m <=
    max_m`` and singular values ``s_i`` in [max_condition^(-1/2), 1], so K = X X^T has full rank n and
    condition number at most ``max_condition`` (up to float64 rounding of X); U, V are orthogonal
    (identity in shrunk examples), y uniform in [-y_scale, y_scale] and w0 standard normal from the seed.
    Invalid: sizes < 1, ``min_* > max_*``, ``max_m < min_n`` (no over-parameterised size),
    ``max_condition < 1`` or not finite, ``y_scale <= 0``, a negative seed.
    """
    n_range = _check_range(min_n, max_n, "n", 1)
    m_range = _check_range(min_m, max_m, "m", 1)
    if m_range[1] < n_range[0]:
        _fail(f"max_m={m_range[1]} < min_n={n_range[0]}: no over-parameterised (m >= n) size exists")
    cond = _check_condition(max_condition, allow_none=False)
    return _linear(n_range, m_range, False, cond, _seed_strategy(seeds), _check_positive(y_scale, "y_scale"))


def random_feature_problems(*, min_n: int = 1, max_n: int = 6, min_width: int = 1, max_width: int = 16,
                            min_dim: int = 2, max_dim: int = 4,
                            activations: "str | Sequence[str]" = SMOOTH_ACTIVATIONS,
                            max_condition: float | None = None,
                            seeds: "SearchStrategy[int] | int" = st.integers(0, _MAX_SEED),
                            y_scale: float = 1.0) -> SearchStrategy[Problem]:
    """Over-parameterised random-features problems m^{-1/2} v^T sigma(W0 x), only v trained (docs/theory.md §8).

    ``n <= width`` (so m = width >= n); W0 and v0 standard normal from a seed, inputs on the unit
    sphere of R^dim. With ``max_condition`` only problems whose K(w0) has condition number at most
    that (float64 eigenvalues) are kept; without it K(w0) is full rank generically but may be
    ill-conditioned. Invalid: sizes < 1, ``min_* > max_*``, ``max_width < min_n``, an activation
    outside :data:`SMOOTH_ACTIVATIONS`, ``max_condition < 1``, ``y_scale <= 0``, a negative seed.
    """
    return _two_layer_strategy(min_n, max_n, min_width, max_width, min_dim, max_dim, activations, ("output",),
                               ("standard",), False, max_condition, seeds, y_scale, random_features=True)


def two_layer_problems(*, min_n: int = 1, max_n: int = 6, min_width: int = 1, max_width: int = 16,
                       min_dim: int = 2, max_dim: int = 4,
                       activations: "str | Sequence[str]" = SMOOTH_ACTIVATIONS,
                       train: "str | Sequence[str]" = ("both", "hidden"),
                       init: "str | Sequence[str]" = ("standard", "symmetric"),
                       max_condition: float | None = None,
                       seeds: "SearchStrategy[int] | int" = st.integers(0, _MAX_SEED),
                       y_scale: float = 1.0) -> SearchStrategy[Problem]:
    """Over-parameterised two-layer networks m^{-1/2} v^T sigma(W x) in NTK parametrisation (docs/theory.md §8).

    ``train`` picks the trained blocks (``both``: m = width (dim + 1); ``hidden``: m = width dim;
    ``output``: m = width); n is drawn so that m >= n. ``init="symmetric"`` (even widths only) pairs
    neurons so that F(w0) = 0. ``max_condition`` as in :func:`random_feature_problems`.
    Invalid: sizes < 1, ``min_* > max_*``, bounds with no size where m >= min_n, an unknown train
    mode or init, a non-smooth activation (use :func:`nonsmooth_problems`), ``max_condition < 1``,
    ``y_scale <= 0``, a negative seed.
    """
    trains = _check_choices(train, tuple(_PARAMS_PER_UNIT), "train")
    inits = _check_choices(init, ("standard", "symmetric"), "init")
    return _two_layer_strategy(min_n, max_n, min_width, max_width, min_dim, max_dim, activations, trains, inits,
                               False, max_condition, seeds, y_scale, random_features=False)


def _two_layer_strategy(min_n: Any, max_n: Any, min_width: Any, max_width: Any, min_dim: Any, max_dim: Any,
                        activations: Any, trains: tuple[str, ...], inits: tuple[str, ...], under: bool,
                        max_condition: Any, seeds: Any, y_scale: Any, *, random_features: bool,
                        smooth: bool = True) -> SearchStrategy[Problem]:
    n_range = _check_range(min_n, max_n, "n", 1)
    width_range = _check_range(min_width, max_width, "width", 1)
    dim_range = _check_range(min_dim, max_dim, "dim", 1)
    if under:
        smallest = min(_PARAMS_PER_UNIT[t](dim_range[0]) for t in trains) * width_range[0]
        if smallest >= n_range[1]:
            _fail(f"max_n={n_range[1]} leaves no room for m < n (the smallest network has {smallest} parameters)")
    else:
        largest = max(_PARAMS_PER_UNIT[t](dim_range[1]) for t in trains) * width_range[1]
        if largest < n_range[0]:
            _fail(f"the largest network has {largest} parameters < min_n={n_range[0]}: raise max_width")
    return _two_layer(n_range, width_range, dim_range, _check_activations(activations, smooth), trains, inits,
                      under, _check_condition(max_condition, allow_none=True), _seed_strategy(seeds),
                      _check_positive(y_scale, "y_scale"), random_features)


def mlp_problems(*, min_n: int = 1, max_n: int = 6, min_width: int = 1, max_width: int = 6,
                 min_depth: int = 2, max_depth: int = 3, min_dim: int = 2, max_dim: int = 4,
                 activations: "str | Sequence[str]" = SMOOTH_ACTIVATIONS, max_condition: float | None = None,
                 seeds: "SearchStrategy[int] | int" = st.integers(0, _MAX_SEED),
                 y_scale: float = 1.0) -> SearchStrategy[Problem]:
    """Over-parameterised deep networks (``depth`` hidden layers, NTK parametrisation, docs/theory.md §4.2, §13).

    Each hidden width is drawn in [min_width, max_width] and n in [min_n, min(max_n, m)], so m >= n;
    examples whose sizes leave no such n are rejected. ``max_condition`` as in
    :func:`random_feature_problems`. Invalid: sizes < 1, ``min_* > max_*``, an activation outside
    :data:`SMOOTH_ACTIVATIONS`, ``max_condition < 1``, ``y_scale <= 0``, a negative seed.
    """
    return _mlp(_check_range(min_n, max_n, "n", 1), _check_range(min_width, max_width, "width", 1),
                _check_range(min_dim, max_dim, "dim", 1), _check_range(min_depth, max_depth, "depth", 1),
                _check_activations(activations, True), _check_condition(max_condition, allow_none=True),
                _seed_strategy(seeds), _check_positive(y_scale, "y_scale"))


def problems(*, min_n: int = 1, max_n: int = 6, max_width: int = 16, min_dim: int = 2, max_dim: int = 4,
             activations: "str | Sequence[str]" = SMOOTH_ACTIVATIONS,
             seeds: "SearchStrategy[int] | int" = st.integers(0, _MAX_SEED)) -> SearchStrategy[Problem]:
    """Over-parameterised problems of any smooth family: linear, random features, two-layer or MLP.

    Shrinks towards the linear family. Linear problems have m <= 2 max_n; ``max_width`` bounds the
    hidden widths (capped at 6 for the MLPs). Invalid: as for the families.
    """
    n_range = _check_range(min_n, max_n, "n", 1)
    common = dict(min_n=n_range[0], max_n=n_range[1], seeds=_seed_strategy(seeds))
    nets = dict(common, min_dim=min_dim, max_dim=max_dim, activations=activations)
    return st.one_of(
        linear_problems(max_m=2 * n_range[1], **common),
        random_feature_problems(max_width=max_width, **nets),
        two_layer_problems(max_width=max_width, **nets),
        mlp_problems(max_width=min(max_width, 6), **nets),
    )


def underparameterized_problems(*, min_n: int = 2, max_n: int = 8, max_width: int = 4, min_dim: int = 1,
                                max_dim: int = 3, activations: "str | Sequence[str]" = SMOOTH_ACTIVATIONS,
                                seeds: "SearchStrategy[int] | int" = st.integers(0, _MAX_SEED)
                                ) -> SearchStrategy[Problem]:
    """Under-parameterised problems, m < n (docs/theory.md §5): linear, random features or two-layer.

    Linear: X in R^{n x m} with 1 <= m < n, full column rank. Networks: width * (params per unit) < n.
    Invalid: ``min_n < 2`` (m < n needs n >= 2), ``max_n`` too small for the smallest network,
    sizes < 1, ``min_* > max_*``, a non-smooth activation, a negative seed.
    """
    n_range = _check_range(min_n, max_n, "n", 2)
    seeds = _seed_strategy(seeds)
    nets = dict(min_n=n_range[0], max_n=n_range[1], min_width=1, max_width=max_width, min_dim=min_dim,
                max_dim=max_dim, activations=activations, inits=("standard",), under=True,
                max_condition=None, seeds=seeds, y_scale=1.0)
    return st.one_of(
        _linear(n_range, (1, n_range[1] - 1), True, 100.0, seeds, 1.0),
        _two_layer_strategy(trains=("output",), random_features=True, **nets),
        _two_layer_strategy(trains=("both", "hidden"), random_features=False, **nets),
    )


def nonsmooth_problems(*, min_n: int = 1, max_n: int = 6, min_width: int = 1, max_width: int = 16,
                       min_dim: int = 2, max_dim: int = 4,
                       activations: "str | Sequence[str]" = NONSMOOTH_ACTIVATIONS,
                       seeds: "SearchStrategy[int] | int" = st.integers(0, _MAX_SEED)) -> SearchStrategy[Problem]:
    """Over-parameterised two-layer networks whose hidden layer is trained through a non-smooth activation.

    ReLU, leaky ReLU or abs with ``train`` in {both, hidden}: DF is not Lipschitz, so nothing may
    certify them (docs/theory.md §9, pitfall 10). (Random features with ReLU are linear in v, hence
    smooth, and are not generated.) Invalid: a smooth activation, sizes < 1, ``min_* > max_*``,
    a negative seed.
    """
    return _two_layer_strategy(min_n, max_n, min_width, max_width, min_dim, max_dim, activations,
                               ("both", "hidden"), ("standard",), False, None, seeds, 1.0,
                               random_features=False, smooth=False)
