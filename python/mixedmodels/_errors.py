"""The exceptions and warnings of mixedmodels.

Every exception derives from :class:`MixedModelError` and also from the built-in
class a caller would expect (``ValueError`` for bad data, ``TypeError`` for a value of
the wrong type, ``AttributeError`` for a result of an unfitted model, ...), so both
``except mm.DataError`` and ``except ValueError`` work. The fields name what went wrong
(``column``, ``term``, ``level``, ``row``, ``parameter``, ...); ``str(e)`` is the message.
Errors raised by the Rust core are built here from the fields of its ``Error`` variant
(src/python/convert.rs). Every warning derives from :class:`MixedModelWarning`.
"""

from __future__ import annotations

from typing import Any


class MixedModelError(Exception):
    """Base class of every error raised by mixedmodels.

    Parameters
    ----------
    message : str
        The message (``str(e)``).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> try:
    ...     mm.lmm("Reaction ~ 1 + Days + (1 | Sbj)", mm.dataset("sleepstudy"))
    ... except mm.MixedModelError as e:
    ...     print(type(e).__name__, e.column)
    DataError Sbj
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)

    @property
    def message(self) -> str:
        """The message, as ``str(e)``.

        Returns
        -------
        str
            The first argument the error was made with ("" without one).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> mm.ArgumentError("bad value", parameter="nagq").message
        'bad value'
        """
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple:
        return (type(self), (self.message,), dict(self.__dict__))


class FormulaError(MixedModelError, ValueError):
    """The formula cannot be parsed or expanded.

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    formula : str or None
        The formula as given.
    position : int or None
        Index of the offending character in ``formula``.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> try:
    ...     mm.lmm("Reaction ~ 1 + (1 | Subject", mm.dataset("sleepstudy"))
    ... except mm.FormulaError as e:
    ...     print(e.position)
    15
    """

    def __init__(
        self, message: str = "", *, formula: str | None = None, position: int | None = None
    ) -> None:
        super().__init__(message)
        self.formula = formula
        self.position = position


class NoRandomEffectsError(FormulaError):
    """The formula has no random-effects term: it describes a fixed-effects model, which
    is not fitted as a mixed model (lme4 refuses it as well). ``formula`` is set,
    ``position`` is None.

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    formula : str or None
        The formula as given.
    position : int or None
        None (no character is at fault).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> try:
    ...     mm.lmm("Reaction ~ 1 + Days", mm.dataset("sleepstudy"))
    ... except mm.NoRandomEffectsError as e:
    ...     print(e.formula)
    Reaction ~ 1 + Days
    """


class DataError(MixedModelError, ValueError):
    """The data cannot support the model: a missing column, an unusable value, level
    or term. Fields that do not apply are None.

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    column : str or None
        The column of the data (or ``"weights"`` / ``"offset"``) involved.
    term : str or None
        The model term involved (``log(Days)``, ``Subject``, the response).
    level : str or None
        The level of a categorical column involved.
    row : int or None
        Index of the offending row in the data as given (0-based).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> try:
    ...     mm.lmm("Reactoin ~ 1 + Days + (1 | Subject)", mm.dataset("sleepstudy"))
    ... except mm.DataError as e:
    ...     print(e.column)
    Reactoin
    """

    def __init__(
        self,
        message: str = "",
        *,
        column: str | None = None,
        term: str | None = None,
        level: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.column = column
        self.term = term
        self.level = level
        self.row = row


class DataTypeError(DataError, TypeError):
    """A column has the wrong type: categorical where the model needs numbers, or a
    type formulas cannot use.

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    column, term, level, row : str, str, str, int or None
        As for :class:`DataError`.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> try:
    ...     mm.lmm("r2 ~ 1 + Anger + (1 | id)", mm.dataset("verbagg"))
    ... except mm.DataTypeError as e:
    ...     print(e.column)
    r2
    """


class SeparationError(DataError):
    """The fixed effects separate the response of a GLMM: no finite estimate exists.

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    coefficients : list of str
        The coefficients carrying the divergent direction, largest share first.
    at_bound : int or None
        Observations fitted at the bound of the mean.
    nobs : int or None
        Observations in all.
    **fields
        ``column``, ``term``, ``level``, ``row`` as for :class:`DataError`.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> import polars as pl
    >>> df = pl.DataFrame({"y": [0, 0, 0, 1, 1, 1] * 4, "x": [1, 2, 3, 4, 5, 6] * 4,
    ...                    "g": list("abcd") * 6})
    >>> try:
    ...     mm.glmm("y ~ 1 + x + (1 | g)", df, family="bernoulli")
    ... except mm.SeparationError as e:
    ...     print(e.coefficients[0])
    x
    """

    def __init__(
        self,
        message: str = "",
        *,
        coefficients: list[str] | None = None,
        at_bound: int | None = None,
        nobs: int | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(message, **fields)
        self.coefficients = list(coefficients or [])
        self.at_bound = at_bound
        self.nobs = nobs


class ArgumentError(MixedModelError, ValueError):
    """An argument has an invalid value.

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    parameter : str or None
        The parameter's name (``nagq``, ``missing``, ``theta``, ...).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> try:
    ...     mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"), missing="ignore")
    ... except mm.ArgumentError as e:
    ...     print(e.parameter)
    missing
    """

    def __init__(self, message: str = "", *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument has the wrong type (``family=3``, a formula that is not a string).

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    parameter : str or None
        The parameter's name.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> try:
    ...     mm.lmm(3, mm.dataset("dyestuff"))
    ... except mm.ArgumentTypeError as e:
    ...     print(e.parameter)
    formula
    """


class MissingDependencyError(MixedModelError, ImportError):
    """An optional dependency needed for a feature is not installed (for the plots:
    matplotlib, installed by ``pip install "mixedmodels[plot]"``).

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    package : str or None
        The package to install (``matplotlib``).
    feature : str or None
        What needed it (``mixedmodels.plot``).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> e = mm.MissingDependencyError("no matplotlib", package="matplotlib")
    >>> isinstance(e, ImportError), e.package
    (True, 'matplotlib')
    """

    def __init__(
        self, message: str = "", *, package: str | None = None, feature: str | None = None
    ) -> None:
        super().__init__(message)
        self.package = package
        self.feature = feature


class NotFittedError(MixedModelError, AttributeError):
    """A result that needs a fitted model was asked of an unfitted one.

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    what : str or None
        What was asked for (``beta``, ``loglikelihood``, ...).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    >>> try:
    ...     m.beta
    ... except mm.NotFittedError as e:
    ...     print(e.what)
    beta
    """

    def __init__(self, message: str = "", *, what: str | None = None) -> None:
        super().__init__(message)
        self.what = what


class RowsNotStoredError(MixedModelError, ValueError):
    """A result that needs per-row state was asked of a model built from data streamed
    in chunks (a Parquet file, a LazyFrame, a pyarrow or Dask dataset, ``chunk_rows``),
    which keeps only the sums of squares and products of its columns.

    Fitted values, residuals and predictions of the fitted rows (``fitted()``,
    ``residuals()``, ``predict()``) are computed by one more pass over the source and
    raise this error only when the source cannot be read again (a pyarrow
    ``RecordBatchReader``). These still raise it (``what`` in parentheses): the model
    matrix and the response (``X``, ``y``); the leverage
    (``leverage``) and what is built on it, lme4's hat values, Pearson residuals and
    Cook's distances (``hatvalues``, ``pearson_residuals``, ``cooks_distance``), so
    :func:`augment` and ``plot.residplot`` (``predict``); ``simulate`` and the parametric
    bootstrap (``simulate``, ``parametric_bootstrap``); refits with a new response
    (``set_response``); R² and ICCs (``variance_decomposition``); Satterthwaite and
    Kenward–Roger degrees of freedom (``degrees of freedom``); the shrinkage plot
    (``shrinkageplot``).

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    what : str or None
        What was asked for (``leverage``, ``simulate``, ...).

    Examples
    --------
    >>> import polars as pl
    >>> import mixedmodels as mm
    >>> lazy = mm.dataset("sleepstudy").lazy()
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 | Subject)", lazy)
    >>> try:
    ...     m.leverage()
    ... except mm.RowsNotStoredError as e:
    ...     print(e.what)
    leverage
    >>> m.fitted().shape  # by one more pass over the LazyFrame
    (180,)
    """

    def __init__(self, message: str = "", *, what: str | None = None) -> None:
        super().__init__(message)
        self.what = what


class ConvergenceError(MixedModelError, RuntimeError):
    """An iterative computation (PIRLS) failed to converge.

    Parameters
    ----------
    message : str
        The message (``str(e)``).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> issubclass(mm.ConvergenceError, RuntimeError)
    True
    """


class SingularModelError(ConvergenceError):
    """The penalised least-squares system is numerically singular at the covariance
    parameters tried (a conditional covariance lost its positive variance).

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    term : str or None
        The random-effects term (grouping factor), or ``"fixed effects"``.
    row : int or None
        Row of that term's block where the factorization broke down.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> issubclass(mm.SingularModelError, mm.ConvergenceError)
    True
    """

    def __init__(self, message: str = "", *, term: str | None = None, row: int | None = None):
        super().__init__(message)
        self.term = term
        self.row = row


class RestoreError(MixedModelError, ValueError):
    """A saved fit cannot be read or does not belong to this model.

    Parameters
    ----------
    message : str
        The message (``str(e)``).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> issubclass(mm.RestoreError, ValueError)
    True
    """


class ModelComparisonError(MixedModelError, ValueError):
    """Models given to :func:`likelihoodratiotest` cannot be compared: another family
    or link, other rows of the data, another response or other weights than the first
    model.

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    model : int or None
        Position (1-based, in the order given) of the model that differs; for
        :class:`NotNestedError` the model not nested in ``other``.
    other : int or None
        Position of the model it was compared with.
    reason : str or None
        What differs: ``"family"``, ``"rows"``, ``"response"``, ``"weights"``, and for
        :class:`NotNestedError` ``"fixed effects"`` or ``"random effects"``.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> df = mm.dataset("sleepstudy")
    >>> try:
    ...     mm.likelihoodratiotest(mm.lmm("log(Reaction) ~ 1 + (1 | Subject)", df),
    ...                            mm.lmm("Reaction ~ 1 + Days + (1 | Subject)", df))
    ... except mm.ModelComparisonError as e:
    ...     print(e.model, e.other, e.reason)
    2 1 response
    """

    def __init__(
        self,
        message: str = "",
        *,
        model: int | None = None,
        other: int | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.other = other
        self.reason = reason


class NotNestedError(ModelComparisonError):
    """A model given to :func:`likelihoodratiotest` is not nested in the next one: a
    fixed-effects column outside the next model's column space (``reason`` ``"fixed
    effects"``), or a random-effects term the next model does not cover (``"random
    effects"``). ``check_nested=False`` skips this check.

    Parameters
    ----------
    message : str
        The message (``str(e)``).
    model, other, reason : int, int, str or None
        As for :class:`ModelComparisonError`.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> df = mm.dataset("sleepstudy")
    >>> try:
    ...     mm.likelihoodratiotest(mm.lmm("Reaction ~ 1 + Days + (1 | Subject)", df),
    ...                            mm.lmm("Reaction ~ 1 + sqrt(Days) + (1 + Days | Subject)", df))
    ... except mm.NotNestedError as e:
    ...     print(e.model, e.other, e.reason)
    1 2 fixed effects
    """


class MixedModelWarning(UserWarning):
    """Base class of every warning of mixedmodels; filter them all with
    ``warnings.simplefilter("ignore", mm.MixedModelWarning)``. The fields of a
    subclass's warning are keyword arguments, stored as attributes of the same name.

    Examples
    --------
    >>> import warnings, mixedmodels as mm
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", mm.SingularFitWarning)
    ...     try:
    ...         mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff2"))
    ...     except mm.SingularFitWarning as w:
    ...         print(w.indices)
    [0]
    """


class ConvergenceWarning(MixedModelWarning):
    """The optimizer stopped without converging (evaluation budget used up, or a
    failure), its optimum failed the convergence certificate, or it converged to
    estimates that are not identified; the estimates are the best point found.

    Parameters
    ----------
    message : str
        The message (``str(w)``).
    return_code : str
        The optimizer's return code (``optsum["return_code"]``).
    evaluations : int
        Objective evaluations made.
    reason : str or None
        None when the optimizer did not converge; ``"constant_within_groups"`` when the
        response is constant within every level of grouping factor ``term``, and
        ``"residual_vanishes"`` when σ̂ went to zero (the residual variance is not
        identified); ``"certificate"`` when the convergence certificate (the projected
        gradient at the estimates) failed, also after a restart.
    term : str or None
        The grouping factor involved, if any.
    components : list of str or None
        When the convergence certificate failed (``reason == "certificate"``, or an
        unidentified fit, which has no optimum to certify): the parameters (θ names, and
        for a joint GLMM fit also coefficient names) whose projected gradient fails the
        convergence certificate at the returned estimates (``optsum["certificate"]``).
    gradient : list of float or None
        The gradient of the objective in those components, in the same order.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> w = mm.ConvergenceWarning("stopped", return_code="stopped", evaluations=3)
    >>> w.evaluations
    3
    """

    def __init__(
        self,
        message: str,
        *,
        return_code: str,
        evaluations: int,
        reason: str | None = None,
        term: str | None = None,
        components: list[str] | None = None,
        gradient: list[float] | None = None,
    ) -> None:
        super().__init__(message)
        self.return_code = return_code
        self.evaluations = evaluations
        self.reason = reason
        self.term = term
        self.components = components
        self.gradient = gradient


class SingularFitWarning(MixedModelWarning):
    """The fit is singular: some covariance parameter is at its lower bound (a variance
    component at zero); lme4's "boundary (singular) fit".

    Parameters
    ----------
    message : str
        The message (``str(w)``).
    theta : list of float
        The estimate of θ.
    indices : list of int
        Positions in θ of the parameters at their bound.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> w = mm.SingularFitWarning("singular", theta=[0.0], indices=[0])
    >>> w.indices
    [0]
    """

    def __init__(self, message: str, *, theta: list[float], indices: list[int]) -> None:
        super().__init__(message)
        self.theta = theta
        self.indices = indices


class RankDeficiencyWarning(MixedModelWarning):
    """The fixed-effects model matrix is rank deficient; linearly dependent columns were
    dropped (their coefficients are NaN in ``coef()``).

    Parameters
    ----------
    message : str
        The message (``str(w)``).
    columns : list of str
        The dropped columns.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.RankDeficiencyWarning("dropped", columns=["x2"]).columns
    ['x2']
    """

    def __init__(self, message: str, *, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


class MissingDataWarning(MixedModelWarning):
    """Rows with missing values in columns the formula uses were dropped.

    Parameters
    ----------
    message : str
        The message (``str(w)``).
    counts : dict of str to int
        Rows dropped per column (a row missing in two columns counts in both).
    dropped : int
        Rows dropped in all.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.MissingDataWarning("dropped", counts={"x": 2}, dropped=2).counts
    {'x': 2}
    """

    def __init__(self, message: str, *, counts: dict[str, int], dropped: int) -> None:
        super().__init__(message)
        self.counts = counts
        self.dropped = dropped


class RefitWarning(MixedModelWarning):
    """Models fitted by REML were refitted by maximum likelihood (copies; the models
    given are unchanged) for a likelihood-ratio test, as lme4's ``anova`` does
    ("refitting model(s) with ML (instead of REML)").

    Parameters
    ----------
    message : str
        The message (``str(w)``).
    models : list of int
        Positions (1-based, in the order given) of the models refitted.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.RefitWarning("refitted", models=[2]).models
    [2]
    """

    def __init__(self, message: str, *, models: list[int]) -> None:
        super().__init__(message)
        self.models = models


class ModelCheckWarning(MixedModelWarning):
    """A check of the model against the data found something lme4 would refuse or flag,
    and the model was built anyway: too few observations for a grouping factor's levels
    or a term's random effects (with ``check_nobs="warn"``), or a random-effects term
    that looks reversed (``(Subject | Days)`` with ``Days`` numeric).

    Parameters
    ----------
    message : str
        The message (``str(w)``).
    check : str
        ``"nobs_vs_nlev"``, ``"nobs_vs_nre"`` or ``"reversed_term"``.
    term : str or None
        The grouping factor (for the observation checks) or the random-effects term
        (``"(1 + Subject | Days)"``) involved.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.ModelCheckWarning("reversed", check="reversed_term", term="(1 | x)").check
    'reversed_term'
    """

    def __init__(self, message: str, *, check: str, term: str | None = None) -> None:
        super().__init__(message)
        self.check = check
        self.term = term
