"""Estimated marginal means and their contrasts, as R's emmeans 1.8 computes them.

:func:`emmeans` builds emmeans' reference grid (every factor of the fixed effects at
all its levels, every numeric covariate at its mean over the rows used in fitting, or at
the values given in ``at``), averages the grid's predictions over the factors not named
with equal weights, and reports each mean with its standard error, degrees of freedom
and confidence interval. :meth:`EMMeans.pairs` and :meth:`EMMeans.contrast` compare the
means with multiplicity-adjusted tests (Tukey's studentized range, Holm, Bonferroni,
Šidák). All numerics are in Rust (``src/inference/emmeans/``, the studentized range in
``src/inference/ddf/studentized_range.rs``); this module checks arguments and formats
tables with emmeans' column names (dots turned into underscores: ``lower_CL``,
``t_ratio``, ``p_value``, ``asymp_LCL``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._display import RichDisplay, check_format
from ._errors import ArgumentError, ArgumentTypeError
from ._support import fitted_model, is_glmm, prepare

ADJUSTMENTS = ("tukey", "holm", "bonferroni", "sidak", "none")
METHODS = ("pairwise", "revpairwise", "trt.vs.ctrl", "consec", "poly")
DDF = ("kenward-roger", "satterthwaite", "asymptotic")
_DEFAULT_ADJUST = {
    "pairwise": "tukey",
    "revpairwise": "tukey",
    "trt.vs.ctrl": "sidak",
    "consec": "sidak",
    "poly": "none",
}
_DDF_LABEL = {
    "kenward-roger": "kenward-roger",
    "satterthwaite": "satterthwaite",
    "asymptotic": "asymptotic",
}


def _names(value: Any, parameter: str) -> list[str]:
    """A column name or a sequence of them as a list (None: empty)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ArgumentTypeError(
        f"`{parameter}` must be a column name or a list of column names, got {value!r}",
        parameter=parameter,
    )


def _check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)):
        raise ArgumentTypeError(
            f"`level` must be a number in (0, 1), got {type(level).__name__}", parameter="level"
        )
    if not 0.0 < float(level) < 1.0:
        raise ArgumentError(f"`level` must be in (0, 1), got {level}", parameter="level")
    return float(level)


def _check_choice(value: Any, choices: Sequence[str], parameter: str) -> str:
    if not isinstance(value, str):
        raise ArgumentTypeError(
            f"`{parameter}` must be one of {', '.join(choices)}, got {type(value).__name__}",
            parameter=parameter,
        )
    name = value.lower().replace("_", "-") if parameter == "ddf" else value.lower()
    if name == "kr":
        name = "kenward-roger"
    if name not in choices:
        raise ArgumentError(
            f"unknown {parameter} {value!r}; use one of {', '.join(choices)}", parameter=parameter
        )
    return name


def _ddf_of(model: Any, ddf: Any) -> str:
    """The df method: emmeans' default (Kenward-Roger) for a REML fit, Satterthwaite for
    an ML fit (the Kenward-Roger core needs REML), asymptotic for a GLMM."""
    glmm = is_glmm(model)
    if ddf is None:
        if glmm:
            return "asymptotic"
        return "kenward-roger" if model.reml else "satterthwaite"
    name = _check_choice(ddf, DDF, "ddf")
    if glmm and name != "asymptotic":
        raise ArgumentError(
            f"ddf={ddf!r} applies to linear mixed models; a generalized linear mixed model "
            'has asymptotic (z) inference only (ddf="asymptotic" or None)',
            parameter="ddf",
        )
    return name


def _at_items(at: Any) -> list[tuple[str, list[str] | None, list[float] | None]]:
    """``at`` as (column, labels or None, numbers or None) entries."""
    if at is None:
        return []
    if not isinstance(at, Mapping):
        raise ArgumentTypeError(
            f"`at` must be a dict of column -> value(s), got {type(at).__name__}",
            parameter="at",
        )
    items = []
    for name, value in at.items():
        if not isinstance(name, str):
            raise ArgumentTypeError("`at` keys must be column names", parameter="at")
        values = [value] if isinstance(value, (str, int, float, np.number)) else list(value)
        if not values:
            raise ArgumentError(f"`at` gives no values for {name!r}", parameter="at")
        if all(isinstance(v, str) for v in values):
            items.append((name, [str(v) for v in values], None))
        elif all(
            isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values
        ):
            items.append((name, None, [float(v) for v in values]))
        else:
            raise ArgumentTypeError(
                f"`at` values for {name!r} must be all level labels or all numbers",
                parameter="at",
            )
    return items


def _response_name(model: Any) -> str:
    """emmeans' name of a back-transformed mean: ``prob`` (binomial), ``rate`` (Poisson),
    ``response`` otherwise."""
    family = str(getattr(model, "family", "gaussian")).lower()
    if family in ("binomial", "bernoulli"):
        return "prob"
    if family == "poisson":
        return "rate"
    return "response"


def _link_name(model: Any) -> str:
    """The model's link as ``logit``, ``log``, ... (``identity`` for a linear model)."""
    link = getattr(model, "link", "identity")
    return link.lower().removesuffix("link")


def _contrast_label(name: str, labels: list[str]) -> list[str]:
    """Level labels in contrast names: numbers get the factor's name in front (emmeans)."""

    def numeric(s: str) -> bool:
        try:
            float(s)
        except ValueError:
            return False
        return True

    if all(numeric(s) for s in labels):
        return [f"{name}{s}" for s in labels]
    return labels


def _interval_names(df: list[float]) -> tuple[str, str]:
    if df and all(math.isinf(d) for d in df):
        return "asymp_LCL", "asymp_UCL"
    return "lower_CL", "upper_CL"


def _ratio_name(df: list[float]) -> str:
    return "z_ratio" if df and all(math.isinf(d) for d in df) else "t_ratio"


class EMMeans(RichDisplay):
    """Estimated marginal means of a fitted model (the result of :func:`emmeans`, which
    builds it; use that function rather than this constructor).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        The fitted model.
    raw : dict
        The means as the native core returns them (linear functions, estimates, SEs, df).
    specs : list of str
        The factors the means are for.
    by : list of str
        The predictors that split the table into groups.
    ddf : str
        The degrees-of-freedom method used.
    type : {"link", "response"}
        The scale of the table.
    level : float
        The confidence level of the table.

    Attributes
    ----------
    specs : list of str
        The factors the means are for.
    by : list of str
        The predictors that split the table into groups.
    ddf : str
        The degrees-of-freedom method used.
    type : str
        ``"link"`` or ``"response"``.
    level : float
        The confidence level of :attr:`table`.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker) + (1 | Worker:Machine)",
    ...            mm.dataset("machines"), reml=True)
    >>> e = mm.emmeans(m, "Machine")
    >>> e.table.columns
    ['Machine', 'emmean', 'SE', 'df', 'lower_CL', 'upper_CL']
    >>> e.pairs().table["contrast"].to_list()
    ['A - B', 'A - C', 'B - C']
    """

    def __init__(self, model: Any, raw: dict, specs: list[str], by: list[str], ddf: str,
                 type: str, level: float):  # fmt: skip
        self._model = model
        self._raw = raw
        self.specs = specs
        self.by = by
        self.ddf = ddf
        self.type = type
        self.level = level

    # ------------------------------------------------------------------ pieces
    def _label_columns(self, which: list[int]) -> dict[str, pl.Series]:
        out = {}
        for k in which:
            name, factor, labels, values = self._raw["variables"][k]
            cells = [c[k] for c in self._raw["cells"]]
            if factor:
                out[name] = pl.Series(name, [labels[i] for i in cells], dtype=pl.String)
            else:
                out[name] = pl.Series(name, [values[i] for i in cells], dtype=pl.Float64)
        return out

    def _group_rows(self, group: list[int]) -> dict[str, list]:
        """The `by` columns for rows of the given groups."""
        first = {}
        for i, g in enumerate(self._raw["group"]):
            first.setdefault(g, i)
        by_cols = self._label_columns(list(range(len(self.specs), len(self._raw["variables"]))))
        return {name: [col[first[g]] for g in group] for name, col in by_cols.items()}

    def _nmeans(self) -> int:
        return self._raw["group"].count(0)

    def _spec_labels(self, contrast: bool) -> list[str]:
        """Labels of the means of one group (specs joined by spaces)."""
        nspecs = len(self.specs)
        members = [i for i, g in enumerate(self._raw["group"]) if g == 0]
        parts = []
        for k in range(nspecs):
            name, _, labels, _ = self._raw["variables"][k]
            shown = _contrast_label(name, labels) if contrast else labels
            parts.append([shown[self._raw["cells"][i][k]] for i in members])
        return [" ".join(p[j] for p in parts) for j in range(len(members))]

    def _means_frame(self, level: float) -> pl.DataFrame:
        raw = self._raw
        n = len(raw["estimate"])
        _, _, lower, upper = _core.emmeans_infer(
            raw["estimate"], raw["se"], raw["df"], [0] * n, "none", level, max(n, 2), False,
            tests=False,
        )  # fmt: skip
        est, se = raw["estimate"], raw["se"]
        name = "emmean"
        if self.type == "response":
            est, se, lower, upper = _core.emmeans_response(
                _link_name(self._model), False, est, se, lower, upper
            )
            name = _response_name(self._model)
        lo, hi = _interval_names(raw["df"])
        cols = self._label_columns(list(range(len(raw["variables"]))))
        data = {**cols, name: est, "SE": se, "df": raw["df"], lo: lower, hi: upper}
        return pl.DataFrame(data)

    # ------------------------------------------------------------------ public
    @property
    def table(self) -> pl.DataFrame:
        """The table of means.

        Returns
        -------
        polars.DataFrame
            The spec and ``by`` columns, ``emmean`` (or ``prob`` / ``rate`` /
            ``response`` with ``type="response"``), ``SE``, ``df``, and the interval at
            :attr:`level` (``lower_CL``/``upper_CL``; ``asymp_LCL``/``asymp_UCL`` when
            df are infinite).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> mm.emmeans(m, "Machine").table["Machine"].to_list()
        ['A', 'B', 'C']
        """
        return self._means_frame(self.level)

    def to_polars(self) -> pl.DataFrame:
        """The table of means (the same as :attr:`table`).

        Returns
        -------
        polars.DataFrame

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> mm.emmeans(m, "Machine").to_polars().height
        3
        """
        return self.table

    def confint(self, level: float = 0.95) -> pl.DataFrame:
        """The means with confidence intervals at ``level`` (unadjusted, as emmeans).

        Parameters
        ----------
        level : float, default 0.95
            Confidence level.

        Returns
        -------
        polars.DataFrame
            As :attr:`table`, with the intervals at ``level``.

        Raises
        ------
        ArgumentError
            ``level`` outside (0, 1).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> mm.emmeans(m, "Machine").confint(0.9).height
        3
        """
        return self._means_frame(_check_level(level))

    def pairs(self, adjust: str = "tukey", reverse: bool = False) -> EMMContrasts:
        """Pairwise differences of the means within each ``by`` group (emmeans'
        ``pairs``): every pair i < j as "i - j" (``reverse=True``: "j - i", in
        emmeans' ``revpairwise`` order).

        Parameters
        ----------
        adjust : {"tukey", "holm", "bonferroni", "sidak", "none"}, default "tukey"
            Multiplicity adjustment within each group.
        reverse : bool, default False
            Subtract the earlier level from the later one.

        Returns
        -------
        EMMContrasts

        Raises
        ------
        ArgumentTypeError
            ``reverse`` not a bool, ``adjust`` not a string.
        ArgumentError
            An unknown ``adjust``.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> mm.emmeans(m, "Machine").pairs(adjust="holm").table.columns
        ['contrast', 'estimate', 'SE', 'df', 't_ratio', 'p_value']
        """
        if not isinstance(reverse, bool):
            raise ArgumentTypeError("`reverse` must be True or False", parameter="reverse")
        return self.contrast("revpairwise" if reverse else "pairwise", adjust=adjust)

    def contrast(self, method: Any = "pairwise", adjust: str | None = None) -> EMMContrasts:
        """Contrasts among the means within each ``by`` group (emmeans' ``contrast``).

        Parameters
        ----------
        method : str or dict, default "pairwise"
            ``"pairwise"``, ``"revpairwise"``, ``"trt.vs.ctrl"`` (each level minus the
            first), ``"consec"`` (each level minus the one before), ``"poly"``
            (orthogonal polynomials, integer weights), or a dict of contrast name ->
            weights (one per mean of a group).
        adjust : {"tukey", "holm", "bonferroni", "sidak", "none"} or None
            Multiplicity adjustment within each group. None: emmeans' default for the
            method — Tukey for pairwise comparisons, none for ``"poly"`` and custom
            weights; for ``"trt.vs.ctrl"`` and ``"consec"`` (where emmeans uses its
            Dunnett and multivariate-t methods, not available here) Šidák. Tukey on a
            family that is not pairwise becomes Šidák, as in emmeans.

        Returns
        -------
        EMMContrasts

        Raises
        ------
        ArgumentTypeError
            ``method`` neither a name nor a dict, weights that are not numbers.
        ArgumentError
            An unknown method or adjustment; custom weights of the wrong length.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> e = mm.emmeans(m, "Machine")
        >>> e.contrast({"A vs rest": [1, -0.5, -0.5]}).table["contrast"].to_list()
        ['A vs rest']
        """
        custom = None
        name = None
        if isinstance(method, Mapping):
            custom = []
            for k, w in method.items():
                try:
                    weights = [float(x) for x in np.asarray(w, dtype=np.float64).ravel()]
                except (TypeError, ValueError):
                    raise ArgumentTypeError(
                        f"contrast {k!r} must be a list of numbers", parameter="method"
                    ) from None
                custom.append((str(k), weights))
            default = "none"
        elif isinstance(method, str):
            name = _check_choice(method, METHODS, "method")
            default = _DEFAULT_ADJUST[name]
        else:
            raise ArgumentTypeError(
                f"`method` must be one of {', '.join(METHODS)} or a dict of weights, "
                f"got {type(method).__name__}",
                parameter="method",
            )
        adjust = default if adjust is None else _check_choice(adjust, ADJUSTMENTS, "adjust")
        raw = self._raw
        labels = self._spec_labels(contrast=True)
        out = _core.emmeans_contrast(
            self._model._core, raw["l"], raw["offset"], raw["group"], labels, self.ddf,
            method=name, custom=custom,
        )  # fmt: skip
        names, group, _, est, se, df, pairwise = out
        return EMMContrasts(self, names, group, est, se, df, adjust, pairwise)

    def render(self, format: str = "text") -> str:
        """The table of means as text, Markdown, HTML or LaTeX with emmeans' notes.

        Parameters
        ----------
        format : {"text", "markdown", "html", "latex"}

        Returns
        -------
        str

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> "emmean" in mm.emmeans(m, "Machine").render()
        True
        """
        t = self.table
        cols = _render_columns(t, set(t.columns[: len(self._raw["variables"])]))
        notes = self._notes()
        notes.append(f"Confidence level used: {self.level:g}")
        return _core.emmeans_render("Estimated marginal means", cols, notes, check_format(format))

    def _notes(self) -> list[str]:
        notes = []
        grid = [v[0] for v in self._raw["variables"]]
        averaged = [n for n in self._raw["grid_factors"] if n not in grid]
        if averaged:
            notes.append("Results are averaged over the levels of: " + ", ".join(averaged))
        notes.append(f"Degrees-of-freedom method: {_DDF_LABEL[self.ddf]}")
        if self.type == "response":
            notes.append("Intervals are back-transformed from the link scale")
        return notes

    def _render(self, format: str) -> str | None:
        return self.render(format)

    def __repr__(self) -> str:
        return self.render("text")


class EMMContrasts(RichDisplay):
    """Contrasts among estimated marginal means (from :meth:`EMMeans.pairs` or
    :meth:`EMMeans.contrast`, which build it): estimates, standard errors, df and
    adjusted tests.

    Parameters
    ----------
    emm : EMMeans
        The means compared.
    names : list of str
        The contrasts' labels.
    group : list of int
        The ``by`` group of each contrast.
    est, se, df : list of float
        Estimates, standard errors and degrees of freedom (link scale).
    adjust : str
        The adjustment asked for.
    pairwise : bool
        Whether the family is one set of pairwise comparisons (Tukey applies).

    Attributes
    ----------
    adjust : str
        The adjustment used (Tukey becomes Šidák for a family that is not pairwise).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
    >>> c = mm.emmeans(m, "Machine").pairs()
    >>> c.adjust
    'tukey'
    >>> c.confint().columns
    ['contrast', 'estimate', 'SE', 'df', 'lower_CL', 'upper_CL']
    """

    def __init__(self, emm: EMMeans, names: list[str], group: list[int], est: list[float],
                 se: list[float], df: list[float], adjust: str, pairwise: bool):  # fmt: skip
        self._emm = emm
        self._names = names
        self._group = group
        self._est = est
        self._se = se
        self._df = df
        self._pairwise = pairwise
        self._requested = adjust
        self.adjust = _core.emmeans_adjustment(adjust, pairwise)

    def _infer(self, level: float, tests: bool, intervals: bool) -> tuple:
        return _core.emmeans_infer(
            self._est, self._se, self._df, self._group, self._requested, level,
            self._emm._nmeans(), self._pairwise, tests=tests, intervals=intervals,
        )  # fmt: skip

    def _ratio_scale(self) -> bool:
        """Back-transform to ratios: type="response" with a log or logit link."""
        return self._emm.type == "response" and _link_name(self._emm._model) in ("log", "logit")

    def _frame(self, level: float, tests: bool, intervals: bool) -> pl.DataFrame:
        ratio, p, lower, upper = self._infer(level, tests, intervals)
        names = self._names
        est, se = self._est, self._se
        est_name = "estimate"
        if self._ratio_scale():
            est, se, lower, upper = _core.emmeans_response(
                _link_name(self._emm._model), True, est, se, lower, upper
            )
            names = [n.replace(" - ", " / ") for n in names]
            est_name = "odds_ratio" if _link_name(self._emm._model) == "logit" else "ratio"
        data: dict[str, Any] = {"contrast": names}
        data.update(self._emm._group_rows(self._group))
        data.update({est_name: est, "SE": se, "df": self._df})
        if intervals:
            lo, hi = _interval_names(self._df)
            data.update({lo: lower, hi: upper})
        if tests:
            if self._ratio_scale():
                data["null"] = [1.0] * len(names)
            data.update({_ratio_name(self._df): ratio, "p_value": p})
        return pl.DataFrame(data)

    @property
    def table(self) -> pl.DataFrame:
        """The table of tests.

        Returns
        -------
        polars.DataFrame
            ``contrast``, the ``by`` columns, ``estimate`` (``odds_ratio`` / ``ratio``
            back-transformed from a logit / log link with ``type="response"``, with a
            ``null`` column of 1), ``SE``, ``df``, ``t_ratio`` (``z_ratio`` when df are
            infinite), ``p_value``.

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> mm.emmeans(m, "Machine").pairs().table.columns
        ['contrast', 'estimate', 'SE', 'df', 't_ratio', 'p_value']
        """
        return self._frame(0.95, tests=True, intervals=False)

    def to_polars(self) -> pl.DataFrame:
        """The table of tests (the same as :attr:`table`).

        Returns
        -------
        polars.DataFrame

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> mm.emmeans(m, "Machine").pairs().to_polars().height
        3
        """
        return self.table

    def confint(self, level: float = 0.95) -> pl.DataFrame:
        """Simultaneous confidence intervals at ``level``, adjusted as the tests (Holm:
        Bonferroni's intervals, as emmeans).

        Parameters
        ----------
        level : float, default 0.95
            Confidence level.

        Returns
        -------
        polars.DataFrame
            ``contrast``, the ``by`` columns, ``estimate``, ``SE``, ``df``,
            ``lower_CL``, ``upper_CL`` (``asymp_LCL``/``asymp_UCL`` for infinite df).

        Raises
        ------
        ArgumentError
            ``level`` outside (0, 1).

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> mm.emmeans(m, "Machine").pairs().confint(0.9).height
        3
        """
        return self._frame(_check_level(level), tests=False, intervals=True)

    def render(self, format: str = "text") -> str:
        """The tests as text, Markdown, HTML or LaTeX with emmeans' notes.

        Parameters
        ----------
        format : {"text", "markdown", "html", "latex"}

        Returns
        -------
        str

        Examples
        --------
        >>> import mixedmodels as mm
        >>> m = mm.lmm("score ~ 1 + Machine + (1 | Worker)", mm.dataset("machines"), reml=True)
        >>> "p_value" in mm.emmeans(m, "Machine").pairs().render()
        True
        """
        cols = _render_columns(self.table, {"contrast", *self._emm.by})
        notes = self._emm._notes()
        if self.adjust != "none":
            size = self._emm._nmeans() if self.adjust == "tukey" else self._group.count(0)
            what = "estimates" if self.adjust == "tukey" else "tests"
            notes.append(f"P value adjustment: {self.adjust} method for {size} {what}")
        if self._ratio_scale():
            notes.append("Tests are performed on the link scale")
        return _core.emmeans_render("Contrasts", cols, notes, check_format(format))

    def _render(self, format: str) -> str | None:
        return self.render(format)

    def __repr__(self) -> str:
        return self.render("text")


def _render_columns(table: pl.DataFrame, labels: set[str]) -> list[tuple]:
    """The table's columns as the native renderer takes them: (kind, name, labels,
    numbers), the kind saying how a column is printed (labels, df, t/z ratio, p-value
    or a plain number)."""
    kinds = {"df": "df", "t_ratio": "ratio", "z_ratio": "ratio", "p_value": "p"}
    cols = []
    for c in table.columns:
        values = table[c].to_list()
        if c in labels:
            cols.append(("labels", c, [str(v) for v in values], []))
        else:
            cols.append((kinds.get(c, "values"), c, [], values))
    return cols


def emmeans(
    model: Any,
    specs: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    at: Mapping[str, Any] | None = None,
    ddf: str | None = None,
    type: str = "link",
    level: float = 0.95,
) -> EMMeans:
    """Estimated marginal means of a fitted model over factors (R's ``emmeans``).

    The reference grid holds every factor of the fixed effects at all its levels and
    every numeric covariate at its mean over the rows used in fitting (or the values in
    ``at``); the mean for each combination of the ``specs`` factors (within each ``by``
    group) averages the grid's predictions Xβ̂ over the other factors with equal
    weights, emmeans' default.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    specs : str or list of str
        The predictor(s) to compute means for: factors, or numeric covariates (at
        their mean, or at the values given in ``at``, as in emmeans).
    by : str or list of str, optional
        Predictors (factors, or covariates given in ``at``) that split the table into
        groups; contrasts are formed within each group.
    at : dict, optional
        Column -> value or list of values: covariate values (instead of the mean), or a
        subset of a factor's levels.
    ddf : {"kenward-roger", "satterthwaite", "asymptotic"} or None, default None
        Degrees of freedom and standard errors. Kenward–Roger uses the adjusted
        covariance of β̂ for the SEs and its df (as emmeans with pbkrtest);
        ``"asymptotic"`` uses the model's covariance and df = ∞. None: Kenward–Roger
        for a linear mixed model fitted by REML (emmeans' default), Satterthwaite for
        one fitted by ML (the Kenward–Roger method here needs REML), asymptotic for a
        generalized linear mixed model (its only choice).
    type : {"link", "response"}, default "link"
        Report the means on the linear-predictor scale or back-transformed by the
        inverse link (the mean as ``prob``/``rate``/``response``, its SE by the delta
        method, interval ends back-transformed). Contrasts of a log or logit link on
        the response scale are ratios (``odds_ratio``/``ratio``).
    level : float, default 0.95
        Confidence level of the table's intervals.

    Returns
    -------
    EMMeans

    Raises
    ------
    ArgumentTypeError
        ``specs``, ``by``, ``at``, ``ddf``, ``type`` or ``level`` of the wrong type, or
        ``model`` not a model.
    ArgumentError
        An unknown ``ddf`` or ``type``; Kenward–Roger or Satterthwaite for a generalized
        linear mixed model; ``level`` outside (0, 1).
    DataError
        A ``specs``/``by``/``at`` column that is not a predictor of the fixed effects,
        or a level in ``at`` that the factor does not have (``column`` and ``level``).
    NotFittedError
        The model is not fitted.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("angle ~ 1 + recipe * temperature + (1 | recipe:replicate)",
    ...            mm.dataset("cake"), reml=True)
    >>> e = mm.emmeans(m, "recipe")
    >>> e.table["emmean"].round(3).to_list()
    [33.122, 31.644, 31.6]
    >>> e.table["df"].round(3).to_list()
    [42.0, 42.0, 42.0]
    >>> mm.emmeans(m, "temperature", by="recipe").table.height
    18
    """
    model = fitted_model(model, "emmeans")
    specs_list = _names(specs, "specs")
    if not specs_list:
        raise ArgumentError("`specs` names no factor", parameter="specs")
    by_list = _names(by, "by")
    at_items = _at_items(at)
    ddf_name = _ddf_of(model, ddf)
    type_name = _check_choice(type, ("link", "response"), "type")
    level = _check_level(level)
    columns = prepare(model.formula, model._data)[1]
    raw = _core.emmeans_means(model._core, columns, at_items, specs_list, by_list, ddf_name)
    return EMMeans(model, raw, specs_list, by_list, ddf_name, type_name, level)
