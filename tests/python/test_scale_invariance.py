"""Scale invariance as the user sees it: sleepstudy with ``Days`` in other units (× 10⁻⁸,
× 10⁸) gives lme4's optimum in those units — objective, predictions on new data, variance
components, conditional modes — with every reported number in the user's units, and saved
fits that restore. The whole series k = −8 … 8 (ML, REML, crossed and nested models, GLMMs,
a scaled response) is in tests/scale_invariance.rs."""

from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"
REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference" / "lme4_public.json"


@pytest.fixture(scope="module")
def lme4_ml() -> dict:
    with open(REFERENCE, encoding="utf-8") as f:
        models = json.load(f)["models"]
    return next(m for m in models if m["id"] == "sleepstudy_ML")


@pytest.fixture(scope="module")
def sleep() -> pl.DataFrame:
    return mm.dataset("sleepstudy")


@pytest.fixture(scope="module")
def base(sleep) -> mm.LinearMixedModel:
    return mm.lmm(SLEEP, sleep)


NEW = pl.DataFrame({"Subject": ["308", "308", "999"], "Days": [0.5, 12.0, 3.0]})


@pytest.mark.parametrize("c", [1e-8, 1e8])
def test_days_in_other_units(sleep, base, lme4_ml, c):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence warning
        m = mm.lmm(SLEEP, sleep.with_columns(pl.col("Days") * c))
    # lme4's optimum (1e-9 relative; ours at k = 0 is within 2e-11 of it).
    assert m.objective == pytest.approx(lme4_ml["objective"], rel=1e-9)
    assert m.optsum["certificate"]["status"] == "certified" and not m.issingular()
    # θ and β of the Days column in the new units (BOBYQA's radius 1e-6 on θ/unit).
    theta = list(lme4_ml["theta"].values())
    np.testing.assert_allclose(m.theta * [1, c, c], theta, rtol=1e-4)
    np.testing.assert_allclose(m.beta * [1, c], base.beta, rtol=1e-6)
    # The start (the data's moment estimate) follows the column: the Days row of λ
    # divided by c, to rounding.
    np.testing.assert_allclose(
        np.array(m.optsum["initial"]) * [1, c, c], base.optsum["initial"], rtol=1e-10
    )
    # Predictions: fitted, new data with a known and a new subject, population.
    np.testing.assert_allclose(m.predict(), base.predict(), rtol=1e-6)
    new = NEW.with_columns(pl.col("Days") * c)
    for kw in ({"new_levels": "population"}, {"random_effects": False}):
        np.testing.assert_allclose(m.predict(new, **kw), base.predict(NEW, **kw), rtol=1e-6)
    # Variance components and conditional modes, Days's in the new units.
    vc, vb = m.varcorr().to_polars(), base.varcorr().to_polars()
    assert vc["column"].to_list() == vb["column"].to_list()
    scale = np.where(vc["column"] == "Days", c, 1.0)
    np.testing.assert_allclose(vc["sd"].to_numpy() * scale, vb["sd"].to_numpy(), rtol=1e-5)
    rm, rb = m.ranef()["Subject"], base.ranef()["Subject"]
    np.testing.assert_allclose(rm["(Intercept)"], rb["(Intercept)"], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(rm["Days"] * c, rb["Days"], rtol=1e-5, atol=1e-5)


def test_scaled_fit_saves_and_restores(sleep, tmp_path):
    data = sleep.with_columns(pl.col("Days") * 1e8)
    m = mm.lmm(SLEEP, data)
    path = tmp_path / "fit.json"
    m.save(path)
    r = mm.restore(path, SLEEP, data)
    assert r.objective == m.objective
    np.testing.assert_array_equal(r.theta, m.theta)
    np.testing.assert_array_equal(r.fitted(), m.fitted())


def cycle(n: int) -> pl.Series:
    """A covariate cycling through 17 values in 0–4."""
    return pl.Series([((i * 37) % 17) / 4.0 for i in range(n)])


def test_singularity_in_other_units(sleep):
    # Not singular at any scale: × 1e8 the slope's θ is 1.2e-9, below the 1e-8 that
    # counts as zero in units of an ordinary column, but not in units of this one.
    formula = "Reaction ~ 1 + Days + (1 | Subject) + (0 + x | Subject)"
    fits = {
        c: mm.lmm(formula, sleep.with_columns(x=cycle(sleep.height) * c)) for c in (1e-8, 1.0, 1e8)
    }
    for c, m in fits.items():
        assert not m.issingular() and m._core.at_bound == [], c
        assert m.theta[1] * c == pytest.approx(fits[1.0].theta[1], rel=1e-4)
    assert fits[1e8].theta[1] < 1e-8
    # Singular at every scale: the slope's variance by sample is 0.
    pen = mm.dataset("penicillin")
    formula = "diameter ~ 1 + x + (1 | plate) + (1 + x | sample)"
    for c in (1e-8, 1.0, 1e8):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = mm.lmm(formula, pen.with_columns(x=cycle(pen.height) * c))
        assert m.issingular() and m._core.at_bound == [3], c
        assert m.theta[3] == 0.0
