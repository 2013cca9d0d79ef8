"""``predict``: fitted rows, new data (new and known levels, a single row, missing values),
population predictions, link and response scales, against lme4's ``predict.merMod``
(tests/fixtures/predict_*.json, written by generate_predict.R)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm
from mixedmodels._glmm import GeneralizedLinearMixedModel

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> dict:
    with open(FIXTURES / f"{name}.json", encoding="utf-8") as f:
        return json.load(f)


def as_array(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def close(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal to 1e-8 relative (NaN where lme4 has NA)."""
    np.testing.assert_allclose(actual, expected, rtol=1e-8, atol=1e-10)


@pytest.fixture(scope="module")
def sleep_ref() -> dict:
    return fixture("predict_sleepstudy_slope_ML")


@pytest.fixture(scope="module")
def sleep(sleep_ref) -> mm.LinearMixedModel:
    """The model at lme4's θ (β̂ and b̂ follow from θ)."""
    m = mm.LinearMixedModel(sleep_ref["formula"], mm.dataset("sleepstudy"))
    m.objective_at(sleep_ref["theta"])
    return m


@pytest.fixture(scope="module")
def sleep_new(sleep_ref) -> pl.DataFrame:
    return pl.DataFrame(sleep_ref["newdata"], schema={"Subject": pl.String, "Days": pl.Float64})


@pytest.fixture(scope="module")
def cbpp_ref() -> dict:
    return fixture("predict_cbpp_binomial")


@pytest.fixture(scope="module")
def cbpp(cbpp_ref) -> GeneralizedLinearMixedModel:
    """The model at lme4's (θ, β), with the conditional modes PIRLS finds there."""
    m = GeneralizedLinearMixedModel(cbpp_ref["formula"], mm.dataset("cbpp"), family="binomial")
    m.evaluate(cbpp_ref["theta"], cbpp_ref["beta"])
    return m


def test_lmm_against_lme4(sleep, sleep_ref, sleep_new):
    np.testing.assert_allclose(sleep.beta, sleep_ref["beta"], rtol=1e-9)
    close(sleep.predict(), as_array(sleep_ref["fitted"]))
    got = sleep.predict(sleep_new, new_levels="population")
    close(got, as_array(sleep_ref["conditional_link"]))
    assert np.isnan(got[4]) and np.isfinite(got).sum() == 5
    for kind in ("link", "response"):
        close(
            sleep.predict(sleep_new, random_effects=False, type=kind),
            as_array(sleep_ref[f"population_{kind}"]),
        )


def test_glmm_against_lme4(cbpp, cbpp_ref):
    new = pl.DataFrame(cbpp_ref["newdata"])
    for kind in ("link", "response"):
        close(
            cbpp.predict(new, new_levels="population", type=kind),
            as_array(cbpp_ref[f"conditional_{kind}"]),
        )
        close(
            cbpp.predict(new, random_effects=False, type=kind),
            as_array(cbpp_ref[f"population_{kind}"]),
        )
    close(cbpp.predict(), as_array(cbpp_ref["fitted"]))
    np.testing.assert_allclose(cbpp.predict(), cbpp.fitted(), rtol=1e-14)
    np.testing.assert_allclose(cbpp.predict(type="link"), cbpp.fitted("link"), rtol=1e-12)


def test_without_newdata_equals_fitted():
    m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    np.testing.assert_array_equal(m.predict(), m.fitted())
    np.testing.assert_array_equal(m.predict(type="link"), m.fitted())
    population = m.predict(random_effects=False)
    assert not np.allclose(population, m.fitted())
    np.testing.assert_allclose(population, m.X @ m.beta, rtol=1e-14)


def test_new_levels_modes(sleep, sleep_new):
    with pytest.raises(mm.DataError) as e:
        sleep.predict(sleep_new)
    assert e.value.column == "Subject" and e.value.level == "999"
    missing = sleep.predict(sleep_new, new_levels="missing")
    population = sleep.predict(sleep_new, new_levels="population")
    new = (sleep_new["Subject"] == "999").to_numpy()
    assert np.isnan(missing[new]).all()
    np.testing.assert_array_equal(missing[~new][[0, 1, 2]], population[~new][[0, 1, 2]])
    fixed = sleep.predict(sleep_new, random_effects=False)
    np.testing.assert_allclose(population[new], fixed[new], rtol=1e-15)
    # Without random effects the grouping factor is not read at all.
    np.testing.assert_allclose(
        sleep.predict(sleep_new.drop("Subject"), random_effects=False), fixed, rtol=1e-15
    )


def test_single_row_and_subset_of_levels(sleep):
    fitted = sleep.predict()
    one = sleep.predict(pl.DataFrame({"Subject": ["372"], "Days": [9.0]}))
    assert one.shape == (1,)
    rows = mm.dataset("sleepstudy").with_row_index()
    i = rows.filter((pl.col("Subject") == "372") & (pl.col("Days") == 9))["index"][0]
    assert one[0] == pytest.approx(fitted[i], rel=1e-12)
    # A pandas-style dict with integer days; the Subject column holds two of 18 levels.
    two = sleep.predict({"Subject": ["309", "372"], "Days": [9, 9]})
    assert two[1] == pytest.approx(one[0], rel=1e-12)


def test_missing_values_give_nan_rows(sleep):
    new = pl.DataFrame({"Subject": ["308", None, "308"], "Days": [1.0, 2.0, None]})
    got = sleep.predict(new)
    assert got.shape == (3,)
    assert np.isfinite(got[0]) and np.isnan(got[1:]).all()


def test_new_fixed_factor_level_is_an_error():
    d = mm.dataset("cbpp")
    m = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)", d, "binomial")
    new = pl.DataFrame({"herd": ["1", "2"], "period": ["1", "7"]})
    for mode in ("error", "population", "missing"):
        with pytest.raises(mm.DataError) as e:
            m.predict(new, new_levels=mode)
        assert e.value.column == "period" and e.value.level == "7"
        assert "7" in str(e.value)


def test_offsets_in_newdata():
    d = mm.dataset("sleepstudy").with_columns((pl.col("Days") / 10).alias("o"))
    m = mm.lmm("Reaction ~ 1 + Days + offset(o) + (1 | Subject)", d)
    np.testing.assert_array_equal(m.predict(), m.fitted())
    new = pl.DataFrame({"Subject": ["308"], "Days": [2.0], "o": [5.0]})
    base = m.predict(new)
    shifted = m.predict(new, offset=[1.5])
    assert shifted[0] - base[0] == pytest.approx(1.5, rel=1e-12)
    bumped = m.predict(new.with_columns(pl.lit(6.0).alias("o")))
    assert bumped[0] - base[0] == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(mm.ArgumentError) as e:
        m.predict(offset=[1.0])
    assert e.value.parameter == "offset"


def test_arguments_are_checked(sleep, sleep_new):
    with pytest.raises(mm.ArgumentError) as e:
        sleep.predict(sleep_new, new_levels="drop")
    assert e.value.parameter == "new_levels"
    with pytest.raises(mm.ArgumentError) as e:
        sleep.predict(type="mean")
    assert e.value.parameter == "type"
    with pytest.raises(mm.ArgumentTypeError):
        sleep.predict(random_effects=1)
    with pytest.raises(mm.DataError) as e:
        sleep.predict(pl.DataFrame({"Subject": ["308"]}))
    assert e.value.column == "Days"
    unfitted = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 | Subject)", mm.dataset("sleepstudy"))
    with pytest.raises(mm.NotFittedError):
        unfitted.predict()


@pytest.mark.parametrize(
    ("formula", "dataset", "family"),
    [
        ("strength ~ 1 + (1 | batch / cask)", "pastes", None),
        ("diameter ~ 1 + (1 | plate) + (1 | sample)", "penicillin", None),
        (
            "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)",
            "contraception",
            "bernoulli",
        ),
    ],
)
def test_training_data_as_newdata_reproduce_fitted(formula, dataset, family):
    """Interaction grouping factors, crossed terms, functions and factors: the training
    rows given as new data (shuffled) predict the fitted values."""
    d = mm.dataset(dataset)
    m = mm.lmm(formula, d) if family is None else mm.glmm(formula, d, family)
    order = np.random.default_rng(1).permutation(d.height)
    got = m.predict(d[order])
    np.testing.assert_allclose(got, m.fitted()[order], rtol=1e-12)


def test_population_replaces_only_the_terms_with_new_levels():
    """Crossed terms: a new plate drops that term's effect and keeps the sample's."""
    m = mm.lmm("diameter ~ 1 + (1 | plate) + (1 | sample)", mm.dataset("penicillin"))
    new = pl.DataFrame({"plate": ["zz", "zz", "a"], "sample": ["C", "yy", "C"]})
    got = m.predict(new, new_levels="population")
    sample = dict(zip(*m.ranef()["sample"].to_dict(as_series=False).values(), strict=True))
    plate = dict(zip(*m.ranef()["plate"].to_dict(as_series=False).values(), strict=True))
    beta0 = m.beta[0]
    np.testing.assert_allclose(
        got, [beta0 + sample["C"], beta0, beta0 + plate["a"] + sample["C"]], rtol=1e-12
    )
    with pytest.raises(mm.DataError) as e:
        m.predict(new)
    # The first term with new levels (plate, 24 levels, sorts first) is named, with its levels.
    assert e.value.column in ("plate", "sample") and e.value.level in ("zz", "yy")
    assert e.value.level in str(e.value)
