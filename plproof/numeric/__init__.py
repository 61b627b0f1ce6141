"""Numerics: precision contexts, rigor levels and enclosures, high-precision eigenvalues, GD/SGD runners.

Names load lazily, so importing plproof.numeric.arith alone does not load the verified routines.
"""

from plproof._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    **dict.fromkeys(("EXACT", "FLOAT64", "Arith", "MPArith", "current", "precision"), "plproof.numeric.arith"),
    **dict.fromkeys(("eigvalsh_hp", "lambda_max_hp", "lambda_min_hp"), "plproof.numeric.linalg"),
    **dict.fromkeys(("Enclosure", "RigorLevel", "weakest"), "plproof.numeric.rigor"),
    **dict.fromkeys(("Trajectory", "gradient_descent", "sgd"), "plproof.numeric.runners"),
})
