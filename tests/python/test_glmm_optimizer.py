"""The optimizer of a generalized linear mixed model fit: ``optimizer="auto"`` (the
quasi-Newton method with the exact Laplace gradient, BOBYQA as fallback and for
nAGQ > 1), ``"bfgs"`` and ``"bobyqa"`` reach the same optimum (objective within 1e-9
relative; lme4's value for cbpp from ``tests/fixtures/glmm_cbpp_binomial.json``), with
fewer evaluations than BOBYQA needs (cbpp: 46), the optimizer of each stage in the fit
record and the certificate passing; a bad optimizer name is refused."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

CBPP = "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"
FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "glmm_cbpp_binomial.json"


@pytest.fixture(scope="module")
def cbpp():
    return mm.dataset("cbpp")


def test_every_optimizer_reaches_the_same_optimum(cbpp):
    fits = {
        o: mm.glmm(CBPP, cbpp, family="binomial", optimizer=o) for o in ("auto", "bfgs", "bobyqa")
    }
    ref = fits["bobyqa"].objective
    fx = json.loads(FIXTURE.read_text())
    lme4_err = abs(fx["objective_at"][0]["value"] - fx["objective_at"][0]["value_exact"])
    for name, m in fits.items():
        o = m.optsum
        assert o["optimizer"] == name
        assert m.objective <= ref + 1e-9 * abs(ref), name
        assert -2 * m.loglikelihood() <= fx["objective"] * (1 + 1e-6) + lme4_err, name
        assert o["certificate"]["status"] == "certified"
        assert o["certificate"]["method"] == "analytic"
    stages = {
        n: [(s["stage"], s["optimizer"]) for s in m.optsum["stages"]] for n, m in fits.items()
    }
    # The θ stage (β from PIRLS) to a loose tolerance gives the joint stage its start.
    assert stages["auto"] == stages["bfgs"] == [("theta", "BFGS"), ("joint", "BFGS")]
    assert stages["bobyqa"] == [("theta", "BOBYQA"), ("joint", "BOBYQA")]
    auto, bobyqa = fits["auto"].optsum, fits["bobyqa"].optsum
    # A bound the BOBYQA path does not meet.
    assert bobyqa["evaluations"] >= 30
    assert auto["evaluations"] < 30
    assert bobyqa["gradient_evaluations"] == 0
    assert 0 < auto["gradient_evaluations"] <= auto["evaluations"]
    assert 0 < auto["evaluations_fast_stage"] < auto["evaluations"]
    assert auto["evaluations"] == fits["auto"].fitlog().height


def test_the_fit_method_takes_the_keyword(cbpp):
    m = mm.GeneralizedLinearMixedModel(CBPP, cbpp, "binomial")
    m.fit(fast=True, optimizer="bobyqa")
    assert [s["optimizer"] for s in m.optsum["stages"]] == ["BOBYQA"]
    m.fit(fast=True)
    assert m.optsum["optimizer"] == "auto"
    assert [(s["stage"], s["optimizer"]) for s in m.optsum["stages"]] == [("theta", "BFGS")]
    # nAGQ > 1: the joint stage on the quadrature objective with its gradient,
    # to BOBYQA's optimum or better.
    m.fit(nagq=5)
    assert [s["optimizer"] for s in m.optsum["stages"]] == ["BFGS", "BFGS"]
    assert m.optsum["certificate"]["method"] == "analytic"
    f5 = m.objective
    m.fit(nagq=5, optimizer="bobyqa")
    assert {s["optimizer"] for s in m.optsum["stages"]} == {"BOBYQA"}
    assert f5 <= m.objective + 1e-9 * f5


@pytest.mark.parametrize("value", ["lbfgs", "Auto", ""])
def test_an_unknown_optimizer_is_refused(cbpp, value):
    with pytest.raises(mm.ArgumentError) as e:
        mm.glmm(CBPP, cbpp, family="binomial", optimizer=value)
    assert e.value.parameter == "optimizer"
    m = mm.GeneralizedLinearMixedModel(CBPP, cbpp, "binomial")
    # The native method refuses it too, with the same error.
    with pytest.raises(mm.ArgumentError) as e:
        m._core.fit(False, 1, value)
    assert e.value.parameter == "optimizer"
    assert not m._core.is_fitted


def test_auto_keeps_bobyqa_when_crossed_factors_fill_a_large_dense_block():
    # 2,400 × 1,100 crossed levels: L's block for the 1,100-level factor is dense and
    # larger than the gradient's limit (1,024: its selected inverse would cost more than
    # BFGS saves), so `auto` fits by BOBYQA; `bfgs` still may, to the same optimum.
    rng = np.random.default_rng(5)
    n, ng, nh = 12000, 2400, 1100
    g, h, x = rng.integers(0, ng, n), rng.integers(0, nh, n), rng.normal(size=n)
    eta = -0.3 + 0.5 * x + rng.normal(0, 0.6, ng)[g] + rng.normal(0, 0.5, nh)[h]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    d = pl.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g], "h": [f"h{i}" for i in h]})
    f = "y ~ 1 + x + (1 | g) + (1 | h)"
    auto = mm.glmm(f, d, family="bernoulli")
    bfgs = mm.glmm(f, d, family="bernoulli", optimizer="bfgs")
    assert {s["optimizer"] for s in auto.optsum["stages"]} == {"BOBYQA"}
    assert {s["optimizer"] for s in bfgs.optsum["stages"]} == {"BFGS"}
    assert abs(auto.objective - bfgs.objective) <= 1e-9 * auto.objective
