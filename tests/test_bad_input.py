"""Bad input gives one line and exit 2, never a traceback (issue 14, bug 5): magnitudes beyond float64,
NaN-free MLP ball bounds, y with more than one output column, malformed constructor arguments."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from plproof import MLP, Linear, Problem, TwoLayer, check
from plproof.cli.main import main
from plproof.errors import InvalidInput
from plproof.evidence import Evidence, Verdict
from plproof.loading import load_data
from plproof.theory.mlp_bounds import rho_upper, mlp_ball_bounds, mlp_centre

# ---------------------------------------------------------------- magnitudes beyond float64


def test_linear_entries_spanning_400_decades_refused_in_one_line() -> None:
    with pytest.raises(InvalidInput, match=r"rescale X .*span 400 orders of magnitude") as info:
        check(Problem(Linear([[1e200, 1e-200, 1.0], [1.0, 2.0, 3.0]]), [1.0, 2.0], np.zeros(3)))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("y, w0, name", [([1e200, 0.0], None, "y"), ([0.0, 0.0], [1e200, 0.0], "w0")])
def test_targets_or_start_beyond_float64_refused(y: list, w0: list | None, name: str) -> None:
    with pytest.raises(InvalidInput, match=rf"^{name} is too large for float64 arithmetic"):
        check(Problem(Linear(np.eye(2)), y, w0))


def test_exact_residual_beyond_float64_refused() -> None:
    """X and w0 each within range, but F(w0) = X w0 ~ 5e299: ||r0||^2 cannot be bounded in float64."""
    big = 7e149
    problem = Problem(Linear([[big, 1.0], [1.0, 2.0]]), [0.1, 0.2], [big, 0.0])
    with pytest.raises(InvalidInput, match=r"^the residual F\(w0\) - y is too large .*rescale X, y or w0"):
        check(problem)


def test_kernel_beyond_float64_refused_in_the_ball_path() -> None:
    """n = 20 > EXACT_AUTO_MAX_N: K(w0) in balls, whose Frobenius norm squared would overflow."""
    problem = Problem(Linear(np.eye(20) * 2e149), np.ones(20))
    with pytest.raises(InvalidInput, match=r"^K\(w0\) = DF\(w0\) DF\(w0\)\^T is too large"):
        check(problem)


def test_large_but_representable_data_still_gets_a_verdict() -> None:
    """The limit refuses only what float64 cannot carry: entries of 1e100 still run (and never certify wrongly)."""
    ev = check(Problem(Linear([[1e100, 1e-100, 1.0], [1.0, 2.0, 3.0]]), [1.0, 2.0], np.zeros(3)))
    assert isinstance(ev, Evidence) and ev.verdict is not Verdict.CERTIFIED


# ---------------------------------------------------------------- MLP ball bounds without NaN


def _x(n: int, d: int) -> np.ndarray:
    X = np.random.default_rng(0).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.mark.parametrize("problem", [
    lambda: Problem(MLP(_x(2, 3), [8, 8, 8], "tanh", init="symmetric"), [0.1, -0.1]),
    lambda: Problem(MLP(_x(2, 3), [8, 8, 8], "sin", init="symmetric"), [0.0, 0.1]),
    lambda: Problem(MLP(np.eye(3)[:2], [128, 128, 128], "sigmoid", seed=0, init="symmetric"), [0.02, -0.02]),
], ids=["tanh-symmetric", "sin-symmetric", "sigmoid-128-symmetric"])
def test_deep_symmetric_mlp_gets_a_verdict(problem) -> None:
    ev = check(problem())
    assert isinstance(ev, Evidence) and ev.verdict in (Verdict.CERTIFIED, Verdict.NOT_CERTIFIED)
    assert math.isfinite(float(ev.quantities["mu"].lo)) and ev.quantities["epsilon"].hi > 0


def test_mlp_centre_bounds_are_finite_where_backward_vectors_vanish() -> None:
    """init='symmetric': every g_l below the last layer is 0 at w0; its norm bound must be a number >= 0."""
    model = MLP(_x(2, 3), [8, 8, 8], "tanh", init="symmetric")
    c0 = mlp_centre(model, model.default_w0())
    for per_input in (c0.g_two, c0.d_two, c0.a_two):
        assert all(math.isfinite(v) and v >= 0 for row in per_input for v in row)
    bb = mlp_ball_bounds(model, model.default_w0(), 1e-3, c0)
    assert 0 < bb.epsilon < math.inf


def test_rho_upper_is_an_upper_bound_and_inf_where_entries_overflow() -> None:
    flint = pytest.importorskip("flint")
    M = [[flint.arb(v) for v in row] for row in [[1.0, 2.0, 0.0], [0.5, 3.0, 1.0], [0.0, 0.0, 0.25]]]
    Mf = np.array([[float(x.mid()) for x in row] for row in M])
    assert rho_upper(flint, M) >= np.linalg.eigvalsh((Mf + Mf.T) / 2)[-1]
    huge = [[flint.arb(2) ** 2000 for _ in range(2)] for _ in range(2)]  # beyond float64
    assert rho_upper(flint, huge) == math.inf
    nan = [[flint.arb("nan"), flint.arb(1)], [flint.arb(1), flint.arb(1)]]
    assert rho_upper(flint, nan) == math.inf
    assert rho_upper(flint, [[flint.arb(0)] * 2] * 2) == 0


# ---------------------------------------------------------------- y must be one output column


def test_two_column_y_refused_naming_its_shape() -> None:
    with pytest.raises(InvalidInput, match=r"^y has shape \(5, 2\): a single output column is needed"):
        Problem(Linear(np.eye(5)), np.zeros((5, 2)))


@pytest.mark.parametrize("y", [np.zeros((5, 1)), np.zeros((1, 5)), np.zeros(5)])
def test_one_column_y_accepted(y: np.ndarray) -> None:
    assert Problem(Linear(np.eye(5)), y).y.shape == (5,)


def test_two_column_y_in_a_data_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.eye(5), y=np.zeros((5, 2)))
    with pytest.raises(InvalidInput, match=r"has shape \(5, 2\): a single output column is needed"):
        load_data(str(path))


@pytest.mark.parametrize("y, w0, bad", [(["a", "b"], None, "'a'"), ([1.0, None], None, "None"),
                                        ([1.0, 2.0], ["x", "y"], "'x'")])
def test_non_numeric_targets_and_start_refused(y: list, w0: list | None, bad: str) -> None:
    with pytest.raises(InvalidInput, match=rf"must be an array of numbers; {bad} is not a number"):
        Problem(Linear(np.eye(2)), y, w0)


# ---------------------------------------------------------------- constructor arguments


@pytest.mark.parametrize("build, words", [
    (lambda: TwoLayer(np.eye(3), 4, seed=-1), "seed must be an integer >= 0"),
    (lambda: TwoLayer(np.eye(3), 4, seed=1.5), "seed must be an integer >= 0"),
    (lambda: MLP(np.eye(3), [4], seed="a"), "seed must be an integer >= 0"),
    (lambda: MLP(np.eye(3), None), "widths must be a non-empty list"),
    (lambda: MLP(np.eye(3), 8.0), "widths must be a non-empty list"),
    (lambda: TwoLayer(np.eye(3), 10**15), "does not fit in memory"),
])
def test_malformed_constructor_arguments_refused(build, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        build()


def test_widths_may_be_any_iterable() -> None:
    assert MLP(np.eye(3), (h for h in [4, 2])).widths == [4, 2]


# ---------------------------------------------------------------- through the CLI


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "models.py").write_text(textwrap.dedent('''
        import numpy as np
        from plproof import MLP, Linear
        spread = Linear([[1e200, 1e-200, 1.0], [1.0, 2.0, 3.0]])
        five = Linear(np.eye(5))
        deep = MLP(np.eye(3)[:2], [8, 8, 8], "tanh", init="symmetric")
    '''))
    np.save(tmp_path / "y2.npy", np.array([0.1, -0.1]))
    np.savez(tmp_path / "y52.npz", y=np.zeros((5, 2)))
    return tmp_path


@pytest.mark.parametrize("target, data, words", [
    ("spread", "y2.npy", "rescale X"),
    ("five", "y52.npz", "a single output column is needed"),
])
def test_cli_bad_input_is_one_line_and_exit_2(files: Path, capsys, target: str, data: str, words: str) -> None:
    code = main(["check", f"{files / 'models.py'}:{target}", "--data", str(files / data)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("plproof check: ") and words in err[-1]


def test_cli_deep_symmetric_mlp_gives_a_verdict(files: Path, capsys) -> None:
    code = main(["check", f"{files / 'models.py'}:deep", "--data", str(files / "y2.npy")])
    assert code in (0, 1) and "verdict:" in capsys.readouterr().out


def test_complex_data_is_refused_not_silently_made_real():
    with pytest.raises(InvalidInput, match="complex"):
        Linear(np.array([[1 + 1j, 2.0], [0.0, 1.0]]))
