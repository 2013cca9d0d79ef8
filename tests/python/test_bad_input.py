"""Bad input gives a ValueError or TypeError that names the column, term or level."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm


@pytest.fixture(scope="module")
def ss() -> pl.DataFrame:
    return mm.dataset("sleepstudy")


def test_unknown_column(ss):
    with pytest.raises(ValueError, match="`Reactoin`"):
        mm.LinearMixedModel("Reactoin ~ 1 + Days + (1 | Subject)", ss)
    with pytest.raises(ValueError, match="`Sbj`"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Sbj)", ss)


def test_categorical_response_for_linear_model():
    with pytest.raises(TypeError, match="`r2`.*categorical"):
        mm.LinearMixedModel("r2 ~ 1 + Anger + (1 | id)", mm.dataset("verbagg"))


def test_grouping_factor_with_one_level(ss):
    df = ss.with_columns(pl.lit("only").alias("g"))
    with pytest.raises(ValueError, match="`g`.*1 level"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | g)", df)


def test_no_rows_left_after_missing(ss):
    df = ss.with_columns(pl.lit(None, dtype=pl.Float64).alias("x"))
    with pytest.raises(ValueError, match="no rows left.*`x`: 180"):
        mm.LinearMixedModel("Reaction ~ 1 + x + (1 | Subject)", df)


def test_infinite_value(ss):
    df = ss.with_columns(
        pl.when(pl.col("Days") == 3).then(math.inf).otherwise(pl.col("Days")).alias("Days")
    )
    with pytest.raises(ValueError, match="`Days`.*infinite"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df)


def test_function_of_categorical(ss):
    with pytest.raises(TypeError, match="`log\\(Subject\\)`.*categorical"):
        mm.LinearMixedModel("Reaction ~ 1 + log(Subject) + (1 | Subject)", ss)


def test_random_term_with_nothing_left_of_bar(ss):
    with pytest.raises(ValueError, match="nothing left of `\\|`") as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + ( | Subject)", ss)
    assert "^" in str(err.value)  # the message points at the character


def test_formula_error_points_at_position(ss):
    with pytest.raises(ValueError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject", ss)
    text = str(err.value)
    lines = text.splitlines()
    assert lines[-2] == "Reaction ~ 1 + Days + (1 | Subject"
    assert lines[-1].strip() == "^"


def test_empty_data_frame(ss):
    with pytest.raises(ValueError, match="no rows"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", ss.head(0))


def test_bad_data_type():
    with pytest.raises(TypeError, match="data must be"):
        mm.LinearMixedModel("y ~ 1 + (1 | g)", [1, 2, 3])
    with pytest.raises(TypeError, match="formula must be a string"):
        mm.LinearMixedModel(3, {"y": [1.0]})


def test_date_column_is_refused(ss):
    df = ss.with_columns(pl.lit(np.datetime64("2024-01-01")).alias("when"))
    with pytest.raises(TypeError, match="`when`"):
        mm.LinearMixedModel("Reaction ~ 1 + when + (1 | Subject)", df)


def test_zero_variance_response(ss):
    df = ss.with_columns(pl.lit(3.0).alias("Reaction"))
    with pytest.raises(ValueError, match="`Reaction`.*zero variance"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, 0.0])
def test_bad_weights(ss, bad):
    w = np.ones(ss.height)
    w[7] = bad
    with pytest.raises(ValueError, match="weights.*row 7"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", ss, weights=w)


def test_weights_length(ss):
    with pytest.raises(ValueError, match="length 3"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", ss, weights=[1.0, 2.0, 3.0])


def test_more_random_effects_than_observations(ss):
    small = ss.filter(pl.col("Days") < 2)  # 36 rows, 18 subjects
    with pytest.raises(ValueError, match="`Subject`.*54 random effects.*36 observations"):
        mm.LinearMixedModel(
            "Reaction ~ 1 + (1 + Days + Days2 | Subject)",
            small.with_columns((pl.col("Days") ** 2 + 1).alias("Days2")),
        )


def test_reml_without_fixed_effects(ss):
    m = mm.LinearMixedModel("Reaction ~ 0 + (1 | Subject)", ss)
    with pytest.raises(ValueError, match="REML.*fixed-effects"):
        m.fit(reml=True)


def test_nan_theta(ss):
    m = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 + Days | Subject)", ss)
    with pytest.raises(ValueError, match="is NaN"):
        m.objective_at([1.0, math.nan, 1.0])
    with pytest.raises(ValueError, match="length 3"):
        m.objective_at([1.0])
    with pytest.raises(ValueError, match="below its lower bound"):
        m.objective_at([-1.0, 0.0, 1.0])


def test_unknown_contrast_column_and_bad_coding(ss):
    with pytest.raises(ValueError, match="`Dyas`"):
        mm.LinearMixedModel(
            "Reaction ~ 1 + Days + (1 | Subject)", ss, contrasts={"Dyas": mm.DummyCoding()}
        )
    with pytest.raises(TypeError, match="`Days`"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", ss, contrasts={"Days": "dummy"})
    with pytest.raises(ValueError, match="`Days`.*base level"):
        mm.LinearMixedModel(
            "Reaction ~ 1 + Days + (1 | Subject)", ss, contrasts={"Days": mm.DummyCoding(base="11")}
        )


def test_missing_raise(ss):
    df = ss.with_columns(
        pl.when(pl.col("Days") == 0).then(None).otherwise(pl.col("Days")).alias("Days")
    )
    with pytest.raises(ValueError, match="`Days`.*18 missing"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df, missing="raise")
    with pytest.raises(ValueError, match="missing must be"):
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df, missing="ignore")
