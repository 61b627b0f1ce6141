"""The independent verifier: ``verify(path)`` re-checks every claim of a certificate from its inputs.

It imports only :mod:`plproof.certificate.format`, :mod:`plproof.models` and :mod:`plproof.symbolic`
(DESIGN.md); its rigorous arithmetic is its own (:mod:`plproof.verify.exact`), fed by the hints the
certificate stores. A matching digest is checked but proves nothing by itself: everything is recomputed.
Exit codes: 0 valid, 1 invalid (a claim failed), 2 unreadable (CertificateError).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from plproof.certificate.format import digest, load_certificate, validator_name
from plproof.verify.derivation import check_derivation
from plproof.verify.exact import Failure
from plproof.verify.problem import check_problem
from plproof.verify.rerun import QUICK_FRACTION, check_property
from plproof.verify.trajectory import check_run

CHECKERS: dict[str, Callable[[dict, Path, bool, list[str]], None]] = {
    "problem": check_problem, "derivation": check_derivation, "property": check_property, "run": check_run,
}


@dataclass
class VerifyResult:
    """Valid or not; the first claim that failed and why; what was re-checked, in order."""

    valid: bool
    first_failure: str | None
    checked: list[str] = field(default_factory=list)
    kind: str = ""

    @property
    def exit_code(self) -> int:
        return 0 if self.valid else 1


def verify(path: str | Path, quick: bool = False) -> VerifyResult:
    """Re-check the certificate at ``path``; raises CertificateError (exit 2) if it cannot be read.

    ``quick``: property certificates re-run a fraction QUICK_FRACTION of their examples.
    """
    path = Path(path)
    cert = load_certificate(path)
    checked = [f"schema: {validator_name()}"]
    kind = cert["kind"]
    try:
        if digest(cert) != cert["digest"]:
            raise Failure("digest: the stored sha256 does not match the contents (edited after writing)")
        checked.append("digest matches the canonical JSON (integrity only; every claim is recomputed below)")
        if kind not in CHECKERS:
            raise Failure(f"{kind} certificates cannot be re-checked by this verifier yet")
        CHECKERS[kind](cert, path.parent, quick, checked)
    except Failure as exc:
        return VerifyResult(False, str(exc), checked, kind)
    except RecursionError:
        return VerifyResult(False, "could not be re-checked: nested too deeply", checked, kind)
    except Exception as exc:  # noqa: BLE001 - a certificate that breaks the checker is never valid
        from plproof.errors import CertificateError

        if isinstance(exc, CertificateError):
            raise
        message = str(exc).splitlines()[0][:200] if str(exc) else ""
        return VerifyResult(False, f"could not be re-checked: {type(exc).__name__}: {message}", checked, kind)
    return VerifyResult(True, None, checked, kind)


__all__ = ["QUICK_FRACTION", "VerifyResult", "verify"]
