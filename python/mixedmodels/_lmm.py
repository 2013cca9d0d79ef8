"""Linear mixed-effects models: the Python face of the Rust core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._base import MixedModel, needs_fit
from ._contrasts import contrast_specs
from ._data import per_row_values
from ._display import FORMATS, RichDisplay, check_format
from ._errors import ArgumentError
from ._stream import build_streamed, is_streamed_source
from ._support import prepare
from ._validate import check_arguments


@dataclass(frozen=True)
class ReTerm:
    """A random-effects term: grouping factor, its levels, columns and per-row values.

    ``refs[i]`` is the level index of row ``i``; ``z[i, j]`` the value of column ``j``
    at row ``i``, so that Z's block for this term has ``z[i, j]`` at row ``i``, column
    ``refs[i] * len(columns) + j``."""

    name: str
    levels: list[str]
    columns: list[str]
    refs: np.ndarray
    z: np.ndarray
    theta_index: list[tuple[int, int]]

    @property
    def nlevels(self) -> int:
        """Number of levels of the grouping factor."""
        return len(self.levels)

    def dense(self, max_entries: int = 50_000_000) -> np.ndarray:
        """Z for this term as a dense ``n × (levels·columns)`` array (small models only)."""
        n, v = self.z.shape
        q = self.nlevels * v
        if n * q > max_entries:
            raise ArgumentError(
                f"dense Z of term `{self.name}` would have {n}×{q} entries; use refs and z",
                parameter="max_entries",
            )
        out = np.zeros((n, q))
        rows = np.arange(n)
        for j in range(v):
            out[rows, self.refs.astype(np.int64) * v + j] = self.z[:, j]
        return out


class VarCorr(RichDisplay):
    """Estimated variance components: the values (``terms``, ``residual_sd``) and their
    table, which prints like the MixedModels.jl manual and renders as Markdown, HTML
    and LaTeX in notebooks (all renderings made by the Rust presentation layer when
    the components are extracted).

    Parameters
    ----------
    terms : list of dict
        Per random-effects term: ``group``, ``columns``, ``covariance``, ``sd`` and
        ``correlation``.
    residual_sd : float or None
        The residual standard deviation (None for a GLMM).
    renderings : dict
        The table rendered in each format of ``FORMATS`` ("text", "markdown",
        "html", "latex").

    Examples
    --------
    >>> import mixedmodels as mm
    >>> vc = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")).varcorr()
    >>> print(vc)  # doctest: +NORMALIZE_WHITESPACE
    Variance components:
              Column        Variance   Std.Dev.
    Batch     (Intercept)  1388.3333  37.260345
    Residual               2451.2500  49.510100
    >>> "<table" in vc._repr_html_()
    True
    """

    def __init__(self, terms: list[dict], residual_sd: float | None, renderings: dict[str, str]):
        self.terms = terms
        self.residual_sd = residual_sd
        self._renderings = dict(renderings)

    @classmethod
    def _from_core(cls, core: Any, terms: list[dict], residual_sd: float | None) -> VarCorr:
        """The components of a native model with their table in every format."""
        return cls(terms, residual_sd, {f: core.varcorr_table(f) for f in FORMATS})

    def render(self, format: str = "text") -> str:
        """The table as text, Markdown, HTML or LaTeX.

        Parameters
        ----------
        format : {"text", "markdown", "html", "latex"}
            The output format.

        Returns
        -------
        str
            The rendered table.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> vc = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")).varcorr()
        >>> vc.render("markdown").splitlines()[2]
        '|  | Column | Variance | Std.Dev. |'
        """
        return self._renderings[check_format(format)]

    def _render(self, format: str) -> str:
        return self._renderings[format]

    def to_polars(self) -> pl.DataFrame:
        """One row per (group, column): variance and standard deviation."""
        rows = []
        for t in self.terms:
            for j, col in enumerate(t["columns"]):
                rows.append(
                    {
                        "group": t["group"],
                        "column": col,
                        "variance": float(t["covariance"][j, j]),
                        "sd": float(t["sd"][j]),
                    }
                )
        if self.residual_sd is not None:
            rows.append(
                {
                    "group": "Residual",
                    "column": None,
                    "variance": self.residual_sd**2,
                    "sd": self.residual_sd,
                }
            )
        return pl.DataFrame(
            rows,
            schema={
                "group": pl.String,
                "column": pl.String,
                "variance": pl.Float64,
                "sd": pl.Float64,
            },
        )

    def __repr__(self) -> str:
        return self._renderings["text"].rstrip("\n")


class LinearMixedModel(MixedModel):
    """A linear mixed-effects model ``y = offset + Xβ + Zb + ε``.

    Build it from a formula and a data frame (polars, pandas or pyarrow), then call
    :meth:`fit`. Rows with a missing value in a used column are dropped (a warning says
    how many per column; ``missing="raise"`` refuses instead).

    Parameters
    ----------
    formula : str
        The model formula, with at least one random-effects term ``(expr | group)``;
        ``offset(expr)`` terms are allowed.
    data : table, LazyFrame, Parquet path, pyarrow dataset or Dask DataFrame
        The data: an in-memory table (polars, pandas, pyarrow Table, dict of columns),
        or a source read in chunks without holding the rows in memory (a Parquet path
        or glob, a polars LazyFrame, a pyarrow dataset, a Dask DataFrame; see
        ``chunk_rows``).
    contrasts : dict, optional
        A coding per column (``{"Days": mm.DummyCoding()}``).
    weights : str or array-like, optional
        Case weights: a column name or one value per row.
    offset : str or array-like, optional
        A known term added to the mean: a column name or one value per row (added to
        any ``offset(...)`` terms). The model is fitted to the response minus the
        offset; fitted values include it, as lme4's ``lmer(..., offset=)``.
    sigma : float, optional
        Fix the residual standard deviation instead of estimating it.
    missing : {"drop", "raise"}
        Drop rows with missing values (with a warning), or refuse them.
    threads : int, optional
        Threads for the dense kernels (at least 1; default all).
    check_nobs : {"error", "warn", "ignore"}
        What to do when a grouping factor has as many levels as observations, or a
        term as many random effects (lme4's ``check.nobs.vs.nlev`` and
        ``check.nobs.vs.nRE``): refuse with a :class:`DataError` naming the grouping
        factor (default), build with a :class:`ModelCheckWarning`, or build silently.
    chunk_rows : int, optional
        Read the data in chunks of at most this many rows and keep only the sums of
        squares and products A (memory: A's blocks plus one chunk; default chunks of
        1,000,000 rows). A Parquet path, LazyFrame, pyarrow dataset or Dask DataFrame is
        always streamed; an in-memory table only when ``chunk_rows`` is given. A
        streamed model fits, summarises and gives θ, β, σ, the variance components and
        the conditional modes as in memory; what needs the rows (``fitted``,
        ``residuals``, ``leverage``, ``simulate``, refits with a new response) raises
        :class:`RowsNotStoredError`. ``weights`` and ``offset`` per row are not
        supported when streaming (``offset(...)`` in the formula is).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 + Days | Subject)",
    ...                         mm.dataset("sleepstudy")).fit()
    >>> round(m.objective, 4)
    1751.9393
    """

    def __init__(
        self,
        formula: str,
        data: Any,
        contrasts: dict | None = None,
        weights: Any = None,
        sigma: float | None = None,
        missing: str = "drop",
        threads: int | None = None,
        _zerocorr: list[str] | None = None,
        offset: Any = None,
        check_nobs: str = "error",
        chunk_rows: int | None = None,
    ):
        check_arguments(sigma=sigma, missing=missing, threads=threads, check_nobs=check_nobs)
        if chunk_rows is not None or is_streamed_source(data):
            self._build_streamed(
                formula,
                data,
                chunk_rows,
                contrasts,
                weights,
                sigma,
                missing,
                threads,
                _zerocorr,
                offset,
                check_nobs,
            )
            return
        df, columns = prepare(formula, data)
        self._args = dict(
            contrasts=contrasts,
            weights=weights,
            sigma=sigma,
            missing=missing,
            threads=threads,
            offset=offset,
            check_nobs=check_nobs,
        )
        self._data = df
        self._ctor = dict(self._args, _zerocorr=_zerocorr)
        self._core = _core.LinearMixedModel(
            formula,
            columns,
            contrast_specs(contrasts),
            per_row_values(df, weights, "weights"),
            sigma,
            missing,
            threads,
            _zerocorr,
            per_row_values(df, offset, "offset"),
            check_nobs,
        )
        self._report_dropped()

    def _build_streamed(
        self,
        formula,
        data,
        chunk_rows,
        contrasts,
        weights,
        sigma,
        missing,
        threads,
        _zerocorr,
        offset,
        check_nobs,
    ) -> None:
        """Build the native model from data read in chunks (see ``chunk_rows``)."""
        self._args = dict(
            contrasts=contrasts,
            weights=weights,
            sigma=sigma,
            missing=missing,
            threads=threads,
            offset=offset,
            check_nobs=check_nobs,
            chunk_rows=chunk_rows,
        )
        self._data = data
        self._ctor = dict(self._args, _zerocorr=_zerocorr)
        self._core = build_streamed(formula, data, chunk_rows, self._ctor)
        self._report_dropped()

    # ---- fitting ---------------------------------------------------------------------
    def fit(
        self, reml: bool = False, progress: bool = False, optimizer: str = "auto"
    ) -> LinearMixedModel:
        """Fit by maximum likelihood (default) or REML; returns the model itself.

        Parameters
        ----------
        reml : bool
            Fit by REML instead of maximum likelihood.
        progress : bool
            Print the number of evaluations and the objective after the fit.
        optimizer : str
            ``"auto"`` (default): the quasi-Newton method (projected BFGS with the
            analytic gradient of the objective), handing over to BOBYQA from its best
            point when it fails or the convergence certificate does; ``"bfgs"``: the
            quasi-Newton method only; ``"bobyqa"``: the derivative-free BOBYQA only.
            ``optsum["stages"]`` names the optimizer of each stage.

        Returns
        -------
        LinearMixedModel
            The model, fitted.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.fit(reml=True).objective, 4)
        319.6543
        >>> [s["optimizer"] for s in m.optsum["stages"]]
        ['BFGS']
        >>> round(m.fit(reml=True, optimizer="bobyqa").objective, 4)
        319.6543
        """
        check_arguments(reml=reml, progress=progress, optimizer=optimizer)
        self._core.fit(bool(reml), optimizer)
        self._after_fit()
        if progress:
            o = self.optsum
            print(f"{o['evaluations']} evaluations, objective {o['fmin']:.6f}")
        return self

    def refit(self, y: Any = None, reml: bool | None = None) -> LinearMixedModel:
        """Refit, optionally with a new response (same length), reusing all symbolic work
        and the optimizer of the last fit; an offset stays in the model (the new response
        is fitted minus the offset)."""
        if reml is not None:
            check_arguments(reml=reml)
        last = self._core.optsum()
        optimizer = "auto" if last is None else last["optimizer"]
        if y is not None:
            self._core.set_response(np.asarray(y, dtype=np.float64).ravel().tolist())
            self._evaluated = False
        return self.fit(self._core.is_reml if reml is None else reml, optimizer=optimizer)

    def objective_at(self, theta: Any) -> float:
        """Objective (−2 log-likelihood or REML criterion) at θ; installs θ."""
        theta = [float(t) for t in np.asarray(theta, dtype=np.float64).ravel()]
        value = self._core.objective_at(theta)
        self._evaluated = True
        return value

    def zerocorr(self, terms: list[str] | None = None) -> LinearMixedModel:
        """A new, unfitted model in which the named grouping factors' terms (default: all)
        have no correlation parameters (MixedModels.jl's ``zerocorr!``)."""
        names = [t["name"] for t in self._core.reterms()] if terms is None else list(terms)
        known = {t["name"] for t in self._core.reterms()}
        for n in names:
            if n not in known:
                raise ArgumentError(
                    f"no random-effects term with grouping factor `{n}`", parameter="terms"
                )
        return LinearMixedModel(self.formula, self._data, _zerocorr=names, **self._args)

    # ---- parameters -----------------------------------------------------------------
    @needs_fit
    def coef(self) -> np.ndarray:
        """Coefficients for every column generated by the formula; NaN for dropped ones."""
        return self._core.coef_full

    @property
    @needs_fit
    def sigma(self) -> float:
        """Residual standard deviation σ̂."""
        return self._core.sigma

    σ = sigma

    @needs_fit
    def sdest(self) -> float:
        """Residual standard deviation σ̂."""
        return self._core.sigma

    @needs_fit
    def varest(self) -> float:
        """Residual variance σ̂²."""
        return self._core.varest

    @property
    @needs_fit
    def lambda_(self) -> list[np.ndarray]:
        """Relative covariance factor λ of each term (lower triangular)."""
        return self._core.lambda_

    λ = lambda_

    @property
    @needs_fit
    def b(self) -> list[np.ndarray]:
        """Conditional modes of the random effects, per term (levels × columns)."""
        return self._core.ranef(False)

    @property
    @needs_fit
    def u(self) -> list[np.ndarray]:
        """Spherical random effects u, per term (levels × columns)."""
        return self._core.ranef(True)

    @property
    def X(self) -> np.ndarray:
        """The fixed-effects model matrix (columns kept)."""
        return self._core.X

    @property
    def reterms(self) -> list[ReTerm]:
        """Random-effects terms in model order (decreasing number of random effects)."""
        return [ReTerm(**d) for d in self._core.reterms()]

    # ---- fit statistics --------------------------------------------------------------
    @property
    @needs_fit
    def objective(self) -> float:
        """−2 log-likelihood (ML) or the REML criterion at the current θ."""
        return self._core.objective

    @property
    def reml(self) -> bool:
        """Was (or will) the model be fitted by REML?"""
        return self._core.is_reml

    @needs_fit
    def loglikelihood(self) -> float:
        """Log-likelihood (ML fits only)."""
        return self._core.loglikelihood()

    @needs_fit
    def deviance(self) -> float:
        """−2 log-likelihood (ML fits only)."""
        return self._core.deviance()

    @needs_fit
    def aic(self) -> float:
        """Akaike's information criterion (ML fits only)."""
        return self._core.aic()

    @needs_fit
    def aicc(self) -> float:
        """Corrected AIC (ML fits only)."""
        return self._core.aicc()

    @needs_fit
    def bic(self) -> float:
        """Bayesian information criterion (ML fits only)."""
        return self._core.bic()

    @needs_fit
    def dof_residual(self) -> float:
        """Residual degrees of freedom, n − Σ leverage."""
        return self._core.dof_residual

    @property
    @needs_fit
    def pwrss(self) -> float:
        """Penalised weighted residual sum of squares."""
        return self._core.pwrss

    @property
    @needs_fit
    def logdet(self) -> float:
        """log det(Λ'Z'WZΛ + I) (plus log det R_X² for REML)."""
        return self._core.logdet

    # ---- tables ----------------------------------------------------------------------
    @needs_fit
    def varcorr(self) -> VarCorr:
        """Variance components (prints like the seed manual; ``.to_polars()`` for a table)."""
        terms, sd = self._core.varcorr()
        return VarCorr._from_core(self._core, terms, sd)

    @needs_fit
    def fitted(self) -> np.ndarray:
        """Fitted values Xβ̂ + Zb̂."""
        return self._core.fitted

    @needs_fit
    def residuals(self) -> np.ndarray:
        """Response residuals y − fitted."""
        return self._core.residuals

    @needs_fit
    def leverage(self) -> np.ndarray:
        """Diagonal of the hat matrix."""
        return self._core.leverage()

    # ---- display ---------------------------------------------------------------------
    def __repr__(self) -> str:
        if not self._core.is_fitted:
            return f"<unfitted LinearMixedModel: {self.formula}; {self.nobs} observations>"
        return self._core.summary()


def lmm(
    formula: str,
    data: Any,
    reml: bool = False,
    contrasts: dict | None = None,
    weights: Any = None,
    sigma: float | None = None,
    missing: str = "drop",
    progress: bool = False,
    threads: int | None = None,
    offset: Any = None,
    check_nobs: str = "error",
    optimizer: str = "auto",
    chunk_rows: int | None = None,
) -> LinearMixedModel:
    """Build and fit a linear mixed model (ML by default, ``reml=True`` for REML).

    Parameters
    ----------
    formula, data, contrasts, weights, offset, sigma, missing, threads, check_nobs, chunk_rows
        As for :class:`LinearMixedModel` (``chunk_rows`` and a Parquet path, LazyFrame,
        pyarrow dataset or Dask DataFrame as ``data``: built from the data read in chunks).
    reml : bool
        Fit by REML instead of maximum likelihood.
    progress : bool
        Print the number of evaluations and the objective after the fit.
    optimizer : str
        ``"auto"``, ``"bfgs"`` or ``"bobyqa"``, as for :meth:`LinearMixedModel.fit`.

    Returns
    -------
    LinearMixedModel
        The fitted model.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    >>> round(m.objective, 5)
    327.32706
    >>> d = mm.dataset("sleepstudy")
    >>> o = mm.lmm("Reaction ~ 1 + Days + (1 | Subject)", d, offset=10 * d["Days"])
    >>> round(float(o.beta[1]), 4)  # the slope without the offset's 10 per day
    0.4673
    """
    check_arguments(
        reml=reml,
        sigma=sigma,
        missing=missing,
        progress=progress,
        threads=threads,
        check_nobs=check_nobs,
        optimizer=optimizer,
    )
    model = LinearMixedModel(
        formula,
        data,
        contrasts=contrasts,
        weights=weights,
        sigma=sigma,
        missing=missing,
        threads=threads,
        offset=offset,
        check_nobs=check_nobs,
        chunk_rows=chunk_rows,
    )
    return model.fit(reml=reml, progress=progress, optimizer=optimizer)
