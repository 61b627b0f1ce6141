"""``plproof certify``: derivations, the property catalogue and the built-in problems, one certificate each.

Writes ``derivations/``, ``properties/`` and ``problems/`` under the output folder and an ``index.json``
listing every certificate with its status and digest. Same suite, profile and seed: the same
certificates, up to their creation time (docs/theory.md §10 for the rigor levels they carry).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from plproof.certificate import derivation_certificate, from_evidence, load_certificate, write_certificate, write_json
from plproof.routes.ball import check
from plproof.errors import InvalidInput
from plproof.suite import BUILTIN_PROBLEMS, EXPECTED_VERDICTS, SUITES, Suite

#: ``progress(kind, name)``: the item now running
Progress = Callable[[str, str], None]
#: ``resize(extra)``: the run found ``extra`` more items than :func:`suite_size` counted
Resize = Callable[[int], None]


@dataclass
class Entry:
    """One certified item: where its certificate is, what it says, and whether that is what was expected."""

    kind: str
    name: str
    status: str
    expected: str
    rigor: str
    path: str | None
    digest: str | None
    seconds: float
    report: str = ""

    @property
    def ok(self) -> bool:
        return self.status == self.expected

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "status": self.status, "expected": self.expected,
                "ok": self.ok, "rigor": self.rigor, "path": self.path, "digest": self.digest}


@dataclass
class CertifyResult:
    """Every entry of a certify run and the index that lists them."""

    out_dir: Path
    suite: str
    profile: str
    seed: int
    entries: list[Entry] = field(default_factory=list)
    index: Path | None = None

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entries)


def _write(cert: dict, path: Path, out: Path) -> tuple[str, str]:
    write_certificate(cert, path)
    return path.relative_to(out).as_posix(), load_certificate(path)["digest"]


def _derivations(suite: Suite, out: Path, result: CertifyResult, note: Progress) -> None:
    from plproof.symbolic import builtin_derivations, check_derivation

    catalogue = builtin_derivations()
    names = suite.derivations or tuple(catalogue)
    for name in names:
        note("derivation", name)
        start = time.perf_counter()
        checked = check_derivation(catalogue[name])
        rel, dig = _write(derivation_certificate(checked), out / "derivations" / f"{name}.json", out)
        result.entries.append(Entry("derivation", name, "valid" if checked.valid else "not valid", "valid",
                                    "exact" if checked.valid else "-", rel, dig, time.perf_counter() - start))


def _properties(suite: Suite, out: Path, profile: str, seed: int, result: CertifyResult, note: Progress,
                resize: Resize) -> None:
    from plproof.pytest_plugin import catalogue_dir, run_properties

    note("properties", f"collecting (profile {profile})")
    paths = [catalogue_dir() / f for f in suite.properties] if suite.properties else None
    summary = run_properties(out / "properties", profile, seed, paths=paths, quiet=True,
                             pytest_args=("--disable-warnings", "--no-header"),
                             on_collected=lambda count: resize(count - 1),
                             on_test=lambda nodeid: note("property", nodeid.split("::")[-1]))
    if summary.exit_code not in (0, 1) or (summary.exit_code == 1 and not summary.failed):
        tail = summary.log.strip().splitlines()[-1:] or ["(no output)"]
        what = "collected no tests" if summary.exit_code == 5 else f"stopped with pytest exit code {summary.exit_code}"
        raise InvalidInput(f"the property run {what}: {tail[0]}")
    for o in summary.outcomes:
        cert = load_certificate(o.certificate) if o.certificate else None
        rel = Path(o.certificate).relative_to(out).as_posix() if cert else None
        result.entries.append(Entry("property", o.nodeid.split("::")[-1], o.outcome, "passed",
                                    cert["rigor"] if cert else "-", rel, cert["digest"] if cert else None,
                                    o.seconds, o.report))


def _problems(suite: Suite, out: Path, result: CertifyResult, note: Progress) -> None:
    for name in suite.problems:
        note("problem", name)
        start = time.perf_counter()
        problem = BUILTIN_PROBLEMS[name]()
        cert = from_evidence(check(problem), problem)  # states what the independent verifier re-derives
        rel, dig = _write(cert, out / "problems" / f"{name}.json", out)
        result.entries.append(Entry("problem", name, cert["evidence"]["verdict"], EXPECTED_VERDICTS[name],
                                    cert["rigor"], rel, dig, time.perf_counter() - start))


def suite_size(suite: str) -> int:
    """Progress steps a suite takes before its property run is collected: its derivations, one step for
    the property run (``resize`` adds its tests once collected), its problems."""
    chosen = SUITES[suite]
    if chosen.derivations is not None:
        n_derivations = len(chosen.derivations)
    else:
        from plproof.symbolic import builtin_names

        n_derivations = len(builtin_names())
    return n_derivations + 1 + len(chosen.problems)


def certify_suite(out_dir: str | Path = "certificates", *, suite: str = "default", profile: str = "ci",
                  seed: int = 0, progress: Progress | None = None, resize: Resize | None = None) -> CertifyResult:
    """Run a suite, write its certificates and ``index.json`` under ``out_dir``; see :class:`CertifyResult`.

    ``progress`` and ``resize`` report each item as it starts (see :data:`Progress`, :data:`Resize`).
    """
    if suite not in SUITES:
        raise InvalidInput(f"unknown suite {suite!r}: use one of {', '.join(SUITES)}")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    note = progress or (lambda kind, name: None)
    result = CertifyResult(out, suite, profile, seed)
    chosen = SUITES[suite]
    _derivations(chosen, out, result, note)
    _properties(chosen, out, profile, seed, result, note, resize or (lambda extra: None))
    _problems(chosen, out, result, note)
    result.index = write_json({"suite": suite, "profile": profile, "seed": seed, "ok": result.ok,
                               "entries": [e.to_json() for e in result.entries]}, out / "index.json")
    return result
