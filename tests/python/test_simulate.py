"""``MixedModel.simulate``: moments of 10,000 simulated responses against the model's,
reproducibility per (seed, replicate), and refused arguments.

Tolerances: a per-observation mean within 4 standard errors of the mean (the SE from
the model's marginal variance over the number of draws); a Gaussian per-observation
variance within 4.5 standard errors of the sample variance (relative SE √(2/(N − 1)) ≈
1.4% for N = 10,000). The seeds are fixed, so each test always passes or always fails.
"""

from __future__ import annotations

import numpy as np
import pytest

import mixedmodels as mm

N = 10_000
SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"


@pytest.fixture(scope="module")
def sleep() -> mm.LinearMixedModel:
    return mm.lmm(SLEEP, mm.dataset("sleepstudy"))


def logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def marginal_mean(eta: np.ndarray, lam: float, linkinv) -> np.ndarray:
    """∫ g⁻¹(η + λz) φ(z) dz by 20-point Gauss–Hermite quadrature."""
    z, w = np.polynomial.hermite_e.hermegauss(20)
    w = w / w.sum()
    return linkinv(eta[:, None] + lam * z[None, :]) @ w


def test_lmm_mean_and_variance_match_the_marginal_distribution(sleep):
    y = sleep.simulate(seed=2024, n=N)
    assert y.shape == (sleep.nobs, N)
    mu = sleep.X @ sleep.beta
    term = sleep.reterms[0]
    lam = sleep.lambda_[0]
    z = np.asarray(term.z).reshape(sleep.nobs, -1)
    # Var yᵢ = σ² (|λᵀzᵢ|² + 1).
    v = sleep.sigma**2 * (np.sum((z @ lam) ** 2, axis=1) + 1.0)
    se = np.sqrt(v / N)
    assert np.all(np.abs(y.mean(axis=1) - mu) < 4 * se)
    rel_se = np.sqrt(2 / (N - 1))
    assert np.all(np.abs(y.var(axis=1, ddof=1) / v - 1) < 4.5 * rel_se)


def test_same_seed_same_draws_and_replicates_independent_of_n(sleep):
    a = sleep.simulate(seed=5, n=5)
    np.testing.assert_array_equal(a, sleep.simulate(seed=5, n=5))
    np.testing.assert_array_equal(a[:, :3], sleep.simulate(seed=5, n=3))
    one = sleep.simulate(seed=5)
    assert one.shape == (sleep.nobs,)
    np.testing.assert_array_equal(a[:, 0], one)
    assert np.all(a != sleep.simulate(seed=6, n=5))
    assert not np.array_equal(a[:, 0], a[:, 1])


def test_parameters_given_replace_the_fitted_ones(sleep):
    y = sleep.simulate(seed=3, n=N, theta=[0.0, 0.0, 0.0], beta=np.array([100.0, 0.0]), sigma=2.0)
    se = 2.0 / np.sqrt(N)
    assert np.all(np.abs(y.mean(axis=1) - 100.0) < 4 * se)
    assert np.all(np.abs(y.var(axis=1, ddof=1) / 4.0 - 1) < 4.5 * np.sqrt(2 / (N - 1)))


def test_unfitted_model_needs_every_parameter():
    m = mm.LinearMixedModel(SLEEP, mm.dataset("sleepstudy"))
    with pytest.raises(mm.NotFittedError):
        m.simulate(seed=1)
    y = m.simulate(seed=1, theta=[1.0, 0.0, 1.0], beta=[250.0, 10.0], sigma=25.0)
    assert y.shape == (m.nobs,) and np.all(np.isfinite(y))


def test_bernoulli_mean_matches_the_marginal_probability():
    g = mm.glmm("use ~ 1 + age + urban + (1 | district)", mm.dataset("contraception"))
    y = g.simulate(seed=8, n=N)
    assert set(np.unique(y)) == {0.0, 1.0}
    theta = g.theta[0]
    p = marginal_mean(g._core.X @ g.beta, theta, logistic)
    se = np.sqrt(p * (1 - p) / N)
    assert np.all(np.abs(y.mean(axis=1) - p) < 4 * se)


def test_poisson_moments_match_the_lognormal_mixture():
    g = mm.glmm(
        "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD)", mm.dataset("grouseticks"), family="poisson"
    )
    y = g.simulate(seed=4, n=N)
    assert np.all(y >= 0) and np.all(y == np.round(y))
    t2 = g.theta[0] ** 2
    # E y = exp(η + θ²/2), Var y = E y + (E y)²(exp θ² − 1).
    mu = np.exp(g._core.X @ g.beta + t2 / 2)
    v = mu + mu**2 * np.expm1(t2)
    assert np.all(np.abs(y.mean(axis=1) - mu) < 4 * np.sqrt(v / N))


def test_binomial_draws_proportions_of_the_trials():
    g = mm.glmm(
        "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        mm.dataset("cbpp"),
        family="binomial",
    )
    y = g.simulate(seed=2, n=2000)
    successes = y * g._core.prior_weights[:, None]
    np.testing.assert_allclose(successes, np.round(successes), atol=1e-9)
    assert np.all((y >= 0) & (y <= 1))
    p = marginal_mean(g._core.X @ g.beta, g.theta[0], logistic)
    se = np.sqrt(p * (1 - p) / 2000)
    assert np.all(np.abs(y.mean(axis=1) - p) < 4 * se)


@pytest.mark.parametrize(
    ("kwargs", "error", "parameter"),
    [
        ({"seed": -1}, mm.ArgumentError, "seed"),
        ({"seed": 1.5}, mm.ArgumentTypeError, "seed"),
        ({"seed": 1, "n": 0}, mm.ArgumentError, "n"),
        ({"seed": 1, "n": 2.0}, mm.ArgumentTypeError, "n"),
        ({"seed": 1, "theta": [1.0]}, mm.ArgumentError, "theta"),
        ({"seed": 1, "theta": [-1.0, 0.0, 1.0]}, mm.ArgumentError, "theta"),
        ({"seed": 1, "theta": "abc"}, mm.ArgumentTypeError, "theta"),
        ({"seed": 1, "theta": [[1.0, 0.0, 1.0]]}, mm.ArgumentError, "theta"),
        ({"seed": 1, "beta": [1.0, 2.0, 3.0]}, mm.ArgumentError, "beta"),
        ({"seed": 1, "sigma": 0.0}, mm.ArgumentError, "sigma"),
        ({"seed": 1, "sigma": "1"}, mm.ArgumentTypeError, "sigma"),
    ],
)
def test_bad_arguments_name_the_parameter(sleep, kwargs, error, parameter):
    with pytest.raises(error) as e:
        sleep.simulate(**kwargs)
    assert e.value.parameter == parameter


def test_sigma_is_refused_for_a_glmm():
    g = mm.glmm("use ~ 1 + urban + (1 | district)", mm.dataset("contraception"))
    with pytest.raises(mm.ArgumentError, match="sigma") as e:
        g.simulate(seed=1, sigma=1.0)
    assert e.value.parameter == "sigma"


def test_seed_is_keyword_only(sleep):
    with pytest.raises(TypeError):
        sleep.simulate(1)  # type: ignore[misc]
