"""PEP 562 lazy attributes for package ``__init__`` modules: a public name loads its module on first use.

The verifier imports single formula modules (e.g. plproof.models.two_layer); a package ``__init__`` that
imported every sibling eagerly would load the producer with them (docs/rigor.md §6). A public name that is
also a submodule's name (``plproof.verify`` the function, ``plproof.verify`` the package) stays the public
object: importing the submodule would otherwise replace the attribute with the module.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any, Callable


def attach(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package`` whose public ``names`` map to their modules."""
    module = sys.modules[package]
    space = module.__dict__

    def load(name: str) -> Any:
        return getattr(importlib.import_module(names[name]), name)

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = load(name)
        space[name] = value
        return value

    shadowed = {n for n, m in names.items() if m == f"{package}.{n}"}
    if shadowed:
        def public(name: str) -> property:
            # the import system sets the submodule as an attribute; the public object wins (setter ignores it)
            return property(lambda self: load(name), lambda self, value: None)

        module.__class__ = type(f"{package}.Package", (types.ModuleType,), {n: public(n) for n in shadowed})
    public_names = sorted(names)
    return __getattr__, lambda: list(public_names), public_names
