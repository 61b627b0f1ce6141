"""The console script: version, certify's summary table, exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys


from plproof import __version__
from plproof.cli.main import main


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
