"""Estimated marginal means and contrasts against R's emmeans 1.8.4 (fixtures
tests/fixtures/emmeans_*.json, written by tests/fixtures/generate_emmeans.R on lme4
fits with a tight optimizer tolerance).

Tolerances (relative unless said): means, estimates and SEs 1e-6 — our fits and lme4's
agree to about 1e-8 in β̂ and θ̂, so everything that is linear in β̂ or a smooth function
of θ̂ agrees well within that; Kenward–Roger and Satterthwaite df 1e-4 (Satterthwaite's
df need the Hessian in (θ, σ), which lmerTest takes by finite differences); t/z ratios
1e-6; p-values 1e-6 relative with a 1e-8 absolute floor (R's ptukey is itself only good
to about 1e-7 absolute at small df, see src/inference/ddf/studentized_range.rs); interval
ends 1e-6 relative to the largest end of the column (an end is estimate ± c·SE, so its
error scales with the column, not with its own value, which may be near 0). The GLMMs
(cbpp binomial, grouseticks Poisson) are compared with R at a polished optimum (glmer's
estimate refined in R, see generate_emmeans.R): at that (θ, β) to 1e-6, and our own fits,
which stop slightly short of it, at tolerances the distance justifies (see the tests).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import mixedmodels as mm

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

NAMES = {"lower.CL": "lower_CL", "upper.CL": "upper_CL", "t.ratio": "t_ratio",
         "z.ratio": "z_ratio", "p.value": "p_value", "asymp.LCL": "asymp_LCL",
         "asymp.UCL": "asymp_UCL", "odds.ratio": "odds_ratio"}  # fmt: skip
DF_COLUMNS = {"df"}


def fixture(case: str) -> dict:
    return json.loads((FIXTURES / f"{case}.json").read_text())


def results(fx: dict) -> dict[str, dict]:
    return {r["id"]: r["table"] for r in fx["results"]}


def compare(
    got_frames,
    want: dict,
    rtol: float,
    floor: float = 1e-8,
    prtol: float | None = None,
    by_column: bool = False,
) -> None:
    """Every column of the R table against the same-named column of one of the frames;
    ``by_column``: every value's error relative to the largest of its column (for values
    whose error comes from the fit, not from their own size, like contrasts of close means)."""
    frames = got_frames if isinstance(got_frames, list) else [got_frames]
    for r_name, values in want.items():
        name = NAMES.get(r_name, r_name)
        frame = next((f for f in frames if name in f.columns), None)
        assert frame is not None, f"no column {name} (R {r_name}) in {frames[0].columns}"
        got = frame[name].to_list()
        assert len(got) == len(values), name
        if isinstance(values[0], str):
            assert [str(g) for g in got] == [str(v) for v in values], name
            continue
        w = np.array([math.inf if v is None else v for v in values], dtype=float)
        g = np.asarray(got, dtype=float)
        if name in DF_COLUMNS:
            both_inf = np.isinf(w) & np.isinf(g)
            ok = both_inf | (np.abs(g - w) <= 1e-4 * np.abs(w))
        elif name == "p_value":
            ok = np.abs(g - w) <= (prtol or rtol) * np.abs(w) + floor
        elif name.endswith("CL") or by_column:
            # An interval end is estimate ± c·SE: its error scales with the column's size,
            # not with its own value (which can be near 0).
            ok = np.abs(g - w) <= rtol * np.max(np.abs(w)) + floor
        else:
            ok = np.abs(g - w) <= rtol * np.abs(w) + 1e-12
        assert np.all(ok), (name, g, w)


def fit(fx: dict) -> mm.LinearMixedModel:
    return mm.lmm(fx["formula"], mm.dataset(fx["dataset"]), reml=fx["REML"])


@pytest.fixture(scope="module")
def cake():
    fx = fixture("emmeans_cake_factor")
    return fit(fx), results(fx)


def _contrast(c) -> list:
    return [c.table, c.confint()]


CAKE_FACTOR: dict[str, Callable] = {
    "recipe_kr": lambda m: mm.emmeans(m, "recipe").table,
    "recipe_kr_90": lambda m: mm.emmeans(m, "recipe").confint(0.9),
    "recipe_pairs_tukey": lambda m: _contrast(mm.emmeans(m, "recipe").pairs()),
    "recipe_pairs_holm": lambda m: _contrast(mm.emmeans(m, "recipe").pairs(adjust="holm")),
    "recipe_pairs_bonferroni": lambda m: _contrast(
        mm.emmeans(m, "recipe").pairs(adjust="bonferroni")
    ),
    "recipe_pairs_sidak": lambda m: _contrast(mm.emmeans(m, "recipe").pairs(adjust="sidak")),
    "recipe_pairs_none_reverse": lambda m: _contrast(
        mm.emmeans(m, "recipe").pairs(adjust="none", reverse=True)
    ),
    "recipe_trt_vs_ctrl_none": lambda m: _contrast(
        mm.emmeans(m, "recipe").contrast("trt.vs.ctrl", adjust="none")
    ),
    "recipe_consec_bonferroni": lambda m: _contrast(
        mm.emmeans(m, "recipe").contrast("consec", adjust="bonferroni")
    ),
    "recipe_poly": lambda m: _contrast(mm.emmeans(m, "recipe").contrast("poly")),
    "recipe_custom": lambda m: _contrast(
        mm.emmeans(m, "recipe").contrast({"AvsB": [1, -1, 0], "ABvsC": [0.5, 0.5, -1]})
    ),
    "temperature_by_recipe": lambda m: mm.emmeans(m, "temperature", by="recipe").table,
    "temperature_by_recipe_pairs_tukey": lambda m: _contrast(
        mm.emmeans(m, "temperature", by="recipe").pairs()
    ),
    "temperature_by_recipe_pairs_holm": lambda m: _contrast(
        mm.emmeans(m, "temperature", by="recipe").pairs(adjust="holm")
    ),
    "temperature_kr": lambda m: mm.emmeans(m, "temperature").table,
    "temperature_pairs_tukey": lambda m: _contrast(mm.emmeans(m, "temperature").pairs()),
    "recipe_temperature": lambda m: mm.emmeans(m, ["recipe", "temperature"]).table,
    "recipe_satterthwaite": lambda m: mm.emmeans(m, "recipe", ddf="satterthwaite").table,
    "recipe_pairs_satterthwaite": lambda m: _contrast(
        mm.emmeans(m, "recipe", ddf="satterthwaite").pairs()
    ),
    "temperature_by_recipe_satterthwaite": lambda m: (
        mm.emmeans(m, "temperature", by="recipe", ddf="satterthwaite").table
    ),
    "recipe_asymptotic": lambda m: mm.emmeans(m, "recipe", ddf="asymptotic").table,
    "recipe_pairs_asymptotic": lambda m: _contrast(
        mm.emmeans(m, "recipe", ddf="asymptotic").pairs()
    ),
}


@pytest.mark.parametrize("rid", sorted(CAKE_FACTOR))
def test_cake_factor(cake, rid):
    m, want = cake
    compare(CAKE_FACTOR[rid](m), want[rid], 1e-6)


def test_cake_covariate_and_at():
    fx = fixture("emmeans_cake_covariate")
    m, want = fit(fx), results(fx)
    compare(mm.emmeans(m, "recipe").table, want["recipe_at_mean"], 1e-6)
    e = mm.emmeans(m, "recipe", by="temp", at={"temp": [180, 220]})
    compare(e.table, want["recipe_by_temp_at"], 1e-6)
    compare(_contrast(e.pairs()), want["recipe_by_temp_at_pairs"], 1e-6)
    compare(mm.emmeans(m, "recipe", at={"temp": 190}).table, want["recipe_at_one"], 1e-6)
    compare(
        mm.emmeans(m, "recipe", at={"recipe": ["A", "C"]}).table, want["recipe_at_levels"], 1e-6
    )
    # A numeric covariate as the spec takes the values given in `at` (emmeans does too).
    compare(mm.emmeans(m, "temp", at={"temp": [180, 220]}).table, want["temp_at"], 1e-6)
    e = mm.emmeans(m, "temp", at={"temp": [180, 200, 220]})
    compare(_contrast(e.pairs()), want["temp_at_pairs"], 1e-6)


def test_machines():
    fx = fixture("emmeans_machines")
    m, want = fit(fx), results(fx)
    e = mm.emmeans(m, "Machine")
    compare(e.table, want["machine_kr"], 1e-6)
    compare(_contrast(e.pairs()), want["machine_pairs_tukey"], 1e-6)
    compare(_contrast(e.pairs(adjust="holm")), want["machine_pairs_holm"], 1e-6)
    s = mm.emmeans(m, "Machine", ddf="satterthwaite")
    compare(s.table, want["machine_satterthwaite"], 1e-6)


GLMMS = {
    "cbpp": (mm.Binomial(), "period", {"weights": "size"}, "prob", "odds_ratio"),
    "grouseticks": (mm.Poisson(), "YEAR", {}, "rate", "ratio"),
}
GLMM_CALLS = {
    "cbpp": {
        "period_link": lambda m: mm.emmeans(m, "period").table,
        "period_response": lambda m: mm.emmeans(m, "period", type="response").table,
        "period_pairs_link": lambda m: _contrast(mm.emmeans(m, "period").pairs()),
        "period_pairs_holm": lambda m: _contrast(mm.emmeans(m, "period").pairs(adjust="holm")),
        "period_pairs_response": lambda m: _contrast(
            mm.emmeans(m, "period", type="response").pairs()
        ),
    },
    "grouseticks": {
        "year_link": lambda m: mm.emmeans(m, "YEAR").table,
        "year_response": lambda m: mm.emmeans(m, "YEAR", type="response").table,
        "year_pairs_link": lambda m: _contrast(mm.emmeans(m, "YEAR").pairs()),
        "year_pairs_response": lambda m: _contrast(mm.emmeans(m, "YEAR", type="response").pairs()),
    },
}


def glmm_fit(case: str) -> tuple[mm.GeneralizedLinearMixedModel, dict]:
    fx = fixture(f"emmeans_{case}")
    family, _, kwargs, _, _ = GLMMS[case]
    return mm.glmm(fx["formula"], mm.dataset(fx["dataset"]), family=family, **kwargs), fx


@pytest.mark.parametrize("case", sorted(GLMMS))
def test_glmm_fit_reaches_the_polished_optimum(case):
    """Our fit against R's polished optimum (generate_emmeans.R: glmer's estimate refined on
    lme4's stage-2 deviance with PIRLS to 1e-13, gradient below 1e-7 there)."""
    m, fx = glmm_fit(case)
    pol, glmer = fx["polished"], fx["fit"]
    ours = m.objective
    at_polished = m.evaluate(pol["theta"], pol["beta"])
    at_glmer = m.evaluate(glmer["theta"], glmer["beta"])
    # Same objective function: differences between two points agree with lme4's (the two
    # deviances differ by a constant of the data) to rounding of the PIRLS solutions.
    r_gap = pol["deviance_at_glmer"] - pol["deviance"]
    assert abs((at_glmer - at_polished) - r_gap) <= 1e-8, (at_glmer - at_polished, r_gap)
    # Our optimum is no worse than the polished one (cbpp: 2e-12 above it; grouseticks:
    # 2e-9 below it, the two deviances agreeing to ~1e-9 along a flat direction).
    assert ours <= at_polished + 1e-8 + 1e-11 * abs(ours), (ours, at_polished)
    m.fit()
    # θ (relative) and β (absolute): cbpp within 4e-7; grouseticks within 6e-6 (the same
    # flat direction: a change of 5e-6 in β moves the deviance by ~1e-9).
    tol = {"cbpp": 1e-6, "grouseticks": 2e-5}[case]
    np.testing.assert_allclose(m.theta, pol["theta"], rtol=tol)
    np.testing.assert_allclose(m.beta, pol["beta"], rtol=0, atol=tol)


@pytest.mark.parametrize("case", sorted(GLMMS))
def test_glmm_at_the_polished_optimum(case):
    """emmeans of the model placed at R's polished (θ, β): means, SEs, estimates, ratios
    1e-6 (they agree to 1e-7: our (RX'RX)⁻¹ and lme4's at the same point differ by
    ~1e-7 relative); p-values 1e-6 relative with a 1e-12 floor (z agrees to 1e-7 and a
    relative error ε in z moves p by about z²ε); interval ends 1e-6 of the column's largest
    end."""
    m, fx = glmm_fit(case)
    pol = fx["polished"]
    m.evaluate(pol["theta"], pol["beta"])
    np.testing.assert_allclose(m.vcov(), np.array(pol["vcov"]), rtol=5e-7, atol=1e-12)
    want = results(fx)
    for rid, call in GLMM_CALLS[case].items():
        compare(call(m), want[rid], 1e-6, 1e-12)


@pytest.mark.parametrize("case", sorted(GLMMS))
def test_glmm_fit_against_r(case):
    """emmeans of our own fit: as close as the fits are (see the tests above): cbpp 1e-6
    (means and SEs agree to 1.5e-7), grouseticks 5e-5 (to 1.5e-5), each relative to the
    largest of its column (a
    contrast of close means has the absolute error of the means); p-values ×10 relative (a
    relative change ε in z moves a small p by about z²ε)."""
    m, fx = glmm_fit(case)
    tol = {"cbpp": 1e-6, "grouseticks": 5e-5}[case]
    want = results(fx)
    for rid, call in GLMM_CALLS[case].items():
        compare(call(m), want[rid], tol, 1e-10, prtol=10 * tol, by_column=True)


def test_glmm_response_scale_from_link_scale():
    """The response-scale transformation itself, exactly against the link-scale table:
    plogis / exp, the delta method, ends mapped; ratios of response means are exp of
    link-scale differences with the same tests."""
    for case in sorted(GLMMS):
        m, _ = glmm_fit(case)
        _, spec, _, response, ratio = GLMMS[case]
        inverse = (lambda x: 1 / (1 + np.exp(-x))) if case == "cbpp" else np.exp
        e = mm.emmeans(m, spec)
        r = mm.emmeans(m, spec, type="response")
        link, resp = e.table, r.table
        mu = inverse(link["emmean"].to_numpy())
        np.testing.assert_allclose(resp[response], mu, rtol=1e-12)
        dmu = mu * (1 - mu) if case == "cbpp" else mu
        np.testing.assert_allclose(resp["SE"], dmu * link["SE"], rtol=1e-10)
        np.testing.assert_allclose(
            resp["asymp_LCL"], inverse(link["asymp_LCL"].to_numpy()), rtol=1e-12
        )
        odds = r.pairs().table
        diffs = e.pairs().table
        np.testing.assert_allclose(odds[ratio], np.exp(diffs["estimate"]), rtol=1e-12)
        np.testing.assert_allclose(odds["p_value"], diffs["p_value"], rtol=1e-12)
        with pytest.raises(mm.ArgumentError) as err:
            mm.emmeans(m, spec, ddf="kenward-roger")
        assert err.value.parameter == "ddf"


def test_studentized_range_against_r():
    fx = fixture("emmeans_tukey")
    p = fx["ptukey"]
    for q, n, df, upper in zip(p["q"], p["nmeans"], p["df"], p["upper"], strict=True):
        df = math.inf if df is None else df
        got = mm._core.ptukey(q, n, df, lower_tail=False)
        assert abs(got - upper) <= 5e-6 * upper + 1e-9, (q, n, df, got, upper)
    qq = fx["qtukey"]
    for prob, n, df, q in zip(qq["p"], qq["nmeans"], qq["df"], qq["q"], strict=True):
        df = math.inf if df is None else df
        assert abs(mm._core.qtukey(prob, n, df) - q) <= 1e-6 * q


def test_bad_arguments(cake):
    m, _ = cake
    with pytest.raises(mm.DataError) as err:
        mm.emmeans(m, "recipee")
    assert err.value.column == "recipee"
    with pytest.raises(mm.DataError) as err:
        mm.emmeans(m, "recipe", by="replicate")
    assert err.value.column == "replicate"
    cov = mm.lmm("angle ~ 1 + recipe * temp + (1 | recipe:replicate)", mm.dataset("cake"),
                 reml=True)  # fmt: skip
    with pytest.raises(mm.DataError) as err:
        mm.emmeans(cov, "recipe", at={"temp": ["hot"]})
    assert err.value.column == "temp"
    with pytest.raises(mm.DataError) as err:
        mm.emmeans(m, "recipe", at={"recipe": ["A", "Z"]})
    assert (err.value.column, err.value.level) == ("recipe", "Z")
    with pytest.raises(mm.ArgumentTypeError) as err:
        mm.emmeans(m, 3)
    assert err.value.parameter == "specs"
    with pytest.raises(mm.ArgumentError) as err:
        mm.emmeans(m, "recipe", ddf="bogus")
    assert err.value.parameter == "ddf"
    with pytest.raises(mm.ArgumentError) as err:
        mm.emmeans(m, "recipe", type="probability")
    assert err.value.parameter == "type"
    with pytest.raises(mm.ArgumentError) as err:
        mm.emmeans(m, "recipe", level=1.5)
    assert err.value.parameter == "level"
    e = mm.emmeans(m, "recipe")
    with pytest.raises(mm.ArgumentError) as err:
        e.pairs(adjust="scheffe")
    assert err.value.parameter == "adjust"
    with pytest.raises(mm.ArgumentError) as err:
        e.contrast("helmert")
    assert err.value.parameter == "method"
    with pytest.raises(mm.ArgumentError) as err:
        e.contrast({"c": [1, -1]})
    assert err.value.parameter == "method"
    unfitted = mm.LinearMixedModel("angle ~ recipe + (1 | recipe:replicate)", mm.dataset("cake"))
    with pytest.raises(mm.NotFittedError):
        mm.emmeans(unfitted, "recipe")


def test_tukey_on_other_families_becomes_sidak(cake):
    m, _ = cake
    c = mm.emmeans(m, "recipe").contrast("trt.vs.ctrl", adjust="tukey")
    assert c.adjust == "sidak"
    assert mm.emmeans(m, "recipe").contrast("poly").adjust == "none"


def test_rendering(cake):
    m, _ = cake
    e = mm.emmeans(m, "temperature", by="recipe")
    text = repr(e)
    assert "emmean" in text and "kenward-roger" in text
    assert "<table" in e._repr_html_()
    c = e.pairs()
    assert "tukey method for 6 estimates" in repr(c)
    assert "<table" in c._repr_html_()


def test_defaults_for_ml_fits_and_identity_response():
    m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"))
    assert not m.reml
    e = mm.emmeans(m, "Machine")
    assert e.ddf == "satterthwaite"
    r = mm.emmeans(m, "Machine", type="response")
    assert r.table.columns[1] == "response"
    np.testing.assert_allclose(r.table["response"], e.table["emmean"], rtol=1e-14)
    np.testing.assert_allclose(r.table["upper_CL"], e.table["upper_CL"], rtol=1e-14)
