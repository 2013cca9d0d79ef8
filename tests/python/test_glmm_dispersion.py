"""GLMMs with a dispersion parameter from Python (Gamma, NegativeBinomial, Normal
with a log link) against glmmTMB 1.1.5 fixtures (tests/fixtures/disp_*.json, written by
tests/fixtures/generate_dispersion.R), and the extractors, simulation, persistence,
likelihood-ratio tests, command line and bad input for these families.

Tolerances: −2 log L to 1e-6 relative (both fits stop within ~1e-7 of the same
optimum), φ and β to 1e-4 relative (the Rust tests, tests/glmm_dispersion.rs, check
every fixture in full).
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"
SLEEP = "Reaction ~ 1 + Days + (1 | Subject)"
TICKS = "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION)"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def gamma_fit():
    return mm.glmm(SLEEP, mm.dataset("sleepstudy"), family=mm.Gamma(link="log"))


@pytest.fixture(scope="module")
def nb_fit():
    return mm.glmm(TICKS, mm.dataset("grouseticks"), family=mm.NegativeBinomial())


def test_gamma_log_against_glmmtmb(gamma_fit):
    fx = fixture("disp_sleepstudy_gamma_log")
    m = gamma_fit
    assert (m.family, m.link) == ("Gamma", "LogLink")
    assert m.objective == pytest.approx(fx["objective"], rel=1e-6)
    assert m.aic() == pytest.approx(fx["aic"], rel=1e-6)
    assert m.loglikelihood() == pytest.approx(-0.5 * fx["objective"], rel=1e-6)
    assert m.dispersion == pytest.approx(fx["phi"], rel=1e-4)
    assert m.dispersion_log_stderror == pytest.approx(fx["se_log_phi"], rel=1e-3)
    np.testing.assert_allclose(np.asarray(m.beta), fx["beta"], rtol=1e-4)
    text = m.summary()
    assert "Dispersion" in text and "observed information" in text


def test_negative_binomial_against_glmmtmb(nb_fit):
    fx = fixture("disp_grouseticks_nb2")
    m = nb_fit
    assert m.objective == pytest.approx(fx["objective"], rel=1e-6)
    assert m.dispersion == pytest.approx(fx["phi"], rel=1e-4)
    assert "Size k" in m.summary()
    # glmer.nb's expected-information Laplace is a different objective.
    assert fx["glmer"]["objective"] < m.objective - 0.1
    same = mm.glmm(TICKS, mm.dataset("grouseticks"), family="negativebinomial", link="log")
    assert same.objective == pytest.approx(m.objective, rel=1e-9)


def test_gaussian_log_link():
    fx = fixture("disp_gaussian_log")
    m = mm.glmm("y ~ 1 + x + (1 | g)", pl.DataFrame(fx["data"]), family=mm.Normal(link="log"))
    assert m.objective == pytest.approx(fx["objective"], rel=1e-6)
    assert m.dispersion == pytest.approx(fx["phi"], rel=1e-4)


def test_extractors(nb_fit):
    m = nb_fit
    n = m.nobs
    for kind in ("deviance", "pearson", "response", "working"):
        r = m.residuals(kind)
        assert r.shape == (n,) and np.all(np.isfinite(r))
    np.testing.assert_allclose(m.predict(), m.fitted(), rtol=1e-12)
    v = m.vcov()
    assert v.shape == (4, 4) and np.all(np.diag(v) > 0)
    cv = m.condvar()
    assert set(cv) == {"BROOD", "LOCATION"} and np.all(np.asarray(cv["BROOD"]) > 0)
    assert set(m.ranef()) == {"BROOD", "LOCATION"}
    assert np.isfinite(m.deviance()) and m.deviance() > 0


def test_simulate_draws_the_family(gamma_fit, nb_fit):
    y = nb_fit.simulate(seed=3, n=2)
    assert y.shape == (nb_fit.nobs, 2)
    assert np.all(y >= 0) and np.all(y == np.round(y))
    assert np.array_equal(y, nb_fit.simulate(seed=3, n=2))
    g = gamma_fit.simulate(seed=1, n=200)
    assert np.all(g > 0)
    # Across replicates the mean response is near the marginal mean (≈ the fitted
    # population mean times exp(σ_b²/2)); a loose check that the draws are Gamma.
    mu_pop = gamma_fit.predict(random_effects=False)
    ratio = g.mean(axis=1) / mu_pop
    assert 0.95 < ratio.mean() < 1.08


def test_save_restore_keeps_the_dispersion(tmp_path, gamma_fit):
    path = tmp_path / "gamma.json"
    gamma_fit.save(path)
    r = mm.restore(path, SLEEP, mm.dataset("sleepstudy"))
    assert r.dispersion == gamma_fit.dispersion
    assert r.objective == pytest.approx(gamma_fit.objective, rel=1e-12)


def test_likelihood_ratio_test(nb_fit):
    small = mm.glmm(
        "TICKS ~ 1 + YEAR + (1 | BROOD) + (1 | LOCATION)",
        mm.dataset("grouseticks"),
        family=mm.NegativeBinomial(),
    )
    t = mm.likelihoodratiotest(small, nb_fit)
    assert t.height == 2
    chisq = 2 * (nb_fit.loglikelihood() - small.loglikelihood())
    assert chisq > 0 and t["dof"].to_list()[1] - t["dof"].to_list()[0] == 1


def test_bad_responses_name_the_row():
    d = mm.dataset("sleepstudy").with_row_index("i")
    zero = d.with_columns(
        pl.when(pl.col("i") == 7).then(0.0).otherwise(pl.col("Reaction")).alias("Reaction")
    )
    with pytest.raises(mm.DataError) as err:
        mm.glmm(SLEEP, zero, family=mm.Gamma(link="log"))
    assert (err.value.column, err.value.row) == ("Reaction", 7)
    with pytest.raises(mm.DataError) as err:
        mm.glmm(SLEEP, zero, family=mm.InverseGaussian())
    assert err.value.row == 7
    t = mm.dataset("grouseticks").with_row_index("i")
    half = t.with_columns(
        pl.when(pl.col("i") == 5).then(1.5).otherwise(pl.col("TICKS")).alias("TICKS")
    )
    with pytest.raises(mm.DataError) as err:
        mm.glmm(TICKS, half, family=mm.NegativeBinomial())
    assert (err.value.column, err.value.row) == ("TICKS", 5)
    neg = t.with_columns(
        pl.when(pl.col("i") == 11).then(-1.0).otherwise(pl.col("TICKS")).alias("TICKS")
    )
    with pytest.raises(mm.DataError) as err:
        mm.glmm(TICKS, neg, family="negativebinomial")
    assert err.value.row == 11
    with pytest.raises(mm.ArgumentError) as err:
        mm.glmm(SLEEP, mm.dataset("sleepstudy"), family=mm.Gamma(link="logit"))
    assert err.value.parameter == "link"
    with pytest.raises(mm.ArgumentError) as err:
        mm.glmm(TICKS, mm.dataset("grouseticks"), family=mm.NegativeBinomial(), nagq=5)
    assert err.value.parameter == "nagq"


def test_adaptive_quadrature_gamma():
    # nAGQ > 1 for one scalar term: the fit reaches R's maximum of the
    # numerically integrated likelihood (tests/fixtures/disp_agq.json, written by
    # generate_dispersion_agq.R; −2 log L to 1e-8, φ and θ to 1e-4 relative).
    ref = fixture("disp_agq")["cases"][0]["exact_fit"]
    m = mm.glmm(SLEEP, mm.dataset("sleepstudy"), family=mm.Gamma(link="log"), nagq=25)
    assert m.nagq == 25
    assert m.objective == pytest.approx(ref["objective"], rel=1e-8)
    assert m.dispersion == pytest.approx(ref["phi"], rel=1e-4)
    assert m.theta[0] == pytest.approx(ref["theta"][0], rel=1e-4)


def test_command_line_gamma():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mixedmodels",
            SLEEP,
            "sleepstudy",
            "--family",
            "gamma",
            "--link",
            "log",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "1767.1567" in out.stdout and "Dispersion" in out.stdout


def test_profile_is_refused(nb_fit):
    # Profiles' conditional fits would hold φ at its estimate.
    with pytest.raises(mm.ArgumentError) as err:
        mm.profile(nb_fit)
    assert err.value.parameter == "model"


def test_bootstrap_has_the_dispersion(gamma_fit):
    # Replicate k is the refit to simulate's column k: its φ is that refit's φ (the
    # fits themselves are checked against glmmTMB above); φ is a confint row too.
    b = mm.parametricbootstrap(gamma_fit, 3, seed=5, progress=False)
    y = gamma_fit.simulate(seed=5, n=3)
    data = mm.dataset("sleepstudy")
    for k in range(3):
        d = data.with_columns(pl.Series("Reaction", y[:, k]))
        copy = mm.glmm(SLEEP, d, family=mm.Gamma(link="log"))
        row = b.table.row(k, named=True)
        assert row["phi"] == pytest.approx(copy.dispersion, rel=1e-10)
        assert row["objective"] == pytest.approx(copy.objective, rel=1e-10)
    ci = b.confint(method="percentile")
    phi_row = ci.filter(pl.col("parameter") == "phi")
    assert phi_row["estimate"][0] == gamma_fit.dispersion
    assert (
        "phi"
        not in mm.parametricbootstrap(
            mm.lmm(SLEEP, mm.dataset("sleepstudy")), 2, seed=1, progress=False
        ).table.columns
    )


def test_r2_and_icc_refuse_the_dispersion_families(gamma_fit, nb_fit):
    # performance's distribution-specific variances of Gamma and NB2 are not
    # implemented: a typed refusal naming the model, not a number.
    for m in (gamma_fit, nb_fit):
        for f in (mm.r2, mm.icc):
            with pytest.raises(mm.ArgumentError) as err:
                f(m)
            assert err.value.parameter == "model"


def test_quasi_newton_and_bobyqa_reach_the_same_optimum(nb_fit, gamma_fit):
    # The default (auto) fits these families with BFGS and the exact gradient in
    # (β, θ, log φ); BOBYQA reaches the same optimum (−2 log L to 1e-8: both stop
    # within ~1e-9 of it) with many more evaluations.
    for m, formula, data, family in [
        (nb_fit, TICKS, "grouseticks", mm.NegativeBinomial()),
        (gamma_fit, SLEEP, "sleepstudy", mm.Gamma(link="log")),
    ]:
        stages = m.optsum["stages"]
        assert [s["optimizer"] for s in stages] == ["BFGS", "BFGS"]
        assert m.optsum["gradient_evaluations"] > 0
        assert m.optsum["certificate"]["method"] == "analytic"
        b = mm.glmm(formula, mm.dataset(data), family=family, optimizer="bobyqa")
        assert {s["optimizer"] for s in b.optsum["stages"]} == {"BOBYQA"}
        assert m.objective == pytest.approx(b.objective, rel=1e-8)
        assert m.objective <= b.objective * (1 + 1e-9)
        assert m.optsum["evaluations"] < b.optsum["evaluations"]
        q = mm.glmm(formula, mm.dataset(data), family=family, optimizer="bfgs")
        assert q.objective == pytest.approx(m.objective, rel=1e-12)
    # The quasi-Newton method needs the Laplace objective's gradient.
    with pytest.raises(mm.ArgumentError) as err:
        mm.glmm(
            SLEEP, mm.dataset("sleepstudy"), family=mm.Gamma(link="log"), nagq=5, optimizer="bfgs"
        )
    assert err.value.parameter == "optimizer"
