"""Numerics: precision contexts (float64, double-double, mpmath, python-flint, exact), rigor levels and
enclosures, high-precision eigenvalues, GD/SGD runners, BLAS threads.

Names load lazily, so importing plproof.numeric.arith alone does not load the verified routines.
"""

from plproof._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    **dict.fromkeys(("EXACT", "FLOAT64", "Arith", "DDArith", "FlintArith", "MPArith", "current", "high_precision",
                     "precision"), "plproof.numeric.arith"),
    "DDArray": "plproof.numeric.ddarray",
    **dict.fromkeys(("eigvalsh_hp", "lambda_max_hp", "lambda_min_hp"), "plproof.numeric.linalg"),
    **dict.fromkeys(("Enclosure", "RigorLevel", "weakest"), "plproof.numeric.rigor"),
    **dict.fromkeys(("Trajectory", "gradient_descent", "sgd"), "plproof.numeric.runners"),
})
