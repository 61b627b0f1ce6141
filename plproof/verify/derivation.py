"""Re-check a ``derivation`` certificate: rebuild the derivation and run the SymPy checker again.

The stored derivation is a tree of the dataclasses of :mod:`plproof.symbolic.model` tagged with
their type names; the checker (:func:`plproof.symbolic.checker.check`) runs with the stored settings
and every step's status, and whether the claim is proved, must come out as the certificate states.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from plproof.symbolic import checker, lemmas, model
from plproof.verify.exact import Failure

#: the classes a stored derivation may contain: its objects, steps and the lemmas steps apply
CLASSES = {name: cls for module in (model, lemmas) for name, cls in vars(module).items()
           if dataclasses.is_dataclass(cls) and isinstance(cls, type)}


def build(x: Any) -> Any:
    """The object a ``{"type": ..., fields...}`` tree describes (lists become tuples)."""
    if isinstance(x, dict) and "type" in x:
        cls = CLASSES.get(x["type"])
        if cls is None:
            raise Failure(f"derivation: unknown object type {x['type']!r}")
        try:
            return cls(**{k: build(v) for k, v in x.items() if k != "type"})
        except (TypeError, ValueError) as exc:
            raise Failure(f"derivation: a {x['type']} cannot be rebuilt: {exc}") from None
    if isinstance(x, list):
        return tuple(build(v) for v in x)
    if isinstance(x, dict):
        return {k: build(v) for k, v in x.items()}
    return x


def check_derivation(cert: dict, base: Path | None, quick: bool, checked: list[str]) -> None:
    """Every step's status and the claim, re-derived by the checker from the stored derivation."""
    d = build(cert["inputs"]["derivation"])
    if not isinstance(d, model.Derivation):
        raise Failure("derivation: inputs.derivation is not a Derivation")
    settings = cert["inputs"].get("check", {})
    result = checker.check(d, size_bound=int(settings.get("size_bound", 3)), samples=int(settings.get("samples", 40)))
    stated = {s["id"]: s["status"] for s in cert["evidence"]["steps"]}
    for step in result.steps:
        if step.id not in stated:
            raise Failure(f"derivation: step {step.id} is not in the certificate")
        if stated[step.id] != step.status:
            raise Failure(f"derivation step {step.id} ({step.statement}): the certificate says {stated[step.id]!r}, "
                          f"the re-check finds {step.status!r} {step.detail}".rstrip())
        checked.append(f"step {step.id}: {step.status} ({step.method}; {step.scope})")
    if len(stated) != len(result.steps):
        raise Failure(f"derivation: the certificate lists {len(stated)} steps, the derivation has {len(result.steps)}")
    for key, value in (("claim_proved", result.claim_proved), ("valid", result.valid)):
        if cert["evidence"][key] != value:
            raise Failure(f"derivation: the certificate says {key} = {cert['evidence'][key]}, the re-check finds {value}")
    checked.append(f"derivation {d.title!r}: {'valid' if result.valid else 'not valid'}, as stated")
