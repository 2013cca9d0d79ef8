"""What linear and generalized linear mixed models share on the Python side:
construction from a data frame, and the extractors that read the same quantities
from either native model."""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl

from . import _core
from ._data import encode_columns, per_row_values, to_polars
from ._display import RichDisplay, check_format
from ._errors import (
    ArgumentError,
    ArgumentTypeError,
    ConvergenceWarning,
    MissingDataWarning,
    ModelCheckWarning,
    NotFittedError,
    RankDeficiencyWarning,
    SingularFitWarning,
)
from ._validate import _boolean, _choice, check_arguments

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
    # Does the model have a residual standard deviation σ (``simulate``'s ``sigma``)?
    _has_sigma: bool = True
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
            indices = list(self._core.at_bound)
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
    def theta_names(self) -> list[str]:
        """lme4's names of the θ entries (``getME(m, "theta")``).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 + Days | Subject)",
        ...                         mm.dataset("sleepstudy"))
        >>> m.theta_names
        ['Subject.(Intercept)', 'Subject.Days.(Intercept)', 'Subject.Days']
        >>> m.component_names
        ['sd_(Intercept)|Subject', 'cor_Days.(Intercept)|Subject', 'sd_Days|Subject']
        """
        return self._core.theta_names

    @property
    def component_names(self) -> list[str]:
        """Names of the variance components that correspond to θ's entries, as lme4's
        ``confint(oldNames = FALSE)`` names them (the residual's is ``sigma``)."""
        return self._core.component_names

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

    @needs_fit
    def predict(
        self,
        newdata: Any = None,
        *,
        random_effects: bool = True,
        new_levels: str = "error",
        type: str = "response",
        offset: Any = None,
    ) -> np.ndarray:
        """Predictions for the fitted rows or for new data (lme4's ``predict.merMod``).

        Parameters
        ----------
        newdata : polars, pandas or pyarrow table, or dict of columns, optional
            Rows to predict, with the columns the formula's fixed- and random-effects
            terms and offsets use (not the response). Factors are coded with the fitted
            model's levels and contrasts; a level of a factor in a fixed-effects (or
            random-effects) column not seen in fitting is a :class:`DataError` with
            ``column`` and ``level``. Without it: the fitted rows (equal to ``fitted()``
            with ``random_effects=True``).
        random_effects : bool
            Add the conditional modes of the random effects (True) or predict the
            population mean Xβ̂ + offset (False).
        new_levels : {"error", "population", "missing"}
            A row whose grouping-factor level was not seen in fitting: refuse with a
            :class:`DataError` naming the grouping factor (``column``) and the first
            such ``level``; use random effects 0 for that term; or predict NaN.
        type : {"response", "link"}
            The mean μ = g⁻¹(η) or the linear predictor η (the same for a linear
            mixed model).
        offset : array-like, optional
            One value per row of ``newdata``, added to the formula's ``offset(...)``
            terms (evaluated in ``newdata``); an offset given to the constructor is not
            carried over to new data. Refused (:class:`ArgumentError`) without
            ``newdata``.

        Returns
        -------
        numpy.ndarray
            One value per row of ``newdata`` (NaN where a used value is missing), or per
            observation used in fitting.

        Examples
        --------
        >>> import mixedmodels as mm, polars as pl
        >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
        >>> new = pl.DataFrame({"Subject": ["308", "999"], "Days": [0.0, 3.0]})
        >>> m.predict(new, new_levels="population").round(2).tolist()
        [254.22, 282.81]
        """
        _boolean("random_effects", random_effects)
        _choice("error", "population", "missing")("new_levels", new_levels)
        _choice("response", "link")("type", type)
        columns = None
        if newdata is not None:
            df = to_polars(newdata)
            columns = encode_columns(df, self._core.predictor_variables(random_effects))
            offset = per_row_values(df, offset, "offset")
        elif offset is not None:
            raise ArgumentError(
                "`offset` is for new data; the fitted rows use the model's own offset",
                parameter="offset",
            )
        return self._core.predict(columns, random_effects, new_levels, type, offset)

    def simulate(
        self,
        *,
        seed: int,
        n: int = 1,
        theta: Any = None,
        beta: Any = None,
        sigma: float | None = None,
    ) -> np.ndarray:
        """Draw responses from the model (unconditional on the random effects).

        Each replicate draws spherical random effects u ~ N(0, σ²I) (σ = 1 for a
        generalized model), forms the linear predictor η = offset + Xβ + ZΛθu and draws
        the response given η: for a linear mixed model y = η + σε/√w (ε standard normal,
        w the case weights), so that Var y = σ²(ZΛΛᵀZᵀ + W⁻¹); for a
        generalized one from its family through the link (Bernoulli 0/1, Binomial
        proportions of the trials given as prior weights, Poisson counts).

        Parameters
        ----------
        seed : int
            Seed of the random generator, 0 ≤ seed < 2**64. Replicate j is drawn from
            its own stream (ChaCha8 seeded with ``seed``, stream j): it depends only on
            ``seed`` and j, not on ``n``.
        n : int, default 1
            Number of replicates.
        theta : array_like, optional
            Covariance parameters θ (default: the fitted θ̂).
        beta : array_like, optional
            Fixed effects β, one per kept column of X (default: the fitted β̂).
        sigma : float, optional
            Residual standard deviation σ > 0 (default: σ̂); linear mixed models only.

        Returns
        -------
        numpy.ndarray
            Shape ``(nobs,)`` for ``n=1``, else ``(nobs, n)``: one column per replicate,
            on the scale of the model's response (:attr:`y`).

        Raises
        ------
        NotFittedError
            A parameter is left to its fitted value on a model without estimates.
        ArgumentError
            A bad ``seed``, ``n``, ``theta``, ``beta`` or ``sigma`` (named by
            ``parameter``), or ``sigma`` given to a generalized linear mixed model.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
        >>> m.simulate(seed=42, n=3).shape
        (180, 3)
        >>> bool((m.simulate(seed=1) == m.simulate(seed=1)).all())
        True
        """
        check_arguments(seed=seed, n=n, sigma=sigma)
        if theta is None or beta is None or (sigma is None and self._has_sigma):
            self._require_fit("simulate")
        draws = self._core.simulate(
            int(seed),
            int(n),
            _vector("theta", theta),
            _vector("beta", beta),
            None if sigma is None else float(sigma),
        )
        return draws[:, 0] if n == 1 else draws

    @property
    def optsum(self) -> dict | None:
        """The fit record: settings, initial and final values, fmin, evaluations, return
        code, time, the optimizer stages, and the convergence certificate (None before a
        fit).

        ``optsum["optimizer"]`` is the choice the fit was given (``"auto"``, ``"bfgs"``,
        ``"bobyqa"``); each entry of ``optsum["stages"]`` names the optimizer that ran
        (``"BFGS"`` or ``"BOBYQA"``) with its ``evaluations`` and ``gradient_evaluations``
        (gradients, each at a point already evaluated; an evaluation with its gradient
        counts once in ``evaluations``). ``optsum["gradient_evaluations"]`` is their total.

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
