"""The console script: version, certify's summary table, exit codes and one-line errors."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from plproof import __version__
from plproof.certification import CertifyResult, Entry
from plproof.cli.certify import _report
from plproof.cli.main import main
from plproof.cli.output import ProgressBar, style


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plproof.cli.main", *args], capture_output=True, text=True)


def test_version():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"plproof {__version__}"


def test_console_script_is_installed():
    import shutil
    assert shutil.which("plproof"), "the plproof console script should be on PATH after pip install"


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2


def test_certify_table_fits_100_columns_and_explains_what_was_not_expected(capsys):
    entries = [Entry("derivation", "gradient", "valid", "valid", "exact", "derivations/gradient.json", "ab", 0.4),
               Entry("property", "test_" + "long_name_" * 12, "failed", "passed", "-", None, None, 1.25,
                     "AssertionError: counterexample x = 10")]
    _report(CertifyResult(Path("out"), "default", "ci", 0, entries))
    out = capsys.readouterr().out
    assert max(len(line) for line in out.split("\n\n")[0].splitlines()) <= 100  # the table
    assert "long_name_long" in out and "failed, expected passed" in out and "counterexample x = 10" in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert style("ok", "green", _Terminal()) == "\033[32mok\033[0m"
    assert style("ok", "green", io.StringIO()) == "ok"
    monkeypatch.setenv("NO_COLOR", "1")
    assert style("ok", "green", _Terminal()) == "ok"


@pytest.mark.parametrize("terminal, quiet", [(False, False), (True, True)])
def test_progress_stays_off_pipes_and_quiet_runs(monkeypatch, terminal, quiet):
    err = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with ProgressBar(3, "work", quiet=quiet) as bar:
        bar.step("a")
    assert err.getvalue() == ""


def test_progress_on_a_terminal_is_one_line_redrawn_in_place(monkeypatch):
    """Without rich: a single line, redrawn with carriage returns and cleared at the end (no new lines)."""
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.console", None)
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with ProgressBar(2, "work") as bar:
        bar.step("first")
        bar.step("second")
    text = err.getvalue()
    assert "work 2/2: second" in text and "\n" not in text and text.endswith("\r\033[K")
