"""GLMMs from streamed data (``StreamedGeneralizedLinearMixedModel``; ``mm.glmm`` with a
Parquet path, a pyarrow dataset or ``chunk_rows``) against the same ``fast`` model fitted
in memory, for every kind of source; missing values, warnings and refusals.

Tolerances: objective to 1e-8 relative, θ to 1e-4 relative, β to 1e-4 standard errors
(BOBYQA here, BFGS in memory: both stop within ~1e-6 of θ̂ on an objective flat to
~1e-10 there; the Rust tests compare the objective at the same θ to 1e-9).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

TICKS = "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION)"


@pytest.fixture(scope="module")
def in_memory():
    return mm.glmm(TICKS, mm.dataset("grouseticks"), family="poisson", fast=True)


def assert_same(m, ref):
    assert isinstance(m, mm.StreamedGeneralizedLinearMixedModel)
    assert m.nobs == ref.nobs
    assert m.objective == pytest.approx(ref.objective, rel=1e-8)
    assert m.objective <= ref.objective * (1 + 1e-8)
    np.testing.assert_allclose(m.theta, ref.theta, rtol=1e-4)
    se = np.asarray(ref.stderror())
    assert np.all(np.abs(m.beta - np.asarray(ref.beta)) <= 1e-4 * se)
    np.testing.assert_allclose(m.stderror(), se, rtol=1e-4)
    assert m.fixefnames == list(ref.fixefnames)
    assert m.component_names == list(ref.component_names)
    assert m.optsum["converged"] and m.optsum["passes"] > m.optsum["evaluations"]


def test_every_source_kind(tmp_path, in_memory):
    d = mm.dataset("grouseticks")
    for k, part in enumerate(d.iter_slices(150)):
        part.write_parquet(tmp_path / f"part-{k}.parquet")
    glob = str(tmp_path / "*.parquet")
    assert_same(mm.glmm(TICKS, glob, family="poisson", fast=True, chunk_rows=64), in_memory)
    assert_same(mm.glmm(TICKS, tmp_path, family="poisson", fast=True), in_memory)
    lazy = mm.StreamedGeneralizedLinearMixedModel(
        TICKS, d.lazy(), family=mm.Poisson(), chunk_rows=100
    ).fit()
    assert_same(lazy, in_memory)
    table = mm.glmm(TICKS, d, family="poisson", fast=True, chunk_rows=77)
    assert_same(table, in_memory)
    ds = pytest.importorskip("pyarrow.dataset")
    assert_same(mm.glmm(TICKS, ds.dataset(str(tmp_path)), family="poisson", fast=True), in_memory)


def simulated(n=4000, seed=5):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 80, n)
    x = rng.uniform(-1, 1, n)
    off = rng.normal(0, 0.2, n)
    eta = -0.3 + 0.8 * x + off + rng.normal(0, 0.7, 80)[g]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    return pl.DataFrame({"y": y, "x": x, "off": off, "g": [f"g{v:02d}" for v in g]})


def test_bernoulli_with_offset_and_missing_values():
    d = simulated()
    d = d.with_columns(
        pl.when(pl.int_range(pl.len()) % 97 == 3).then(None).otherwise(pl.col("x")).alias("x")
    )
    f = "y ~ 1 + x + offset(off) + (1 | g)"
    with pytest.warns(mm.MissingDataWarning) as rec:
        m = mm.glmm(f, d, family="bernoulli", fast=True, chunk_rows=500)
    dropped = d["x"].null_count()
    assert rec[0].message.dropped == dropped and m.missing == {"x": dropped}
    with pytest.warns(mm.MissingDataWarning):
        ref = mm.glmm(f, d, family="bernoulli", fast=True)
    assert_same(m, ref)
    table, want = m.coeftable(), ref.coeftable()
    assert table.columns == want.columns  # the in-memory model's columns
    assert table["name"].to_list() == ["(Intercept)", "x"]
    np.testing.assert_allclose(table["stderror"], want["stderror"], rtol=1e-6)
    assert "passes over the data" in repr(m)
    assert m.objective_at(m.theta) == pytest.approx(m.objective, rel=1e-10)


def test_refusals_name_the_parameter_or_row():
    d = simulated(600)
    f = "y ~ 1 + x + (1 | g)"
    for kwargs, parameter in [
        ({"fast": False}, "fast"),
        ({"nagq": 3, "fast": True}, "nagq"),
        ({"weights": np.ones(600), "fast": True}, "weights"),
        ({"optimizer": "bfgs", "fast": True}, "optimizer"),
        ({"threads": 2, "fast": True}, "threads"),
    ]:
        with pytest.raises(mm.ArgumentError) as err:
            mm.glmm(f, d, family="bernoulli", chunk_rows=100, **kwargs)
        assert err.value.parameter == parameter
    with pytest.raises(mm.ArgumentError) as err:
        mm.glmm(f, d, family=mm.Gamma(), fast=True, chunk_rows=100)
    assert err.value.parameter == "family"
    bad = d.with_columns(pl.when(pl.int_range(pl.len()) == 321).then(2.0).otherwise("y").alias("y"))
    with pytest.raises(mm.DataError) as err:
        mm.glmm(f, bad, family="bernoulli", fast=True, chunk_rows=100)
    assert (err.value.row, err.value.column) == (321, "y")
    m = mm.StreamedGeneralizedLinearMixedModel(f, d, chunk_rows=100)
    with pytest.raises(mm.NotFittedError):
        _ = m.theta
    dd = pytest.importorskip("dask.dataframe")
    with pytest.raises(mm.ArgumentError) as err:
        mm.StreamedGeneralizedLinearMixedModel(f, dd.from_pandas(d.to_pandas(), npartitions=2))
    assert err.value.parameter == "data"
