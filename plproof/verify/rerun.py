"""Re-check a ``property`` certificate: re-run its pytest property with the stored seed and example count.

The run happens in a fresh interpreter (``pytest MODULE::TEST`` with ``--hypothesis-seed``), under a
Hypothesis profile derived from the stored one with the stored ``max_examples`` (``quick``: a
fraction QUICK_FRACTION of it). The module's sha256 must match: a changed property proves nothing.
"""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
from pathlib import Path

from plproof.verify.exact import Failure

QUICK_FRACTION = 0.1
TIMEOUT = 1800  # seconds for one re-run

_RUNNER = """
import sys, pytest
from hypothesis import settings
node, profile, examples, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
class Profile:
    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config):
        try:
            parent = settings.get_profile(profile)
        except Exception:
            sys.exit(f"unknown Hypothesis profile {profile!r}")
        settings.register_profile("plproof-verify", settings(parent, max_examples=examples, database=None))
sys.exit(pytest.main([node, "-q", "-p", "no:cacheprovider", "--hypothesis-seed=" + seed,
                      "--hypothesis-profile=plproof-verify"], plugins=[Profile()]))
"""


def project_root(module: str, base: Path | None) -> Path:
    """The first of cwd, the certificate's folders upwards, and plproof's source tree that holds ``module``."""
    import plproof

    candidates = [Path.cwd()] + ([base.resolve(), *base.resolve().parents] if base else [])
    candidates.append(Path(plproof.__file__).resolve().parent.parent)
    for root in candidates:
        if (root / module).is_file():
            return root
    raise Failure(f"property module {module} not found (run plproof verify from the project root)")


def check_property(cert: dict, base: Path | None, quick: bool, checked: list[str]) -> None:
    """Re-run the property; it must pass (or fail) as the certificate states."""
    inp, ev = cert["inputs"], cert["evidence"]
    module = inp["module"]
    if Path(module).is_absolute() or ".." in Path(module).parts:
        raise Failure(f"property module {module!r} must be a path inside the project")
    root = project_root(module, base)
    sha = hashlib.sha256((root / module).read_bytes()).hexdigest()
    if "module_sha256" in inp and sha != inp["module_sha256"]:
        raise Failure(f"property module {module} changed since the certificate was written (sha256 differs)")
    checked.append(f"property module {module} unchanged (sha256)")
    examples = max(1, math.ceil(inp["max_examples"] * QUICK_FRACTION)) if quick else inp["max_examples"]
    node = f"{module}::{inp['test']}"
    try:
        run = subprocess.run([sys.executable, "-c", _RUNNER, node, inp["profile"], str(examples), str(inp["seed"])],
                             cwd=root, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure(f"property {node}: the re-run took longer than {TIMEOUT} s") from None
    passed = run.returncode == 0
    if run.returncode not in (0, 1):
        tail = (run.stdout + run.stderr).strip().splitlines()[-1:] or [""]
        raise Failure(f"property {node}: the re-run could not run (pytest exit {run.returncode}: {tail[0][:150]})")
    if passed != (ev["outcome"] == "passed"):
        raise Failure(f"property {node}: the certificate says {ev['outcome']!r}, the re-run "
                      f"{'passed' if passed else 'failed'} with seed {inp['seed']} and {examples} examples")
    checked.append(f"property {node} re-run: {'passed' if passed else 'failed'} as stated "
                   f"(seed {inp['seed']}, {examples} examples{', quick' if quick else ''})")
