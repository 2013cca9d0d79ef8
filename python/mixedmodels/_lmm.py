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
from ._progress import ProgressBar
from ._stream import build_streamed, is_streamed_source
from ._stream_fitted import streamed_values
from ._support import prepare
from ._validate import check_arguments


@dataclass(frozen=True)
class ReTerm:
    """A random-effects term: grouping factor, its levels, columns and per-row values.

    ``refs[i]`` is the level index of row ``i``; ``z[i, j]`` the value of column ``j``
    at row ``i``, so that Z's block for this term has ``z[i, j]`` at row ``i``, column
    ``refs[i] * len(columns) + j``.

    Parameters
    ----------
    name : str
        The grouping factor.
    levels : list of str
        Its levels, in the order of the random effects.
    columns : list of str
        The random-effects columns (``(Intercept)``, ``Days``, ...).
    refs : numpy.ndarray
        Level index of each row used.
    z : numpy.ndarray
        Values of the random-effects columns at each row, shape ``(nobs, len(columns))``.
    theta_index : list of tuple of int
        (row, column) in λ of each θ entry of this term.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> t = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")).reterms[0]
    >>> t.name, t.columns, t.levels[:3], t.refs[:6].tolist()
    ('Batch', ['(Intercept)'], ['A', 'B', 'C'], [0, 0, 0, 0, 0, 1])
    """

    name: str
    levels: list[str]
    columns: list[str]
    refs: np.ndarray
    z: np.ndarray
    theta_index: list[tuple[int, int]]

    @property
    def nlevels(self) -> int:
        """Number of levels of the grouping factor.

        Returns
        -------
        int
            ``len(levels)``.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.reterms[0].nlevels
        6
        """
        return len(self.levels)

    def dense(self, max_entries: int = 50_000_000) -> np.ndarray:
        """Z for this term as a dense ``n × (levels·columns)`` array (small models only).

        Parameters
        ----------
        max_entries : int, default 50_000_000
            Refuse to build a larger array.

        Returns
        -------
        numpy.ndarray
            The term's block of Z: row i has ``z[i, j]`` in column ``refs[i] * v + j``.

        Raises
        ------
        ArgumentError
            The array would have more than ``max_entries`` entries
            (``parameter="max_entries"``).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> t = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")).reterms[0]
        >>> Z = t.dense()
        >>> Z.shape, Z[:6].argmax(axis=1).tolist()
        ((30, 6), [0, 0, 0, 0, 0, 1])
        """
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
        """The components as a table: one row per (group, column), then the residual.

        Returns
        -------
        polars.DataFrame
            ``group``, ``column`` (null for the residual), ``variance``, ``sd``.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> vc = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")).varcorr()
        >>> vc.to_polars()["sd"].round(3).to_list()
        [37.26, 49.51]
        """
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
        the conditional modes as in memory, and ``fitted`` and ``residuals`` by one more
        pass over the same source (it keeps a reference to it, not its rows); what
        needs more per-row state (``leverage``, ``simulate``, refits with a new
        response, ...) raises :class:`RowsNotStoredError`. ``weights`` and ``offset``
        per row are not supported when streaming (``offset(...)`` in the formula is).

    Raises
    ------
    FormulaError
        The formula does not parse (:class:`NoRandomEffectsError` without a
        random-effects term).
    DataError
        A column is missing or unusable, missing values with ``missing="raise"``, or
        too few observations for a grouping factor (``check_nobs="error"``).
    ArgumentError
        A keyword with a bad value (named by ``parameter``).

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
        self._core, self._stream = build_streamed(formula, data, chunk_rows, self._ctor)
        self._report_dropped()

    # ---- fitting ---------------------------------------------------------------------
    def fit(
        self, reml: bool = False, progress: bool | None = None, optimizer: str = "auto"
    ) -> LinearMixedModel:
        """Fit by maximum likelihood (default) or REML; returns the model itself.

        Parameters
        ----------
        reml : bool
            Fit by REML instead of maximum likelihood.
        progress : bool or None
            Show a progress bar of the objective evaluations: True always, False
            never, None (default) when the output is interactive and the fit lasts
            more than a second.
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

        Raises
        ------
        ArgumentError
            A bad ``reml``, ``progress`` or ``optimizer``.

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
        with ProgressBar(progress, "fit", "eval") as bar:
            self._core.fit(bool(reml), optimizer, bar.native)
        self._after_fit()
        return self

    def refit(self, y: Any = None, reml: bool | None = None) -> LinearMixedModel:
        """Refit, optionally with a new response (same length), reusing all symbolic work
        and the optimizer of the last fit; an offset stays in the model (the new response
        is fitted minus the offset).

        Parameters
        ----------
        y : array_like, optional
            A new response, one value per observation used (default: keep the response).
        reml : bool, optional
            Fit by REML (True) or ML (False); default: as the model was last fitted.

        Returns
        -------
        LinearMixedModel
            The model, refitted.

        Raises
        ------
        ArgumentError
            A bad ``reml``, or ``y`` of the wrong length.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(float(m.refit(m.y + 10).beta[0]), 1)  # the same data shifted by 10
        1537.5
        """
        if reml is not None:
            check_arguments(reml=reml)
        last = self._core.optsum()
        optimizer = "auto" if last is None else last["optimizer"]
        if y is not None:
            self._core.set_response(np.asarray(y, dtype=np.float64).ravel().tolist())
            self._evaluated = False
        return self.fit(self._core.is_reml if reml is None else reml, optimizer=optimizer)

    def memory_estimate(self) -> dict[str, int]:
        """An estimate, before fitting, of the bytes the model and its fit need.

        The blocks of A and L by their storage (block-diagonal, block-sparse with its
        index, dense, and packed: a large dense diagonal block of L, as a crossed
        factor's, keeps its lower triangle only, about half the square size), the
        per-row data (X, the response, weights, offset, each random-effects term's
        values and level indices, and the copy of the formula's columns made while
        building the terms) and what a fit adds (the gradient's selected inverse, with
        L's pattern and its dense part packed, and the largest square block of L once
        more for temporaries). Not counted: the caller's data frame, the allocator's
        overhead and the dense kernels' per-thread packing buffers (up to 64 MiB of
        address space per thread, allocated by a thread's first dense product).
        Checked with a counting allocator (tests/memory_estimate.rs): the bytes a
        fitted model holds against ``a + l + rows`` and the peak while building and
        fitting against ``total``, within a factor of 2 (measured 0.96–1.18).

        Returns
        -------
        dict
            ``a``, ``l``, ``rows``, ``fit`` and their sum ``total``, in bytes.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 + Days | Subject)",
        ...                         mm.dataset("sleepstudy"))
        >>> e = m.memory_estimate()
        >>> e["total"] == e["a"] + e["l"] + e["rows"] + e["fit"]
        True
        >>> e["l"]  # doubles: 18 blocks 2 × 2, [X y] by Z 3 × 36, [X y] 3 × 3
        1512
        """
        return dict(_core.memory_estimate(self._core))

    def objective_at(self, theta: Any) -> float:
        """Objective (−2 log-likelihood or REML criterion) at θ; installs θ, so that
        the extractors give the estimates at that θ (β̂(θ), σ̂(θ), ...).

        Parameters
        ----------
        theta : array_like
            The covariance parameters, one per entry of :attr:`theta_names`.

        Returns
        -------
        float
            The profiled objective at θ (REML criterion if the model is set to REML).

        Raises
        ------
        ArgumentError
            θ of the wrong length or outside its bounds.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.objective_at([0.7525806]), 4)
        327.3271
        """
        theta = [float(t) for t in np.asarray(theta, dtype=np.float64).ravel()]
        value = self._core.objective_at(theta)
        self._evaluated = True
        return value

    def zerocorr(self, terms: list[str] | None = None) -> LinearMixedModel:
        """A new, unfitted model in which the named grouping factors' terms (default: all)
        have no correlation parameters (MixedModels.jl's ``zerocorr!``).

        Parameters
        ----------
        terms : list of str, optional
            Grouping factors whose terms lose their correlations (default: all).

        Returns
        -------
        LinearMixedModel
            A new model of the same formula, data and options; this one is unchanged.

        Raises
        ------
        ArgumentError
            A name that is not a grouping factor of the model (``parameter="terms"``).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.LinearMixedModel("Reaction ~ 1 + Days + (1 + Days | Subject)",
        ...                         mm.dataset("sleepstudy"))
        >>> m.zerocorr().theta_names
        ['Subject.(Intercept)', 'Subject.Days']
        """
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
        """Coefficients for every column generated by the formula; NaN for dropped ones.

        Returns
        -------
        numpy.ndarray
            One value per column of the full model matrix (rank-deficient columns NaN).

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.coef()
        array([1527.5])
        """
        return self._core.coef_full

    @property
    @needs_fit
    def sigma(self) -> float:
        """Residual standard deviation σ̂ (also ``σ``).

        Returns
        -------
        float
            σ̂ (the fixed value for a model built with ``sigma=``).

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.sigma, 4)
        49.5101
        """
        return self._core.sigma

    σ = sigma

    @needs_fit
    def sdest(self) -> float:
        """Residual standard deviation σ̂ (MixedModels.jl's ``sdest``; as :attr:`sigma`).

        Returns
        -------
        float
            σ̂.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.sdest(), 4)
        49.5101
        """
        return self._core.sigma

    @needs_fit
    def varest(self) -> float:
        """Residual variance σ̂² (MixedModels.jl's ``varest``).

        Returns
        -------
        float
            σ̂².

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.varest(), 2)
        2451.25
        """
        return self._core.varest

    @property
    @needs_fit
    def lambda_(self) -> list[np.ndarray]:
        """Relative covariance factor λ of each term (lower triangular; also ``λ``).

        Returns
        -------
        list of numpy.ndarray
            One v × v matrix per term, v its number of columns; the random effects are b = λu.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.lambda_[0].round(4)
        array([[0.7526]])
        """
        return self._core.lambda_

    λ = lambda_

    @property
    @needs_fit
    def b(self) -> list[np.ndarray]:
        """Conditional modes b̂ of the random effects, per term.

        Returns
        -------
        list of numpy.ndarray
            One array of shape ``(levels, columns)`` per term, in model order.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.b[0][:2].round(3)
        array([[-16.628],
               [  0.37 ]])
        """
        return self._core.ranef(False)

    @property
    @needs_fit
    def u(self) -> list[np.ndarray]:
        """Spherical random effects û (b = λu), per term.

        Returns
        -------
        list of numpy.ndarray
            One array of shape ``(levels, columns)`` per term, in model order.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.u[0][:2].round(3)
        array([[-22.095],
               [  0.491]])
        """
        return self._core.ranef(True)

    @property
    def X(self) -> np.ndarray:
        """The fixed-effects model matrix X (columns kept).

        Returns
        -------
        numpy.ndarray
            Shape ``(nobs, p)``, p the number of kept columns.

        Raises
        ------
        RowsNotStoredError
            For a model built from data streamed in chunks (it keeps no rows).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.X.shape
        (30, 1)
        """
        return self._core.X

    @property
    def reterms(self) -> list[ReTerm]:
        """Random-effects terms in model order (decreasing number of random effects).

        Returns
        -------
        list of ReTerm
            One per term.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> [t.name for t in m.reterms]
        ['Batch']
        """
        return [ReTerm(**d) for d in self._core.reterms()]

    # ---- fit statistics --------------------------------------------------------------
    @property
    @needs_fit
    def objective(self) -> float:
        """−2 log-likelihood (ML) or the REML criterion at the current θ.

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
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.objective, 4)
        327.3271
        """
        return self._core.objective

    @property
    def reml(self) -> bool:
        """Was (or will) the model be fitted by REML?

        Returns
        -------
        bool
            True for REML, False for maximum likelihood.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.reml
        False
        """
        return self._core.is_reml

    @needs_fit
    def loglikelihood(self) -> float:
        """Log-likelihood at the estimates (ML fits only).

        Returns
        -------
        float
            log L = −objective / 2.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.loglikelihood(), 4)
        -163.6635
        """
        return self._core.loglikelihood()

    @needs_fit
    def deviance(self) -> float:
        """Deviance −2 log L (ML fits only).

        Returns
        -------
        float
            −2 log-likelihood.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.deviance(), 4)
        327.3271
        """
        return self._core.deviance()

    @needs_fit
    def aic(self) -> float:
        """Akaike's information criterion −2 log L + 2·dof (ML fits only).

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
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.aic(), 4)
        333.3271
        """
        return self._core.aic()

    @needs_fit
    def aicc(self) -> float:
        """Corrected AIC, AIC + 2·dof·(dof + 1)/(n − dof − 1) (ML fits only).

        Returns
        -------
        float
            AICc.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.aicc(), 4)
        334.2501
        """
        return self._core.aicc()

    @needs_fit
    def bic(self) -> float:
        """Bayesian information criterion −2 log L + dof·log n (ML fits only).

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
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.bic(), 4)
        337.5307
        """
        return self._core.bic()

    @needs_fit
    def dof_residual(self) -> float:
        """Residual degrees of freedom, n − Σ leverage.

        Returns
        -------
        float
            n minus the trace of the hat matrix.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.dof_residual(), 4)
        25.3048
        """
        return self._core.dof_residual

    @property
    @needs_fit
    def pwrss(self) -> float:
        """Penalised weighted residual sum of squares ‖y − Xβ̂ − Zb̂‖² + ‖û‖² (weighted).

        Returns
        -------
        float
            The PWRSS at the current θ.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.pwrss, 2)
        73537.5
        """
        return self._core.pwrss

    @property
    @needs_fit
    def logdet(self) -> float:
        """log det(Λ'Z'WZΛ + I) (plus log det R_X² for REML).

        Returns
        -------
        float
            The log-determinant term of the objective.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(m.logdet, 4)
        8.0601
        """
        return self._core.logdet

    # ---- tables ----------------------------------------------------------------------
    @needs_fit
    def varcorr(self) -> VarCorr:
        """Variance components (prints like the MixedModels.jl manual; ``.to_polars()``
        gives a table).

        Returns
        -------
        VarCorr
            Variances, standard deviations and correlations per term, and σ̂.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> round(float(m.varcorr().residual_sd), 4)
        49.5101
        """
        terms, sd = self._core.varcorr()
        return VarCorr._from_core(self._core, terms, sd)

    @needs_fit
    def fitted(self) -> Any:
        """Fitted values offset + Xβ̂ + Zb̂ (conditional on the random effects).

        A model built from streamed data (a Parquet path, LazyFrame, pyarrow dataset,
        Dask DataFrame or ``chunk_rows``) keeps no rows: its fitted values are computed
        by one more pass over the same source, chunk by chunk (``chunk_rows`` rows at a
        time), with the rows dropped at the build (``missing="drop"``) dropped again.
        Each call reads the data again. A LazyFrame query is run again: its rows come
        in the order the query gives them then.

        Returns
        -------
        numpy.ndarray or dask.dataframe.Series
            One value per observation used, in the order of the data's rows. For a
            model built from a Dask DataFrame, a lazy Dask Series named ``fitted``
            (one task per partition, indexed as the DataFrame, the rows dropped for
            missing values left out), so that it can be computed or written out on
            the cluster.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.
        RowsNotStoredError
            The model was built from a source that cannot be read again (a pyarrow
            ``RecordBatchReader``).
        DataError
            The streamed source no longer gives the model's observations.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.fitted()[:2].round(3)
        array([1510.872, 1510.872])
        >>> s = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff").lazy())
        >>> s.fitted()[:2].round(3)  # by a second pass over the LazyFrame
        array([1510.872, 1510.872])
        """
        if not self._core.rows_stored:
            return streamed_values(self, "fitted")
        return self._core.fitted

    @needs_fit
    def residuals(self) -> Any:
        """Response residuals y − fitted.

        A model built from streamed data computes them by one more pass over its source,
        as :meth:`fitted` does.

        Returns
        -------
        numpy.ndarray or dask.dataframe.Series
            One value per observation used, in the order of the data's rows; for a
            model built from a Dask DataFrame a lazy Dask Series named ``residuals``
            (see :meth:`fitted`).

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.
        RowsNotStoredError
            The model was built from a source that cannot be read again.
        DataError
            The streamed source no longer gives the model's observations.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.residuals()[:2].round(3)
        array([ 34.128, -70.872])
        >>> s = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"), chunk_rows=10)
        >>> s.residuals()[:2].round(3)
        array([ 34.128, -70.872])
        """
        if not self._core.rows_stored:
            return streamed_values(self, "residuals")
        return self._core.residuals

    @needs_fit
    def leverage(self) -> np.ndarray:
        """Leverage: the diagonal of the hat matrix that maps y to the fitted values.

        Returns
        -------
        numpy.ndarray
            One value per observation used; they sum to n − :meth:`dof_residual`.

        Raises
        ------
        NotFittedError
            The model is neither fitted nor evaluated at a given θ.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
        >>> m.leverage()[:2].round(4)
        array([0.1565, 0.1565])
        """
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
    progress: bool | None = None,
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
    progress : bool or None
        A progress bar, as for :meth:`LinearMixedModel.fit`.
    optimizer : str
        ``"auto"``, ``"bfgs"`` or ``"bobyqa"``, as for :meth:`LinearMixedModel.fit`.

    Returns
    -------
    LinearMixedModel
        The fitted model.

    Raises
    ------
    FormulaError
        The formula does not parse or has no random-effects term.
    DataError
        The data cannot support the model (see :class:`LinearMixedModel`).
    ArgumentError
        A keyword with a bad value (named by ``parameter``).

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
