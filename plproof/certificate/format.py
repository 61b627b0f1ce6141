"""The certificate envelope: canonical JSON, sha256 digest, JSON Schema, atomic writes, loading.

One envelope for every kind (``derivation``, ``property``, ``problem``, ``run``): ``claim`` (a theorem id
with its convention, and the words and symbols rendered from it), ``inputs`` (what the claim is about),
``hints`` (starting points for the verifier, each re-proved), ``evidence`` (exactly what the verifier
re-derives from inputs and hints), ``record`` (what the producer saw and the verifier does not re-check,
e.g. a confirming GD run), then ``tool``, ``created`` and the ``digest``. :data:`NEUTRAL_FIELDS` lists
the fields a verifier may accept after any edit; every other field is re-checked or derived.
Bounds are stored so that rounding never weakens them: exact rationals as ``"p/q"`` strings, floats
as JSON numbers (Python's float repr round-trips the exact binary value), infinities as
``"inf"``/``"-inf"``. Arrays are inline or, when large, a ``.npy`` in ``data/`` beside the certificate,
named and checked by the sha256 of their little-endian bytes. Code a certificate depends on (a user
model, a property test) is recorded by its path relative to the certificate and its sha256.

This module imports nothing else from plproof, so the verifier can rely on it alone (DESIGN.md).
Errors are :class:`plproof.errors.CertificateError` (imported lazily to keep that promise).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib.resources
import json
import math
import os
import platform
import tempfile
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

import numpy as np

FORMAT = "plproof-certificate"
VERSION = 2
KINDS = ("derivation", "property", "problem", "run", "rate")
RIGOR_LEVELS = ("sampled", "high-precision", "verified", "exact")  # weakest first (docs/theory.md §10)
#: arrays with more entries than this are written to a .npy file beside the certificate
INLINE_LIMIT = 2048
DATA_DIR = "data"
#: envelope fields left out of the digest (so that the same inputs give the same digest)
UNDIGESTED = ("created", "digest")
#: per kind ("*": every kind), dotted-path patterns (fnmatch; list entries are numbered) of the fields
#: that change nothing the verifier accepts: metadata, the producer's record, a derivation step's
#: counterexample, and a property's description and re-run settings (its claim is its code, pinned by sha256: any seed,
#: profile or example count under which the re-run passes reproduces it)
NEUTRAL_FIELDS: dict[str, tuple[str, ...]] = {
    "*": ("created", "digest", "tool", "tool.*", "record", "record.*"),
    "problem": ("inputs.model.graph.params.*.name",),  # labels: layers read their tensors by index
    "run": ("hints.windows_from",  # where windows start: any step gives a sound re-check (rigor.md §10)
            "hints.float_from",  # where a dd run's re-check goes on in float64: any step is sound (rigor.md §9.8)
            "inputs.model.graph.params.*.name"),  # labels, as for "problem"
    "derivation": ("evidence.steps.*.counterexample.*",),  # a hint: the step is refuted at it or at the
                                                            # verifier's own instances, exactly
    "rate": (),
    "property": ("claim.words", "claim.symbols", "inputs.seed", "inputs.profile", "inputs.max_examples",
                 "inputs.reference"),
}


def _error(message: str) -> Exception:
    from plproof.errors import CertificateError  # lazy: this module imports nothing from plproof at load

    return CertificateError(message)


# ---------------------------------------------------------------- numbers and arrays
def encode_number(x: Any) -> float | int | str:
    """A real as JSON without loss: Fraction -> ``"p/q"``, float -> itself (exact binary), inf -> ``"inf"``."""
    if isinstance(x, (bool, np.bool_)):
        raise _error(f"a boolean is not a number: {x!r}")
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    if math.isnan(x):
        raise _error("NaN cannot bound anything: it has no place in a certificate")
    return repr(x) if math.isinf(x) else x


def decode_number(v: Any) -> Fraction | float:
    """The exact value of a stored number: JSON numbers -> Fraction of their binary value, ``"p/q"`` -> Fraction."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise _error(f"not a number: {v!r}")
    if isinstance(v, str):
        if v in ("inf", "-inf"):
            return float(v)
        try:
            return Fraction(v)
        except (ValueError, ZeroDivisionError):
            raise _error(f"not an exact number: {v!r} (use an integer, 'p/q' or a JSON number)") from None
    if isinstance(v, float) and not math.isfinite(v):
        raise _error(f"not a finite number: {v!r}")
    return Fraction(v)


def encode_array(a: Any) -> dict:
    """An inline array object: float64 entries as JSON numbers, or exact rationals as strings."""
    arr = np.asarray(a)
    if arr.dtype == object:
        flat = [encode_number(Fraction(str(v)) if not isinstance(v, (Fraction, int)) else v) for v in arr.ravel()]
        return {"array": "rational", "shape": list(arr.shape), "data": [str(v) for v in flat]}
    arr = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise _error("arrays in certificates must be finite")
    return {"array": "float64", "shape": list(arr.shape), "data": arr.ravel().tolist()}


def array_sha256(arr: np.ndarray) -> str:
    """sha256 of the little-endian float64 bytes in C order (independent of the .npy header)."""
    return hashlib.sha256(np.ascontiguousarray(arr, dtype="<f8").tobytes()).hexdigest()


def decode_array(obj: dict, base: Path | None) -> np.ndarray:
    """The array stored in ``obj``: float64 ndarray, or an object ndarray of Fractions for ``rational``.

    A file reference is resolved inside ``base`` (the certificate's folder) and its sha256 checked.
    """
    if obj.get("array") not in ("float64", "rational"):
        raise _error(f"unknown array type {obj.get('array')!r}: expected 'float64' or 'rational'")
    shape = tuple(obj["shape"])
    size = math.prod(shape)
    if "data" in obj:
        data = obj["data"]
        if len(data) != size:
            raise _error(f"array has {len(data)} entries but shape {list(shape)}")
        if obj["array"] == "rational":
            return np.array([decode_number(v) for v in data] or [], dtype=object).reshape(shape)
        if all(type(v) is float for v in data):  # JSON floats are binary64 already: only finiteness to check
            arr = np.array(data, dtype=np.float64)
            if not np.isfinite(arr).all():
                raise _error("not a finite number in a float64 array")
            return arr.reshape(shape)
        return np.array([float(decode_number(v)) for v in data], dtype=np.float64).reshape(shape)
    if base is None:
        raise _error("an array stored in a file needs the certificate's folder")
    rel = Path(obj["path"])
    if rel.is_absolute() or ".." in rel.parts:
        raise _error(f"data path {obj['path']!r} must be relative and stay beside the certificate")
    if not (base / rel).is_file():
        raise DataMissing(f"data file {obj['path']} is missing (expected at {base / rel}): copy the certificate "
                          f"with its {DATA_DIR}/ folder")
    try:
        arr = np.load(base / rel, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise _error(f"data file {obj['path']} cannot be read: {exc}".splitlines()[0]) from None
    if arr.dtype != np.float64 or arr.size != size:
        raise _error(f"data file {obj['path']} holds {arr.dtype} {list(arr.shape)}, expected float64 {list(shape)}")
    arr = arr.reshape(shape)  # files are named by content: arrays of one content share a file whatever their shape
    if array_sha256(arr) != obj["sha256"]:
        raise DataMismatch(f"data file {obj['path']} does not match its sha256 (the data changed)")
    return arr


class DataMismatch(ValueError):
    """A data file that exists but whose contents differ from the recorded sha256."""


class DataMissing(FileNotFoundError):
    """A data or code file the certificate names is not beside it: the certificate cannot be re-checked here."""


def jsonable(x: Any) -> Any:
    """Plain JSON data from evidence: numpy scalars/arrays, tuples, Fractions; non-finite floats as strings."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        if all(type(v) is float for v in x) and all(map(math.isfinite, x)):
            return list(x)  # plain finite floats (encode_array's data) as they are, without a call per entry
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "iuf" and np.isfinite(x).all():
            return x.tolist()  # plain ints and finite floats already
        return jsonable(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, Fraction):
        return encode_number(x)
    if isinstance(x, (np.integer, int)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else repr(float(x))
    if x is None or isinstance(x, str):
        return x
    if hasattr(x, "value") and isinstance(getattr(x, "value"), str):  # str enums
        return x.value
    raise _error(f"cannot store a {type(x).__name__} in a certificate")


# ---------------------------------------------------------------- envelope and digest
def tool_versions() -> dict:
    """Versions of the tools that produced the certificate (digested: same tools, same digest); read from the
    installed distributions' metadata, so SymPy is not imported for it."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:  # pragma: no cover - plproof running from a source tree
            return "unknown"

    return {"plproof": of("plproof"), "python": platform.python_version(), "numpy": np.__version__,
            "sympy": of("sympy"), "mpmath": of("mpmath")}


def envelope(kind: str, *, theorem: str, inputs: dict, hints: dict, evidence: dict, record: dict | None = None,
             words: str = "", symbols: str = "") -> dict:
    """A sealed certificate dict of ``kind``: see the module docstring for the fields."""
    if kind not in KINDS:
        raise _error(f"unknown certificate kind {kind!r}: use one of {', '.join(KINDS)}")
    cert = {
        "format": FORMAT, "version": VERSION, "kind": kind,
        "claim": {"theorem": theorem, "words": words, "symbols": symbols},
        "rigor": evidence.get("rigor", "sampled"),
        "inputs": jsonable(inputs), "hints": jsonable(hints), "evidence": jsonable(evidence),
        "record": jsonable(record or {}), "tool": tool_versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return seal(cert)


def code_reference(path: str | os.PathLike, **extra: Any) -> dict:
    """A file of code a certificate depends on: its absolute path (made relative to the certificate when
    written) and its sha256."""
    path = Path(path).resolve()
    try:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise _error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return {"path": str(path), "sha256": sha, **extra}


def leaves(x: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON value as (dotted path, value); list entries are numbered."""
    if isinstance(x, dict) and x:
        for k, v in x.items():
            yield from leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(x, list) and x:
        for i, v in enumerate(x):
            yield from leaves(v, f"{prefix}.{i}")
    else:
        yield prefix, x


def is_neutral(kind: str, path: str) -> bool:
    """Whether the field at dotted ``path`` of a ``kind`` certificate is listed in NEUTRAL_FIELDS."""
    import fnmatch

    return any(fnmatch.fnmatchcase(path, p) for p in NEUTRAL_FIELDS["*"] + NEUTRAL_FIELDS.get(kind, ()))


def canonical_json(obj: Any) -> str:
    """Sorted keys, separators (",", ":"), ASCII only, no NaN: one byte string per value."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _error(f"not storable as canonical JSON: {exc}") from None


def digest(cert: dict) -> str:
    """``sha256:<hex>`` of the canonical JSON of everything except the creation time and the digest."""
    body = {k: v for k, v in cert.items() if k not in UNDIGESTED}
    return "sha256:" + hashlib.sha256(canonical_json(body).encode("ascii")).hexdigest()


def seal(cert: dict) -> dict:
    """``cert`` with its digest (re)computed."""
    out = dict(cert)
    out["digest"] = digest(out)
    return out


# ---------------------------------------------------------------- schema
@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    return importlib.resources.files("plproof.certificate").joinpath("schema.json").read_text("utf-8")


def schema() -> dict:
    """The JSON Schema shipped in the package (plproof/certificate/schema.json)."""
    return json.loads(_schema_text())


@functools.lru_cache(maxsize=1)
def _jsonschema_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def validator_name() -> str:
    """Which schema validator :func:`validate` uses here."""
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return "built-in structural check (install jsonschema for full JSON Schema validation)"
    return "jsonschema"


def validate(cert: Any) -> str:
    """Raise CertificateError unless ``cert`` matches the schema; returns which validator ran."""
    try:
        import jsonschema
    except ImportError:
        sch = schema()
        problem = _subset_check(cert, sch, sch, "$")
        if problem:
            raise _error(f"does not match the certificate schema: {problem}")
        return validator_name()
    try:
        _jsonschema_validator().validate(cert)
    except jsonschema.ValidationError as exc:
        where = "$" + "".join(f"[{p!r}]" for p in exc.absolute_path)
        raise _error(f"does not match the certificate schema at {where}: {exc.message}"[:300]) from None
    return "jsonschema"


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _subset_check(x: Any, node: dict, root: dict, where: str) -> str | None:
    """The subset of JSON Schema the certificate schema uses; the first mismatch or None."""
    if "$ref" in node:
        return _subset_check(x, root["$defs"][node["$ref"].rsplit("/", 1)[1]], root, where)
    if "anyOf" in node and all(_subset_check(x, n, root, where) for n in node["anyOf"]):
        return f"{where}: matches none of the allowed forms"
    for sub in node.get("allOf", ()):
        applies = "if" not in sub or _subset_check(x, sub["if"], root, where) is None
        found = _subset_check(x, sub.get("then", sub), root, where) if applies else None
        if found:
            return found
    t = node.get("type")
    if t is not None:
        kinds = t if isinstance(t, list) else [t]
        ok = any(isinstance(x, (int, float)) and not isinstance(x, bool) if k == "number" else
                 isinstance(x, int) and not isinstance(x, bool) if k == "integer" else isinstance(x, _TYPES[k])
                 for k in kinds)
        if not ok:
            return f"{where}: expected {t}, got {type(x).__name__}"
    if "const" in node and x != node["const"]:
        return f"{where}: must be {node['const']!r}"
    if "enum" in node and x not in node["enum"]:
        return f"{where}: must be one of {node['enum']}"
    if isinstance(x, (int, float)) and not isinstance(x, bool) and "minimum" in node and x < node["minimum"]:
        return f"{where}: below {node['minimum']}"
    if isinstance(x, str) and "pattern" in node:
        import re

        if not re.search(node["pattern"], x):
            return f"{where}: does not match {node['pattern']}"
    if isinstance(x, dict):
        for key in node.get("required", ()):
            if key not in x:
                return f"{where}: missing {key!r}"
        props = node.get("properties", {})
        for key, value in x.items():
            sub = props.get(key, node.get("additionalProperties", True))
            if sub is False:
                return f"{where}: unexpected field {key!r}"
            if isinstance(sub, dict):
                found = _subset_check(value, sub, root, f"{where}.{key}")
                if found:
                    return found
    if isinstance(x, list) and isinstance(node.get("items"), dict):
        for i, value in enumerate(x):
            found = _subset_check(value, node["items"], root, f"{where}[{i}]")
            if found:
                return found
    return None


# ---------------------------------------------------------------- writing
def _objects(x: Any, wanted: Any) -> Iterator[dict]:
    """Every dict inside ``x`` (not below one already yielded) for which ``wanted(d)`` is true."""
    if isinstance(x, dict):
        if wanted(x):
            yield x
            return
        x = list(x.values())
    if isinstance(x, list):
        for v in x:
            yield from _objects(v, wanted)


def _inline_array(d: dict) -> bool:
    return d.get("array") == "float64" and "data" in d


def _absolute_code_reference(d: dict) -> bool:
    """A :func:`code_reference` whose path is still absolute (made relative when written)."""
    return "sha256" in d and "array" not in d and os.path.isabs(str(d.get("path", "")))


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write plain JSON (an index, a summary) atomically: a whole file or none."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())
    return path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, fsync and os.replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; a certificate is read by others (the user's umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _npy_bytes(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr, dtype="<f8"), allow_pickle=False)
    return buf.getvalue()


def write_certificate(cert: dict, path: str | os.PathLike) -> Path:
    """Validate, move large arrays to ``data/<sha256>.npy`` beside ``path``, reseal and write atomically.

    Data files are named by content, so concurrent writers of the same data write identical bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = copy.deepcopy(cert)
    for ref in _objects(out.get("inputs", {}), _absolute_code_reference):
        ref["path"] = Path(os.path.relpath(ref["path"], path.parent.resolve())).as_posix()
    for obj in _objects([out.get("inputs", {}), out.get("hints", {})], _inline_array):
        if len(obj["data"]) > INLINE_LIMIT:
            arr = np.array(obj["data"], dtype=np.float64).reshape(obj["shape"])
            sha = array_sha256(arr)
            rel = f"{DATA_DIR}/{sha}.npy"
            (path.parent / DATA_DIR).mkdir(exist_ok=True)
            if not (path.parent / rel).exists():
                atomic_write(path.parent / rel, _npy_bytes(arr))
            del obj["data"]
            obj.update(sha256=sha, path=rel)
    out = seal(out)
    validate(out)
    atomic_write(path, (json.dumps(out, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False) + "\n")
                  .encode("ascii"))
    return path


# ---------------------------------------------------------------- loading
def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return dict(pairs)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} overflows a float")
    return value


def _float_range_int(text: str) -> int:
    value = int(text)
    if abs(value) >= 2**1024:
        raise ValueError(f"integer with {len(text)} digits is beyond the float range (store it as a 'p/q' string)")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_certificate(path: str | os.PathLike) -> dict:
    """Read, parse and schema-check a certificate; CertificateError with one line if it cannot be used."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _error(f"{path}: no such file") from None
    except OSError as exc:
        raise _error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        cert = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_float=_finite_float,
                          parse_int=_float_range_int, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise _error(f"{path}: not a JSON certificate ({message})") from None
    if not isinstance(cert, dict) or cert.get("format") != FORMAT:
        raise _error(f"{path}: not a plproof certificate (no \"format\": \"{FORMAT}\")")
    if cert.get("version") != VERSION:
        raise _error(f"{path}: certificate format version {cert.get('version')!r} is not supported "
                     f"(this plproof reads version {VERSION}: write the certificate again with it)")
    try:
        validate(cert)
    except RecursionError:
        raise _error(f"{path}: nested too deeply to be a certificate") from None
    except Exception as exc:  # the schema message already says where
        raise _error(f"{path}: {exc}") from None
    return cert
