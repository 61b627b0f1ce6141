"""The plproof pytest plugin: a ``plproof`` marker, a ``pl_record`` fixture and property certificates.

Registered through the ``pytest11`` entry point, so installing plproof is enough::

    @pytest.mark.plproof(theory="§1.3", symbols="1/2 ||grad L||^2 >= lambda_min(K) L", rigor="high-precision")
    @given(problems())
    def test_my_property(problem, pl_record):
        \"\"\"The statement, in mathematics; it becomes the certificate's claim.\"\"\"
        margin = ...
        pl_record.margin(margin, example=problem)   # also steers Hypothesis towards small margins
        assert margin >= 0

``pytest --plproof-certificates DIR`` writes one certificate per passing marked test (property id,
statement, docs/theory.md reference, examples run, seed and profile, precision, the smallest margin
and its example, tool versions); a failing test writes none (and removes a stale one), and its shrunk
counterexample is in Hypothesis's report. The profiles ``ci`` and ``thorough`` are registered here
(``--hypothesis-profile thorough``). A marked property runs under ``ci`` unless a profile is chosen
(``--hypothesis-profile``, or a conftest loading one); settings the test sets itself are kept, and other
tests keep Hypothesis's own defaults. :func:`run_properties` runs the built-in catalogue
(``plproof/properties``, shipped with the package) in-process.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pytest
from hypothesis import currently_in_test_context, settings, target

from plproof import profiles
from plproof.certificate.format import RIGOR_LEVELS
from plproof.errors import InvalidInput

MARKER = "plproof"
OPTION = "--plproof-certificates"
_MARKER_KEYS = {"theory", "symbols", "source", "statement", "rigor", "precision", "convention"}
_STATE = "plproof-state"
_RECORD = pytest.StashKey["PropertyRecord"]()
_RECORDER = pytest.StashKey["Recorder"]()
_PROFILE = pytest.StashKey[str]()

profiles.register()


# ----------------------------------------------------------------------------- records and the fixture


@dataclass
class PropertyRecord:
    """What one marked test recorded: its smallest margin (and where), notes, and examples run."""

    margin: float | None = None
    margin_label: str | None = None
    margin_example: Any = None
    notes: dict[str, Any] = field(default_factory=dict)
    examples: int = 0


class Recorder:
    """The ``pl_record`` fixture: records margins and facts into the currently running property."""

    def __init__(self) -> None:
        self._current: PropertyRecord | None = None

    def __repr__(self) -> str:
        return "pl_record"  # Hypothesis prints every argument of a failing example: keep this one short

    def _record(self) -> PropertyRecord:
        if self._current is None:
            raise RuntimeError("pl_record is only usable while a test runs")
        return self._current

    def margin(self, value: Any, example: Any = None, *, label: str = "margin", steer: bool = True) -> float:
        """Record a margin (>= 0 when the property holds); keep the smallest and its example.

        Inside ``@given`` it also calls ``hypothesis.target(-value, label)`` (once per example and
        label) so that Hypothesis searches towards small margins; ``steer=False`` turns that off.
        """
        v = float(value)
        if math.isnan(v):
            raise InvalidInput("a margin cannot be NaN: compute it from finite quantities")
        rec = self._record()
        if rec.margin is None or v < rec.margin:
            rec.margin, rec.margin_label, rec.margin_example = v, label, plain(example)
        if steer and currently_in_test_context() and math.isfinite(v):
            target(-v, label=label)
        return v

    def note(self, key: str, value: Any) -> None:
        """Store a fact about the run (a fitted slope, a confidence level) in the certificate."""
        self._record().notes[str(key)] = plain(value)


def plain(x: Any) -> Any:
    """JSON data for a recorded example: problems by ``describe()``, mpmath numbers as decimal strings."""
    if hasattr(x, "describe") and callable(x.describe):
        return plain(x.describe())
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return plain(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else repr(float(x))
    if isinstance(x, Fraction):
        return str(x)
    if x is None or isinstance(x, str):
        return x
    return str(x)  # mpmath mpf and other numbers: their full decimal expansion


@pytest.fixture(scope="session")
def pl_record(request: pytest.FixtureRequest) -> Recorder:
    """Record margins and facts of the running property (session-scoped, so it is safe under ``@given``)."""
    return request.config.stash[_RECORDER]


# ----------------------------------------------------------------------------- hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("plproof", "plproof property certificates")
    group.addoption(OPTION, metavar="DIR", default=None,
                    help="write a certificate for each passing @pytest.mark.plproof test into DIR")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "plproof(theory, symbols='', source='', statement=None, rigor='sampled', precision=None, "
                   "convention='A'): a property that gets a certificate; theory is its docs/theory.md section")
    config.stash[_RECORDER] = Recorder()
    out = config.getoption(OPTION)
    config.pluginmanager.register(_State(config, Path(out).resolve() if out else None), _STATE)


def _marker(item: pytest.Item) -> pytest.Mark | None:
    return item.get_closest_marker(MARKER)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    default_profile = _no_profile_chosen(config)
    for item in items:
        mark = _marker(item)
        if mark is None:
            continue
        unknown = set(mark.kwargs) - _MARKER_KEYS
        if mark.args or unknown or not isinstance(mark.kwargs.get("theory"), str):
            raise pytest.UsageError(f"{item.nodeid}: use @pytest.mark.plproof(theory='§N', ...) with keywords "
                                    f"{', '.join(sorted(_MARKER_KEYS))}")
        if mark.kwargs.get("rigor", "sampled") not in RIGOR_LEVELS:
            raise pytest.UsageError(f"{item.nodeid}: rigor must be one of {', '.join(RIGOR_LEVELS)}")
        if default_profile:
            _under_ci(item)


def _no_profile_chosen(config: pytest.Config) -> bool:
    """True when neither ``--hypothesis-profile`` nor a conftest chose a profile (Hypothesis's ``default``)."""
    try:
        chosen = config.getoption("--hypothesis-profile")
    except ValueError:  # Hypothesis's pytest plugin is disabled
        chosen = None
    return chosen is None and settings.get_current_profile_name() == "default"


def _under_ci(item: pytest.Item) -> None:
    """Run a marked ``@given`` test under the ``ci`` profile, keeping the settings its own ``@settings`` set.

    A setting counts as the test's own when it differs from Hypothesis's default profile.
    """
    test = getattr(item.obj, "__func__", item.obj)
    current = getattr(test, "_hypothesis_internal_use_settings", None)
    if getattr(test, "hypothesis", None) is None or current is None:
        return
    default = settings.get_profile("default")
    names = [n for n in inspect.signature(settings.__init__).parameters if n not in ("self", "parent")]
    own = {n: getattr(current, n) for n in names if getattr(current, n) != getattr(default, n)}
    test._hypothesis_internal_use_settings = settings(settings.get_profile(profiles.CI), **own)
    item.stash[_PROFILE] = profiles.CI


@dataclass
class Outcome:
    """How one marked property ended, and the certificate it left (if any)."""

    nodeid: str
    outcome: str
    certificate: str | None = None
    report: str = ""
    seconds: float = 0.0


class _State:
    """Per-session state: the output folder and the outcomes of the marked tests."""

    def __init__(self, config: pytest.Config, out_dir: Path | None) -> None:
        self.config = config
        self.out_dir = out_dir
        self.outcomes: dict[str, Outcome] = {}
        self._setup_seconds: dict[str, float] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        if _marker(item) is None:
            yield
            return
        record = PropertyRecord()
        item.stash[_RECORD] = record
        recorder = self.config.stash[_RECORDER]
        recorder._current = record
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        original = handle.inner_test if handle is not None else None
        if handle is not None:
            handle.inner_test = _counting(original, record)
        else:
            record.examples = 1
        try:
            yield
        finally:
            if handle is not None:
                handle.inner_test = original
            recorder._current = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
        outcome = yield
        report = outcome.get_result()
        mark = _marker(item)
        if mark is not None and report.when == "setup" and report.passed:
            self._setup_seconds[item.nodeid] = report.duration
        if mark is None or report.when not in ("setup", "call") or (report.when == "setup" and report.passed):
            return
        path = self.out_dir / certificate_name(item.nodeid) if self.out_dir else None
        seconds = self._setup_seconds.pop(item.nodeid, 0.0) + (report.duration if report.when == "call" else 0.0)
        if report.when == "call" and report.passed:
            written = str(self._write(item, mark, item.stash[_RECORD], path)) if path else None
            self.outcomes[item.nodeid] = Outcome(item.nodeid, "passed", written, seconds=seconds)
            return
        if path is not None and path.exists():
            path.unlink()  # a stale certificate must not outlive the property it certified
        status = "skipped" if report.skipped else "failed"
        self.outcomes[item.nodeid] = Outcome(item.nodeid, status, None, report.longreprtext, seconds)
        if report.failed:
            report.sections.append(("plproof", f"{item.nodeid} failed: no certificate written; Hypothesis's "
                                               "shrunk counterexample is in the report above"))

    def _write(self, item: pytest.Item, mark: pytest.Mark, record: PropertyRecord, path: Path) -> Path:
        from plproof.certificate import property_certificate, write_certificate

        test_settings = getattr(item.obj, "_hypothesis_internal_use_settings", settings.default)
        seed = self.config.getoption("hypothesis_seed", None)
        kw = mark.kwargs
        module, _, test = item.nodeid.partition("::")
        notes = {"source": kw.get("source", ""), "derandomize": bool(test_settings.derandomize),
                 "margin_label": record.margin_label, "margin_example": record.margin_example, **record.notes}
        cert = property_certificate(
            module=module, test=test, seed=int(seed) if seed is not None else 0,
            profile=item.stash.get(_PROFILE, settings.get_current_profile_name()), max_examples=int(test_settings.max_examples),
            examples=record.examples, claim=kw.get("statement") or inspect.getdoc(item.obj) or "",
            symbols=kw.get("symbols", ""), rigor=kw.get("rigor", "sampled"), root=self.config.rootpath,
            convention=kw.get("convention", "A"), margin=record.margin, reference=f"docs/theory.md {kw['theory']}",
            precision=kw.get("precision") or {"arithmetic": "float64"}, notes=plain(notes))
        cert["tool"] = {**cert["tool"], "hypothesis": metadata.version("hypothesis"), "pytest": pytest.__version__}
        return write_certificate(cert, path)


def _counting(inner: Callable[..., Any], record: PropertyRecord) -> Callable[..., Any]:
    """``inner`` counting the examples that ran to completion (functools.wraps keeps Hypothesis's seed)."""
    import functools

    @functools.wraps(inner)
    def counted(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # keep this frame out of failure reports
        result = inner(*args, **kwargs)
        record.examples += 1
        return result

    return counted


def certificate_name(nodeid: str) -> str:
    """``plproof/properties/test_x.py::test_y[p]`` -> ``plproof.properties.test_x.test_y-p.json``."""
    stem = nodeid.replace(".py::", "::").replace("/", ".").replace("::", ".")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") + ".json"


# ----------------------------------------------------------------------------- programmatic use


@dataclass
class PropertyRunSummary:
    """The result of :func:`run_properties`: pytest's exit code and one :class:`Outcome` per marked test."""

    exit_code: int
    profile: str
    seed: int
    out_dir: str
    outcomes: list[Outcome]
    log: str = ""

    @property
    def passed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome == "passed"]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome == "failed"]

    @property
    def certificates(self) -> list[str]:
        return [o.certificate for o in self.outcomes if o.certificate]


class _Collect:
    """Collects the outcomes at the end of an in-process run and reports progress as it goes."""

    def __init__(self, on_collected: Callable[[int], None] | None, on_test: Callable[[str], None] | None) -> None:
        self.outcomes: list[Outcome] = []
        self._on_collected, self._on_test = on_collected, on_test

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self._on_collected is not None:
            self._on_collected(len(session.items))

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        if self._on_test is not None:
            self._on_test(nodeid)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        state = config.pluginmanager.get_plugin(_STATE)
        if state is not None:
            self.outcomes = list(state.outcomes.values())


def catalogue_dir() -> Path:
    """The built-in property catalogue: the ``plproof.properties`` package, shipped with every install."""
    return Path(__file__).resolve().parent / "properties"


def _entry_point_loaded() -> bool:
    return any(ep.value == __name__ for ep in metadata.entry_points(group="pytest11"))


def run_properties(out_dir: str | Path, profile: str = profiles.CI, seed: int = 0, *,
                   paths: Sequence[str | Path] | None = None, pytest_args: Sequence[str] = (), quiet: bool = False,
                   on_collected: Callable[[int], None] | None = None,
                   on_test: Callable[[str], None] | None = None) -> PropertyRunSummary:
    """Run the property catalogue (or ``paths``) under ``profile`` and write certificates into ``out_dir``.

    ``seed`` is passed as ``--hypothesis-seed``; the derandomised ``ci`` profile draws its examples
    from each test's source instead, so only ``thorough`` depends on it. Same profile and seed, same
    certificates (up to their creation time). The catalogue runs with the folder holding the
    ``plproof`` package as pytest's root, so its tests are named ``plproof/properties/...`` from a
    source checkout and from an install alike. ``quiet`` keeps pytest's terminal output in the
    summary's ``log`` instead of printing it; ``on_collected(count)`` and ``on_test(nodeid)`` report
    progress.
    """
    if profile not in profiles.PROFILES:
        raise InvalidInput(f"unknown profile {profile!r}: use one of {', '.join(profiles.PROFILES)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer, got {seed!r}")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    catalogue = catalogue_dir()
    targets = [Path(p).resolve() for p in paths] if paths else [catalogue]
    args = [*map(str, targets), OPTION, str(out), f"--hypothesis-profile={profile}", f"--hypothesis-seed={seed}",
            "-p", "no:cacheprovider", "-q", *pytest_args]
    if all(t.is_relative_to(catalogue) for t in targets):
        args.append(f"--rootdir={catalogue.parent.parent}")
    if not _entry_point_loaded():
        args += ["-p", __name__]
    collect = _Collect(on_collected, on_test)
    log = io.StringIO()
    with contextlib.redirect_stdout(log) if quiet else contextlib.nullcontext():
        code = pytest.main(args, plugins=[collect])
    return PropertyRunSummary(int(code), profile, seed, str(out), collect.outcomes, log.getvalue())
