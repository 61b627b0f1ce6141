"""Certificates: versioned JSON envelopes with a sha256 digest, written atomically (DESIGN.md).

:mod:`plproof.certificate.format` (envelope, canonical JSON, digest, schema, write, load) imports
nothing else from plproof; :mod:`plproof.certificate.build` turns evidence into certificates.
"""

from plproof.certificate.build import derivation_certificate, from_evidence, property_certificate
from plproof.certificate.format import (
    FORMAT,
    KINDS,
    VERSION,
    canonical_json,
    digest,
    load_certificate,
    seal,
    validate,
    write_certificate,
    write_json,
)

__all__ = ["FORMAT", "KINDS", "VERSION", "canonical_json", "derivation_certificate", "digest", "from_evidence",
           "load_certificate", "property_certificate", "seal", "validate", "write_certificate",
           "write_json"]
