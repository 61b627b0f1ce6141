"""Peers of the benchmarks: import them if installed, and say so plainly when they are not."""

from __future__ import annotations

import importlib
import importlib.metadata
from types import ModuleType

#: import name -> how to install it (printed when it is missing)
INSTALL = {
    "flint": "pip install python-flint",
    "torch": "pip install torch (CPU build: pip install torch==2.13.0)",
    "PEPit": "pip install pepit",
    "mpmath": "pip install mpmath",
}
LABEL = {"flint": "python-flint", "torch": "torch", "PEPit": "PEPit", "mpmath": "mpmath"}


def peer(module: str) -> ModuleType | None:
    """The peer's module, or None after printing "<peer>: not installed (<how to install>)"."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        print(f"  {LABEL.get(module, module)}: not installed ({INSTALL.get(module, f'pip install {module}')}); "
              f"import said: {exc}")
        return None


def version(dist: str) -> str:
    """The installed version of distribution ``dist``, or "not installed"."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def ratio(t: float, base: float) -> str:
    """``t / base`` as ``"12.3x"`` (how many times slower than ``base``)."""
    return f"{t / base:.3g}x"
