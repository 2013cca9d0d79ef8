"""The Python API of linear mixed models: extractors with MixedModels.jl's reference
values (tests/reference/mixedmodels_jl_values.md, rows L1–L11), refits, fixed σ,
threads, display and the command line."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"


@pytest.fixture(scope="module")
def fm1():
    return mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))


@pytest.fixture(scope="module")
def fm2():
    return mm.lmm(SLEEP, mm.dataset("sleepstudy"))


def test_l1_dyestuff_extractors(fm1):
    np.testing.assert_allclose(fm1.objective_at([0.713]), 327.34216280954615, rtol=1e-10)
    fm1.fit()
    np.testing.assert_allclose(fm1.theta, [0.7525806540074477], atol=1e-5)
    np.testing.assert_allclose(fm1.logdet, 8.06014611206176, atol=1e-3)
    np.testing.assert_allclose(fm1.pwrss, 73537.50110666081, atol=1e-2)
    lev = fm1.leverage()
    np.testing.assert_allclose(lev[0], 0.1565053420672158, rtol=1e-5)
    np.testing.assert_allclose(lev.sum(), 4.695160262016474, rtol=1e-5)
    np.testing.assert_allclose(fm1.dof_residual(), 30 - 4.695160262016474, rtol=1e-5)
    assert abs(fm1.u[0].sum()) < 1e-5
    np.testing.assert_allclose(fm1.aicc(), 334.2501, atol=1e-4)


def test_l3_l4_conditional_variances():
    pen = mm.lmm("diameter ~ 1 + (1 | plate) + (1 | sample)", mm.dataset("penicillin"))
    cv = pen.condvar()
    np.testing.assert_allclose(cv["plate"][0, 0, 0], 0.07331356908917808, rtol=1e-4)
    np.testing.assert_allclose(cv["sample"][-1, 0, 0], 0.04051591717427688, rtol=1e-4)
    np.testing.assert_allclose(pen.u[0][0, 0], 0.5231574704291094, rtol=1e-4)
    np.testing.assert_allclose(pen.b[1][-1, 0], -3.0018241391465703, rtol=1e-4)
    np.testing.assert_allclose(pen.logdet, 95.74676552743833, atol=5e-3)
    pastes = mm.lmm("strength ~ 1 + (1 | batch/cask)", mm.dataset("pastes"))
    cv = pastes.condvar()
    np.testing.assert_allclose(cv["batch & cask"][0, 0, 0], 1.1118647819999143, rtol=1e-4)
    np.testing.assert_allclose(cv["batch"][-1, 0, 0], 0.850420001234007, rtol=1e-4)
    np.testing.assert_allclose(pastes.logdet, 101.03834542101686, atol=1e-3)


def test_l5_insteval_three_terms():
    m = mm.lmm("y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", mm.dataset("insteval"))
    np.testing.assert_allclose(m.objective, 237721.76877450474, atol=1e-3)
    np.testing.assert_allclose(m.fitted()[0], 3.1787619026604945, atol=1e-4)
    np.testing.assert_allclose(m.residuals()[0], 1.8212380973395055, atol=1e-5)


def test_l8_sleepstudy_extractors(fm2):
    np.testing.assert_allclose(fm2.pwrss, 117889.27379003687, rtol=1e-5)
    np.testing.assert_allclose(fm2.logdet, 73.90350673367566, atol=1e-3)
    np.testing.assert_allclose(fm2.loglikelihood(), -875.9696722318341, atol=1e-5)
    np.testing.assert_allclose(fm2.leverage().sum(), 28.611653305323234, rtol=1e-5)
    np.testing.assert_allclose(fm2.vcov(corr=True)[0, 1], -0.13755599049585931, atol=1e-4)
    np.testing.assert_allclose(fm2.u[0][0, 0], 3.030047743065841, atol=1e-3)
    np.testing.assert_allclose(fm2.b[0][0, 0], 2.8156104060324334, atol=1e-3)
    s = np.linalg.svd(fm2.λ[0], compute_uv=False)
    np.testing.assert_allclose(s[0] / s[-1], 4.175266438717022, atol=1e-4)
    assert fm2.θ is not None and fm2.β is not None and fm2.σ == fm2.sigma
    np.testing.assert_allclose(fm2.lowerbd, [0, -np.inf, 0])


def test_l10_l11_single_terms():
    df = mm.dataset("sleepstudy")
    m = mm.lmm("Reaction ~ 1 + Days + (0 + Days | Subject)", df)
    np.testing.assert_allclose(m.objective, 1774.080315280526, rtol=1e-5)
    np.testing.assert_allclose(m.theta, [0.24353985601485326], rtol=1e-5)
    m = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", df)
    m.objective_at([1.1656121258575225])
    np.testing.assert_allclose(m.stderror(), [9.5062, 0.8017], atol=5e-5)


def test_tables(fm2):
    table = fm2.coeftable()
    assert table.columns == ["name", "estimate", "stderror", "z", "p"]
    assert table["name"].to_list() == ["(Intercept)", "Days"]
    ranef = fm2.ranef()
    assert list(ranef) == ["Subject"]
    assert ranef["Subject"].columns == ["Subject", "(Intercept)", "Days"]
    assert ranef["Subject"].height == 18
    vc = fm2.varcorr()
    df = vc.to_polars()
    assert df["group"].to_list() == ["Subject", "Subject", "Residual"]
    assert "Variance components:" in str(vc)
    log = fm2.fitlog()
    assert log.height == fm2.optsum["evaluations"]
    assert log.columns == ["iteration", "theta_1", "theta_2", "theta_3", "objective"]
    np.testing.assert_allclose(log["objective"].min(), fm2.objective, rtol=1e-12)
    o = fm2.optsum
    assert o["optimizer"] == "auto"
    np.testing.assert_allclose(o["initial"], sleepstudy_moment_start(), rtol=1e-10)
    fresh = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    np.testing.assert_allclose(o["finitial"], fresh.objective_at(o["initial"]), rtol=1e-12)
    md = fm2._repr_markdown_()
    assert "| Days |" in md and "Residual" in md
    assert "<table" in fm2._repr_html_()


def test_refit_with_new_response_reuses_the_model(fm2):
    df = mm.dataset("sleepstudy")
    y2 = df["Reaction"].to_numpy() * 2.0 + 1.0
    m = mm.LinearMixedModel(SLEEP, df).fit()
    m.refit(y2)
    ref = mm.lmm(SLEEP, df.with_columns(pl.Series("Reaction", y2)))
    np.testing.assert_allclose(m.objective, ref.objective, rtol=1e-10)
    np.testing.assert_allclose(m.beta, 2 * fm2.beta + [1.0, 0.0], rtol=1e-6)


def test_fixed_sigma_at_the_ml_estimate_gives_the_ml_fit(fm2):
    m = mm.lmm(SLEEP, mm.dataset("sleepstudy"), sigma=fm2.sigma)
    np.testing.assert_allclose(m.objective, fm2.objective, rtol=1e-9)
    np.testing.assert_allclose(m.theta, fm2.theta, rtol=1e-3, atol=1e-4)
    assert m.sigma == fm2.sigma and m.dof == fm2.dof - 1
    bigger = mm.lmm(SLEEP, mm.dataset("sleepstudy"), sigma=2 * fm2.sigma)
    assert bigger.objective > fm2.objective + 1


def test_fits_from_several_threads_agree():
    df = mm.dataset("insteval")
    formula = "y ~ 1 + service + (1 | s) + (1 | d)"
    ref = mm.lmm(formula, df)
    results: list[float] = []

    def work():
        results.append(mm.lmm(formula, df).objective)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    np.testing.assert_allclose(results, ref.objective, rtol=1e-12)


def test_thread_count_does_not_change_the_numbers():
    df = mm.dataset("insteval")
    formula = "y ~ 1 + service + (1 | s) + (1 | d)"
    one = mm.lmm(formula, df, threads=1)
    two = mm.lmm(formula, df, threads=2)
    np.testing.assert_allclose(one.objective, two.objective, rtol=1e-12)
    np.testing.assert_allclose(one.theta, two.theta, rtol=1e-8)


def test_command_line(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "mixedmodels", SLEEP, "sleepstudy"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Linear mixed model fit by maximum likelihood" in out.stdout
    assert "1751.93934" in out.stdout
    path = tmp_path / "dye.csv"
    mm.dataset("dyestuff").write_csv(path)
    out = subprocess.run(
        [sys.executable, "-m", "mixedmodels", "Yield ~ 1 + (1 | Batch)", str(path), "--reml"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "REML criterion at convergence: 319.654276" in out.stdout
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mixedmodels",
            "Reaction ~ 1 + Days + (1|Subject)",
            "sleepstudy",
            "--contrasts",
            "Days=effects",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Days: 1.0" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "mixedmodels", "y ~ 1 + (1|g)", "sleepstudy"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "`y`" in bad.stderr


def test_likelihood_ratio_test_l12():
    # MixedModels.jl reference L12: dof 5 vs 6, −2logLik 1775.4759 vs 1751.9393,
    # χ² 23.5365 on 1 dof, P < 1e-05.
    df = mm.dataset("sleepstudy")
    m0 = mm.lmm("Reaction ~ 1 + (1 + Days | Subject)", df)
    m1 = mm.lmm(SLEEP, df)
    t = mm.likelihoodratiotest(m0, m1)
    assert t["dof"].to_list() == [5, 6]
    np.testing.assert_allclose(t["deviance"].to_list(), [1775.4759, 1751.9393], atol=1e-4)
    np.testing.assert_allclose(t["chisq"][1], 23.5365, atol=1e-4)
    assert t["chisq_dof"][1] == 1 and t["p"][1] < 1e-5
    assert t["chisq"][0] is None
    with pytest.warns(mm.RefitWarning):  # a REML fit is refitted by ML (a copy)
        refit = mm.likelihoodratiotest(m0, mm.lmm(SLEEP, df, reml=True))
    np.testing.assert_allclose(refit["chisq"][1], t["chisq"][1], rtol=1e-10)
    pastes = mm.dataset("pastes")
    nested = mm.lmm("strength ~ 1 + (1 | batch/cask)", pastes)
    inner = mm.lmm("strength ~ 1 + (1 | batch & cask)", pastes)
    # MixedModels.jl reference L4t: p = 0.5233767965780878 (atol 1e-4).
    np.testing.assert_allclose(
        mm.likelihoodratiotest(inner, nested)["p"][1], 0.5233767965780878, atol=1e-4
    )


def test_theta_and_component_names_follow_lme4():
    """θ's names as lme4's getME(m, "theta"), the components' as confint(oldNames=FALSE)."""
    m = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    assert m.theta_names == ["Subject.(Intercept)", "Subject.Days.(Intercept)", "Subject.Days"]
    assert m.component_names == [
        "sd_(Intercept)|Subject",
        "cor_Days.(Intercept)|Subject",
        "sd_Days|Subject",
    ]
    g = mm.GeneralizedLinearMixedModel(
        "r2 ~ 1 + Anger + (1 | id) + (1 | item)", mm.dataset("verbagg"), "bernoulli"
    )
    assert g.theta_names == ["id.(Intercept)", "item.(Intercept)"]
    assert g.component_names == ["sd_(Intercept)|id", "sd_(Intercept)|item"]


def sleepstudy_moment_start():
    """The moment start of sleepstudy's (1 + Days | Subject) by its documented formula
    (src/lmm/start.rs), in numpy: per-subject least squares on the OLS residuals,
    Σ̂_cc the precision-weighted mean of b̂²_gc − s²(M_g⁻¹)_cc, λ_cc = √(Σ̂_cc/s²)."""
    d = mm.dataset("sleepstudy")
    y = d["Reaction"].to_numpy()
    days = d["Days"].to_numpy().astype(float)
    subjects = d["Subject"].to_numpy()
    x = np.column_stack([np.ones_like(days), days])
    r = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    rss, n, p = r @ r, len(y), 2
    fits, projected, column = [], 0.0, np.zeros(2)
    for s in np.unique(subjects):
        z, rs = x[subjects == s], r[subjects == s]
        m, zr = z.T @ z, z.T @ rs
        b = np.linalg.solve(m, zr)
        projected += b @ zr
        column += zr**2 / np.diag(m)
        fits.append((b, np.diag(np.linalg.inv(m))))
    levels = len(fits)
    s2 = min(
        (rss - projected) / (n - p - 2 * levels),
        *((rss - column[c]) / (n - p - levels) for c in range(2)),
    )
    sigma = [
        sum(b[c] ** 2 / inv[c] - s2 for b, inv in fits) / sum(1 / inv[c] for _, inv in fits)
        for c in range(2)
    ]
    return [np.sqrt(sigma[0] / s2), 0.0, np.sqrt(sigma[1] / s2)]
