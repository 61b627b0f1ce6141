"""The one exception tree of plproof.

Errors a user can cause derive from :class:`PlproofError`; their message says what to change.
The CLI prints the message on one line and exits 2 (bad input) or 1 (a claim that does not hold).
"""

from __future__ import annotations


class PlproofError(Exception):
    """Base class of every error plproof raises on purpose."""

    exit_code: int = 2


class InvalidInput(PlproofError, ValueError):
    """Input that cannot be used as given: shape mismatch, NaN/Inf, unknown name, bad range."""


class MissingDependency(PlproofError, ImportError):
    """An optional extra (python-flint, matplotlib, rich, torch) is needed but not installed."""


class CertificateError(PlproofError):
    """A certificate file that cannot be read: missing, not JSON, wrong schema or version."""


class NotCertifiable(PlproofError):
    """A well-formed claim that cannot be certified (m < n, non-smooth activation, lambda0 = 0)."""

    exit_code = 1


class SoundnessViolation(PlproofError, AssertionError):
    """A certified bound was contradicted by a computation: a bug in plproof, reported loudly."""

    exit_code = 3
