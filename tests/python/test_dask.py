"""The Dask backend: per-partition sums of A computed on two worker processes of a
LocalCluster, summed as a tree, the model fitted on the client; equal to the in-memory
fit of the same (pandas) data to 1e-10 relative (objective, θ, β, σ)."""

import numpy as np
import pytest

import mixedmodels as mm

dd = pytest.importorskip("dask.dataframe", reason="the Dask backend needs dask[dataframe]")
distributed = pytest.importorskip("distributed", reason="the Dask backend needs distributed")

RTOL = 1e-10


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
    with pytest.raises(mm.RowsNotStoredError):
        got.fitted()


def test_crossed_factors_on_a_local_cluster(client):
    pdf = crossed_pandas()
    f = "y ~ 1 + x + (1 | g) + (1 | h)"
    want = mm.lmm(f, pdf, reml=True)
    got = mm.lmm(f, dd.from_pandas(pdf, npartitions=7), reml=True)
    assert_same_fit(got, want)
    with pytest.raises(mm.DataError) as e:
        mm.lmm("y ~ 1 + nope + (1 | g)", dd.from_pandas(pdf, npartitions=2))
    assert e.value.column == "nope"
