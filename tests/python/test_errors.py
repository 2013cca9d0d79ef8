"""The typed exceptions and warnings: each one raised for real, with its fields."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"
CONTRA = "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)"


@pytest.fixture(scope="module")
def ss() -> pl.DataFrame:
    return mm.dataset("sleepstudy")


@pytest.fixture(scope="module")
def contra() -> pl.DataFrame:
    return mm.dataset("contraception")


def test_hierarchy():
    for cls, builtin in [
        (mm.FormulaError, ValueError),
        (mm.DataError, ValueError),
        (mm.DataTypeError, TypeError),
        (mm.SeparationError, ValueError),
        (mm.ArgumentError, ValueError),
        (mm.ArgumentTypeError, TypeError),
        (mm.NotFittedError, AttributeError),
        (mm.ConvergenceError, RuntimeError),
        (mm.SingularModelError, RuntimeError),
        (mm.RestoreError, ValueError),
        (mm.ModelComparisonError, ValueError),
        (mm.NotNestedError, ValueError),
        (mm.MissingDependencyError, ImportError),
    ]:
        assert issubclass(cls, mm.MixedModelError) and issubclass(cls, builtin), cls
    assert issubclass(mm.DataTypeError, mm.DataError)
    assert issubclass(mm.SeparationError, mm.DataError)
    assert issubclass(mm.SingularModelError, mm.ConvergenceError)
    assert issubclass(mm.NotNestedError, mm.ModelComparisonError)
    for cls in [
        mm.ConvergenceWarning,
        mm.SingularFitWarning,
        mm.RankDeficiencyWarning,
        mm.MissingDataWarning,
        mm.RefitWarning,
    ]:
        assert issubclass(cls, mm.MixedModelWarning) and issubclass(cls, UserWarning)
    assert not issubclass(mm.MixedModelError, Warning)


def test_formula_error_position(ss):
    formula = "Reaction ~ 1 + Days + (1 + | Subject)"
    with pytest.raises(mm.FormulaError) as err:
        mm.lmm(formula, ss)
    assert err.value.formula == formula
    assert err.value.position == formula.index("|")
    assert str(err.value).splitlines()[-2] == formula


def test_data_error_names_the_missing_column(ss):
    with pytest.raises(mm.DataError) as err:
        mm.lmm("Reaction ~ 1 + Dys + (1 | Subject)", ss)
    assert type(err.value) is mm.DataError
    assert (err.value.column, err.value.term, err.value.level, err.value.row) == (
        "Dys",
        None,
        None,
        None,
    )


def test_data_error_names_the_missing_weights_column(ss):
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel(SLEEP, ss, weights="w")
    assert err.value.column == "w"
    with pytest.raises(mm.DataTypeError) as err:
        mm.LinearMixedModel(SLEEP, ss, weights="Subject")
    assert err.value.column == "Subject"


def test_data_type_error_for_a_categorical_where_numbers_are_needed(ss):
    with pytest.raises(mm.DataTypeError) as err:
        mm.lmm("Subject ~ 1 + Days + (1 | Days)", ss)
    assert isinstance(err.value, TypeError) and isinstance(err.value, ValueError)
    assert (err.value.term, err.value.column) == ("Subject", "Subject")
    with pytest.raises(mm.DataTypeError) as err:
        mm.lmm("Reaction ~ 1 + sqrt(Subject) + (1 | Subject)", ss)
    assert (err.value.term, err.value.column) == ("sqrt(Subject)", "Subject")


def test_row_of_a_negative_weight(ss):
    w = np.ones(ss.height)
    w[41] = -2.0
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel(SLEEP, ss, weights=w)
    assert (err.value.column, err.value.row) == ("weights", 41)


def test_row_of_an_infinite_offset(contra):
    offset = np.zeros(contra.height)
    offset[123] = -math.inf
    with pytest.raises(mm.DataError) as err:
        mm.GeneralizedLinearMixedModel(CONTRA, contra, "bernoulli", offset=offset)
    assert (err.value.column, err.value.row) == ("offset", 123)


def test_row_of_an_infinite_value_counts_dropped_rows(ss):
    # Row 0 has a missing Days (dropped), row 5 an infinite one: the error names row 5.
    days = ss["Days"].cast(pl.Float64).to_list()
    days[0], days[5] = None, math.inf
    df = ss.with_columns(pl.Series("Days", days, dtype=pl.Float64))
    with pytest.raises(mm.DataError) as err:
        mm.LinearMixedModel(SLEEP, df)
    assert (err.value.column, err.value.row) == ("Days", 5)


def test_level_of_a_missing_base_level(ss):
    cbpp = mm.dataset("cbpp")
    with pytest.raises(mm.DataError) as err:
        mm.GeneralizedLinearMixedModel(
            "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
            cbpp,
            "binomial",
            contrasts={"period": mm.DummyCoding(base="5")},
        )
    assert (err.value.column, err.value.level) == ("period", "5")


def test_separation_error_names_the_coefficients():
    # x splits the responses exactly: no finite estimate of its coefficient.
    rng = np.random.default_rng(7)
    n = 300
    x = rng.standard_normal(n)
    df = pl.DataFrame(
        {"y": (x > 0.2).astype(float), "x": x, "g": [f"g{i}" for i in rng.integers(0, 15, n)]}
    )
    with pytest.raises(mm.SeparationError) as err:
        mm.glmm("y ~ 1 + x + (1 | g)", df, family="bernoulli")
    assert err.value.coefficients[0] == "x"  # the largest share of the divergent direction
    assert err.value.nobs == n
    assert err.value.at_bound > n // 2


def test_argument_error_names_the_parameter(contra):
    with pytest.raises(mm.ArgumentError) as err:
        mm.glmm(CONTRA, contra, family="bernoulli", nagq=0)
    assert err.value.parameter == "nagq"
    with pytest.raises(mm.ArgumentTypeError) as err:
        mm.glmm(CONTRA, contra, family=3)
    assert isinstance(err.value, TypeError) and err.value.parameter == "family"
    m = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    with pytest.raises(mm.ArgumentError) as err:
        m.zerocorr(["Bach"])
    assert err.value.parameter == "terms"
    with pytest.raises(mm.ArgumentError) as err:
        mm.likelihoodratiotest(mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")))
    assert err.value.parameter == "models"


def test_singular_model_error_at_a_degenerate_theta(ss):
    # The fixed effects hold the grouping factor: at a huge θ R_X loses its rank.
    m = mm.LinearMixedModel("Reaction ~ 1 + Subject + (1 | Subject)", ss)
    with pytest.raises(mm.SingularModelError) as err:
        m.objective_at([1e10])
    assert isinstance(err.value, mm.ConvergenceError)
    assert isinstance(err.value.term, str) and isinstance(err.value.row, int)


def test_convergence_error_when_pirls_fails(contra):
    g = mm.GeneralizedLinearMixedModel("use ~ 1 + age + (1 | district)", contra, "bernoulli")
    g.evaluate([1e3], [0.0, 0.0])  # conditional modes of an extreme θ as the start
    with pytest.raises(mm.ConvergenceError) as err:
        g.evaluate([1e6], [0.0, 0.0])
    assert type(err.value) is mm.ConvergenceError


def test_exceptions_pickle_with_their_fields():
    e = mm.DataError("column `x`, row 3: bad", column="x", row=3)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is mm.DataError
    assert (str(back), back.column, back.row, back.term) == (str(e), "x", 3, None)


# ---- unfitted models ---------------------------------------------------------------


LMM_NEEDS_FIT = {
    "theta": lambda m: m.theta,
    "θ": lambda m: m.θ,
    "beta": lambda m: m.beta,
    "β": lambda m: m.β,
    "fixef": lambda m: m.fixef(),
    "coef": lambda m: m.coef(),
    "sigma": lambda m: m.sigma,
    "sdest": lambda m: m.sdest(),
    "varest": lambda m: m.varest(),
    "lambda_": lambda m: m.lambda_,
    "b": lambda m: m.b,
    "u": lambda m: m.u,
    "ranef": lambda m: m.ranef(),
    "condvar": lambda m: m.condvar(),
    "vcov": lambda m: m.vcov(),
    "stderror": lambda m: m.stderror(),
    "coeftable": lambda m: m.coeftable(),
    "varcorr": lambda m: m.varcorr(),
    "fitted": lambda m: m.fitted(),
    "residuals": lambda m: m.residuals(),
    "leverage": lambda m: m.leverage(),
    "loglikelihood": lambda m: m.loglikelihood(),
    "deviance": lambda m: m.deviance(),
    "aic": lambda m: m.aic(),
    "aicc": lambda m: m.aicc(),
    "bic": lambda m: m.bic(),
    "objective": lambda m: m.objective,
    "pwrss": lambda m: m.pwrss,
    "logdet": lambda m: m.logdet,
    "dof_residual": lambda m: m.dof_residual(),
    "issingular": lambda m: m.issingular(),
    "fitlog": lambda m: m.fitlog(),
}

GLMM_NEEDS_FIT = [
    "theta",
    "beta",
    "fixef",
    "ranef",
    "condvar",
    "vcov",
    "stderror",
    "coeftable",
    "varcorr",
    "fitted",
    "residuals",
    "loglikelihood",
    "deviance",
    "aic",
    "bic",
    "objective",
    "issingular",
    "fitlog",
]


@pytest.mark.parametrize("what", list(LMM_NEEDS_FIT))
def test_unfitted_lmm_extractors_raise(ss, what):
    m = mm.LinearMixedModel(SLEEP, ss)
    with pytest.raises(mm.NotFittedError) as err:
        LMM_NEEDS_FIT[what](m)
    assert isinstance(err.value, AttributeError)
    # An alias names the extractor it reads.
    assert err.value.what == {"θ": "theta", "β": "beta"}.get(what, what)


@pytest.mark.parametrize("what", GLMM_NEEDS_FIT)
def test_unfitted_glmm_extractors_raise(contra, what):
    g = mm.GeneralizedLinearMixedModel(CONTRA, contra, "bernoulli")
    with pytest.raises(mm.NotFittedError) as err:
        LMM_NEEDS_FIT[what](g)
    assert err.value.what == what


def test_unfitted_models_describe_themselves(ss, contra):
    m = mm.LinearMixedModel(SLEEP, ss)
    assert m.nobs == 180 and m.formula == SLEEP and len(m.y) == 180
    assert m.X.shape == (180, 2) and len(m.reterms) == 1 and len(m.lowerbd) == 3
    assert m.optsum is None
    assert str(m) == repr(m) and repr(m).startswith("<unfitted LinearMixedModel")
    g = mm.GeneralizedLinearMixedModel(CONTRA, contra, "bernoulli")
    assert str(g) == repr(g) and repr(g).startswith("<unfitted GeneralizedLinearMixedModel")
    assert g.nobs == contra.height and len(g.lowerbd) == 1
    # Notebooks fall back to repr() when the rich forms are None.
    for rich in ("_repr_markdown_", "_repr_html_", "_repr_latex_"):
        assert getattr(m, rich)() is None and getattr(g, rich)() is None
    m.fit()
    assert not str(m).startswith("<unfitted") and m.beta.shape == (2,)


def test_estimates_at_a_given_theta_need_no_fit(ss):
    m = mm.LinearMixedModel(SLEEP, ss)
    m.objective_at([1.0, 0.0, 1.0])
    assert m.beta.shape == (2,) and m.sigma > 0
    with pytest.raises(mm.NotFittedError) as err:  # no fit, so no fit log
        m.fitlog()
    assert err.value.what == "fitlog"


# ---- warnings --------------------------------------------------------------------


def test_singular_fit_warning():
    with pytest.warns(mm.SingularFitWarning) as record:
        m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff2"))
    assert m.issingular()
    (w,) = [r.message for r in record if isinstance(r.message, mm.SingularFitWarning)]
    assert w.indices == [0] and w.theta == [0.0]
    assert record[0].filename == __file__  # attributed to the caller of mm.lmm


def test_singular_fit_warning_can_be_turned_into_an_error():
    dyestuff2 = mm.dataset("dyestuff2")
    with warnings.catch_warnings():
        warnings.simplefilter("error", mm.SingularFitWarning)
        with pytest.raises(mm.SingularFitWarning):
            mm.lmm("Yield ~ 1 + (1 | Batch)", dyestuff2)
        mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))  # not singular: no error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", mm.MixedModelWarning)
        mm.lmm("Yield ~ 1 + (1 | Batch)", dyestuff2)


def test_no_warning_for_a_converged_regular_fit(ss):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mm.lmm(SLEEP, ss)
        mm.glmm("use ~ 1 + age + (1 | district)", mm.dataset("contraception"))


@pytest.mark.certificate_fails
def test_convergence_warning_after_a_capped_fit(ss):
    m = mm.LinearMixedModel(SLEEP, ss)
    m._core.fit_from(False, [1.0, 0.0, 1.0], max_evaluations=4)
    assert m.optsum["return_code"].startswith("stopped")
    with pytest.warns(mm.ConvergenceWarning) as record:
        m._after_fit()  # the check LinearMixedModel.fit runs after every fit
    conv = [r.message for r in record if isinstance(r.message, mm.ConvergenceWarning)]
    (w,) = [c for c in conv if c.reason is None]  # the certificate's is tested below
    assert w.return_code == m.optsum["return_code"]
    assert w.evaluations == m.optsum["evaluations"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", mm.ConvergenceWarning)
        m.fit()  # uncapped: converges, no warning


def test_missing_data_warning_counts(ss):
    days = ss["Days"].cast(pl.Float64).to_list()
    reaction = ss["Reaction"].to_list()
    for i in (0, 1, 2):
        days[i] = None
    for i in (2, 50):
        reaction[i] = float("nan")
    df = ss.with_columns(pl.Series("Days", days), pl.Series("Reaction", reaction))
    with pytest.warns(mm.MissingDataWarning) as record:
        m = mm.LinearMixedModel(SLEEP, df)
    (w,) = [r.message for r in record]
    assert w.counts == {"Reaction": 2, "Days": 3}
    assert w.dropped == 4 == 180 - m.nobs


def test_rank_deficiency_warning_columns(ss):
    df = ss.with_columns((pl.col("Days") * 3 + 1).alias("D3"), (pl.col("Days") - 2).alias("D4"))
    with pytest.warns(mm.RankDeficiencyWarning) as record:
        m = mm.LinearMixedModel("Reaction ~ 1 + Days + D3 + D4 + (1 | Subject)", df)
    (w,) = [r.message for r in record]
    assert w.columns == ["D3", "D4"]
    assert m.fixefnames == ["(Intercept)", "Days"]


@pytest.mark.certificate_fails
def test_certificate_fails_after_a_capped_fit(ss):
    for restart in (False, True):
        m = mm.LinearMixedModel(SLEEP, ss)
        m._core.fit_from(False, [1.0, 0.0, 1.0], max_evaluations=4, certificate_restart=restart)
        c = m.optsum["certificate"]
        assert c["status"] == "failed"
        assert c["restarted"] is restart
        assert c["evaluations"] == (6 if restart else 1)
        assert m.optsum["evaluations_fast_stage"] == 4  # the certificate's are apart
        with pytest.warns(mm.ConvergenceWarning) as record:
            m._after_fit()
        ws = [r.message for r in record if isinstance(r.message, mm.ConvergenceWarning)]
        (cert,) = [w for w in ws if w.reason == "certificate"]
        (capped,) = [w for w in ws if w.reason is None]  # the cap still warns
        assert capped.evaluations == m.optsum["evaluations"]
        names = m._core.theta_names
        assert cert.components == [names[i] for i in c["failing"]]
        assert cert.components and len(cert.gradient) == len(cert.components)
        assert cert.gradient == [c["gradient"][i] for i in c["failing"]]
        theta, f = m.optsum["final"], m.optsum["fmin"]
        for i, g in zip(c["failing"], cert.gradient, strict=True):
            assert abs(g) * max(abs(theta[i]), 1.0) > c["tolerance"] * abs(f)


def test_certificate_after_a_cap_the_restart_fixes():
    m = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    m._core.fit_from(False, [1.0], max_evaluations=8)
    c = m.optsum["certificate"]
    assert (c["status"], c["restarted"]) == ("certified", True)
    with pytest.warns(mm.ConvergenceWarning) as record:
        m._after_fit()  # the cap of the first pass still warns, the certificate does not
    assert [r.message.reason for r in record] == [None]


def test_singular_fit_certifies_at_the_bound():
    with pytest.warns(mm.SingularFitWarning):
        m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff2"))
    c = m.optsum["certificate"]
    assert c["status"] == "certified"
    assert m.optsum["final"] == [0.0]
    assert c["gradient"][0] >= 0.0
    assert c["names"] == m._core.theta_names
