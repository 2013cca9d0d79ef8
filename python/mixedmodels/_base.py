"""What linear and generalized linear mixed models share on the Python side:
construction from a data frame, and the extractors that read the same quantities
from either native model."""

from __future__ import annotations

import functools
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
    ConvergenceWarning,
    MissingDataWarning,
    ModelCheckWarning,
    NotFittedError,
    RankDeficiencyWarning,
    SingularFitWarning,
)
from ._support import _vector, warn
from ._validate import _boolean, _choice, check_arguments

F = TypeVar("F", bound=Callable[..., Any])

# Kinds of the native models' warnings found while building a model (the others are
# checks of a fit).
BUILD_CHECKS = frozenset({"nobs_vs_nlev", "nobs_vs_nre", "reversed_term"})


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


def warn_dropped_rows(core: Any) -> dict[str, int]:
    """Warn (:class:`MissingDataWarning`) about the rows a native model dropped for
    missing values, and return the count per column (the model's ``missing``)."""
    dropped = {c: k for c, k in core.missing if k > 0}
    if dropped:
        total = core.input_rows - core.nobs
        detail = ", ".join(f"`{c}`: {k}" for c, k in dropped.items())
        warn(
            MissingDataWarning(
                f"dropped {total} rows with missing values ({detail})",
                counts=dict(dropped),
                dropped=total,
            ),
        )
    return dropped


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
        self.missing: dict[str, int] = warn_dropped_rows(self._core)
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
        """The model formula as given.

        Returns
        -------
        str
            The formula string passed to the constructor.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.formula
        'Yield ~ 1 + (1 | Batch)'
        """
        return self._core.formula

    @property
    @needs_fit
    def theta(self) -> np.ndarray:
        """Relative covariance parameters θ: the entries of the lower-triangular
        relative covariance factors λ, term by term, column by column.

        Returns
        -------
        numpy.ndarray
            θ̂ after a fit (or the θ the model was last evaluated at).

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.theta.round(4)
        array([0.7526])
        """
        return self._core.theta

    @property
    def θ(self) -> np.ndarray:
        """Alias of :attr:`theta`.

        Returns
        -------
        numpy.ndarray
            The same values as :attr:`theta`.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> bool((m.θ == m.theta).all())
        True
        """
        return self.theta

    @property
    def theta_names(self) -> list[str]:
        """lme4's names of the θ entries (``getME(m, "theta")``).

        Returns
        -------
        list of str
            ``<group>.<column>`` for diagonal entries of λ, ``<group>.<row>.<column>``
            for off-diagonal ones, in the order of θ.

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
        ``confint(oldNames = FALSE)`` names them (the residual's is ``sigma``).

        Returns
        -------
        list of str
            ``sd_<column>|<group>`` for diagonal entries, ``cor_<column>.<column>|<group>``
            for off-diagonal ones, in the order of θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.component_names
        ['sd_(Intercept)|Batch']
        """
        return self._core.component_names

    @property
    @needs_fit
    def beta(self) -> np.ndarray:
        """Fixed-effects estimates β̂ (columns of X kept).

        Returns
        -------
        numpy.ndarray
            One estimate per kept column of X, in the order of :attr:`fixefnames`.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.beta
        array([1527.5])
        """
        return self._core.beta

    @property
    def β(self) -> np.ndarray:
        """Alias of :attr:`beta`.

        Returns
        -------
        numpy.ndarray
            The same values as :attr:`beta`.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.β
        array([1527.5])
        """
        return self.beta

    @needs_fit
    def fixef(self) -> np.ndarray:
        """Fixed-effects estimates β̂ (as :attr:`beta`; MixedModels.jl's ``fixef``).

        Returns
        -------
        numpy.ndarray
            One estimate per kept column of X.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.fixef()
        array([1527.5])
        """
        return self._core.beta

    @property
    def fixefnames(self) -> list[str]:
        """Names of the fixed-effects coefficients (kept columns of X).

        Returns
        -------
        list of str
            Column names as the formula generates them (``(Intercept)``, ``Days``, ...).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.fixefnames
        ['(Intercept)']
        """
        return self._core.coef_names

    @property
    def lowerbd(self) -> np.ndarray:
        """Lower bounds of θ: 0 for entries on the diagonal of a λ, −∞ off it.

        Returns
        -------
        numpy.ndarray
            One bound per entry of θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.lowerbd
        array([0.])
        """
        return self._core.lowerbd

    @property
    def y(self) -> np.ndarray:
        """The response of the rows used (missing rows dropped).

        Returns
        -------
        numpy.ndarray
            One value per observation used: for a linear mixed model the response as
            given (an offset is not subtracted), for a generalized one as coded for its
            family (0/1, proportions or counts).

        Raises
        ------
        RowsNotStoredError
            For a model built from data streamed in chunks (it keeps no rows).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.y[:3]
        array([1545., 1440., 1440.])
        """
        return self._core.y

    @property
    def nobs(self) -> int:
        """Number of observations used (rows after dropping missing values).

        Returns
        -------
        int
            The number of rows the model is fitted to.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.nobs
        30
        """
        return self._core.nobs

    @property
    def dof(self) -> int:
        """Number of parameters: the coefficients, the entries of θ and, for a linear
        mixed model with σ estimated, σ (as lme4 counts them for ``logLik``).

        Returns
        -------
        int
            The degrees of freedom of the likelihood.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.dof  # β, θ and σ
        3
        """
        return self._core.dof

    @needs_fit
    def issingular(self) -> bool:
        """Is the fit singular: some entry of θ on the diagonal of a λ at its bound of
        zero (a variance component estimated as zero)?

        Returns
        -------
        bool
            True for a singular (boundary) fit.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")).issingular()
        False
        >>> mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff2")).issingular()
        True
        """
        return self._core.is_singular

    @needs_fit
    def stderror(self) -> np.ndarray:
        """Standard errors of β̂: square roots of the diagonal of :meth:`vcov`.

        Returns
        -------
        numpy.ndarray
            One standard error per coefficient.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.stderror().round(4)
        array([17.6946])
        """
        return self._core.stderror

    @needs_fit
    def vcov(self, corr: bool = False) -> np.ndarray:
        """Covariance (or, with ``corr=True``, correlation) matrix of β̂.

        Parameters
        ----------
        corr : bool, default False
            Return the correlation matrix instead of the covariance matrix.

        Returns
        -------
        numpy.ndarray
            A p × p matrix, p the number of coefficients (σ̂²(R_XᵀR_X)⁻¹ for a linear
            mixed model).

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
        >>> m.vcov().round(3)
        array([[43.987, -1.37 ],
               [-1.37 ,  2.257]])
        >>> m.vcov(corr=True).round(3)
        array([[ 1.   , -0.138],
               [-0.138,  1.   ]])
        """
        v = self._core.vcov
        if corr:
            s = np.sqrt(np.diag(v))
            return v / np.outer(s, s)
        return v

    @needs_fit
    def coeftable(self, ddf: str | None = None) -> pl.DataFrame:
        """Fixed-effects table: name, estimate, standard error, z and p; with ``ddf``,
        t tests on degrees of freedom instead.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger"} or None, default None
            None: large-sample z tests (columns ``z``, ``p``; the only tests of a
            generalized linear mixed model, for which ``ddf`` raises
            :class:`ArgumentError`). For a linear mixed model, Satterthwaite's
            degrees of freedom (lmerTest) or Kenward and Roger's (pbkrtest, REML fits
            only; the standard errors then come from the adjusted covariance): columns
            ``df``, ``t`` and ``p`` from t with ``df`` degrees of freedom.

        Returns
        -------
        polars.DataFrame
            ``name``, ``estimate``, ``stderror``, then ``z``, ``p`` or ``df``, ``t``, ``p``.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.
        ArgumentError
            An unknown ``ddf``, ``ddf`` for a generalized linear mixed model, or
            ``"kenward-roger"`` for a fit by ML.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)",
        ...            mm.dataset("sleepstudy"), reml=True)
        >>> m.coeftable(ddf="satterthwaite")["df"].round(3).to_list()
        [17.0, 17.0]
        """
        if ddf is not None:
            from ._anova import coeftable_with_df

            return coeftable_with_df(self, ddf)
        names, est, se, z, p = self._core.coeftable()
        return pl.DataFrame({"name": names, "estimate": est, "stderror": se, "z": z, "p": p})

    @needs_fit
    def contrast_test(self, L: Any, rhs: Any = None, ddf: str | None = None) -> pl.DataFrame:
        """Joint test of Lβ = rhs: :func:`mixedmodels.contrast_test` of this model.

        Parameters
        ----------
        L : array_like
            Hypothesis matrix, one row per combination of the coefficients (columns in
            the order of :attr:`fixefnames`; a vector is one row).
        rhs : array_like or float, optional
            Hypothesised values (default 0).
        ddf : {"satterthwaite", "kenward-roger"} or None, default None
            Denominator degrees of freedom (None: large-sample Wald test).

        Returns
        -------
        polars.DataFrame
            One row: ``num_df``, ``den_df``, ``F``, ``p``.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.
        ArgumentError
            ``L`` or ``rhs`` of the wrong shape, or a bad ``ddf``.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)",
        ...            mm.dataset("sleepstudy"), reml=True)
        >>> m.contrast_test([[1, 0], [0, 1]], ddf="kenward-roger")["num_df"][0]
        2
        """
        from ._anova import contrast_test

        return contrast_test(self, L, rhs=rhs, ddf=ddf)

    @needs_fit
    def confint(
        self,
        method: str = "wald",
        level: float = 0.95,
        *,
        profile: Any = None,
        bootstrap: Any = None,
        n: int | None = None,
        seed: int | None = None,
    ) -> pl.DataFrame:
        """Confidence intervals of the parameters, named as lme4's
        ``confint(m, oldNames = FALSE)``: ``sd_(Intercept)|Subject``,
        ``cor_Days.(Intercept)|Subject``, ``sigma`` (linear models), then the
        coefficients.

        ``"wald"`` gives β̂ ± z·se(β̂) with z = Φ⁻¹((1 + level)/2) at the model's estimates
        and no interval (null) for the variance components and σ, as lme4 (for a
        generalized model the standard errors are :meth:`stderror`'s, from R_X: lme4's
        ``vcov(use.hessian = FALSE)``; lme4's ``confint`` uses a finite-difference
        Hessian). ``"profile"`` gives likelihood-profile intervals (:func:`profile`, ends
        refined on the exact profile; a REML fit is profiled on the ML deviance, so its
        estimates are the ML ones, as lme4's). ``"boot"`` gives the intervals of a
        parametric bootstrap (its ``confint(level=level)``: shortest coverage intervals):
        pass a :func:`parametricbootstrap` result as ``bootstrap``, or ``n`` and ``seed``
        to run one here.

        Parameters
        ----------
        method : {"wald", "profile", "boot"}, default "wald"
            How the intervals are computed.
        level : float, default 0.95
            The confidence level, 0 < level < 1.
        profile : ProfileResult, optional
            A profile of this model to reuse (``method="profile"`` only).
        bootstrap : optional
            A bootstrap result with a ``confint(level=...)`` method (``method="boot"``).
        n : int, optional
            Bootstrap replicates when running one (``method="boot"``; default 500).
        seed : int, optional
            Seed of a bootstrap run (``method="boot"``; required to run one).

        Returns
        -------
        polars.DataFrame
            ``parameter``, ``estimate``, ``lower``, ``upper`` (null where the method gives
            no end).

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.
        ArgumentError
            A bad ``method`` or ``level``, a keyword that does not belong to the method, a
            ``profile`` of another model, or ``method="boot"`` running a bootstrap without
            a ``seed`` (all naming the parameter).

        Examples
        --------
        >>> import mixedmodels as mm, polars as pl
        >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
        >>> m.confint().filter(parameter="Days").select(pl.col("lower", "upper").round(3)).rows()
        [(7.523, 13.412)]
        >>> m.confint("profile")["parameter"].to_list()[:2]
        ['sd_(Intercept)|Subject', 'cor_Days.(Intercept)|Subject']
        """
        from . import _profile

        _choice("wald", "profile", "boot")("method", method)
        level = _profile.check_level(level)
        given = {"profile": profile, "bootstrap": bootstrap, "n": n, "seed": seed}
        allowed = {"wald": (), "profile": ("profile",), "boot": ("bootstrap", "n", "seed")}
        for name, value in given.items():
            if value is not None and name not in allowed[method]:
                raise ArgumentError(f"`{name}` does not apply to method={method!r}", parameter=name)
        if method == "wald":
            return _profile.confint_frame(_core.wald_confint(self._core, level))
        if method == "profile":
            if profile is None:
                profile = _profile.profile(self)
            elif not isinstance(profile, _profile.ProfileResult) or profile._model is not self:
                raise ArgumentError(
                    "`profile` must be a ProfileResult of this model (mm.profile(model))",
                    parameter="profile",
                )
            return profile.confint(level)
        if bootstrap is None:
            from ._bootstrap import parametricbootstrap

            if seed is None:
                raise ArgumentError(
                    "running a bootstrap for method='boot' needs a `seed`", parameter="seed"
                )
            n = 500 if n is None else n
            check_arguments(n=n, seed=seed)
            bootstrap = parametricbootstrap(self, n, seed=seed, progress=False)
        return bootstrap.confint(level=level)

    @needs_fit
    def ranef(self, uscale: bool = False) -> dict[str, pl.DataFrame]:
        """Conditional modes of the random effects per grouping factor (lme4's ``ranef``).

        Parameters
        ----------
        uscale : bool, default False
            Return the spherical random effects u instead of b = Λu.

        Returns
        -------
        dict of str to polars.DataFrame
            Per grouping factor, a table with the level (a column named after the
            factor) and one column per random-effects column.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.ranef()["Batch"]["(Intercept)"].round(3).to_list()
        [-16.628, 0.37, 26.975, -21.801, 53.58, -42.494]
        """
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
        """Conditional covariance of the random effects per grouping factor (lme4's
        ``condVar``): the covariance of b given the data, at the estimates.

        Returns
        -------
        dict of str to numpy.ndarray
            Per grouping factor, an array of shape ``(levels, v, v)``, v its number of
            random-effects columns.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> cv = m.condvar()["Batch"]
        >>> cv.shape, round(float(cv[0, 0, 0]), 2)
        ((6, 1, 1), 362.31)
        """
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
    ) -> Any:
        """Predictions for the fitted rows or for new data (lme4's ``predict.merMod``).

        Parameters
        ----------
        newdata : polars, pandas or pyarrow table, or dict of columns, optional
            Rows to predict, with the columns the formula's fixed- and random-effects
            terms and offsets use (not the response). Factors are coded with the fitted
            model's levels and contrasts; a level of a factor in a fixed-effects (or
            random-effects) column not seen in fitting is a :class:`DataError` with
            ``column`` and ``level``. Without it: the fitted rows (equal to ``fitted()``
            with ``random_effects=True``; for a model built from streamed data they are
            computed by one more pass over its source, as :meth:`fitted` does, and a
            Dask source gives a lazy Dask Series).
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
        numpy.ndarray or dask.dataframe.Series
            One value per row of ``newdata`` (NaN where a used value is missing), or per
            observation used in fitting (a lazy Dask Series named ``fitted`` for a model
            built from a Dask DataFrame).

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.
        ArgumentError
            A bad keyword value, or ``offset`` without ``newdata``.
        DataError
            A column missing from ``newdata``, or a new level (see ``new_levels``).

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
        elif not getattr(self._core, "rows_stored", True):
            # A model built from streamed data: the fitted rows by one more pass.
            from ._stream_fitted import streamed_values

            return streamed_values(self, "fitted", random_effects, what="predict")
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
        proportions of the trials given as prior weights, Poisson counts; Gamma,
        inverse Gaussian, Normal and negative-binomial (NB2) draws at the fitted
        dispersion φ).

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

        ``optsum["initial"]`` is the θ the fit started from: for the quasi-Newton
        method the data's moment estimate (each random effect's variance from per-level
        least-squares fits to the fixed-effects residuals, relative to the residual
        variance, for a GLMM on the working scale of its GLM fit; off-diagonal entries
        0); for BOBYQA alone, and for the families with a dispersion parameter, lme4's
        λ = I (the latter times the residual standard deviation on the η scale).

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

        Returns
        -------
        dict or None
            The fit record, or None for a model never fitted.

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

        Raises
        ------
        NotFittedError
            The model has not been fitted.

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

        Raises
        ------
        NotFittedError
            The model holds no fit.

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

        Returns
        -------
        MixedModel
            This model, now holding the saved fit.

        Raises
        ------
        RestoreError
            The file is not a saved fit, or was saved for another model.

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
