"""From a float SDP dual to an exact proof: round, project onto the identity, factor the slack exactly.

Given the float multipliers of :func:`plproof.rates.pep.solve` and a rational tau at or above the SDP value:

1. drop multipliers below ``drop`` (and 2x2 duals whose entries all are; a second dual left alone is kept
   as diag(z11, 0)), round to a decimal grid;
2. add s w w^T to the first dual of each coupled pair (rank one at the optimum), the direction and the
   smallest s = shift 10^k that make it positive definite and leave room for step 3;
   cancel the auxiliary variables' coefficients exactly with z12, z22 of the pair's second dual, then raise
   its z11 until it is positive semidefinite;
3. cancel the phi coefficients with the least-norm change of the scalar multipliers
   (y + E^T (E E^T)^-1 (b - E y), in Fractions);
4. keep the result if every multiplier is > 0, every 2x2 dual >= 0 and the slack matrix S (derived by the
   verifier's own :func:`plproof.verify.rate.residual`) has an exact LDL^T with D >= 0.

The identity and the constraints are the verifier's: what is returned is re-checked by it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

from plproof.verify.rate import Form, Setting, _add, check_ldl, residual, slack_matrix

Duals = dict[str, "float | tuple[float, float, float]"]


@dataclass
class ExactProof:
    """tau, the multipliers (scalars or [z11, z12, z22]) and the LDL^T of the slack matrix, all rational."""

    tau: Fraction
    multipliers: dict[str, Fraction | list[Fraction]]
    ldl: dict[str, list]

    def hints(self) -> dict:
        return {"tau": self.tau, "multipliers": self.multipliers, "ldl": self.ldl}


def ldl(S: Sequence[Sequence[Fraction]]) -> tuple[list[list[Fraction]], list[Fraction]] | None:
    """The exact S = L D L^T (L unit lower triangular, zero under a zero pivot), or None if S is not PSD."""
    n = len(S)
    A = [list(map(Fraction, row)) for row in S]
    Lm = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    D = []
    for k in range(n):
        d = A[k][k]
        if d < 0:
            return None
        if d == 0:
            if any(A[i][k] for i in range(k + 1, n)):
                return None
            D.append(d)
            continue
        D.append(d)
        for i in range(k + 1, n):
            Lm[i][k] = A[i][k] / d
        for i in range(k + 1, n):
            for j in range(k + 1, i + 1):
                A[i][j] -= Lm[i][k] * d * Lm[j][k]
                A[j][i] = A[i][j]
    return Lm, D


def _columns(st: Setting, kept: dict[str, object]) -> tuple[list[tuple[str, int]], list[Form]]:
    """One column per free coordinate (a scalar multiplier, or an entry of a 2x2 dual): its form in the residual."""
    scalars, matrices = dict(st.scalar_constraints()), dict(st.matrix_constraints())
    coords, forms = [], []
    for name in kept:
        if name in scalars:
            coords.append((name, -1))
            forms.append(scalars[name])
        else:
            t11, t12, t22 = matrices[name]
            for k, (scale, t) in list(enumerate(((-1, t11), (-2, t12), (-1, t22))))[:len(kept[name])]:  # type: ignore
                coords.append((name, k))
                forms.append({key: scale * c for key, c in t.items()})
    return coords, forms


def solve_affine(A: list[list[Fraction]], b: list[Fraction]) -> tuple[list[Fraction], list[list[Fraction]]] | None:
    """x0 and a null-space basis N with {x : A x = b} = {x0 + N t} (exact), or None if inconsistent."""
    m, n = len(A), len(A[0])
    M = [row[:] + [bi] for row, bi in zip(A, b)]
    pivots, r = [], 0
    for col in range(n):
        p = next((i for i in range(r, m) if M[i][col]), None)
        if p is None:
            continue
        M[r], M[p] = M[p], M[r]
        M[r] = [v / M[r][col] for v in M[r]]
        for i in range(m):
            if i != r and M[i][col]:
                M[i] = [a - M[i][col] * c for a, c in zip(M[i], M[r])]
        pivots.append(col)
        r += 1
    if any(M[i][n] for i in range(r, m)):
        return None
    x0 = [Fraction(0)] * n
    for i, col in enumerate(pivots):
        x0[col] = M[i][n]
    basis = []
    for free in (c for c in range(n) if c not in pivots):
        v = [Fraction(0)] * n
        v[free] = Fraction(1)
        for i, col in enumerate(pivots):
            v[col] = -M[i][free]
        basis.append(v)
    return x0, basis


def _least_norm(E: list[list[Fraction]], r: list[Fraction]) -> list[Fraction] | None:
    """The least-norm x with E x = r (exact): x = E^T z with E E^T z = r; None if inconsistent."""
    m = len(E)
    gram = [[sum((a * b for a, b in zip(E[i], E[j])), Fraction(0)) for j in range(m)] for i in range(m)]
    solved = solve_affine(gram, r) if m else ([], [])
    if solved is None:
        return None
    z = solved[0]
    return [sum((E[i][k] * z[i] for i in range(m)), Fraction(0)) for k in range(len(E[0]) if E else 0)]


def _grid(x: float, digits: int) -> Fraction:
    return Fraction(round(x * 10**digits), 10**digits)


def rationalise(st: Setting, tau: Fraction, duals: Duals, *, drop: float = 1e-7, shift: float = 1e-10,
                digits: int = 12) -> ExactProof | None:
    """An exact proof of the rate ``tau`` from float ``duals`` (module docstring), or None where this fails."""
    kept: dict[str, object] = {}
    for name, v in duals.items():
        if not isinstance(v, tuple):
            if v > drop:
                kept[name] = v
        elif name.startswith("lmi1") and max(map(abs, v)) > drop:  # the pair's two duals, coupled by aux
            kept[name], kept[name.replace("lmi1", "lmi2")] = v, duals[name.replace("lmi1", "lmi2")]
        elif name.startswith("lmi2") and name not in kept and max(map(abs, v)) > drop:
            if max(map(abs, duals[name.replace("lmi2", "lmi1")])) <= drop:
                kept[name] = v[:1]  # alone: diag(z11, 0), i.e. z11 (2L + mu) times the smoothness inequality
    coords, forms = _columns(st, kept)
    y = [_grid(kept[name] if k < 0 else kept[name][k], digits) for name, k in coords]  # type: ignore[index]
    base, _, _ = residual(st, tau, {})  # tau phi_0 - phi_N
    # each coupled pair: Z1 += s w w^T, w = (1, c), c = mu/(2L + mu), until Z1 > 0 and the z22 of Z2 that
    # cancels the auxiliary coefficients (z2_22 = 2c z1_12 - z1_22, which w w^T raises by c^2 s) is > 0
    aux = [i for i, (name, k) in enumerate(coords) if name.startswith("lmi2") and k > 0]
    c = st.mu / (2 * st.L + st.mu)
    tiny = Fraction(1, 10**digits)
    for i in aux[1::2]:
        first = next(j for j, (name, k) in enumerate(coords) if name == coords[i][0].replace("lmi2", "lmi1"))
        z = y[first:first + 3]
        for power in range(8):
            s = Fraction(shift) * 10**power
            z1 = [z[0] + s, z[1] + s * c, z[2] + s * c * c]
            if z1[0] * z1[2] - z1[1] ** 2 > tiny * s and 2 * c * z1[1] - z1[2] > tiny:
                y[first:first + 3] = z1
                break
        else:
            return None
    if aux and not _solve(base, forms, y, aux, lambda key: key[0] == "aux"):
        return None
    for i in aux[1::2]:  # z11 of the second dual: large enough for a PSD matrix
        z12, z22 = y[i - 1], y[i]
        if z22 <= 0:
            return None
        y[i - 2] = max(y[i - 2], z12 * z12 / z22) * (1 + tiny) + tiny
    scalars = [i for i, (name, k) in enumerate(coords) if k < 0 or len(kept[name]) == 1]  # type: ignore[arg-type]
    if not _solve(base, forms, y, scalars, lambda key: key[0] == "f"):
        return None
    multipliers = _assemble(coords, y)
    if not _admissible(multipliers):
        return None
    form, _, _ = residual(st, tau, multipliers)
    S = slack_matrix(st, form)
    factor = ldl(S)
    if factor is None:
        return None
    Lm, D = factor
    hint = {"L": [row[:i] for i, row in enumerate(Lm)], "D": D}
    check_ldl(S, hint)
    return ExactProof(tau, multipliers, hint)


def _solve(base: Form, forms: list[Form], y: list[Fraction], free: list[int], rows: Callable[[tuple], bool]) -> bool:
    """Move y[free] by the least-norm step that cancels the residual's coefficients at the keys ``rows`` selects."""
    form = dict(base)
    for v, f in zip(y, forms):
        _add(form, f, v)
    keys = sorted({k for f in forms for k in f if rows(k)} | {k for k in base if rows(k)})
    E = [[forms[i].get(key, Fraction(0)) for i in free] for key in keys]
    step = _least_norm(E, [-form.get(key, Fraction(0)) for key in keys])
    if step is None:
        return False
    for i, dv in zip(free, step):
        y[i] += dv
    return True


def _assemble(coords: list[tuple[str, int]], y: list[Fraction]) -> dict[str, Fraction | list[Fraction]]:
    out: dict[str, Fraction | list[Fraction]] = {}
    for (name, k), v in zip(coords, y):
        if k < 0:
            out[name] = v
        else:
            out.setdefault(name, [Fraction(0)] * 3)[k] = v  # type: ignore[index]
    return out


def _admissible(multipliers: dict[str, Fraction | list[Fraction]]) -> bool:
    """Scalars > 0 and 2x2 duals positive semidefinite and nonzero (what the verifier accepts)."""
    for v in multipliers.values():
        if isinstance(v, list):
            z11, z12, z22 = v
            if z11 < 0 or z22 < 0 or z11 * z22 < z12 * z12 or not any(v):
                return False
        elif v <= 0:
            return False
    return True
