"""Type stubs of the native module (built from src/python/ by maturin)."""

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str

def describe_formula(formula: str) -> dict[str, Any]:
    """Parse a formula; returns ``variables``, ``grouping`` and ``source``."""

def likelihood_ratio_test(
    models: list[tuple[float, int, int]],
) -> list[tuple[int, float, float | None, int | None, float | None]]:
    """Rows (dof, deviance, χ², χ² dof, p) for models (deviance, dof, nobs), simplest first."""

def likelihood_ratio_table(
    labels: list[str],
    models: list[tuple[float, int, int]],
    format: str = "text",
    reml: bool = False,
) -> str:
    """The likelihood-ratio tests as a table rendered in ``format`` (``reml``: the
    criteria are REML criteria)."""

def likelihood_ratio_check(models: list[dict[str, Any]], check_nested: bool = True) -> bool:
    """Refuse models a likelihood-ratio test cannot compare (typed errors); returns
    whether all have the same fixed effects."""

def lmm_coeftable_ddf(
    model: LinearMixedModel, ddf: str
) -> tuple[list[str], list[float], list[float], list[float], list[float], list[float]]:
    """Coefficient table with t tests on ``ddf``'s df: (names, estimates, standard
    errors, df, t, p)."""

def lmm_coeftable_ddf_render(model: LinearMixedModel, ddf: str, format: str = "text") -> str:
    """The coefficient table with t tests on ``ddf``'s df, rendered."""

def contrast_test_of(
    model: LinearMixedModel | GeneralizedLinearMixedModel,
    l: list[list[float]],
    rhs: list[float] | None = None,
    ddf: str | None = None,
) -> tuple[int, float, float, float]:
    """Test of Lβ = rhs: (num_df, den_df, F, p); ``ddf`` None gives the Wald test."""

def anova_of(
    model: LinearMixedModel | GeneralizedLinearMixedModel,
    columns: dict[str, Any] | None,
    kind: int,
    ddf: str | None = None,
) -> list[tuple[str, tuple[int, float, float, float] | None]]:
    """Per-term F tests of type ``kind`` (``columns``: the model's data, for type 3)."""

def emmeans_means(
    model: LinearMixedModel | GeneralizedLinearMixedModel,
    columns: dict[str, Any],
    at: list[tuple[str, list[str] | None, list[float] | None]],
    specs: list[str],
    by: list[str],
    ddf: str,
) -> dict[str, Any]:
    """Marginal means over the reference grid: ``variables``, ``grid_factors``, ``cells``,
    ``group``, ``l``, ``offset``, ``estimate``, ``se``, ``df``."""

def emmeans_contrast(
    model: LinearMixedModel | GeneralizedLinearMixedModel,
    l: list[list[float]],
    offset: list[float],
    group: list[int],
    labels: list[str],
    ddf: str,
    method: str | None = None,
    custom: list[tuple[str, list[float]]] | None = None,
) -> tuple[list[str], list[int], list[list[float]], list[float], list[float], list[float], bool]:
    """Contrasts among means: (labels, group, l, estimate, se, df, pairwise)."""

def emmeans_adjustment(adjust: str, pairwise: bool) -> str:
    """The adjustment used for ``adjust`` (Tukey becomes Šidák unless ``pairwise``)."""

def emmeans_infer(
    estimate: list[float],
    se: list[float],
    df: list[float],
    group: list[int],
    adjust: str,
    level: float,
    nmeans: int,
    pairwise: bool,
    tests: bool = True,
    intervals: bool = True,
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Adjusted tests and intervals within groups: (ratio, p, lower, upper)."""

def emmeans_response(
    link: str,
    ratio: bool,
    estimate: list[float],
    se: list[float],
    lower: list[float],
    upper: list[float],
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Link-scale values on the response scale (``ratio``: exponentiated contrasts)."""

def emmeans_render(
    caption: str,
    columns: list[tuple[str, str, list[str], list[float]]],
    notes: list[str],
    format: str = "text",
) -> str:
    """An emmeans table (columns as (kind, header, labels, numbers)) rendered."""

def ptukey(q: float, nmeans: int, df: float, lower_tail: bool = True) -> float:
    """The studentized range distribution function (R's ``ptukey``)."""

def qtukey(p: float, nmeans: int, df: float) -> float:
    """The studentized range quantile function (R's ``qtukey``)."""

def anova_render(
    rows: list[tuple[str, tuple[int, float, float, float] | None]],
    kind: int,
    method: str | None = None,
    format: str = "text",
) -> str:
    """An analysis-of-variance table rendered in ``format``."""

def f_test_render(
    label: str, test: tuple[int, float, float, float], caption: str, format: str = "text"
) -> str:
    """One F test as a table rendered in ``format``."""

def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (``inf``: normal)."""

def fit_many(
    model: LinearMixedModel,
    names: list[str],
    responses: npt.NDArray[np.float64],
    reml: bool = False,
    optimizer: str = "auto",
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Fit the design ``model`` to each row of ``responses`` (GIL released): the fits'
    ``objective``, ``sigma``, ``beta``, ``theta``, ``converged``, ``evaluations``,
    ``warning`` and the names ``coef_names``, ``theta_names``."""

def memory_estimate(model: LinearMixedModel) -> dict[str, int]:
    """Bytes the model and its fit need: ``a``, ``l``, ``rows``, ``fit``, ``total``."""

def coverage_interval(values: list[float], level: float, method: str) -> tuple[float, float]:
    """The coverage interval at ``level`` of the finite ``values`` by ``method``
    (``shortest`` or ``percentile``)."""

class _MixedModel:
    """Stub-only base: the methods both native model classes have
    (src/python/shared.rs, ``mixed_model_methods!``)."""

    @property
    def formula(self) -> str: ...
    @property
    def response_name(self) -> str: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def theta(self) -> npt.NDArray[np.float64]: ...
    @property
    def theta_names(self) -> list[str]: ...
    @property
    def component_names(self) -> list[str]: ...
    @property
    def lowerbd(self) -> npt.NDArray[np.float64]: ...
    @property
    def beta(self) -> npt.NDArray[np.float64]: ...
    @property
    def coef_names(self) -> list[str]: ...
    @property
    def column_names(self) -> list[str]: ...
    @property
    def dropped_columns(self) -> list[str]: ...
    @property
    def objective(self) -> float: ...
    @property
    def nobs(self) -> int: ...
    @property
    def dof(self) -> int: ...
    @property
    def is_singular(self) -> bool: ...
    @property
    def at_bound(self) -> list[int]: ...
    def loglikelihood(self) -> float: ...
    def aic(self) -> float: ...
    def aicc(self) -> float: ...
    def bic(self) -> float: ...
    @property
    def stderror(self) -> npt.NDArray[np.float64]: ...
    @property
    def vcov(self) -> npt.NDArray[np.float64]: ...
    def coeftable(
        self,
    ) -> tuple[list[str], list[float], list[float], list[float], list[float]]: ...
    def varcorr(self) -> tuple[list[dict[str, Any]], float | None]: ...
    def varcorr_table(self, format: str = "text") -> str: ...
    def coeftable_render(self, format: str = "text") -> str: ...
    def ranef(self, uscale: bool = False) -> list[npt.NDArray[np.float64]]: ...
    def condvar(self) -> list[npt.NDArray[np.float64]]: ...
    @property
    def lambda_(self) -> list[npt.NDArray[np.float64]]: ...
    @property
    def X(self) -> npt.NDArray[np.float64]: ...
    @property
    def y(self) -> npt.NDArray[np.float64]: ...
    @property
    def rows(self) -> npt.NDArray[np.uint64]: ...
    @property
    def missing(self) -> list[tuple[str, int]]: ...
    @property
    def input_rows(self) -> int: ...
    def reterms(self) -> list[dict[str, Any]]: ...
    def optsum(self) -> dict[str, Any] | None: ...
    def fitlog(
        self,
    ) -> (
        tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], list[bool]]
        | None
    ): ...
    def save_fit(self) -> str: ...
    def restore_fit(self, text: str) -> None: ...
    def model_warnings(self) -> list[tuple[str, str | None, str]]: ...
    def predict(
        self,
        columns: dict[str, tuple[Any, Any]] | None,
        random_effects: bool = True,
        new_levels: str = "error",
        scale: str = "response",
        offset: list[float] | None = None,
    ) -> npt.NDArray[np.float64]: ...
    def predictor_variables(self, random_effects: bool = True) -> list[str]: ...
    @property
    def converged(self) -> bool | None: ...
    def simulate(
        self,
        seed: int,
        n: int = 1,
        theta: list[float] | None = None,
        beta: list[float] | None = None,
        sigma: float | None = None,
    ) -> npt.NDArray[np.float64]: ...
    @property
    def certificate_ok(self) -> bool | None: ...
    # For the model summaries (_performance.py, _tidy.py).
    def hatvalues(self) -> npt.NDArray[np.float64]: ...
    def pearson_residuals(self) -> npt.NDArray[np.float64]: ...
    def cooks_distance(self) -> npt.NDArray[np.float64]: ...
    @property
    def offset(self) -> npt.NDArray[np.float64] | None: ...
    @property
    def needs_null_mean(self) -> bool: ...
    def variance_decomposition(
        self, null_mean: float | None = None, tolerance: float = 1e-5
    ) -> dict[str, Any]: ...
    def collinearity(
        self, ci: float | None = 0.95
    ) -> tuple[list[tuple[str, float, float, float, float, float, float, float]], bool]: ...
    def re_pca(self) -> list[dict[str, Any]]: ...
    def null_model_formula(self) -> str: ...
    def sqrt_residual_weights(self) -> npt.NDArray[np.float64]: ...
    def sqrt_working_weights(self) -> npt.NDArray[np.float64]: ...
    def parametric_bootstrap(
        self,
        n: int,
        seed: int,
        threads: int | None = None,
        theta: list[float] | None = None,
        beta: list[float] | None = None,
        sigma: float | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """The parametric bootstrap (GIL released): the replicates' ``objective``,
        ``sigma``, ``beta``, ``theta``, ``components``, ``converged``, ``warning``, the
        names and the ``generating`` values."""
    def parametric_bootstrap_block(
        self,
        first: int,
        n: int,
        seed: int,
        threads: int | None = None,
        theta: list[float] | None = None,
        beta: list[float] | None = None,
        sigma: float | None = None,
    ) -> dict[str, Any]:
        """Replicates ``first..first + n`` of the parametric bootstrap, as
        ``parametric_bootstrap`` returns them (a block for a worker of an executor)."""

class Progress:
    """A counter of the progress of a native computation, shown to ``callback`` (at most
    ten times a second, from the thread watching for Ctrl-C) as ``callback(evaluations,
    best, stage, done, total)`` (src/python/progress.rs)."""

    def __init__(self, callback: Callable[[int, float | None, str, int, int], None]) -> None: ...
    def snapshot(self) -> tuple[int, float | None, str, int, int]:
        """What has been reported so far: (evaluations, best, stage, done, total)."""

class LinearMixedModel(_MixedModel):
    def __init__(
        self,
        formula: str,
        columns: dict[str, tuple[Any, Any]],
        contrasts: dict[str, tuple[Any, ...]] | None = None,
        weights: list[float] | None = None,
        sigma: float | None = None,
        missing: str = "drop",
        threads: int | None = None,
        zerocorr: list[str] | None = None,
        offset: list[float] | None = None,
        check_nobs: str = "error",
    ) -> None: ...
    def fit(
        self, reml: bool = False, optimizer: str = "auto", progress: Progress | None = None
    ) -> None: ...
    def fit_from(
        self,
        reml: bool,
        start: list[float],
        rho_begin: float | None = None,
        rho_end: float | None = None,
        max_evaluations: int | None = None,
        certificate_restart: bool | None = None,
        optimizer: str = "bobyqa",
    ) -> None: ...
    def objective_at(self, theta: list[float]) -> float: ...
    def set_reml(self, reml: bool) -> None: ...
    def set_response(self, y: list[float]) -> None: ...
    @property
    def is_reml(self) -> bool: ...
    @property
    def coef_full(self) -> npt.NDArray[np.float64]: ...
    @property
    def sigma(self) -> float: ...
    @property
    def pwrss(self) -> float: ...
    @property
    def logdet(self) -> float: ...
    @property
    def dof_residual(self) -> float: ...
    @property
    def varest(self) -> float: ...
    def deviance(self) -> float: ...
    def summary(self, format: str = "text") -> str: ...
    @property
    def fitted(self) -> npt.NDArray[np.float64]: ...
    @property
    def residuals(self) -> npt.NDArray[np.float64]: ...
    def leverage(self) -> npt.NDArray[np.float64]: ...
    @property
    def rows_stored(self) -> bool: ...
    @property
    def weights(self) -> npt.NDArray[np.float64] | None: ...
    def block_description(self) -> list[list[str]]: ...

class StreamBuilder:
    def __init__(
        self,
        formula: str,
        contrasts: dict[str, tuple[Any, ...]] | None = None,
        sigma: float | None = None,
        missing: str = "drop",
        threads: int | None = None,
        zerocorr: list[str] | None = None,
        check_nobs: str = "error",
    ) -> None: ...
    def add_chunk(self, columns: dict[str, tuple[Any, Any]]) -> None: ...
    def learn_coding(self, columns: dict[str, tuple[Any, Any]]) -> None: ...
    def take_bytes(self) -> bytes: ...
    def merge_bytes(self, data: bytes) -> None: ...
    @property
    def nobs(self) -> int: ...
    def finish(self) -> LinearMixedModel: ...

def merge_partial_bytes(a: bytes, b: bytes) -> bytes: ...

class StreamedGlmm:
    def __init__(
        self,
        formula: str,
        family: str,
        link: str | None,
        source: Callable[[], Iterator[dict[str, Any]]],
        contrasts: dict[str, Any] | None = None,
        missing: str = "drop",
        check_nobs: str = "error",
    ) -> None: ...
    def fit(
        self, source: Callable[[], Iterator[dict[str, Any]]], max_evaluations: int = 10000
    ) -> dict[str, Any]: ...
    def objective_at(
        self, source: Callable[[], Iterator[dict[str, Any]]], theta: list[float]
    ) -> float: ...
    def model_warnings(self) -> list[tuple[str, str | None, str]]: ...
    def coeftable(
        self,
    ) -> tuple[list[str], list[float], list[float], list[float], list[float]]: ...
    @property
    def missing(self) -> list[tuple[str, int]]: ...
    @property
    def input_rows(self) -> int: ...
    @property
    def nobs(self) -> int: ...

class ChunkFitter:
    def __init__(
        self, model: LinearMixedModel, missing: str = "drop", random_effects: bool = True
    ) -> None: ...
    def chunk(
        self, columns: dict[str, tuple[Any, Any]]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

class GeneralizedLinearMixedModel(_MixedModel):
    def __init__(
        self,
        formula: str,
        columns: dict[str, tuple[Any, Any]],
        family: str,
        link: str | None = None,
        contrasts: dict[str, tuple[Any, ...]] | None = None,
        weights: list[float] | None = None,
        offset: list[float] | None = None,
        missing: str = "drop",
        threads: int | None = None,
        check_nobs: str = "error",
    ) -> None: ...
    def fit(
        self,
        fast: bool = False,
        nagq: int = 1,
        optimizer: str = "auto",
        progress: Progress | None = None,
    ) -> None: ...
    def evaluate(
        self, theta: list[float], beta: list[float] | None = None, nagq: int = 1
    ) -> float: ...
    @property
    def family(self) -> str: ...
    @property
    def link(self) -> str: ...
    @property
    def dispersion(self) -> float | None: ...
    @property
    def dispersion_log_stderror(self) -> float | None: ...
    @property
    def nagq(self) -> int: ...
    @property
    def is_fast(self) -> bool: ...
    @property
    def deviance(self) -> float: ...
    @property
    def logdet(self) -> float: ...
    @property
    def sum_u_squared(self) -> float: ...
    @property
    def minus2loglik_saturated(self) -> float: ...
    def summary(self, format: str = "text") -> str: ...
    def fitted(self, scale: str = "response") -> npt.NDArray[np.float64]: ...
    def residuals(self, kind: str = "deviance") -> npt.NDArray[np.float64]: ...
    @property
    def prior_weights(self) -> npt.NDArray[np.float64]: ...

class Profile:
    """The profile of every parameter of a model (src/python/profile.rs)."""

    @property
    def parameters(self) -> list[str]: ...
    @property
    def estimates(self) -> list[float]: ...
    @property
    def deviance(self) -> float: ...
    @property
    def threshold(self) -> float: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def refitted_ml(self) -> bool: ...
    @property
    def conditional_fits(self) -> int: ...
    def points(
        self,
    ) -> tuple[list[int], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(index of the profiled parameter, ζ, every parameter's value) per point."""
    def confint(
        self, level: float
    ) -> tuple[list[str], list[float], list[float | None], list[float | None]]:
        """(names, estimates, lower, upper) from the points alone (monotone spline)."""

def profile_model(
    model: LinearMixedModel | GeneralizedLinearMixedModel,
    threshold: float = 4.0,
    progress: Progress | None = None,
) -> Profile:
    """Profile every parameter of a fitted model up to |ζ| = ``threshold``."""

def profile_confint(
    model: LinearMixedModel | GeneralizedLinearMixedModel, profile: Profile, level: float
) -> tuple[list[str], list[float], list[float | None], list[float | None]]:
    """Profile intervals of ``level``, refined by root finding on the model's exact profile."""

def wald_confint(
    model: LinearMixedModel | GeneralizedLinearMixedModel, level: float
) -> tuple[list[str], list[float], list[float | None], list[float | None]]:
    """Wald intervals of ``level`` (None for the variance components, as lme4)."""
