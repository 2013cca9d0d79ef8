"""Degrees of freedom, t and F tests from Python against lmerTest / pbkrtest
(tests/fixtures/ddf_*.json, written by tests/fixtures/generate_ddf.R): Satterthwaite and
Kenward-Roger df within 1e-3 relative, F and t within 1e-4 relative, p within 1e-4
absolute (the full comparison of every fixture is tests/ddf_lmertest.rs); the typed
errors of bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(case: str) -> dict:
    return json.loads((FIXTURES / f"{case}.json").read_text())


def fit(case: str) -> tuple[mm.LinearMixedModel, dict]:
    fx = fixture(case)
    m = mm.lmm(fx["formula"], mm.dataset(fx["dataset"]), reml=fx["REML"])
    return m, fx


def close(got, want, rtol):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert np.all(np.abs(got - want) <= rtol * np.abs(want)), (got, want)


@pytest.fixture(scope="module")
def cake():
    return fit("ddf_cake_REML")


def test_coeftable_satterthwaite_and_kenward_roger(cake):
    m, fx = cake
    for ddf, key in [("satterthwaite", "satterthwaite"), ("kenward-roger", "kenward_roger")]:
        t = m.coeftable(ddf=ddf)
        assert t.columns == ["name", "estimate", "stderror", "df", "t", "p"]
        want = fx["coef"][key]
        close(t["df"], want["df"], 1e-3)
        close(t["t"], want["t"], 1e-4)
        assert np.max(np.abs(t["p"].to_numpy() - np.asarray(want["p"]))) <= 1e-4
    # Without ddf: the z table as before.
    assert m.coeftable().columns == ["name", "estimate", "stderror", "z", "p"]


@pytest.mark.parametrize("kind", [1, 2, 3])
@pytest.mark.parametrize("ddf", ["Satterthwaite", "Kenward-Roger"])
def test_anova_types(cake, kind, ddf):
    m, fx = cake
    want = next(b for b in fx["anova"] if b["type"] == kind and b["ddf"] == ddf)
    t = mm.anova(m, type=kind, ddf=ddf.lower())
    assert t.columns == ["term", "num_df", "den_df", "F", "p"]
    assert t["term"].to_list() == ["recipe", "temp", "recipe & temp"]
    assert t["num_df"].to_list() == [int(v) for v in want["num_df"]]
    close(t["den_df"], want["den_df"], 1e-3)
    close(t["F"], want["F"], 1e-4)
    assert np.max(np.abs(t["p"].to_numpy() - np.asarray(want["p"]))) <= 1e-4


def test_contrast_test_matches_contest(cake):
    m, fx = cake
    for block in fx["contest"]:
        ddf = block["ddf"].lower()
        t = m.contrast_test(block["L"], ddf=ddf)
        assert t["num_df"][0] == block["num_df"]
        close(t["den_df"], [block["den_df"]], 1e-3)
        close(t["F"], [block["F"]], 1e-4)


def test_wald_tests_without_ddf(cake):
    m, _ = cake
    t = mm.anova(m, type=1)
    assert t["den_df"].to_list() == [np.inf] * 3
    # The Wald F of one coefficient is its squared z.
    z = m.coeftable()["z"][3]
    one = mm.contrast_test(m, [0, 0, 0, 1, 0, 0])
    close(one["F"], [z * z], 1e-10)


def test_ml_fit_refuses_kenward_roger():
    m, fx = fit("ddf_sleepstudy_ML")
    assert fx["kr_ml_error"] is not None  # lmerTest refuses too
    with pytest.raises(mm.ArgumentError) as err:
        m.coeftable(ddf="kenward-roger")
    assert err.value.parameter == "ddf"
    close(m.coeftable(ddf="satterthwaite")["df"], fx["coef"]["satterthwaite"]["df"], 1e-3)


def test_glmm_keeps_z_and_refuses_ddf():
    fx = fixture("ddf_cbpp_binomial")
    m = mm.glmm(fx["formula"], mm.dataset("cbpp"), family=mm.Binomial())
    with pytest.raises(mm.ArgumentError) as err:
        m.coeftable(ddf="satterthwaite")
    assert err.value.parameter == "ddf"
    with pytest.raises(mm.ArgumentError) as err:
        mm.anova(m, ddf="kenward-roger")
    assert err.value.parameter == "ddf"
    a = mm.Anova(m, type=3)
    t = a.to_polars()
    assert t["term"].to_list() == ["period"] and t["num_df"].to_list() == [3]
    chisq = t["F"][0] * 3
    close([chisq], [fx["wald"][0]["chisq"]], 1e-3)
    text = a.render()
    assert "Wald" in text and "∞" in text
    assert "<table" in a.render("html")


def test_bad_arguments(cake):
    m, _ = cake
    with pytest.raises(mm.ArgumentError) as err:
        mm.anova(m, type=4)
    assert err.value.parameter == "type"
    with pytest.raises(mm.ArgumentTypeError) as err:
        mm.anova(m, type="III")
    assert err.value.parameter == "type"
    with pytest.raises(mm.ArgumentError) as err:
        m.coeftable(ddf="bogus")
    assert err.value.parameter == "ddf"
    with pytest.raises(mm.ArgumentTypeError) as err:
        m.coeftable(ddf=3)
    assert err.value.parameter == "ddf"
    with pytest.raises(mm.ArgumentError) as err:
        m.contrast_test([[1, 0]], ddf="satterthwaite")
    assert err.value.parameter == "L"
    with pytest.raises(mm.ArgumentError) as err:
        m.contrast_test([[0, 1, 0, 0, 0, 0]], rhs=[1, 2])
    assert err.value.parameter == "rhs"
    unfitted = mm.LinearMixedModel("angle ~ recipe + (1 | recipe:replicate)", mm.dataset("cake"))
    with pytest.raises(mm.NotFittedError):
        mm.anova(unfitted)


def test_anova_prints_through_the_presentation_layer(cake):
    m, _ = cake
    a = mm.Anova(m, type=3, ddf="satterthwaite")
    text = repr(a)
    assert text.splitlines()[0].startswith("Type 3 analysis of variance")
    assert "recipe & temp" in text
    assert isinstance(a.to_polars(), pl.DataFrame)
    assert "|" in a.render("markdown") and "tabular" in a.render("latex")
