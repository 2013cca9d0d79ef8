"""Every keyword of the public API is honoured or refused: booleans must be bool,
integers integral and in range, strings in their set; the error names the parameter."""

from __future__ import annotations

import numpy as np
import pytest

import mixedmodels as mm

SLEEP = "Reaction ~ 1 + Days + (1 | Subject)"
CBPP = "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"


@pytest.fixture(scope="module")
def sleep():
    return mm.dataset("sleepstudy")


@pytest.fixture(scope="module")
def cbpp():
    return mm.dataset("cbpp")


WRONG_TYPE = [
    ("reml", "no"),
    ("reml", 1),
    ("progress", "yes"),
    ("threads", 2.0),
    ("threads", "2"),
    ("threads", True),
    ("missing", 0),
    ("check_nobs", False),
    ("sigma", "1"),
    ("optimizer", 1),
]
OUT_OF_RANGE = [
    ("threads", -1),
    ("threads", 0),
    ("missing", "ignore"),
    ("check_nobs", "stop"),
    ("sigma", -1.0),
    ("sigma", float("nan")),
    ("optimizer", "newton"),
    ("optimizer", "BOBYQA"),
]


@pytest.mark.parametrize(("name", "value"), WRONG_TYPE)
def test_lmm_wrong_type(sleep, name, value):
    with pytest.raises(mm.ArgumentTypeError) as e:
        mm.lmm(SLEEP, sleep, **{name: value})
    assert e.value.parameter == name


@pytest.mark.parametrize(("name", "value"), OUT_OF_RANGE)
def test_lmm_out_of_range(sleep, name, value):
    with pytest.raises(mm.ArgumentError) as e:
        mm.lmm(SLEEP, sleep, **{name: value})
    assert e.value.parameter == name and not isinstance(e.value, mm.ArgumentTypeError)


@pytest.mark.parametrize(
    ("name", "value"), [p for p in WRONG_TYPE if p[0] not in ("reml", "progress", "optimizer")]
)
def test_lmm_constructor_refuses(sleep, name, value):
    with pytest.raises(mm.ArgumentTypeError) as e:
        mm.LinearMixedModel(SLEEP, sleep, **{name: value})
    assert e.value.parameter == name


@pytest.mark.parametrize(("name", "value"), [("threads", -1), ("threads", 0)])
def test_lmm_constructor_threads_range(sleep, name, value):
    with pytest.raises(mm.ArgumentError) as e:
        mm.LinearMixedModel(SLEEP, sleep, **{name: value})
    assert e.value.parameter == name


@pytest.mark.parametrize(
    ("name", "value"), [("reml", "no"), ("reml", None), ("progress", 1), ("optimizer", None)]
)
def test_lmm_fit_refuses(sleep, name, value):
    m = mm.LinearMixedModel(SLEEP, sleep)
    with pytest.raises(mm.ArgumentTypeError) as e:
        m.fit(**{name: value})
    assert e.value.parameter == name
    assert not m._core.is_fitted
    with pytest.raises(mm.ArgumentTypeError):
        m.fit().refit(reml="yes")


def test_lmm_accepts_valid_keywords(sleep):
    m = mm.lmm(SLEEP, sleep, reml=np.bool_(True), threads=np.int64(1), check_nobs="warn")
    assert m.reml
    assert mm.lmm(SLEEP, sleep, threads=2, missing="raise").nobs == 180


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("nagq", 1.7, mm.ArgumentTypeError),
        ("nagq", "3", mm.ArgumentTypeError),
        ("nagq", 0, mm.ArgumentError),
        ("nagq", 101, mm.ArgumentError),
        ("fast", "yes", mm.ArgumentTypeError),
        ("fast", 1, mm.ArgumentTypeError),
        ("progress", "no", mm.ArgumentTypeError),
        ("threads", -1, mm.ArgumentError),
        ("threads", 0, mm.ArgumentError),
        ("threads", 1.5, mm.ArgumentTypeError),
        ("missing", "keep", mm.ArgumentError),
        ("check_nobs", "no", mm.ArgumentError),
    ],
)
def test_glmm_keywords(cbpp, name, value, error):
    with pytest.raises(error) as e:
        mm.glmm(CBPP, cbpp, family="binomial", **{name: value})
    assert e.value.parameter == name


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("nagq", 1.7, mm.ArgumentTypeError),
        ("nagq", 0, mm.ArgumentError),
        ("fast", "yes", mm.ArgumentTypeError),
        ("progress", 1, mm.ArgumentTypeError),
    ],
)
def test_glmm_fit_keywords(cbpp, name, value, error):
    m = mm.GeneralizedLinearMixedModel(CBPP, cbpp, "binomial")
    with pytest.raises(error) as e:
        m.fit(**{name: value})
    assert e.value.parameter == name
    assert not m._core.is_fitted


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("threads", 0, mm.ArgumentError),
        ("threads", -1, mm.ArgumentError),
        ("check_nobs", 1, mm.ArgumentTypeError),
        ("missing", "ignore", mm.ArgumentError),
    ],
)
def test_glmm_constructor_keywords(cbpp, name, value, error):
    with pytest.raises(error) as e:
        mm.GeneralizedLinearMixedModel(CBPP, cbpp, "binomial", **{name: value})
    assert e.value.parameter == name


def test_glmm_accepts_valid_keywords(cbpp):
    g = mm.glmm(CBPP, cbpp, family="binomial", nagq=np.int32(3), fast=False, threads=1)
    assert g.nagq == 3
