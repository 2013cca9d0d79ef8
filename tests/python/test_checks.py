"""The checks that refuse or flag models as lme4 does: too few observations for a
grouping factor's levels or a term's random effects (``check_nobs``), formulas without
random effects, reversed random-effects terms, and fits whose residual variance is not
identified."""

from __future__ import annotations

import time
import warnings

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm


@pytest.fixture(scope="module")
def sleep() -> pl.DataFrame:
    d = mm.dataset("sleepstudy").with_row_index("id")
    return d.with_columns(
        pl.col("id").cast(pl.String),
        pl.col("Reaction").mean().over("Subject").alias("ym"),
        (pl.col("Reaction") > 300).alias("slow"),
        (pl.col("id").cast(pl.Float64) / 7).alias("x"),
    )


def recorded(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        value = fn()
    return value, [x.message for x in w if isinstance(x.message, mm.MixedModelWarning)]


def test_one_observation_per_level_is_refused_with_the_term_named(sleep):
    with pytest.raises(mm.DataError) as e:
        mm.lmm("Reaction ~ 1 + Days + (1 | id)", sleep)
    assert e.value.term == "id"
    with pytest.raises(mm.DataError):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | id)", sleep)


def test_check_nobs_warn_and_ignore_build_the_model(sleep):
    m, w = recorded(
        lambda: mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | id)", sleep, check_nobs="warn")
    )
    checks = [(x.check, x.term) for x in w if isinstance(x, mm.ModelCheckWarning)]
    assert checks == [("nobs_vs_nlev", "id"), ("nobs_vs_nre", "id")]
    m, w = recorded(lambda: mm.lmm("Reaction ~ 1 + Days + (1 | id)", sleep, check_nobs="ignore"))
    assert not [x for x in w if isinstance(x, mm.ModelCheckWarning)]
    assert m.nobs == 180


def test_as_many_random_effects_as_observations_is_refused(sleep):
    # Days as a factor: a 10-column term on 18 subjects, 180 random effects.
    f = "Reaction ~ 1 + Days + (1 + Days | Subject)"
    kw = {"contrasts": {"Days": mm.DummyCoding()}}
    with pytest.raises(mm.DataError) as e:
        mm.LinearMixedModel(f, sleep, **kw)
    assert e.value.term == "Subject"
    _, w = recorded(lambda: mm.LinearMixedModel(f, sleep, check_nobs="warn", **kw))
    assert [x.check for x in w if isinstance(x, mm.ModelCheckWarning)] == ["nobs_vs_nre"]


def test_glmm_follows_glmer_rule(sleep):
    # glmer allows as many levels (and random effects) as observations, not more.
    m = mm.GeneralizedLinearMixedModel("slow ~ 1 + Days + (1 | id)", sleep, "bernoulli")
    assert m.nobs == 180
    f = "slow ~ 1 + Days + (1 + x | id)"
    with pytest.raises(mm.DataError) as e:
        mm.GeneralizedLinearMixedModel(f, sleep, "bernoulli")
    assert e.value.term == "id"
    _, w = recorded(
        lambda: mm.GeneralizedLinearMixedModel(f, sleep, "bernoulli", check_nobs="warn")
    )
    assert [x.check for x in w if isinstance(x, mm.ModelCheckWarning)] == ["nobs_vs_nre"]


@pytest.mark.parametrize("build", [mm.lmm, mm.LinearMixedModel])
def test_formula_without_random_effects_is_refused(sleep, build):
    with pytest.raises(mm.NoRandomEffectsError) as e:
        build("Reaction ~ 1 + Days", sleep)
    assert e.value.formula == "Reaction ~ 1 + Days"
    assert isinstance(e.value, mm.FormulaError) and isinstance(e.value, ValueError)


def test_glmm_formula_without_random_effects_is_refused(sleep):
    with pytest.raises(mm.NoRandomEffectsError):
        mm.glmm("slow ~ 1 + Days", sleep, family="bernoulli")


def test_reversed_term_is_refused_quickly_and_warned_when_allowed(sleep):
    f = "Reaction ~ 1 + Days + (Subject | Days)"
    start = time.perf_counter()
    with pytest.raises(mm.DataError) as e:
        mm.lmm(f, sleep)
    assert time.perf_counter() - start < 5.0  # was a 105 s fit returning σ = 0.11
    assert e.value.term == "Days"
    _, w = recorded(lambda: mm.LinearMixedModel(f, sleep, check_nobs="ignore"))
    reversed_ = [x for x in w if isinstance(x, mm.ModelCheckWarning)]
    assert [(x.check, x.term) for x in reversed_] == [("reversed_term", "(1 + Subject | Days)")]


def test_continuous_grouping_factor_is_warned(sleep):
    _, w = recorded(
        lambda: mm.LinearMixedModel("Reaction ~ 1 + (1 | x)", sleep, check_nobs="ignore")
    )
    assert [(x.check, x.term) for x in w if isinstance(x, mm.ModelCheckWarning)] == [
        ("reversed_term", "(1 | x)")
    ]
    # An integer-valued grouping column is an ordinary grouping factor.
    _, w = recorded(lambda: mm.LinearMixedModel("Reaction ~ 1 + (1 | Days)", sleep))
    assert not w


def test_response_constant_within_groups_warns_after_the_fit(sleep):
    _, w = recorded(lambda: mm.lmm("ym ~ 1 + Days + (1 | Subject)", sleep))
    conv = [x for x in w if isinstance(x, mm.ConvergenceWarning)]
    assert [(x.reason, x.term) for x in conv] == [("constant_within_groups", "Subject")]
    assert conv[0].return_code.startswith("converged")
    # No finite optimum: the certificate fails, and this warning names its components.
    assert conv[0].components == ["Subject.(Intercept)"] and len(conv[0].gradient) == 1
    # The ordinary model gives none.
    _, w = recorded(lambda: mm.lmm("Reaction ~ 1 + Days + (1 | Subject)", sleep))
    assert not w


def test_vanishing_residual_warns_after_the_fit(sleep):
    d = sleep.with_columns((pl.col("ym") * (1 + pl.col("Days") / 30)).alias("yl"))
    _, w = recorded(lambda: mm.lmm("yl ~ 1 + Days + (1 + Days | Subject)", d))
    conv = [x for x in w if isinstance(x, mm.ConvergenceWarning)]
    assert [(x.reason, x.term) for x in conv] == [("residual_vanishes", None)]


def test_warnings_can_be_turned_into_errors(sleep):
    with warnings.catch_warnings():
        warnings.simplefilter("error", mm.ModelCheckWarning)
        with pytest.raises(mm.ModelCheckWarning):
            mm.LinearMixedModel("Reaction ~ 1 + (1 | id)", sleep, check_nobs="warn")
    assert np.isfinite(mm.lmm("Reaction ~ 1 + (1 | id)", sleep, check_nobs="ignore").objective)
