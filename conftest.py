"""Shared test configuration: the ``ci`` Hypothesis profile by default and the opt-in ``slow`` marker.

The profiles are registered by the plproof pytest plugin (plproof/pytest_plugin.py); registering them
again here keeps the repository's own tests working under ``-p no:plproof``. ``--hypothesis-profile
thorough`` overrides the default (Hypothesis loads it after this file).
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from plproof import profiles

profiles.register()
settings.load_profile(profiles.CI)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: opt in with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
