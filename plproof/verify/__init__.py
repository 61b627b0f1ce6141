"""The independent verifier: ``verify(path)`` re-derives a certificate's evidence from its inputs and hints.

It imports only :mod:`plproof.certificate.format`, the family formula modules and its own arithmetic
(:mod:`plproof.verify.exact`, :mod:`plproof.verify.algebra`); never the producer (docs/rigor.md, "What the verifier trusts"). The
digest is checked, but proves nothing: the evidence (verdict, quantities, premises, rigor) and the
claim's words are re-derived and must be what the certificate states; only the fields listed in
:data:`plproof.certificate.format.NEUTRAL_FIELDS` are left unchecked. Three outcomes: ``valid`` (exit 0,
with the rigor the re-check reached), ``invalid`` (exit 1, the first failing claim with both numbers),
``unverifiable`` (exit 3: not re-checkable here, what is missing). An unreadable file is exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plproof.certificate.format import digest, load_certificate, validator_name
from plproof.verify.claims import render
from plproof.verify.evidence import compare
from plproof.verify.exact import Failure, Unverifiable

EXIT_CODES = {"valid": 0, "invalid": 1, "unverifiable": 3}
#: certificate kind -> the theorem ids it may claim
THEOREM_IDS = {"problem": ("gd-ball/A", "gd-ball/B", "sgd-ball/A"), "run": ("gd-run/A", "sgd-run/A"),
               "derivation": ("derivation",),
               "property": ("property",), "rate": ("pl-gd-rate/A",)}


@dataclass
class VerifyResult:
    """The outcome of re-checking one certificate, what was re-checked in order, and why not where not."""

    outcome: str
    kind: str = ""
    level: str | None = None
    reason: str | None = None
    checked: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.outcome == "valid"

    @property
    def first_failure(self) -> str | None:
        return self.reason if self.outcome == "invalid" else None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]

    def __bool__(self) -> bool:
        return self.valid

    def summary(self) -> str:
        """One line: the outcome, the kind and the level reached, or the reason."""
        if self.valid:
            return f"valid ({self.kind}, re-checked at rigor {self.level}, {len(self.checked)} checks)"
        word = "INVALID" if self.outcome == "invalid" else "not re-checkable here"
        return f"{word} ({self.kind}): {self.reason}"

    def __repr__(self) -> str:
        return f"VerifyResult({self.summary()})"

    def to_json(self) -> dict:
        return {"outcome": self.outcome, "kind": self.kind, "level": self.level, "reason": self.reason,
                "exit_code": self.exit_code, "checked": list(self.checked)}


def _derived(cert: dict, base: Path, run_code: bool, checked: list[str]) -> dict:
    """The evidence the certificate must state (derivation and property kinds check in place)."""
    kind = cert["kind"]
    if kind == "problem":
        from plproof.verify.problem import derive_problem

        try:
            return derive_problem(cert, base, checked)
        except Unverifiable:
            if not run_code or "code" not in cert["inputs"]["model"]:
                raise
        from plproof.verify.rerun import derive_user_problem

        return derive_user_problem(cert, base, checked)
    if kind == "run":
        from plproof.verify.trajectory import derive_run

        return derive_run(cert, base, checked)
    if kind == "rate":
        from plproof.verify.rate import derive_rate

        return derive_rate(cert, base, checked)
    if kind == "derivation":
        from plproof.verify.derivation import check_derivation

        check_derivation(cert, base, False, checked)  # every step's status, claim_proved and valid, in place
        ev = cert["evidence"]
        valid = ev.get("valid") is True
        # the rigor is the producer's symbolic proof, re-checked here at random exact instances with the
        # failure probability stated in inputs.recheck (docs/rigor.md §6): the one claim confirmed, not re-proved
        return {"verdict": "valid" if valid else "not valid", "rigor": "exact" if valid else "sampled",
                "valid": valid, "claim_proved": ev.get("claim_proved"), "steps": ev.get("steps")}
    from plproof.verify.rerun import check_property

    check_property(cert, base, run_code, checked)  # the stated verdict, re-run with --run-code
    return cert["evidence"]


def check(cert: dict, base: Path, *, run_code: bool = False) -> VerifyResult:
    """Re-check a loaded certificate whose files are relative to ``base``."""
    checked = [f"schema: {validator_name()}"]
    kind, theorem = cert["kind"], cert["claim"]["theorem"]
    try:
        if digest(cert) != cert["digest"]:
            raise Failure("digest: the stored sha256 does not match the contents (edited after writing)")
        checked.append("digest matches the canonical JSON (integrity only; the evidence is re-derived below)")
        if theorem not in THEOREM_IDS[kind]:
            raise Failure(f"claim.theorem {theorem!r} is not a theorem of {kind} certificates")
        derived = _derived(cert, base, run_code, checked)
        compare(cert["evidence"], derived, "evidence")
        checked.append("every quantity, premise, the verdict and the rigor are as re-derived")
        if kind != "property":
            title = cert["inputs"].get("derivation", {}).get("title", "") if kind == "derivation" else ""
            words, symbols = render(theorem, derived, title)
            compare(cert["claim"], {"theorem": theorem, "words": words, "symbols": symbols}, "claim")
            checked.append("the claim's words and symbols are rendered from the re-derived evidence")
        level = derived.get("rigor") or cert["rigor"]
        if cert["rigor"] != level:
            raise Failure(f"rigor: the certificate says {cert['rigor']!r}, the re-check reaches {level!r}")
    except Failure as exc:
        return VerifyResult("invalid", kind, None, str(exc), checked)
    except Unverifiable as exc:
        return VerifyResult("unverifiable", kind, None, str(exc), checked)
    except RecursionError:
        return VerifyResult("invalid", kind, None, "could not be re-checked: nested too deeply", checked)
    except Exception as exc:  # noqa: BLE001 - a certificate that breaks the checker is never valid
        message = str(exc).splitlines()[0][:200] if str(exc) else ""
        return VerifyResult("invalid", kind, None, f"could not be re-checked: {type(exc).__name__}: {message}",
                            checked)
    return VerifyResult("valid", kind, level, None, checked)


def verify(path: str | Path, *, run_code: bool = False) -> VerifyResult:
    """Re-check the certificate at ``path``; raises CertificateError (exit 2) if it cannot be read.

    ``run_code``: re-run the code a certificate depends on (a property test, a user model); without it
    such a certificate is ``unverifiable`` here, never ``invalid``.
    """
    path = Path(path)
    return check(load_certificate(path), path.resolve().parent, run_code=run_code)


def verify_json(cert: Any, *, base: str | Path = ".", run_code: bool = False) -> VerifyResult:
    """Re-check a certificate given as a dict (e.g. before writing it); files resolve against ``base``."""
    return check(cert, Path(base).resolve(), run_code=run_code)


__all__ = ["EXIT_CODES", "VerifyResult", "check", "verify", "verify_json"]
