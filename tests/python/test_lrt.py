"""Likelihood-ratio tests: the checks that the models may be compared (same family, rows,
response; nested), REML fits refitted by ML on copies, REML criteria compared directly."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"
INTERCEPT = "Reaction ~ 1 + (1 | Subject)"
RANDOM_INTERCEPT = "Reaction ~ 1 + Days + (1 | Subject)"


@pytest.fixture(scope="module")
def ss() -> pl.DataFrame:
    return mm.dataset("sleepstudy")


@pytest.fixture(scope="module")
def full(ss) -> mm.LinearMixedModel:
    return mm.lmm(SLEEP, ss)


def refusal(*models, check_nested=True):
    with pytest.raises(mm.ModelComparisonError) as err:
        mm.likelihoodratiotest(*models, check_nested=check_nested)
    e = err.value
    assert isinstance(e, mm.MixedModelError) and isinstance(e, ValueError)
    return type(e), e.model, e.other, e.reason


def test_other_response_is_refused(ss, full):
    logged = mm.lmm("log(Reaction) ~ 1 + (1 | Subject)", ss)
    assert refusal(logged, full) == (mm.ModelComparisonError, 2, 1, "response")
    # Same name, other values: the values count.
    scaled = ss.with_columns(pl.col("Reaction") * 1.001)
    assert refusal(mm.lmm(RANDOM_INTERCEPT, scaled), full) == (
        mm.ModelComparisonError,
        2,
        1,
        "response",
    )


def test_other_rows_are_refused(ss, full):
    subset = mm.lmm(INTERCEPT, ss.filter(pl.col("Days") < 9))
    assert refusal(subset, full) == (mm.ModelComparisonError, 2, 1, "rows")
    assert refusal(subset, full, check_nested=False)[3] == "rows"


def test_models_not_nested_are_refused_or_compared_on_request(ss, full):
    linear = mm.lmm(RANDOM_INTERCEPT, ss)
    root = mm.lmm("Reaction ~ 1 + sqrt(Days) + (1 + Days | Subject)", ss)
    assert refusal(linear, root) == (mm.NotNestedError, 1, 2, "fixed effects")
    t = mm.likelihoodratiotest(linear, root, check_nested=False)
    assert t["chisq"][1] == pytest.approx(linear.deviance() - root.deviance(), rel=1e-12)
    slope = mm.lmm("Reaction ~ 1 + Days + (0 + Days | Subject)", ss)
    quadratic = mm.lmm("Reaction ~ 1 + Days + abs2(Days) + (1 | Subject)", ss)
    assert refusal(slope, quadratic) == (mm.NotNestedError, 1, 2, "random effects")
    assert mm.LikelihoodRatioTest(slope, quadratic, check_nested=False).to_polars()[
        "dof"
    ].to_list() == [
        4,
        5,
    ]


def test_nested_reparametrisations_pass(ss, full):
    # Days as a factor (another column) spans Days; (1 | S) and (1 + Days || S) are
    # inside (1 + Days | S).
    with_factor = ss.with_columns(pl.col("Days").cast(pl.Int64).cast(pl.String).alias("D"))
    factor = mm.lmm("Reaction ~ 1 + D + (1 + Days | Subject)", with_factor)
    t = mm.likelihoodratiotest(mm.lmm(RANDOM_INTERCEPT, ss), full, factor)
    assert t["chisq_dof"].to_list()[1:] == [2, 8]
    zc = mm.LinearMixedModel(SLEEP, ss).zerocorr().fit()
    assert mm.likelihoodratiotest(zc, full)["chisq_dof"][1] == 1


def test_glmm_and_lmm_are_refused():
    gt = mm.dataset("grouseticks")
    lmm = mm.lmm("TICKS ~ 1 + (1 | BROOD)", gt)
    glmm = mm.glmm("TICKS ~ 1 + YEAR + (1 | BROOD)", gt, family="poisson")
    assert refusal(lmm, glmm) == (mm.ModelComparisonError, 2, 1, "family")
    # (the square-root link keeps η > 0; with BROOD, whose all-zero broods pull η to 0, the
    # fit is refused)
    sqrt = mm.glmm("TICKS ~ 1 + YEAR + HEIGHT + (1 | LOCATION)", gt, family="poisson", link="sqrt")
    assert refusal(glmm, sqrt, check_nested=False)[3] == "family"


def test_reml_fits_are_refitted_by_ml_on_copies(ss, full):
    r0 = mm.lmm(INTERCEPT, ss, reml=True)
    r1 = mm.lmm(SLEEP, ss, reml=True)
    before = (r0.objective, r1.objective, r1.theta.copy())
    with pytest.warns(mm.RefitWarning) as record:
        t = mm.likelihoodratiotest(r0, r1)
    warning = next(w.message for w in record if isinstance(w.message, mm.RefitWarning))
    assert warning.models == [1, 2] and isinstance(warning, mm.MixedModelWarning)
    ml = mm.likelihoodratiotest(mm.lmm(INTERCEPT, ss), full)
    np.testing.assert_allclose(t["chisq"][1], ml["chisq"][1], rtol=1e-10)
    np.testing.assert_allclose(t["deviance"].to_list(), ml["deviance"].to_list(), rtol=1e-10)
    # The models given are unchanged: still REML fits at their optimum.
    assert r0.reml and r1.reml
    assert (r0.objective, r1.objective) == before[:2]
    np.testing.assert_array_equal(r1.theta, before[2])
    # Only the REML fit among ML fits is refitted.
    with pytest.warns(mm.RefitWarning) as record:
        lrt = mm.LikelihoodRatioTest(mm.lmm(INTERCEPT, ss), r1)
    assert lrt.refitted == [2] and not lrt.reml
    np.testing.assert_allclose(lrt.to_polars()["chisq"][1], ml["chisq"][1], rtol=1e-10)


def test_refit_keeps_a_replaced_response(ss):
    y = np.log(ss["Reaction"].to_numpy())
    r0 = mm.LinearMixedModel(RANDOM_INTERCEPT, ss).fit(reml=True).refit(y=y)
    r1 = mm.LinearMixedModel("Reaction ~ 1 + Days + abs2(Days) + (1 | Subject)", ss)
    r1 = r1.fit(reml=True).refit(y=y)
    with pytest.warns(mm.RefitWarning):
        t = mm.likelihoodratiotest(r0, r1)
    m0 = mm.lmm("log(Reaction) ~ 1 + Days + (1 | Subject)", ss)
    m1 = mm.lmm("log(Reaction) ~ 1 + Days + abs2(Days) + (1 | Subject)", ss)
    np.testing.assert_allclose(t["deviance"].to_list(), [m0.deviance(), m1.deviance()], rtol=1e-8)


def test_reml_fits_with_the_same_fixed_effects_are_compared_directly(ss):
    r0 = mm.lmm(RANDOM_INTERCEPT, ss, reml=True)
    r1 = mm.lmm(SLEEP, ss, reml=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mm.RefitWarning)
        t = mm.likelihoodratiotest(r0, r1)
        lrt = mm.LikelihoodRatioTest(r0, r1)
    assert t["deviance"].to_list() == [r0.objective, r1.objective]
    assert t["chisq"][1] == pytest.approx(r0.objective - r1.objective, rel=1e-12)
    assert t["chisq_dof"][1] == 2
    assert lrt.reml and lrt.refitted == [] and lrt.to_polars().equals(t)


def test_arguments_are_checked(ss, full):
    with pytest.raises(mm.ArgumentTypeError) as err:
        mm.likelihoodratiotest(full, "model")
    assert err.value.parameter == "models"
    with pytest.raises(mm.NotFittedError):
        mm.likelihoodratiotest(mm.LinearMixedModel(INTERCEPT, ss), full)
    with pytest.raises(mm.ArgumentError) as err:  # simplest first
        mm.likelihoodratiotest(full, mm.lmm(INTERCEPT, ss))
    assert err.value.parameter == "models"
