"""Loading targets and data (plproof.loading): module and folder targets, data formats, data never ignored.

Issue 14: bugs 3 (--data ignored for a Model or Problem), 4 (dotted targets, the working directory, a
folder as FILE) and 5 (an empty .npz, a y of shape (5, 2)); the data formats .npz, X.npy,y.npy and CSV.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from plproof import Linear, Problem
from plproof.errors import InvalidInput
from plproof.loading import build_problem, load_data, load_object

PROBLEM = textwrap.dedent('''
    from plproof import Linear, Problem
    problem = Problem(Linear([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]]), [1.0, 2.0])
''')


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory, which (as under the console script) is not on sys.path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith(("t14pkg", "t14mod", "plproof_user_"))]:
        del sys.modules[name]


def test_dotted_package_module_target(isolated: Path):
    (isolated / "t14pkg").mkdir()
    (isolated / "t14pkg" / "__init__.py").write_text("")
    (isolated / "t14pkg" / "models.py").write_text(PROBLEM)
    assert isinstance(load_object("t14pkg.models:problem"), Problem)


def test_module_in_the_working_directory_without_pythonpath(isolated: Path):
    (isolated / "t14mod.py").write_text(PROBLEM)
    assert isinstance(load_object("t14mod:problem"), Problem)


def test_missing_module_says_where_it_looked(isolated: Path):
    with pytest.raises(InvalidInput, match="no module named 't14nothing'.*PYTHONPATH"):
        load_object("t14nothing.models:problem")


def test_a_package_folder_as_file_with_relative_imports(isolated: Path):
    (isolated / "proj").mkdir()
    (isolated / "proj" / "__init__.py").write_text("from .models import problem\n")
    (isolated / "proj" / "models.py").write_text(PROBLEM)
    assert isinstance(load_object("proj:problem"), Problem)
    (isolated / "plain").mkdir()
    with pytest.raises(InvalidInput, match="is a folder without __init__.py"):
        load_object("plain:problem")


def test_a_dataclass_in_a_user_file_loads(isolated: Path):
    """The file is registered in sys.modules while it runs (dataclasses look their module up there)."""
    (isolated / "dc.py").write_text("from dataclasses import dataclass\n@dataclass\nclass A:\n    x: int = 1\na = A()\n")
    assert load_object("dc.py:a").x == 1


def test_a_missing_optional_dependency_names_the_extra(isolated: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    (isolated / "uses_torch.py").write_text("import torch\n")
    with pytest.raises(InvalidInput, match=r"plproof\[torch\].*download.pytorch.org/whl/cpu"):
        load_object("uses_torch.py:model")


# ------------------------------------------------------------------------------------------- data files


def test_csv_with_a_header_takes_the_column_named_y(tmp_path: Path):
    (tmp_path / "d.csv").write_text("x1,y,x2\n1,10,2\n3,30,4\n")
    X, y = load_data(str(tmp_path / "d.csv"))
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [10, 30]
    (tmp_path / "plain.csv").write_text("1,2,10\n3,4,30\n")  # no header: the last column is y
    X, y = load_data(str(tmp_path / "plain.csv"))
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [10, 30]


@pytest.mark.parametrize("text, message", [
    ("a,y\n1,2\n3\n", "line 3 has 1 fields, expected 2"),
    ("a,y\n1,two\n", "non-number 'two'"),
    ("a,y\n", "no data rows"),
    ("", "is empty"),
])
def test_bad_csv_is_one_line(tmp_path: Path, text: str, message: str):
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(InvalidInput, match=message):
        load_data(str(tmp_path / "d.csv"))


def test_a_pair_of_npy_files_and_y_alone(tmp_path: Path):
    np.save(tmp_path / "X.npy", np.eye(3))
    np.save(tmp_path / "y.npy", np.arange(3.0)[:, None])  # (n, 1) is one target per row
    X, y = load_data(f"{tmp_path}/X.npy,{tmp_path}/y.npy")
    assert X.shape == (3, 3) and y.tolist() == [0, 1, 2]
    assert load_data(str(tmp_path / "y.npy"))[0] is None


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "the file is empty"),
    (lambda p: np.savez(p), "holds no arrays"),
    (lambda p: np.savez(p, X=np.ones((5, 2)), y=np.ones((5, 2))), r"y in .* has shape \(5, 2\)"),
    (lambda p: p.write_bytes(b"not a zip"), "could not read"),
])
def test_bad_npz_is_one_line(tmp_path: Path, make, message: str):
    path = tmp_path / "d.npz"
    make(path)
    with pytest.raises(InvalidInput, match=message):
        load_data(str(path))


def test_a_folder_as_data_file(tmp_path: Path):
    with pytest.raises(InvalidInput, match="is a folder"):
        load_data(str(tmp_path))


# ------------------------------------------------------------------------------------ data is never ignored

X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])


@pytest.mark.parametrize("target", [Linear(X), Problem(Linear(X), [1.0, 2.0])], ids=["model", "problem"])
def test_other_inputs_than_the_model_has_are_refused(target):
    for other in (X + 1.0, np.ones((2, 5))):  # other values, another column count
        with pytest.raises(InvalidInput, match=r"not the X of shape .* in d.npz"):
            build_problem(target, (other, np.array([3.0, 4.0])), source="d.npz")


@pytest.mark.parametrize("target", [Linear(X), Problem(Linear(X), [1.0, 2.0])], ids=["model", "problem"])
def test_the_models_own_inputs_and_new_targets_are_used(target):
    problem = build_problem(target, (X.copy(), np.array([3.0, 4.0])))
    assert problem.y.tolist() == [3.0, 4.0]


def test_a_function_gets_the_data_it_asks_for():
    problem = build_problem(lambda X, y: Problem(Linear(X), y), (X, np.array([3.0, 4.0])))
    assert np.array_equal(problem.model.X, X) and problem.y.tolist() == [3.0, 4.0]
    with pytest.raises(InvalidInput, match="needs X, which the data does not hold"):
        build_problem(lambda X, y: Problem(Linear(X), y), (None, np.array([3.0, 4.0])))
