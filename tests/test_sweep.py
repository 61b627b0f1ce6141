"""plproof sweep: a width grid on a 2-worker Dask LocalCluster, resuming after an interruption, the
width^(-1/2) slope of the Hessian bound (docs/theory.md §8), the plot, and the CLI."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from pathlib import Path

import numpy as np

import pytest

from plproof.certificate import load_certificate
from plproof.certificate.format import decode_array
from plproof.errors import InvalidInput, MissingDependency
from plproof.sweep import PLOT_FILE, SUMMARY_CSV, SweepSpec, certificate_path, compute_point, run_sweep

pytest.importorskip("distributed", reason="the sweep extra (dask[distributed]) is not installed")

#: softplus: its S2/S1 = 1/4 keeps the sqrt(2 ln 2m) growth of ||v0||_inf a small part of epsilon, so the
#: fitted slope sits near -1/2 (about -0.46 here; tanh shows about -0.41 over the same widths)
SPEC = SweepSpec(widths=[2**k for k in range(3, 12)], seeds=[0], ns=[8], activations=["softplus"], d=16,
                 confirm=False)


class Stop(KeyboardInterrupt):
    """Raised from the progress callback: the sweep is interrupted the way Ctrl-C interrupts it."""


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


@pytest.mark.slow  # 30-40 s; test_serial_run_gives_the_certificates_dask_gives and test_cli_sweep cover the sweep
def test_interrupted_sweep_resumes_without_recomputing_and_fits_the_width_slope(tmp_path, cluster):
    seen = []

    def stop_after_three(point, row, error):
        assert error is None and row["verdict"] == "certified"
        seen.append(point.key)
        if len(seen) == 3:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(SPEC, tmp_path, workers=2, on_result=stop_after_three)  # its own LocalCluster
    done = {p.key: certificate_path(tmp_path, p) for p in SPEC.points() if certificate_path(tmp_path, p).exists()}
    assert set(done) == set(seen)
    with open(tmp_path / SUMMARY_CSV) as fh:  # the summary streamed as the points finished
        assert {r["key"] for r in csv.DictReader(fh)} == set(seen)
    mtimes = {k: p.stat().st_mtime_ns for k, p in done.items()}
    torn = next(p for p in SPEC.points() if p.key not in done)
    certificate_path(tmp_path, torn).write_text('{"format": "plproof-certificate", "vers')  # a torn write

    result = run_sweep(SPEC, tmp_path, scheduler=cluster.scheduler_address)
    assert sorted(result.reused) == sorted(seen)
    assert sorted(result.computed) == sorted(p.key for p in SPEC.points() if p.key not in done)
    assert torn.key in result.computed and not result.failed
    assert {k: p.stat().st_mtime_ns for k, p in done.items()} == mtimes
    assert len(result.rows) == 9 and all(r["verdict"] == "certified" for r in result.rows)
    for p in SPEC.points():
        cert = load_certificate(certificate_path(tmp_path, p))
        assert cert["inputs"]["model"]["width"] == p.width and cert["evidence"]["verdict"] == "certified"

    slope = result.slope("epsilon", n=8, activation="softplus")
    assert -0.6 <= slope <= -0.4
    eps = [r["epsilon_hi"] for r in result.rows]
    assert all(a > b for a, b in zip(eps, eps[4:]))  # quadrupling the width always lowers the bound
    assert result.slope("mu") is None and all(r["mu_lo"] > 0 for r in result.rows)  # mu is not fitted
    png = tmp_path / PLOT_FILE
    assert str(png) in result.files and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000

    again = run_sweep(SPEC, tmp_path, scheduler=cluster.scheduler_address)
    assert again.computed == [] and len(again.reused) == 9 and again.fits == result.fits


def test_serial_run_gives_the_certificates_dask_gives(tmp_path, cluster):
    spec = SweepSpec(widths=[8, 64], seeds=[0, 1], ns=[4, 8], activations=["tanh"], d=8, confirm=False)
    on_dask = run_sweep(spec, tmp_path / "dask", scheduler=cluster.scheduler_address, plot_summary=False)
    serial = run_sweep(spec, tmp_path / "serial", serial=True, plot_summary=False)
    strip = ("certificate",)
    assert [{k: v for k, v in r.items() if k not in strip} for r in on_dask.rows] == \
           [{k: v for k, v in r.items() if k not in strip} for r in serial.rows]
    for p in spec.points():
        assert load_certificate(certificate_path(tmp_path / "dask", p))["digest"] == \
               load_certificate(certificate_path(tmp_path / "serial", p))["digest"]
    assert not (tmp_path / "serial" / PLOT_FILE).exists()


def test_a_folder_with_other_settings_is_refused(tmp_path):
    run_sweep(SweepSpec(widths=[8], ns=[4], d=8, confirm=False), tmp_path, serial=True, plot_summary=False)
    with pytest.raises(InvalidInput, match="scale"):
        run_sweep(SweepSpec(widths=[8], ns=[4], d=8, scale=0.5, confirm=False), tmp_path, serial=True)
    grown = run_sweep(SweepSpec(widths=[8, 16], ns=[4], d=8, confirm=False), tmp_path, serial=True,
                      plot_summary=False)  # a larger grid with the same settings reuses what is done
    assert grown.reused == ["n4-tanh-s0-w8"] and grown.computed == ["n4-tanh-s0-w16"]


def test_not_certified_points_get_a_certificate_too(tmp_path):
    spec = SweepSpec(widths=[2], ns=[6], d=3, scale=0.5, init="standard", confirm=False)
    point = spec.points()[0]
    cert = compute_point(spec, point)
    assert cert["evidence"]["verdict"] != "certified"
    result = run_sweep(spec, tmp_path, serial=True)
    assert result.rows[0]["verdict"] == cert["evidence"]["verdict"] and result.fits == []


@pytest.mark.parametrize("kwargs, match", [
    ({"widths": []}, "widths is empty"), ({"widths": [0]}, "widths must be integers >= 1"),
    ({"widths": [8], "seeds": [-1]}, "seeds"), ({"widths": [8], "activations": ["nope"]}, "unknown activation"),
    ({"widths": [7]}, "even"), ({"widths": [8], "bounds": "loose"}, "bounds"),
    ({"widths": [8], "rigor": "proved"}, "rigor"), ({"widths": [8], "scale": -1.0}, "scale"),
])
def test_bad_grids_are_refused(kwargs, match):
    with pytest.raises(InvalidInput, match=match):
        SweepSpec(**kwargs)


def test_without_dask_the_message_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependency, match=r"plproof\[sweep\].*--serial"):
        run_sweep(SweepSpec(widths=[8], ns=[4], d=8, confirm=False), tmp_path)


def test_cli_sweep(tmp_path, capsys):
    from plproof.cli import sweep as cli

    assert cli.int_list("2^3..2^5,100") == [8, 16, 32, 100] and cli.int_list("0..2") == [0, 1, 2]
    with pytest.raises(argparse.ArgumentTypeError):
        cli.int_list("3^1..3^2")
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sweep", "--widths", "2^3..2^4", "--n", "4", "--d", "8", "--no-confirm",
                              "--serial", "--out", f"{tmp_path}/"])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    assert "2 computed, 0 already done, 0 failed; 2 of 2 certified" in out
    assert "epsilon ~ width^" in out and (tmp_path / PLOT_FILE).exists()
    assert f"summary: {tmp_path / SUMMARY_CSV}, plot: {tmp_path / PLOT_FILE}" in out  # not dir//summary.csv
    assert args.run(args) == 0 and "0 computed, 2 already done" in capsys.readouterr().out


def test_cli_sweep_on_the_users_data(tmp_path, capsys):
    """Issue 14: ``sweep --data FILE`` certifies on the user's data set; the folder remembers which data it was."""
    from plproof.cli.main import main
    from plproof.data import uniform_targets, unit_inputs

    X, y = unit_inputs(5, 6, 3), uniform_targets(5, 0.01, 3)
    np.savetxt(tmp_path / "mine.csv", np.column_stack([X, y]), delimiter=",", header="a,b,c,d,e,f,y", comments="")
    argv = ["sweep", "--widths", "8,16", "--data", str(tmp_path / "mine.csv"), "--serial", "--no-confirm",
            "--no-plot", "--out", str(tmp_path / "s")]
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["computed"] == ["n5-tanh-s0-w8", "n5-tanh-s0-w16"] and doc["certified"] == 2
    path = Path(doc["rows"][0]["certificate"])
    inputs = load_certificate(path)["inputs"]
    assert np.array_equal(decode_array(inputs["model"]["X"], path.parent), X)
    assert np.array_equal(decode_array(inputs["y"], path.parent), y)
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines() == ["0 computed, 2 already done, 0 failed; 2 of 2 certified"]
    np.savetxt(tmp_path / "mine.csv", np.column_stack([X, 2 * y]), delimiter=",")
    assert main(argv) == 2 and "other settings (data)" in capsys.readouterr().err
    assert main([*argv, "--n", "4"]) == 2 and "--n describe the synthetic data" in capsys.readouterr().err


def test_cli_sweep_at_rigor_sampled_does_not_claim_proof(tmp_path, capsys):
    from plproof.cli.main import main

    assert main(["sweep", "--widths", "8", "--n", "4", "--d", "8", "--rigor", "sampled", "--serial", "--no-confirm",
                 "--no-plot", "--quiet", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("1 of 1 certified at rigor sampled (estimates, not proved)")
