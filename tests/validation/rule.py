"""The comparison rule of the validation grid.

For every model, the *reference* is the best of several lme4 optimizers (``fit_lme4.R``):

* LMM: the lowest lme4 objective over the fits (−2 log L for ML, the REML criterion for
  REML); both programs evaluate this function exactly, so lme4's value is used as is.
* GLMM: lme4's reported value carries the error of its PIRLS stopping rule (relative
  1e-8 to 1e-5 in practice; see ``tests/fixtures/README.md``), so each lme4 fit's
  parameters (θ, β; θ alone for nAGQ = 0) are re-evaluated with our objective
  (``GeneralizedLinearMixedModel.evaluate``, which equals lme4's exact Laplace value to
  ~1e-11, checked by the fixture tests) and the reference is the lowest of these values.
  The agreement of the two functions is still checked at the reference parameters (below).

Let f be our objective at our optimum, f_ref the reference objective and
``scale = max(|f_ref|, 1)``. Then:

``gap = (f − f_ref) / scale``
    the relative objective gap (positive: ours is worse).

Parameter distances (ours against the reference fit that attains f_ref):

``d_theta = max_e |θ_e − θ_ref,e| / max(r_e, THETA_FLOOR)``
    over θ elements e, matched by (grouping factor, row column, column column), with r_e
    the Euclidean norm of the reference factor's row that holds e (the relative standard
    deviation of that random effect); columns of Λ whose diagonal is negative are
    negated first (ΛΛᵀ is unchanged).
``d_beta = max_j |β_j − β_ref,j| / max(|β_ref,j|, se_ref,j)``
    over fixed effects matched by name, se_ref from lme4's ``vcov``.
``d_sigma = |σ − σ_ref| / σ_ref``
    LMMs only.

Status, in order:

``mismatch``
    the two programs do not fit the same model: the θ or β names do not match, or our
    objective at the reference parameters differs from lme4's value there by more than
    ``FUNCTION_RTOL_LMM`` (LMM) or ``FUNCTION_RTOL_GLMM`` (GLMM, where lme4's own PIRLS
    error is allowed for) relative to ``scale``.
``fail``
    ``gap > OBJECTIVE_RTOL``: our objective is worse than the best reference.
``pass``
    ``gap ≤ OBJECTIVE_RTOL`` and ``d_theta, d_beta, d_sigma ≤ PARAMETER_TOL``.
``better``
    ``gap < −OBJECTIVE_RTOL``: our objective is lower than every reference fit by more
    than the tolerance, so the reference is not at the optimum and its parameters are not
    a target; the objective shows it.
``explained``
    ``|gap| ≤ OBJECTIVE_RTOL`` but a distance exceeds ``PARAMETER_TOL``, and the
    likelihood is flat along the difference, shown by the objective: either (a) our
    objective at the points ``t`` = 1/4, 1/2, 3/4 of a path from the reference parameters
    to ours stays within ``OBJECTIVE_RTOL · scale`` of f_ref, for one of two paths: the
    *covariance path* (each term's relative covariance ΛΛᵀ interpolated linearly, Λ_t its
    Cholesky factor; β linearly) or the straight segment in θ (and β). The parameters are
    θ for an LMM (β and σ are profiled out), (θ, β) for a GLMM, θ for nAGQ = 0. The
    covariance path shows flatness where θ is not identified although ΛΛᵀ's identified
    part is (an intercept next to a full set of indicator columns of the same factor:
    there the set of optima is curved in θ but linear in the covariances). Or (b) another
    lme4 fit whose objective is within ``OBJECTIVE_RTOL · scale`` of f_ref is at least as
    far from the reference fit as ours (lme4's optimizers themselves disagree by as much at
    equal objective).
``fail_params``
    ``|gap| ≤ OBJECTIVE_RTOL``, a distance exceeds ``PARAMETER_TOL`` and neither (a) nor (b)
    holds.

Tolerances and why:

* ``OBJECTIVE_RTOL = 1e-6``: the release gate of the best peer; far above rounding
  (objectives agree to ~1e-12 at equal θ) and below any difference that matters for
  inference (1e-6 · deviance is a small fraction of a χ² unit for these data).
* ``PARAMETER_TOL = 1e-4``: converged optimizers with objective tolerances near 1e-8 agree
  on well-determined parameters to ~1e-5; a larger difference at the same objective means
  a flat likelihood, which (a) and (b) must then show.
* ``THETA_FLOOR = 1e-3``: a random effect whose standard deviation is below 0.1 % of the
  residual one (LMM) or of the link scale (GLMM) is compared in absolute terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

OBJECTIVE_RTOL = 1e-6
PARAMETER_TOL = 1e-4
THETA_FLOOR = 1e-3
FUNCTION_RTOL_LMM = 1e-7
FUNCTION_RTOL_GLMM = 1e-4
SEGMENT_POINTS = (0.25, 0.5, 0.75)

PASSING = ("pass", "better", "explained")


def normalize_name(name: str) -> str:
    """A column or coefficient name in R's spelling: ``Machine: B`` → ``MachineB``,
    ``recipe: B & temp`` → ``recipeB:temp``.

    Parameters
    ----------
    name : str
        Our name (or R's, which is returned unchanged).

    Returns
    -------
    str
        The name as R's ``model.matrix`` writes it.

    Examples
    --------
    >>> normalize_name("recipe: B & temp")
    'recipeB:temp'
    """
    return name.replace(": ", "").replace(" & ", ":")


def group_key(name: str) -> frozenset[str]:
    """The grouping factors of a term as a set: lme4's ``cask:batch`` and our
    ``batch & cask`` give the same key, as do lme4's ``c:(b:a)`` and our ``a & b & c``.

    Parameters
    ----------
    name : str
        A grouping-factor name of either program.

    Returns
    -------
    frozenset of str
        The factor names.

    Examples
    --------
    >>> group_key("c:(b:a)") == group_key("a & b & c")
    True
    """
    flat = name.replace(" & ", ":").replace("(", "").replace(")", "")
    return frozenset(p.strip() for p in flat.split(":"))


ThetaKey = tuple[frozenset[str], str, str]


def reference_theta_keys(terms: Sequence[dict]) -> list[ThetaKey]:
    """Keys of lme4's θ: per term (``group``, ``columns``), the lower triangle column by
    column.

    Parameters
    ----------
    terms : sequence of dict
        ``theta_terms`` of a reference record.

    Returns
    -------
    list of (frozenset, str, str)
        (grouping factors, row column, column column) of each θ element.

    Examples
    --------
    >>> reference_theta_keys([{"group": "g", "columns": ["(Intercept)", "x"]}])[1][1:]
    ('x', '(Intercept)')
    """
    keys = []
    for t in terms:
        cols = t["columns"]
        g = group_key(t["group"])
        for j in range(len(cols)):
            for i in range(j, len(cols)):
                keys.append((g, cols[i], cols[j]))
    return keys


def our_theta_keys(reterms: Sequence[dict]) -> list[ThetaKey]:
    """Keys of our θ from ``_core.reterms()`` (``name``, ``columns``, ``theta_index``).

    Parameters
    ----------
    reterms : sequence of dict
        Our random-effects terms in model order.

    Returns
    -------
    list of (frozenset, str, str)
        The keys in the order of our θ.

    Examples
    --------
    >>> our_theta_keys([{"name": "g", "columns": ["(Intercept)"], "theta_index": [(0, 0)]}])
    [(frozenset({'g'}), '(Intercept)', '(Intercept)')]
    """
    keys = []
    for t in reterms:
        cols = [normalize_name(c) for c in t["columns"]]
        g = group_key(t["name"])
        for i, j in t["theta_index"]:
            keys.append((g, cols[i], cols[j]))
    return keys


def align_theta(ours: Sequence[float], our_keys: list[ThetaKey], ref_keys: list[ThetaKey]):
    """Our θ in the reference order, with each Λ column's sign made non-negative on the
    diagonal; ``None`` when the keys differ as sets.

    Parameters
    ----------
    ours : sequence of float
        Our θ.
    our_keys, ref_keys : list
        Keys from :func:`our_theta_keys` and :func:`reference_theta_keys`.

    Returns
    -------
    numpy.ndarray or None
        θ in the reference's order.

    Examples
    --------
    >>> k = [(frozenset({"g"}), "a", "a")]
    >>> align_theta([-0.5], k, k)
    array([0.5])
    """
    if len(our_keys) != len(ref_keys) or set(our_keys) != set(ref_keys):
        return None
    value = dict(zip(our_keys, (float(v) for v in ours), strict=True))
    for g, i, j in list(value):
        if i == j and value[(g, i, j)] < 0:
            for key in value:
                if key[0] == g and key[2] == j:
                    value[key] = -value[key]
    return np.array([value[k] for k in ref_keys])


def theta_distance(theta: np.ndarray, ref: np.ndarray, ref_keys: list[ThetaKey]) -> float:
    """``d_theta`` of the module docstring (0 for an empty θ).

    Parameters
    ----------
    theta, ref : numpy.ndarray
        θ values in the reference order.
    ref_keys : list
        The reference keys.

    Returns
    -------
    float
        The largest scaled difference.

    Examples
    --------
    >>> k = [(frozenset({"g"}), "a", "a")]
    >>> theta_distance(np.array([1.0001]), np.array([1.0]), k) < 1.01e-4
    True
    """
    rows: dict[tuple[frozenset[str], str], float] = {}
    for (g, i, _), v in zip(ref_keys, ref, strict=True):
        rows[(g, i)] = rows.get((g, i), 0.0) + float(v) ** 2
    d = 0.0
    for (g, i, _), a, b in zip(ref_keys, theta, ref, strict=True):
        d = max(d, abs(a - b) / max(math.sqrt(rows[(g, i)]), THETA_FLOOR))
    return d


def beta_distance(beta: np.ndarray, ref: np.ndarray, se: np.ndarray) -> float:
    """``d_beta`` of the module docstring.

    Parameters
    ----------
    beta, ref, se : numpy.ndarray
        Our β, lme4's β and lme4's standard errors, in the same order.

    Returns
    -------
    float
        The largest scaled difference (0 without fixed effects).

    Examples
    --------
    >>> beta_distance(np.array([2.0002]), np.array([2.0]), np.array([0.1]))
    0.00010000000000021103
    """
    if beta.size == 0:
        return 0.0
    scale = np.maximum(np.abs(ref), np.nan_to_num(se, nan=0.0))
    scale = np.where(scale > 0, scale, 1.0)
    return float(np.max(np.abs(beta - ref) / scale))


def align_beta(names: Sequence[str], beta: Sequence[float], ref_names: Sequence[str]):
    """Our β in the reference order (names matched after :func:`normalize_name`);
    ``None`` when the names differ.

    Parameters
    ----------
    names, beta : sequence
        Our coefficient names and values.
    ref_names : sequence of str
        lme4's names.

    Returns
    -------
    numpy.ndarray or None
        β in lme4's order.

    Examples
    --------
    >>> align_beta(["(Intercept)", "period: 2"], [1.0, 2.0], ["period2", "(Intercept)"])
    array([2., 1.])
    """
    value = {normalize_name(n): float(b) for n, b in zip(names, beta, strict=True)}
    if set(value) != set(ref_names) or len(value) != len(ref_names):
        return None
    return np.array([value[n] for n in ref_names])


def _psd_cholesky(s: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a positive semi-definite matrix; a pivot at or below
    1e-14 of the largest diagonal gives a zero column (the matrix is then singular)."""
    n = s.shape[0]
    out = np.zeros_like(s)
    tiny = 1e-14 * max(float(np.max(np.diag(s))), 0.0)
    for j in range(n):
        d = s[j, j] - out[j, :j] @ out[j, :j]
        if d <= tiny:
            continue
        out[j, j] = math.sqrt(d)
        for i in range(j + 1, n):
            out[i, j] = (s[i, j] - out[i, :j] @ out[j, :j]) / out[j, j]
    return out


def _factors(theta: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
    out, k = [], 0
    for v in sizes:
        lam = np.zeros((v, v))
        for j in range(v):
            for i in range(j, v):
                lam[i, j] = theta[k]
                k += 1
        out.append(lam)
    return out


def covariance_path(a: np.ndarray, b: np.ndarray, sizes: Sequence[int], t: float) -> np.ndarray:
    """θ (lme4's order) of the point ``t`` of the covariance path from ``a`` to ``b``:
    each term's ΛΛᵀ interpolated linearly, then factored again.

    Parameters
    ----------
    a, b : numpy.ndarray
        θ at both ends, lme4's order.
    sizes : sequence of int
        Number of columns of each lme4 term.
    t : float
        Position, 0 (``a``) to 1 (``b``).

    Returns
    -------
    numpy.ndarray
        θ at ``t``.

    Examples
    --------
    >>> covariance_path(np.array([3.0]), np.array([4.0]), [1], 0.5)
    array([3.53553391])
    """
    out = []
    for la, lb in zip(_factors(a, sizes), _factors(b, sizes), strict=True):
        lam = _psd_cholesky((1 - t) * la @ la.T + t * lb @ lb.T)
        v = lam.shape[0]
        out.extend(lam[i, j] for j in range(v) for i in range(j, v))
    return np.array(out)


def classify(
    gap: float,
    distance: float,
    segment: Callable[[], list[list[float]]],
    spread: float,
    scale: float,
    f_ref: float,
) -> tuple[str, str]:
    """Status of a model from its objective gap and parameter distance.

    Parameters
    ----------
    gap : float
        ``(f − f_ref) / scale``.
    distance : float
        ``max(d_theta, d_beta, d_sigma) / PARAMETER_TOL`` (≤ 1: parameters agree).
    segment : callable
        Returns our objective at the interior points of each path (a list per path; only
        called when needed).
    spread : float
        The largest distance (same units as ``distance``) between the reference fit and
        another lme4 fit within the objective tolerance.
    scale, f_ref : float
        The objective scale and the reference objective.

    Returns
    -------
    (str, str)
        The status and a note on how it was decided.

    Examples
    --------
    >>> classify(0.0, 0.5, lambda: [], 0.0, 1.0, 1.0)
    ('pass', '')
    """
    if gap > OBJECTIVE_RTOL:
        return "fail", "objective worse than the best reference"
    if distance <= 1.0:
        return "pass", ""
    if gap < -OBJECTIVE_RTOL:
        return "better", "objective lower than every reference fit"
    paths = segment()
    worst = min(
        (max((abs(v - f_ref) / scale for v in p), default=math.inf) for p in paths),
        default=math.inf,
    )
    if worst <= OBJECTIVE_RTOL:
        return "explained", f"flat path (max |f − f_ref| = {worst:.1e} rel.)"
    if spread >= distance:
        return "explained", "lme4 optimizers differ as much at equal objective"
    return "fail_params", f"no flat path (max |f − f_ref| = {worst:.1e} rel.)"
