"""Data handling: pandas and pyarrow input, level order, missing values, data sets."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

FORMULA = "Reaction ~ 1 + Days + (1 + Days | Subject)"


def test_datasets_installed():
    names = mm.datasets()
    assert {"sleepstudy", "dyestuff", "insteval", "verbagg", "penicillin"} <= set(names)
    df = mm.dataset("sleepstudy")
    assert df.shape == (180, 3)
    assert df.schema["Subject"] == pl.Enum(df.schema["Subject"].categories)
    with pytest.raises(mm.ArgumentError) as err:
        mm.dataset("nope")
    assert err.value.parameter == "name"


def test_datasets_outside_repository(tmp_path):
    code = "import mixedmodels as mm; print(mm.dataset('dyestuff').height)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "30"


def test_pandas_and_pyarrow_give_the_same_fit():
    pd = pytest.importorskip("pandas")
    df = mm.dataset("sleepstudy")
    ref = mm.lmm(FORMULA, df)
    pdf = df.to_pandas()
    assert isinstance(pdf, pd.DataFrame)
    for data in (pdf, df.to_arrow()):
        m = mm.lmm(FORMULA, data)
        np.testing.assert_allclose(m.theta, ref.theta, rtol=1e-12)
        np.testing.assert_allclose(m.objective, ref.objective, rtol=1e-14)


def test_string_levels_are_sorted_and_first_is_reference():
    df = mm.dataset("dyestuff").with_columns(pl.col("Batch").cast(pl.String))
    df = df.with_columns(
        pl.when(pl.col("Batch") < "C").then(pl.lit("zz")).otherwise(pl.lit("aa")).alias("f")
    )
    m = mm.LinearMixedModel("Yield ~ 1 + f + (1 | Batch)", df)
    assert m.fixefnames == ["(Intercept)", "f: zz"]


def test_enum_order_is_kept():
    levels = ["c", "a", "b"]
    df = pl.DataFrame(
        {
            "y": [1.0, 2.0, 3.5, 0.5, 2.5, 3.0, 1.5, 2.0, 4.0],
            "f": pl.Series(["a", "b", "c"] * 3, dtype=pl.Enum(levels)),
            "g": ["u", "u", "u", "v", "v", "v", "w", "w", "w"],
        }
    )
    m = mm.LinearMixedModel("y ~ 1 + f + (1 | g)", df)
    assert m.fixefnames == ["(Intercept)", "f: a", "f: b"]


def test_integer_grouping_is_categorical_and_unused_levels_dropped():
    df = mm.dataset("sleepstudy").with_columns(
        pl.col("Subject").cast(pl.String).cast(pl.Int64).alias("subj_int")
    )
    m = mm.lmm("Reaction ~ 1 + Days + (1 | subj_int)", df)
    assert m.reterms[0].levels[:2] == ["308", "309"]
    ref = mm.lmm("Reaction ~ 1 + Days + (1 | Subject)", df)
    np.testing.assert_allclose(m.objective, ref.objective, rtol=1e-13)
    sub = mm.dataset("sleepstudy").filter(pl.col("Subject").cast(pl.String) != "308")
    m2 = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", sub)
    assert m2.reterms[0].nlevels == 17  # the Enum still lists 18 categories


def test_missing_values_drop_rows_and_are_reported():
    df = mm.dataset("gcsemv")
    with pytest.warns(mm.MissingDataWarning) as record:
        m = mm.LinearMixedModel("written ~ 1 + gender + (1 | school)", df)
    assert [(w.message.counts, w.message.dropped) for w in record] == [({"written": 202}, 202)]
    assert m.nobs == 1703
    assert m.missing == {"written": 202}
    # A column the formula does not use never drops rows.
    with pytest.warns(mm.MissingDataWarning) as record:
        m2 = mm.LinearMixedModel("course ~ 1 + gender + (1 | school)", df)
    assert [w.message.counts for w in record] == [{"course": 180}]
    assert m2.nobs == df.height - 180


def test_nan_counts_as_missing():
    df = mm.dataset("sleepstudy").with_columns(
        pl.when(pl.col("Days") == 9).then(float("nan")).otherwise(pl.col("Days")).alias("Days")
    )
    with pytest.warns(mm.MissingDataWarning) as record:
        m = mm.LinearMixedModel(FORMULA, df)
    assert [w.message.counts for w in record] == [{"Days": 18}]
    assert m.nobs == 162


def test_boolean_and_dict_input():
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(10), 6)
    flag = np.tile([True, False], 30)
    y = rng.normal(size=60) + g * 0.3 + flag
    m = mm.lmm("y ~ 1 + flag + (1 | g)", {"y": y, "flag": flag, "g": g})
    assert m.fixefnames == ["(Intercept)", "flag: true"]


def test_column_names_with_dots_and_backticks():
    df = mm.dataset("bdf")
    m = mm.LinearMixedModel("langPOST ~ 1 + IQ.verb + (1 | schoolNR)", df)
    assert m.fixefnames == ["(Intercept)", "IQ.verb"]
    df2 = df.rename({"IQ.verb": "IQ verb"})
    m2 = mm.LinearMixedModel("langPOST ~ 1 + `IQ verb` + (1 | schoolNR)", df2)
    np.testing.assert_array_equal(m2.X, m.X)


def test_function_terms_on_response_and_predictors():
    df = mm.dataset("sleepstudy")
    m = mm.LinearMixedModel("log(Reaction) ~ 1 + sqrt(Days) + I(Days^2 / 2) + (1 | Subject)", df)
    np.testing.assert_allclose(m.y, np.log(df["Reaction"].to_numpy()))
    np.testing.assert_allclose(m.X[:, 1], np.sqrt(df["Days"].to_numpy()))
    np.testing.assert_allclose(m.X[:, 2], df["Days"].to_numpy() ** 2 / 2)
    assert m.fixefnames == ["(Intercept)", "sqrt(Days)", "I(Days^2/2)"]


def test_contrast_codings_give_expected_columns():
    df = mm.dataset("machines")
    x = {}
    for name, coding in [
        ("dummy", mm.DummyCoding()),
        ("effects", mm.EffectsCoding()),
        ("helmert", mm.HelmertCoding()),
        ("seqdiff", mm.SeqDiffCoding()),
        ("base", mm.DummyCoding(base="C")),
    ]:
        m = mm.LinearMixedModel(
            "score ~ 1 + Machine + (1 | Worker)", df, contrasts={"Machine": coding}
        )
        x[name] = m.X
        assert m.X.shape == (54, 3)
    machine = df["Machine"].cast(pl.String).to_numpy()
    rows = {lvl: np.flatnonzero(machine == lvl)[0] for lvl in ["A", "B", "C"]}
    assert [list(x["effects"][rows[k], 1:]) for k in "ABC"] == [[-1, -1], [1, 0], [0, 1]]
    assert [list(x["helmert"][rows[k], 1:]) for k in "ABC"] == [[-1, -1], [1, -1], [0, 2]]
    np.testing.assert_allclose(
        [x["seqdiff"][rows[k], 1:] for k in "ABC"],
        [[-2 / 3, -1 / 3], [1 / 3, -1 / 3], [1 / 3, 2 / 3]],
    )
    assert [list(x["base"][rows[k], 1:]) for k in "ABC"] == [[1, 0], [0, 1], [0, 0]]
    hyp = mm.HypothesisCoding([[-1, 1, 0], [0, -1, 1]], labels=["B-A", "C-B"])
    m = mm.LinearMixedModel("score ~ 1 + Machine + (1 | Worker)", df, contrasts={"Machine": hyp})
    np.testing.assert_allclose(m.X, x["seqdiff"], atol=1e-14)
    assert m.fixefnames[1:] == ["Machine: B-A", "Machine: C-B"]
    # Codings change X but not the fit.
    objs = [
        mm.lmm("score ~ 1 + Machine + (1 | Worker)", df, contrasts={"Machine": c}).objective
        for c in (mm.DummyCoding(), mm.HelmertCoding(), hyp)
    ]
    np.testing.assert_allclose(objs, objs[0], rtol=1e-9)


def test_unfitted_model_exposes_terms():
    m = mm.LinearMixedModel(FORMULA, mm.dataset("sleepstudy"))
    assert "unfitted" in repr(m)
    (t,) = m.reterms
    assert t.name == "Subject" and t.columns == ["(Intercept)", "Days"] and t.nlevels == 18
    assert t.refs.dtype == np.uint32 and t.z.shape == (180, 2)
    z = t.dense()
    assert z.shape == (180, 36)
    np.testing.assert_array_equal(z[:, 1::2].sum(axis=1), m.X[:, 1])
    assert m.formula == FORMULA


def test_fulldummy_in_random_effects_term():
    df = mm.dataset("machines")
    m = mm.LinearMixedModel("score ~ 1 + Machine + (1 + fulldummy(Machine) | Worker)", df)
    (t,) = m.reterms
    assert t.columns == ["(Intercept)", "Machine: A", "Machine: B", "Machine: C"]
    m2 = mm.LinearMixedModel("score ~ 1 + Machine + (1 + Machine | Worker)", df)
    assert m2.reterms[0].columns == ["(Intercept)", "Machine: B", "Machine: C"]
    m3 = mm.LinearMixedModel("score ~ 1 + Machine + (0 + Machine | Worker)", df)
    assert m3.reterms[0].columns == ["Machine: A", "Machine: B", "Machine: C"]


@pytest.mark.parametrize("kind", ["enum", "string", "categorical", "boolean"])
def test_small_and_large_columns_get_the_same_codes(kind):
    """Columns of up to SMALL_COLUMN rows are coded by a Python lookup, longer ones by
    polars: both give the same codes and levels, nulls included."""
    from mixedmodels._data import SMALL_COLUMN, encode_column

    base = [True, False, None, True] if kind == "boolean" else ["b", "a", None, "c", "a"]
    dtype = {
        "enum": pl.Enum(["c", "b", "a"]),
        "string": pl.String,
        "categorical": pl.Categorical,
        "boolean": pl.Boolean,
    }[kind]
    small = pl.Series("x", base * 3, dtype=dtype)
    large = pl.Series("x", base * (SMALL_COLUMN // len(base) + 1), dtype=dtype)
    assert small.len() <= SMALL_COLUMN < large.len()
    codes_small, levels_small = encode_column("x", small)
    codes_large, levels_large = encode_column("x", large)
    assert levels_small == levels_large
    assert codes_small.dtype == codes_large.dtype == np.uint32
    assert (codes_large[: small.len()] == codes_small).all()
    assert (codes_small == 0xFFFFFFFF).sum() == 3
