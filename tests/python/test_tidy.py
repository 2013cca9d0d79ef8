"""``mm.tidy`` against broom.mixed 0.2.9 (tests/fixtures/tidy_*.json, written by
tests/fixtures/generate_tidy.R): the same rows, order, columns, terms, groups and levels,
and the values; and against the package's own coeftable/varcorr/ranef/condvar/confint.

Tolerances (relative unless said), set by how far lme4's fit is from ours, not by tidy
(which only arranges numbers: its agreement with the package's own methods is checked to
1e-12):
* linear models: fixed effects, standard errors, statistics and Wald ends 1e-6 (β̂
  agrees to 1e-12); variance parameters and conditional modes 1e-4 (the REML criteria
  agree to 1e-12, but the optimum is flat and lme4 stops with θ about 1e-5 away);
  Satterthwaite df 1e-3 and p 1e-4 absolute as tests/python/test_ddf.py (lmerTest
  differentiates the covariance numerically);
* profile ends 1e-4 (observed ≤ 5e-5: lme4 reads its ends off an interpolating spline
  through a few profile points, while ours are refined on the exact profile);
* cbpp (glmer): 2e-3 (lme4's glmer stops 6e-4 deviance units above our optimum, so its
  estimates differ by up to 5e-4); standard errors against lme4's R_X-based covariance,
  which is the package's (broom.mixed's come from lme4's finite-difference Hessian, 1.5%
  away: checked at 3e-2), and z and p recomputed from lme4's R_X standard errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(case: str) -> dict:
    return json.loads((FIXTURES / f"{case}.json").read_text())


def close(got, want, rtol, atol=0.0):
    got = np.array([np.nan if g is None else g for g in got], dtype=float)
    want = np.array([np.nan if w is None else w for w in want], dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(want)), (got, want)
    ok = ~np.isnan(want)
    assert np.all(np.abs(got[ok] - want[ok]) <= rtol * np.abs(want[ok]) + atol), (got, want)


@pytest.fixture(scope="module")
def sleep():
    fx = fixture("tidy_sleepstudy_REML")
    return mm.lmm(fx["formula"], mm.dataset("sleepstudy"), reml=True), fx


@pytest.fixture(scope="module")
def cake():
    fx = fixture("tidy_cake_REML")
    return mm.lmm(fx["formula"], mm.dataset("cake"), reml=True), fx


@pytest.fixture(scope="module")
def cbpp():
    fx = fixture("tidy_cbpp_binomial")
    return mm.glmm(fx["formula"], mm.dataset("cbpp"), family=mm.Binomial()), fx


def test_sleepstudy_default_matches_lmertest(sleep):
    m, fx = sleep
    want = fx["default"]
    got = mm.tidy(m, ddf="satterthwaite")
    assert got.columns == [
        "effect", "group", "term", "estimate", "std_error", "statistic", "df", "p_value"
    ]  # fmt: skip
    assert got["effect"].to_list() == want["effect"]
    assert got["group"].to_list() == want["group"]
    assert got["term"].to_list() == want["term"]
    close(got["estimate"][:2], want["estimate"][:2], 1e-6)
    close(got["estimate"][2:], want["estimate"][2:], 1e-4)
    close(got["std_error"], want["std.error"], 1e-5)
    close(got["statistic"], want["statistic"], 1e-5)
    close(got["df"], want["df"], 1e-3)
    close(got["p_value"], want["p.value"], 0, 1e-4)


def test_lme4_fit_has_no_p_values(sleep):
    m, fx = sleep
    got = mm.tidy(m, conf_int=True)
    want = fx["lme4_wald"]
    assert got.columns == [
        "effect", "group", "term", "estimate", "std_error", "statistic", "conf_low", "conf_high"
    ]  # fmt: skip
    assert got["term"].to_list() == want["term"]
    close(got["conf_low"], want["conf.low"], 1e-6)
    close(got["conf_high"], want["conf.high"], 1e-6)


def test_wald_intervals_on_satterthwaite_df(sleep, cake):
    for m, fx in (sleep, cake):
        got = mm.tidy(m, conf_int=True, conf_method="Wald", ddf="satterthwaite")
        want = fx["wald"]
        # t quantiles at the Satterthwaite df: df agree to 1e-3, which moves the ends ~1e-6
        close(got["conf_low"], want["conf.low"], 1e-5)
        close(got["conf_high"], want["conf.high"], 1e-5)


def test_profile_intervals(sleep):
    m, fx = sleep
    got = mm.tidy(m, conf_int=True, conf_method="profile")
    want = fx["profile"]
    assert got["term"].to_list() == want["term"]
    close(got["estimate"], want["estimate"], 1e-4)
    close(got["conf_low"], want["conf.low"], 1e-4)
    close(got["conf_high"], want["conf.high"], 1e-4)


def test_ran_vals(sleep, cake, cbpp):
    for m, fx in (sleep, cake, cbpp):
        want = fx["ran_vals"]
        got = mm.tidy(m, effects="ran_vals")
        assert got.columns == ["effect", "group", "level", "term", "estimate", "std_error"]
        assert got["level"].to_list() == want["level"]
        assert got["term"].to_list() == want["term"]
        assert got["effect"].to_list() == want["effect"]
        rtol = 2e-3 if m is cbpp[0] else 1e-4
        scale = max(abs(v) for v in want["estimate"])  # modes near 0: absolute part
        close(got["estimate"], want["estimate"], rtol, rtol * scale)
        close(got["std_error"], want["std.error"], rtol)


def test_cake_groups_and_terms(cake):
    m, fx = cake
    got = mm.tidy(m, ddf="satterthwaite")
    want = fx["default"]
    # the package names an interaction grouping factor `a & b` (lme4: `a:b`) and a
    # coefficient `recipe: B` (lme4: recipeB)
    assert got["group"].to_list() == [
        None if g is None else g.replace("recipe:replicate", "recipe & replicate")
        for g in want["group"]
    ]
    assert got["term"].to_list()[6:] == want["term"][6:]
    assert got["term"].to_list()[:6] == m.fixefnames
    close(got["estimate"][:6], want["estimate"][:6], 1e-6)
    close(got["estimate"][6:], want["estimate"][6:], 1e-4)
    close(got["std_error"], want["std.error"], 1e-5)
    close(got["statistic"], want["statistic"], 1e-5)
    close(got["df"], want["df"], 1e-3)


def test_glmm_z_tests(cbpp):
    m, fx = cbpp
    got = mm.tidy(m)
    want = fx["default"]
    assert got.columns == [
        "effect", "group", "term", "estimate", "std_error", "statistic", "p_value"
    ]  # fmt: skip
    assert got["term"].to_list()[:1] + got["term"].to_list()[4:] == [
        want["term"][0],
        want["term"][4],
    ]
    assert got["group"].to_list() == want["group"]
    close(got["estimate"], want["estimate"], 2e-3)
    se = got["std_error"].to_list()[:4]
    close(se, fx["stderror_rx"], 2e-3)
    close(se, want["std.error"][:4], 3e-2)  # lme4's Hessian-based covariance: 1.5% away
    b = np.array(fx["default"]["estimate"][:4])
    z = b / np.array(fx["stderror_rx"])
    close(got["statistic"].to_list()[:4], z, 3e-3)
    p = [2 * NormalDist().cdf(-abs(v)) for v in z]
    close(got["p_value"].to_list()[:4], p, 2e-2)


def test_values_are_the_models_own(sleep, cbpp):
    m, _ = sleep
    t = mm.tidy(m, ["fixed", "ran_pars", "ran_vals"], ddf="kenward-roger", conf_int=True)
    ct = m.coeftable(ddf="kenward-roger")
    fixed = t.filter(pl.col("effect") == "fixed")
    for col, ours in [("estimate", "estimate"), ("std_error", "stderror"), ("df", "df")]:
        close(fixed[col], ct[ours], 1e-12)
    close(fixed["p_value"], ct["p"], 1e-12)
    vc = m.varcorr().terms[0]
    pars = t.filter(pl.col("effect") == "ran_pars")["estimate"].to_list()
    close(pars, [vc["sd"][0], vc["correlation"][0, 1], vc["sd"][1], m.sigma], 1e-12)
    vals = t.filter(pl.col("effect") == "ran_vals")
    re, cv = m.ranef()["Subject"], m.condvar()["Subject"]
    close(vals["estimate"], re["(Intercept)"].to_list() + re["Days"].to_list(), 1e-12)
    se = np.concatenate([np.sqrt(cv[:, 0, 0]), np.sqrt(cv[:, 1, 1])])
    close(vals["std_error"], se, 1e-12)
    g, _ = cbpp
    gt = mm.tidy(g, "fixed")
    close(gt["std_error"], g.stderror(), 1e-12)
    close(gt["p_value"], g.coeftable()["p"], 1e-12)


def test_profile_ends_are_confints(sleep):
    m, _ = sleep
    prof = mm.profile(m)
    t = mm.tidy(m, conf_int=True, conf_method="profile", conf_level=0.9, profile=prof)
    ci = m.confint("profile", 0.9, profile=prof)
    order = ["(Intercept)", "Days", *ci["parameter"].to_list()[:4]]
    by_name = {r[0]: r[2:] for r in ci.iter_rows()}
    close(t["conf_low"], [by_name[p][0] for p in order], 1e-12)
    close(t["conf_high"], [by_name[p][1] for p in order], 1e-12)


def test_column_sets_follow_broom(sleep):
    m, _ = sleep
    assert mm.tidy(m, "fixed").columns == ["effect", "term", "estimate", "std_error", "statistic"]
    assert mm.tidy(m, "ran_pars").columns == ["effect", "group", "term", "estimate"]
    rv = mm.tidy(m, ["ran_vals", "fixed"], conf_int=True)
    assert rv["effect"].unique(maintain_order=True).to_list() == ["fixed", "ran_vals"]
    row = rv.filter(pl.col("effect") == "ran_vals").row(0, named=True)
    q = 1.959963984540054
    assert row["conf_low"] == pytest.approx(row["estimate"] - q * row["std_error"], rel=1e-12)


def test_zerocorr_has_no_correlation_rows():
    m = mm.lmm("Reaction ~ 1 + Days + (1 + Days || Subject)", mm.dataset("sleepstudy"))
    terms = mm.tidy(m, "ran_pars")["term"].to_list()
    assert terms == ["sd__(Intercept)", "sd__Days", "sd__Observation"]


def test_bad_arguments(sleep):
    m, _ = sleep
    for kwargs, parameter in [
        ({"effects": "random"}, "effects"),
        ({"effects": []}, "effects"),
        ({"conf_method": "bayes", "conf_int": True}, "conf_method"),
        ({"conf_int": "yes"}, "conf_int"),
        ({"seed": 1}, "seed"),
        ({"conf_int": True, "seed": 1}, "seed"),
        ({"conf_int": True, "conf_level": 1.5}, "conf_level"),
        ({"conf_int": True, "conf_level": "high"}, "conf_level"),
        ({"conf_int": True, "profile": 1}, "profile"),
        ({"ddf": "residual"}, "ddf"),
        ({"effects": "ran_pars", "ddf": "satterthwaite"}, "ddf"),
    ]:
        with pytest.raises(mm.ArgumentError) as err:
            mm.tidy(m, **kwargs)
        assert err.value.parameter == parameter, kwargs
    with pytest.raises(mm.NotFittedError):
        mm.tidy(mm.LinearMixedModel("Reaction ~ 1 + (1 | Subject)", mm.dataset("sleepstudy")))


def test_boot_ends_are_the_bootstrap_confints(sleep):
    m, _ = sleep
    t = mm.tidy(m, conf_int=True, conf_method="boot", n=20, seed=7)
    ci = m.confint("boot", n=20, seed=7)  # the same seed: the same replicates
    by_name = {r[0]: r[2:] for r in ci.iter_rows()}
    order = ["(Intercept)", "Days", *ci["parameter"].to_list()[:4]]
    close(t["conf_low"], [by_name[p][0] for p in order], 1e-12)
    close(t["conf_high"], [by_name[p][1] for p in order], 1e-12)
    assert all(lo < hi for lo, hi in zip(t["conf_low"], t["conf_high"], strict=True))
