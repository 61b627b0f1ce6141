"""Loading what users point plproof at: ``file.py:name`` or ``package.module:name``, and data files.

The name may be a Model, a Problem, or a function returning one. Data: .npz with arrays X and y,
.npy (targets y), or .csv (last column y, the others X). Every failure is an InvalidInput with one line.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

import numpy as np

from plproof.errors import InvalidInput
from plproof.models.base import Model, check_finite_matrix
from plproof.problem import Problem, target_vector


def load_object(target: str) -> Any:
    """The object named by ``path/to/file.py:name`` or ``package.module:name``."""
    if ":" not in target:
        raise InvalidInput(f"target {target!r} must look like path/to/file.py:name or package.module:name")
    where, name = target.rsplit(":", 1)
    if where.endswith(".py") or "/" in where or Path(where).suffix:
        path = Path(where)
        if not path.is_file():
            raise InvalidInput(f"target file {where!r} does not exist")
        spec = importlib.util.spec_from_file_location(f"plproof_user_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.parent.resolve()))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # a user's file: any error is bad input, reported in one line
            raise InvalidInput(f"could not import {where}: {type(exc).__name__}: {exc}") from None
        finally:
            sys.path.pop(0)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise InvalidInput(f"could not import module {where!r}: {exc}") from None
    if not hasattr(module, name):
        raise InvalidInput(f"{where} has no attribute {name!r}")
    return getattr(module, name)


def load_data(path: str) -> tuple[np.ndarray | None, np.ndarray]:
    """(X or None, y) from .npz (X, y), .npy (y) or .csv (X columns then y)."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"data file {path!r} does not exist")
    try:
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as f:
                if "y" not in f:
                    raise InvalidInput(f"{path} has no array 'y' (arrays found: {', '.join(f.files)})")
                X = np.asarray(f["X"], dtype=float) if "X" in f else None
                y = np.asarray(f["y"], dtype=float)
        elif p.suffix == ".npy":
            X, y = None, np.asarray(np.load(p, allow_pickle=False), dtype=float)
        elif p.suffix == ".csv":
            table = np.atleast_2d(np.loadtxt(p, delimiter=",", dtype=float))
            X, y = (table[:, :-1], table[:, -1]) if table.shape[1] > 1 else (None, table[:, 0])
        else:
            raise InvalidInput(f"data file {path!r} must be .npz, .npy or .csv")
    except (ValueError, OSError) as exc:
        raise InvalidInput(f"could not read data file {path}: {exc}") from None
    if X is not None:
        X = check_finite_matrix(X, "X in the data file")
    y = target_vector(y, f"y in {path}")
    if not np.isfinite(y).all():
        raise InvalidInput(f"y in {path} has NaN or Inf: clean the targets")
    if X is not None and X.shape[0] != y.shape[0]:
        raise InvalidInput(f"{path}: X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    return X, y


def load_vector(path: str, name: str = "w0") -> np.ndarray:
    """A parameter vector from .npy or .csv."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"{name} file {path!r} does not exist")
    try:
        v = np.load(p, allow_pickle=False) if p.suffix == ".npy" else np.loadtxt(p, delimiter=",")
    except (ValueError, OSError) as exc:
        raise InvalidInput(f"could not read {name} file {path}: {exc}") from None
    return np.asarray(v, dtype=float).ravel()


def build_problem(obj: Any, data: tuple[np.ndarray | None, np.ndarray] | None = None,
                  w0: np.ndarray | None = None, seed: int | None = None) -> Problem:
    """A Problem from a Model, a Problem, or a function returning one (called with X, y if it takes them)."""
    if callable(obj) and not isinstance(obj, (Model, Problem)) and not inspect.isclass(obj):
        params = inspect.signature(obj).parameters
        kwargs = {}
        if data is not None:
            X, y = data
            if "X" in params and X is not None:
                kwargs["X"] = X
            if "y" in params:
                kwargs["y"] = y
        try:
            obj = obj(**kwargs)
        except Exception as exc:  # the user's function failed: bad input, one line
            raise InvalidInput(f"the target function raised {type(exc).__name__}: {exc}") from None
    if isinstance(obj, Problem):
        problem = obj
        if data is not None or w0 is not None or seed is not None:
            y = data[1] if data is not None else problem.y
            start = w0 if w0 is not None else (_seeded(problem.m, seed) if seed is not None else problem.w0)
            problem = Problem(problem.model, y, start)
        _check_outputs(problem)
        return problem
    if isinstance(obj, Model):
        if data is None:
            raise InvalidInput("the target is a Model: give its targets with --data FILE (y, and X if you like)")
        X, y = data
        model_X = getattr(obj, "X", None)
        if X is not None and model_X is not None and np.asarray(model_X).shape[0] != X.shape[0]:
            raise InvalidInput(f"the data has {X.shape[0]} rows but the model has {obj.n_outputs} outputs")
        start = w0 if w0 is not None else (_seeded(obj.n_params, seed) if seed is not None else None)
        problem = Problem(obj, y, start)
        _check_outputs(problem)
        return problem
    raise InvalidInput(f"the target must be a plproof Model, a Problem, or a function returning one; "
                       f"got {type(obj).__name__}")


def _seeded(m: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(m)


def _check_outputs(problem: Problem) -> None:
    """F(w0) and DF(w0) must be finite with the right shapes."""
    try:
        F = np.asarray(problem.model.F(problem.w0), dtype=float)
        J = np.asarray(problem.model.jacobian(problem.w0), dtype=float)
    except InvalidInput:
        raise
    except Exception as exc:  # user code: report it in one line
        raise InvalidInput(f"evaluating the model at w0 failed: {type(exc).__name__}: {exc}") from None
    if F.shape != (problem.n,):
        raise InvalidInput(f"the model returned F(w0) of shape {F.shape}, expected ({problem.n},)")
    if J.shape != (problem.n, problem.m):
        raise InvalidInput(f"the model returned a Jacobian of shape {J.shape}, expected ({problem.n}, {problem.m})")
    if not (np.isfinite(F).all() and np.isfinite(J).all()):
        raise InvalidInput("the model's outputs at w0 contain NaN or Inf")
