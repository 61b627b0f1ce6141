"""Certificates that rest on code: re-run only when asked (``run_code``), else "not re-checkable here".

A code file is named by its path relative to the certificate (or inside the installed plproof package
for the shipped property catalogue) and its sha256; a missing or changed file is not the code the claim is
about, so the certificate is not re-checkable here (never invalid for that).
A ``property`` certificate is re-run as ``pytest FILE::TEST`` in a fresh interpreter with the stored
seed, Hypothesis profile and example count; its verdict (passed / failed) must come out as stated.
A property test checks samples, so the level it reaches is ``sampled`` whatever precision each sample
used. User models (callables, torch modules, subclasses) are re-run by :func:`derive_user_problem`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from plproof.verify.exact import Failure, Unverifiable

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


def code_file(ref: dict, base: Path | None) -> Path:
    """The file a code reference names, checked against its sha256 (Failure) or missing (Unverifiable)."""
    rel = Path(str(ref.get("path", "")))
    if "package" in ref:
        if ref["package"] != "plproof" or rel.is_absolute() or ".." in rel.parts:
            raise Failure(f"code reference {ref!r} must name a file inside the plproof package")
        root = Path(__file__).resolve().parent.parent
    else:
        if rel.is_absolute() or base is None:
            raise Failure(f"code path {str(rel)!r} must be relative to the certificate")
        root = base
    path = root / rel
    if not path.is_file():
        raise Unverifiable(f"code file {rel} is missing (expected at {path}): ship it beside the certificate")
    if hashlib.sha256(path.read_bytes()).hexdigest() != ref.get("sha256"):  # not the code the claim is about
        raise Unverifiable(f"code file {rel} changed since the certificate was written (sha256 differs): "
                           "ship the file the certificate names")
    return path


def check_property(cert: dict, base: Path | None, run_code: bool, checked: list[str]) -> None:
    """The property passes (or fails) as stated when re-run with the stored settings."""
    inp, ev = cert["inputs"], cert["evidence"]
    path = code_file(inp["code"], base)
    checked.append(f"property file {inp['code']['path']} unchanged (sha256)")
    if set(ev) != {"verdict", "rigor"} or ev["verdict"] not in ("passed", "failed") or ev["rigor"] != "sampled":
        raise Failure("evidence: a property certificate states verdict passed or failed at rigor 'sampled' "
                      "(a property test checks samples)")
    if not run_code:
        raise Unverifiable("re-checking a property certificate runs its test code: use plproof verify --run-code")
    node = f"{path.name}::{inp['test']}"
    here = str(Path(__file__).resolve().parents[2])  # the re-run imports this plproof, not another one installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}
    try:
        run = subprocess.run([sys.executable, "-c", _RUNNER, node, str(inp["profile"]), str(int(inp["max_examples"])),
                              str(int(inp["seed"]))], cwd=path.parent, capture_output=True, text=True, timeout=TIMEOUT,
                             env=env)
    except subprocess.TimeoutExpired:
        raise Failure(f"property {node}: the re-run took longer than {TIMEOUT} s") from None
    if run.returncode not in (0, 1):
        tail = (run.stdout + run.stderr).strip().splitlines()[-1:] or [""]
        raise Unverifiable(f"property {node}: the re-run could not run here (pytest exit {run.returncode}: {tail[0][:150]})")
    outcome = "passed" if run.returncode == 0 else "failed"
    if outcome != ev["verdict"]:
        raise Failure(f"property {node}: the certificate says {ev['verdict']!r}, the re-run {outcome} "
                      f"with seed {inp['seed']} and {inp['max_examples']} examples")
    checked.append(f"property {node} re-run: {outcome} as stated (seed {inp['seed']}, {inp['max_examples']} examples)")


def derive_user_problem(cert: dict, base: Path | None, checked: list[str]) -> dict:
    """Re-run the producer on a user model (``--run-code`` only): load the recorded code, rebuild the problem
    with the certificate's y and w0, and check it at the hinted radius and step. Re-computed, not re-proved."""
    import importlib.util

    import numpy as np

    from plproof.certificate.build import evidence_json
    from plproof.certificate.format import decode_array, decode_number
    from plproof.routes.ball import check
    from plproof.problem import Problem

    ref = cert["inputs"]["model"].get("code")
    if not isinstance(ref, dict):
        raise Unverifiable("the certificate does not record the user model's code, so it cannot be re-run")
    path = code_file(ref, base)
    spec = importlib.util.spec_from_file_location(f"plproof_user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        target = getattr(module, str(ref.get("target", "")))
        obj = target() if callable(target) and not hasattr(target, "F") and not hasattr(target, "model") else target
    except Exception as exc:  # noqa: BLE001 - user code: any failure means it cannot be re-run here
        raise Unverifiable(f"user code {ref['path']}:{ref.get('target')} could not be loaded: {exc}") from None
    model = getattr(obj, "model", obj)
    y, w0 = decode_array(cert["inputs"]["y"], base), decode_array(cert["inputs"]["w0"], base)
    hints = cert["hints"]
    radius, step = (float(decode_number(hints[k])) if k in hints else None for k in ("radius", "step"))
    sgd = {}
    if cert["claim"]["theorem"].startswith("sgd-ball/"):  # the SGD setting is an input of the claim
        from plproof.verify.sgd import sgd_setting

        batch, conf = sgd_setting(cert["inputs"])
        sgd = {"method": "sgd", "batch_size": batch, "confidence": conf}
    ev = check(Problem(model, np.asarray(y), np.asarray(w0)), step=step, radius=radius, confirm=False, **sgd)
    checked.append(f"re-ran the producer on user code {ref['path']}:{ref.get('target')} (re-computed, not re-proved)")
    return evidence_json(ev)
