"""X and Z built from a formula and a data frame equal lme4's (fixtures from
tests/fixtures/generate.R: `getME(m, "X")` and `getME(m, "Zt")`).

X is compared column by column in order (we follow R's term order). Z is compared up
to a permutation of its columns: our terms are ordered by decreasing number of random
effects and terms sharing a grouping factor are amalgamated into one, so Z's columns
are a permutation of lme4's; the test matches each lme4 column with an identical one
of ours, one to one.
"""

from __future__ import annotations

import json
import pathlib
from collections import Counter

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"


def fixture(case: str) -> dict:
    return json.loads((FIXTURES / f"mm_{case}.json").read_text())


def r_x(fx: dict) -> np.ndarray | None:
    """lme4's X (n × p, before dropping), when stored whole."""
    if "X" not in fx:
        return None
    return np.array(fx["X"], dtype=float).T


def r_zt(fx: dict) -> np.ndarray:
    rows, cols = fx["Zt_dim"]
    z = np.zeros((rows, cols))
    t = fx["Zt"]
    assert t["format"] == "triplet"
    z[np.array(t["i"]), np.array(t["j"])] = np.array(t["x"], dtype=float)
    return z


def our_zt(model: mm.LinearMixedModel) -> np.ndarray:
    return np.vstack([t.dense().T for t in model.reterms])


def assert_same_columns(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Rows of `ours` (Zᵀ) are a permutation of rows of `theirs`, values equal to 1e-12."""
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    key = lambda row: tuple(np.round(row, 10))  # noqa: E731
    assert Counter(map(key, ours)) == Counter(map(key, theirs))


def build(case: str, formula: str, df: pl.DataFrame, **kw) -> tuple[mm.LinearMixedModel, dict]:
    fx = fixture(case)
    m = mm.LinearMixedModel(formula, df, **kw)
    assert m.nobs == fx["n"]
    return m, fx


def check_x(m: mm.LinearMixedModel, fx: dict) -> None:
    dropped = [d["name"] for d in fx["columns_dropped"]]
    kept = [j for j, name in enumerate(fx["X_colnames"]) if name not in dropped]
    x = r_x(fx)
    if x is not None:
        np.testing.assert_allclose(m.X, x[:, kept], rtol=1e-13, atol=1e-13)
    else:
        rows = np.array(fx["X_row_index0"])
        np.testing.assert_allclose(
            m.X[rows], np.array(fx["X_rows"], dtype=float)[:, kept], rtol=1e-13
        )
        np.testing.assert_allclose(m.X.sum(axis=0), np.array(fx["X_colsums"])[kept], rtol=1e-12)
        np.testing.assert_allclose(m.X.T @ m.X, np.array(fx["XtX"])[np.ix_(kept, kept)], rtol=1e-12)


def check_z(m: mm.LinearMixedModel, fx: dict) -> None:
    assert_same_columns(our_zt(m), r_zt(fx))
    assert sum(t.nlevels * len(t.columns) for t in m.reterms) == fx["Zt_dim"][0]


def with_numeric_response(df: pl.DataFrame, col: str, success: str) -> pl.DataFrame:
    is_success = (pl.col(col).cast(pl.String) == success).cast(pl.Float64)
    return df.with_columns(is_success.alias("resp01"))


def test_sleepstudy_slope():
    m, fx = build(
        "sleepstudy_slope", "Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy")
    )
    check_x(m, fx)
    check_z(m, fx)
    assert m.reterms[0].theta_index == [(0, 0), (1, 0), (1, 1)]
    np.testing.assert_array_equal(m.lowerbd, [0, -np.inf, 0])


def test_penicillin_crossed():
    m, fx = build(
        "penicillin_crossed", "diameter ~ 1 + (1|plate) + (1|sample)", mm.dataset("penicillin")
    )
    check_x(m, fx)
    check_z(m, fx)
    assert [t.name for t in m.reterms] == ["plate", "sample"]


def test_pastes_nested():
    m, fx = build("pastes_nested", "strength ~ 1 + (1 | batch/cask)", mm.dataset("pastes"))
    check_x(m, fx)
    check_z(m, fx)
    assert [(t.name, t.nlevels) for t in m.reterms] == [("batch & cask", 30), ("batch", 10)]


def test_insteval_service_dept():
    m, fx = build(
        "insteval_service_dept",
        "y ~ 1 + service * dept + (1 | s) + (1 | d)",
        mm.dataset("insteval"),
    )
    check_x(m, fx)
    # Z: compare the sparse structure directly (too large for a dense comparison).
    terms = m.reterms
    assert [(t.name, t.nlevels) for t in terms] == [("s", 2972), ("d", 1128)]
    t = fx["Zt"]
    assert t["format"] == "csc" and t["x_all_ones"]
    i = np.array(t["i"])
    j = np.repeat(np.arange(fx["n"]), np.diff(np.array(t["p"])))
    for k, term in enumerate(terms):
        lo, hi = fx["Gp"][k], fx["Gp"][k + 1]
        sel = (i >= lo) & (i < hi)
        order = np.argsort(j[sel])
        r_levels = np.array(fx["terms"][k]["levels"])[i[sel][order] - lo]
        ours = np.array(term.levels)[term.refs]
        assert (r_levels == ours).all()
    # R's level order of dept starts 15, 5, 10, … (as in the seed manual's table).
    assert m.fixefnames[:4] == ["(Intercept)", "service: 1", "dept: 5", "dept: 10"]
    assert m.fixefnames[15] == "service: 1 & dept: 5"


def test_verbagg_categorical_predictors():
    df = with_numeric_response(mm.dataset("verbagg"), "r2", "Y")
    m, fx = build(
        "verbagg_categorical",
        "resp01 ~ 1 + Anger + Gender + btype + situ + mode + (1 | id) + (1 | item)",
        df,
    )
    check_x(m, fx)
    check_z(m, fx)
    assert m.fixefnames == [
        "(Intercept)",
        "Anger",
        "Gender: M",
        "btype: scold",
        "btype: shout",
        "situ: self",
        "mode: do",
    ]


@pytest.mark.parametrize("square", ["abs2(age)", "I(age^2)", "I(age ** 2)"])
def test_contraception_quadratic(square):
    df = with_numeric_response(mm.dataset("contraception"), "use", "Y")
    m, fx = build(
        "contraception_quadratic",
        f"resp01 ~ 1 + age + {square} + livch + urban + (1 | district)",
        df,
    )
    check_x(m, fx)
    check_z(m, fx)


def test_sleepstudy_days_categorical():
    m, fx = build(
        "sleepstudy_days_categorical",
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        mm.dataset("sleepstudy"),
        contrasts={"Days": mm.DummyCoding()},
        check_nobs="ignore",  # lme4: check.nobs.vs.nRE = "warning"
    )
    check_x(m, fx)
    check_z(m, fx)
    assert m.fixefnames[1] == "Days: 1.0"
    assert len(m.lowerbd) == 55  # one lower bound per θ (unfitted: no θ estimate)


def test_zerocorr_split_and_double_bar_agree_with_lme4():
    df = mm.dataset("sleepstudy")
    for case, formula in [
        ("sleepstudy_zerocorr_split", "Reaction ~ 1 + Days + (1 | Subject) + (0 + Days | Subject)"),
        ("sleepstudy_doublebar", "Reaction ~ 1 + Days + (1 + Days || Subject)"),
    ]:
        m, fx = build(case, formula, df)
        check_x(m, fx)
        check_z(m, fx)
        # Amalgamated into one term with diagonal λ: two θ, both bounded below by 0.
        assert len(m.reterms) == 1
        np.testing.assert_array_equal(m.lowerbd, [0, 0])
    z = mm.LinearMixedModel("Reaction ~ 1 + Days + zerocorr(1 + Days | Subject)", df)
    np.testing.assert_array_equal(our_zt(z), our_zt(m))
    np.testing.assert_array_equal(z.lowerbd, [0, 0])


def test_factor_double_bar_keeps_factor_columns_correlated():
    m, fx = build(
        "sleepstudy_factor_doublebar",
        "Reaction ~ 1 + Days + (1 + Days || Subject)",
        mm.dataset("sleepstudy"),
        contrasts={"Days": mm.DummyCoding()},
        check_nobs="ignore",  # lme4: check.nobs.vs.nRE = "warning"
    )
    check_x(m, fx)
    check_z(m, fx)
    # lme4: (1|Subject) + (0 + Days|Subject): 1 + 55 θ.
    assert len(m.lowerbd) == len(fx["theta_lower"]) == 56


def test_rank_deficient_drops_the_duplicate():
    df = mm.dataset("sleepstudy").with_columns((2 * pl.col("Days")).alias("Days2"))
    with pytest.warns(mm.RankDeficiencyWarning) as record:
        m, fx = build("rank_deficient", "Reaction ~ 1 + Days + Days2 + (1 | Subject)", df)
    assert [w.message.columns for w in record] == [["Days2"]]
    check_x(m, fx)
    check_z(m, fx)
    assert m.fixefnames == ["(Intercept)", "Days"]
    assert np.isnan(m.fit().coef()[2])


def test_cake_interaction_grouping():
    m, fx = build(
        "cake_interaction", "angle ~ recipe * temp + (1 | recipe:replicate)", mm.dataset("cake")
    )
    check_x(m, fx)
    check_z(m, fx)
    assert m.reterms[0].levels[:2] == fx["terms"][0]["levels"][:2]
