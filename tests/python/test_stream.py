"""Linear mixed models from data read in chunks (Parquet files, LazyFrames, pyarrow
datasets, chunk_rows) against the same model built in memory. A's sums are compensated
(the value does not depend on the order of the rows or on how they were split), and the
fit is a function of A: the fits are the same bit for bit (RTOL 0)."""

import numpy as np
import polars as pl
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import mixedmodels as mm

RTOL = 0.0  # exact: see the module docstring
SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"
CROSSED = "y ~ 1 + x + c + (1 | g) + (1 | h)"


def crossed_data(n=3000, seed=7):
    """Crossed g (60 integer levels) and h (25 string levels; `h24` only in the last 40
    rows), a numeric x and a string fixed-effects factor c."""
    rng = np.random.default_rng(seed)
    g = rng.integers(1, 61, n)
    h = np.array([f"h{k:02d}" for k in rng.integers(0, 24, n)], dtype=object)
    h[-40:] = "h24"
    x = rng.uniform(-1, 1, n)
    c = rng.choice(["lo", "mid", "hi"], n)
    y = (
        1.0
        + 0.5 * x
        + np.sin(0.37 * g)
        + (c == "hi") * 0.3
        + np.array([int(s[1:]) for s in h]) * 0.05
        + rng.normal(size=n)
    )
    return pl.DataFrame({"y": y, "x": x, "c": c, "g": g, "h": h.tolist()})


def assert_same_fit(got, want):
    assert type(got) is type(want)
    np.testing.assert_allclose(got.objective, want.objective, rtol=RTOL)
    np.testing.assert_allclose(got.theta, want.theta, rtol=RTOL)
    np.testing.assert_allclose(got.beta, want.beta, rtol=RTOL)
    np.testing.assert_allclose(got.sigma, want.sigma, rtol=RTOL)
    assert got.nobs == want.nobs
    assert got.fixefnames == want.fixefnames
    vc_got, vc_want = got.varcorr().to_polars(), want.varcorr().to_polars()
    assert vc_got["group"].to_list() == vc_want["group"].to_list()
    np.testing.assert_allclose(vc_got["variance"], vc_want["variance"], rtol=1e-9)
    assert "Number of obs" in str(got.summary())


def write_parquet_parts(df, directory, nfiles=3, row_group_size=150):
    """Write ``df`` to ``nfiles`` Parquet files of several row groups each."""
    directory.mkdir()
    for k, part in enumerate(np.array_split(np.arange(df.height), nfiles)):
        pq.write_table(
            df[part.tolist()].to_arrow(),
            directory / f"part-{k}.parquet",
            row_group_size=row_group_size,
        )
    return directory


@pytest.mark.parametrize("reml", [False, True])
def test_parquet_glob_in_row_groups_fits_as_in_memory(tmp_path, reml):
    d = crossed_data()
    folder = write_parquet_parts(d, tmp_path / "crossed")
    want = mm.lmm(CROSSED, d, reml=reml)
    got = mm.lmm(CROSSED, str(folder / "*.parquet"), reml=reml, chunk_rows=400)
    assert_same_fit(got, want)
    assert mm.lmm(CROSSED, folder, reml=reml).objective == pytest.approx(want.objective, rel=RTOL)


def test_lazyframe_is_streamed_and_fits_as_in_memory():
    d = mm.dataset("sleepstudy")
    want = mm.lmm(SLEEP, d)
    got = mm.lmm(SLEEP, d.lazy().sort("Days"), chunk_rows=25)
    assert_same_fit(got, want)
    assert got._core.rows_stored is False and want._core.rows_stored is True
    r_got, r_want = got._core.ranef(False), want._core.ranef(False)
    for a, b in zip(r_got, r_want, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-8, atol=1e-9)


def test_pyarrow_dataset_fits_as_in_memory(tmp_path):
    d = crossed_data(seed=11)
    folder = write_parquet_parts(d, tmp_path / "ds", nfiles=2)
    want = mm.lmm(CROSSED, d)
    got = mm.lmm(CROSSED, pads.dataset(str(folder), format="parquet"), chunk_rows=700)
    assert_same_fit(got, want)


def test_a_level_only_in_the_last_chunk_is_kept():
    d = crossed_data()
    got = mm.lmm(CROSSED, d, chunk_rows=500)
    levels = dict((name, lv) for name, lv, _ in got._terms())
    assert levels["h"][-1] == "h24"
    assert_same_fit(got, mm.lmm(CROSSED, d))


def test_missing_values_are_counted_as_in_memory():
    d = crossed_data().with_row_index("i")
    d = d.with_columns(
        pl.when(pl.col("i") % 17 == 3).then(None).otherwise(pl.col("x")).alias("x"),
        pl.when(pl.col("i") % 29 == 5).then(None).otherwise(pl.col("h")).alias("h"),
    ).drop("i")
    with pytest.warns(mm.MissingDataWarning) as want_w:
        want = mm.lmm(CROSSED, d)
    with pytest.warns(mm.MissingDataWarning) as got_w:
        got = mm.lmm(CROSSED, d.lazy(), chunk_rows=333)
    assert got._core.missing == want._core.missing
    assert got._core.input_rows == want._core.input_rows == d.height
    assert [w.message.dropped for w in got_w] == [w.message.dropped for w in want_w]
    assert_same_fit(got, want)
    with pytest.raises(mm.DataError) as e:
        mm.LinearMixedModel(CROSSED, d.lazy(), missing="raise", chunk_rows=500)
    assert e.value.column == "x"


def test_rows_are_refused_with_a_typed_error():
    m = mm.lmm(SLEEP, mm.dataset("sleepstudy").lazy())
    for what, call in [
        ("leverage", m.leverage),
        ("simulate", lambda: m.simulate(seed=1)),
        ("variance_decomposition", lambda: mm.r2(m)),
        ("X", lambda: m.X),
        ("y", lambda: m.y),
    ]:
        with pytest.raises(mm.RowsNotStoredError) as e:
            call()
        assert e.value.what == what
    with pytest.raises(mm.RowsNotStoredError):
        m.refit(np.zeros(180))


def test_residual_degrees_of_freedom_are_read_off_the_factor():
    d = mm.dataset("sleepstudy")
    want = mm.lmm(SLEEP, d)
    got = mm.lmm(SLEEP, d.lazy())
    assert got.dof_residual() == pytest.approx(want.dof_residual(), rel=1e-10)
    assert want.dof_residual() == pytest.approx(180 - want.leverage().sum(), rel=1e-10)


def test_bad_input_is_typed():
    d = mm.dataset("sleepstudy")
    with pytest.raises(mm.DataError) as e:
        mm.lmm("Reaction ~ 1 + Nope + (1 | Subject)", d.lazy())
    assert e.value.column == "Nope"
    with pytest.raises(mm.ArgumentError) as e:
        mm.lmm(SLEEP, d, chunk_rows=0)
    assert e.value.parameter == "chunk_rows"
    with pytest.raises(mm.ArgumentError) as e:
        mm.lmm(SLEEP, d.lazy(), weights="Days")
    assert e.value.parameter == "weights"
    one_subject = d.lazy().filter(pl.col("Subject") == "308")
    with pytest.raises(mm.DataError) as e:
        mm.lmm("Reaction ~ 1 + Days + (1 | Subject)", one_subject)
    assert e.value.term == "Subject"


def test_predictions_on_new_data_match_in_memory():
    d = mm.dataset("sleepstudy")
    want = mm.lmm(SLEEP, d)
    got = mm.lmm(SLEEP, d.lazy(), chunk_rows=50)
    new = d.head(12)
    np.testing.assert_allclose(got.predict(new), want.predict(new), rtol=1e-9)


@pytest.mark.parametrize(
    "formula",
    ["y ~ 1 + x + (1 | g) + (1 + x | h)", "y ~ 1 + x + (1 + x | h) + (1 | g)"],
)
def test_crossed_pairs_turning_dense_mid_stream_fit_as_in_memory(formula):
    """g (150 levels) crossed with h (12 levels) in chunks of 100 rows: the first chunks
    meet about a tenth of the rectangle of levels met, so their level pairs are summed
    in a hash map; the later ones fill it, and the sums move to a dense grid mid-stream
    (the Rust unit tests of `stream` check the switch on this geometry). Both term
    orders, so that the assembled block is read from the grid in both orientations."""
    rng = np.random.default_rng(5)
    n = 4000
    g = rng.integers(0, 150, n)
    h = np.array([f"h{k:02d}" for k in rng.integers(0, 12, n)], dtype=object)
    x = rng.uniform(-1, 1, n)
    y = 1.0 + 0.5 * x + np.sin(0.37 * g) + rng.normal(size=n)
    d = pl.DataFrame({"y": y, "x": x, "g": g, "h": h.tolist()})
    want = mm.lmm(formula, d)
    got = mm.lmm(formula, d.lazy(), chunk_rows=100)
    assert_same_fit(got, want)
