"""Re-check a ``rate`` certificate: a performance-estimation dual proof of a GD rate, in exact rationals.

Claim (docs/theory.md §6.4): for every f in the class (L-smooth, mu-PL in convention A, f* = inf f), N steps
x_{k+1} = x_k - h grad f(x_k) give f(x_N) - f* <= tau (f(x_0) - f*). The variables are phi_i = f(x_i) - f*
(i = 0..N) and the Gram matrix G of the gradients g_0..g_N (x_i - x_j = -h sum_{j<=k<i} g_k). This module
builds the class's inequalities itself, each written ``c_k(phi, G) <= 0`` (and, for the expensive class,
2x2 matrices ``T_m(phi, G, aux) >= 0`` with free auxiliary scalars), from the inputs alone; the hints only
give the multipliers lambda_k > 0, the 2x2 duals Z_m >= 0, tau and an LDL^T. It checks, as polynomials:

    phi_N - tau phi_0 = sum_k lambda_k c_k - sum_m <Z_m, T_m> - <S, G>,

i.e. the coefficient of every phi_i and auxiliary variable vanishes in the right side minus the left, and the
Gram coefficients define S; then S = L D L^T with L unit lower triangular (zero below a zero pivot) and
D >= 0. For any f in the class c_k <= 0, <Z_m, T_m> >= 0 and <S, G> >= 0, so the bound follows.
It imports no SDP solver and nothing from the producer (tests/test_verify_isolation.py).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator

from plproof.certificate.format import decode_number
from plproof.verify.evidence import Derived
from plproof.verify.exact import Failure

CLASSES = ("pl-cheap", "pl-expensive")
MAX_STEPS = 8
REFERENCE = "docs/theory.md §6.4"

Form = dict[tuple, Fraction]  # a linear form: variable -> coefficient; ("f", i), ("G", p, q) p <= q, ("aux", ...)


def _add(out: Form, form: Form, scale: Fraction = Fraction(1)) -> Form:
    """out += scale * form (in place), dropping zero coefficients."""
    for key, c in form.items():
        v = out.get(key, Fraction(0)) + scale * c
        if v:
            out[key] = v
        else:
            out.pop(key, None)
    return out


def _lin(*terms: tuple[Fraction, Form]) -> Form:
    out: Form = {}
    for scale, form in terms:
        _add(out, form, Fraction(scale))
    return out


def _inner(v: list[Fraction], w: list[Fraction]) -> Form:
    """<v, w> for vectors v, w in the basis g_0..g_N, as a linear form in the Gram entries."""
    out: Form = {}
    for p, a in enumerate(v):
        for q, b in enumerate(w):
            if a and b:
                _add(out, {("G", min(p, q), max(p, q)): a * b})
    return out


class Setting:
    """The points of N GD steps: gradients g_i = e_i, displacements x_i - x_j, values phi_i."""

    def __init__(self, cls: str, L: Fraction, mu: Fraction, h: Fraction, steps: int) -> None:
        self.cls, self.L, self.mu, self.h, self.N = cls, L, mu, h, steps
        self.n = steps + 1

    def g(self, i: int) -> list[Fraction]:
        return [Fraction(int(k == i)) for k in range(self.n)]

    def x(self, i: int) -> list[Fraction]:
        """x_i - x_0 = -h (g_0 + ... + g_{i-1})."""
        return [-self.h if k < i else Fraction(0) for k in range(self.n)]

    @staticmethod
    def phi(i: int) -> Form:
        return {("f", i): Fraction(1)}

    def smooth(self, i: int, j: int) -> Form:
        """1/2 <g_i + g_j, x_i - x_j> + ||g_i - g_j||^2/(4L) - L/4 ||x_i - x_j||^2 - (phi_i - phi_j)  (<= 0)."""
        d = [a - b for a, b in zip(self.x(i), self.x(j))]
        s = [a + b for a, b in zip(self.g(i), self.g(j))]
        e = [a - b for a, b in zip(self.g(i), self.g(j))]
        return _lin((Fraction(1, 2), _inner(s, d)), (1 / (4 * self.L), _inner(e, e)), (-self.L / 4, _inner(d, d)),
                    (-1, self.phi(i)), (1, self.phi(j)))

    def scalar_constraints(self) -> Iterator[tuple[str, Form]]:
        """(name, c) with c <= 0 for every f in the class: PL and its smooth converse at each point, and for
        the cheap class the L-smooth interpolation inequality of every ordered pair of iterates."""
        for i in range(self.n):
            yield f"pl[{i}]", _lin((1, self.phi(i)), (-1 / (2 * self.mu), _inner(self.g(i), self.g(i))))
        for i in range(self.n):
            yield f"upper[{i}]", _lin((1 / (2 * self.L), _inner(self.g(i), self.g(i))), (-1, self.phi(i)))
        if self.cls == "pl-cheap":
            for i, j in self.pairs():
                yield f"smooth[{i},{j}]", self.smooth(i, j)

    def pairs(self) -> Iterator[tuple[int, int]]:
        return ((i, j) for i in range(self.n) for j in range(self.n) if i != j)

    def matrix_constraints(self) -> Iterator[tuple[str, tuple[Form, Form, Form]]]:
        """(name, (T11, T12, T22)) with T >= 0 for every f of the expensive class, for some values of the two
        auxiliary variables of the pair (RHT 2025 Prop. 3.4 as in PEPit 0.5.1; docs/theory.md §6.4)."""
        if self.cls != "pl-expensive":
            return
        L, mu = self.L, self.mu
        for i, j in self.pairs():
            A = self.smooth(i, j)  # the smoothness inequality, <= 0 on the class
            B = _lin((L + mu, self.phi(i)), (-(L + mu) / (2 * L), _inner(self.g(i), self.g(i))))
            C = _lin((L - mu, self.phi(j)), ((L - mu) / (2 * L), _inner(self.g(j), self.g(j))))
            t12, t22 = {("aux", i, j, 12): Fraction(1)}, {("aux", i, j, 22): Fraction(1)}
            t11 = _lin((-(2 * L + mu), A))
            D = _lin((1, B), (-1, C), (-(L + 3 * mu), A))
            m11 = _lin((1, t11), (-4 * mu / (2 * L + mu), t12), (-1, D))
            m12 = _lin((1, t12), (-mu / (2 * L + mu), t22), (-(L + mu) / 2, A), (1, B))
            m22 = _lin((1, t22), (-1, B))
            yield f"lmi1[{i},{j}]", (m11, m12, m22)
            yield f"lmi2[{i},{j}]", (t11, t12, t22)


def _fraction(v: object, where: str) -> Fraction:
    if isinstance(v, Fraction):
        return v
    try:
        x = decode_number(v)
    except Exception as exc:  # noqa: BLE001 - any unreadable number is a failure of this certificate
        raise Failure(f"{where}: {exc}") from None
    if not isinstance(x, Fraction):
        raise Failure(f"{where}: must be a finite exact number, got {v!r}")
    return x


def setting(inputs: dict) -> Setting:
    """The class, L, mu, h and N of ``inputs``, checked: 0 < mu <= L, h > 0, 1 <= N <= MAX_STEPS."""
    cls = inputs.get("class")
    if cls not in CLASSES:
        raise Failure(f"inputs.class: {cls!r} is not one of {', '.join(CLASSES)}")
    L, mu, h = (_fraction(inputs.get(k), f"inputs.{k}") for k in ("L", "mu", "step"))
    steps = inputs.get("steps")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise Failure(f"inputs.steps: must be an integer in [1, {MAX_STEPS}], got {steps!r}")
    if not (0 < mu <= L and h > 0):
        raise Failure(f"inputs: need 0 < mu <= L and step > 0, got L = {L}, mu = {mu}, step = {h}")
    return Setting(cls, L, mu, h, steps)


def _dual_2x2(v: object, where: str) -> tuple[Fraction, Fraction, Fraction]:
    if not isinstance(v, list) or len(v) != 3:
        raise Failure(f"{where}: a 2x2 dual is [z11, z12, z22], got {v!r}")
    z = tuple(_fraction(x, f"{where}[{k}]") for k, x in enumerate(v))
    if not (z[0] >= 0 and z[2] >= 0 and z[0] * z[2] - z[1] ** 2 >= 0) or z == (0, 0, 0):
        raise Failure(f"{where}: {[str(x) for x in z]} is not a nonzero positive semidefinite 2x2 matrix")
    return z  # type: ignore[return-value]


def residual(st: Setting, tau: Fraction, multipliers: dict) -> tuple[Form, Fraction | None, Fraction | None]:
    """sum lambda_k c_k - sum <Z_m, T_m> - (phi_N - tau phi_0), the smallest multiplier and smallest 2x2 minor."""
    scalars, matrices = dict(st.scalar_constraints()), dict(st.matrix_constraints())
    unknown = sorted(set(multipliers) - set(scalars) - set(matrices))
    if unknown:
        raise Failure(f"hints.multipliers: {', '.join(unknown)} are not constraints of {st.cls} with {st.N} steps")
    out = _lin((-1, st.phi(st.N)), (tau, st.phi(0)))
    smallest, minor = None, None
    for name, value in multipliers.items():
        where = f"hints.multipliers.{name}"
        if name in scalars:
            lam = _fraction(value, where)
            if lam <= 0:
                raise Failure(f"{where}: a stored multiplier must be > 0 (omit zero ones), got {lam}")
            _add(out, scalars[name], lam)
            smallest = lam if smallest is None else min(smallest, lam)
        else:
            z11, z12, z22 = _dual_2x2(value, where)
            t11, t12, t22 = matrices[name]
            _add(out, _lin((z11, t11), (2 * z12, t12), (z22, t22)), Fraction(-1))
            det = z11 * z22 - z12 ** 2
            minor = det if minor is None else min(minor, det)
    return out, smallest, minor


def slack_matrix(st: Setting, form: Form) -> list[list[Fraction]]:
    """S with <S, G> = ``form``; raises Failure if a phi_i or auxiliary coefficient is left over."""
    left = sorted(str(k) for k, c in form.items() if k[0] != "G" and c)
    if left:
        raise Failure(f"the identity phi_N - tau phi_0 = sum lambda c - sum <Z, T> - <S, G> fails: the "
                      f"coefficients of {', '.join(left[:4])} do not cancel")
    S = [[Fraction(0)] * st.n for _ in range(st.n)]
    for (_, p, q), c in form.items():
        S[p][q] = S[q][p] = c if p == q else c / 2
    return S


def check_ldl(S: list[list[Fraction]], hint: object) -> Fraction:
    """Check S = L D L^T exactly: L unit lower triangular stored by its rows below the diagonal, zero under a
    zero pivot, D >= 0. Returns min D. (x^T S x = sum_i d_i ((L^T x)_i)^2 >= 0 proves S >= 0.)"""
    n = len(S)
    if not isinstance(hint, dict) or set(hint) != {"L", "D"}:
        raise Failure("hints.ldl: must be {'L': rows below the diagonal, 'D': the pivots}")
    rows, pivots = hint["L"], hint["D"]
    if not isinstance(rows, list) or len(rows) != n or not isinstance(pivots, list) or len(pivots) != n:
        raise Failure(f"hints.ldl: the slack matrix is {n} x {n}: give {n} rows of L and {n} pivots")
    D = [_fraction(v, f"hints.ldl.D.{i}") for i, v in enumerate(pivots)]
    Lm = [[Fraction(0)] * n for _ in range(n)]
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != i:
            raise Failure(f"hints.ldl.L.{i}: row {i} of L has {i} entries below the diagonal")
        Lm[i][:i] = [_fraction(v, f"hints.ldl.L.{i}.{k}") for k, v in enumerate(row)]
        Lm[i][i] = Fraction(1)
    for k, d in enumerate(D):
        if d < 0:
            raise Failure(f"hints.ldl.D.{k}: pivot {d} < 0: the slack matrix is not shown positive semidefinite")
        if d == 0 and any(Lm[i][k] for i in range(k + 1, n)):
            raise Failure(f"hints.ldl.L: column {k} under the zero pivot must be zero")
    for i in range(n):
        for j in range(i + 1):
            if sum(Lm[i][k] * D[k] * Lm[j][k] for k in range(j + 1)) != S[i][j]:
                raise Failure(f"hints.ldl: (L D L^T)[{i}][{j}] differs from the slack matrix entry {S[i][j]}")
    return min(D)


def descent_rate(st: Setting) -> Fraction:
    """The descent-lemma factor (1 - mu h (2 - L h))^N, for comparison (docs/theory.md §6.1)."""
    return (1 - st.mu * st.h * (2 - st.L * st.h)) ** st.N


def derive_rate(cert: dict, base: Path | None, checked: list[str]) -> dict:
    """The evidence of a rate certificate, re-derived from its inputs and hints (module docstring)."""
    st = setting(cert["inputs"])
    hints = cert["hints"]
    if not isinstance(hints.get("multipliers"), dict) or set(hints) != {"tau", "multipliers", "ldl"}:
        raise Failure("hints: a rate certificate's hints are exactly tau, multipliers and ldl")
    tau = _fraction(hints["tau"], "hints.tau")
    form, smallest, minor = residual(st, tau, hints["multipliers"])
    S = slack_matrix(st, form)
    checked.append(f"identity phi_{st.N} - tau phi_0 = sum lambda c - sum <Z, T> - <S, G> holds exactly "
                   f"({len(hints['multipliers'])} multipliers of {st.cls})")
    pivot = check_ldl(S, hints["ldl"])
    checked.append(f"slack S ({st.n} x {st.n}) = L D L^T exactly with D >= 0")
    d = Derived()
    d.hi("tau", tau, "exact")
    d.both("descent", descent_rate(st), descent_rate(st), "exact")
    if smallest is not None:
        d.premise("multipliers > 0 (smallest)", smallest, strict=True, ref=REFERENCE)
    if minor is not None:
        d.premise("2x2 duals Z >= 0 (smallest determinant)", minor, strict=False, ref=REFERENCE)
    d.premise("slack S = L D L^T, D >= 0 (smallest pivot)", pivot, strict=False, ref=REFERENCE)
    evidence = d.finish("certified", "exact")
    evidence["setting"] = {"class": st.cls, "L": _text(st.L), "mu": _text(st.mu), "step": _text(st.h),
                           "steps": st.N, "tau": _text(tau), "descent": _text(descent_rate(st))}
    return evidence


def _text(x: Fraction) -> str:
    return str(x)
