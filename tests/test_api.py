"""The public API: ``plproof.__all__`` is exactly the public names, and every one is importable."""

from __future__ import annotations

import importlib

import plproof


def test_all_matches_public_names():
    submodules = {name for name in dir(plproof)
                  if isinstance(getattr(plproof, name), type(plproof))}
    public = {name for name in dir(plproof) if not name.startswith("_") and name not in submodules}
    assert set(plproof.__all__) - {"__version__"} == public
    assert len(plproof.__all__) == len(set(plproof.__all__))
    for name in plproof.__all__:
        assert getattr(plproof, name) is not None


def test_errors_form_one_tree():
    for name in ("InvalidInput", "NotCertifiable", "CertificateError", "MissingDependency", "SoundnessViolation"):
        assert issubclass(getattr(plproof, name), plproof.PlproofError)


def test_subpackages_export_what_they_declare():
    for mod in ("plproof.models", "plproof.numeric"):
        module = importlib.import_module(mod)
        for name in module.__all__:
            assert hasattr(module, name), f"{mod} declares {name} but does not define it"
