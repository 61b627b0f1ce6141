"""PEP 562 lazy attributes for package ``__init__`` modules: a public name loads its module on first use.

The verifier imports single formula modules (e.g. plproof.models.two_layer); a package ``__init__`` that
imported every sibling eagerly would load the producer with them (docs/rigor.md, "What the verifier trusts").
"""

from __future__ import annotations

import importlib
from typing import Any, Callable


def attach(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package`` whose public ``names`` map to their modules."""
    space = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        space[name] = value
        return value

    public = sorted(names)
    return __getattr__, lambda: list(public), public
