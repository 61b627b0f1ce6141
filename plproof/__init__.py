"""plproof: machine-checked evidence for PL* and the convergence of GD/SGD in over-parameterised systems.

The mathematics is stated in docs/theory.md; every reported number is an :class:`Enclosure` with a
:class:`RigorLevel`.
"""

from plproof._version import __version__
from plproof.errors import (
    CertificateError,
    InvalidInput,
    MissingDependency,
    NotCertifiable,
    PlproofError,
    SoundnessViolation,
)
from plproof.models import (
    ACTIVATIONS,
    MLP,
    Activation,
    CallableModel,
    Linear,
    Model,
    RandomFeatures,
    SympyModel,
    TorchModel,
    TwoLayer,
)
from plproof.numeric import (
    Enclosure,
    RigorLevel,
    Trajectory,
    gradient_descent,
    lambda_min_hp,
    precision,
    sgd,
)
from plproof.problem import Problem
from plproof.evidence import Evidence, Hypothesis, Status, Verdict
from plproof.check import check
from plproof.run import certify_run
from plproof.width import WidthResult, min_certified_width
from plproof.verify import VerifyResult, verify

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "CallableModel",
    "CertificateError",
    "Enclosure",
    "Evidence",
    "Hypothesis",
    "InvalidInput",
    "Linear",
    "MLP",
    "MissingDependency",
    "Model",
    "NotCertifiable",
    "PlproofError",
    "Problem",
    "RandomFeatures",
    "RigorLevel",
    "SoundnessViolation",
    "SympyModel",
    "TorchModel",
    "Status",
    "Trajectory",
    "TwoLayer",
    "Verdict",
    "VerifyResult",
    "WidthResult",
    "__version__",
    "certify_run",
    "check",
    "gradient_descent",
    "lambda_min_hp",
    "min_certified_width",
    "precision",
    "sgd",
    "verify",
]
