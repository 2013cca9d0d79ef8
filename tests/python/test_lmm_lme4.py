"""Linear mixed models against lme4 1.1-31 (fixtures from tests/fixtures/generate.R).

* At lme4's θ, quantities that depend only on θ agree to ~1e-8: the objective, β, σ,
  conditional modes and variances, fitted values, residuals, leverage.
* Our own fit reaches lme4's best optimum: objective ≤ best + 1e-6 relative; θ within
  1e-4 (relative, absolute below 1); β, σ and standard errors within 1e-4 relative.
"""

from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"

CASES = [
    "sleepstudy_ML",
    "sleepstudy_REML",
    "dyestuff_REML",
    "sleepstudy_zerocorr_ML",
    "weighted_ML",
    "weighted_REML",
    "weighted_toy",
    "rank_deficient_ML",
    "penicillin_REML",
    "pastes_nested_ML",
    "cake_ML",
    "machines_ML",
    "oxboys_ML",
    "scotssec_ML",
    "insteval_dept_ML",
    "gcsemv_ML",
    "sleepstudy_dayscat_full_ML",
    "sleepstudy_dayscat_split_ML",
    "sleepstudy_offset_ML",
    "sleepstudy_offset_REML",
]


def sleep_offset(df: pl.DataFrame) -> np.ndarray:
    """The offset of the lme4 offset fixtures: 10 * ((row % 5) - 2)."""
    return 10.0 * ((np.arange(df.height) % 5) - 2)


def load(case: str) -> dict:
    return json.loads((FIXTURES / f"lmm_{case}.json").read_text())


def model_for(case: str, fx: dict) -> mm.LinearMixedModel:
    kw: dict = {}
    if case == "weighted_toy":
        d = fx["data"]
        df = pl.DataFrame({"a": d["a"], "b": d["b"], "c": d["c"], "w1": d["w1"]})
        kw["weights"] = "w1"
    else:
        df = mm.dataset(fx["dataset"].removesuffix(".parquet"))
    if case.startswith("weighted_") and case != "weighted_toy":
        kw["weights"] = 1.0 + (np.arange(df.height) % 4)
    if "offset" in case:
        df = df.with_columns(o=sleep_offset(df))
    if case == "rank_deficient_ML":
        df = df.with_columns((2 * pl.col("Days")).alias("Days2"))
    if "dayscat" in case:
        kw["contrasts"] = {"Days": mm.DummyCoding()}
    if fx.get("check_nobs_vs_nRE") == "warning":
        # lme4 was run with check.nobs.vs.nRE = "warning": 180 random effects, 180 rows.
        kw["check_nobs"] = "warn"
        with pytest.warns(mm.ModelCheckWarning):
            return mm.LinearMixedModel(fx["formula"], df, **kw)
    with pytest.warns() if case in ("rank_deficient_ML", "gcsemv_ML") else _nullcontext():
        return mm.LinearMixedModel(fx["formula"], df, **kw)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def our_column(r_name: str) -> str:
    """Our name of an lme4 random-effects column: `Days3` (factor Days) is `Days: 3.0`."""
    m = re.fullmatch(r"Days(\d+)", r_name)
    return f"Days: {m.group(1)}.0" if m else r_name


def norm_group(name: str) -> tuple:
    return tuple(sorted(name.replace(" & ", ":").split(":")))


def our_term(m: mm.LinearMixedModel, group: str):
    for k, t in enumerate(m.reterms):
        if norm_group(t.name) == norm_group(group):
            return k, t
    raise AssertionError(f"no term for {group}")


@pytest.mark.parametrize("case", CASES)
def test_at_lme4_theta(case):
    fx = load(case)
    m = model_for(case, fx)
    m._core.set_reml(fx["REML"])
    assert m.nobs == fx["nobs"]
    for rec in fx["objective_at"]:
        got = m.objective_at(rec["theta"])
        np.testing.assert_allclose(got, rec["value"], rtol=1e-9, err_msg=rec["label"])
    m.objective_at(fx["theta"])
    np.testing.assert_allclose(m.objective, fx["objective"], rtol=1e-9)
    np.testing.assert_allclose(m.beta, fx["beta"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(m.sigma, fx["sigma"], rtol=1e-8)
    np.testing.assert_allclose(m.stderror(), fx["stderror"], rtol=1e-7)
    np.testing.assert_allclose(m.vcov(), fx["vcov"], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(m.fitted()[:10], fx["fitted_head"], rtol=1e-8)
    np.testing.assert_allclose(m.residuals()[:10], fx["residuals_head"], rtol=1e-6, atol=1e-8)
    lev = m.leverage()
    np.testing.assert_allclose(lev[: len(fx["hatvalues_head"])], fx["hatvalues_head"], rtol=1e-7)
    np.testing.assert_allclose(lev.sum(), fx["hatvalues_sum"], rtol=1e-8)
    if not fx["REML"]:
        np.testing.assert_allclose(m.loglikelihood(), fx["logLik"], rtol=1e-9)
        np.testing.assert_allclose(m.aic(), fx["AIC"], rtol=1e-9)
        np.testing.assert_allclose(m.bic(), fx["BIC"], rtol=1e-9)
        assert m.dof == fx["df"]
    ranef = m.ranef()
    condvar = m.condvar()
    for rterm in fx["ranef"]:
        _, t = our_term(m, rterm["group"])
        table = ranef[t.name]
        levels = table[t.name].to_list()
        norm = {tuple(sorted(lv.split(":"))): i for i, lv in enumerate(levels)}
        cols = [t.columns.index(our_column(c)) for c in rterm["columns"]]
        for r, lv in enumerate(rterm["levels"]):
            i = norm[tuple(sorted(lv.split(":")))]
            got = [table[t.columns[c]][i] for c in cols]
            np.testing.assert_allclose(got, rterm["values"][r], rtol=1e-6, atol=1e-8)
            cv = np.asarray(rterm["condVar"][r], dtype=float).reshape(len(cols), len(cols))
            np.testing.assert_allclose(condvar[t.name][i][np.ix_(cols, cols)], cv, rtol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_fit_reaches_lme4_optimum(case):
    fx = load(case)
    m = model_for(case, fx)
    m.fit(reml=fx["REML"])
    best = fx["objective"]
    assert m.objective <= best + 1e-6 * abs(best), (m.objective, best)
    if "dayscat" in case:
        # 180 random effects for 180 observations: σ² trades against the scale of λ
        # along a flat ridge of optima, so θ, σ and the SEs are not identified; the
        # fixed effects (cell means) are.
        np.testing.assert_allclose(m.beta, fx["beta"], rtol=1e-6)
        return
    np.testing.assert_allclose(m.theta, fx["theta"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(m.beta, fx["beta"], rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(m.sigma, fx["sigma"], rtol=1e-4)
    np.testing.assert_allclose(m.stderror(), fx["stderror"], rtol=1e-4)
    assert (
        m.dropped_columns == [d["name"] for d in fx["columns_dropped"]]
        if hasattr(m, "dropped_columns")
        else True
    )


@pytest.mark.parametrize("reml", [False, True])
def test_offset_keyword_equals_offset_term(reml):
    """`offset=` (a column name or values) and `offset(o)` in the formula are one model,
    equal to lme4's fit with `lmer(..., offset = o)`."""
    fx = load("sleepstudy_offset_REML" if reml else "sleepstudy_offset_ML")
    df = mm.dataset("sleepstudy")
    df = df.with_columns(o=sleep_offset(df))
    term = model_for("sleepstudy_offset_" + ("REML" if reml else "ML"), fx).fit(reml=reml)
    plain = "Reaction ~ 1 + Days + (1 + Days | Subject)"
    by_values = mm.lmm(plain, df, reml=reml, offset=sleep_offset(df))
    by_name = mm.LinearMixedModel(plain, df, offset="o").fit(reml=reml)
    for m in (by_values, by_name):
        np.testing.assert_array_equal(m.theta, term.theta)
        np.testing.assert_array_equal(m.beta, term.beta)
        np.testing.assert_array_equal(m.fitted(), term.fitted())
        assert m.objective == term.objective
    best = fx["offset_keyword"]["objective"]
    assert term.objective <= best + 1e-6 * abs(best)
    np.testing.assert_allclose(term.beta, fx["offset_keyword"]["beta"], rtol=1e-4)
    # Fitted values include the offset; without it the fit is a different model.
    np.testing.assert_allclose(term.fitted()[:10], fx["fitted_head"], rtol=1e-4)
    without = mm.lmm(plain, df, reml=reml)
    assert abs(without.beta[1] - term.beta[1]) > 1.0
    # A refit with a new response keeps the offset.
    refit = by_values.refit(np.asarray(df["Reaction"]))
    np.testing.assert_allclose(refit.beta, term.beta, rtol=1e-12)


def test_rank_deficient_reports_dropped_column():
    fx = load("rank_deficient_ML")
    m = model_for("rank_deficient_ML", fx)
    assert m._core.dropped_columns == ["Days2"]
    assert "Days2" in str(m.fit())
    coef = m.coef()
    assert np.isnan(coef[2]) and not np.isnan(coef[:2]).any()


def test_weighted_toy_matches_mixedmodels_jl():
    # MixedModels.jl test suite (test/pls.jl): θ 0.2951818091809752 (atol 1e-4),
    # SE [0.964016663994572, 3.6309691484830533] (atol 1e-4).
    fx = load("weighted_toy")
    m = model_for("weighted_toy", fx).fit()
    np.testing.assert_allclose(m.theta, [0.2951818091809752], atol=1e-4)
    np.testing.assert_allclose(m.stderror(), [0.964016663994572, 3.6309691484830533], atol=1e-4)
