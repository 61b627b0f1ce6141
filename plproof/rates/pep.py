"""The performance-estimation problem of N GD steps on a PL class, solved by PEPit (optional extra ``pep``).

PEPit 0.5.1 builds the SDP from its classes ``SmoothQuadraticLojasiewiczFunctionCheap`` (``pl-cheap``) and
``...Expensive`` (``pl-expensive``) and returns the float dual multipliers; :func:`solve` renames them to the
constraints of :mod:`plproof.verify.rate` (``pl[i]``, ``upper[i]``, ``smooth[i,j]``, ``lmi1[i,j]``, ``lmi2[i,j]``,
i, j the iterates x_0..x_N) and drops those of pairs with the stationary point, which the exact proof does not
use (docs/theory.md §6.4). ``perturbation`` eps maximises f(x_N) - f* + eps sum ||g_i||^2 instead: its dual
proves the unperturbed bound with a slack matrix S >= eps I, the room the rational rounding needs.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from fractions import Fraction

from plproof.errors import InvalidInput, MissingDependency

#: PEPit class of each plproof class name
PEPIT_CLASSES = {"pl-cheap": "SmoothQuadraticLojasiewiczFunctionCheap",
                 "pl-expensive": "SmoothQuadraticLojasiewiczFunctionExpensive"}
#: PEPit constraint names -> the verifier's
NAMES = {"quadratic_lojasiewicz": "pl", "upper_quadratic_lojasiewicz": "upper", "smoothness": "smooth",
         "smooth_quadratic_lojasiewicz_lmi_1": "lmi1", "smooth_quadratic_lojasiewicz_lmi_2": "lmi2"}
PATTERN = re.compile(r"^IC_Function_\d+_(\w+)\(x(\d+|s), x(\d+|s)\)$")


@dataclass
class DualSolution:
    """A float SDP solution: the value and the multipliers (scalars, or (z11, z12, z22) of a 2x2 dual)."""

    value: float
    duals: dict[str, float | tuple[float, float, float]]
    perturbation: float
    solver: str
    seconds: float
    versions: dict[str, str] = field(default_factory=dict)


def available() -> bool:
    """Whether PEPit and CVXPY can be imported here."""
    try:
        import cvxpy  # noqa: F401
        import PEPit  # noqa: F401
    except ImportError:
        return False
    return True


def _pepit():
    try:
        import PEPit
        import PEPit.functions
    except ImportError:
        raise MissingDependency("solving a performance-estimation problem needs PEPit: pip install 'plproof[pep]' "
                                "(pepit, cvxpy, clarabel); verifying a rate certificate does not") from None
    return PEPit


def solve(cls: str, L: Fraction, mu: Fraction, h: Fraction, steps: int, *, perturbation: float = 0.0,
          solver: str = "CLARABEL", tolerance: float = 1e-11) -> DualSolution:
    """The worst case of f(x_N) - f* (+ eps sum ||g_i||^2) over the class with f(x_0) - f* <= 1, and its dual."""
    if cls not in PEPIT_CLASSES:
        raise InvalidInput(f"unknown function class {cls!r}: use one of {', '.join(PEPIT_CLASSES)}")
    PEPit = _pepit()
    problem = PEPit.PEP()
    func = problem.declare_function(getattr(PEPit.functions, PEPIT_CLASSES[cls]), L=float(L), mu=float(mu))
    xs = func.stationary_point()
    xs.set_name("xs")
    fs = func(xs)
    x = problem.set_initial_point()
    x.set_name("x0")
    problem.set_initial_condition(func(x) - fs <= 1)
    grads = []
    for k in range(steps):
        g = func.gradient(x)
        grads.append(g)
        x = x - float(h) * g
        x.set_name(f"x{k + 1}")
    g, f = func.oracle(x)
    grads.append(g)
    problem.set_performance_metric(f - fs + perturbation * sum(gi ** 2 for gi in grads))
    start = time.perf_counter()
    options = {"tol_gap_abs": tolerance, "tol_gap_rel": tolerance, "tol_feas": tolerance} if solver == "CLARABEL" else {}
    value = problem.solve(verbose=0, solver=solver, **options)
    seconds = time.perf_counter() - start
    duals: dict[str, float | tuple[float, float, float]] = {}
    for c in func.list_of_class_constraints:
        name = _name(c.get_name())
        if name is not None:
            duals[name] = float(c.eval_dual())
    for m in func.list_of_class_psd:
        name = _name(m.get_name())
        if name is not None:
            z = m.eval_dual()
            duals[name] = (float(z[0, 0]), float((z[0, 1] + z[1, 0]) / 2), float(z[1, 1]))
    import cvxpy

    return DualSolution(float(value), duals, perturbation, solver, seconds,
                        {"pepit": _version("pepit"), "cvxpy": cvxpy.__version__})


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def _name(pepit_name: str) -> str | None:
    """``IC_Function_0_smoothness(x0, x1)`` -> ``smooth[0,1]``; ``pl[i]``/``upper[i]`` for PL against x*;
    None for a constraint between an iterate and x* other than those (unused by the exact proof)."""
    m = PATTERN.match(pepit_name)
    if m is None:
        raise RuntimeError(f"unexpected PEPit constraint name {pepit_name!r} (PEPit version?)")
    kind, i, j = NAMES.get(m.group(1)), m.group(2), m.group(3)
    if kind is None:
        raise RuntimeError(f"unexpected PEPit constraint {pepit_name!r}")
    if kind in ("pl", "upper"):
        return f"{kind}[{i}]" if j == "s" and i != "s" else None
    return None if "s" in (i, j) else f"{kind}[{i},{j}]"
