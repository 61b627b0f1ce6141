"""Producers: Evidence, checked derivations and property runs -> certificate dicts (DESIGN.md: certificate/).

Each returns a sealed dict in the envelope of :mod:`plproof.certificate.format`; write it with
:func:`plproof.certificate.format.write_certificate`.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from plproof.certificate.format import code_reference, encode_array, envelope, jsonable
from plproof.errors import CertificateError
from plproof.evidence import Evidence
from plproof.models.base import closed_form_obstacle, family_class
from plproof.problem import Problem


#: hints of check() that the verifier uses (everything else the producer saw goes to ``record``)
PROBLEM_HINTS = ("radius", "step", "lambda0_shift", "jacobian_norm_w0", "bounds", "X_norm")


#: classes whose description is the function itself (a SymPy model's expression trees): the verifier rebuilds them
#: from it and reads no code (a subclass is recorded by its own class, so its code is kept)
SELF_DESCRIBED = ("plproof.models.sympy_model.SympyModel",)


def model_inputs(problem: Problem) -> dict:
    """The model (family, exact class, parameters; X as an array), y and w0 of a problem, for ``inputs``."""
    model = dict(problem.model.describe())
    family, obstacle = family_class(problem.model), closed_form_obstacle(problem.model)
    if family is not None and obstacle is None:  # the function is the family's: a verifier rebuilds that class
        model["class"] = f"{family.__module__}.{family.__qualname__}"
    elif obstacle is not None:
        model["generic"] = obstacle  # the family's closed forms do not apply: only its own code can be re-run
    if model["family"] in ("two_layer", "mlp") and model.get("train", "both") == "both":
        for key in ("seed", "init"):  # every weight is a parameter (in w0): how the default w0 is drawn is no
            model.pop(key, None)      # part of the model
    if "X" in model:
        model["X"] = encode_array(problem.model.X)
    source = getattr(problem, "source", None) or getattr(problem.model, "source", None)
    if source is not None and (family is None or obstacle is not None) and model["class"] not in SELF_DESCRIBED:
        model["code"] = code_reference(source[0], target=source[1])  # only its code can rebuild this model
    return {"model": model, "y": encode_array(problem.y), "w0": encode_array(problem.w0)}


def evidence_json(evidence: Evidence) -> dict:
    """The producer's evidence in the certificate's evidence form (verdict, rigor, quantities, premises)."""
    ev = evidence.to_json()
    out = {"verdict": ev["verdict"], "rigor": ev["rigor"],
           "quantities": {k: {s: v[s] for s in ("lo", "hi", "rigor")} for k, v in ev["quantities"].items()},
           "premises": [{"name": h["name"], "status": h["status"], "reference": h["reference"],
                         "margin": None if h["margin"] is None else {"lo": h["margin"]["lo"], "hi": h["margin"]["hi"]}}
                        for h in ev["hypotheses"]]}
    if evidence.route == "sgd-ball":  # the setting the claim is about, as plproof.verify.sgd states it
        out["setting"] = jsonable(evidence.hints["sgd"])
    return out


def sealed(kind: str, theorem: str, inputs: dict, hints: dict, record: dict, derive: Any) -> dict:
    """A certificate whose evidence is what the independent verifier derives from ``inputs`` and ``hints``.

    The producer only proposes (inputs, hints); ``derive`` is the verifier's derivation for ``kind``, so
    everything a certificate states is what ``plproof verify`` re-derives. Where the verifier cannot
    re-check here (user code), the producer's evidence in ``record.producer`` is stated as it is.
    """
    from plproof.verify.claims import render
    from plproof.verify.exact import Failure, Unverifiable

    draft = {"kind": kind, "claim": {"theorem": theorem}, "inputs": jsonable(inputs), "hints": jsonable(hints)}
    try:
        evidence = derive(draft, None, [])
    except Unverifiable:
        evidence = record["producer"]["evidence"]
    except Failure as exc:
        raise CertificateError(f"the independent re-check rejects this {kind} certificate: {exc}") from None
    producer = record["producer"]["evidence"]
    if producer["verdict"] == "certified" and evidence["verdict"] != "certified":
        record["producer"]["note"] = ("the producer certified this problem; the independent re-check does not "
                                      "confirm it, so the certificate states the re-check's verdict")
    words, symbols = render(theorem, evidence)
    return envelope(kind, theorem=theorem, inputs=inputs, hints=hints, evidence=evidence, record=record,
                    words=words, symbols=symbols)


def from_evidence(evidence: Evidence, problem: Problem) -> dict:
    """A ``problem`` certificate: the model, y and w0 (and the SGD setting of the SGD route), the hints of check(),
    and the re-derived evidence."""
    from plproof.verify.problem import derive_problem

    hints = {k: v for k, v in evidence.hints.items() if k in PROBLEM_HINTS}
    for name, key in (("lambda0", "lambda0_shift"), ("jacobian_norm_w0", "jacobian_norm_w0")):
        if name in evidence.quantities and key not in hints:
            enc = evidence.quantities[name]
            hints[key] = enc.lo if key == "lambda0_shift" else enc.hi
    record = {"producer": {"verdict": evidence.verdict.value, "reason": evidence.reason,
                           "evidence": evidence_json(evidence), "hints": jsonable(evidence.hints),
                           "notes": list(evidence.notes)}}
    if evidence.trajectory is not None:
        record["trajectory"] = evidence.trajectory.to_json()
    inputs, theorem = model_inputs(problem), f"gd-ball/{evidence.convention}"
    if evidence.route == "sgd-ball":  # the SGD setting is part of what the claim is about (docs/theory.md §3)
        inputs["sgd"], theorem = dict(evidence.hints["sgd"]), f"sgd-ball/{evidence.convention}"
    proof = _rate_proof(theorem, inputs, hints) if evidence.certified and theorem.startswith("gd-") else None
    if proof is not None:
        hints["rate_proof"] = proof
    return sealed("problem", theorem, inputs, hints, record, lambda cert, base, checked: derive_problem(cert, base, checked))


def _rate_proof(theorem: str, inputs: dict, hints: dict) -> dict | None:
    """An exact one-step rate proof (docs/theory.md §6.5) for the mu and beta_ball the verifier derives, or None."""
    from plproof.rates.ball import tighter_rate
    from plproof.verify.exact import Failure, Unverifiable
    from plproof.verify.problem import derive_problem

    draft = {"kind": "problem", "claim": {"theorem": theorem}, "inputs": jsonable(inputs), "hints": jsonable(hints)}
    try:
        q = derive_problem(draft, None, [])["quantities"]
    except (Failure, Unverifiable):
        return None
    if "rate" not in q or "beta_ball" not in q:
        return None
    scale = 2 if theorem.endswith("/B") else 1
    mu, beta = Fraction(q["mu"]["lo"]) / scale, Fraction(q["beta_ball"]["hi"])
    found = tighter_rate(mu, beta, hints["step"])
    if found is None or found.tau >= Fraction(q["rate"]["hi"]):
        return None
    proof = found.proof.hints()
    return jsonable({"L": beta, "mu": mu, "tau": proof["tau"], "multipliers": proof["multipliers"], "ldl": proof["ldl"]})


def _plain(obj: Any) -> Any:
    """A dataclass tree as JSON with a ``"type"`` tag per dataclass (plain data to plproof.verify.derivation)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {"type": type(obj).__name__}
        out.update({f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)})
        return out
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise CertificateError(f"cannot store a {type(obj).__name__} of a derivation in a certificate: "
                           "give steps plain strings and named lemmas")


def _step_json(step: Any) -> dict:
    """A step's verdict; its counterexample's values as strings, a map's polynomials as a list of strings."""
    out = jsonable({k: v for k, v in dataclasses.asdict(step).items() if k != "counterexample"})
    cex = step.counterexample
    out["counterexample"] = None if cex is None else {
        str(k): [str(x) for x in v] if isinstance(v, (list, tuple)) else str(v) for k, v in cex.items()}
    return out


def derivation_certificate(result: Any, *, size_bound: int = 3, samples: int = 40) -> dict:
    """A ``derivation`` certificate from a :class:`plproof.symbolic.checker.CheckResult`.

    ``size_bound`` and ``samples`` are the checker settings the result was produced with (a record);
    ``recheck`` names the verifier's independent method, its constants, seed and failure probability
    (:func:`plproof.verify.derivation.recheck_plan`, docs/rigor.md), which the verifier re-derives.
    """
    from plproof.verify.derivation import recheck_plan

    d = result.derivation
    steps = [_step_json(s) for s in result.steps]
    rigor = "exact" if result.valid else "sampled"
    plain = _plain(d)
    stated = [{k: step[k] for k in ("id", "lhs", "relation", "rhs", "status", "counterexample")} for step in steps]
    return envelope("derivation", theorem="derivation", words=d.title, symbols="",
                    inputs={"derivation": plain, "recheck": recheck_plan(jsonable(plain))}, hints={},
                    evidence={"verdict": "valid" if result.valid else "not valid", "rigor": rigor,
                              "valid": result.valid, "claim_proved": result.claim_proved, "steps": stated},
                    record={"producer": {"claim_detail": result.claim_detail, "steps": steps,
                                         "notes": list(result.notes),
                                         "check": {"size_bound": size_bound, "samples": samples}}})


def property_certificate(*, module: str | Path, test: str, seed: int, profile: str, max_examples: int,
                         examples: int, claim: str, symbols: str, rigor: str, root: str | Path = ".",
                         convention: str = "A", outcome: str = "passed", margin: float | None = None,
                         reference: str = "", precision: dict | None = None, notes: dict | None = None) -> dict:
    """A ``property`` certificate: re-run by ``plproof verify --run-code`` as ``pytest FILE::TEST`` with the seed.

    ``module`` is the test file relative to ``root``; the certificate records it by its sha256 and its
    path relative to the certificate (or inside the plproof package for the shipped catalogue). A
    property test checks samples, so the certificate's rigor is ``sampled``; the level each sample was
    computed at (``rigor``) is recorded.
    """
    path = (Path(root) / module).resolve()
    package = Path(__file__).resolve().parent.parent
    if path.is_relative_to(package):
        code = {**code_reference(path), "package": "plproof", "path": path.relative_to(package).as_posix()}
    else:
        code = code_reference(path)
    inputs = {"code": code, "test": test, "seed": int(seed), "profile": profile, "max_examples": int(max_examples),
              "reference": reference}
    record = {"examples": int(examples), "sample_rigor": rigor, "convention": convention,
              "smallest_margin": None if margin is None else float(np.float64(margin)),
              "precision": precision or {}, "notes": notes or {}}
    return envelope("property", theorem="property", inputs=inputs, hints={},
                    evidence={"verdict": outcome, "rigor": "sampled"}, record=record, words=claim, symbols=symbols)


def run_certificate(evidence: Evidence, problem: Problem) -> dict:
    """A ``run`` certificate: model, y, w0 and the run (step, T, checkpoints), the terminal ball as hints, and
    the evidence the verifier re-derives from them (plproof.verify.trajectory: its own shadowing radii from
    e_0 = 0); large arrays go to .npy files on writing. Double-double checkpoints are (hi, lo) rows, shape
    (K, 2, P) (docs/rigor.md §9.7). An SGD run (theorem sgd-run/A) adds its method, its sampler with the sha256 of
    the batches and the continuation step of its terminal ball (docs/theory.md §12.6)."""
    from plproof.verify.trajectory import derive_run

    if evidence.route != "run":
        raise CertificateError(f"run_certificate needs evidence of the run route, got route {evidence.route!r}")
    h = evidence.hints
    inputs = model_inputs(problem)
    inputs["run"] = run = {"recipe": h["recipe"], "step": h["step"], "T": h["T"]}
    sgd = h.get("method") == "sgd"
    if sgd:  # the sampler exactly, with the sha256 of its batches (docs/theory.md §12.6)
        from plproof.routes.trajectory.sampler import Sampler

        sampler = Sampler(h["sampler"], h["seed"], h["batch_size"], problem.model.n_outputs)
        run.update(method="sgd", sampler=sampler.spec(h["T"]))
    hints: dict[str, Any] = {"bounds": h["bounds"], **({"X_norm": h["X_norm"]} if "X_norm" in h else {})}
    if evidence.certified:
        run.update(checkpoint_steps=list(h["checkpoint_steps"]),
                   checkpoints=encode_array(np.asarray(h["checkpoints"], dtype=np.float64)))
        if sgd:
            run["continuation_step"] = h["continuation_step"]
            if "R_S" in h:  # §3 from w_T was proved (docs/theory.md §12.6)
                run["sgd_continuation"] = {"confidence": h["confidence"]}
                hints["R_S"] = h["R_S"]
        for key in ("windows_from", "float_from"):  # where the re-check forms windows (docs/rigor.md §10,
            if h.get(key) is not None:               # windows) and where a dd run went on in float64 (§9.8)
                hints[key] = h[key]
        hints.update(R_T=h["R_T"],
                     lambda_T_shift=h["lambda_T_shift"], jacobian_norm_T=evidence.quantities["jacobian_norm_T"].hi)
    record = {"producer": {"verdict": evidence.verdict.value, "reason": evidence.reason,
                           "evidence": evidence_json(evidence),
                           "run": {k: v for k, v in h.items() if k not in ("checkpoints", "radii")}},
              "amplification": {"log": evidence.quantities["log_amplification"].hi,
                                "max_rho": evidence.quantities["max_rho"].hi}}
    return sealed("run", "sgd-run/A" if sgd else "gd-run/A", inputs, hints, record, derive_run)
