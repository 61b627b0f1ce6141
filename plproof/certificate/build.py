"""Producers: Evidence, checked derivations and property runs -> certificate dicts (DESIGN.md: certificate/).

Each returns a sealed dict in the envelope of :mod:`plproof.certificate.format`; write it with
:func:`plproof.certificate.format.write_certificate`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from plproof.certificate.format import encode_array, envelope, jsonable
from plproof.errors import CertificateError
from plproof.evidence import Evidence
from plproof.problem import Problem


def from_evidence(evidence: Evidence, problem: Problem) -> dict:
    """A ``problem`` certificate: the model (family and parameters), y, w0 and the evidence of check()."""
    model = dict(problem.model.describe())
    if "X" in model:
        model["X"] = encode_array(problem.model.X)
    seeds = {"model": model["seed"]} if "seed" in model else {}
    ev = evidence.to_json()
    precision = {"trajectory": ev["trajectory"]["arithmetic"]} if ev.get("trajectory") else {}
    if "centre_method" in evidence.hints:
        precision["centre"] = evidence.hints["centre_method"]
    return envelope("problem", claim=evidence.claim, symbols=evidence.claim_symbols,
                    convention=evidence.convention, rigor=evidence.rigor.label,
                    inputs={"model": model, "y": encode_array(problem.y), "w0": encode_array(problem.w0)},
                    evidence=ev, seeds=seeds, precision=precision)


def _plain(obj: Any) -> Any:
    """A dataclass tree as JSON with a ``"type"`` tag per dataclass (plain data to plproof.verify.derivation)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {"type": type(obj).__name__}
        out.update({f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)})
        return out
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise CertificateError(f"cannot store a {type(obj).__name__} of a derivation in a certificate: "
                           "give steps plain strings and named lemmas")


def _step_json(step: Any) -> dict:
    """A step's verdict; its counterexample's values as strings, a map's polynomials as a list of strings."""
    out = jsonable({k: v for k, v in dataclasses.asdict(step).items() if k != "counterexample"})
    cex = step.counterexample
    out["counterexample"] = None if cex is None else {
        str(k): [str(x) for x in v] if isinstance(v, (list, tuple)) else str(v) for k, v in cex.items()}
    return out


def derivation_certificate(result: Any, *, size_bound: int = 3, samples: int = 40) -> dict:
    """A ``derivation`` certificate from a :class:`plproof.symbolic.checker.CheckResult`.

    ``size_bound`` and ``samples`` are the checker settings the result was produced with (a record);
    ``recheck`` names the verifier's independent method, its constants, seed and failure probability
    (:func:`plproof.verify.derivation.recheck_plan`, docs/rigor.md), which the verifier re-derives.
    """
    from plproof.verify.derivation import recheck_plan

    d = result.derivation
    steps = [_step_json(s) for s in result.steps]
    rigor = "exact" if result.valid else "sampled"
    plain = _plain(d)
    return envelope("derivation", claim=d.title, symbols=" ; ".join(s["statement"] for s in steps),
                    convention=d.assumptions.convention, rigor=rigor,
                    inputs={"derivation": plain, "check": {"size_bound": size_bound, "samples": samples},
                            "recheck": recheck_plan(jsonable(plain))},
                    evidence={"valid": result.valid, "claim_proved": result.claim_proved,
                              "claim_detail": result.claim_detail, "steps": steps, "notes": list(result.notes)})


def property_certificate(*, module: str | Path, test: str, seed: int, profile: str, max_examples: int,
                         examples: int, claim: str, symbols: str, rigor: str, root: str | Path = ".",
                         convention: str = "A", outcome: str = "passed", margin: float | None = None,
                         reference: str = "", precision: dict | None = None, notes: dict | None = None) -> dict:
    """A ``property`` certificate: re-run by the verifier as ``pytest MODULE::TEST`` with the same seed.

    ``module`` is the test file relative to ``root`` (the project root); its sha256 is stored so the
    verifier can tell when the property itself changed.
    """
    rel = Path(module)
    source = (Path(root) / rel).read_bytes()
    return envelope("property", claim=claim, symbols=symbols, convention=convention, rigor=rigor,
                    inputs={"module": rel.as_posix(), "module_sha256": hashlib.sha256(source).hexdigest(),
                            "test": test, "seed": int(seed), "profile": profile, "max_examples": int(max_examples),
                            "reference": reference},
                    evidence={"outcome": outcome, "examples": int(examples),
                              "smallest_margin": None if margin is None else float(np.float64(margin)),
                              "notes": notes or {}},
                    seeds={"hypothesis": int(seed)}, precision=precision or {})
