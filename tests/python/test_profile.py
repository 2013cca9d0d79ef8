"""Profile likelihoods and confidence intervals (mm.profile, ProfileResult, m.confint)
against lme4 1.1-31 (tests/fixtures/profile_*.json, tests/fixtures/generate_profile.R).

The numerical comparisons of every fixture are in tests/profile_lme4.rs; here the
Python face: the tables, kb07 (a crossed design whose data the Rust tests do not
carry), the sleepstudy REML and cbpp intervals through ``m.confint``, and the typed
errors. Tolerances as in the Rust tests: refined profile ends within 2e-6 of the
exact roots of lme4's profile (2e-4 for cbpp, whose lme4 objective is perturbed) and
within 5e-4 of lme4's ``confint`` (acceptance 1e-3); LMM Wald intervals at lme4's θ
to 1e-8.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(case: str) -> dict:
    return json.loads((FIXTURES / f"profile_{case}.json").read_text())


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b) if b != 0 else abs(a)


def check_ends(table: pl.DataFrame, fx: dict, level: str, exact_tol: float) -> None:
    """Our ends against lme4's confint and the exact roots of its profile."""
    for k, name in enumerate(fx["names_ours"]):
        row = table.filter(parameter=name).row(0, named=True)
        for side in ("lower", "upper"):
            ours = row[side]
            lme4 = fx[f"profile_{level}"][side][k]
            exact = fx[f"exact_{level}"][side][k]
            if exact is None:
                assert ours == lme4, (name, side)
                continue
            assert rel(ours, exact) <= exact_tol, (name, side, ours, exact)
            if rel(lme4, exact) <= 1e-3:
                assert rel(ours, lme4) <= 5e-4, (name, side, ours, lme4)


@pytest.fixture(scope="module")
def sleep_reml():
    fx = fixture("sleepstudy_REML")
    return fx, mm.lmm(fx["formula"], mm.dataset("sleepstudy"), reml=True)


def test_profile_table_and_intervals(sleep_reml):
    fx, m = sleep_reml
    theta = m.theta.copy()
    pr = mm.profile(m)
    assert isinstance(pr, mm.ProfileResult)
    np.testing.assert_array_equal(m.theta, theta)  # the model is left as fitted
    assert pr.parameters == fx["names_ours"]
    assert pr.refitted_ml  # a REML fit is profiled on the ML deviance, as lme4's
    assert pr.deviance == pytest.approx(fx["ml"]["deviance"], rel=1e-9)
    est = pr.estimates
    for name, e in zip(fx["names_ours"], fx["ml"]["estimates"], strict=True):
        assert est[name] == pytest.approx(e, rel=1e-4)
    t = pr.table
    assert t.columns == ["parameter", "zeta", "value", *pr.parameters]
    assert set(t["parameter"].unique()) == set(pr.parameters)
    for name in pr.parameters:
        part = t.filter(parameter=name)
        assert (part["value"] == part[name]).all()
        assert part["zeta"].is_sorted() and part["value"].is_sorted()
        # each profile goes beyond |ζ| = 4, or to the end of the range (a correlation of 1)
        assert part["zeta"].min() < -pr.threshold or part["value"].min() in (0.0, -1.0)
        assert part["zeta"].max() > pr.threshold or part["value"].max() == 1.0
    for level in ("90", "95", "99"):
        ci = pr.confint(int(level) / 100)
        assert ci.columns == ["parameter", "estimate", "lower", "upper"]
        assert ci.schema["lower"] == pl.Float64
        check_ends(ci, fx, level, 2e-6)
    spline = pr.confint(0.95, refine=False)
    for k, name in enumerate(fx["names_ours"]):
        row = spline.filter(parameter=name).row(0, named=True)
        assert rel(row["lower"], fx["profile_95"]["lower"][k]) <= 2e-3
        assert rel(row["upper"], fx["profile_95"]["upper"][k]) <= 2e-3
    assert "ProfileResult of 6 parameters" in repr(pr)


def test_confint_methods_on_a_reml_fit(sleep_reml):
    fx, m = sleep_reml
    check_ends(m.confint("profile"), fx, "95", 2e-6)
    pr = mm.profile(m)
    check_ends(m.confint(method="profile", level=0.9, profile=pr), fx, "90", 2e-6)
    # Wald at lme4's θ: β̂, σ̂ and the standard errors follow from θ (REML criterion)
    w = mm.LinearMixedModel(fx["formula"], mm.dataset("sleepstudy"))
    w._core.set_reml(True)
    w.objective_at(fx["theta"])
    for level, key in ((0.95, "wald_95"), (0.9, "wald_90")):
        ci = w.confint(level=level)
        assert ci["parameter"].to_list() == fx["names_ours"]
        nvc = len(w.theta) + 1
        assert ci["lower"][:nvc].is_null().all() and ci["upper"][:nvc].is_null().all()
        for side in ("lower", "upper"):
            got = ci[side][nvc:].to_numpy()
            want = np.array(fx[key][side][nvc:])
            np.testing.assert_allclose(got, want, rtol=1e-8)
        assert ci["estimate"][nvc - 1] == pytest.approx(fx["sigma"], rel=1e-8)


def test_kb07_crossed_design():
    fx = fixture("kb07_ML")
    m = mm.lmm(fx["formula"], mm.dataset("kb07"))
    pr = mm.profile(m)
    assert pr.parameters == fx["names_ours"]
    check_ends(pr.confint(0.95), fx, "95", 2e-6)
    w = mm.LinearMixedModel(fx["formula"], mm.dataset("kb07"))
    w.objective_at(fx["theta"])
    ci = w.confint()
    nvc = len(fx["theta"]) + 1
    for side in ("lower", "upper"):
        np.testing.assert_allclose(
            ci[side][nvc:].to_numpy(), np.array(fx["wald_95"][side][nvc:]), rtol=1e-8
        )


def test_glmm_profile_and_wald():
    fx = fixture("cbpp_binomial")
    m = mm.glmm(fx["formula"], mm.dataset("cbpp"), mm.Binomial())
    check_ends(m.confint("profile"), fx, "95", 2e-4)
    m.evaluate(fx["theta"], fx["beta"])
    ci = m.confint()
    assert ci["parameter"].to_list() == fx["names_ours"]  # no sigma row
    assert ci["lower"][0] is None and ci["upper"][0] is None
    for side in ("lower", "upper"):
        # against β ± z·se from lme4's vcov(use.hessian = FALSE) (see test docstring of
        # tests/profile_lme4.rs: lme4's R_X is one PIRLS iterate off the mode)
        np.testing.assert_allclose(
            ci[side][1:].to_numpy(), np.array(fx["wald_rx_95"][side][1:]), rtol=1e-4
        )


def test_bad_arguments_are_typed_errors(sleep_reml):
    _, m = sleep_reml
    with pytest.raises(mm.ArgumentError) as e:
        m.confint("bogus")
    assert e.value.parameter == "method"
    with pytest.raises(mm.ArgumentTypeError) as e:
        m.confint(3)
    assert e.value.parameter == "method"
    for level in (0.0, 1.0, 1.5, float("nan")):
        with pytest.raises(mm.ArgumentError) as e:
            m.confint(level=level)
        assert e.value.parameter == "level"
    with pytest.raises(mm.ArgumentTypeError) as e:
        m.confint(level="0.95")
    assert e.value.parameter == "level"
    for kw in ({"n": 10}, {"seed": 1}, {"bootstrap": object()}, {"profile": object()}):
        with pytest.raises(mm.ArgumentError) as e:
            m.confint("wald", **kw)
        assert e.value.parameter == next(iter(kw))
    with pytest.raises(mm.ArgumentError) as e:
        m.confint("profile", bootstrap=object())
    assert e.value.parameter == "bootstrap"
    other = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    with pytest.raises(mm.ArgumentError) as e:
        m.confint("profile", profile=mm.profile(other))
    assert e.value.parameter == "profile"
    pr = mm.profile(other)
    with pytest.raises(mm.ArgumentError) as e:
        pr.confint(0.99999)  # beyond the threshold of 4
    assert e.value.parameter == "level"
    with pytest.raises(mm.ArgumentTypeError) as e:
        pr.confint(refine=1)
    assert e.value.parameter == "refine"
    with pytest.raises(mm.ArgumentTypeError) as e:
        mm.profile("model")
    assert e.value.parameter == "model"
    for threshold in (0, -1.0, float("inf")):
        with pytest.raises(mm.ArgumentError) as e:
            mm.profile(other, threshold=threshold)
        assert e.value.parameter == "threshold"


def test_bootstrap_hook():
    m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))

    class Result:
        def confint(self, level):
            return pl.DataFrame({"level": [level]})

    assert m.confint("boot", 0.9, bootstrap=Result())["level"].item() == 0.9
    with pytest.raises(mm.ArgumentError) as e:
        m.confint("boot", n=10)
    assert e.value.parameter == "seed"
    ci = m.confint("boot", 0.9, n=20, seed=5)
    want = mm.parametricbootstrap(m, 20, seed=5, progress=False).confint(level=0.9)
    assert ci.equals(want)


def test_models_that_cannot_be_profiled():
    d = mm.dataset("dyestuff")
    unfitted = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", d)
    with pytest.raises(mm.NotFittedError) as e:
        mm.profile(unfitted)
    assert e.value.what == "profile"
    with pytest.raises(mm.NotFittedError) as e:
        unfitted.confint()
    assert e.value.what == "confint"
    fixed = mm.lmm("Yield ~ 1 + (1 | Batch)", d, sigma=40.0)
    with pytest.raises(mm.ArgumentError) as e:
        mm.profile(fixed)
    assert e.value.parameter == "sigma"
    # a model changed since it was profiled: its refined intervals are refused
    m = mm.lmm("Yield ~ 1 + (1 | Batch)", d)
    pr = mm.profile(m)
    m._core.set_response((m.y + np.arange(m.nobs) % 3).tolist())
    m._core.fit(False)
    with pytest.raises(mm.ArgumentError) as e:
        pr.confint()
    assert e.value.parameter == "profile"
    assert pr.confint(refine=False).height == 3  # the points alone still give intervals
