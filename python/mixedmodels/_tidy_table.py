"""``tidy``: one row per fixed effect, variance parameter or conditional mode of a fitted
model, with broom.mixed's conventions (effects ``fixed``, ``ran_pars``, ``ran_vals``;
terms ``sd__(Intercept)``, ``cor__(Intercept).Days``, ``sd__Observation``) and its
column names in Python style (``std_error``, ``p_value``, ``conf_low``, ``conf_high``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from . import _core
from ._errors import ArgumentError
from ._support import fitted_model, is_glmm

EFFECTS = ("fixed", "ran_pars", "ran_vals")
CONF_METHODS = ("wald", "profile", "boot")

_SCHEMA = {
    "effect": pl.String,
    "group": pl.String,
    "level": pl.String,
    "term": pl.String,
    "estimate": pl.Float64,
    "std_error": pl.Float64,
    "statistic": pl.Float64,
    "df": pl.Float64,
    "p_value": pl.Float64,
    "conf_low": pl.Float64,
    "conf_high": pl.Float64,
}


def _check_effects(effects: Any) -> list[str]:
    """``effects`` as a list of known kinds in broom.mixed's row order."""
    given = [effects] if isinstance(effects, str) else effects
    if not isinstance(given, Sequence) or not given:
        raise ArgumentError(
            f"`effects` must be one of {EFFECTS} or a non-empty list of them, got {effects!r}",
            parameter="effects",
        )
    for e in given:
        if e not in EFFECTS:
            raise ArgumentError(
                f"unknown effects {e!r}; choose from {', '.join(EFFECTS)}", parameter="effects"
            )
    return [e for e in EFFECTS if e in given]


def _fixed_rows(model: Any, ddf: str | None) -> list[dict]:
    """The coefficient table: t (or z) statistics, with df and p where broom.mixed has them
    (lmerTest fits: Satterthwaite; glmer fits: z tests)."""
    table = model.coeftable(ddf=ddf)
    glmm = is_glmm(model)
    rows = []
    for r in table.iter_rows(named=True):
        row = {
            "effect": "fixed",
            "term": r["name"],
            "estimate": r["estimate"],
            "std_error": r["stderror"],
            "statistic": r["t"] if ddf is not None else r["z"],
        }
        if ddf is not None:
            row["df"] = r["df"]
        if ddf is not None or glmm:
            row["p_value"] = r["p"]
        rows.append(row)
    return rows


def _ran_par_rows(model: Any) -> list[tuple[dict, str]]:
    """Standard deviations and correlations per term (each column's sd, then its
    correlations with the later columns, as broom.mixed), then the residual sd; each with
    the name :meth:`confint` gives the parameter."""
    vc = model.varcorr()
    known = set(model.component_names)
    out = []
    for t in vc.terms:
        g, cols = t["group"], t["columns"]
        for i, ci in enumerate(cols):
            row = {"effect": "ran_pars", "group": g, "term": f"sd__{ci}", "estimate": t["sd"][i]}
            out.append((row, f"sd_{ci}|{g}"))
            for j in range(i + 1, len(cols)):
                name = f"cor_{cols[j]}.{ci}|{g}"
                if name in known:  # not for uncorrelated (||) terms
                    row = {
                        "effect": "ran_pars",
                        "group": g,
                        "term": f"cor__{ci}.{cols[j]}",
                        "estimate": t["correlation"][i, j],
                    }
                    out.append((row, name))
    if vc.residual_sd is not None:
        row = {
            "effect": "ran_pars",
            "group": "Residual",
            "term": "sd__Observation",
            "estimate": vc.residual_sd,
        }
        out.append((row, "sigma"))
    return out


def _ran_val_rows(model: Any) -> list[dict]:
    """Conditional modes with sqrt of their conditional variances, by grouping factor,
    then term, then level (broom.mixed's order)."""
    condvar = model.condvar()
    rows = []
    for group, table in model.ranef().items():
        levels = [str(v) for v in table[group].to_list()]
        cv = np.asarray(condvar[group])
        for j, term in enumerate(c for c in table.columns if c != group):
            se = np.sqrt(cv[:, j, j])
            for k, (level, value) in enumerate(zip(levels, table[term].to_list(), strict=True)):
                rows.append(
                    {
                        "effect": "ran_vals",
                        "group": group,
                        "level": level,
                        "term": term,
                        "estimate": value,
                        "std_error": float(se[k]),
                    }
                )
    return rows


def _wald_ends(row: dict, level: float) -> tuple[float | None, float | None]:
    """estimate ∓ q·se with the normal quantile, or the t quantile on the row's df
    (both from the core)."""
    se = row.get("std_error")
    if se is None:
        return None, None
    p = (1 + level) / 2
    df = row.get("df")
    q = _core.t_quantile(p, math.inf if df is None else df)
    return row["estimate"] - q * se, row["estimate"] + q * se


def tidy(
    model: Any,
    effects: str | Sequence[str] = ("ran_pars", "fixed"),
    *,
    conf_int: bool = False,
    conf_level: float = 0.95,
    conf_method: str = "wald",
    ddf: str | None = None,
    profile: Any = None,
    bootstrap: Any = None,
    n: int | None = None,
    seed: int | None = None,
) -> pl.DataFrame:
    """One row per fixed effect, variance parameter or conditional mode, as broom.mixed's
    ``tidy`` of an lmer (lmerTest) or glmer fit, with its column names in Python style.

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    effects : str or sequence of str, default ("ran_pars", "fixed")
        Which rows: ``"fixed"`` (the coefficients; ``group`` null), ``"ran_pars"``
        (per random-effects term the standard deviation ``sd__<column>`` of each column
        and the correlations ``cor__<column>.<later column>``, then ``sd__Observation``
        with group ``"Residual"`` for a linear model), ``"ran_vals"`` (the conditional
        modes per grouping factor, term and ``level``, with ``std_error`` the square
        root of the conditional variance). Rows come in broom.mixed's order: fixed,
        ran_pars, ran_vals.
    conf_int : bool, default False
        Add ``conf_low`` and ``conf_high``.
    conf_level : float, default 0.95
        The confidence level of the intervals.
    conf_method : {"wald", "profile", "boot"}, default "wald"
        ``"wald"``: estimate ∓ q·std_error for the coefficients (q the normal quantile,
        or the t quantile on ``df`` when ``ddf`` is given, as broom.mixed for lmerTest
        fits) and the conditional modes; null for the variance parameters, as lme4.
        ``"profile"`` and ``"boot"``: :meth:`~MixedModel.confint`'s profile-likelihood
        or parametric-bootstrap intervals for the coefficients and variance parameters
        (null for the conditional modes). Case-insensitive (broom.mixed writes "Wald").
    ddf : {"satterthwaite", "kenward-roger"} or None, default None
        Degrees of freedom of the coefficients' t tests (linear models; see
        :meth:`~MixedModel.coeftable`). With ``ddf`` the fixed rows get ``df`` and
        ``p_value`` (what broom.mixed reports for lmerTest fits, with Satterthwaite's);
        without, a linear model's rows have no p-value (as broom.mixed for lme4 fits) and
        a generalized model's have z tests.
    profile, bootstrap, n, seed : optional
        Passed to :meth:`~MixedModel.confint` (``profile`` for ``conf_method="profile"``;
        ``bootstrap`` or ``n`` and ``seed`` for ``conf_method="boot"``).

    Returns
    -------
    polars.DataFrame
        The columns broom.mixed gives for the requested rows, in this order:
        ``effect``; ``group`` (not for fixed effects alone); ``level`` (with ran_vals);
        ``term``; ``estimate``; ``std_error`` (not for ran_pars alone); ``statistic``
        (with fixed); ``df`` (with fixed and ``ddf``); ``p_value`` (with fixed and
        ``ddf``, or for a generalized model); ``conf_low`` and ``conf_high`` (with
        ``conf_int``). Null where a row has no value.

    Raises
    ------
    ArgumentError
        An unknown ``effects`` or ``conf_method``, a confidence-interval keyword without
        ``conf_int=True``, or a bad ``ddf``, ``conf_level`` or keyword of the interval
        method (each naming the parameter).
    NotFittedError
        The model has no estimates.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)",
    ...            mm.dataset("sleepstudy"), reml=True)
    >>> t = mm.tidy(m)
    >>> t["term"].to_list()[2:]
    ['sd__(Intercept)', 'cor__(Intercept).Days', 'sd__Days', 'sd__Observation']
    >>> t["group"].to_list()[2:]
    ['Subject', 'Subject', 'Subject', 'Residual']
    >>> mm.tidy(m, "fixed", ddf="satterthwaite")["df"].round(2).to_list()
    [17.0, 17.0]
    >>> mm.tidy(m, "ran_vals").columns[:4]
    ['effect', 'group', 'level', 'term']
    """
    model = fitted_model(model, "tidy")
    kinds = _check_effects(effects)
    if not isinstance(conf_int, bool):
        raise ArgumentError(
            f"`conf_int` must be True or False, got {conf_int!r}", parameter="conf_int"
        )
    if not isinstance(conf_method, str) or conf_method.lower() not in CONF_METHODS:
        raise ArgumentError(
            f"unknown conf_method {conf_method!r}; choose from {', '.join(CONF_METHODS)}",
            parameter="conf_method",
        )
    method = conf_method.lower()
    from ._profile import check_level

    try:
        conf_level = check_level(conf_level)
    except ArgumentError as e:  # name this function's keyword
        raise type(e)(str(e).replace("`level`", "`conf_level`"), parameter="conf_level") from None
    extras = {"profile": profile, "bootstrap": bootstrap, "n": n, "seed": seed}
    if not conf_int:
        for name, value in extras.items():
            if value is not None:
                raise ArgumentError(f"`{name}` needs conf_int=True", parameter=name)
    rows: list[dict] = []
    if "fixed" in kinds:
        rows += _fixed_rows(model, ddf)
    elif ddf is not None:
        raise ArgumentError("`ddf` applies to the fixed effects only", parameter="ddf")
    ran_pars = _ran_par_rows(model) if "ran_pars" in kinds else []
    rows += [r for r, _ in ran_pars]
    if "ran_vals" in kinds:
        rows += _ran_val_rows(model)
    if conf_int:
        ci = None
        if method != "wald":
            ci = model.confint(
                method, conf_level, **{k: v for k, v in extras.items() if v is not None}
            )
        elif any(v is not None for v in extras.values()):
            model.confint("wald", conf_level, **extras)  # raises naming the keyword
        ends = {} if ci is None else {p: (lo, hi) for p, _, lo, hi in ci.iter_rows()}
        names = {id(r): name for r, name in ran_pars}
        for r in rows:
            if method == "wald":
                lo, hi = (None, None) if r["effect"] == "ran_pars" else _wald_ends(r, conf_level)
            elif r["effect"] == "ran_vals":
                lo, hi = None, None
            else:
                lo, hi = ends[r["term"] if r["effect"] == "fixed" else names[id(r)]]
            r["conf_low"], r["conf_high"] = lo, hi
    fixed = "fixed" in kinds
    present = {
        "group": kinds != ["fixed"],
        "level": "ran_vals" in kinds,
        "std_error": kinds != ["ran_pars"],
        "statistic": fixed,
        "df": fixed and ddf is not None,
        "p_value": fixed and (ddf is not None or is_glmm(model)),
        "conf_low": conf_int,
        "conf_high": conf_int,
    }
    columns = [c for c in _SCHEMA if present.get(c, True)]
    schema = {c: _SCHEMA[c] for c in columns}
    return pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], schema=schema)
