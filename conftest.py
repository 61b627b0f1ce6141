"""Shared test configuration: the ``ci`` Hypothesis profile by default, the opt-in ``slow`` marker, and the heaviest
modules collected first (pytest-xdist's ``--dist loadfile`` hands out modules in collection order, so a heavy module
collected last would run alone at the end).

The profiles are registered by the plproof pytest plugin (plproof/pytest_plugin.py); registering them
again here keeps the repository's own tests working under ``-p no:plproof``. ``--hypothesis-profile
thorough`` overrides the default (Hypothesis loads it after this file).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from plproof import profiles

profiles.register()
settings.load_profile(profiles.CI)


def pytest_configure(config: pytest.Config) -> None:
    """One BLAS thread per pytest-xdist worker: ``-n auto`` already starts one worker per core, and OpenBLAS's own
    threads would spin-wait against the other workers (docs/guide.md, BLAS threads)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")  # for the whole worker process


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


#: modules of more than about 15 CPU-seconds in the default run, heaviest first
HEAVY_FIRST = ("test_verify_tamper.py", "test_verify_everything.py", "test_run_sgd.py", "test_report.py",
               "test_verify_derivation.py", "test_sgd_ball.py", "test_symbolic.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(HEAVY_FIRST)))  # stable: the rest keep their order
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: opt in with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
