"""The ADZ one-step rate of GD on L-smooth mu-PL functions against the fixtures of docs/theory.md §6.3."""

from __future__ import annotations

import math

import mpmath
import pytest

from plproof.errors import InvalidInput
from plproof.numeric.scalars import FLOATS, INTERVALS
from plproof.theory.gd import rate as descent_rate
from plproof.theory.rates import adz_rate, gd_one_step_rate

STEPS = (0.1, 0.3, 0.5, 0.8, 1.0, 1.3, 1.6, 1.8, 1.95)
#: docs/theory.md §6.3, L = 1: ADZ's tau (the stronger-PEP values of that table are not ADZ's)
FIXTURES = {0.2: (.961352, .892023, .832970, .762666, .727273, .734248, .801379, .898876, .978850),
            0.5: (.904350, .738644, .605647, .462400, .400000, .433396, .588571, .780488, .948752)}


@pytest.mark.parametrize("mu", sorted(FIXTURES))
def test_matches_the_fixture_table_to_six_digits(mu):
    for h, want in zip(STEPS, FIXTURES[mu]):
        enc = gd_one_step_rate(1.0, mu, h)
        assert enc.lo <= enc.hi and enc.hi - enc.lo < 1e-14
        assert abs(enc.hi - want) <= 5e-7, (mu, h, enc, want)
        assert abs(adz_rate(FLOATS, 1.0, mu, h) - want) <= 5e-7


def test_first_branch_is_the_squared_ratio_not_pepits_typo():
    """PEPit's example omits the square around the ratio: 1.0444 > 1 at mu = 0.5, h = 0.1."""
    assert gd_one_step_rate(1.0, 0.5, 0.1).hi < 1
    typo = 0.5 * 0.9 + math.sqrt(2 * (-1.5) * 1.9 * 0.05 + 4) ** 2 / 2.5**2
    assert typo > 1.04


def test_value_at_one_over_L_and_scaling_in_L():
    for L, mu in ((1.0, 0.2), (8.0, 1 / 32), (3.0, 3.0)):
        enc = gd_one_step_rate(L, mu, 1 / L)
        exact = 2 * (mpmath.mpf(L) - mu) / (2 * L + mpmath.mpf(mu))
        assert enc.lo <= exact <= enc.hi and enc.hi - enc.lo < 1e-13
    assert gd_one_step_rate(8.0, 1 / 32, 1 / 8).hi == pytest.approx(510 / 513, abs=1e-15)  # §6.2
    # tau depends on (L h, mu / L) only
    assert adz_rate(FLOATS, 4.0, 0.8, 0.3) == pytest.approx(adz_rate(FLOATS, 1.0, 0.2, 1.2), rel=1e-14)


def test_continuous_below_the_descent_lemma_and_best_step_near_the_table():
    """tau is continuous at 1/L and sqrt(3)/L, <= 1 - mu h (2 - L h), best h slightly above 1/L (§6.3)."""
    for mu in (0.01, 0.1, 0.2, 0.5, 1.0):
        for b in (1.0, math.sqrt(3)):
            left, right = adz_rate(FLOATS, 1.0, mu, b * (1 - 1e-12)), adz_rate(FLOATS, 1.0, mu, b * (1 + 1e-12))
            assert abs(left - right) < 1e-9
        grid = [k / 1000 for k in range(1, 2000)]
        taus = [adz_rate(FLOATS, 1.0, mu, h) for h in grid]
        assert all(0 <= t <= descent_rate(h, mu, 1.0) + 1e-15 for h, t in zip(grid, taus))
    best = {0.01: (1.152, 0.98469), 0.1: (1.133, 0.85437), 0.2: (1.114, 0.72345), 0.5: (1.064, 0.39742)}
    for mu, (h_best, tau_best) in best.items():
        grid = [k / 1000 for k in range(900, 1400)]
        h, t = min(((h, adz_rate(FLOATS, 1.0, mu, h)) for h in grid), key=lambda p: p[1])
        assert abs(h - h_best) <= 1.5e-3 and abs(t - tau_best) <= 1e-5


def test_general_curvature_and_interval_straddling_a_breakpoint():
    # m_c = 0 (convex): breakpoint 3/(L + L) = 1.5/L; branches agree there
    b = 1.5
    assert abs(adz_rate(FLOATS, 1.0, 0.3, b - 1e-12, 0.0) - adz_rate(FLOATS, 1.0, 0.3, b + 1e-12, 0.0)) < 1e-9
    h = INTERVALS.between(math.sqrt(3) - 1e-9, math.sqrt(3) + 1e-9)
    hull = adz_rate(INTERVALS, INTERVALS.of(1.0), INTERVALS.of(0.2), h)
    for x in (math.sqrt(3) - 1e-9, math.sqrt(3) + 1e-9):
        assert INTERVALS.lo(hull) <= adz_rate(FLOATS, 1.0, 0.2, x) <= INTERVALS.hi(hull)


@pytest.mark.parametrize("args, match", [((1.0, 0.0, 0.5), "mu"), ((1.0, 2.0, 0.5), "mu <= L"),
                                         ((1.0, 0.2, 2.0), "step"), ((1.0, 0.2, 0.0), "step"),
                                         ((1.0, 0.2, 0.5, 0.1), "m_c"), ((float("nan"), 0.2, 0.5), "finite")])
def test_bad_arguments(args, match):
    with pytest.raises(InvalidInput, match=match):
        gd_one_step_rate(*args)
