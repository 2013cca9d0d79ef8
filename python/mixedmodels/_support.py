"""Helpers shared by the model classes and the functions that take a model: the
formula's columns encoded from the data, warnings attributed to the user's line,
parameter vectors checked, and the test of whether an object is a model. Below
``_base`` so that modules the model class calls (``_anova``, ``_bootstrap``,
``_profile``) need not import it."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._data import encode_columns, to_polars
from ._errors import ArgumentError, ArgumentTypeError


def is_model(obj: Any) -> bool:
    """Is ``obj`` a linear or generalized linear mixed model of this package?"""
    return isinstance(
        getattr(obj, "_core", None), (_core.LinearMixedModel, _core.GeneralizedLinearMixedModel)
    )


def fitted_model(model: Any, what: str) -> Any:
    """``model`` if it is a fitted mixed model; else ``ArgumentTypeError`` (not a model)
    or ``NotFittedError`` naming ``what``."""
    if not is_model(model):
        raise ArgumentTypeError(
            f"`{what}` needs a LinearMixedModel or GeneralizedLinearMixedModel, "
            f"got {type(model).__name__}",
            parameter="model",
        )
    model._require_fit(what)
    return model


def is_glmm(model: Any) -> bool:
    """Is ``model`` a generalized linear mixed model (no residual σ)?"""
    return not model._has_sigma


def prepare(formula: Any, data: Any) -> tuple[pl.DataFrame, dict[str, tuple]]:
    """Check the formula, convert the data and encode the columns the formula uses."""
    if not isinstance(formula, str):
        raise ArgumentTypeError(
            f"formula must be a string, got {type(formula).__name__}", parameter="formula"
        )
    df = to_polars(data)
    info = _core.describe_formula(formula)
    return df, encode_columns(df, info["variables"])


def warn(warning: Warning) -> None:
    """Issue ``warning`` attributed to the first caller outside this package (the user's
    line that built or fitted the model, whether directly or through ``lmm``/``glmm``)."""
    package = os.path.dirname(__file__)
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(warning, stacklevel=level)


def _vector(name: str, value: Any) -> list[float] | None:
    """A parameter vector (``theta``, ``beta``) as a list of floats, or None; refuse
    values that are not a one-dimensional array of numbers, naming the parameter."""
    if value is None:
        return None
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"`{name}` must be a one-dimensional array of numbers, got {type(value).__name__}",
            parameter=name,
        ) from None
    if v.ndim != 1:
        raise ArgumentError(
            f"`{name}` must be one-dimensional, got an array of shape {v.shape}", parameter=name
        )
    return v.tolist()
