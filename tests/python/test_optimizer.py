"""The optimizer of a linear mixed model fit: ``optimizer="auto"`` (the quasi-Newton
method with BOBYQA as fallback), ``"bfgs"`` and ``"bobyqa"`` reach the same optimum
(objective within 1e-8 relative; the fixtures compare each with lme4), the fit record
names the optimizer of each stage, and a saved fit keeps it."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mixedmodels as mm

SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"


@pytest.fixture(scope="module")
def sleep():
    return mm.dataset("sleepstudy")


@pytest.mark.parametrize("reml", [False, True])
def test_every_optimizer_reaches_the_same_optimum(sleep, reml):
    fits = {o: mm.lmm(SLEEP, sleep, reml=reml, optimizer=o) for o in ("auto", "bfgs", "bobyqa")}
    ref = fits["bobyqa"].objective
    for name, m in fits.items():
        np.testing.assert_allclose(m.objective, ref, rtol=1e-8, err_msg=name)
        np.testing.assert_allclose(m.theta, fits["bobyqa"].theta, rtol=1e-4, atol=1e-5)
        o = m.optsum
        assert o["optimizer"] == name
        assert o["certificate"]["status"] == "certified"
    stages = {name: [s["optimizer"] for s in m.optsum["stages"]] for name, m in fits.items()}
    assert stages["bfgs"] == ["BFGS"] and stages["bobyqa"] == ["BOBYQA"]
    assert stages["auto"][0] == "BFGS"
    # The quasi-Newton fit needs fewer evaluations; its gradients are counted apart.
    auto, bobyqa = fits["auto"].optsum, fits["bobyqa"].optsum
    assert auto["evaluations"] < bobyqa["evaluations"]
    assert bobyqa["gradient_evaluations"] == 0
    first = auto["stages"][0]
    assert 0 < first["gradient_evaluations"] <= first["evaluations"]
    assert auto["gradient_evaluations"] == sum(s["gradient_evaluations"] for s in auto["stages"])


def test_the_fit_method_takes_the_keyword(sleep):
    m = mm.LinearMixedModel(SLEEP, sleep)
    m.fit(optimizer="bobyqa")
    assert [s["optimizer"] for s in m.optsum["stages"]] == ["BOBYQA"]
    # A refit keeps the optimizer of the last fit.
    m.refit(sleep["Reaction"].to_numpy() * 2.0)
    assert m.optsum["optimizer"] == "bobyqa"
    m.fit()
    assert m.optsum["optimizer"] == "auto"
    assert m.optsum["stages"][0]["optimizer"] == "BFGS"


@pytest.mark.parametrize("value", ["lbfgs", "Auto", ""])
def test_an_unknown_optimizer_is_refused(sleep, value):
    m = mm.LinearMixedModel(SLEEP, sleep)
    with pytest.raises(mm.ArgumentError) as e:
        m.fit(optimizer=value)
    assert e.value.parameter == "optimizer"
    # The native method refuses it too, with the same error.
    with pytest.raises(mm.ArgumentError) as e:
        m._core.fit(False, value)
    assert e.value.parameter == "optimizer"
    assert not m._core.is_fitted


def test_a_saved_fit_keeps_the_optimizer_of_each_stage(sleep, tmp_path):
    m = mm.lmm(SLEEP, sleep)
    path = tmp_path / "fit.json"
    m.save(path)
    saved = json.loads(path.read_text())
    assert saved["settings"]["optimizer"] == "auto"
    assert [s["optimizer"] for s in saved["stages"]] == ["BFGS"]
    r = mm.LinearMixedModel(SLEEP, sleep).restore(path)
    assert r.optsum["stages"] == m.optsum["stages"]
    assert r.optsum["gradient_evaluations"] == m.optsum["gradient_evaluations"]
    # A file written before the quasi-Newton method (no optimizer per stage, the
    # settings' optimizer "BOBYQA") restores as a BOBYQA fit.
    for s in saved["stages"]:
        del s["optimizer"], s["gradient_evaluations"]
    del saved["gradient_evaluations"]
    saved["settings"]["optimizer"] = "BOBYQA"
    path.write_text(json.dumps(saved))
    old = mm.LinearMixedModel(SLEEP, sleep).restore(path)
    assert old.optsum["optimizer"] == "bobyqa"
    assert [s["optimizer"] for s in old.optsum["stages"]] == ["BOBYQA"]
    assert old.optsum["gradient_evaluations"] == 0
    np.testing.assert_allclose(old.objective, m.objective, rtol=1e-12)
