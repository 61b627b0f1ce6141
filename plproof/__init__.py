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
from plproof.models import ACTIVATIONS, MLP, Activation, Linear, Model, RandomFeatures, TwoLayer
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

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "CertificateError",
    "Enclosure",
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
    "Trajectory",
    "TwoLayer",
    "__version__",
    "gradient_descent",
    "lambda_min_hp",
    "precision",
    "sgd",
]
