"""Rigorous activation enclosures (plproof/numeric/enclosures.py, docs/rigor.md §11) against python-flint.

Every check is a containment proved in arb: the true sigma^(k)(y), enclosed by arb at 128 bits (more for huge
y, where sin's reduction needs it), must lie in [mid - rad, mid + rad] for y at both ends, the centre and a
random point of each input ball. The reference uses arb's own elementary functions, not the tables' recurrences.
Points: Gaussian, uniform over and beyond the table, near 0 down to subnormals, large up to the largest float,
the cell boundaries (j + 1/2) h and their float neighbours, the table's edges, sin's reduction thresholds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from plproof.errors import InvalidInput
from plproof.models.two_layer import TwoLayer
from plproof.numeric import enclosures as E
from plproof.numeric.floatbounds import U

flint = pytest.importorskip("flint")
arb = flint.arb

NAMES = sorted(E.SPECS)


def reference(name: str, y: "flint.arb") -> list["flint.arb"]:
    """sigma(y), sigma'(y), sigma''(y) in arb's own functions."""
    if name == "tanh":
        t = y.tanh()
        return [t, 1 - t * t, -2 * t * (1 - t * t)]
    if name in ("sigmoid", "softplus"):
        s = (1 + (y / 2).tanh()) / 2  # arb's exp overflows to inf near 1e246
        p = s * (1 - s)
        if name == "sigmoid":
            return [s, p, p * (1 - 2 * s)]
        return [(y + abs(y)) / 2 + (-abs(y)).exp().log1p(), s, p]
    if name == "sin":
        return [y.sin(), y.cos(), -y.sin()]
    cdf = (-y / arb(2).sqrt()).erfc() / 2
    pdf = (-y * y / 2).exp() / (2 * arb.pi()).sqrt()
    return [y * cdf, cdf + y * pdf, pdf * (2 - y * y)]


def contained(value: "flint.arb", mid: float, rad: float) -> bool:
    """Every point of the ball ``value`` lies in [mid - rad, mid + rad] (arb's certain comparison)."""
    return bool(abs(value - arb(mid)) <= arb(rad))


def exact_bits(*values: float) -> int:
    """A precision at which sums of the floats ``values`` and their products with a float are exact in arb."""
    exps = [math.frexp(v)[1] for v in values if v]
    return max(exps) - min(exps) + 128 if exps else 128


def assert_encloses(name: str, x: np.ndarray, rho: np.ndarray | None, rng: np.random.Generator, order: int = 2) -> None:
    """The enclosures of f, f', f'' at x (radius rho) contain arb's values at the ends, centre and a random point."""
    enc = E.enclose(name, x, rho, order)
    for i in range(x.size):
        r = 0.0 if rho is None else float(rho[i])
        xi = float(x[i])
        prec = exact_bits(xi, r) + max(math.frexp(xi)[1], 0)  # absolute accuracy at large |y|, sin's reduction
        with flint.ctx.workprec(prec):
            ys = [arb(xi)] if r == 0 else [arb(xi) - r, arb(xi) + r, arb(xi) + arb(r) * float(rng.uniform(-1, 1))]
            for y in ys:
                values = reference(name, y)
                for k in range(order + 1):
                    mid, rad = float(enc[k][0][i]), float(enc[k][1][i])
                    assert contained(values[k], mid, rad), (name, k, xi, r, mid, rad, values[k])


def hard_points(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points over every region where an enclosure could fail (see the module docstring)."""
    tab = E.table(name)
    h, edge, J = tab.spec.step, tab.J * tab.spec.step, tab.J
    sign = lambda k: rng.choice([-1.0, 1.0], k)  # noqa: E731
    k = n // 8
    cells = (rng.integers(-J, J, k) + 0.5) * h
    cells = np.concatenate([cells, np.nextafter(cells, np.inf), np.nextafter(cells, -np.inf)])
    special = np.array([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                        -1.7976931348623157e308, edge, -edge, h / 2, -h / 2, E.SIN_REDUCE_MAX, -E.SIN_REDUCE_MAX])
    with np.errstate(over="ignore"):
        special = np.concatenate([special, np.nextafter(special, np.inf), np.nextafter(special, -np.inf)])
    twopi = (rng.integers(-1000, 1000, k) + 0.5) * 2 * math.pi  # where sin's reduction switches k
    parts = [
        rng.standard_normal(k) * 3,
        rng.uniform(-1.5 * edge, 1.5 * edge, k),
        sign(k) * 10.0 ** rng.uniform(-323, 0, k),
        sign(k) * 10.0 ** rng.uniform(0, 308, k),
        cells,
        special,
        np.concatenate([twopi, np.nextafter(twopi, np.inf)]),
    ]
    x = np.concatenate(parts)
    x = x[np.isfinite(x)]  # nextafter(largest float) is inf: non-finite input has its own test
    return np.concatenate([x, rng.uniform(-4, 4, max(n - x.size, 0))])[:n]


def radii(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A mix of radii: 0, a few ulps of x, and absolute 1e-12 .. 10."""
    kind = rng.integers(0, 4, x.size)
    return np.where(kind == 0, 0.0, np.where(kind == 1, 4 * U * np.abs(x), 10.0 ** rng.uniform(-12, 1, x.size)))


@pytest.mark.parametrize("name", NAMES)
def test_enclosures_contain_arb_values_at_hard_points(name):
    rng = np.random.default_rng(18)
    x = hard_points(name, 10_000, rng)
    assert_encloses(name, x, None, rng)
    x = hard_points(name, 2_000, rng)
    assert_encloses(name, x, radii(x, rng), rng)


def test_a_table_with_radii_one_eighth_too_small_is_caught(monkeypatch):
    """The containment check has teeth: radii shrunk 8x miss arb's values somewhere among the hard points."""
    import dataclasses

    tab = E.table("tanh")
    rows = tab.rows.copy()
    for k in range(E.MAX_ORDER + 1):
        rows[tab.rad_row(k)] /= 8
    monkeypatch.setattr(E, "table", lambda name: dataclasses.replace(tab, rows=rows))
    rng = np.random.default_rng(18)
    with pytest.raises(AssertionError):
        assert_encloses("tanh", hard_points("tanh", 10_000, rng), None, rng)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_enclosures_contain_arb_values_at_a_million_points(name):
    rng = np.random.default_rng(1_000_000)
    x = hard_points(name, 1_000_000, rng)
    rho = radii(x, rng)
    rho[: x.size // 2] = 0.0
    assert_encloses(name, x, rho, rng)


@pytest.mark.parametrize("name", NAMES)
def test_enclosures_are_tight_and_radii_enter_to_first_order(name):
    """Point radii within 4u (1 + |f|) on the table (about 2 ulp); an input radius rho adds about S rho."""
    rng = np.random.default_rng(0)
    tab = E.table(name)
    x = rng.uniform(-tab.J * tab.spec.step, tab.J * tab.spec.step, 5000)
    for mid, rad in E.enclose(name, x, None, 2):
        assert np.all(rad <= 4 * U * (1 + np.abs(mid)))
    rho = 1e-9
    point, ball = E.enclose(name, x, None, 2), E.enclose(name, x, rho, 2)
    for k in range(3):
        assert np.all(ball[k][1] <= point[k][1] + (tab.S[k + 1] * 1.001 + 1e-6) * rho)


@pytest.mark.parametrize("name", NAMES)
def test_lipschitz_constants_are_proved_sups(name):
    """S[k] >= sup |f^(k)|, checked against a dense grid in arb (and the registry's S1-S3 where they are tight)."""
    tab = E.table(name)
    grid = np.linspace(-60, 60, 24_001)
    with flint.ctx.workprec(64):
        for y in grid[::7]:
            values = reference(name, arb(float(y)))
            for k in (1, 2):
                assert bool(abs(values[k]) <= arb(tab.S[k]))
    assert tab.S[1] <= 1.14 and tab.S[2] <= 1.001 and tab.S[3] <= 2.01


def test_sin_reduction_is_exact_enough_far_out_and_gives_up_beyond_2_to_22():
    x = np.array([1e3, -7e5, 4.0e6, 2.0**22, -1e300])
    (m, r), = E.enclose("sin", x, None, 0)
    assert np.all(r[:3] <= 1e-15) and np.all(r[3:] == 1.0) and np.all(m[3:] == 0.0)


def test_non_finite_inputs_give_no_information():
    for mid, rad in E.enclose("tanh", np.array([np.nan, np.inf, -np.inf, 0.5]), None, 2):
        assert np.isnan(mid[:3]).all() and np.isinf(rad[:3]).all() and np.isfinite(rad[3])


def test_bad_requests_are_refused_with_the_fix():
    with pytest.raises(InvalidInput, match="non-negative"):
        E.enclose("tanh", [0.1], [-1e-3])
    with pytest.raises(InvalidInput, match="order"):
        E.enclose("tanh", [0.1], None, 3)
    with pytest.raises(InvalidInput, match="use one of"):
        E.enclose("swish", [0.1])
    with pytest.raises(InvalidInput, match="only its value"):
        E.enclose("relu", [0.1], None, 1)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "abs"])
def test_piecewise_linear_enclosures_contain_the_value_across_the_kink(name):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(500), [0.0, -0.0, 1e-17, -1e-17, 5e-324]])
    rho = np.where(rng.random(x.size) < 0.5, 0.0, 1e-16)
    (mid, rad), = E.enclose(name, x, rho, 0)
    f = {"relu": lambda y: max(y, 0), "leaky_relu": lambda y: y if y > 0 else y / 100, "abs": abs}[name]
    for xi, ri, m, r in zip(x, rho, mid, rad):
        with flint.ctx.workprec(exact_bits(xi, ri)):
            for y in (arb(float(xi)) - arb(float(ri)), arb(float(xi)), arb(float(xi)) + arb(float(ri))):
                assert contained(f(y), float(m), float(r))


def test_the_wide_centre_reaches_the_arb_verdicts(monkeypatch):
    """The verified ball check through the wide two-layer centre (plproof/theory/centre.py, forced by a zero
    ball-work limit) with the tables and with the former per-element arb balls: the same verdict, lambda0
    within 1e-10 relative; certified and failing cases, every activation and train mode."""
    from plproof import Problem, check
    from plproof.data import uniform_targets, unit_inputs
    from plproof.models.activations import get
    from plproof.numeric.arith import BallArith
    from plproof.theory import centre as centre_mod

    def arb_enclose(name, Z, Z_err, order):
        ar = BallArith(64)
        with ar.active():
            values = get(name).derivatives(ar.ball(Z, Z_err), ar, order)
        return [ar.mid_rad(v) for v in values]

    monkeypatch.setattr(centre_mod, "BALL_WORK_LIMIT", 0)
    cases = [("tanh", "both", 0.01), ("tanh", "both", 0.5), ("sigmoid", "both", 0.01), ("softplus", "hidden", 0.05),
             ("sin", "both", 0.01), ("gelu", "both", 0.01), ("tanh", "output", 0.1), ("relu", "output", 0.1)]
    verdicts = set()
    for activation, train, target in cases:
        problem = Problem(TwoLayer(unit_inputs(12, 10, 1), 2000, activation, seed=1, train=train, init="symmetric"),
                          uniform_targets(12, target, 1))
        new = check(problem, "verified", confirm=False)
        with monkeypatch.context() as mp:
            mp.setattr(centre_mod, "enclose", arb_enclose)
            old = check(problem, "verified", confirm=False)
        assert new.verdict == old.verdict, (activation, train, target)
        lam_new, lam_old = new.quantities["lambda0"].lo, old.quantities["lambda0"].lo
        assert abs(lam_new - lam_old) <= 1e-10 * abs(lam_old)
        verdicts.add(new.verdict)
    assert len(verdicts) == 2
