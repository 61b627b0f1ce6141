"""A proven bound on |a - tanh z| for float arrays: the run route's tanh without libm assumption (docs/rigor.md §11.7).

Trusted code of the verifier, shared with the run route's producer like plproof/verify/midrad.py: numpy and
plproof/verify/doubledouble.py only (not the producer's plproof.numeric.enclosures, not python-flint). A Taylor
table of tanh of degree 5 at the grid g_j = j/256, |j| <= 6144, built on first use in double-double balls (§9) by
the recurrence (i+1) y_{i+1} = [i = 0] - sum_{a+b=i} y_a y_b of y' = 1 - y^2, at each g_j and over each cell
[g_j -+ 1/512]; at run time t = z - g_j is exact and Horner in float64 carries the cell's bound (§11.1-§11.2).
"""

from __future__ import annotations

import functools

import numpy as np

from plproof.verify import doubledouble as dd

STEP = 1 / 256
EDGE = 24.0              # beyond: |tanh z - sign z| < 2 e^{-2|z|} <= 2 e^{-48} < 2^-60
DEGREE = 5
TAIL = 2.0**-60
CHUNK = 65536            # entries per pass: the working arrays stay in cache
_J = int(EDGE / STEP)


def _taylor(rad: float) -> list[dd.DD]:
    """Balls containing tanh^(i)(x)/i!, i <= DEGREE + 1, for every x within ``rad`` of each g_j."""
    g = np.arange(-_J, _J + 1) * STEP
    y = [dd.tanh(dd.DD(g, np.zeros_like(g), np.full_like(g, rad)))]
    for i in range(DEGREE + 1):
        square = dd.mul(y[0], y[i])
        for a in range(1, i + 1):
            square = dd.add(square, dd.mul(y[a], y[i - a]))
        y.append(dd.div(dd.sub(1.0, square) if i == 0 else dd.neg(square), float(i + 1)))
    return y


@functools.cache
def _table() -> np.ndarray:
    """Rows c^_0..c^_d (the hi parts of the point balls) and R_j >= the error of Horner on cell j:
    sum_i (gamma_{2i+1} |c^_i| + |c^_i - c_i|) (h/2)^i + sup_cell |c_{d+1}| (h/2)^{d+1} (docs/rigor.md §11.1)."""
    point, cell = _taylor(0.0), _taylor(STEP / 2)
    half = STEP / 2
    coef = np.array([c.hi for c in point[: DEGREE + 1]])
    top = cell[DEGREE + 1]
    rad = (np.abs(top.hi) + np.abs(top.lo) + top.rad) * half ** (DEGREE + 1)
    for i in range(DEGREE + 1):
        gamma = (2 * i + 1) * dd.U * 1.0001  # >= gamma_{2i+1} = (2i+1)u/(1 - (2i+1)u)
        rad = rad + (gamma * np.abs(coef[i]) + np.abs(point[i].lo) + point[i].rad) * half**i
    return np.vstack([coef, dd.cover(dd.cover(rad))])


def tanh_error(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """E >= |a - tanh z| elementwise for float z and any float a (inf where z is not finite), docs/rigor.md §11.7."""
    z = np.asarray(z, dtype=np.float64)
    a = np.broadcast_to(np.asarray(a, dtype=np.float64), z.shape).ravel()
    flat, out = z.ravel(), np.empty(z.size)
    inside = bool(z.size == 0 or np.abs(flat).max() <= EDGE)  # False also for nan and inf
    scratch = _scratch(z.size)
    for s in range(0, z.size, CHUNK):
        if inside:
            _inside(flat[s:s + CHUNK], a[s:s + CHUNK], out[s:s + CHUNK], scratch)
        else:
            out[s:s + CHUNK] = _error(flat[s:s + CHUNK], a[s:s + CHUNK])
    return out.reshape(z.shape)


def table_tanh(z: np.ndarray, out: np.ndarray | None = None, error: np.ndarray | None = None) -> np.ndarray:
    """The run recipe's tanh of float z (docs/rigor.md §5.2, §11.7): m = the table's Horner value (row j = rint(z /
    STEP), t = z - j STEP exact) for |z| <= EDGE, sign z beyond (+-1 at +-inf), nan at nan; written into ``out``
    (contiguous, z's shape) if given. |m - tanh z| <= cover(R_j) <= :func:`max_error`. With ``error`` (contiguous,
    z's shape) also E = tanh_error(z, m) = cover(R_j) there (cover(TAIL) beyond EDGE, inf where z is not finite),
    in the same pass."""
    z = np.ascontiguousarray(z, dtype=np.float64)
    out = np.empty(z.shape) if out is None else out
    flat, m = z.reshape(-1), out.reshape(-1)
    bound = None if error is None else error.reshape(-1)
    scratch = _scratch(z.size)
    for s in range(0, z.size, CHUNK):
        zs = flat[s:s + CHUNK]
        k = zs.size
        beyond = not np.abs(zs).max() <= EDGE  # also for nan and inf
        idx = _horner(np.where(np.abs(zs) <= EDGE, zs, 0.0) if beyond else zs, m[s:s + k], scratch)
        if bound is not None:
            e = np.take(_rows()[DEGREE + 1], idx, out=bound[s:s + k])
            e *= dd.COVER                        # dd.cover(|m - m| + R) = cover(R)
            e += dd.TINY
        if beyond:
            far = ~(np.abs(zs) <= EDGE)
            m[s:s + k][far] = np.sign(zs[far])
            if bound is not None:
                bound[s:s + k][far] = np.where(np.isfinite(zs[far]), dd.cover(TAIL), np.inf)
    return out


@functools.cache
def max_error() -> float:
    """E_max = cover(max(max_j R_j, TAIL)) >= every bound of :func:`table_tanh` at finite z (rounding is
    monotone): |table_tanh(z) - tanh z| <= E_max for every finite float z (docs/rigor.md §11.7)."""
    return float(dd.cover(max(float(_table()[DEGREE + 1].max()), TAIL)))


@functools.cache
def _rows() -> tuple[np.ndarray, ...]:
    """The rows of :func:`_table`, each contiguous (one gather per coefficient)."""
    return tuple(np.ascontiguousarray(row) for row in _table())


def _scratch(size: int) -> tuple[np.ndarray, ...]:
    """Working arrays of :func:`_horner` for chunks of up to ``size`` entries (at most CHUNK)."""
    size = min(CHUNK, size)
    return np.empty(size), np.empty(size), np.empty(size), np.empty(size, dtype=np.intp)


def _horner(z: np.ndarray, out: np.ndarray, scratch: tuple[np.ndarray, ...]) -> np.ndarray:
    """The table's Horner value at one chunk of z, all |z| <= EDGE, written into ``out``; returns the row indices
    (a view of the scratch)."""
    rows, k = _rows(), z.size
    t, j, c, idx = (x[:k] for x in scratch)
    np.multiply(z, 1 / STEP, out=j)
    np.rint(j, out=j)
    np.multiply(j, STEP, out=t)
    np.subtract(z, t, out=t)                 # exact, |t| <= STEP/2 (docs/rigor.md §11.2)
    j += _J                                  # exact integers
    np.copyto(idx, j, casting="unsafe")
    np.take(rows[DEGREE], idx, out=out)
    for i in range(DEGREE - 1, -1, -1):
        out *= t
        out += np.take(rows[i], idx, out=c)
    return idx


def _inside(z: np.ndarray, a: np.ndarray, out: np.ndarray, scratch: tuple[np.ndarray, ...]) -> None:
    """:func:`_error` of one chunk with every |z| <= EDGE, written into ``out``: the same operations in place
    (``scratch``: :func:`_scratch`)."""
    idx = _horner(z, out, scratch)
    out -= a
    np.abs(out, out=out)
    out += np.take(_rows()[DEGREE + 1], idx, out=scratch[2][:z.size])
    out *= dd.COVER                          # dd.cover: |a - m| + r, two roundings, within the cover
    out += dd.TINY


def _error(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """:func:`tanh_error` on one chunk (its gathered rows stay in cache)."""
    finite = np.isfinite(z)
    if not finite.all():
        return np.where(finite, _error(np.where(finite, z, 0.0), a), np.inf)
    zc = np.clip(z, -EDGE, EDGE)
    j = np.rint(zc * (1 / STEP))
    t = zc - j * STEP                        # exact, |t| <= STEP/2 (docs/rigor.md §11.2)
    C = np.take(_table(), (j + _J).astype(np.intp), axis=1)
    m = C[DEGREE].copy()
    for i in range(DEGREE - 1, -1, -1):
        m *= t
        m += C[i]
    r = C[DEGREE + 1]
    tail = zc != z
    if tail.any():
        m[tail], r[tail] = np.sign(z[tail]), TAIL
    m -= a
    np.abs(m, out=m)
    m += r
    return dd.cover(m)  # |a - m| + r: two roundings, within the cover
