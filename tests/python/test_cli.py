"""``python -m mixedmodels``: summary formats, weights and offset columns, GLMM options
and one-line errors with exit status 2 (called through ``main(argv)``, plus one real
subprocess run)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm
from mixedmodels.__main__ import main

DYESTUFF = ["Yield ~ 1 + (1 | Batch)", "dyestuff"]


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "latex"])
def test_formats_print_the_summary(fmt, capsys):
    assert main([*DYESTUFF, "--format", fmt]) == 0
    out = capsys.readouterr().out
    m = mm.lmm(DYESTUFF[0], mm.dataset("dyestuff"))
    assert out.rstrip("\n") == m.summary(format=fmt).rstrip("\n")


def test_reml(capsys):
    assert main([*DYESTUFF, "--reml"]) == 0
    m = mm.lmm(DYESTUFF[0], mm.dataset("dyestuff"), reml=True)
    assert capsys.readouterr().out.rstrip("\n") == m.summary().rstrip("\n")


def test_weights_and_offset_columns(tmp_path, capsys):
    d = mm.dataset("sleepstudy")
    d = d.with_columns(
        w=pl.Series(np.linspace(0.5, 2.0, d.height)), o=10.0 * pl.col("Days").cast(pl.Float64)
    )
    path = tmp_path / "sleep.parquet"
    d.write_parquet(path)
    f = "Reaction ~ 1 + Days + (1 | Subject)"
    assert main([f, str(path), "--weights", "w", "--offset", "o"]) == 0
    m = mm.lmm(f, d, weights="w", offset="o")
    assert capsys.readouterr().out.rstrip("\n") == m.summary().rstrip("\n")
    assert main([f, str(path), "--weights", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_glmm_options(capsys):
    f = "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"
    assert main([f, "cbpp", "--family", "binomial", "--link", "logit", "--nagq", "3"]) == 0
    m = mm.glmm(f, mm.dataset("cbpp"), family="binomial", link="logit", nagq=3)
    assert capsys.readouterr().out.rstrip("\n") == m.summary().rstrip("\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["y ~ 1 + (1 | g)", "no_such_data"],
        ["Yield ~ 1 + (1 | Nope)", "dyestuff"],
        ["Yield ~ 1 + (1 | Batch", "dyestuff"],
        [*DYESTUFF, "--nagq", "3"],
        [*DYESTUFF, "--family", "poisson", "--reml"],
        [*DYESTUFF, "--contrasts", "Batch"],
    ],
)
def test_bad_input_is_one_line_and_status_2(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1


def test_unknown_format_exits_nonzero(capsys):
    with pytest.raises(SystemExit) as exc:
        main([*DYESTUFF, "--format", "pdf"])
    assert exc.value.code == 2


def test_module_runs_as_a_program():
    run = subprocess.run(
        [sys.executable, "-m", "mixedmodels", *DYESTUFF, "--format", "markdown"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.lstrip().startswith("#") or "|" in run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "mixedmodels", "y ~ 1 + (1 | g)", "no_such_data"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
