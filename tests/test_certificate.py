"""Certificate format: exact numbers, canonical JSON and digest, schema, atomic and concurrent writes, loader errors."""

from __future__ import annotations

import json
import multiprocessing
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from plproof.certificate import format as fmt
from plproof.certificate import from_evidence, load_certificate, write_certificate
from plproof.routes.ball import check
from plproof.errors import CertificateError
from plproof.suite import BUILTIN_PROBLEMS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def linear_cert() -> dict:
    problem = BUILTIN_PROBLEMS["linear-exact"]()
    return from_evidence(check(problem), problem)


def test_numbers_round_trip_exactly():
    for x in (Fraction(1, 3), Fraction(-7, 2**60), 0.1, 1e-308, 2.0**-1074, 7, -0.0):
        stored = json.loads(json.dumps(fmt.encode_number(x)))
        assert fmt.decode_number(stored) == Fraction(x)
    assert fmt.decode_number(fmt.encode_number(float("inf"))) == float("inf")
    with pytest.raises(CertificateError):
        fmt.encode_number(float("nan"))


def test_same_inputs_same_digest_and_bytes_apart_from_creation_time(linear_cert, tmp_path):
    problem = BUILTIN_PROBLEMS["linear-exact"]()
    again = from_evidence(check(problem), problem)
    assert again["digest"] == linear_cert["digest"]
    a = write_certificate(linear_cert, tmp_path / "a.json").read_text().splitlines()
    b = write_certificate({**again, "created": "2000-01-01T00:00:00+00:00"}, tmp_path / "b.json").read_text().splitlines()
    differ = [(x, y) for x, y in zip(a, b) if x != y]
    assert len(a) == len(b) and len(differ) == 1 and '"created"' in differ[0][0]


def test_digest_excludes_only_creation_time(linear_cert):
    assert fmt.digest({**linear_cert, "created": "x"}) == linear_cert["digest"]
    changed = json.loads(json.dumps(linear_cert))
    changed["evidence"]["quantities"]["mu"]["lo"] = 2.0
    assert fmt.digest(changed) != linear_cert["digest"]
    body = {k: v for k, v in linear_cert.items() if k not in ("created", "digest")}
    assert fmt.canonical_json(body) == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def test_schema_ships_in_package_and_in_certificates_folder():
    shipped = fmt.schema()
    copy = json.loads((ROOT / "certificates/schema/certificate-2.json").read_text())
    assert shipped == copy and shipped["properties"]["version"]["const"] == fmt.VERSION


def test_written_certificates_validate_with_jsonschema_and_builtin(linear_cert, tmp_path, monkeypatch):
    path = write_certificate(linear_cert, tmp_path / "c.json")
    cert = load_certificate(path)
    assert fmt.validate(cert) == "jsonschema"
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # as if not installed
    assert fmt.validate(cert).startswith("built-in structural check")
    bad = json.loads(json.dumps(cert))
    bad["evidence"]["quantities"]["mu"]["rigor"] = "proved"
    with pytest.raises(CertificateError, match="rigor"):
        fmt.validate(bad)
    del bad["evidence"]["quantities"]["mu"]
    bad["claim"]["theorem"] = 3
    with pytest.raises(CertificateError, match="theorem"):
        fmt.validate(bad)


def test_large_arrays_go_to_npy_files_checked_by_sha256(linear_cert, tmp_path, monkeypatch):
    monkeypatch.setattr(fmt, "INLINE_LIMIT", 3)
    path = write_certificate(linear_cert, tmp_path / "c.json")
    cert = load_certificate(path)
    X = cert["inputs"]["model"]["X"]
    assert "data" not in X and X["path"].startswith("data/") and (tmp_path / X["path"]).is_file()
    assert np.array_equal(fmt.decode_array(X, tmp_path), np.array([[1, 2, 0, 1], [0, 1, 1, -1]], float))
    np.save(tmp_path / X["path"], np.array([[1, 2, 0, 1], [0, 1, 1, -2]], float))
    with pytest.raises(fmt.DataMismatch):
        fmt.decode_array(X, tmp_path)


def test_atomic_write_leaves_no_temporary_files(linear_cert, tmp_path):
    for i in range(3):
        write_certificate(linear_cert, tmp_path / "same.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.json"]


def _writer(args: tuple[str, int]) -> None:
    folder, seed = args
    cert = json.loads(Path(folder, "template.json").read_text())
    for i in range(25):
        cert["record"] = {"writer": seed, "i": i}
        write_certificate(cert, Path(folder) / f"cert-{i % 5}.json")  # both writers hit the same 5 names


def test_two_processes_writing_one_folder_leave_whole_valid_files(linear_cert, tmp_path, monkeypatch):
    monkeypatch.setattr(fmt, "INLINE_LIMIT", 3)  # also race on the shared data files
    (tmp_path / "template.json").write_text(json.dumps(linear_cert))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=((str(tmp_path), s),)) for s in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["cert-0.json", "cert-1.json", "cert-2.json", "cert-3.json", "cert-4.json", "template.json"]
    for i in range(5):
        cert = load_certificate(tmp_path / f"cert-{i}.json")
        assert fmt.digest(cert) == cert["digest"] and cert["record"]["i"] % 5 == i


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"{not json", "not a JSON certificate"),
    (b"\xff\xfe", "not a JSON certificate"),
    (b'{"format": "plproof-certificate", "version": 1, "kind": "problem", "x": NaN}', "NaN"),
    (b'{"format": "plproof-certificate", "version": 1, "v": 1e999}', "overflows"),
    (b'{"format": "plproof-certificate", "format": "plproof-certificate"}', "duplicate key"),
    (b'{"format": "plproof-certificate", "version": 3}', "version 3 is not supported"),
    (b'{"format": "plproof-certificate", "version": 1}', "version 1 is not supported"),
    (b"[1, 2]", "not a plproof certificate"),
    (b'{"format": "plproof-certificate", "version": 2}', "schema"),
])
def test_loader_errors_are_one_line(tmp_path, content, message):
    path = tmp_path / "c.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CertificateError, match=message) as err:
        load_certificate(path)
    assert "\n" not in str(err.value)


def test_jsonable_keeps_plain_float_lists_and_still_converts_the_rest():
    """The fast path for lists of plain finite floats gives what the entrywise path gives."""
    plain = [0.1, -2.5, 1e-300]
    assert fmt.jsonable(plain) == plain and fmt.jsonable(tuple(plain)) == plain
    assert fmt.jsonable([1.0, float("inf"), float("nan")]) == [1.0, "inf", "nan"]
    mixed = fmt.jsonable([np.float64(1.5), 2.0, np.int64(3), Fraction(1, 3), True])
    assert mixed == [1.5, 2.0, 3, fmt.encode_number(Fraction(1, 3)), True]
    assert [type(v) for v in mixed[:3]] == [float, float, int]
