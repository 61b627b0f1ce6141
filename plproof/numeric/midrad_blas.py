"""Midpoint-radius float64 arrays with proven radii for the verified centre of networks (docs/rigor.md §3.2).

A pair (M, R) of float arrays encloses every real array T with |T - M| <= R entrywise. Products run in BLAS on
the midpoints; their radii come from Cauchy-Schwarz on row and column norms (outer products of vectors, so a
radius costs O(n h), not another product), Gram radii likewise; elementwise products and sums add one rounding.
Every radius formula is a sum or product of non-negative floats: its own rounding is covered by the factor
``COVER`` (fewer than 64 roundings) or 1/(1 - gamma_k) (a k-term sum), and every underflow by ``TINY``
(docs/rigor.md §3.2, §11). Nothing here calls libm.
"""

from __future__ import annotations

import numpy as np

from plproof.numeric.floatbounds import U, gamma, gamma_ratio, inv_one_minus_gamma

#: relative cover of a radius formula with fewer than 64 roundings of non-negative terms (gamma_64 < 2^-46)
COVER = 1 + 2.0**-40
#: absolute cover of every underflow in a radius formula (fewer than 2^70 subnormal roundings of <= 2^-1075)
TINY = 2.0**-1000

MidRad = tuple[np.ndarray, np.ndarray]


def row_norms_up(A: np.ndarray, columns: bool = False) -> np.ndarray:
    """alpha_i >= ||A_i,:||_2 (``columns``: >= ||A_:,i||_2): fl(sum_k A_ik^2) / (1 - gamma_{k+2}), square-rooted,
    covered (docs/rigor.md §3.2, evaluating the radii)."""
    k = A.shape[0 if columns else 1]
    s = np.einsum("ij,ij->j" if columns else "ij,ij->i", A, A)
    return np.sqrt(s * inv_one_minus_gamma(k + 2) + TINY) * COVER


def scalar_inv_sqrt(h: int) -> tuple[float, float]:
    """(c, rad) with |c - h^{-1/2}| <= rad: c = fl(1 / fl(sqrt h)) is within gamma_2 / (1 - gamma_2) of it (§3.2 (e))."""
    c = 1 / np.sqrt(float(h))
    return float(c), float(gamma_ratio(2) * c * COVER)


def scalar_inv(h: int) -> tuple[float, float]:
    """(c, rad) with |c - 1/h| <= rad: one rounding."""
    c = 1 / float(h)
    return c, U * c * COVER


def product(A: MidRad, B: np.ndarray) -> MidRad:
    """A @ B for (A, rad) and an exact float matrix B (k x p): fl(A B) with radius
    (gamma_k alpha_i + rho_i) beta_j, alpha, rho the row norms of A and rad, beta the column norms of B (§3.2 (b))."""
    M, R = A
    k = M.shape[1]
    C = M @ B
    left = gamma(k) * row_norms_up(M) + row_norms_up(R)
    beta = row_norms_up(B, columns=True)
    return C, np.multiply.outer(left, beta) * COVER + TINY


def matvec(A: MidRad, v: np.ndarray) -> MidRad:
    """A @ v for (A, rad) and an exact float vector v (k): radius (gamma_k |A||v| + rad |v|) / (1 - gamma_{k+3}),
    the two products in BLAS (§3.2 (c))."""
    M, R = A
    k = M.shape[1]
    av = np.abs(v)
    return M @ v, (gamma(k) * (np.abs(M) @ av) + R @ av) * inv_one_minus_gamma(k + 3) * COVER + TINY


def gram(A: MidRad) -> MidRad:
    """A A^T for (A, rad) with k columns: fl(M M^T) with radius gamma_k a a^T + r a^T + a r^T + r r^T, a and r the
    row norms of M and rad (Cauchy-Schwarz; §3.2 (d))."""
    M, R = A
    a, r = row_norms_up(M), row_norms_up(R)
    rad = gamma(M.shape[1]) * np.multiply.outer(a, a) + np.multiply.outer(r, a + r) + np.multiply.outer(a, r)
    return M @ M.T, rad * COVER + TINY


def scale(A: MidRad, c: tuple[float, float]) -> MidRad:
    """c A for a scalar enclosure (c, c_rad): radius rad c + |M| c_rad + rad c_rad + u |c M| (§3.2 (e))."""
    (M, R), (s, sr) = A, c
    P = M * s
    return P, (R * (abs(s) + sr) + np.abs(M) * sr + U * np.abs(P)) * COVER + TINY


def hadamard(A: MidRad, B: MidRad) -> MidRad:
    """A o B: radius |M_A| R_B + R_A (|M_B| + R_B) + u |M_A o M_B| (§3.2 (e))."""
    (M, R), (N, S) = A, B
    P = M * N
    return P, (np.abs(M) * S + R * (np.abs(N) + S) + U * np.abs(P)) * COVER + TINY


def add(A: MidRad, B: MidRad) -> MidRad:
    """A + B: radius R_A + R_B + u |M_A + M_B| (§3.2 (e))."""
    (M, R), (N, S) = A, B
    P = M + N
    return P, (R + S + U * np.abs(P)) * COVER + TINY
