"""What linear and generalized linear mixed models share on the Python side:
construction from a data frame, and the extractors that read the same quantities
from either native model."""

from __future__ import annotations

import functools
import math
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl

from . import _core
from ._data import encode_columns, to_polars
from ._display import RichDisplay, check_format
from ._errors import (
    ArgumentTypeError,
    ConvergenceWarning,
    MissingDataWarning,
    ModelCheckWarning,
    NotFittedError,
    RankDeficiencyWarning,
    SingularFitWarning,
)

F = TypeVar("F", bound=Callable[..., Any])

# Kinds of the native models' warnings found while building a model (the others are
# checks of a fit).
BUILD_CHECKS = frozenset({"nobs_vs_nlev", "nobs_vs_nre", "reversed_term"})


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


def needs_fit(method: F) -> F:
    """Decorate an extractor (method or property getter) that needs estimates: on a
    model neither fitted nor evaluated at a given θ it raises :class:`NotFittedError`
    naming the extractor."""
    what = method.__name__

    @functools.wraps(method)
    def checked(self: MixedModel, *args: Any, **kwargs: Any) -> Any:
        self._require_fit(what)
        return method(self, *args, **kwargs)

    return checked  # type: ignore[return-value]


class MixedModel(RichDisplay):
    """Extractors common to :class:`LinearMixedModel` and
    :class:`GeneralizedLinearMixedModel`; ``self._core`` is the native model."""

    _core: Any
    # Set once the model holds estimates without a fit (evaluated at a given θ).
    _evaluated: bool = False

    def _report_dropped(self) -> None:
        """Warn about rows dropped for missing values, about dropped X columns and about
        what the native checks found while building the model."""
        dropped = {c: k for c, k in self._core.missing if k > 0}
        self.missing: dict[str, int] = dropped
        if dropped:
            total = self._core.input_rows - self._core.nobs
            detail = ", ".join(f"`{c}`: {k}" for c, k in dropped.items())
            warn(
                MissingDataWarning(
                    f"dropped {total} rows with missing values ({detail})",
                    counts=dict(dropped),
                    dropped=total,
                ),
            )
        columns = list(self._core.dropped_columns)
        if columns:
            warn(
                RankDeficiencyWarning(
                    "fixed-effects model matrix is rank deficient; dropped linearly dependent "
                    f"columns: {', '.join(columns)}",
                    columns=columns,
                ),
            )
        for kind, term, message in self._core.model_warnings():
            if kind in BUILD_CHECKS:
                warn(ModelCheckWarning(message, check=kind, term=term))

    def _after_fit(self) -> None:
        """The checks after every fit: warn when the optimizer stopped without
        converging, when the native checks of the fit found the estimates unidentified
        (the response constant within groups, σ̂ → 0), when the convergence certificate
        (the projected gradient at the estimates) failed, and when the estimate is
        singular (θ at a bound)."""
        fit_warnings = [w for w in self._core.model_warnings() if w[0] not in BUILD_CHECKS]
        cert: dict = {}
        if self._core.certificate_ok is False:
            c = self._core.optsum()["certificate"]
            cert = {
                "components": list(c["components"]),
                "gradient": [float(g) for g in c["failing_gradient"]],
            }
            if not fit_warnings:
                # An unidentified fit (below) has no optimum to certify; its warning
                # carries the certificate's components instead.
                o = self._core.optsum()
                pairs = ", ".join(
                    f"{n}: {g:.3g}"
                    for n, g in zip(cert["components"], cert["gradient"], strict=True)
                )
                warn(
                    ConvergenceWarning(
                        "the convergence certificate failed: the projected gradient at the "
                        f"estimates exceeds its tolerance {c['tolerance']:.1g} (relative to "
                        f"the objective) in {pairs}"
                        + (" after a restart" if c["restarted"] else ""),
                        return_code=o["return_code"],
                        evaluations=o["evaluations"],
                        reason="certificate",
                        **cert,
                    ),
                )
        if fit_warnings or self._core.converged is False:
            o = self._core.optsum()
            for kind, term, message in fit_warnings:
                warn(
                    ConvergenceWarning(
                        message,
                        return_code=o["return_code"],
                        evaluations=o["evaluations"],
                        reason=kind,
                        term=term,
                        **cert,
                    ),
                )
            if not o["converged"]:
                warn(
                    ConvergenceWarning(
                        f"the optimizer did not converge ({o['return_code']}) after "
                        f"{o['evaluations']} evaluations; the estimates are the best point found",
                        return_code=o["return_code"],
                        evaluations=o["evaluations"],
                    ),
                )
        if self._core.is_singular:
            theta = [float(t) for t in self._core.theta]
            indices = [
                i
                for i, (t, lb) in enumerate(zip(theta, self._core.lowerbd, strict=True))
                if math.isfinite(lb) and abs(t - lb) < 1e-8
            ]
            warn(
                SingularFitWarning(
                    "boundary (singular) fit: some variance components are estimated as zero "
                    f"(θ entries {indices} at their bound); see issingular()",
                    theta=theta,
                    indices=indices,
                ),
            )

    def _require_fit(self, what: str) -> None:
        """Raise :class:`NotFittedError` naming ``what`` unless the model holds estimates
        (fitted, or evaluated at a given θ)."""
        if not (self._core.is_fitted or self._evaluated):
            raise NotFittedError(f"`{what}` needs a fitted model; call `fit` first", what=what)

    def _terms(self) -> list[tuple[str, list[str], list[str]]]:
        """(grouping name, levels, columns) of each random-effects term."""
        return [(t["name"], t["levels"], t["columns"]) for t in self._core.reterms()]

    @property
    def formula(self) -> str:
        """The model formula as given."""
        return self._core.formula

    @property
    @needs_fit
    def theta(self) -> np.ndarray:
        """Relative covariance parameters θ."""
        return self._core.theta

    @property
    def θ(self) -> np.ndarray:
        """Alias of :attr:`theta`."""
        return self.theta

    @property
    @needs_fit
    def beta(self) -> np.ndarray:
        """Fixed-effects estimates β̂ (columns of X kept)."""
        return self._core.beta

    @property
    def β(self) -> np.ndarray:
        """Alias of :attr:`beta`."""
        return self.beta

    @needs_fit
    def fixef(self) -> np.ndarray:
        """Fixed-effects estimates β̂."""
        return self._core.beta

    @property
    def fixefnames(self) -> list[str]:
        """Names of the fixed-effects coefficients."""
        return self._core.coef_names

    @property
    def lowerbd(self) -> np.ndarray:
        """Lower bounds of θ."""
        return self._core.lowerbd

    @property
    def y(self) -> np.ndarray:
        """The response."""
        return self._core.y

    @property
    def nobs(self) -> int:
        """Number of observations used."""
        return self._core.nobs

    @property
    def dof(self) -> int:
        """Number of parameters."""
        return self._core.dof

    @needs_fit
    def issingular(self) -> bool:
        """Is some variance component estimated at its boundary of zero?"""
        return self._core.is_singular

    @needs_fit
    def stderror(self) -> np.ndarray:
        """Standard errors of β̂."""
        return self._core.stderror

    @needs_fit
    def vcov(self, corr: bool = False) -> np.ndarray:
        """Covariance (or, with ``corr=True``, correlation) matrix of β̂."""
        v = self._core.vcov
        if corr:
            s = np.sqrt(np.diag(v))
            return v / np.outer(s, s)
        return v

    @needs_fit
    def coeftable(self) -> pl.DataFrame:
        """Fixed-effects table: name, estimate, standard error, z and p."""
        names, est, se, z, p = self._core.coeftable()
        return pl.DataFrame({"name": names, "estimate": est, "stderror": se, "z": z, "p": p})

    @needs_fit
    def ranef(self, uscale: bool = False) -> dict[str, pl.DataFrame]:
        """Conditional modes per grouping factor: a table with the level and one column per
        random-effects column (``uscale=True``: spherical u instead of b)."""
        out = {}
        for (name, levels, columns), values in zip(
            self._terms(), self._core.ranef(uscale), strict=True
        ):
            cols: dict[str, Any] = {name: levels}
            for j, c in enumerate(columns):
                cols[c] = values[:, j]
            out[name] = pl.DataFrame(cols)
        return out

    @needs_fit
    def condvar(self) -> dict[str, np.ndarray]:
        """Conditional covariance of the random effects per grouping factor
        (levels × v × v)."""
        return {t[0]: cv for t, cv in zip(self._terms(), self._core.condvar(), strict=True)}

    @property
    def optsum(self) -> dict | None:
        """The fit record: settings, initial and final values, fmin, evaluations, return
        code, time, the optimizer stages, and the convergence certificate (None before a
        fit).

        ``optsum["certificate"]`` is a dict: ``status`` (``"certified"``, ``"failed"``,
        ``"not checked"``), ``scope`` (``"theta"`` or ``"beta_theta"``), ``method``,
        ``tolerance``, ``gradient`` with its parameter ``names``, the ``failing`` indices
        with their ``components`` (names) and ``failing_gradient``, ``max_scaled`` (the
        largest scaled gradient), ``restarted``, and its own ``evaluations`` and
        ``seconds`` (not counted in the fit's).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.optsum["certificate"]["status"]
        'certified'
        """
        return self._core.optsum()

    def fitlog(self) -> pl.DataFrame:
        """Every objective evaluation of the last fit: iteration, θ, objective; for a GLMM
        also the stage (``joint``: the (β, θ) stage) and β.

        Returns
        -------
        polars.DataFrame
            One row per evaluation.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.fitlog().columns
        ['iteration', 'theta_1', 'objective']
        """
        log = self._core.fitlog()
        if log is None:
            raise NotFittedError("`fitlog` needs a fitted model; call `fit` first", what="fitlog")
        thetas, betas, objs, joint = log
        cols: dict[str, Any] = {"iteration": list(range(1, len(objs) + 1))}
        if betas.shape[1]:
            cols["joint"] = joint
        for j in range(thetas.shape[1]):
            cols[f"theta_{j + 1}"] = thetas[:, j]
        for j in range(betas.shape[1]):
            cols[f"beta_{j + 1}"] = betas[:, j]
        cols["objective"] = objs
        return pl.DataFrame(cols)

    def summary(self, format: str = "text") -> str:
        """The summary of the fitted model as text (as ``print`` shows it), Markdown,
        HTML or LaTeX.

        Parameters
        ----------
        format : {"text", "markdown", "html", "latex"}
            The output format: the plain-text layout of the MixedModels.jl manual,
            Markdown pipe tables, an HTML fragment with ``<table>`` elements, or a
            LaTeX fragment with ``tabular`` environments.

        Returns
        -------
        str
            The rendered summary.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.summary().splitlines()[0]
        'Linear mixed model fit by maximum likelihood'
        >>> "<table" in m.summary(format="html")
        True
        """
        return self._core.summary(check_format(format))

    def _render(self, format: str) -> str | None:
        return self._core.summary(format) if self._core.is_fitted else None

    def __str__(self) -> str:
        return self._core.summary() if self._core.is_fitted else repr(self)

    # ---- saving, restoring, pickling -------------------------------------------------
    def save(self, path: Any) -> None:
        """Write this model's fit to ``path`` as versioned JSON with exact doubles.

        Parameters
        ----------
        path : str or pathlib.Path
            The file to write.

        Examples
        --------
        >>> import mixedmodels as mm, tempfile, os
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.save(os.path.join(tempfile.mkdtemp(), "fit.json"))
        """
        Path(path).write_text(self._core.save_fit(), encoding="utf-8")

    def restore(self, path: Any) -> MixedModel:
        """Install the fit saved in ``path`` without optimizing; returns the model.

        Parameters
        ----------
        path : str or pathlib.Path
            A file written by :meth:`save` for a model of the same formula and data.

        Examples
        --------
        >>> import mixedmodels as mm, tempfile, os
        >>> d = mm.dataset("dyestuff")
        >>> path = os.path.join(tempfile.mkdtemp(), "fit.json")
        >>> mm.lmm("Yield ~ 1 + (1 | Batch)", d).save(path)
        >>> round(mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", d).restore(path).objective, 4)
        327.3271
        """
        self._core.restore_fit(Path(path).read_text(encoding="utf-8"))
        return self

    def __reduce__(self) -> tuple:
        """Pickle as (class, formula, data, constructor arguments, saved fit)."""
        fit = self._core.save_fit() if self._core.is_fitted else None
        return (_rebuild, (type(self), self.formula, self._data, self._ctor, fit))


def _rebuild(cls: type, formula: str, data: Any, args: dict, fit: str | None) -> MixedModel:
    """Unpickle: build the model and restore its fit, if it had one."""
    with warnings.catch_warnings():
        # The warnings about dropped rows were given when the model was built.
        warnings.simplefilter("ignore")
        model = cls(formula, data, **args)
    if fit is not None:
        model._core.restore_fit(fit)
    return model
