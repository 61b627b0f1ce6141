"""Certificates: versioned JSON envelopes with a sha256 digest, written atomically (DESIGN.md).

:mod:`plproof.certificate.format` (envelope, canonical JSON, digest, schema, write, load) imports
nothing else from plproof; :mod:`plproof.certificate.build` turns evidence into certificates. Names
load lazily, so the verifier's import of the format module does not load the producer.
"""

from plproof._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    **dict.fromkeys(("derivation_certificate", "from_evidence", "property_certificate"), "plproof.certificate.build"),
    **dict.fromkeys(("FORMAT", "KINDS", "VERSION", "canonical_json", "digest", "load_certificate", "seal", "validate",
                     "write_certificate", "write_json"), "plproof.certificate.format"),
})
