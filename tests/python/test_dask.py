"""The Dask backend: per-partition sums of A computed on two worker processes of a
LocalCluster, summed as a tree, the model fitted on the client; equal to the in-memory
fit of the same (pandas) data bit for bit (objective, θ, β, σ): A's sums are compensated,
so neither the partitions nor the order of the tree change A."""

import numpy as np
import pytest

import mixedmodels as mm

dd = pytest.importorskip("dask.dataframe", reason="the Dask backend needs dask[dataframe]")
distributed = pytest.importorskip("distributed", reason="the Dask backend needs distributed")

RTOL = 0.0  # exact: see the module docstring


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def crossed_pandas(n=4000, seed=3):
    rng = np.random.default_rng(seed)
    import pandas as pd

    g = rng.integers(1, 81, n)
    h = np.array([f"h{k:02d}" for k in rng.integers(0, 30, n)], dtype=object)
    x = rng.uniform(-1, 1, n)
    y = 2.0 + x + np.cos(0.3 * g) + 0.1 * np.array([int(s[1:]) for s in h]) + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "g": g, "h": h})


def assert_same_fit(got, want):
    np.testing.assert_allclose(got.objective, want.objective, rtol=RTOL)
    np.testing.assert_allclose(got.theta, want.theta, rtol=RTOL)
    np.testing.assert_allclose(got.beta, want.beta, rtol=RTOL)
    np.testing.assert_allclose(got.sigma, want.sigma, rtol=RTOL)
    assert got.nobs == want.nobs


def test_sleepstudy_on_a_local_cluster(client):
    pdf = mm.dataset("sleepstudy").to_pandas()
    f = "Reaction ~ 1 + Days + (1 + Days | Subject)"
    want = mm.lmm(f, pdf)
    got = mm.lmm(f, dd.from_pandas(pdf, npartitions=5))
    assert_same_fit(got, want)
    with pytest.raises(mm.RowsNotStoredError) as e:
        got.leverage()
    assert e.value.what == "leverage"


def test_crossed_factors_on_a_local_cluster(client):
    pdf = crossed_pandas()
    f = "y ~ 1 + x + (1 | g) + (1 | h)"
    want = mm.lmm(f, pdf, reml=True)
    got = mm.lmm(f, dd.from_pandas(pdf, npartitions=7), reml=True)
    assert_same_fit(got, want)
    with pytest.raises(mm.DataError) as e:
        mm.lmm("y ~ 1 + nope + (1 | g)", dd.from_pandas(pdf, npartitions=2))
    assert e.value.column == "nope"


def test_fitted_and_residuals_are_lazy_series_computed_on_the_workers(client):
    # Each worker rebuilds the model from the summed A and installs θ̂; the values are
    # those of the in-memory model (the same β̂ and b̂, the same arithmetic per row).
    pdf = crossed_pandas(n=1500, seed=5)
    pdf.loc[pdf.index % 13 == 4, "x"] = np.nan
    f = "y ~ 1 + x + offset(0.5 * x) + (1 | g) + (1 | h)"
    with pytest.warns(mm.MissingDataWarning):
        want = mm.lmm(f, pdf)
    with pytest.warns(mm.MissingDataWarning):
        got = mm.lmm(f, dd.from_pandas(pdf, npartitions=4))
    fitted, residuals = got.fitted(), got.residuals()
    assert isinstance(fitted, dd.Series) and isinstance(residuals, dd.Series)
    assert fitted.name == "fitted" and residuals.name == "residuals"
    fitted, residuals = client.compute([fitted, residuals], sync=True)
    kept = pdf.index[pdf["x"].notna()]
    assert fitted.index.tolist() == residuals.index.tolist() == kept.tolist()
    scale = np.abs(pdf["y"]).max()
    np.testing.assert_allclose(fitted.to_numpy(), want.fitted(), rtol=RTOL, atol=RTOL * scale)
    np.testing.assert_allclose(residuals.to_numpy(), want.residuals(), rtol=RTOL, atol=RTOL * scale)
    population = got.predict(random_effects=False).compute()
    np.testing.assert_allclose(
        population.to_numpy(), want.predict(random_effects=False), rtol=RTOL, atol=RTOL * scale
    )
