"""Saving, restoring and pickling fitted models: the round trip is exact to the bit."""

import pickle

import numpy as np
import pytest

import mixedmodels as mm

SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"


def same_bits(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    assert (a.view(np.int64) == b.view(np.int64)).all(), (a, b)


def assert_identical(m, r):
    """Summary and every extractor equal to the bit."""
    assert str(r) == str(m)
    for name in ("theta", "beta", "objective"):
        same_bits(getattr(r, name), getattr(m, name))
    same_bits(r.stderror(), m.stderror())
    same_bits(r.vcov(), m.vcov())
    same_bits(r.fitted(), m.fitted())
    for a, b in zip(r.condvar().values(), m.condvar().values(), strict=True):
        same_bits(a, b)
    for a, b in zip(r.ranef().values(), m.ranef().values(), strict=True):
        assert a.equals(b)
    same_bits(r.loglikelihood(), m.loglikelihood())
    same_bits(r.aic(), m.aic())
    assert r.optsum == m.optsum
    assert r.fitlog().equals(m.fitlog())


def test_lmm_save_restore_is_bitwise(tmp_path):
    ss = mm.dataset("sleepstudy")
    for reml in (False, True):
        m = mm.lmm(SLEEP, ss, reml=reml)
        path = tmp_path / f"fit{reml}.json"
        m.save(path)
        r = mm.restore(path, SLEEP, ss)
        assert r.reml == reml
        assert_identical(m, r) if not reml else same_bits(r.theta, m.theta)
        same_bits(r.sigma, m.sigma)
        # Into an existing model, fitted or not.
        u = mm.LinearMixedModel(SLEEP, ss).restore(path)
        same_bits(u.objective, m.objective)


def test_glmm_save_restore_is_bitwise(tmp_path):
    cbpp = mm.dataset("cbpp")
    formula = "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"
    for fast, nagq in ((False, 1), (True, 1), (False, 7)):
        g = mm.glmm(formula, cbpp, family="binomial", fast=fast, nagq=nagq)
        path = tmp_path / "g.json"
        g.save(path)
        r = mm.restore(path, formula, cbpp)
        assert r.family == g.family and r.link == g.link and r.nagq == nagq
        assert_identical(g, r)


def test_restore_refuses_a_fit_of_other_data(tmp_path):
    ss = mm.dataset("sleepstudy")
    m = mm.lmm(SLEEP, ss)
    path = tmp_path / "fit.json"
    m.save(path)
    with pytest.raises(mm.RestoreError):
        mm.restore(path, SLEEP, ss.head(170))
    with pytest.raises(mm.RestoreError):
        mm.restore(path, "Reaction ~ 1 + Days + (1 | Subject)", ss)
    # Same shape, other response: the optimum does not reproduce.
    other = ss.with_columns(Reaction=ss["Reaction"] * 1.01)
    with pytest.raises(mm.RestoreError):
        mm.restore(path, SLEEP, other)
    path.write_text("not json")
    with pytest.raises(mm.RestoreError):
        mm.restore(path, SLEEP, ss)


def test_unfitted_model_cannot_be_saved(tmp_path):
    m = mm.LinearMixedModel(SLEEP, mm.dataset("sleepstudy"))
    with pytest.raises(mm.NotFittedError) as err:
        m.save(tmp_path / "x.json")
    assert err.value.what == "save"
    assert not (tmp_path / "x.json").exists()


def test_pickle_round_trip():
    ss = mm.dataset("sleepstudy")
    m = mm.lmm(SLEEP, ss, contrasts={"Subject": mm.DummyCoding()})
    r = pickle.loads(pickle.dumps(m))
    assert_identical(m, r)
    z = pickle.loads(pickle.dumps(mm.LinearMixedModel(SLEEP, ss).zerocorr().fit()))
    assert len(z.theta) == 2
    g = mm.glmm(
        "r2 ~ 1 + Anger + Gender + btype + situ + (1 | id) + (1 | item)",
        mm.dataset("verbagg"),
        family=mm.Bernoulli(),
    )
    assert_identical(g, pickle.loads(pickle.dumps(g)))
    unfitted = pickle.loads(pickle.dumps(mm.LinearMixedModel(SLEEP, ss)))
    assert not unfitted._core.is_fitted
    same_bits(unfitted.fit().objective, mm.lmm(SLEEP, ss).objective)


def test_save_restore_keeps_the_certificate(tmp_path):
    ss = mm.dataset("sleepstudy")
    m = mm.LinearMixedModel(SLEEP, ss)
    m._core.fit_from(False, [1.0, 0.0, 1.0], max_evaluations=4, certificate_restart=False)
    c = m.optsum["certificate"]
    assert c["status"] == "failed"
    path = tmp_path / "capped.json"
    m.save(path)
    r = mm.restore(path, SLEEP, ss)
    assert r.optsum["certificate"] == c
    g = mm.glmm(
        "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        mm.dataset("cbpp"),
        family="binomial",
    )
    g.save(path)
    back = mm.restore(
        path, "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)", mm.dataset("cbpp")
    )
    assert back.optsum["certificate"] == g.optsum["certificate"]
    assert back.optsum["certificate"]["status"] == "certified"
    assert back.optsum["certificate"]["scope"] == "beta_theta"
