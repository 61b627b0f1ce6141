"""Loading what users point plproof at: ``file.py:name`` or ``package.module:name``, and data files.

The name may be a Model, a Problem, or a function returning one. A module is looked up in the
working directory first, then on ``sys.path`` (as ``python -m`` does); a folder with ``__init__.py``
loads as a package. Data files (see :func:`load_data`): .npz with arrays X and y; two .npy files
``X.npy,y.npy``; one .npy (y); or .csv with an optional header row, where the column headed ``y``
(else the last column) is y and the others are X. Every failure is an InvalidInput with one line.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import inspect
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from plproof.errors import InvalidInput
from plproof.models.base import Model, check_finite_matrix
from plproof.problem import Problem, target_vector

#: optional packages a user's module may need -> the plproof extra that installs them
EXTRAS = {"torch": "torch", "jax": "jax", "jaxlib": "jax", "matplotlib": "plot", "rich": "rich", "dask": "sweep",
          "distributed": "sweep"}
#: the CPU build of torch (the default wheel on PyPI pulls several GB of CUDA libraries)
TORCH_CPU = "pip install torch --index-url https://download.pytorch.org/whl/cpu"

Data = tuple[np.ndarray | None, np.ndarray]
#: the data files --data accepts (for the CLI's help)
DATA_FORMATS = (".npz with arrays X and y; X.npy,y.npy (two files, comma-separated); y.npy alone; or .csv with "
                "an optional header row (the column headed y, else the last column, is y; the others are X)")


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """How to install a missing optional dependency, or None if it is not one of plproof's extras."""
    root = (exc.name or "").split(".")[0]
    if root not in EXTRAS:
        return None
    hint = f"pip install 'plproof[{EXTRAS[root]}]'"
    if root == "torch":
        hint += f" (on a machine without a GPU first: {TORCH_CPU})"
    return f"it needs {root}, which is not installed: {hint}"


def load_object(target: str) -> Any:
    """The object named by ``path/to/file.py:name``, ``folder:name`` (a package) or ``package.module:name``."""
    if ":" not in target:
        raise InvalidInput(f"target {target!r} must look like path/to/file.py:name or package.module:name")
    where, name = target.rsplit(":", 1)
    if not where or not name:
        raise InvalidInput(f"target {target!r} must look like path/to/file.py:name or package.module:name")
    path = Path(where)
    if where.endswith(".py") or "/" in where or os.sep in where or path.exists():
        module = _load_path(path, where)
    else:
        module = _import(where)
    if not hasattr(module, name):
        raise InvalidInput(f"{where} has no attribute {name!r}")
    return getattr(module, name)


def _import_error(exc: BaseException, where: str) -> InvalidInput:
    """A failure of the user's module as one line (naming the plproof extra a missing package comes with)."""
    extra = missing_extra(exc) if isinstance(exc, ModuleNotFoundError) else None
    return InvalidInput(f"could not import {where}: {extra or f'{type(exc).__name__}: {exc}'}")


def _load_path(path: Path, where: str) -> Any:
    """A .py file, or a folder with ``__init__.py`` (a package, so its relative imports work)."""
    if path.is_dir():
        init = path / "__init__.py"
        if not init.is_file():
            raise InvalidInput(f"target {where!r} is a folder without __init__.py: name a file in it "
                               f"({where.rstrip('/')}/file.py:name) or make it a package")
        file, search = init, [str(path.resolve())]
    elif path.is_file():
        file, search = path, None
    else:
        raise InvalidInput(f"target file {where!r} does not exist")
    stem = path.resolve().name if search else path.stem
    mod_name = f"plproof_user_{stem}"
    spec = importlib.util.spec_from_file_location(mod_name, file, submodule_search_locations=search)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"target {where!r} is not a Python file: name a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # dataclasses, pickling and relative imports look the module up here
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except InvalidInput:
        del sys.modules[mod_name]
        raise
    except Exception as exc:  # a user's module: any error is bad input, reported in one line
        del sys.modules[mod_name]
        raise _import_error(exc, where) from None
    finally:
        sys.path.pop(0)
    return module


def _import(where: str) -> Any:
    """``package.module`` from the working directory (first) or ``sys.path``."""
    if not all(part.isidentifier() for part in where.split(".")):
        raise InvalidInput(f"target {where!r} is neither a file that exists nor a module name (package.module)")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)  # as `python -m` does; the console script does not put it there
    parents = {".".join(where.split(".")[:k]) for k in range(1, where.count(".") + 2)}
    try:
        return importlib.import_module(where)
    except InvalidInput:
        raise
    except ModuleNotFoundError as exc:
        if exc.name in parents:
            raise InvalidInput(f"no module named {exc.name!r} in {cwd} or on PYTHONPATH: run from the folder "
                               "that holds it, or name the file (path/to/file.py:name)") from None
        raise _import_error(exc, where) from None
    except Exception as exc:  # a user's module: any error is bad input, reported in one line
        raise _import_error(exc, where) from None


def load_data(spec: str) -> Data:
    """(X or None, y) from a data file, or from ``X.npy,y.npy``; the formats are in the module docstring."""
    parts = spec.split(",")
    if len(parts) == 2 and all(p.strip().endswith(".npy") for p in parts):
        X = _read(parts[0].strip(), lambda p: np.load(p, allow_pickle=False), "X")
        y = _read(parts[1].strip(), lambda p: np.load(p, allow_pickle=False), "y")
        return _checked(spec, X, y)
    path = _existing(spec, "data file")
    if path.suffix == ".npz":
        X, y = _read(spec, _npz, "X and y")
    elif path.suffix == ".npy":
        X, y = None, _read(spec, lambda p: np.load(p, allow_pickle=False), "y")
    elif path.suffix == ".csv":
        X, y = _csv(path, spec)
    else:
        raise InvalidInput(f"data file {spec!r} must be .npz, .npy, .csv or X.npy,y.npy")
    return _checked(spec, X, y)


def _existing(spec: str, what: str) -> Path:
    path = Path(spec)
    if path.is_dir():
        raise InvalidInput(f"{what} {spec!r} is a folder: name a file")
    if not path.is_file():
        raise InvalidInput(f"{what} {spec!r} does not exist")
    return path


def _read(spec: str, reader: Any, what: str) -> Any:
    """``reader(path)``; an unreadable, empty or damaged file is one line of bad input."""
    path = _existing(spec, f"{what} file" if what in ("X", "y") else "data file")
    try:
        return reader(path)
    except InvalidInput:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        why = "the file is empty" if path.stat().st_size == 0 else f"{type(exc).__name__}: {exc}"
        raise InvalidInput(f"could not read {spec} as {path.suffix}: {why}") from None


def _npz(path: Path) -> Data:
    with np.load(path, allow_pickle=False) as f:
        if "y" not in f.files:
            found = f"arrays found: {', '.join(f.files)}" if f.files else "it holds no arrays"
            raise InvalidInput(f"{path} has no array 'y' ({found}); save it with np.savez(path, X=X, y=y)")
        return (f["X"] if "X" in f.files else None), f["y"]


def _csv(path: Path, spec: str) -> Data:
    """X and y of a CSV file: an optional header row; the column headed y (else the last) is y."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"could not read {spec}: {exc}") from None
    if not rows:
        raise InvalidInput(f"{spec} is empty: give a header row (optional) and one row per data point")
    header = None if all(_is_number(c) for c in rows[0]) else [c.strip() for c in rows[0]]
    body = rows[1:] if header else rows
    width = len(header) if header else len(body[0]) if body else 0
    if not body:
        raise InvalidInput(f"{spec} has a header but no data rows")
    for k, r in enumerate(body, 2 if header else 1):
        if len(r) != width:
            raise InvalidInput(f"{spec}: line {k} has {len(r)} fields, expected {width}")
        bad = next((c for c in r if not _is_number(c)), None)
        if bad is not None:
            raise InvalidInput(f"{spec}: line {k} has the non-number {bad.strip()!r}")
    table = np.array([[float(c) for c in r] for r in body])
    col = header.index("y") if header and "y" in header else width - 1
    X = np.delete(table, col, axis=1)
    return (X if X.shape[1] else None), table[:, col]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _checked(spec: str, X: Any, y: Any) -> Data:
    """y as one target per row (shape (n,) or (n, 1)), finite; X finite with one row per target."""
    y = np.asarray(target_vector(y, f"y in {spec}"), dtype=np.float64)
    if y.size == 0:
        raise InvalidInput(f"y in {spec} is empty: give one target per data point")
    if not np.isfinite(y).all():
        raise InvalidInput(f"y in {spec} has NaN or Inf: clean the targets")
    if X is not None:
        X = check_finite_matrix(X, f"X in {spec}")
        if X.shape[0] != y.shape[0]:
            raise InvalidInput(f"{spec}: X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    return X, y


def load_vector(path: str, name: str = "w0") -> np.ndarray:
    """A parameter vector from .npy or .csv."""
    reader = (lambda p: np.load(p, allow_pickle=False)) if path.endswith(".npy") else \
        (lambda p: np.loadtxt(p, delimiter=",", ndmin=1))
    v = np.asarray(_read(path, reader, name), dtype=float)
    if v.ndim > 1 and sum(k > 1 for k in v.shape) > 1:
        raise InvalidInput(f"{name} in {path} has shape {v.shape}: give a vector")
    return v.ravel()


def build_problem(obj: Any, data: Data | None = None, w0: np.ndarray | None = None, seed: int | None = None,
                  source: str = "the data file") -> Problem:
    """A Problem from a Model, a Problem, or a function returning one (called with X, y if it takes them).

    The data named by the user is used or refused, never ignored: y replaces the target's own targets,
    and an X must be the inputs of the target's model (a Model fixes its inputs; to build one from
    the file's X, name a function taking X).
    """
    X, y = data if data is not None else (None, None)
    used: set[str] = set()
    if callable(obj) and not isinstance(obj, (Model, Problem)) and not inspect.isclass(obj):
        params = inspect.signature(obj).parameters
        given = {k: v for k, v in (("X", X), ("y", y)) if k in params and v is not None}
        missing = [k for k, p in params.items() if p.default is p.empty and k not in given
                   and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if missing:
            raise InvalidInput(f"the target function needs {', '.join(missing)}, which "
                               f"{'the data does not hold' if data is not None else 'only --data can give'}: "
                               "give a data file with X and y")
        try:
            obj = obj(**given)
        except Exception as exc:  # the user's function failed: bad input, one line
            raise InvalidInput(f"the target function raised {type(exc).__name__}: {exc}") from None
        used = set(given)
    if isinstance(obj, Problem):
        model, targets, start = obj.model, obj.y, obj.w0
        y = None if "y" in used else y
    elif isinstance(obj, Model):
        if y is None:
            raise InvalidInput("the target is a Model: give its targets with --data FILE (y, and X if you like)")
        model, targets, start = obj, None, None
    else:
        raise InvalidInput(f"the target must be a plproof Model, a Problem, or a function returning one; "
                           f"got {type(obj).__name__}")
    if X is not None and "X" not in used:
        _same_inputs(model, X, source)
    if y is not None:
        if y.shape[0] != model.n_outputs:
            raise InvalidInput(f"{source} has {y.shape[0]} targets but the model has {model.n_outputs} outputs")
        targets = y
    if w0 is not None:
        start = w0
    elif seed is not None:
        start = np.random.default_rng(seed).standard_normal(model.n_params)
    same = isinstance(obj, Problem) and targets is obj.y and start is obj.w0
    problem = obj if same else Problem(model, targets, start)
    _check_outputs(problem)
    return problem


def _same_inputs(model: Model, X: np.ndarray, source: str) -> None:
    """Refuse an X that is not the model's own inputs: the certificate must be about the data named."""
    own = getattr(model, "X", None)
    if own is not None and np.shape(own) == X.shape and np.array_equal(np.asarray(own, dtype=np.float64), X):
        return
    has = f"inputs of shape {np.shape(own)}" if own is not None else "no inputs X"
    raise InvalidInput(f"the target's model has {has}, not the X of shape {X.shape} in {source}: name a "
                       "function that builds the model from X (def problem(X, y): ...), or give y only")


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
