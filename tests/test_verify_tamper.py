"""Tampering and fuzzing: every single-field mutation that makes a claim false or unsupported is rejected;
mutations that pass are shown true by an exact oracle; malformed files always exit 2 in one line."""

from __future__ import annotations

import argparse
import copy
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plproof import Problem, TwoLayer
from plproof.certificate import from_evidence, seal, write_certificate
from plproof.certificate import format as fmt
from plproof.certificate.format import RIGOR_LEVELS, decode_number
from plproof.check import check
from plproof.cli import verify as verify_cli
from plproof.data import uniform_targets, unit_inputs
from plproof.suite import BUILTIN_PROBLEMS
from plproof.verify import verify

from tests.test_verify import linear_evidence

FACTORS = (Fraction(1, 2), 1 - Fraction(1, 10**9), 1 + Fraction(1, 10**9), Fraction(2))


# ---------------------------------------------------------------- the exact oracle for the linear example
def _le_lmin(x: Fraction) -> bool:  # x <= (9 - sqrt 13)/2
    return 9 - 2 * x >= 0 and (9 - 2 * x) ** 2 >= 13


def _ge_lmin(x: Fraction) -> bool:
    return 9 - 2 * x <= 0 or (9 - 2 * x) ** 2 <= 13


def _ge_lmax(x: Fraction) -> bool:  # x >= (9 + sqrt 13)/2
    return 2 * x - 9 >= 0 and (2 * x - 9) ** 2 >= 13


def _le_lmax(x: Fraction) -> bool:
    return 2 * x - 9 <= 0 or (2 * x - 9) ** 2 <= 13


def linear_claim_true(cert: dict) -> bool:
    """Every stated bound is true for X = [[1,2,0,1],[0,1,1,-1]], y = (1,2), w0 = (1,0,-1,2) (exact eigenvalues
    (9 -+ sqrt 13)/2, L0 = 29/2), the theorem's hypotheses hold with the stated numbers, and the record agrees."""
    ev = cert["evidence"]
    q = {k: (decode_number(v["lo"]), decode_number(v["hi"])) for k, v in ev["quantities"].items()}
    if any(lo > hi for lo, hi in q.values()) or any(isinstance(v, float) for p in q.values() for v in p):
        return False
    scale = 2 if cert["convention"] == "B" else 1
    mu, beta, L0 = q["mu"][0] / scale, q["beta"][1], q["L0"][1]
    eta, R = q["step"][0], q["R"][0]
    gap = 2 - beta * eta
    truths = [
        _le_lmin(q["lambda0"][0]), _ge_lmin(q["lambda0"][1]),
        q["jacobian_norm_w0"][0] <= 0 or _le_lmax(q["jacobian_norm_w0"][0] ** 2),
        q["jacobian_norm_w0"][1] >= 0 and _ge_lmax(q["jacobian_norm_w0"][1] ** 2),
        q["residual_norm_w0"][0] <= 0 or q["residual_norm_w0"][0] ** 2 <= 29,
        q["residual_norm_w0"][1] >= 0 and q["residual_norm_w0"][1] ** 2 >= 29,
        q["L0"][0] <= Fraction(29, 2) <= q["L0"][1],
        mu > 0 and _le_lmin(mu), _ge_lmax(beta), q["L_F"][1] >= 0 and _ge_lmax(q["L_F"][1] ** 2),
        q["delta"][1] >= 0, q["epsilon"][1] >= 0, q["step"][0] == q["step"][1], eta > 0, gap > 0,
        R >= 0 and R * R * gap * gap * mu >= 8 * L0, q["rate"][1] >= 1 - eta * mu * gap,
        q["R_fl"][1] >= 0 and q["R_fl"][1] ** 2 * gap * gap * mu >= 8 * L0,
    ]
    if "beta_ball" in q:
        truths.append(_ge_lmax(q["beta_ball"][1]))
    if "R_existence" in q:
        truths.append(q["R_existence"][1] >= 0 and q["R_existence"][1] ** 2 * mu >= 2 * L0)
    if "R_v1" in q:
        truths.append(q["R_v1"][1] >= 0 and q["R_v1"][1] ** 2 * mu * mu >= 8 * q["beta_ball"][1] * L0)
    if "R_v2" in q:
        truths.append(q["R_v2"][1] >= 0 and q["R_v2"][1] ** 2 * mu * mu >= 8 * q["L_F"][1] ** 2 * L0)
    weakest = min((v["rigor"] for v in ev["quantities"].values()), key=RIGOR_LEVELS.index)
    truths.append(RIGOR_LEVELS.index(cert["rigor"]) <= RIGOR_LEVELS.index(weakest))
    for h in ev["hypotheses"]:
        if h.get("margin") and h["status"] == "held":
            truths.append(decode_number(h["margin"]["lo"]) >= 0)
    traj = ev["trajectory"]
    rate = float(q["rate"][1])
    truths += [float(loss) <= float(L0) * rate**t * (1 + 1e-9) + 1e-20 * float(L0)
               for t, loss in enumerate(traj["losses"])]
    truths += [float(d) <= float(q["R"][1]) * (1 + 1e-9) for d in traj["distances"]]
    truths += [float(lam) >= float(mu) * (1 - 1e-6) for lam in traj["lambda_mins"]]
    return all(truths)


def mutations(cert: dict) -> list[tuple[str, dict]]:
    """Single-field mutations: every bound up and down, rigor levels, convention, hints, margins, the run."""
    out = []

    def mutated(label: str, edit) -> None:
        c = copy.deepcopy(cert)
        edit(c)
        out.append((label, c))

    for name, enc in cert["evidence"]["quantities"].items():
        for side in ("lo", "hi"):
            value = decode_number(enc[side])
            if isinstance(value, float):
                continue
            for f in FACTORS + ((None,) if value == 0 else ()):
                new = value * f if f is not None else Fraction(1, 10**9)
                mutated(f"{name}.{side}*{f}", lambda c, n=name, s=side, v=new: c["evidence"]["quantities"][n]
                        .__setitem__(s, f"{v.numerator}/{v.denominator}"))
        lo, hi = decode_number(enc["lo"]), decode_number(enc["hi"])
        if not isinstance(lo, float) and not isinstance(hi, float):
            for f in FACTORS:  # the whole enclosure moved
                mutated(f"{name}*{f}", lambda c, n=name, a=lo * f, b=hi * f: c["evidence"]["quantities"][n].update(
                    lo=f"{min(a, b).numerator}/{min(a, b).denominator}",
                    hi=f"{max(a, b).numerator}/{max(a, b).denominator}"))
        for level in RIGOR_LEVELS:
            mutated(f"{name}.rigor={level}", lambda c, n=name, lv=level: c["evidence"]["quantities"][n]
                    .__setitem__("rigor", lv))
    for level in RIGOR_LEVELS:
        mutated(f"rigor={level}", lambda c, lv=level: c.__setitem__("rigor", lv))
    mutated("convention", lambda c: c.__setitem__("convention", "B" if c["convention"] == "A" else "A"))
    shift = decode_number(cert["evidence"]["hints"]["lambda0_shift"])
    for f in FACTORS:
        mutated(f"shift*{f}", lambda c, v=shift * f: c["evidence"]["hints"].__setitem__("lambda0_shift", str(v)))
    for i, h in enumerate(cert["evidence"]["hypotheses"]):
        if h.get("margin"):
            mutated(f"margin{i}", lambda c, i=i: c["evidence"]["hypotheses"][i]["margin"].update(lo=-1, hi=-1))
    mutated("loss up", lambda c: c["evidence"]["trajectory"]["losses"].__setitem__(5, 100.0))
    mutated("distance up", lambda c: c["evidence"]["trajectory"]["distances"].__setitem__(-1, 1e3))
    mutated("y", lambda c: c["inputs"]["y"]["data"].__setitem__(0, 1.000001))
    mutated("w0", lambda c: c["inputs"]["w0"]["data"].__setitem__(0, 1.000001))
    mutated("X", lambda c: c["inputs"]["model"]["X"]["data"].__setitem__(0, 1 + 1e-9))
    return out


@pytest.fixture(scope="module")
def linear_certs(tmp_path_factory) -> list[dict]:
    problem = BUILTIN_PROBLEMS["linear-exact"]()
    ev = check(problem)
    ev.trajectory = __import__("plproof").gradient_descent(problem, ev.hints["step"], 30, lambda_min_every=5)
    return [from_evidence(ev, problem), from_evidence(*linear_evidence("B"))]


def test_linear_tampering_is_rejected_unless_the_claim_stays_true(linear_certs, tmp_path):
    rejected = passed = 0
    for k, cert in enumerate(linear_certs):
        assert linear_claim_true(cert)
        for label, mut in mutations(cert):
            path = tmp_path / f"m{k}.json"
            path.write_text(json.dumps(seal(mut)))
            result = verify(path)
            truth = linear_claim_true(mut) and label not in ("y", "w0", "X")
            assert result.valid <= truth, f"{label}: the verifier accepted a false claim"
            rejected += not result.valid
            passed += result.valid
    assert rejected > 200 and passed > 50  # both outcomes occur: the oracle is not trivially false


@pytest.fixture(scope="module")
def two_layer(tmp_path_factory) -> tuple[dict, Path]:
    problem = Problem(TwoLayer(unit_inputs(2, 2, 7), 128, "tanh", seed=7, init="symmetric"), uniform_targets(2, 0.01, 7))
    ev = check(problem, confirm=False)
    assert ev.certified
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fmt, "INLINE_LIMIT", 100)  # w0 (384 numbers) goes to a data file beside the certificate
        path = write_certificate(from_evidence(ev, problem), tmp_path_factory.mktemp("tl") / "c.json")
    return json.loads(path.read_text()), path


TIGHTER = {"lo": 1 + Fraction(1, 10**6), "hi": 1 - Fraction(1, 10**6)}
LOWER_BOUNDS = ("lambda0", "mu", "L0", "residual_norm_w0")
UPPER_BOUNDS = ("lambda0", "jacobian_norm_w0", "residual_norm_w0", "L0", "delta", "epsilon", "L_F", "beta",
                "beta_ball", "rate", "R_fl", "R_existence", "R_v1", "R_v2")


def test_two_layer_tightening_and_stronger_rigor_are_rejected(two_layer):
    cert, original = two_layer
    tmp_path = original.parent  # beside the certificate, where its data files are
    assert verify(original).valid
    cases = [(n, "lo") for n in LOWER_BOUNDS] + [(n, "hi") for n in UPPER_BOUNDS]
    for name, side in cases:
        mut = copy.deepcopy(cert)
        v = decode_number(mut["evidence"]["quantities"][name][side]) * TIGHTER[side]
        mut["evidence"]["quantities"][name][side] = f"{v.numerator}/{v.denominator}"
        (tmp_path / "m.json").write_text(json.dumps(seal(mut)))
        assert not verify(tmp_path / "m.json").valid, f"{name}.{side} tightened was accepted"
    for name, fraction in (("R", Fraction(99, 100)), ("step", Fraction(101, 100))):
        mut = copy.deepcopy(cert)
        for side in ("lo", "hi"):
            v = decode_number(mut["evidence"]["quantities"][name][side]) * fraction
            mut["evidence"]["quantities"][name][side] = f"{v.numerator}/{v.denominator}"
        (tmp_path / "m.json").write_text(json.dumps(seal(mut)))
        assert not verify(tmp_path / "m.json").valid, f"{name} moved was accepted"
    mut = copy.deepcopy(cert)
    mut["evidence"]["quantities"]["mu"]["rigor"] = "exact"
    (tmp_path / "m.json").write_text(json.dumps(seal(mut)))
    result = verify(tmp_path / "m.json")
    assert not result.valid and "only reaches 'verified'" in result.first_failure


def test_two_layer_data_file_tampering(two_layer, tmp_path):
    cert, original = two_layer
    w0 = cert["inputs"]["w0"]
    assert "path" in w0
    data = original.parent / w0["path"]
    saved = data.read_bytes()
    try:
        arr = np.load(data)
        arr[0] += 1e-12
        np.save(data, arr)
        result = verify(original)
        assert not result.valid and "sha256" in result.first_failure
        data.unlink()
        assert _cli(str(original))[0] == 2
    finally:
        data.write_bytes(saved)
    assert verify(original).valid


# ---------------------------------------------------------------- fuzzing the loader through the CLI
def _cli(path: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    verify_cli.register(parser.add_subparsers())
    args = parser.parse_args(["verify", path])
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = args.run(args)
    return code, out.getvalue(), err.getvalue()


REQUIRED = [("format",), ("version",), ("kind",), ("claim",), ("claim", "words"), ("convention",), ("rigor",),
            ("inputs",), ("evidence",), ("digest",), ("tool",), ("inputs", "model"), ("inputs", "model", "family"),
            ("inputs", "y"), ("inputs", "y", "shape"), ("evidence", "verdict"), ("evidence", "quantities"),
            ("evidence", "quantities", "mu", "lo"), ("evidence", "quantities", "mu", "rigor"),
            ("evidence", "hypotheses"), ("evidence", "hints")]
WRONG = st.sampled_from([None, True, [], {}, [1, 2], {"a": 1}, "not a number", -3.5])
BAD_NUMBERS = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e400", "1" + "0" * 400, "1" + "0" * 5000])


def _json_type(v: object) -> str:
    """The JSON type of a value, numbers as one type (a string bound like "29/2" counts as a number)."""
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, (int, float)) or isinstance(v, str) and v.replace("/", "").lstrip("-").isdigit():
        return "number"
    return type(v).__name__


def _at(cert: dict, path: tuple[str, ...]) -> tuple[dict, str]:
    node = cert
    for key in path[:-1]:
        node = node[key]
    return node, path[-1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_certificates_exit_2_in_one_line(linear_certs, tmp_path, data):
    cert = seal(copy.deepcopy(linear_certs[0]))  # mutations come after sealing: the schema must catch them
    how = data.draw(st.sampled_from(["delete", "retype", "number", "truncate", "bytes"]))
    if how in ("delete", "retype", "number"):
        node, key = _at(cert, data.draw(st.sampled_from(REQUIRED)))
        if how == "delete":
            del node[key]
        elif how == "retype":
            kind = _json_type(node[key])
            node[key] = data.draw(WRONG.filter(lambda v: _json_type(v) != kind))
        else:
            node[key] = "@@NUMBER@@"
        text = json.dumps(cert)
        if how == "number":
            text = text.replace('"@@NUMBER@@"', data.draw(BAD_NUMBERS))
        raw = text.encode()
    elif how == "truncate":
        text = json.dumps(cert)
        raw = text[: data.draw(st.integers(0, len(text) - 2))].encode()
    else:
        raw = data.draw(st.binary(max_size=200))
    path = tmp_path / "fuzz.json"
    path.write_bytes(raw)
    code, out, err = _cli(str(path))
    assert code == 2 and "valid" not in out.lower()
    assert err.count("\n") == 1 and "Traceback" not in err
