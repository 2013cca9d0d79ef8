"""``mm.lmm_many``: each row equals the single fit of that response (``mm.lmm``, itself
checked against lme4 elsewhere) to 1e-10 relative — the same fit from θ₀, only the order
in which the blocks of A were filled may differ; the table does not depend on the
number of threads or on an executor (bit for bit); bad input raises typed errors."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

RHS = "1 + Days + (1 + Days | Subject)"


@pytest.fixture(scope="module")
def data():
    d = mm.dataset("sleepstudy")
    rng = np.random.default_rng(20261205)
    y = d["Reaction"].to_numpy()
    extra = {f"y{j}": y * (1 + 0.02 * j) + rng.normal(0, 25, d.height) for j in range(20)}
    return d.with_columns(**extra)


NAMES = [f"y{j}" for j in range(20)]


def close(a, b, rtol=1e-10):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(b), 1.0)), (a, b)


@pytest.mark.parametrize("reml", [False, True])
def test_rows_equal_single_fits(data, reml):
    t = mm.lmm_many(f"y ~ {RHS}", data, NAMES, reml=reml, threads=2)
    assert t["response"].to_list() == NAMES
    assert t.columns[:5] == [
        "response",
        "objective",
        "Subject.(Intercept)",
        "Subject.Days.(Intercept)",
        "Subject.Days",
    ]
    for row, name in zip(t.iter_rows(named=True), NAMES, strict=True):
        m = mm.lmm(f"{name} ~ {RHS}", data, reml=reml)
        assert row["converged"], row["warning"]
        assert row["evaluations"] == m.optsum["evaluations"]
        close(row["objective"], m.objective)
        close(row["sigma"], m.sigma)
        close([row[c] for c in m.theta_names], m.theta)
        close([row["(Intercept)"], row["Days"]], m.beta)


def test_matrix_of_responses_equals_named_columns(data):
    matrix = np.column_stack([data[c].to_numpy() for c in NAMES[:3]])
    by_matrix = mm.lmm_many(RHS, data, matrix)
    by_name = mm.lmm_many(RHS, data, NAMES[:3])
    assert by_matrix["response"].to_list() == ["0", "1", "2"]
    assert by_matrix.drop("response").equals(by_name.drop("response"))


def test_thread_count_and_executor_do_not_change_the_table(data):
    one = mm.lmm_many(RHS, data, NAMES[:8], threads=1)
    two = mm.lmm_many(RHS, data, NAMES[:8], threads=2)
    assert one.equals(two)
    with ThreadPoolExecutor(2) as pool:
        assert one.equals(mm.lmm_many(RHS, data, NAMES[:8], executor=pool))


def test_rows_dropped_for_the_design_not_for_a_response(data):
    d = data.with_columns(
        Days=pl.when(pl.int_range(pl.len()) == 4).then(None).otherwise(pl.col("Days"))
    )
    with pytest.warns(mm.MissingDataWarning):
        t = mm.lmm_many(RHS, d, ["y0"])
    with pytest.warns(mm.MissingDataWarning):
        m = mm.lmm(f"y0 ~ {RHS}", d)
    close(t["objective"][0], m.objective)


def test_bad_input_raises_typed_errors(data):
    with pytest.raises(mm.DataError) as e:
        mm.lmm_many(RHS, data, ["y0", "nope"])
    assert e.value.column == "nope"
    with pytest.raises(mm.DataTypeError) as e:
        mm.lmm_many(RHS, data, ["Subject"])
    assert e.value.column == "Subject"
    with pytest.raises(mm.ArgumentError) as e:
        mm.lmm_many(RHS, data, np.ones((data.height - 1, 2)))
    assert e.value.parameter == "responses"
    with pytest.raises(mm.ArgumentError) as e:
        mm.lmm_many(RHS, data, [])
    assert e.value.parameter == "responses"
    gap = data.with_columns(
        y1=pl.when(pl.int_range(pl.len()) == 17).then(None).otherwise(pl.col("y1"))
    )
    with pytest.raises(mm.DataError) as e:
        mm.lmm_many(RHS, gap, ["y0", "y1"])
    assert (e.value.column, e.value.row) == ("y1", 17)
    with pytest.raises(mm.ArgumentTypeError) as e:
        mm.lmm_many(RHS, data, ["y0"], executor="dask")
    assert e.value.parameter == "executor"
    with ThreadPoolExecutor(1) as pool, pytest.raises(mm.ArgumentTypeError) as e:
        mm.lmm_many(RHS, data, ["y0"], executor=pool, threads=2)
    assert e.value.parameter == "threads"
    with pytest.raises(mm.ArgumentError) as e:
        mm.lmm_many(RHS, data, ["y0"], optimizer="newton")
    assert e.value.parameter == "optimizer"
    with pytest.raises(mm.ArgumentError) as e:
        mm.lmm_many(RHS, data, ["y0"], threads=0)
    assert e.value.parameter == "threads"


def test_memory_estimate_counts_the_blocks_before_fitting():
    d = mm.dataset("sleepstudy")
    m = mm.LinearMixedModel(f"Reaction ~ {RHS}", d)
    before = m.memory_estimate()
    assert before["total"] == before["a"] + before["l"] + before["rows"] + before["fit"]
    assert before == m.fit().memory_estimate()
    # Without the slope: L's diagonal block holds 18 doubles instead of 18 · 4.
    smaller = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", d).memory_estimate()
    assert before["l"] - smaller["l"] >= 8 * 18 * 3
    assert before["rows"] > smaller["rows"]
