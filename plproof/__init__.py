"""plproof: machine-checked evidence for PL* and the convergence of GD/SGD in over-parameterised systems.

The mathematics is stated in docs/theory.md; every reported number is an :class:`Enclosure` with a
:class:`RigorLevel`. Public names load lazily (PEP 562), so ``import plproof.verify`` loads the verifier
alone, never the producer (docs/rigor.md, "What the verifier trusts").
"""

import warnings
from typing import Any

from plproof._lazy import attach
from plproof._version import __version__

_getattr, __dir__, __all__ = attach(__name__, {
    **dict.fromkeys(("CertificateError", "InvalidInput", "MissingDependency", "NotCertifiable", "PlproofError",
                     "SoundnessViolation"), "plproof.errors"),
    **dict.fromkeys(("ACTIVATIONS", "MLP", "Activation", "CallableModel", "Linear", "Model", "RandomFeatures",
                     "SympyModel", "TorchModel", "TwoLayer", "LayerGraph", "Network", "from_torch", "JaxModel"), "plproof.models"),
    **dict.fromkeys(("Enclosure", "RigorLevel", "Trajectory", "gradient_descent", "lambda_min_hp", "precision",
                     "sgd"), "plproof.numeric"),
    "Problem": "plproof.problem",
    **dict.fromkeys(("Evidence", "Premise", "Status", "Verdict"), "plproof.evidence"),
    "check": "plproof.routes.ball",
    "certify_run": "plproof.routes.trajectory",
    **dict.fromkeys(("WidthResult", "min_certified_width"), "plproof.routes.width"),
    **dict.fromkeys(("VerifyResult", "verify"), "plproof.verify"),
    "rate_certificate": "plproof.rates",
})
__all__ = [*__all__, "__version__"]


def __getattr__(name: str) -> Any:
    """A public name, loaded on first use; ``Hypothesis`` is the deprecated alias of :class:`Premise`."""
    if name == "Hypothesis":
        warnings.warn("plproof.Hypothesis is deprecated and will be removed in the next release: use "
                      "plproof.Premise (a theorem's premise; 'Hypothesis' is the property-testing library)",
                      DeprecationWarning, stacklevel=2)
        return _getattr("Premise")
    return _getattr(name)
