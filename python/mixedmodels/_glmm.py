"""Generalized linear mixed-effects models: the Python face of the Rust core."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._contrasts import contrast_specs
from ._data import encode_columns, to_polars, weights_array
from ._display import coeftable_markdown, varcorr_markdown
from ._lmm import VarCorr


class GeneralizedLinearMixedModel:
    """A generalized linear mixed-effects model: given the random effects, the response
    follows ``family`` (``"bernoulli"``, ``"binomial"``, ``"poisson"``) with mean
    ``g⁻¹(η)``, ``η = offset + Xβ + Zb``.

    A Bernoulli response is a two-level column (the second level is the success) or
    0/1 numbers; a Binomial response is a proportion with the number of trials as
    ``weights``; a Poisson response holds counts. ``link`` defaults to the family's
    canonical link (logit, log).

    >>> import mixedmodels as mm
    >>> m = mm.GeneralizedLinearMixedModel(
    ...     "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)",
    ...     mm.dataset("contraception"), "bernoulli").fit(nagq=9)
    >>> round(m.objective, 2)
    2372.46
    """

    def __init__(
        self,
        formula: str,
        data: Any,
        family: str = "bernoulli",
        link: str | None = None,
        contrasts: dict | None = None,
        weights: Any = None,
        offset: Any = None,
        missing: str = "drop",
        threads: int | None = None,
    ):
        if not isinstance(formula, str):
            raise TypeError(f"formula must be a string, got {type(formula).__name__}")
        df = to_polars(data)
        info = _core.describe_formula(formula)
        columns = encode_columns(df, info["variables"])
        self._data = df
        self._core = _core.GeneralizedLinearMixedModel(
            formula,
            columns,
            family,
            link,
            contrast_specs(contrasts),
            weights_array(df, weights),
            _offset_array(df, offset),
            missing,
            threads,
        )
        dropped = {c: k for c, k in self._core.missing if k > 0}
        self.missing: dict[str, int] = dropped
        """Rows dropped for missing values, per column."""
        if dropped:
            total = self._core.input_rows - self._core.nobs
            detail = ", ".join(f"`{c}`: {k}" for c, k in dropped.items())
            warnings.warn(f"dropped {total} rows with missing values ({detail})", stacklevel=2)
        if self._core.dropped_columns:
            warnings.warn(
                "fixed-effects model matrix is rank deficient; dropped linearly dependent "
                f"columns: {', '.join(self._core.dropped_columns)}",
                stacklevel=2,
            )

    # ---- fitting ---------------------------------------------------------------------
    def fit(
        self, fast: bool = False, nagq: int = 1, progress: bool = False
    ) -> GeneralizedLinearMixedModel:
        """Fit by maximum likelihood: ``fast=True`` optimises θ only (β from PIRLS);
        ``nagq > 1`` uses adaptive Gauss–Hermite quadrature (one scalar random-effects
        term only). Returns the model itself."""
        self._core.fit(bool(fast), int(nagq))
        if progress:
            o = self.optsum
            print(f"{o['evaluations']} evaluations, objective {o['fmin']:.6f}")
        return self

    def evaluate(self, theta: Any, beta: Any = None, nagq: int = 1) -> float:
        """Objective at θ with β fixed (or updated by PIRLS when ``beta`` is None);
        leaves the model at the conditional modes."""
        theta = [float(t) for t in np.asarray(theta, dtype=np.float64).ravel()]
        if beta is not None:
            beta = [float(b) for b in np.asarray(beta, dtype=np.float64).ravel()]
        return self._core.evaluate(theta, beta, int(nagq))

    # ---- parameters and statistics -----------------------------------------------------
    @property
    def formula(self) -> str:
        """The model formula as given."""
        return self._core.formula

    @property
    def family(self) -> str:
        """The response distribution."""
        return self._core.family

    @property
    def link(self) -> str:
        """The link function."""
        return self._core.link

    @property
    def nagq(self) -> int:
        """Quadrature points of the objective (1: Laplace approximation)."""
        return self._core.nagq

    @property
    def theta(self) -> np.ndarray:
        """Relative covariance parameters θ."""
        return self._core.theta

    @property
    def beta(self) -> np.ndarray:
        """Fixed-effects estimates β̂."""
        return self._core.beta

    @property
    def fixef(self) -> np.ndarray:
        """Fixed-effects estimates (same as :attr:`beta`)."""
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
        """The response as coded for the family (0/1, proportions or counts)."""
        return self._core.y

    @property
    def objective(self) -> float:
        """Laplace (or adaptive Gauss–Hermite) deviance Σ dᵢ + ‖u‖² + log|L|², the
        "Deviance" of the summary (MixedModels.jl's ``deviance``)."""
        return self._core.objective

    def deviance(self) -> float:
        """Σ unit deviances at the conditional modes (lme4's ``deviance``)."""
        return self._core.deviance

    def loglikelihood(self) -> float:
        """Log-likelihood with the full density's constants (lme4's ``logLik`` for
        nAGQ = 1)."""
        return self._core.loglikelihood

    def aic(self) -> float:
        """Akaike's information criterion."""
        return self._core.aic

    def bic(self) -> float:
        """Schwarz's Bayesian information criterion."""
        return self._core.bic

    @property
    def dof(self) -> int:
        """Number of parameters (β and θ)."""
        return self._core.dof

    @property
    def nobs(self) -> int:
        """Number of observations used."""
        return self._core.nobs

    def issingular(self) -> bool:
        """Is some diagonal element of λ at its bound of zero?"""
        return self._core.is_singular

    @property
    def stderror(self) -> np.ndarray:
        """Standard errors of β̂ from R_X (as MixedModels.jl reports them)."""
        return self._core.stderror

    def vcov(self, corr: bool = False) -> np.ndarray:
        """Covariance (or, with ``corr=True``, correlation) matrix of β̂ from R_X."""
        v = self._core.vcov
        if corr:
            s = np.sqrt(np.diag(v))
            return v / np.outer(s, s)
        return v

    def coeftable(self) -> pl.DataFrame:
        """Fixed-effects table: name, estimate, standard error, z and p."""
        names, est, se, z, p = self._core.coeftable()
        return pl.DataFrame({"name": names, "estimate": est, "stderror": se, "z": z, "p": p})

    def varcorr(self) -> VarCorr:
        """Variance components (no residual term)."""
        terms = self._core.varcorr()
        text = self._core.summary().split("Variance components:", 1)[1]
        text = "Variance components:" + text.split(" Number of obs", 1)[0]
        return VarCorr(terms, None, text.rstrip("\n"))

    def ranef(self, uscale: bool = False) -> dict[str, pl.DataFrame]:
        """Conditional modes per grouping factor (``uscale=True``: spherical u)."""
        out = {}
        for (name, levels, columns), values in zip(
            self._core.reterms(), self._core.ranef(uscale), strict=True
        ):
            cols: dict[str, Any] = {name: levels}
            for j, c in enumerate(columns):
                cols[c] = values[:, j]
            out[name] = pl.DataFrame(cols)
        return out

    def condvar(self) -> dict[str, np.ndarray]:
        """Conditional covariance of the random effects per grouping factor
        (levels × v × v)."""
        return {t[0]: cv for t, cv in zip(self._core.reterms(), self._core.condvar(), strict=True)}

    def fitted(self, scale: str = "response") -> np.ndarray:
        """Fitted means (``scale="response"``) or linear predictor (``"link"``)."""
        return self._core.fitted(scale)

    def residuals(self, kind: str = "deviance") -> np.ndarray:
        """Residuals: ``"deviance"``, ``"pearson"``, ``"response"`` or ``"working"``."""
        return self._core.residuals(kind)

    @property
    def optsum(self) -> dict | None:
        """Optimizer summary: start, optimum, evaluations (both stages), time."""
        return self._core.optsum()

    def fitlog(self) -> pl.DataFrame:
        """Every objective evaluation of the last fit: iteration, stage, θ, β, objective."""
        log = self._core.fitlog()
        if log is None:
            raise ValueError("the model has not been fitted")
        thetas, betas, objs, joint = log
        cols: dict[str, Any] = {
            "iteration": list(range(1, len(objs) + 1)),
            "joint": joint,
        }
        for j in range(thetas.shape[1]):
            cols[f"theta_{j + 1}"] = thetas[:, j]
        for j in range(betas.shape[1]):
            cols[f"beta_{j + 1}"] = betas[:, j]
        cols["objective"] = objs
        return pl.DataFrame(cols)

    # ---- display ---------------------------------------------------------------------
    def __str__(self) -> str:
        return self._core.summary()

    def __repr__(self) -> str:
        if not self._core.is_fitted:
            return (
                f"<unfitted GeneralizedLinearMixedModel ({self.family}, {self.link}): "
                f"{self.formula}; {self.nobs} observations>"
            )
        return self._core.summary()

    def _repr_markdown_(self) -> str:
        lines = [
            f"**Generalized linear mixed model fit by maximum likelihood (nAGQ = {self.nagq})**",
            "",
            f"`{self.formula}` — {self.family}, {self.link}",
            "",
            "| logLik | deviance | AIC | BIC |",
            "|---:|---:|---:|---:|",
            f"| {self.loglikelihood():.4f} | {self.objective:.4f} | {self.aic():.4f} "
            f"| {self.bic():.4f} |",
            "",
            varcorr_markdown(self._core.varcorr(), None),
            "",
            coeftable_markdown(self.coeftable()),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"


def _offset_array(df: pl.DataFrame, offset: Any) -> list[float] | None:
    """An offset given as a column name or an array of one value per row."""
    if offset is None:
        return None
    if isinstance(offset, str):
        if offset not in df.columns:
            raise ValueError(f"offset column `{offset}` not found in the data")
        series = df.get_column(offset)
        if not series.dtype.is_numeric():
            raise TypeError(f"offset column `{offset}` must be numeric, got {series.dtype}")
        return series.cast(pl.Float64).fill_null(float("nan")).to_list()
    arr = np.asarray(offset, dtype=np.float64).ravel()
    if arr.shape[0] != df.height:
        raise ValueError(f"offset has length {arr.shape[0]}, the data have {df.height} rows")
    return arr.tolist()


def glmm(
    formula: str,
    data: Any,
    family: str = "bernoulli",
    link: str | None = None,
    nagq: int = 1,
    fast: bool = False,
    contrasts: dict | None = None,
    weights: Any = None,
    offset: Any = None,
    missing: str = "drop",
    progress: bool = False,
    threads: int | None = None,
) -> GeneralizedLinearMixedModel:
    """Build and fit a generalized linear mixed model.

    >>> import mixedmodels as mm
    >>> g = mm.glmm("r2 ~ 1 + Anger + Gender + btype + situ + mode + (1|id) + (1|item)",
    ...             mm.dataset("verbagg"), family="bernoulli")
    >>> round(g.objective, 4)
    8135.8329
    """
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
    )
    return model.fit(fast=fast, nagq=nagq, progress=progress)
