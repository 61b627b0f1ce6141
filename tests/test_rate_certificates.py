"""Rate certificates (issue 20): exact PEP-dual proofs of GD rates on PL classes, re-checked without PEPit.

The committed certificates in tests/data/rates/ were made by ``plproof.rates.sweep.write_grid`` with PEPit
0.5.1 and Clarabel; the default tests only read and re-check them. Tests that solve SDPs are ``slow`` and
skip when PEPit is absent.
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from plproof.certificate.format import load_certificate, seal, write_certificate
from plproof.rates.ball import HYPOTHESES, adz_upper, tighter_rate
from plproof.rates.sweep import FAMILIES, MU_GRID, STEP_GRID, figure, file_name, rows, table
from plproof.theory.rates import gd_one_step_rate
from plproof.verify import check, verify
from plproof.verify.rate import Setting

DATA = Path(__file__).parent / "data" / "rates"
PATHS = sorted(p for p in DATA.glob("*.json") if p.name != "index.json")


def _pepit() -> bool:
    from plproof.rates.pep import available

    return available()


needs_pepit = pytest.mark.skipif(not _pepit(), reason="PEPit/cvxpy not installed (extra 'pep')")


@pytest.fixture(scope="module")
def certs() -> dict[str, dict]:
    return {p.name: load_certificate(p) for p in PATHS}


def _cert(certs: dict, cls: str, mu: Fraction, h: Fraction, steps: int) -> dict:
    return certs[file_name(cls, mu, h, steps)]


def test_the_grid_is_complete(certs):
    """Cheap 1- and 2-step and expensive 1-step, at mu/L in {0.05, 0.2, 0.5} and 12 steps in (0, 2/L)."""
    assert len(STEP_GRID) == 12 and all(0 < h < 2 for h in STEP_GRID) and MU_GRID == (Fraction(1, 20), Fraction(1, 5),
                                                                                         Fraction(1, 2))
    for cls, steps in FAMILIES:
        for mu in MU_GRID:
            for h in STEP_GRID:
                c = _cert(certs, cls, mu, h, steps)
                assert (c["kind"], c["inputs"]["steps"], Fraction(c["inputs"]["mu"]), Fraction(c["inputs"]["step"])) == \
                    ("rate", steps, mu, h)
    assert {(c["inputs"]["class"], c["inputs"]["steps"]) for c in certs.values()} == set(FAMILIES)


def test_every_committed_certificate_verifies_exactly(certs):
    for name, c in certs.items():
        result = check(c, DATA)
        assert result.valid and result.level == "exact", (name, result.reason)


def test_cheap_one_step_tau_is_within_1e_6_of_adz_and_never_below(certs):
    for mu in MU_GRID:
        for h in STEP_GRID:
            tau = Fraction(_cert(certs, "pl-cheap", mu, h, 1)["hints"]["tau"])
            adz = gd_one_step_rate(1.0, float(mu), float(h))  # interval enclosure of the closed form
            assert Fraction(adz.lo) <= tau <= Fraction(adz.hi) + Fraction(1, 10**6), (mu, h, float(tau), adz)
            assert tau >= adz_upper(Fraction(1), mu, h) - Fraction(1, 10**12)  # exact ADZ (branch 1: within sqrt grid)


def test_two_step_and_expensive_rates_against_the_closed_forms(certs):
    for mu in MU_GRID:
        for h in STEP_GRID:
            adz = adz_upper(Fraction(1), mu, h)
            descent = 1 - mu * h * (2 - h)
            two = Fraction(_cert(certs, "pl-cheap", mu, h, 2)["hints"]["tau"])
            expensive = Fraction(_cert(certs, "pl-expensive", mu, h, 1)["hints"]["tau"])
            assert two <= adz ** 2 + Fraction(1, 10**6) and two < descent ** 2
            assert expensive <= adz + Fraction(1, 10**6) and expensive < descent
    # above sqrt(3)/L two steps are proved strictly better than two one-step bounds (docs/theory.md §6.4)
    two = Fraction(_cert(certs, "pl-cheap", Fraction(1, 5), Fraction(9, 5), 2)["hints"]["tau"])
    assert two < adz_upper(Fraction(1), Fraction(1, 5), Fraction(9, 5)) ** 2 - Fraction(1, 100)
    # the stronger conditions of RHT 2025 beat ADZ below sqrt(3)/L (docs/theory.md §6.3, fixtures at L = 1)
    for mu, h, value in ((Fraction(1, 5), Fraction(4, 5), 0.733938), (Fraction(1, 5), Fraction(1), 0.683267),
                         (Fraction(1, 2), Fraction(13, 10), 0.364719), (Fraction(1, 2), Fraction(1, 10), 0.903419)):
        tau = float(Fraction(_cert(certs, "pl-expensive", mu, h, 1)["hints"]["tau"]))
        assert abs(tau - value) < 2e-6 and tau < float(adz_upper(Fraction(1), mu, h)) - 0.0009


def _multiplier_edits(cert: dict):
    """(name, edited certificate) for every stored multiplier (each entry of a 2x2 dual), changed by a relative 1e-9."""
    for name, value in cert["hints"]["multipliers"].items():
        entries = [(None, value)] if isinstance(value, str) else list(enumerate(value))
        for k, v in entries:
            bad = copy.deepcopy(cert)
            new = str(Fraction(v) * (1 + Fraction(1, 10**9)) + Fraction(1, 10**15))
            if k is None:
                bad["hints"]["multipliers"][name] = new
            else:
                bad["hints"]["multipliers"][name][k] = new
            yield f"{name}[{k}]" if k is not None else name, seal(bad)


def test_each_certificate_is_rejected_with_any_single_multiplier_changed(certs):
    tried = 0
    for fname, cert in certs.items():
        for name, bad in _multiplier_edits(cert):
            tried += 1
            result = check(bad, DATA)
            assert result.outcome == "invalid", (fname, name)
    assert tried > 108 * 3


def test_tau_ldl_and_constraint_names_are_checked(certs):
    cert = _cert(certs, "pl-expensive", Fraction(1, 5), Fraction(1), 1)
    bad = copy.deepcopy(cert)
    bad["hints"]["tau"] = str(Fraction(bad["hints"]["tau"]) - Fraction(1, 10**10))
    assert "identity" in check(seal(bad), DATA).reason
    bad = copy.deepcopy(cert)
    bad["hints"]["ldl"]["D"][0] = str(Fraction(bad["hints"]["ldl"]["D"][0]) * 2)
    assert "L D L^T" in check(seal(bad), DATA).reason
    bad = copy.deepcopy(cert)
    bad["hints"]["multipliers"]["pl[7]"] = "1"
    assert "not constraints" in check(seal(bad), DATA).reason
    bad = copy.deepcopy(cert)
    z = bad["hints"]["multipliers"]["lmi1[0,1]"]
    z[1] = str(Fraction(z[0]) * 10)  # z12^2 > z11 z22: not PSD
    assert "positive semidefinite" in check(seal(bad), DATA).reason
    bad = copy.deepcopy(_cert(certs, "pl-cheap", Fraction(1, 5), Fraction(1, 2), 1))
    bad["inputs"]["class"] = "pl-expensive"  # the smoothness multipliers are not constraints of that class
    assert check(seal(bad), DATA).outcome == "invalid"


BLOCKED = """
import sys
for name in ("PEPit", "cvxpy", "clarabel", "scs"):
    sys.modules[name] = None  # as if not installed: importing them raises ImportError
from plproof.verify import verify
paths = {paths!r}
assert all(verify(p).valid for p in paths)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("PEPit", "cvxpy", "clarabel", "scs") and sys.modules[m])
producer = sorted(m for m in sys.modules if m.startswith(("plproof.rates", "plproof.theory", "plproof.routes")))
print(len(paths), loaded, producer)
"""


def test_the_verifier_accepts_them_without_pepit_and_loads_no_producer_module():
    paths = [str(p) for p in PATHS]
    out = subprocess.run([sys.executable, "-c", BLOCKED.format(paths=paths)], capture_output=True, text=True,
                         check=True).stdout.split(maxsplit=1)
    assert out == [str(len(paths)), "[] []\n"]


# ---------------------------------------------------------------- the inequalities on real functions
def _kns(x: np.ndarray) -> tuple[float, np.ndarray]:
    """f(x) = x^2 + 3 sin^2 x (docs/theory.md §6.2): 8-smooth, 1/32-PL, f* = 0, non-convex."""
    return float(x[0] ** 2 + 3 * np.sin(x[0]) ** 2), np.array([2 * x[0] + 3 * np.sin(2 * x[0])])


def _quadratic(Q: np.ndarray):
    return lambda x: (float(x @ Q @ x / 2), Q @ x)


def _values(st: Setting, f, x0: np.ndarray) -> dict[tuple, Fraction]:
    """phi_i and the Gram entries of the gradients along N GD steps, as exact rationals of the floats."""
    xs, gs, fs = [x0], [], []
    for i in range(st.N + 1):
        fi, gi = f(xs[-1])
        fs.append(fi)
        gs.append(gi)
        xs.append(xs[-1] - float(st.h) * gi)
    vals = {("f", i): Fraction(fi) for i, fi in enumerate(fs)}
    for p in range(st.n):
        for q in range(p, st.n):
            vals[("G", p, q)] = Fraction(float(gs[p] @ gs[q]))
    return vals


@pytest.mark.parametrize("h", [Fraction(1, 100), Fraction(1, 16), Fraction(1, 8), Fraction(3, 16), Fraction(1, 5)])
def test_cheap_inequalities_hold_along_gd_on_a_nonconvex_pl_function(h):
    """Every constraint of the cheap class is <= 0 (up to float rounding of the sampled values) on the KNS
    function, and the exactly certified one-step rate holds; a wrong constraint would show here."""
    st = Setting("pl-cheap", Fraction(8), Fraction(1, 32), h, 2)
    cert = tighter_rate(Fraction(1, 32), Fraction(8), h)
    rng = np.random.default_rng(int(h * 1000))
    worst = -math.inf
    for x0 in rng.uniform(-6, 6, size=60):
        vals = _values(st, _kns, np.array([x0]))
        scale = 1 + max(abs(v) for v in vals.values())
        for name, form in st.scalar_constraints():
            value = sum(c * vals[k] for k, c in form.items())
            worst = max(worst, float(value) / float(scale))
        f0, f1 = vals[("f", 0)], vals[("f", 1)]
        assert f1 <= cert.tau * f0 * (1 + Fraction(1, 10**9)) + Fraction(1, 10**15)
    assert worst <= 1e-12


def test_cheap_inequalities_hold_on_quadratics():
    rng = np.random.default_rng(0)
    for _ in range(20):
        eig = np.concatenate([[0.2, 1.0], rng.uniform(0.2, 1.0, 3)])  # mu = 0.2 (PL), L = 1
        U, _ = np.linalg.qr(rng.normal(size=(5, 5)))
        Q = U @ np.diag(eig) @ U.T
        st = Setting("pl-cheap", Fraction(1), Fraction(1, 5), Fraction(13, 10), 2)
        vals = _values(st, _quadratic(Q), rng.normal(size=5))
        for name, form in st.scalar_constraints():
            assert float(sum(c * vals[k] for k, c in form.items())) <= 1e-12, name


# ---------------------------------------------------------------- the tighter one-step rate (part 2)
def test_tighter_rate_is_adz_exactly_proved_for_any_parameters():
    for mu, beta, h in ((0.0123, 1.0, 0.9), (1e-3, 3.7, 0.27), (0.2, 1.0, 1.3), (0.05, 2.0, 0.95), (0.5, 1.0, 1.9),
                        (0.31, 0.8, 1.25)):
        r = tighter_rate(mu, beta, h)
        adz = gd_one_step_rate(beta, mu, h)
        assert Fraction(adz.lo) <= r.tau <= Fraction(adz.hi) + Fraction(1, 10**14)
        assert r.rate == min(r.tau, r.descent) and r.tau < r.descent
        assert r.hypotheses == HYPOTHESES and set(r.proof.multipliers) <= {"pl[0]", "pl[1]", "smooth[0,1]",
                                                                           "smooth[1,0]"}
    # floats are bounds at their binary value: beta = 0.1 is slightly above 1/10
    assert tighter_rate(0.01, 0.1, 5.0).proof.multipliers and Fraction(0.1) > Fraction(1, 10)


def test_tighter_rate_declines_outside_its_domain():
    assert tighter_rate(0.2, 1.0, 2.0) is None  # h beta >= 2
    assert tighter_rate(2.0, 1.0, 0.5) is None  # mu > beta (possible with ball-local constants): not this proof


# ---------------------------------------------------------------- interfaces
def test_rows_table_and_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    pts = rows([DATA / file_name("pl-cheap", mu, h, 1) for mu in MU_GRID for h in STEP_GRID])
    text = table(pts)
    assert len(pts) == 36 and text.count("\n") == 37 and "certified tau" in text
    assert all(p.gain > 0 for p in pts)
    fig = figure(pts)
    ax = fig.axes[0]
    assert len(ax.lines) == 9 and ax.get_xlabel() == "h L"
    fig.savefig(tmp_path / "rates.png")
    assert (tmp_path / "rates.png").stat().st_size > 1000


def test_rows_refuse_a_tampered_certificate(tmp_path, certs):
    from plproof.errors import CertificateError

    bad = copy.deepcopy(_cert(certs, "pl-cheap", Fraction(1, 5), Fraction(1), 1))
    bad["hints"]["tau"] = "7/10"
    path = write_certificate(seal(bad), tmp_path / "bad.json")
    with pytest.raises(CertificateError):
        rows([path])


def test_cli_rate_without_pepit_says_what_to_install(monkeypatch, capsys):
    from plproof.cli.main import main

    for name in ("PEPit", "cvxpy"):
        monkeypatch.setitem(sys.modules, name, None)
    assert main(["rate", "--mu", "0.2", "--step", "1"]) == 2
    assert "pip install 'plproof[pep]'" in capsys.readouterr().err
    assert main(["rate", "--mu", "0.2", "--step", "2.5"]) == 2  # bad input is caught before any solver
    assert "(0, 2/L)" in capsys.readouterr().err
    assert main(["rate", "--mu", "x", "--step", "1"]) == 2


def test_rate_certificate_is_a_lazy_public_name():
    import plproof

    assert plproof.rate_certificate.__module__ == "plproof.rates.certificate"


# ---------------------------------------------------------------- SDP runs (PEPit)
@pytest.mark.slow
@needs_pepit
@pytest.mark.parametrize("cls,steps,mu,h", [("pl-cheap", 1, "1/5", "4/5"), ("pl-cheap", 2, "1/2", "23/20"),
                                            ("pl-expensive", 1, "1/20", "9/5"), ("pl-expensive", 1, "1/5", "1")])
def test_certificates_are_reproduced_from_the_sdp(cls, steps, mu, h, tmp_path, certs):
    from plproof.rates import rate_certificate

    cert = rate_certificate(cls, mu=mu, step=h, steps=steps, tolerance=1e-6)
    path = write_certificate(cert, tmp_path / "c.json")
    assert verify(path).valid
    tau, sdp = Fraction(cert["hints"]["tau"]), cert["record"]["sdp"]["value"]
    assert 0 <= float(tau) - sdp <= 1e-6
    committed = Fraction(_cert(certs, cls, Fraction(mu), Fraction(h), steps)["hints"]["tau"])
    assert abs(float(tau - committed)) < 1e-6


@pytest.mark.slow
@needs_pepit
def test_pepit_duals_satisfy_the_verifiers_identity_before_rounding():
    """The verifier's own inequalities are PEPit's: its float dual leaves a residual of solver size."""
    from plproof.rates.pep import solve
    from plproof.rates.rationalise import _columns
    from plproof.verify.rate import _add, residual

    for cls in ("pl-cheap", "pl-expensive"):
        st = Setting(cls, Fraction(1), Fraction(1, 5), Fraction(7, 10), 2)
        sol = solve(cls, st.L, st.mu, st.h, st.N)
        form, _, _ = residual(st, Fraction(sol.value), {})
        coords, forms = _columns(st, sol.duals)
        for (name, k), f in zip(coords, forms):
            v = sol.duals[name]
            _add(form, f, Fraction(v if k < 0 else v[k]))
        left = max(abs(float(c)) for key, c in form.items() if key[0] != "G")
        assert left < 1e-6, (cls, left)


@pytest.mark.slow
@needs_pepit
def test_cli_rate_writes_a_certificate_that_verifies(tmp_path, capsys):
    import json

    from plproof.cli.main import main

    out = tmp_path / "r.json"
    assert main(["rate", "--class", "pl-cheap", "--mu", "0.2", "--step", "1", "--steps", "2", "--out", str(out),
                 "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["path"] == str(out) and verify(out).valid and row["gain"] > 0.1
    assert abs(row["tau_float"] - (8 / 11) ** 2) < 1e-6
