#!/usr/bin/env python3
"""Side-by-side benchmark: this package against lme4 and the Python mixed-model packages.

For each (tool, model) a fresh process loads the data, fits the model k times (best of k
reported), and reports the objective, the optimizer's evaluation count and its peak
memory. See benches/README.md for what exactly is measured.

    python benches/compare.py                      # everything, including the large models
    python benches/compare.py --quick              # without the large synthetic models
    python benches/compare.py --models sleepstudy,pastes --tools ours,lme4
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATASETS = ROOT / "datasets"
WORK = Path(os.environ.get("MM_BENCH_DIR", "/tmp/mm_bench"))
RESULTS = HERE / "results"
R_WORKER = HERE / "lme4_worker.R"
GLMMTMB_WORKER = HERE / "glmmtmb_worker.R"
R_TOOLS = {"lme4": R_WORKER, "glmmtmb": GLMMTMB_WORKER}

TOOLS = ["ours", "lme4", "glmmtmb", "glmm", "mixedlm", "statsmodels"]
# Families with a dispersion parameter, fitted as glmmTMB fits them.
DISPERSION_FAMILIES = {"gamma", "normal", "negativebinomial", "inversegaussian"}
PY_PACKAGES = {
    "ours": "mixedmodels",
    "glmm": "glmm",
    "mixedlm": "mixedlm",
    "statsmodels": "statsmodels",
}

# Synthetic crossed design.
SYN_SEED = 20261125
SYN_N = 1_000_000
SYN_G = 5_000
SYN_H = 2_000
SYN_STAMP = f"seed={SYN_SEED} n={SYN_N} g={SYN_G} h={SYN_H} sd=0.5,0.3,1 beta=1,0.5 v1"

# Synthetic crossed Bernoulli design (GLMM).
BERN_SEED = 20261126
BERN_N = 500_000
BERN_G = 2_000
BERN_H = 500
BERN_STAMP = f"seed={BERN_SEED} n={BERN_N} g={BERN_G} h={BERN_H} sd=0.6,0.4 beta=-0.5,0.8 logit v1"


@dataclass
class Model:
    key: str
    data: str  # a file stem in datasets/, or a key of SYNTHETIC
    formula: str  # lme4 / MixedModels.jl syntax, used by ours, lme4, glmm, mixedlm
    reml: bool = False
    # statsmodels.formula.api.mixedlm arguments: fixed formula, groups column, re_formula,
    # vc_formula, use_sparse. Crossed terms use one all-ones group and variance components.
    sm: dict = field(default_factory=dict)
    large: bool = False
    # GLMM: our family name ("gaussian" = linear mixed model; "bernoulli", "binomial",
    # "poisson"), adaptive Gauss-Hermite nodes (1 = Laplace) and the fast fit (ours
    # fast=True, lme4 nAGQ = 0, mixedlm nAGQ=0).
    family: str = "gaussian"
    # The link (None: the family's default; ours and glmmTMB take the same names).
    link: str | None = None
    nagq: int = 1
    fast: bool = False
    # Prior-weights column (binomial: the trials, with a proportion as the response),
    # given to every tool whose formula does not carry the trials in a cbind() response.
    weights: str | None = None
    # Per-tool formula where a tool spells the model differently ("lme4", "glmm",
    # "mixedlm"); the others use `formula`.
    formulas: dict = field(default_factory=dict)
    # Columns added to the data of the Python tools before timing: name -> polars SQL
    # expression over the data's columns (pl.sql_expr).
    derived: dict = field(default_factory=dict)

    @property
    def glmm(self) -> bool:
        return self.family != "gaussian"

    @property
    def dispersion(self) -> bool:
        return self.family in DISPERSION_FAMILIES

    def formula_for(self, tool: str) -> str:
        return self.formulas.get(tool, self.formula)

    def weights_for(self, tool: str) -> str | None:
        """The prior-weights column for `tool`; none when its response is cbind()."""
        return None if self.formula_for(tool).startswith("cbind(") else self.weights


def not_applicable(tool: str, model: Model) -> str | None:
    """Why `tool` has no comparable fit of `model` (the cell is then not run), or None."""
    if tool == "glmmtmb" and not model.dispersion:
        return "glmmTMB rows are for the families with a dispersion parameter"
    if tool == "glmmtmb" and model.family == "inversegaussian":
        return "glmmTMB 1.1.5 has no inverse Gaussian family"
    if model.dispersion and tool not in ("ours", "glmmtmb", "lme4", "glmm"):
        return "no fit of the families with a dispersion parameter"
    if tool == "statsmodels" and model.glmm:
        return (
            "statsmodels has no maximum-likelihood GLMM (its Binomial/PoissonBayesMixedGLM "
            "fit a variational or posterior-mode Bayes model)"
        )
    if tool == "glmm" and model.fast:
        return "glmm has no nAGQ = 0 (fast, θ-only) fit"
    return None


VERBAGG = "r2 ~ 1 + Anger + Gender + btype + situ + mode + (1 | id) + (1 | item)"
CONTRA = "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)"
CONTRA_R = "use ~ 1 + age + I(age^2) + livch + urban + (1 | district)"
CONTRA_FORMULAS = {
    "lme4": CONTRA_R,
    "glmm": CONTRA_R,
    "mixedlm": "use ~ 1 + age + I(age**2) + livch + urban + (1 | district)",
}


MODELS = [
    Model(
        "dyestuff", "dyestuff", "Yield ~ 1 + (1|Batch)", sm=dict(fixed="Yield ~ 1", groups="Batch")
    ),
    Model(
        "dyestuff_reml",
        "dyestuff",
        "Yield ~ 1 + (1|Batch)",
        reml=True,
        sm=dict(fixed="Yield ~ 1", groups="Batch"),
    ),
    Model(
        "sleepstudy",
        "sleepstudy",
        "Reaction ~ 1 + Days + (1 + Days|Subject)",
        sm=dict(fixed="Reaction ~ 1 + Days", groups="Subject", re_formula="~1 + Days"),
    ),
    Model(
        "sleepstudy_zc",
        "sleepstudy",
        "Reaction ~ 1 + Days + (1|Subject) + (0 + Days|Subject)",
        sm=dict(
            fixed="Reaction ~ 1 + Days",
            groups="Subject",
            re_formula="~1",
            vc_formula={"Days": "0 + Days"},
        ),
    ),
    Model(
        "penicillin",
        "penicillin",
        "diameter ~ 1 + (1|plate) + (1|sample)",
        sm=dict(
            fixed="diameter ~ 1",
            groups="one",
            re_formula="0",
            vc_formula={"plate": "0 + C(plate)", "sample": "0 + C(sample)"},
        ),
    ),
    Model(
        "pastes",
        "pastes",
        "strength ~ 1 + (1|batch/cask)",
        sm=dict(
            fixed="strength ~ 1",
            groups="batch",
            re_formula="~1",
            vc_formula={"cask": "0 + C(cask)"},
        ),
    ),
    Model(
        "insteval",
        "insteval",
        "y ~ 1 + service*dept + (1|s) + (1|d)",
        sm=dict(
            fixed="y ~ 1 + service*dept",
            groups="one",
            re_formula="0",
            vc_formula={"s": "0 + C(s)", "d": "0 + C(d)"},
            use_sparse=True,
        ),
    ),
    Model(
        "insteval_dept",
        "insteval",
        "y ~ 1 + service + (1|s) + (1|d) + (1|dept)",
        sm=dict(
            fixed="y ~ 1 + service",
            groups="one",
            re_formula="0",
            vc_formula={"s": "0 + C(s)", "d": "0 + C(d)", "dept": "0 + C(dept)"},
            use_sparse=True,
        ),
    ),
    Model(
        "crossed_1m",
        "synthetic",
        "y ~ 1 + x + (1|g) + (1|h)",
        large=True,
        sm=dict(
            fixed="y ~ 1 + x",
            groups="one",
            re_formula="0",
            vc_formula={"g": "0 + C(g)", "h": "0 + C(h)"},
            use_sparse=True,
        ),
    ),
    Model("verbagg", "verbagg", VERBAGG, family="bernoulli"),
    Model("verbagg_fast", "verbagg", VERBAGG, family="bernoulli", fast=True),
    Model("contraception", "contraception", CONTRA, family="bernoulli", formulas=CONTRA_FORMULAS),
    Model(
        "contraception_agq9",
        "contraception",
        CONTRA,
        family="bernoulli",
        nagq=9,
        formulas=CONTRA_FORMULAS,
    ),
    Model(
        "cbpp",
        "cbpp",
        "prop ~ 1 + period + (1 | herd)",
        family="binomial",
        weights="size",
        formulas={"lme4": "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"},
        derived={"prop": "incidence / size"},
    ),
    Model(
        "grouseticks",
        "grouseticks",
        "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        family="poisson",
    ),
    Model(
        "grouseticks_nb2",
        "grouseticks",
        "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION)",
        family="negativebinomial",
    ),
    Model(
        "sleepstudy_gamma_log",
        "sleepstudy",
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        family="gamma",
        link="log",
    ),
    Model(
        "sleepstudy_gamma_log_int",
        "sleepstudy",
        "Reaction ~ 1 + Days + (1 | Subject)",
        family="gamma",
        link="log",
    ),
    Model(
        "crossed_inverse_gaussian",
        "crossed_inverse_gaussian",
        "y ~ 1 + x + (1 | subj) + (1 | item)",
        family="inversegaussian",
        link="log",
    ),
    Model(
        "bernoulli_500k",
        "synthetic_bernoulli",
        "y ~ 1 + x + (1 | g) + (1 | h)",
        family="bernoulli",
        large=True,
    ),
]
MODEL_BY_KEY = {m.key: m for m in MODELS}


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------


def parquet_path(data: str) -> Path:
    return WORK / f"{data}.parquet" if data in SYNTHETIC else DATASETS / f"{data}.parquet"


def generated_is_current(key: str, stamp_text: str) -> bool:
    """Are WORK/<key>.parquet and .csv there, written with this stamp (seed and sizes)?"""
    stamp = WORK / f"{key}.stamp"
    return (
        stamp.exists()
        and stamp.read_text() == stamp_text
        and (WORK / f"{key}.parquet").exists()
        and (WORK / f"{key}.csv").exists()
    )


def save_generated(key: str, stamp_text: str, df) -> None:
    """Write a generated data set as WORK/<key>.parquet and .csv (R reads the CSV)."""
    WORK.mkdir(parents=True, exist_ok=True)
    df.write_parquet(WORK / f"{key}.parquet")
    df.write_csv(WORK / f"{key}.csv")
    (WORK / f"{key}.stamp").write_text(stamp_text)


def make_synthetic() -> None:
    """1,000,000 rows, g with 5,000 and h with 2,000 levels drawn uniformly,
    y = 1 + 0.5 x + b_g + b_h + e with sd(b_g) = 0.5, sd(b_h) = 0.3, sd(e) = 1."""
    import numpy as np
    import polars as pl

    if generated_is_current("synthetic", SYN_STAMP):
        return
    rng = np.random.default_rng(SYN_SEED)
    g = rng.integers(0, SYN_G, SYN_N)
    h = rng.integers(0, SYN_H, SYN_N)
    x = rng.standard_normal(SYN_N)
    bg = rng.normal(0.0, 0.5, SYN_G)
    bh = rng.normal(0.0, 0.3, SYN_H)
    e = rng.standard_normal(SYN_N)
    y = 1.0 + 0.5 * x + bg[g] + bh[h] + e
    glev = [f"g{i:04d}" for i in range(SYN_G)]
    hlev = [f"h{i:04d}" for i in range(SYN_H)]
    df = pl.DataFrame(
        {
            "y": y,
            "x": x,
            "g": pl.Series("g", np.asarray(glev)[g]).cast(pl.Enum(glev)),
            "h": pl.Series("h", np.asarray(hlev)[h]).cast(pl.Enum(hlev)),
        }
    )
    save_generated("synthetic", SYN_STAMP, df)


def make_synthetic_bernoulli() -> None:
    """500,000 rows, g with 2,000 and h with 500 levels drawn uniformly, x ~ N(0, 1),
    eta = -0.5 + 0.8 x + b_g + b_h with sd(b_g) = 0.6, sd(b_h) = 0.4,
    y ~ Bernoulli(logistic(eta)) as 0.0 / 1.0."""
    import numpy as np
    import polars as pl

    if generated_is_current("synthetic_bernoulli", BERN_STAMP):
        return
    rng = np.random.default_rng(BERN_SEED)
    g = rng.integers(0, BERN_G, BERN_N)
    h = rng.integers(0, BERN_H, BERN_N)
    x = rng.standard_normal(BERN_N)
    bg = rng.normal(0.0, 0.6, BERN_G)
    bh = rng.normal(0.0, 0.4, BERN_H)
    eta = -0.5 + 0.8 * x + bg[g] + bh[h]
    y = (rng.random(BERN_N) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float64)
    glev = [f"g{i:04d}" for i in range(BERN_G)]
    hlev = [f"h{i:03d}" for i in range(BERN_H)]
    df = pl.DataFrame(
        {
            "y": y,
            "x": x,
            "g": pl.Series("g", np.asarray(glev)[g]).cast(pl.Enum(glev)),
            "h": pl.Series("h", np.asarray(hlev)[h]).cast(pl.Enum(hlev)),
        }
    )
    save_generated("synthetic_bernoulli", BERN_STAMP, df)


# Generated data sets: data key -> generator (writes WORK/<key>.parquet and .csv).
def make_crossed_inverse_gaussian() -> None:
    """The simulated crossed inverse Gaussian data of the test fixture
    tests/fixtures/disp_crossed_inverse_gaussian.json (24 subjects x 16 items)."""
    import polars as pl

    src = HERE.parent / "tests" / "fixtures" / "disp_crossed_inverse_gaussian.json"
    stamp = f"from {src.name} v1"
    if generated_is_current("crossed_inverse_gaussian", stamp):
        return
    data = json.loads(src.read_text())["data"]
    subj = sorted(set(data["subj"]))
    item = sorted(set(data["item"]))
    df = pl.DataFrame(
        {
            "y": data["y"],
            "x": data["x"],
            "subj": pl.Series("subj", data["subj"]).cast(pl.Enum(subj)),
            "item": pl.Series("item", data["item"]).cast(pl.Enum(item)),
        }
    )
    save_generated("crossed_inverse_gaussian", stamp, df)


SYNTHETIC = {
    "synthetic": make_synthetic,
    "synthetic_bernoulli": make_synthetic_bernoulli,
    "crossed_inverse_gaussian": make_crossed_inverse_gaussian,
}


def r_inputs(data: str) -> tuple[Path, Path]:
    """CSV (factors as their level labels) and level-order file for the R worker."""
    import polars as pl

    csv = WORK / f"{data}.csv"
    lev = WORK / f"{data}.levels.tsv"
    src = parquet_path(data)
    if csv.exists() and lev.exists() and csv.stat().st_mtime >= src.stat().st_mtime:
        return csv, lev
    df = pl.read_parquet(src)
    lines = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Enum):
            lines.append("\t".join([name, *dtype.categories.to_list()]))
        elif dtype in (pl.String, pl.Categorical):
            lines.append("\t".join([name, *sorted(df[name].drop_nulls().unique().to_list())]))
    if data not in SYNTHETIC:  # a synthetic CSV is written by its generator
        df.write_csv(csv)
    lev.write_text("\n".join(lines) + "\n")
    return csv, lev


# ---------------------------------------------------------------------------------------
# Worker: one (tool, model) in this fresh process
# ---------------------------------------------------------------------------------------


def vm_kib(field_name: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def load_polars(model: Model):
    import polars as pl

    df = pl.read_parquet(parquet_path(model.data))
    if model.derived:
        df = df.with_columns(pl.sql_expr(e).alias(c) for c, e in model.derived.items())
    return df


def load_pandas(model: Model):
    df = load_polars(model).to_pandas()  # Enum columns become pandas categoricals
    return df


def fitter(tool: str, model: Model):
    """Import the tool, load the data in its preferred form, return a no-argument callable
    that constructs and fits the model and returns (objective, evaluations, extras)."""
    if tool == "ours":
        import mixedmodels as mm

        hwm = vm_kib("VmHWM")
        df = load_polars(model)
        formula = model.formula_for(tool)
        weights = model.weights_for(tool)

        def fit():
            if model.glmm:
                m = mm.glmm(
                    formula,
                    df,
                    family=model.family,
                    link=model.link,
                    nagq=model.nagq,
                    fast=model.fast,
                    weights=weights,
                )
            else:
                m = mm.lmm(formula, df, reml=model.reml)
            opt = m.optsum or {}
            extras = {
                "optimizer_seconds": opt.get("seconds"),
                "theta": [float(t) for t in m.theta],
                "return_code": opt.get("return_code"),
            }
            if model.glmm:
                extras["evaluations_fast_stage"] = opt.get("evaluations_fast_stage")
            return m.objective, opt.get("evaluations"), extras

        return hwm, fit

    if tool == "glmm":
        import glmm

        hwm = vm_kib("VmHWM")
        df = load_pandas(model)
        formula = model.formula_for(tool)
        kw: dict = {}
        if model.glmm:
            # glmm takes a numeric response only: a two-level factor becomes its codes
            # (0 = first level, 1 = second, the success), and weights an array.
            resp = formula.split("~", 1)[0].strip()
            if resp in df.columns and str(df[resp].dtype) == "category":
                df[resp] = df[resp].cat.codes.astype("float64")
            w = model.weights_for(tool)
            kw = dict(
                family="binomial" if model.family == "bernoulli" else model.family,
                nagq=model.nagq,
                weights=None if w is None else df[w].to_numpy(dtype="float64"),
            )
            if model.link:
                kw["link"] = model.link
        else:
            kw = dict(reml=model.reml)

        def fit():
            # The lean settings closest to what the others compute: RX-based standard
            # errors (as lme4), no Satterthwaite pass, no stored LRT tables.
            m = glmm.fit(df, formula, satterthwaite=False, wald_se="rx", anova_test="Wald", **kw)
            extras = {"n_grad": int(m.n_grad), "converged": bool(m.converged)}
            if model.dispersion:
                # Ours and glmmTMB's objective for these families: -2 log L in full.
                extras.update(nagq=int(m.nagq))
                return -2.0 * float(m.loglik), int(m.n_eval), extras
            if model.glmm:
                # m.deviance: the Laplace / AGQ deviance relative to the saturated model,
                # our objective's scale (-2 loglik differs by the saturated constant).
                extras.update(minus2loglik=-2.0 * float(m.loglik), nagq=int(m.nagq))
                return float(m.deviance), int(m.n_eval), extras
            return -2.0 * float(m.loglik), int(m.n_eval), extras

        return hwm, fit

    if tool == "mixedlm":
        import mixedlm

        # mixedlm loads its modelling stack lazily: touch it before the baseline.
        _ = mixedlm.lmer
        formula = model.formula_for(tool)
        if model.glmm:
            from mixedlm.estimation.joint_glmm import JointGLMMObjective
            from mixedlm.estimation.laplace import GLMMOptimizer
            from mixedlm.families import Binomial, Poisson

            # glmer reports optimizer iterations (n_iter), not evaluations: count the
            # calls of its two objectives (θ-only stage, joint θ/β stage).
            calls = [0]

            def counting(f):
                def wrapped(*a, **k):
                    calls[0] += 1
                    return f(*a, **k)

                return wrapped

            GLMMOptimizer.objective = counting(GLMMOptimizer.objective)
            JointGLMMObjective.__call__ = counting(JointGLMMObjective.__call__)
            family = Poisson if model.family == "poisson" else Binomial
        hwm = vm_kib("VmHWM")
        df = load_pandas(model)

        def fit():
            if model.glmm:
                calls[0] = 0
                m = mixedlm.glmer(
                    formula,
                    df,
                    family=family(),
                    nAGQ=0 if model.fast else model.nagq,
                    weights=model.weights_for(tool),
                )
                # m.deviance: the fitting criterion relative to the saturated model, our
                # objective's scale; logLik() adds the saturated log-likelihood.
                extras = {
                    "optimizer": m.optimizer,
                    "converged": bool(m.converged),
                    "n_iter": int(m.n_iter),
                    "minus2loglik": -2.0 * float(m.logLik().value),
                }
                return float(m.deviance), calls[0], extras
            m = mixedlm.lmer(formula, df, REML=model.reml)
            return (
                float(m.deviance),
                int(m.function_evals),
                {"optimizer": m.optimizer, "converged": bool(m.converged)},
            )

        return hwm, fit

    if tool == "statsmodels":
        import statsmodels.formula.api as smf

        hwm = vm_kib("VmHWM")
        df = load_pandas(model)
        df["one"] = 1
        spec = dict(model.sm)
        fixed = spec.pop("fixed")
        groups = spec.pop("groups")

        def fit():
            md = smf.mixedlm(fixed, df, groups=df[groups], **spec)
            calls = [0]
            loglike = md.loglike

            def counted(*a, **k):
                calls[0] += 1
                return loglike(*a, **k)

            md.loglike = counted
            m = md.fit(reml=model.reml)
            return -2.0 * float(m.llf), calls[0], {"converged": bool(m.converged)}

        return hwm, fit

    raise ValueError(f"unknown Python tool {tool!r}")


def run_worker(
    tool: str, key: str, reps: int, min_time: float, max_reps: int, budget: float
) -> dict:
    model = MODEL_BY_KEY[key]
    res: dict = {"tool": tool, "model": key}
    warnings.simplefilter("ignore")
    caught: list[str] = []
    hwm_import, fit = fitter(tool, model)
    res["hwm_import_kib"] = hwm_import
    res["hwm_data_kib"] = vm_kib("VmHWM")
    times: list[float] = []
    cpus: list[float] = []
    best_out = None
    while True:
        # No gc.collect() here: a collection right before a fit makes the next fit
        # re-fault freed memory and measured up to 2x slower on the small models.
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            c0 = time.process_time()
            t0 = time.perf_counter()
            out = fit()
            t = time.perf_counter() - t0
            c = time.process_time() - c0
        for wi in w:
            msg = f"{wi.category.__name__}: {str(wi.message).splitlines()[0][:120]}"
            if msg not in caught:
                caught.append(msg)
        if not times or t < min(times):
            best_out = out
        times.append(t)
        cpus.append(c)
        n, total = len(times), sum(times)
        if reps > 0:
            if n >= reps:
                break
        else:
            min_n = 3 if min(times) < 5 else 2 if min(times) < 30 else 1
            if n >= max_reps or (n >= min_n and total >= min_time):
                break
        if total + min(times) > budget:
            break
    best = min(range(len(times)), key=times.__getitem__)
    objective, evals, extras = best_out  # the extras of the fastest fit
    res.update(
        seconds=times[best],
        cpu_seconds=cpus[best],
        runs=len(times),
        times=times,
        objective=float(objective),
        evaluations=evals,
        extras=extras,
        hwm_peak_kib=vm_kib("VmHWM"),
        version=tool_version(tool),
    )
    if caught:
        res["note"] = "; ".join(caught[:4])
    if tool == "ours":
        res["build"] = ours_build()
    return res


def ours_build() -> str | None:
    """sha256 prefix of the installed compiled core, to tell builds apart across runs."""
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec("mixedmodels._core")
    if spec is None or not spec.origin:
        return None
    return hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------
# Orchestrator
# ---------------------------------------------------------------------------------------


def tool_version(tool: str) -> str | None:
    if tool in R_TOOLS:
        return None
    try:
        return importlib.metadata.version(PY_PACKAGES[tool])
    except importlib.metadata.PackageNotFoundError:
        return None


def tool_available(tool: str) -> str | None:
    """None when usable, else the reason it is not."""
    if tool in R_TOOLS:
        if shutil.which("Rscript") is None:
            return "Rscript not found"
        package = {"lme4": "lme4", "glmmtmb": "glmmTMB"}[tool]
        r = subprocess.run(
            ["Rscript", "-e", f"quit(status = !requireNamespace('{package}'))"],
            capture_output=True,
        )
        return None if r.returncode == 0 else f"R package {package} not installed"
    return None if tool_version(tool) else f"Python package {PY_PACKAGES[tool]} not installed"


def shorten(msg: str, n: int = 160) -> str:
    msg = " ".join(msg.split())
    return msg if len(msg) <= n else msg[: n - 1] + "…"


def run_child(cmd: list[str], timeout: float, mem_limit_kib: int) -> tuple:
    """Run cmd in its own session; return (status, stdout, stderr, ru_maxrss KiB, kill
    reason, cores used by other processes meanwhile). The rusage comes from wait4 on that
    one child, so it is this process's peak RSS alone. A watchdog kills it past the timeout
    or past mem_limit_kib of RSS."""
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, start_new_session=True, cwd=str(ROOT))
        t0 = time.monotonic()
        b0 = cpu_busy_seconds()
        killed = ""
        while True:
            try:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            except BaseException:  # interrupted: do not leave the child running
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                raise
            if pid == p.pid:
                break
            if not killed:
                if time.monotonic() - t0 > timeout:
                    killed = f"timeout after {timeout:.0f} s"
                else:
                    try:
                        with open(f"/proc/{p.pid}/status") as fh:
                            rss = next(
                                (int(line.split()[1]) for line in fh if line.startswith("VmRSS:")),
                                0,
                            )
                    except OSError:
                        rss = 0
                    if rss > mem_limit_kib:
                        killed = f"killed: RSS above the {mem_limit_kib / 2**20:.0f} GiB limit"
                if killed:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.pid, signal.SIGKILL)
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        others = (cpu_busy_seconds() - b0 - ru.ru_utime - ru.ru_stime) / wall
        fo.seek(0)
        fe.seek(0)
        return (
            p.returncode,
            fo.read().decode(errors="replace"),
            fe.read().decode(errors="replace"),
            ru.ru_maxrss,
            killed,
            max(others, 0.0),
        )


def cpu_busy_seconds() -> float:
    """Machine-wide busy CPU seconds since boot (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            vals = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait: float, threshold: float = 0.5) -> float:
    """Wait (at most max_wait s) until other processes use under `threshold` cores,
    sampled over 1 s. Returns the cores in use at the last sample."""
    t0 = time.monotonic()
    while True:
        b0 = cpu_busy_seconds()
        time.sleep(1.0)
        used = cpu_busy_seconds() - b0
        if used < threshold or time.monotonic() - t0 >= max_wait:
            return used
        time.sleep(4.0)


def error_row(tool: str, key: str, msg: str) -> dict:
    return {"tool": tool, "model": key, "error": shorten(msg)}


def na_row(tool: str, key: str, msg: str) -> dict:
    return {"tool": tool, "model": key, "not_applicable": msg}


def last_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return "failed without a message"
    for ln in reversed(lines):  # a Python traceback ends in "Type: message"
        if not ln.startswith(" ") and ":" in ln:
            return ln
    return lines[-1]


def run_cell(tool: str, model: Model, args) -> dict:
    budget = max(1.0, args.timeout * 0.5)
    limit = int(args.mem_limit * 2**20)
    if tool in R_TOOLS:
        csv, lev = r_inputs(model.data)
        cmd = [
            "Rscript",
            "--vanilla",
            str(R_TOOLS[tool]),
            f"csv={csv}",
            f"levels={lev}",
            f"formula={model.formula_for(tool)}",
            f"reml={'TRUE' if model.reml else 'FALSE'}",
            f"min_time={args.min_time}",
            f"max_reps={args.max_reps}",
            f"reps={args.repeats}",
            f"budget={budget}",
        ]
        if tool == "glmmtmb":
            cmd.append(f"family={model.family}")
            if model.link:
                cmd.append(f"link={model.link}")
        elif model.glmm:
            cmd += [
                f"family={'binomial' if model.family == 'bernoulli' else model.family}",
                f"nagq={0 if model.fast else model.nagq}",
            ]
            if model.link:
                cmd.append(f"link={model.link}")
            if model.weights_for(tool):
                cmd.append(f"weights={model.weights_for(tool)}")
    else:
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            tool,
            model.key,
            "--repeats",
            str(args.repeats),
            "--min-time",
            str(args.min_time),
            "--max-reps",
            str(args.max_reps),
            "--budget",
            str(budget),
        ]
    rc, out, err, maxrss, killed, others = run_child(cmd, args.timeout, limit)
    if killed:
        return error_row(tool, model.key, killed)
    if tool in R_TOOLS:
        res: dict = {"tool": tool, "model": model.key}
        for line in out.splitlines():
            if line.startswith("RESULT "):
                _, k, v = (line.rstrip() + " ").split(" ", 2)
                res[k] = v.strip()
        if rc != 0 or "objective" not in res:
            return error_row(tool, model.key, last_error_line(err))
        for k in ("seconds", "cpu_seconds", "objective"):
            res[k] = float(res[k])
        for k in (
            "runs",
            "evaluations",
            "hwm_import_kib",
            "hwm_data_kib",
            "hwm_peak_kib",
            "hwm_end_kib",
        ):
            res[k] = int(float(res[k]))
        res["times"] = [float(t) for t in res["times"].split(",")]
        res["version"] = res.pop("lme4_version", None) or res.pop("tool_version", None)
        res["extras"] = {"optimizer": res.pop("optimizer"), "theta": res.pop("theta")}
        for k in ("minus2loglik", "saturated_m2ll", "objective_nagq0"):  # GLMM only
            if k in res:
                res["extras"][k] = float(res.pop(k))
        for k in ("feval_stage1", "feval_stage2"):
            if k in res:
                res["extras"][k] = int(float(res.pop(k)))
    else:
        lines = [ln for ln in out.splitlines() if ln.startswith("WORKER_RESULT ")]
        if rc != 0 or not lines:
            return error_row(tool, model.key, last_error_line(err))
        res = json.loads(lines[-1].removeprefix("WORKER_RESULT "))
    res["ru_maxrss_kib"] = maxrss
    if tool == "lme4" and model.glmm:
        # The worker's untimed stage-1 recount runs after the fits and can raise the
        # process peak: report the peak read right after the fits.
        res["ru_maxrss_kib"] = min(maxrss, res["hwm_peak_kib"])
        res["ru_maxrss_total_kib"] = maxrss
    res["other_cores"] = round(others, 2)
    if model.dispersion and tool == "lme4" and "objective" in res:
        mark_other_objective(res)
    return res


def mark_other_objective(res: dict) -> None:
    """lme4's fit of a dispersion family is on another approximation (the Laplace
    approximation with the expected information; for Gamma and inverse Gaussian the
    dispersion from Pearson residuals, for glmer.nb k by an outer search): its -2 log L
    goes to the note and is left out of the Δobjective column. (glmm 0.6.2 maximises the
    same observed-information Laplace objective as ours and glmmTMB: compared as is.)"""
    obj = float(res.pop("objective"))
    res["other_objective"] = obj
    note = f"-2 log L {obj:.4f} (Laplace with the expected information)"
    res["note"] = note + (f"; {res['note']}" if res.get("note") else "")


def fmt_s(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def note_with_load(r: dict) -> str:
    note = shorten(r.get("note", ""), 100)
    others = r.get("other_cores", 0.0)
    if others >= 0.25:  # flag cells timed while the machine was busy with something else
        note = f"other processes used {others:.1f} cores meanwhile" + (f"; {note}" if note else "")
    return note


def build_table(rows: list[dict]) -> list[list[str]]:
    head = [
        "model",
        "tool",
        "time",
        "runs",
        "objective",
        "Δobjective",
        "evals",
        "time/eval",
        "CPU time",
        "peak MiB",
        "Δ MiB",
        "peer/ours",
        "note",
    ]
    table = [head]
    by_model: dict[str, list[dict]] = {}
    for r in rows:
        by_model.setdefault(r["model"], []).append(r)
    for key, rs in by_model.items():
        objs = [r["objective"] for r in rs if "objective" in r]
        best = min(objs) if objs else None
        ours = next((r for r in rs if r["tool"] == "ours" and "seconds" in r), None)
        for r in rs:
            if "error" in r or "not_applicable" in r:
                dash = "—" if "error" in r else "n/a"
                msg = r.get("error") or r["not_applicable"]
                table.append([key, r["tool"], dash, "", "", "", "", "", "", "", "", "", msg])
                continue
            ev = r.get("evaluations")
            peak = r.get("ru_maxrss_kib") or r.get("hwm_peak_kib")
            d_mib = (r["hwm_peak_kib"] - r["hwm_data_kib"]) / 1024
            other = "objective" not in r  # another approximation: see the note
            d_obj = 0.0 if other else r["objective"] - best
            table.append(
                [
                    key,
                    r["tool"],
                    fmt_s(r["seconds"]),
                    str(r["runs"]),
                    "(note)" if other else f"{r['objective']:.6f}",
                    "" if other else ("0" if d_obj == 0 else f"{d_obj:+.1e}"),
                    "" if ev is None else str(ev),
                    "" if not ev else fmt_s(r["seconds"] / ev),
                    fmt_s(r["cpu_seconds"]),
                    f"{peak / 1024:.0f}",
                    f"{d_mib:.0f}",
                    "1"
                    if r["tool"] == "ours"
                    else (f"{r['seconds'] / ours['seconds']:.2f}" if ours else ""),
                    note_with_load(r),
                ]
            )
    return table


def ours_breakdown(rows: list[dict]) -> list[list[str]]:
    """Our fastest fit split into model construction and optimizer (optsum seconds)."""
    table = [["model", "time", "construction", "optimizer", "evals", "optimizer/eval", "CPU/wall"]]
    for r in rows:
        sec = (r.get("extras") or {}).get("optimizer_seconds")
        if r["tool"] != "ours" or "seconds" not in r or sec is None:
            continue
        ev = r.get("evaluations") or 0
        table.append(
            [
                r["model"],
                fmt_s(r["seconds"]),
                fmt_s(max(r["seconds"] - sec, 0.0)),
                fmt_s(sec),
                str(ev),
                fmt_s(sec / ev) if ev else "",
                f"{r['cpu_seconds'] / r['seconds']:.2f}",
            ]
        )
    return table


def markdown(table: list[list[str]], left: int = 2) -> str:
    """Columns after the first `left` are right-aligned, except a last "note" column."""

    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    ncol = len(table[0])
    right = {i for i in range(left, ncol) if not (i == ncol - 1 and table[0][i] == "note")}
    lines = [
        "| " + " | ".join(table[0]) + " |",
        "|" + "|".join("---:" if i in right else "---" for i in range(len(table[0]))) + "|",
    ]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in table[1:]]
    return "\n".join(lines)


def plain(table: list[list[str]]) -> str:
    w = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    out = []
    for row in table:
        cells = [c.ljust(w[i]) if i < 2 else c.rjust(w[i]) for i, c in enumerate(row[:-1])]
        out.append("  ".join(cells) + ("  " + row[-1] if row[-1] else ""))
    return "\n".join(out)


def machine_info(tools: list[str]) -> dict:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    mem = ""
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        kib = next((int(ln.split()[1]) for ln in fh if ln.startswith("MemTotal:")), 0)
        mem = f"{kib / 2**20:.1f} GiB"
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    for t in tools:
        if t not in R_TOOLS:
            info[PY_PACKAGES[t]] = tool_version(t)
    if "glmmtmb" in tools and shutil.which("Rscript"):
        r = subprocess.run(
            ["Rscript", "-e", "cat(as.character(packageVersion('glmmTMB')))"],
            capture_output=True,
            text=True,
        )
        info["glmmTMB"] = r.stdout.strip() or None
    if "ours" in tools:
        info["mixedmodels_build"] = ours_build()
    for pkg in ("numpy", "polars", "pandas", "scipy"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            info[pkg] = importlib.metadata.version(pkg)
    if "lme4" in tools and shutil.which("Rscript"):
        r = subprocess.run(
            [
                "Rscript",
                "-e",
                "cat(R.version.string, '|', as.character(packageVersion('lme4')),"
                " '|', as.character(packageVersion('Matrix')), '|',"
                " tryCatch(as.character(packageVersion('nloptr')), error = function(e) ''),"
                " '|', La_library())",
            ],
            capture_output=True,
            text=True,
        )
        parts = [p.strip() for p in r.stdout.split("|")]
        if len(parts) == 5:
            info.update(
                R=parts[0], lme4=parts[1], Matrix=parts[2], nloptr=parts[3], R_lapack=parts[4]
            )
    return info


def model_info(m: Model) -> dict:
    info: dict = {"data": m.data, "formula": m.formula, "reml": m.reml, "statsmodels": m.sm}
    if m.glmm:
        info = {"data": m.data, "formula": m.formula, "family": m.family, "nagq": m.nagq}
        info.update(fast=m.fast, weights=m.weights, formulas=m.formulas, derived=m.derived)
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", help="comma-separated: " + ",".join(m.key for m in MODELS))
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated: " + ",".join(TOOLS))
    ap.add_argument(
        "--quick", action="store_true", help="skip the large synthetic models (1M, 500k rows)"
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=0,
        help="fits per (tool, model); 0 (default) = adaptive: repeat until at "
        "least --min-time s in total (at least 3 fits while the fastest takes "
        "under 5 s, 2 under 30 s, else 1), at most --max-reps",
    )
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--max-reps", type=int, default=200)
    ap.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per (tool, model) process"
    )
    ap.add_argument(
        "--mem-limit",
        type=float,
        default=12.0,
        help="GiB of RSS after which a (tool, model) process is killed",
    )
    ap.add_argument(
        "--wait-idle",
        type=float,
        default=120.0,
        help="before each (tool, model), wait up to this many seconds until "
        "other processes use under half a core (0: do not wait)",
    )
    ap.add_argument(
        "--out",
        default=str(RESULTS / "latest"),
        help="output path without extension (.md and .json are written)",
    )
    ap.add_argument(
        "--merge",
        action="store_true",
        help="merge into the existing OUT.json: rows of the (tool, model) cells "
        "run now replace the old ones, the others are kept",
    )
    ap.add_argument(
        "--rerun-flagged",
        action="store_true",
        help="rerun (and --merge) only the cells of OUT.json that were flagged "
        "as timed on a busy machine, within --models/--tools",
    )
    ap.add_argument("--worker", nargs=2, metavar=("TOOL", "MODEL"), help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=float, default=300.0, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        tool, key = args.worker
        res = run_worker(tool, key, args.repeats, args.min_time, args.max_reps, args.budget)
        print("WORKER_RESULT " + json.dumps(res), flush=True)
        return 0

    models = (
        [MODEL_BY_KEY[k.strip()] for k in args.models.split(",")] if args.models else list(MODELS)
    )
    if args.quick:
        models = [m for m in models if not m.large]
    tools = [t.strip() for t in args.tools.split(",")]
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}; choose from {','.join(TOOLS)}")
    WORK.mkdir(parents=True, exist_ok=True)
    for data in dict.fromkeys(m.data for m in models if m.data in SYNTHETIC):
        print(f"generating / checking the {data} data set ...", file=sys.stderr, flush=True)
        SYNTHETIC[data]()

    out = Path(args.out)
    old: dict = {}
    if args.merge or args.rerun_flagged:
        with contextlib.suppress(OSError, ValueError):
            old = json.loads(out.with_suffix(".json").read_text())
    cells = [(m, t) for m in models for t in tools]
    if args.rerun_flagged:
        flagged = {
            (r["model"], r["tool"])
            for r in old.get("results", [])
            if r.get("other_cores", 0.0) >= 0.25
        }
        cells = [(m, t) for m, t in cells if (m.key, t) in flagged]
        print(f"{len(cells)} flagged cells to rerun", file=sys.stderr)

    missing = {t: tool_available(t) for t in tools}
    info = machine_info([t for t in tools if not missing[t]])
    started = _dt.datetime.now().isoformat(timespec="seconds")
    rows: list[dict] = []
    for model, tool in cells:
        na = not_applicable(tool, model)
        if na:
            rows.append(na_row(tool, model.key, na))
            continue
        if missing[tool]:
            rows.append(error_row(tool, model.key, missing[tool]))
            continue
        if args.wait_idle > 0:
            wait_idle(args.wait_idle)
        print(
            f"[{time.strftime('%H:%M:%S')}] {model.key} / {tool} ...",
            file=sys.stderr,
            end=" ",
            flush=True,
        )
        t0 = time.monotonic()
        res = run_cell(tool, model, args)
        rows.append(res)
        out.parent.mkdir(parents=True, exist_ok=True)  # progress, in case the run dies
        Path(str(out) + ".partial.json").write_text(json.dumps(rows, indent=1) + "\n")
        print(
            f"{time.monotonic() - t0:.1f} s wall; "
            + (
                res["error"]
                if "error" in res
                else f"best {fmt_s(res['seconds'])} x{res['runs']}, "
                f"objective {res.get('objective', res.get('other_objective')):.6f}"
            ),
            file=sys.stderr,
            flush=True,
        )

    if old:
        fresh = {(r["model"], r["tool"]) for r in rows}
        kept = [r for r in old.get("results", []) if (r["model"], r["tool"]) not in fresh]
        mkey = {m.key: i for i, m in enumerate(MODELS)}
        tkey = {t: i for i, t in enumerate(TOOLS)}
        rows = sorted(
            kept + rows, key=lambda r: (mkey.get(r["model"], 99), tkey.get(r["tool"], 99))
        )
        models = [m for m in MODELS if any(r["model"] == m.key for r in rows)]
        started = f"{old.get('started', '?')}, merged {started}"
    table = build_table(rows)
    print(plain(table))
    breakdown = ours_breakdown(rows)
    if len(breakdown) > 1:
        print("\nours, fastest fit split:\n" + plain(breakdown))
    out.parent.mkdir(parents=True, exist_ok=True)
    cmdline = "python benches/compare.py " + " ".join(sys.argv[1:])
    if old:
        cmdline = f"{old.get('command', '?')}; then {cmdline}"
    md = [
        f"# Benchmark results ({started})",
        "",
        f"Command: `{cmdline.strip()}`",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items() if v),
        "",
        markdown(table),
        "",
        "time: best of `runs` fits (construction + fit, data already loaded); "
        "CPU time: process CPU time of that fit (all threads); "
        "peak MiB: peak RSS of the fresh process that loaded the data and ran all "
        "`runs` fits; Δ MiB: that peak minus the peak after importing the package and "
        "loading the data; peer/ours: this row's time / ours. See benches/README.md.",
        "",
    ]
    breakdown = ours_breakdown(rows)
    if len(breakdown) > 1:
        md += [
            "## Where our time goes",
            "",
            "construction = time − optimizer, where optimizer is `optsum['seconds']` of "
            "the same (fastest) fit.",
            "",
            markdown(breakdown, left=1),
            "",
        ]
    out.with_suffix(".md").write_text("\n".join(md))
    payload = {
        "started": started,
        "command": cmdline.strip(),
        "machine": info,
        "models": {m.key: model_info(m) for m in models},
        "results": rows,
    }
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1) + "\n")
    with contextlib.suppress(OSError):
        Path(str(out) + ".partial.json").unlink()
    print(f"\nwritten: {out.with_suffix('.md')} and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
