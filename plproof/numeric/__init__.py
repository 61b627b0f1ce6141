"""Numerics: precision contexts, rigor levels and enclosures, high-precision eigenvalues, GD/SGD runners."""

from plproof.numeric.arith import EXACT, FLOAT64, Arith, MPArith, current, precision
from plproof.numeric.linalg import eigvalsh_hp, lambda_max_hp, lambda_min_hp
from plproof.numeric.rigor import Enclosure, RigorLevel, weakest
from plproof.numeric.runners import Trajectory, gradient_descent, sgd

__all__ = [
    "EXACT", "FLOAT64", "Arith", "Enclosure", "MPArith", "RigorLevel", "Trajectory", "current",
    "eigvalsh_hp", "gradient_descent", "lambda_max_hp", "lambda_min_hp", "precision", "sgd", "weakest",
]
