"""``plproof derive``: exit codes 0 (valid), 1 (a step invalid/unverified), 2 (bad input), formats."""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

import pytest

from plproof.cli import derive
from plproof.errors import PlproofError

ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``plproof derive ...`` the way plproof.cli.main does (PlproofError -> one line, its exit code)."""
    parser = argparse.ArgumentParser(prog="plproof")
    derive.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["derive", *argv])
    try:
        code = args.run(args)
    except PlproofError as exc:
        print(f"plproof derive: {exc}", file=__import__("sys").stderr)
        code = exc.exit_code
    out, err = capsys.readouterr()
    return code, out, err


GOOD = '''
from plproof.symbolic import Assumptions, Derivation, Scalar, Step
derivation = Derivation("square", Assumptions(objects=(Scalar("a"), Scalar("b"))),
                        (Step("(a + b)**2", "=", "a**2 + 2*a*b + b**2"),),
                        claim=Step("(a + b)**2", "=", "a**2 + 2*a*b + b**2"))
'''
WRONG = GOOD.replace('"a**2 + 2*a*b + b**2"', '"a**2 + b**2"')


def test_user_file_valid_and_invalid(tmp_path, capsys):
    good, wrong = tmp_path / "good.py", tmp_path / "wrong.py"
    good.write_text(GOOD)
    wrong.write_text(WRONG)
    assert run([str(good)], capsys)[0] == 0
    code, out, _ = run([str(wrong), "--format", "json"], capsys)
    assert code == 1
    doc = json.loads(out)
    assert doc["valid"] is False and doc["steps"][0]["status"] == "invalid"
    assert set(doc) >= {"derivation", "valid", "steps"}
    assert set(doc["steps"][0]) >= {"id", "statement", "relation", "status", "method", "scope", "counterexample",
                                    "source"}
    a, b = (Fraction(doc["steps"][0]["counterexample"][k]) for k in ("a", "b"))
    assert (a + b) ** 2 != a * a + b * b  # the reported counterexample refutes the step


def test_example_file_and_builtin_and_latex(capsys):
    assert run([str(ROOT / "examples/my_derivation.py")], capsys)[0] == 0
    code, out, _ = run(["gradient-linear", "--format", "latex"], capsys)
    assert code == 0 and r"\begin{align*}" in out and r"\checkmark" in out


@pytest.mark.parametrize("content,message", [
    (None, "not found"),
    ("x = 1\n", "defines no `derivation`"),
    ("derivation = 42\n", "not a plproof.symbolic.Derivation"),
    (GOOD.replace('"a**2 + 2*a*b + b**2"),)', '"a**2 +* 2"),)'), "cannot parse"),
    ("raise RuntimeError('boom')\n", "failed to run"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "d.py"
    if content is not None:
        path.write_text(content)
    code, _, err = run([str(path)], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_unknown_name_exits_2(capsys):
    code, _, err = run(["no-such-derivation"], capsys)
    assert code == 2 and "unknown derivation" in err


@pytest.mark.slow  # ~35 s; tests/test_symbolic.py checks the same notes, test_user_file_* the exit code 1
def test_seed_notes_exit_1_and_name_wrong_steps(capsys):
    code, out, _ = run(["--seed-notes", "--format", "json"], capsys)
    assert code == 1
    doc = json.loads(out)
    wrong = {s["id"] for s in doc["steps"] if s["status"] == "invalid"}
    assert wrong == {"L39", "L59a", "L59d", "L83", "L91", "L93a", "L93b", "L93c"}
    assert all(s["counterexample"] for s in doc["steps"] if s["status"] == "invalid")
    assert all(s["status"] == "valid" for s in doc["steps"] if s["id"] not in wrong)


@pytest.mark.slow
def test_all_builtins_exit_0(capsys):
    code, out, _ = run([], capsys)
    assert code == 0 and "10 of 10 derivations valid" in out


def test_json_and_quiet(capsys):
    code, out, err = run(["gradient-linear", "--json"], capsys)
    assert code == 0 and json.loads(out)["valid"] is True
    code, out, err = run(["gradient-linear", "--quiet"], capsys)
    assert code == 0 and out == "gradient-linear: valid\n" and err == ""
