"""Generalized linear mixed-effects models: the Python face of the Rust core."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from ._base import MixedModel, needs_fit
from ._contrasts import contrast_specs
from ._data import per_row_values
from ._families import Family, Link, family_and_link
from ._lmm import VarCorr
from ._progress import ProgressBar
from ._stream_glmm import (
    StreamedGeneralizedLinearMixedModel,
    is_path_or_dataset,
    refuse_for_streaming,
)
from ._support import prepare
from ._validate import check_arguments


class GeneralizedLinearMixedModel(MixedModel):
    """A generalized linear mixed-effects model: given the random effects, the response
    follows ``family`` (``"bernoulli"``, ``"binomial"``, ``"poisson"``, or
    ``mm.Bernoulli()``, ``mm.Binomial(link="probit")``, ...) with mean ``g⁻¹(η)``,
    ``η = offset + Xβ + Zb``; ``link`` is a name (``"probit"``) or a link
    (``mm.ProbitLink()``).

    A Bernoulli response is a two-level column (the second level is the success) or
    0/1 numbers; a Binomial response is a proportion with the number of trials as
    ``weights``; a Poisson response holds counts. ``link`` defaults to the family's
    canonical link (logit, log). The response may be an arithmetic expression of
    numeric columns, as R evaluates a formula's left-hand side
    (``incidence / size ~ ...`` with ``weights="size"``).

    For ``family="binomial"`` the response may also be lme4's two-column
    ``cbind(successes, failures) ~ ...``, each argument an arithmetic expression of
    numeric columns (``cbind(incidence, size - incidence)``): as in ``glmer``, the
    response is successes / trials and the trials (successes + failures) are the
    prior weights. The counts must be non-negative whole numbers and every row needs
    at least one trial (glmer keeps zero-trial rows with prior weight 0, where they
    add nothing to the likelihood; here they are an error naming the rows: drop
    them). ``weights`` cannot be combined with ``cbind``: glm and glmer would multiply
    them into the trials and count each row's binomial likelihood ``w`` times; for
    glmer's estimates write ``cbind(w * successes, w * failures)``. ``cbind`` with
    another family, in a linear mixed model or anywhere but the whole response is
    an error.

    Families with a dispersion parameter φ — ``mm.Gamma()`` (positive responses,
    shape 1/φ), ``mm.InverseGaussian()``, ``mm.Normal(link="log")`` (φ = σ²) and
    ``mm.NegativeBinomial()`` (NB2 counts, k = 1/φ) — are fitted as glmmTMB fits them:
    φ is estimated jointly with θ and β by maximising the Laplace approximation with
    the observed information, and the objective is the full −2 log L (so AIC compares
    with glmmTMB's). θ is the unscaled Cholesky factor (a scalar term's standard
    deviation). Non-positive Gamma / inverse Gaussian responses and negative or
    fractional negative-binomial counts are a :class:`DataError` naming the row.

    ``check_nobs`` ({"error", "warn", "ignore"}) decides what happens when a grouping
    factor has more levels, or a term more random effects, than there are observations
    (glmer's ``check.nobs.vs.nlev`` and ``check.nobs.vs.nRE``, which allow as many):
    a :class:`DataError` naming the grouping factor (default), a
    :class:`ModelCheckWarning`, or nothing. A formula without random-effects terms
    raises :class:`NoRandomEffectsError`. ``threads`` must be at least 1.

    Parameters
    ----------
    formula : str
        The model formula, with at least one random-effects term ``(expr | group)``.
    data : polars, pandas or pyarrow table
        The data.
    family : str, Family or Family subclass, default "bernoulli"
        The response distribution: ``"bernoulli"``, ``"binomial"``, ``"poisson"`` or a
        :class:`Family` (``mm.Poisson()``, ``mm.Binomial(link="probit")``).
    link : str, Link or Link subclass, optional
        The link function (default: the family's, else its canonical link).
    contrasts : dict, optional
        A coding per column (``{"period": mm.EffectsCoding()}``).
    weights : str or array-like, optional
        Prior weights (Binomial proportions: the trials): a column name or one value
        per row.
    offset : str or array-like, optional
        Added to the linear predictor: a column name or one value per row (added to
        any ``offset(...)`` terms).
    missing : {"drop", "raise"}, default "drop"
        Drop rows with missing values (with a warning), or refuse them.
    threads : int, optional
        Threads for the dense kernels (at least 1; default all).
    check_nobs : {"error", "warn", "ignore"}, default "error"
        What to do with too few observations for a grouping factor (above).

    Raises
    ------
    FormulaError
        The formula does not parse (:class:`NoRandomEffectsError` without a
        random-effects term).
    DataError
        A column is missing or unusable, a response the family cannot take, or too
        few observations for a grouping factor.
    ArgumentError
        An unknown family or link, a link given twice differently, or another bad
        keyword (named by ``parameter``; :class:`ArgumentTypeError` for a wrong type).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.GeneralizedLinearMixedModel(
    ...     "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)",
    ...     mm.dataset("contraception"), "bernoulli").fit(nagq=9)
    >>> round(m.objective, 2)
    2372.46
    """

    _has_sigma = False

    def __init__(
        self,
        formula: str,
        data: Any,
        family: str | Family | type[Family] = "bernoulli",
        link: str | Link | type[Link] | None = None,
        contrasts: dict | None = None,
        weights: Any = None,
        offset: Any = None,
        missing: str = "drop",
        threads: int | None = None,
        check_nobs: str = "error",
    ):
        check_arguments(missing=missing, threads=threads, check_nobs=check_nobs)
        self._ctor = dict(
            family=family,
            link=link,
            contrasts=contrasts,
            weights=weights,
            offset=offset,
            missing=missing,
            threads=threads,
            check_nobs=check_nobs,
        )
        family, link = family_and_link(family, link)
        df, columns = prepare(formula, data)
        self._data = df
        self._core = _core.GeneralizedLinearMixedModel(
            formula,
            columns,
            family,
            link,
            contrast_specs(contrasts),
            per_row_values(df, weights, "weights"),
            per_row_values(df, offset, "offset"),
            missing,
            threads,
            check_nobs,
        )
        self._report_dropped()

    # ---- fitting ---------------------------------------------------------------------
    def fit(
        self,
        fast: bool = False,
        nagq: int = 1,
        progress: bool | None = None,
        optimizer: str = "auto",
    ) -> GeneralizedLinearMixedModel:
        """Fit by maximum likelihood; returns the model itself.

        Parameters
        ----------
        fast : bool
            Optimise θ only, β from PIRLS (lme4's ``nAGQ = 0``).
        nagq : int
            Quadrature points, 1 to 100: 1 is the Laplace approximation, more use
            adaptive Gauss–Hermite quadrature (one scalar random-effects term only).
        progress : bool or None
            Show a progress bar of the objective evaluations (every stage): True
            always, False never, None (default) when the output is interactive and
            the fit lasts more than a second.
        optimizer : str
            ``"auto"`` (default): the quasi-Newton method (projected BFGS) with the
            exact gradient — a θ stage (β from PIRLS, Laplace objective) that gives
            the joint (β, θ) stage its start, or the θ stage alone for a ``fast``
            fit; the joint stage on the Laplace objective or, for ``nagq > 1``, the
            quadrature objective; for the families with a dispersion parameter log
            φ joins both stages (Laplace only) — and BOBYQA where a stage fails (for
            those families where an observed weight is negative, which leaves no
            gradient). BOBYQA throughout for a ``fast`` fit with ``nagq > 1`` (no
            gradient), a dispersion family with ``nagq > 1``, and crossed factors
            whose dense block of L exceeds 1,024 rows (the gradient costs more than it
            saves). ``"bfgs"``: the quasi-Newton method without the fallback.
            ``"bobyqa"``: the derivative-free method (a θ stage, then the joint
            stage).
            ``optsum["stages"]`` names the optimizer of each stage.

        Returns
        -------
        GeneralizedLinearMixedModel
            The model, fitted.

        Raises
        ------
        ArgumentError
            A bad ``fast``, ``nagq``, ``progress`` or ``optimizer``, or ``nagq > 1``
            for a model with more than one scalar random-effects term.
        SeparationError
            The fixed effects separate the response (no finite estimates).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.GeneralizedLinearMixedModel(
        ...     "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...     mm.dataset("cbpp"), "binomial")
        >>> round(m.fit(nagq=5).objective, 1)
        100.0
        >>> [(s["stage"], s["optimizer"]) for s in m.fit().optsum["stages"]]
        [('theta', 'BFGS'), ('joint', 'BFGS')]
        """
        check_arguments(fast=fast, nagq=nagq, progress=progress, optimizer=optimizer)
        with ProgressBar(progress, "fit", "eval") as bar:
            self._core.fit(bool(fast), int(nagq), optimizer, bar.native)
        self._after_fit()
        return self

    def evaluate(self, theta: Any, beta: Any = None, nagq: int = 1) -> float:
        """Objective at θ with β fixed (or updated by PIRLS when ``beta`` is None);
        leaves the model at the conditional modes, so that the extractors give the
        values at (β, θ).

        Parameters
        ----------
        theta : array_like
            The covariance parameters, one per entry of :attr:`theta_names`.
        beta : array_like, optional
            The fixed effects; None: β is optimised with the random effects by PIRLS.
        nagq : int, default 1
            Quadrature points (1: the Laplace approximation).

        Returns
        -------
        float
            The Laplace (or quadrature) deviance at (β, θ), as :attr:`objective`.

        Raises
        ------
        ArgumentError
            A bad ``nagq``, or θ or β of the wrong length.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.GeneralizedLinearMixedModel(
        ...     "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...     mm.dataset("cbpp"), "binomial")
        >>> round(g.evaluate([0.642260]), 3)  # β by PIRLS at θ̂ of the joint fit
        100.152
        """
        check_arguments(nagq=nagq)
        theta = [float(t) for t in np.asarray(theta, dtype=np.float64).ravel()]
        if beta is not None:
            beta = [float(b) for b in np.asarray(beta, dtype=np.float64).ravel()]
        value = self._core.evaluate(theta, beta, int(nagq))
        self._evaluated = True
        return value

    # ---- parameters and statistics -----------------------------------------------------
    @property
    def family(self) -> str:
        """The response distribution.

        Returns
        -------
        str
            The family's name as the core reports it (``"Binomial"``, ``"Poisson"``, ...).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> g.family
        'Binomial'
        """
        return self._core.family

    @property
    def link(self) -> str:
        """The link function.

        Returns
        -------
        str
            The link's name as the core reports it (``"LogitLink"``, ...).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> g.link
        'LogitLink'
        """
        return self._core.link

    @property
    def dispersion(self) -> float | None:
        """The dispersion φ of a family that has one, else None: Gamma 1/shape,
        inverse Gaussian φ (Var = φμ³), Normal σ², NegativeBinomial 1/k (Var = μ + φμ²).

        Returns
        -------
        float or None
            φ at the fit (estimated jointly with θ and β by maximum likelihood).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.glmm("Reaction ~ 1 + Days + (1 | Subject)", mm.dataset("sleepstudy"),
        ...             family=mm.Gamma(link="log"))
        >>> round(m.dispersion, 5)
        0.00934
        """
        return self._core.dispersion

    @property
    def dispersion_log_stderror(self) -> float | None:
        """Standard error of log φ from the numerical Hessian of the Laplace objective in
        (β, θ, log φ) (as glmmTMB's ``sdreport``), or None.

        Computed at the fit's estimates on first use (a gradient per coordinate: about a
        third of a small model's fit time), then kept; the fit itself does not compute it.

        Returns
        -------
        float or None
            SE(log φ); SE(φ) ≈ φ · SE(log φ).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.glmm("Reaction ~ 1 + Days + (1 | Subject)", mm.dataset("sleepstudy"),
        ...             family=mm.Gamma(link="log"))
        >>> round(m.dispersion_log_stderror, 3)
        0.111
        """
        return self._core.dispersion_log_stderror

    @property
    def nagq(self) -> int:
        """Quadrature points of the objective (1: Laplace approximation).

        Returns
        -------
        int
            The ``nagq`` of the last fit or evaluation.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> g.nagq
        1
        """
        return self._core.nagq

    @property
    @needs_fit
    def objective(self) -> float:
        """Laplace (or adaptive Gauss–Hermite) deviance Σ dᵢ + ‖u‖² + log|L|², the
        "Deviance" of the summary (MixedModels.jl's ``deviance``).

        Returns
        -------
        float
            The value the fit minimises.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> round(g.objective, 4)
        100.0959
        """
        return self._core.objective

    @needs_fit
    def deviance(self) -> float:
        """Σ unit deviances at the conditional modes (lme4's ``deviance``).

        Returns
        -------
        float
            The sum of the squared deviance residuals.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> round(g.deviance(), 4)
        73.4717
        """
        return self._core.deviance

    @needs_fit
    def loglikelihood(self) -> float:
        """Log-likelihood with the full density's constants (lme4's ``logLik`` for
        nAGQ = 1).

        Returns
        -------
        float
            log L at the estimates.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> round(g.loglikelihood(), 4)
        -92.0263
        """
        return self._core.loglikelihood()

    @needs_fit
    def aic(self) -> float:
        """Akaike's information criterion −2 log L + 2·dof.

        Returns
        -------
        float
            AIC.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> round(g.aic(), 2)
        194.05
        """
        return self._core.aic()

    @needs_fit
    def bic(self) -> float:
        """Schwarz's Bayesian information criterion −2 log L + dof·log n.

        Returns
        -------
        float
            BIC.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> round(g.bic(), 2)
        204.18
        """
        return self._core.bic()

    @needs_fit
    def varcorr(self) -> VarCorr:
        """Variance components (no residual term).

        Returns
        -------
        VarCorr
            Variances, standard deviations and correlations per term.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> g.varcorr().to_polars()["sd"].round(4).to_list()
        [0.6423]
        """
        terms, _ = self._core.varcorr()
        return VarCorr._from_core(self._core, terms, None)

    @needs_fit
    def fitted(self, scale: str = "response") -> np.ndarray:
        """Fitted means (``scale="response"``) or linear predictor (``"link"``).

        Parameters
        ----------
        scale : {"response", "link"}, default "response"
            The mean μ = g⁻¹(η) or the linear predictor η.

        Returns
        -------
        numpy.ndarray
            One value per observation used, at the conditional modes.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> g.fitted()[:2].round(4)
        array([0.3082, 0.1417])
        >>> g.fitted("link")[:2].round(4)
        array([-0.8085, -1.8008])
        """
        return self._core.fitted(scale)

    @needs_fit
    def residuals(self, kind: str = "deviance") -> np.ndarray:
        """Residuals of the fit at the conditional modes.

        Parameters
        ----------
        kind : {"deviance", "pearson", "response", "working"}, default "deviance"
            Signed square roots of the unit deviances, (y − μ)/√(V(μ)/w), y − μ, or
            the working residuals (y − μ)·dη/dμ.

        Returns
        -------
        numpy.ndarray
            One value per observation used.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        ...             mm.dataset("cbpp"), family="binomial")
        >>> g.residuals()[:2].round(4)
        array([-1.438 ,  0.9887])
        >>> g.residuals("pearson")[:2].round(4)
        array([-1.3399,  1.0751])
        """
        return self._core.residuals(kind)

    # ---- display ---------------------------------------------------------------------
    def __repr__(self) -> str:
        if not self._core.is_fitted:
            return (
                f"<unfitted GeneralizedLinearMixedModel ({self.family}, {self.link}): "
                f"{self.formula}; {self.nobs} observations>"
            )
        return self._core.summary()


def glmm(
    formula: str,
    data: Any,
    family: str | Family | type[Family] = "bernoulli",
    link: str | Link | type[Link] | None = None,
    nagq: int = 1,
    fast: bool = False,
    contrasts: dict | None = None,
    weights: Any = None,
    offset: Any = None,
    missing: str = "drop",
    progress: bool | None = None,
    threads: int | None = None,
    check_nobs: str = "error",
    optimizer: str = "auto",
    chunk_rows: int | None = None,
) -> GeneralizedLinearMixedModel | StreamedGeneralizedLinearMixedModel:
    """Build and fit a generalized linear mixed model.

    Parameters
    ----------
    formula, data, family, link, contrasts, weights, offset, missing, threads, check_nobs
        As for :class:`GeneralizedLinearMixedModel`; ``data`` may also be a Parquet
        path or glob or a pyarrow dataset, which are read in chunks (below).
    nagq, fast, progress, optimizer
        As for :meth:`GeneralizedLinearMixedModel.fit`.
    chunk_rows : int, optional
        Read the data in chunks of this many rows instead of holding them: the model
        is then a :class:`StreamedGeneralizedLinearMixedModel` (``fast=True`` only,
        Bernoulli or Poisson, PIRLS reading the data once per iteration). A Parquet
        path or pyarrow dataset is always read in chunks (1,000,000 rows by default).

    Returns
    -------
    GeneralizedLinearMixedModel or StreamedGeneralizedLinearMixedModel
        The fitted model (the latter for data read in chunks).

    Raises
    ------
    FormulaError
        The formula does not parse or has no random-effects term.
    DataError
        The data cannot support the model (:class:`SeparationError` for separated data).
    ArgumentError
        A keyword with a bad value (named by ``parameter``).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> g = mm.glmm("r2 ~ 1 + Anger + Gender + btype + situ + mode + (1|id) + (1|item)",
    ...             mm.dataset("verbagg"), family="bernoulli")
    >>> round(g.objective, 4)
    8135.8329
    """
    check_arguments(
        nagq=nagq,
        fast=fast,
        missing=missing,
        progress=progress,
        threads=threads,
        check_nobs=check_nobs,
        optimizer=optimizer,
    )
    if chunk_rows is not None or is_path_or_dataset(data):
        refuse_for_streaming(
            fast=fast,
            nagq=nagq,
            weights=weights,
            offset=offset,
            threads=threads,
            progress=progress,
            optimizer=optimizer,
        )
        return StreamedGeneralizedLinearMixedModel(
            formula,
            data,
            family=family,
            link=link,
            contrasts=contrasts,
            missing=missing,
            check_nobs=check_nobs,
            chunk_rows=chunk_rows,
        ).fit()
    model = GeneralizedLinearMixedModel(
        formula,
        data,
        family=family,
        link=link,
        contrasts=contrasts,
        weights=weights,
        offset=offset,
        missing=missing,
        threads=threads,
        check_nobs=check_nobs,
    )
    return model.fit(fast=fast, nagq=nagq, progress=progress, optimizer=optimizer)
