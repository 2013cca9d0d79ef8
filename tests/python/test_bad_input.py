"""Bad input gives a typed error (a ValueError or TypeError too) whose fields name the
column, term, level, row or parameter."""

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
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reactoin ~ 1 + Days + (1 | Subject)", ss)
    assert isinstance(err.value, ValueError)
    assert err.value.column == "Reactoin"
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Sbj)", ss)
    assert err.value.column == "Sbj"


def test_categorical_response_for_linear_model():
    with pytest.raises(mm.DataTypeError) as err:
        mm.LinearMixedModel("r2 ~ 1 + Anger + (1 | id)", mm.dataset("verbagg"))
    assert isinstance(err.value, TypeError)
    assert (err.value.column, err.value.term) == ("r2", "r2")


def test_grouping_factor_with_one_level(ss):
    df = ss.with_columns(pl.lit("only").alias("g"))
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | g)", df)
    assert err.value.term == "g"


def test_no_rows_left_after_missing(ss):
    df = ss.with_columns(pl.lit(None, dtype=pl.Float64).alias("x"))
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + x + (1 | Subject)", df)
    assert type(err.value) is mm.DataError
    assert (err.value.column, err.value.term, err.value.row) == (None, None, None)


def test_infinite_value(ss):
    df = ss.with_columns(
        pl.when(pl.col("Days") == 3).then(math.inf).otherwise(pl.col("Days")).alias("Days")
    )
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df)
    assert err.value.column == "Days"
    assert err.value.row == 3  # Days == 3 first in row 3 of the data


def test_function_of_categorical(ss):
    with pytest.raises(mm.DataTypeError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + log(Subject) + (1 | Subject)", ss)
    assert (err.value.term, err.value.column) == ("log(Subject)", "Subject")


def test_random_term_with_nothing_left_of_bar(ss):
    formula = "Reaction ~ 1 + Days + ( | Subject)"
    with pytest.raises(mm.FormulaError) as err:
        mm.LinearMixedModel(formula, ss)
    assert isinstance(err.value, ValueError)
    assert err.value.formula == formula
    assert err.value.position == formula.index("|")


def test_formula_error_points_at_position(ss):
    formula = "Reaction ~ 1 + Days + (1 | Subject"
    with pytest.raises(mm.FormulaError) as err:
        mm.LinearMixedModel(formula, ss)
    assert err.value.formula == formula
    assert err.value.position == formula.index("(")  # the unclosed parenthesis
    # The message ends with the formula and a caret under that character.
    lines = str(err.value).splitlines()
    assert lines[-2] == formula
    assert lines[-1].index("^") == err.value.position


def test_empty_data_frame(ss):
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", ss.head(0))
    assert (err.value.column, err.value.row) == (None, None)


def test_bad_data_type():
    with pytest.raises(mm.ArgumentTypeError) as err:
        mm.LinearMixedModel("y ~ 1 + (1 | g)", [1, 2, 3])
    assert isinstance(err.value, TypeError)
    assert err.value.parameter == "data"
    with pytest.raises(mm.ArgumentTypeError) as err:
        mm.LinearMixedModel(3, {"y": [1.0]})
    assert err.value.parameter == "formula"


def test_date_column_is_refused(ss):
    df = ss.with_columns(pl.lit(np.datetime64("2024-01-01")).alias("when"))
    with pytest.raises(mm.DataTypeError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + when + (1 | Subject)", df)
    assert err.value.column == "when"


def test_zero_variance_response(ss):
    df = ss.with_columns(pl.lit(3.0).alias("Reaction"))
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df)
    assert err.value.term == "Reaction"


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, 0.0])
def test_bad_weights(ss, bad):
    w = np.ones(ss.height)
    w[7] = bad
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", ss, weights=w)
    assert (err.value.column, err.value.row) == ("weights", 7)


def test_bad_weight_row_counts_rows_dropped_for_missing_values(ss):
    # Rows 0-2 are dropped (missing Days); the bad weight is still row 7 of the data.
    df = ss.with_columns(
        pl.when(pl.int_range(pl.len()) < 3).then(None).otherwise(pl.col("Days")).alias("Days")
    )
    w = np.ones(ss.height)
    w[7] = -1.0
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df, weights=w)
    assert (err.value.column, err.value.row) == ("weights", 7)


def test_weights_length(ss):
    with pytest.raises(mm.ArgumentError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", ss, weights=[1.0, 2.0, 3.0])
    assert err.value.parameter == "weights"


def test_more_random_effects_than_observations(ss):
    small = ss.filter(pl.col("Days") < 2)  # 36 rows, 18 subjects
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel(
            "Reaction ~ 1 + (1 + Days + Days2 | Subject)",
            small.with_columns((pl.col("Days") ** 2 + 1).alias("Days2")),
        )
    assert err.value.term == "Subject"


def test_reml_without_fixed_effects(ss):
    m = mm.LinearMixedModel("Reaction ~ 0 + (1 | Subject)", ss)
    with pytest.raises(mm.ArgumentError) as err:
        m.fit(reml=True)
    assert err.value.parameter == "reml"


def test_nan_theta(ss):
    m = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 + Days | Subject)", ss)
    for theta in ([1.0, math.nan, 1.0], [1.0], [-1.0, 0.0, 1.0]):
        with pytest.raises(mm.ArgumentError) as err:
            m.objective_at(theta)
        assert err.value.parameter == "theta"
    with pytest.raises(mm.NotFittedError):  # a refused θ leaves no estimates behind
        _ = m.beta


def test_unknown_contrast_column_and_bad_coding(ss):
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel(
            "Reaction ~ 1 + Days + (1 | Subject)", ss, contrasts={"Dyas": mm.DummyCoding()}
        )
    assert err.value.column == "Dyas"
    with pytest.raises(mm.ArgumentTypeError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", ss, contrasts={"Days": "dummy"})
    assert err.value.parameter == "contrasts"
    for coding in (mm.DummyCoding(base="11"), mm.EffectsCoding(base="11")):
        with pytest.raises(mm.DataError) as err:
            mm.LinearMixedModel(
                "Reaction ~ 1 + Days + (1 | Subject)", ss, contrasts={"Days": coding}
            )
        assert (err.value.column, err.value.level) == ("Days", "11")


def test_missing_raise(ss):
    df = ss.with_columns(
        pl.when(pl.col("Days") == 0).then(None).otherwise(pl.col("Days")).alias("Days")
    )
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df, missing="raise")
    assert err.value.column == "Days"
    with pytest.raises(mm.ArgumentError) as err:
        mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df, missing="ignore")
    assert err.value.parameter == "missing"
