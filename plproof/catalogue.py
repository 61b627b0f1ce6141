"""Certified examples with the textbook values they must match, in the manner of PEPit's ``wc_*`` functions.

Each ``wc_*`` function certifies one classical example and returns an :class:`Example`: the certificate
(exactly what ``plproof certify --suite catalogue`` writes for it) and the values from the literature it
should match. ``cert, textbook = wc_linear_least_squares()`` unpacks like PEPit's ``(pepit_tau,
theoretical_tau)``; :meth:`Example.mismatches` lists every disagreement (a certified lower bound above the
textbook value is a soundness failure; one far below it a tightness failure).

- :func:`wc_linear_least_squares`: F(w) = Xw on the exact 2x4 example of docs/theory.md §7; mu and beta are
  the extreme eigenvalues (9 -+ sqrt 13)/2 of K = XX^T, L(w0) = 29/2, rate 1 - eta mu (2 - beta eta).
- :func:`wc_linear_least_squares_closed_form`: the derivation ``linear-ls``, whose exact steps give
  lambda_min(XX^T) = (9 - sqrt 13)/2 and the GD limit w_inf = (6, 10, 15, -9)/17.
- :func:`wc_toy_w1w2`: F(w) = w1 w2, y = 1, w0 = (10, 0) (docs/theory.md §5): on B(w0, R), K(w) = |w|^2, so
  mu = (10 - R)^2, sup ||DF|| = 10 + R, the Hessian [[0, 1], [1, 0]] has norm 1, lambda_min(K(w0)) = 100.
- :func:`wc_kns`: the KNS function f(x) = x^2 + 3 sin^2 x (docs/theory.md §6.2): 8-smooth and 1/32-PL, one GD
  step contracts by the ADZ rate tau(8, 1/32, h). No model is involved, so this is a property certificate
  (sampled rigor; it needs the property catalogue of a source checkout).
- :func:`wc_two_layer`: the paper suite's two-layer tanh network (n = 10, d = 16, width 64, symmetric init):
  lambda_min of the kernel formula of docs/theory.md §8, L(w0) and ||DF(w0)||, computed here in float64
  from that formula, and the per-neuron Hessian bound of §8 at the certified radius.

SGD on a quadratic is not in the catalogue: there is no SGD certificate kind (only the symbolic derivation
``sgd`` of the one-step bound, docs/theory.md §3).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import mpmath
import numpy as np

from plproof.certificate.format import decode_number, load_certificate, write_certificate
from plproof.errors import InvalidInput
from plproof.problem import Problem

#: digits of the textbook values and of the comparisons
DIGITS = 50


@dataclass(frozen=True)
class Example:
    """A certificate and the textbook values it should match.

    ``textbook`` maps a quantity of the certificate's evidence to its value from the literature; the
    certificate must bound it on the side(s) it states (``lo`` <= value <= ``hi``) and come within
    ``tolerance`` (relative) of it. ``steps`` maps derivation step ids to the statement they must prove;
    a property certificate must have passed and its claim's symbols contain ``stated``. ``path`` is where
    the certificate was written, if it was.
    """

    name: str
    certificate: dict
    textbook: dict[str, mpmath.mpf] = field(default_factory=dict)
    reference: str = ""
    tolerance: float = 1e-9
    steps: dict[str, str] = field(default_factory=dict)
    stated: str = ""
    path: Path | None = None

    def __iter__(self) -> Iterator:
        """``cert, textbook = wc_...()``, as PEPit's functions return (certified, theoretical)."""
        return iter((self.certificate, self.textbook))

    def mismatches(self) -> list[str]:
        """Each way the certificate disagrees with the textbook (empty: it matches)."""
        ev = self.certificate["evidence"]
        out = []
        with mpmath.workdps(DIGITS):
            for name, value in self.textbook.items():
                stored = ev.get("quantities", {}).get(name)
                if stored is None:
                    out.append(f"{name}: not in the certificate")
                    continue
                sides = {s: _mpf(stored[s]) for s in ("lo", "hi") if s in stored}
                if "lo" in sides and sides["lo"] > value:
                    out.append(f"{name}: certified lower bound {sides['lo']} > textbook {value} (unsound)")
                if "hi" in sides and sides["hi"] < value:
                    out.append(f"{name}: certified upper bound {sides['hi']} < textbook {value} (unsound)")
                gap = max(abs(v - value) for v in sides.values()) / max(abs(value), mpmath.mpf(1))
                if gap > self.tolerance:
                    out.append(f"{name}: certified {dict(sides)} is {float(gap):.3g} from textbook {value}")
        steps = {s["id"]: s for s in ev.get("steps", [])}
        for sid, statement in self.steps.items():
            if sid not in steps or _statement(steps[sid]) != statement or steps[sid]["status"] != "valid":
                out.append(f"step {sid}: {statement!r} is not a valid step of the certificate")
        if self.certificate["kind"] == "property" and ev["verdict"] != "passed":
            out.append(f"the property did not pass: {ev['verdict']}")
        if self.stated not in self.certificate["claim"]["symbols"]:
            out.append(f"the claim does not state {self.stated!r}")
        return out


def _statement(step: dict) -> str:
    """A certificate step as the checker writes it: ``lhs := rhs`` for a definition, else ``lhs rel rhs``."""
    return f"{step['lhs']} := {step['rhs']}" if step["relation"] == "def" else \
        f"{step['lhs']} {step['relation']} {step['rhs']}"


def _mpf(stored: object) -> mpmath.mpf:
    """A stored number at :data:`DIGITS` digits."""
    x = decode_number(stored)
    return mpmath.mpf(x) if isinstance(x, float) else mpmath.mpf(x.numerator) / x.denominator


def _q(cert: dict, name: str, side: str) -> mpmath.mpf:
    return _mpf(cert["evidence"]["quantities"][name][side])


def _written(name: str, cert: dict, out: str | Path | None) -> Path | None:
    return write_certificate(cert, Path(out) / f"{name}.json") if out is not None else None


def _problem_example(name: str, problem: Problem, textbook: Callable[[dict], dict], reference: str,
                     out: str | Path | None, tolerance: float = 1e-9) -> Example:
    """check() the problem as ``plproof certify`` does, and the textbook values at the certified radius."""
    from plproof.certificate import from_evidence
    from plproof.routes.ball import check

    cert = from_evidence(check(problem), problem)
    with mpmath.workdps(DIGITS):
        values = textbook(cert)
    return Example(name, cert, values, reference, tolerance, path=_written(name, cert, out))


# ---------------------------------------------------------------- the examples
def wc_linear_least_squares(out: str | Path | None = None) -> Example:
    """F(w) = Xw, X = [[1, 2, 0, 1], [0, 1, 1, -1]], y = (1, 2), w0 = (1, 0, -1, 2) (docs/theory.md §7)."""
    from plproof.suite import BUILTIN_PROBLEMS

    def textbook(cert: dict) -> dict:
        mu, beta = (9 - mpmath.sqrt(13)) / 2, (9 + mpmath.sqrt(13)) / 2  # eigenvalues of K = [[6, 1], [1, 3]]
        eta = _q(cert, "step", "hi")
        return {"lambda0": mu, "mu": mu, "beta": beta, "L0": mpmath.mpf(29) / 2,
                "rate": 1 - eta * mu * (2 - beta * eta), "R_existence": mpmath.sqrt(29 / mu)}

    return _problem_example("linear-least-squares", BUILTIN_PROBLEMS["linear-exact"](), textbook,
                            "docs/theory.md §7", out)


def wc_linear_least_squares_closed_form(out: str | Path | None = None) -> Example:
    """The derivation ``linear-ls``: its exact steps state lambda_min and the GD limit w_inf of §7's example."""
    from plproof.certificate import derivation_certificate
    from plproof.symbolic import builtin, check_derivation

    cert = derivation_certificate(check_derivation(builtin("linear-ls")))
    steps = {"E2": "lambda_min(X0*X0.T) = (9 - sqrt(13))/2",
             "E3": "Matrix([1, 0, -1, 2]) + X0.T*inv(X0*X0.T)*(Matrix([1, 2]) - X0*Matrix([1, 0, -1, 2])) = "
                   "Matrix([6, 10, 15, -9])/17"}
    return Example("linear-least-squares-closed-form", cert, {}, "docs/theory.md §7", steps=steps,
                   path=_written("linear-least-squares-closed-form", cert, out))


def toy_w1w2() -> Problem:
    """F(w) = w1 w2 with y = 1 from w0 = (10, 0), the toy of docs/theory.md §5 (a SymPy model)."""
    import sympy as sp

    from plproof.models.sympy_model import SympyModel

    w1, w2 = sp.symbols("w1 w2")
    return Problem(SympyModel([w1 * w2], [w1, w2], w0=[10, 0]), y=[1], w0=[10, 0])


def wc_toy_w1w2(out: str | Path | None = None) -> Example:
    """The w1 w2 toy: on B(w0, R), mu = (10 - R)^2 (K(w) = |w|^2), L_F = 10 + R, epsilon = 1, lambda0 = 100."""
    def textbook(cert: dict) -> dict:
        R = _q(cert, "R", "hi")
        return {"lambda0": mpmath.mpf(100), "L0": mpmath.mpf(1) / 2, "mu": (10 - R) ** 2, "L_F": 10 + R,
                "epsilon": mpmath.mpf(1), "jacobian_norm_w0": mpmath.mpf(10)}

    return _problem_example("toy-w1w2", toy_w1w2(), textbook, "docs/theory.md §5", out)


#: the KNS constants of docs/theory.md §6.2 (Karimi, Nutini, Schmidt 2016) that the property tests
KNS = {"L": 8, "mu": "1/32"}


def wc_kns(out: str | Path | None = None) -> Example:
    """One GD step on f(x) = x^2 + 3 sin^2 x contracts by tau(8, 1/32, h) (docs/theory.md §6.2, §6.3): the
    property test of the catalogue, run under the ``ci`` profile. Its claim states the KNS constants; without
    ``out`` it runs in a temporary folder (the returned certificate then names code it cannot reach)."""
    from plproof.pytest_plugin import catalogue_dir, run_properties

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out) if out is not None else Path(tmp)
        summary = run_properties(folder, paths=[catalogue_dir() / "test_pl_functions.py"],
                                 pytest_args=("-k", "kns", "--disable-warnings", "--no-header"))
        found = [o for o in summary.outcomes if o.certificate]
        if len(found) != 1:
            raise InvalidInput(f"the KNS property did not produce one certificate (pytest exit {summary.exit_code})")
        cert = load_certificate(found[0].certificate)
        path = Path(found[0].certificate) if out is not None else None
    return Example("kns", cert, {}, "docs/theory.md §6.2, §6.3", stated=f"L = {KNS['L']}, mu = {KNS['mu']}",
                   path=path)


def _two_layer_textbook(cert: dict) -> dict:
    """docs/theory.md §8 in float64 at w0: K = [(XX^T) o (D diag(v^2) D^T) + AA^T]/m with A = tanh(XW^T),
    D = 1 - A^2; F = A v/sqrt(m); and the per-neuron Hessian bound at V = ||v0||_inf + R."""
    inp = cert["inputs"]
    X = np.array(inp["model"]["X"]["data"]).reshape(inp["model"]["X"]["shape"])
    w0, y = np.array(inp["w0"]["data"]), np.array(inp["y"]["data"])
    width, d_in = int(inp["model"]["width"]), X.shape[1]
    W, v = w0[:width * d_in].reshape(width, d_in), w0[width * d_in:]
    A = np.tanh(X @ W.T)
    D = 1 - A**2
    K = ((X @ X.T) * (D @ np.diag(v**2) @ D.T) + A @ A.T) / width
    eig = np.linalg.eigvalsh(K)
    r = A @ v / np.sqrt(width) - y
    V, S1, S2 = mpmath.mpf(np.max(np.abs(v))) + _q(cert, "R", "hi"), 1, 4 / (3 * mpmath.sqrt(3))  # tanh, §8 table
    x2 = mpmath.mpf(max(float(row @ row) for row in X))
    eps = (V * S2 * x2 + mpmath.sqrt(V**2 * S2**2 * x2**2 + 4 * S1**2 * x2)) / (2 * mpmath.sqrt(width))
    return {"lambda0": mpmath.mpf(eig[0]), "L0": mpmath.mpf(float(r @ r) / 2),
            "jacobian_norm_w0": mpmath.sqrt(eig[-1]), "epsilon": eps}


def wc_two_layer(out: str | Path | None = None) -> Example:
    """The paper suite's two-layer tanh network: n = 10 points in d = 16, width 64, symmetric init (F(w0) = 0)."""
    from plproof.suite import BUILTIN_PROBLEMS

    return _problem_example("two-layer-tanh", BUILTIN_PROBLEMS["two-layer-tanh-symmetric"](), _two_layer_textbook,
                            "docs/theory.md §8, §11", out, tolerance=1e-9)


#: every example, by name
CATALOGUE: dict[str, Callable[..., Example]] = {
    "linear-least-squares": wc_linear_least_squares,
    "linear-least-squares-closed-form": wc_linear_least_squares_closed_form,
    "toy-w1w2": wc_toy_w1w2,
    "kns": wc_kns,
    "two-layer-tanh": wc_two_layer,
}

__all__ = ["CATALOGUE", "Example", "KNS", "toy_w1w2", "wc_kns", "wc_linear_least_squares",
           "wc_linear_least_squares_closed_form", "wc_toy_w1w2", "wc_two_layer"]
