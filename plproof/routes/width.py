"""The smallest width at which a two-layer net is certified, beside the width at which GD converges.

"Wide networks satisfy PL*" (docs/theory.md §4.2) made concrete for one data set: doubling, then
bisection over widths; where nothing certifies up to the limit, an extrapolation (an estimate,
labelled as one) from how the bounds scale with width (docs/theory.md §8: s = m^{-1/2},
||v0||_inf ~ sqrt(2 ln 2m)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from plproof.routes.ball import check, search_radius
from plproof.errors import InvalidInput
from plproof.evidence import Evidence
from plproof.models import TwoLayer
from plproof.models.base import check_finite_matrix, check_positive_int
from plproof.numeric.runners import gradient_descent
from plproof.problem import Problem
from plproof.routes.trajectory import certify_run
from plproof.theory.centre import centre
from plproof.numeric.rigor import RigorLevel, Summary, html_table


@dataclass
class WidthResult:
    """Smallest certified width (or None), the empirical GD width, and their ratio."""

    certified_width: int | None
    empirical_width: int | None
    max_width: int
    evidence: Evidence | None
    extrapolated_width: float | None = None
    tried: dict[int, bool] = field(default_factory=dict)
    run_width: int | None = None
    run_evidence: Evidence | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def conservativeness(self) -> float | None:
        """certified width / empirical width: how conservative the theorem's route is."""
        if self.certified_width and self.empirical_width:
            return self.certified_width / self.empirical_width
        return None

    def _rows(self) -> list[tuple[str, str]]:
        def width(w: int | None, how: str) -> str:
            return f"{w} ({how})" if w is not None else f"none up to {self.max_width}"

        rows = []
        if self.tried or self.certified_width is not None:  # the ball route ran
            rigor = self.evidence.rigor.label if self.evidence is not None else ""
            rows.append(("certified width, ball route", width(self.certified_width, rigor)))
        if self.run_width is not None or not rows:  # the run route certified, or was the only one asked
            rows.append(("certified width, run route", width(self.run_width, "verified")))
        if self.extrapolated_width is not None:
            rows.append(("extrapolated width", f"{self.extrapolated_width:.4g} (an estimate, not a certificate)"))
        rows.append(("GD converges from width", width(self.empirical_width, "observed")))
        if self.conservativeness is not None:
            rows.append(("certified / empirical", f"{self.conservativeness:.3g}"))
        return rows

    def summary(self) -> Summary:
        """The smallest certified width per route, the empirical GD width and their ratio, one per line."""
        rows = self._rows()
        pad = max(len(k) for k, _ in rows)
        return Summary("\n".join(f"{k:<{pad}}  {v}" for k, v in rows))

    def __repr__(self) -> str:
        return f"<WidthResult {'; '.join(f'{k} {v}' for k, v in self._rows())}>"

    def _repr_html_(self) -> str:
        return html_table("WidthResult", self._rows())

    def to_json(self) -> dict:
        return {"certified_width": self.certified_width, "run_certified_width": self.run_width,
                "empirical_width": self.empirical_width,
                "run_ratio": self.run_width / self.empirical_width if self.run_width and self.empirical_width else None,
                "max_width": self.max_width, "extrapolated_width": self.extrapolated_width,
                "extrapolation_is_estimate": True, "ratio": self.conservativeness,
                "tried": {str(k): v for k, v in sorted(self.tried.items())}, "notes": self.notes}


def _widths(max_width: int, symmetric: bool) -> list[int]:
    start = 2 if symmetric else 1
    return [w for w in (start * 2**k for k in range(64)) if w <= max_width]


def gd_converges(problem: Problem, target: float = 1e-20, max_steps: int = 20_000) -> bool:
    """Float64 GD with eta = 1/lambda_max(K(w0)) reaches L <= target within max_steps (an observation)."""
    lam_max = float(np.linalg.eigvalsh(problem.kernel())[-1])
    chunk = 1000
    w = problem.w0
    for _ in range(0, max_steps, chunk):
        traj = gradient_descent(problem, 1.0 / lam_max, chunk, w0=w)
        if min(traj.losses) <= target:
            return True
        if traj.diverged:
            return False
        w = traj.w_final
    return False


def _smallest(widths: list[int], certifies: Callable[[int], bool], step: int) -> int | None:
    """Doubling, then bisection below the first certified power of 2 (assumes rough monotonicity)."""
    first = next((w for w in widths if certifies(w)), None)
    if first is None:
        return None
    lo, hi = first // 2, first
    while hi - lo > step:
        mid = (lo + hi) // 2
        mid -= mid % step
        if mid <= lo:
            break
        lo, hi = (lo, mid) if certifies(mid) else (mid, hi)
    return hi


def min_certified_width(X: Any, y: Any, family: str = "two_layer", activation: str = "tanh", seed: int = 0,
                        init: str = "standard", *, max_width: int = 2**14, rigor: str = "verified",
                        bounds: str = "tight", route: str = "ball", empirical: bool = True,
                        gd_target: float = 1e-20, gd_steps: int = 20_000) -> WidthResult:
    """Smallest width (doubling then bisection) whose two-layer net certifies, by route ``ball``
    (docs/theory.md §2.5, §11), ``run`` (the trajectory certificate, §12) or ``both``.

    The ball search uses float estimates (rigor ``sampled``) to be fast; the answer is then re-checked at
    ``rigor``, moving up to the next tried width if the rigorous check does not close. Widths with fewer
    parameters than data points are skipped (lambda_min(K) = 0 there, docs/theory.md §5).
    """
    if family != "two_layer":
        raise InvalidInput(f"min_certified_width supports family='two_layer', got {family!r}")
    if route not in ("ball", "run", "both"):
        raise InvalidInput(f"route must be 'ball', 'run' or 'both', got {route!r}")
    X = check_finite_matrix(X, "X")
    max_width = check_positive_int(max_width, "max_width")
    symmetric = init == "symmetric"
    step = 2 if symmetric else 1

    def problem(width: int) -> Problem:
        return Problem(TwoLayer(X, width, activation, seed, init=init), y)

    tried: dict[int, bool] = {}
    under: set[int] = set()

    def usable(width: int) -> bool:
        """m >= n: an under-parameterised width can never certify (docs/theory.md §5)."""
        if problem(width).underparameterized:
            under.add(width)
            return False
        return True

    def ball_sampled(width: int) -> bool:
        tried[width] = usable(width) and check(problem(width), "sampled", bounds=bounds, confirm=False).certified
        return tried[width]

    widths = [w for w in _widths(max_width, symmetric) if usable(w)]
    result = WidthResult(None, None, max_width, None, tried=tried)
    if not widths:
        result.notes.append(f"every width up to {max_width} has fewer parameters than the {X.shape[0]} data points: "
                            "raise max_width")
        return result
    if route in ("ball", "both"):
        found = _smallest(widths, ball_sampled, step)
        if found is not None:
            for w in sorted(v for v in {found, *widths} if found <= v <= max_width):
                ev = check(problem(w), rigor, bounds=bounds)
                if ev.certified:
                    result.certified_width, result.evidence = w, ev
                    break
            result.notes.append("first-certified widths need not be monotone in width at small widths "
                                "(lambda0 fluctuates): bisection reports one certified width below the first "
                                "power of 2")
        else:
            result.extrapolated_width = extrapolate_width(problem(widths[-1]), bounds)
            result.notes.append(f"no width up to {max_width} certifies by the ball route; the extrapolated "
                                "width is an estimate, not a certificate")
    if route in ("run", "both"):
        runs: dict[int, Evidence] = {}

        def run_certifies(width: int) -> bool:
            if not usable(width):
                return False
            runs[width] = certify_run(problem(width), max_steps=gd_steps * 10, rigor=rigor)
            return runs[width].certified

        result.run_width = _smallest(widths, run_certifies, step)
        result.run_evidence = runs.get(result.run_width) if result.run_width else None
    if empirical:
        result.empirical_width = next((w for w in widths if gd_converges(problem(w), gd_target, gd_steps)), None)
    if under:
        result.notes.append(f"skipped width{'s' if len(under) > 1 else ''} {', '.join(map(str, sorted(under)))}: "
                            f"fewer parameters than the {X.shape[0]} data points (m < n, lambda_min(K) = 0)")
    return result


def extrapolate_width(problem: Problem, bounds: str = "tight", limit_log2: int = 400) -> float | None:
    """Width at which the ball route would close if lambda0, ||DF(w0)||, ||r0|| stayed at their values here
    and only s = m^{-1/2} and ||v0||_inf ~ sqrt(2 ln 2m) moved: the two-layer bounds' own extrapolation
    (``extrapolated_to_width``, an estimate, docs/theory.md §8) at m = 2^k."""
    model: TwoLayer = problem.model
    c = centre(problem, RigorLevel.SAMPLED)
    bb = model.ball_bounds(problem.w0, bounds)
    for k in range(int(math.log2(model.width)) + 1, limit_log2):
        m = 2.0**k
        if search_radius(c, bb.extrapolated_to_width(m), None)[0] is not None:  # type: ignore[attr-defined]
            return m
    return None
