"""The verifier is sealed from the producer: importing it, and verifying each kind, loads no producer module."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("plproof.routes", "plproof.theory", "plproof.numeric.verified", "plproof.symbolic",
             "plproof.models.torch_model", "plproof.models.torch_trace", "plproof.models.jax_model",
             "plproof.models.sympy_model", "plproof.models.callable_model",
             "plproof.certificate.build", "plproof.evidence", "plproof.problem", "plproof.sweep")


def _loaded(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(m for m in sys.modules if m.startswith('plproof'))))"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _producer(mods: list[str]) -> list[str]:
    return [m for m in mods if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]


def test_import_plproof_verify_loads_no_producer_module():
    mods = _loaded("import plproof.verify")
    assert "plproof.verify" in mods and not _producer(mods)


def test_verifying_problem_and_run_certificates_loads_no_producer_module(tmp_path):
    import plproof
    from plproof.certificate.build import from_evidence
    from plproof.certificate.format import write_certificate
    from plproof.data import uniform_targets, unit_inputs
    from plproof.certificate.build import run_certificate

    p = plproof.Problem(plproof.TwoLayer(unit_inputs(5, 8, seed=3), 16, "tanh", seed=3, init="symmetric"),
                        uniform_targets(5, 0.05, seed=3))
    lin = plproof.Problem(plproof.Linear([[1.0, 2, 0], [0, 1, 1]]), [1.0, 2.0])
    paths = [write_certificate(from_evidence(plproof.check(p, confirm=False), p), tmp_path / "p.json"),
             write_certificate(run_certificate(plproof.certify_run(p), p), tmp_path / "r.json"),
             write_certificate(from_evidence(plproof.check(lin, confirm=False), lin), tmp_path / "l.json")]
    code = "from plproof.verify import verify\n" + "".join(
        f"assert verify({str(path)!r}).valid, {str(path)!r}\n" for path in paths)
    mods = _loaded(code)
    assert not _producer(mods), _producer(mods)
