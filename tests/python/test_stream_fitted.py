"""Fitted values and residuals of linear mixed models built from streamed data (one more
pass over the source) against those of the same model built in memory, for every kind of
source. The fits agree to rounding (see test_stream.py) and the values are formed from
the same β̂ and b̂, so they agree to 1e-10 relative to the response's scale (measured:
about 1e-13); types, shapes and row order as in memory. The Dask source is tested in
test_dask.py (it needs the cluster fixture there)."""

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from test_stream import CROSSED, SLEEP, crossed_data, write_parquet_parts

import mixedmodels as mm

RTOL = 1e-10
OFFSET = "y ~ 1 + x + c + offset(0.25 * x) + (1 | g) + (1 | h)"


def with_missing(d):
    """``d`` with missing values in the used columns x and h (rows dropped)."""
    d = d.with_row_index("i")
    return d.with_columns(
        pl.when(pl.col("i") % 17 == 3).then(None).otherwise(pl.col("x")).alias("x"),
        pl.when(pl.col("i") % 29 == 5).then(None).otherwise(pl.col("h")).alias("h"),
    ).drop("i")


def source(kind, d, tmp_path):
    """``d`` as a streamed source of ``kind``, with the ``chunk_rows`` to read it by."""
    if kind == "memory":
        return d, 333
    if kind == "lazy":
        return d.lazy(), 400
    folder = write_parquet_parts(d, tmp_path / kind)
    if kind == "parquet":
        return str(folder / "*.parquet"), 450
    return pads.dataset(str(folder), format="parquet"), 500


def assert_same_values(got, want, y):
    assert type(got) is type(want) is np.ndarray
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * np.abs(y).max())


@pytest.mark.parametrize("kind", ["memory", "lazy", "parquet", "dataset"])
def test_crossed_with_missing_values_and_an_offset_as_in_memory(tmp_path, kind):
    d = with_missing(crossed_data(n=1500))
    with pytest.warns(mm.MissingDataWarning):
        want = mm.lmm(OFFSET, d)
    data, chunk_rows = source(kind, d, tmp_path)
    with pytest.warns(mm.MissingDataWarning):
        got = mm.lmm(OFFSET, data, chunk_rows=chunk_rows)
    assert got._core.rows_stored is False
    y = d["y"].to_numpy()
    assert_same_values(got.fitted(), want.fitted(), y)
    assert_same_values(got.residuals(), want.residuals(), y)
    # The offset is in the fitted values: y = fitted + residual row by row.
    kept = d.drop_nulls(["x", "h"])["y"].to_numpy()
    np.testing.assert_allclose(got.fitted() + got.residuals(), kept, rtol=1e-12)
    # predict() of the fitted rows, with and without the random effects.
    assert_same_values(got.predict(), want.predict(), y)
    population = want.predict(random_effects=False)
    assert_same_values(got.predict(random_effects=False, type="link"), population, y)


@pytest.mark.parametrize("kind", ["memory", "lazy", "parquet", "dataset"])
def test_sleepstudy_as_in_memory(tmp_path, kind):
    d = mm.dataset("sleepstudy")
    want = mm.lmm(SLEEP, d, reml=True)
    data, _ = source(kind, d, tmp_path)
    got = mm.lmm(SLEEP, data, reml=True, chunk_rows=47)
    y = d["Reaction"].to_numpy()
    assert_same_values(got.fitted(), want.fitted(), y)
    assert_same_values(got.residuals(), want.residuals(), y)


def test_a_model_evaluated_at_a_given_theta():
    d = crossed_data(n=800)
    want = mm.LinearMixedModel(CROSSED, d)
    got = mm.LinearMixedModel(CROSSED, d, chunk_rows=100)
    with pytest.raises(mm.NotFittedError) as e:
        got.fitted()
    assert e.value.what == "fitted"
    want.objective_at([0.3, 0.2])
    got.objective_at([0.3, 0.2])
    assert_same_values(got.residuals(), want.residuals(), d["y"].to_numpy())


def test_keywords_are_refused_as_in_memory():
    # Neither method takes a keyword in memory; the streamed ones take none either.
    d = mm.dataset("sleepstudy")
    for m in (mm.lmm(SLEEP, d), mm.lmm(SLEEP, d.lazy())):
        with pytest.raises(TypeError):
            m.residuals(type="pearson")
        with pytest.raises(TypeError):
            m.fitted(scale="link")


def test_a_one_shot_source_keeps_refusing():
    table = mm.dataset("sleepstudy").to_arrow()
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=50))
    m = mm.lmm(SLEEP, reader, chunk_rows=40)
    assert m.nobs == 180
    for what in ("fitted", "residuals", "predict"):
        with pytest.raises(mm.RowsNotStoredError) as e:
            getattr(m, what)()
        assert e.value.what == what


def test_a_source_that_changed_is_a_data_error(tmp_path):
    d = mm.dataset("sleepstudy")
    path = tmp_path / "sleep.parquet"
    d.write_parquet(path)
    m = mm.lmm(SLEEP, str(path))
    d.head(100).write_parquet(path)
    with pytest.raises(mm.DataError):
        m.fitted()


def test_the_shrinkage_plot_refuses_with_a_typed_error():
    pytest.importorskip("matplotlib")
    m = mm.lmm(SLEEP, mm.dataset("sleepstudy").lazy())
    with pytest.raises(mm.RowsNotStoredError) as e:
        mm.plot.shrinkageplot(m)
    assert e.value.what == "shrinkageplot"
