"""Binomial responses written in the formula, as lme4 users write them:
``cbind(successes, failures) ~ ...`` and arithmetic responses such as
``incidence / size ~ ...`` (with the trials as ``weights``).

cbpp (Binomial, 56 rows, 15 herds) is compared with the proportion + weights fit
and with lme4's fit in ``tests/fixtures/glmm_cbpp_binomial.json``
(``glmer(incidence/size ~ 1 + period + (1 | herd), family = binomial, weights = size)``,
the same model as ``glmer(cbind(incidence, size - incidence) ~ ...)``).
"""

from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm
from mixedmodels import _core

pytestmark = pytest.mark.skipif(
    not hasattr(_core, "GeneralizedLinearMixedModel"),
    reason="GeneralizedLinearMixedModel is not registered in mixedmodels._core",
)

from mixedmodels._glmm import GeneralizedLinearMixedModel, glmm  # noqa: E402

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "glmm_cbpp_binomial.json"
RHS = "1 + period + (1 | herd)"
CBIND = f"cbind(incidence, size - incidence) ~ {RHS}"


@pytest.fixture(scope="module")
def cbpp() -> pl.DataFrame:
    return mm.dataset("cbpp").with_columns((pl.col("incidence") / pl.col("size")).alias("prop"))


@pytest.fixture(scope="module")
def reference(cbpp) -> GeneralizedLinearMixedModel:
    """The existing way: a proportion column with the trials as weights."""
    return glmm(f"prop ~ {RHS}", cbpp, family="binomial", weights="size")


@pytest.fixture(scope="module")
def fitted(cbpp) -> GeneralizedLinearMixedModel:
    return glmm(CBIND, cbpp, family="binomial")


def same_fit(a: GeneralizedLinearMixedModel, b: GeneralizedLinearMixedModel) -> None:
    assert a.objective == pytest.approx(b.objective, rel=1e-10)
    assert a.loglikelihood() == pytest.approx(b.loglikelihood(), rel=1e-10)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-8)
    np.testing.assert_allclose(a.stderror(), b.stderror(), rtol=1e-8)


def test_cbind_equals_proportion_with_weights(fitted, reference):
    same_fit(fitted, reference)
    # y is the proportion, the prior weights are the trials (glmer's resp$y, weights()).
    np.testing.assert_allclose(fitted.y, reference.y, rtol=1e-15)
    assert fitted.nobs == 56 and fitted.dof == 5
    assert fitted.family == "Binomial"


def test_cbind_against_lme4(fitted):
    """Tolerances of tests/glmm_lme4_fixtures.rs: lme4 minimises a slightly
    perturbed objective (3e-6 relative on cbpp, tests/fixtures/README.md), so its
    optimum is not exactly ours: θ within 1e-3 relative, β within 1e-3 relative or
    0.02 SE, R_X SEs within 1e-3; −2ℓ at most lme4's best + 1e-6 relative."""
    fx = json.loads(FIXTURE.read_text())
    m2ll = -2 * fitted.loglikelihood()
    best = fx["objective"]
    assert m2ll <= best * (1 + 1e-6)
    assert m2ll <= fx["objective_at"][0]["value_exact"] * (1 + 1e-9)
    assert m2ll == pytest.approx(best, rel=1e-5)
    np.testing.assert_allclose(fitted.theta, fx["theta"], rtol=1e-3)
    se = np.asarray(fx["stderror_rx"])
    gap = np.abs(fitted.beta - np.asarray(fx["beta"]))
    assert np.all((gap <= 1e-3 * np.abs(fx["beta"])) | (gap <= 0.02 * se)), gap / se
    np.testing.assert_allclose(fitted.stderror(), se, rtol=1e-3)
    assert fitted.dof == fx["df"] and fitted.nobs == fx["nobs"]


def test_cbind_objective_at_lme4_parameters(cbpp):
    """At lme4's (θ, β) the Laplace −2ℓ equals lme4's exactly computed value
    (``value_exact``: its state with the determinant at the final μ)."""
    fx = json.loads(FIXTURE.read_text())
    g = GeneralizedLinearMixedModel(CBIND, cbpp, "binomial")
    g.evaluate(fx["theta"], fx["beta"])
    assert -2 * g.loglikelihood() == pytest.approx(fx["objective_at"][0]["value_exact"], rel=1e-9)


def test_arithmetic_response_with_weights(cbpp, reference):
    g = glmm(f"incidence / size ~ {RHS}", cbpp, family="binomial", weights="size")
    same_fit(g, reference)
    # A proportion without trials (the message names both fixes: weights or cbind).
    with pytest.raises(mm.DataError) as err:
        GeneralizedLinearMixedModel(f"incidence / size ~ {RHS}", cbpp, "binomial")
    assert err.value.column == "incidence/size"


def test_cbind_arguments_are_arithmetic(cbpp, reference):
    df = cbpp.with_columns((pl.col("size") - pl.col("incidence")).alias("healthy"))
    same_fit(glmm(f"cbind(incidence, healthy) ~ {RHS}", df, family="binomial"), reference)
    # Parenthesised, spaced, arithmetic in both arguments.
    g = glmm(f"(cbind(2 * incidence / 2, (size - incidence) * 1)) ~ {RHS}", cbpp, family="binomial")
    same_fit(g, reference)


def test_arithmetic_response_in_a_linear_mixed_model():
    ss = mm.dataset("sleepstudy")
    a = mm.lmm("log(Reaction) - 1 ~ 1 + Days + (1 + Days | Subject)", ss)
    b = mm.lmm(
        "y ~ 1 + Days + (1 + Days | Subject)",
        ss.with_columns((pl.col("Reaction").log() - 1).alias("y")),
    )
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-10)


def test_missing_counts_drop_rows(cbpp, reference):
    """A missing value in a cbind column drops the row like any model column."""
    df = cbpp.with_row_index("i").with_columns(
        pl.when(pl.col("i") == 3).then(None).otherwise(pl.col("size")).alias("size")
    )
    with pytest.warns(mm.MissingDataWarning) as record:
        g = glmm(CBIND, df, family="binomial")
    missing = [w.message for w in record if isinstance(w.message, mm.MissingDataWarning)]
    assert [(w.counts, w.dropped) for w in missing] == [({"size": 1}, 1)]
    assert g.nobs == 55
    h = glmm(f"prop ~ {RHS}", cbpp.filter(pl.int_range(pl.len()) != 3), "binomial", weights="size")
    same_fit(g, h)


def test_cbind_in_a_linear_mixed_model(cbpp):
    for build in (mm.lmm, mm.LinearMixedModel):
        with pytest.raises(mm.DataError) as err:
            build(CBIND, cbpp)
        assert err.value.term == "cbind(incidence,size-incidence)"


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_cbind_with_other_families(cbpp, family):
    with pytest.raises(mm.DataError) as e:
        GeneralizedLinearMixedModel(CBIND, cbpp, family)
    assert e.value.term == "cbind(incidence,size-incidence)"


def test_cbind_of_a_categorical_column(cbpp):
    with pytest.raises(mm.DataTypeError) as e:
        GeneralizedLinearMixedModel(f"cbind(herd, size) ~ {RHS}", cbpp, "binomial")
    assert (e.value.term, e.value.column) == ("cbind(herd,size)", "herd")


def test_bad_counts_name_rows(cbpp):
    # 1 success out of 0 trials gives a failure count of −1 in row 5.
    df = cbpp.with_row_index("i").with_columns(
        pl.when(pl.col("i") == 5).then(0.0).otherwise(pl.col("size")).alias("size")
    )
    # (The messages list the rows: row 5 here, rows 0, 1, 2, 3, 4 and 51 more below.)
    with pytest.raises(mm.DataError) as err:
        GeneralizedLinearMixedModel(CBIND, df, "binomial")
    assert err.value.term == "cbind(incidence,size-incidence)"
    with pytest.raises(mm.DataError) as err:
        GeneralizedLinearMixedModel(f"cbind(incidence + 0.5, size) ~ {RHS}", cbpp, "binomial")
    assert err.value.term == "cbind(incidence+0.5,size)"
    # Zero trials: glmer keeps the row with prior weight 0; we refuse, naming it.
    zero = cbpp.with_columns(
        [
            pl.when(pl.int_range(pl.len()).is_in([7, 9])).then(0.0).otherwise(pl.col(c)).alias(c)
            for c in ["incidence", "size"]
        ]
    )
    with pytest.raises(mm.DataError) as err:
        GeneralizedLinearMixedModel(CBIND, zero, "binomial")
    assert err.value.term == "cbind(incidence,size-incidence)"


def test_cbind_with_weights_is_refused(cbpp):
    with pytest.raises(mm.ArgumentError) as err:
        GeneralizedLinearMixedModel(CBIND, cbpp, "binomial", weights="size")
    assert err.value.parameter == "weights"


@pytest.mark.parametrize(
    ("formula", "position"),
    [
        (f"cbind(incidence) ~ {RHS}", 15),  # takes exactly two arguments
        (f"cbind(incidence, size, herd) ~ {RHS}", 21),  # it has more
        (f"cbind() ~ {RHS}", 6),  # it has none
        ("prop ~ 1 + cbind(incidence, size) + (1 | herd)", 11),  # can only be the response
        ("prop ~ 1 + (1 | herd) + (cbind(incidence, size) | herd)", 25),
        ("log(cbind(incidence, size)) ~ 1 + (1 | herd)", 4),
    ],
)
def test_cbind_syntax_errors(cbpp, formula, position):
    with pytest.raises(mm.FormulaError) as e:
        GeneralizedLinearMixedModel(formula, cbpp, "binomial", weights="size")
    assert (e.value.formula, e.value.position) == (formula, position)
    # The message shows the formula with a caret under the offending character.
    lines = str(e.value).splitlines()
    assert lines[-2] == formula and lines[-1] == " " * position + "^"
    with pytest.raises(mm.FormulaError) as e:
        _core.describe_formula(formula)
    assert (e.value.formula, e.value.position) == (formula, position)


def test_describe_formula_lists_response_columns():
    info = _core.describe_formula(CBIND)
    assert info["variables"] == ["incidence", "size", "period", "herd"]
    info = _core.describe_formula("incidence / size ~ 1 + (1 | herd)")
    assert info["variables"] == ["incidence", "size", "herd"]


def test_no_warnings_for_a_clean_fit(cbpp):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GeneralizedLinearMixedModel(CBIND, cbpp, "binomial")
