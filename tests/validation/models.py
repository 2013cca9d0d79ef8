"""Every model of the validation grid: the single source of truth.

Each model is a dict (written to ``spec.json`` by ``python tests/validation/models.py``)::

    id          unique name, e.g. "sleepstudy_slope_ML"
    data        frame key (frames.py): a bundled data set, a derived frame, or sim_<design>
    formula     the formula in lme4 syntax (our formula is the same string)
    kind        "lmm" or "glmm"
    reml        LMM only: REML criterion instead of −2 log L
    family      GLMM only: "bernoulli", "binomial" or "poisson" (R: binomial / poisson)
    link        GLMM only: "logit", "probit", "cloglog", "log", "sqrt" or "identity"
    nagq        GLMM only: 0 (lme4's nAGQ = 0, our fast=True), 1 (Laplace) or > 1
    weights     a column of prior weights, or null
    offset      a column passed as the offset keyword, or null (offset(...) terms stay in
                the formula)
    check_nobs  "default" (lme4's and our checks) or "ignore" (both switched off: terms
                with as many random effects as observations)
    tags        the categories the model covers (used to pick the CI subset)
    ci          true for the fixed fast subset run by tests/python/test_validation_grid.py

Variants of one formula share a stem: ``<stem>_ML`` / ``<stem>_REML`` for LMMs,
``<stem>_fast`` / ``<stem>_lap`` / ``<stem>_agq<k>`` for GLMMs.
"""

from __future__ import annotations

import json
import pathlib
import sys

SPEC = pathlib.Path(__file__).resolve().parent / "spec.json"

#: the fixed CI subset (tests/python/test_validation_grid.py): every tag covered, only
#: models whose status is pass, better or explained today, each fitted in well under a second
CI_IDS: frozenset[str] = frozenset(
    """
    sleepstudy_slope_ML sleepstudy_slope_REML sleepstudy_zc_REML sleepstudy_w_ML
    sleepstudy_off_ML sleepstudy_offkw_REML sleepstudy_dgrp_split_REML dyestuff2_REML
    penicillin_ML pastes_nest_REML machines_cat_ML oxboys_quad_ML cake_cat_REML kb07_int_ML
    kb07_slope_ML hsb82_slope_REML exam_3col_ML insteval_ML
    cbpp_fast cbpp_lap cbpp_agq25 cbpp_prop_lap cbpp_probit_agq7 cbpp_catslope_lap
    contra_agq9 contra_fast contra_urban_lap grouseticks_3_lap mmmec_agq9 mmmec_kw_lap
    arabidopsis_lap kb07_resp_lap hsb82_high_agq5 verbagg_fast
    sim_bint1_int_ML sim_bint1_yb_agq5 sim_bslope1_slope_REML sim_ncorr1_slope_ML
    sim_nrank1_3col_ML sim_scaled2_small_ML sim_small1_slope_ML sim_small1_yb_fast
    sim_unbal1_slope1_REML sim_vec1_6col_ML sim_vec1_yc_lap sim_vsing1_5col_ML
    sim_cvec1_full_ML sim_nest1_3lev_ML sim_w1_slope_REML sim_binom1_int_agq9
    sim_binom1_prop_lap sim_binom1_cloglog_lap sim_pois1_offkw_agq5 sim_pois1_identity_lap
    sim_cat1_full_REML sim_cat1_split_ML sim_tiny1_int_ML
    """.split()
)

_MODELS: list[dict] = []


def _add(stem: str, data: str, formula: str, tags: list[str], **kw) -> None:
    model = {
        "id": stem,
        "data": data,
        "formula": formula,
        "kind": kw.pop("kind"),
        "reml": kw.pop("reml", False),
        "family": kw.pop("family", None),
        "link": kw.pop("link", None),
        "nagq": kw.pop("nagq", None),
        "weights": kw.pop("weights", None),
        "offset": kw.pop("offset", None),
        "check_nobs": kw.pop("check_nobs", "default"),
        "tags": sorted(set(tags)),
    }
    if kw:
        raise TypeError(f"{stem}: unknown fields {sorted(kw)}")
    _MODELS.append(model)


def lmm(stem: str, data: str, formula: str, tags: list[str], fits: str = "ML REML", **kw) -> None:
    """Add a linear mixed model for each criterion in ``fits`` ("ML", "REML")."""
    for crit in fits.split():
        extra = ["reml"] if crit == "REML" else []
        _add(
            f"{stem}_{crit}",
            data,
            formula,
            ["lmm", *tags, *extra],
            kind="lmm",
            reml=crit == "REML",
            **kw,
        )


def glmm(
    stem: str,
    data: str,
    formula: str,
    family: str,
    tags: list[str],
    nagq: tuple[int, ...] = (1,),
    link: str | None = None,
    **kw,
) -> None:
    """Add a generalized linear mixed model for each number of quadrature points in
    ``nagq`` (0: lme4's nAGQ = 0 / our ``fast=True``)."""
    canonical = {"bernoulli": "logit", "binomial": "logit", "poisson": "log"}[family]
    link = link or canonical
    for k in nagq:
        suffix = "fast" if k == 0 else "lap" if k == 1 else f"agq{k}"
        extra = ["fast"] if k == 0 else ["agq"] if k > 1 else []
        if link != canonical:
            extra.append("link")
        _add(
            f"{stem}_{suffix}",
            data,
            formula,
            ["glmm", family, *tags, *extra],
            kind="glmm",
            family=family,
            link=link,
            nagq=k,
            **kw,
        )


# ===================================================================== real data, LMM
S = "sleepstudy"
lmm("sleepstudy_int", S, "Reaction ~ 1 + Days + (1 | Subject)", ["real", "scalar"])
lmm("sleepstudy_slope", S, "Reaction ~ 1 + Days + (1 + Days | Subject)", ["real", "vector"])
lmm("sleepstudy_zc", S, "Reaction ~ 1 + Days + (1 + Days || Subject)", ["real", "zerocorr"])
lmm(
    "sleepstudy_split",
    S,
    "Reaction ~ 1 + Days + (1 | Subject) + (0 + Days | Subject)",
    ["real", "zerocorr"],
    fits="ML",
)
lmm("sleepstudy_noint", S, "Reaction ~ 1 + Days + (0 + Days | Subject)", ["real", "scalar"])
lmm(
    "sleepstudy_quad",
    S,
    "Reaction ~ 1 + Days + I(Days^2) + (1 + Days + I(Days^2) | Subject)",
    ["real", "vector"],
)
lmm(
    "sleepstudy_w",
    S,
    "Reaction ~ 1 + Days + (1 + Days | Subject)",
    ["real", "vector", "weights"],
    weights="w",
)
lmm(
    "sleepstudy_w_int",
    S,
    "Reaction ~ 1 + Days + (1 | Subject)",
    ["real", "scalar", "weights"],
    weights="w",
)
lmm(
    "sleepstudy_off",
    S,
    "Reaction ~ 1 + Days + offset(o) + (1 + Days | Subject)",
    ["real", "vector", "offset"],
)
lmm(
    "sleepstudy_offkw",
    S,
    "Reaction ~ 1 + Days + (1 | Subject)",
    ["real", "scalar", "offset"],
    offset="o",
)
lmm("sleepstudy_dgrp", S, "Reaction ~ 1 + dgrp + (1 + dgrp | Subject)", ["real", "catslope"])
lmm(
    "sleepstudy_dgrp_split",
    S,
    "Reaction ~ 1 + Days + (1 | Subject) + (0 + dgrp | Subject)",
    ["real", "catslope", "zerocorr"],
)
lmm(
    "sleepstudy_crossed", S, "Reaction ~ 1 + Days + (1 | Subject) + (1 | dayf)", ["real", "crossed"]
)
lmm(
    "sleepstudy_dayf_full",
    S,
    "Reaction ~ 1 + Days + (1 + dayf | Subject)",
    ["real", "catslope", "vector4", "hard"],
    fits="ML",
    check_nobs="ignore",
)
lmm(
    "sleepstudy_dayf_split",
    S,
    "Reaction ~ 1 + Days + (1 | Subject) + (0 + dayf | Subject)",
    ["real", "catslope", "vector4", "hard"],
    fits="ML",
    check_nobs="ignore",
)

lmm("dyestuff", "dyestuff", "Yield ~ 1 + (1 | Batch)", ["real", "scalar"])
lmm("dyestuff2", "dyestuff2", "Yield ~ 1 + (1 | Batch)", ["real", "scalar", "boundary"])
lmm("penicillin", "penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", ["real", "crossed"])
lmm("penicillin_plate", "penicillin", "diameter ~ 1 + (1 | plate)", ["real", "scalar"], fits="ML")
lmm("pastes_nest", "pastes", "strength ~ 1 + (1 | batch/cask)", ["real", "nested"])
lmm("pastes_sample", "pastes", "strength ~ 1 + (1 | batch) + (1 | sample)", ["real", "nested"])
lmm("pastes_cask", "pastes", "strength ~ 1 + (1 | sample)", ["real", "scalar"], fits="ML")
lmm("cake_int", "cake", "angle ~ 1 + recipe * temp + (1 | recipe:replicate)", ["real", "nested"])
lmm(
    "cake_cat",
    "cake",
    "angle ~ 1 + recipe + temperature + (1 | replicate) + (1 | recipe:replicate)",
    ["real", "nested"],
)
lmm("cake_slope", "cake", "angle ~ 1 + temp + (1 + temp | replicate)", ["real", "vector"])
lmm(
    "cake_rep",
    "cake",
    "angle ~ 1 + recipe * temperature + (1 | replicate)",
    ["real", "scalar"],
    fits="ML",
)
lmm(
    "machines_nest",
    "machines",
    "score ~ 1 + Machine + (1 | Worker) + (1 | Worker:Machine)",
    ["real", "nested"],
)
lmm(
    "machines_cat",
    "machines",
    "score ~ 1 + Machine + (1 + Machine | Worker)",
    ["real", "catslope", "vector"],
)
lmm(
    "machines_cat0",
    "machines",
    "score ~ 1 + Machine + (0 + Machine | Worker)",
    ["real", "catslope", "vector"],
    fits="ML",
)
lmm("machines_int", "machines", "score ~ 1 + Machine + (1 | Worker)", ["real", "scalar"], fits="ML")
lmm("oxboys_int", "oxboys", "height ~ 1 + age + (1 | Subject)", ["real", "scalar"])
lmm("oxboys_slope", "oxboys", "height ~ 1 + age + (1 + age | Subject)", ["real", "vector"])
lmm(
    "oxboys_quad",
    "oxboys",
    "height ~ 1 + age + I(age^2) + (1 + age + I(age^2) | Subject)",
    ["real", "vector"],
)
lmm(
    "oxboys_quad_zc",
    "oxboys",
    "height ~ 1 + age + I(age^2) + (1 + age + I(age^2) || Subject)",
    ["real", "zerocorr"],
    fits="ML",
)
lmm(
    "oxboys_occ",
    "oxboys",
    "height ~ 1 + age + (1 | Subject) + (1 | Occasion)",
    ["real", "crossed"],
    fits="ML",
)
lmm("oxide_nest", "oxide", "Thickness ~ 1 + Source + (1 | Lot/Wafer)", ["real", "nested"])
lmm(
    "oxide_site",
    "oxide",
    "Thickness ~ 1 + Source + Site + (1 | Lot/Wafer)",
    ["real", "nested"],
    fits="ML",
)
lmm(
    "elstongrizzle_slope",
    "elstongrizzle",
    "resp ~ 1 + time + (1 + time | Subj)",
    ["real", "vector"],
)
lmm(
    "elstongrizzle_int",
    "elstongrizzle",
    "resp ~ 1 + time + (1 | Subj)",
    ["real", "scalar"],
    fits="ML",
)
lmm(
    "elstongrizzle_quad",
    "elstongrizzle",
    "resp ~ 1 + time + I(time^2) + (1 + time + I(time^2) | Subj)",
    ["real", "vector"],
    fits="ML",
)
lmm("early_slope", "early", "cog ~ 1 + age + trt + (1 + age | id)", ["real", "vector"])
lmm("early_int", "early", "cog ~ 1 + age * trt + (1 | id)", ["real", "scalar"])
lmm("gcsemv_int", "gcsemv", "written ~ 1 + gender + (1 | school)", ["real", "scalar"])
lmm("gcsemv_cat", "gcsemv", "course ~ 1 + gender + (1 + gender | school)", ["real", "catslope"])
lmm("gcsemv_course", "gcsemv", "course ~ 1 + gender + (1 | school)", ["real", "scalar"], fits="ML")
lmm(
    "scotssec_crossed",
    "scotssec",
    "attain ~ 1 + verbal + sex + social + (1 | primary) + (1 | second)",
    ["real", "crossed"],
)
lmm("scotssec_slope", "scotssec", "attain ~ 1 + verbal + (1 + verbal | second)", ["real", "vector"])
lmm(
    "scotssec_prim",
    "scotssec",
    "attain ~ 1 + verbal + (1 + verbal | primary)",
    ["real", "vector"],
    fits="ML",
)
lmm("hsb82_slope", "hsb82", "mAch ~ 1 + ses + sector + (1 + ses | school)", ["real", "vector"])
lmm(
    "hsb82_cses",
    "hsb82",
    "mAch ~ 1 + cses * sector + meanses + (1 + cses | school)",
    ["real", "vector"],
)
lmm("hsb82_int", "hsb82", "mAch ~ 1 + ses + (1 | school)", ["real", "scalar"], fits="ML")
lmm(
    "hsb82_cat",
    "hsb82",
    "mAch ~ 1 + minrty + (1 + minrty | school)",
    ["real", "catslope"],
    fits="ML",
)
lmm("hsb82_zc", "hsb82", "mAch ~ 1 + cses + (1 + cses || school)", ["real", "zerocorr"], fits="ML")
lmm("exam_slope", "exam", "normexam ~ 1 + standLRT + (1 + standLRT | school)", ["real", "vector"])
lmm(
    "exam_cat", "exam", "normexam ~ 1 + standLRT + sex + schgend + (1 | school)", ["real", "scalar"]
)
lmm(
    "exam_sexslope",
    "exam",
    "normexam ~ 1 + standLRT + sex + (1 + sex | school)",
    ["real", "catslope"],
    fits="ML",
)
lmm(
    "exam_vr",
    "exam",
    "normexam ~ 1 + standLRT + vr + (1 + standLRT | school)",
    ["real", "vector"],
    fits="ML",
)
lmm(
    "exam_3col",
    "exam",
    "normexam ~ 1 + standLRT + sex + (1 + standLRT + sex | school)",
    ["real", "vector", "catslope"],
    fits="ML",
)
E = "egsingle_s"
lmm("egsingle_int", E, "math ~ 1 + year + (1 | schoolid) + (1 | childid)", ["real", "nested"])
lmm(
    "egsingle_slope",
    E,
    "math ~ 1 + year + (1 + year | schoolid) + (1 | childid)",
    ["real", "nested", "vector"],
)
lmm(
    "egsingle_full",
    E,
    "math ~ 1 + year + (1 + year | schoolid) + (1 + year | childid)",
    ["real", "nested", "vector"],
    fits="ML",
)
K = "kb07"
lmm("kb07_int", K, "rtlog ~ 1 + S + P + C + (1 | SubjID) + (1 | ItemID)", ["real", "crossed"])
lmm(
    "kb07_slope",
    K,
    "rtlog ~ 1 + S + P + C + (1 + S | SubjID) + (1 + P | ItemID)",
    ["real", "crossed", "vector"],
)
lmm(
    "kb07_zc4",
    K,
    "rtlog ~ 1 + S + P + C + (1 + S + P + C || SubjID) + (1 + S + P + C || ItemID)",
    ["real", "crossed", "zerocorr"],
    fits="ML",
)
lmm(
    "kb07_max",
    K,
    "RTtrunc ~ 1 + S * P * C + (1 + S + P + C | SubjID) + (1 + S + P + C | ItemID)",
    ["real", "crossed", "vector4", "hard"],
    fits="ML",
)
lmm(
    "kb07_max_log",
    K,
    "rtlog ~ 1 + S * P * C + (1 + S + P + C | SubjID) + (1 + S + P + C | ItemID)",
    ["real", "crossed", "vector4", "hard"],
    fits="ML",
)
lmm(
    "chem97_int",
    "chem97s",
    "score ~ 1 + gcsecnt + gender + (1 | school) + (1 | lea)",
    ["real", "nested"],
)
lmm(
    "chem97_slope",
    "chem97s",
    "score ~ 1 + gcsecnt + (1 + gcsecnt | lea) + (1 | school)",
    ["real", "nested", "vector"],
    fits="ML",
)
lmm(
    "insteval",
    "insteval_s",
    "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)",
    ["real", "crossed"],
    fits="ML",
)
lmm(
    "insteval_serv",
    "insteval_s",
    "y ~ 1 + service + (1 | s) + (1 + service | dept)",
    ["real", "crossed", "catslope"],
    fits="ML",
)
lmm(
    "bdf_slope",
    "bdf",
    "langPOST ~ 1 + IQ.verb + ses + (1 + IQ.verb | schoolNR)",
    ["real", "vector"],
)
lmm(
    "bdf_int", "bdf", "langPOST ~ 1 + IQ.verb + ses + (1 | schoolNR)", ["real", "scalar"], fits="ML"
)
lmm("box_slope", "box", "resp ~ 1 + time * Group + (1 + time | Subj)", ["real", "vector"])

# ===================================================================== real data, GLMM
CB = "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"
glmm("cbpp", "cbpp", CB, "binomial", ["real", "scalar"], nagq=(0, 1, 5, 25))
glmm(
    "cbpp_prop",
    "cbpp",
    "prop ~ 1 + period + (1 | herd)",
    "binomial",
    ["real", "scalar", "weights"],
    nagq=(1, 9),
    weights="size",
)
glmm("cbpp_probit", "cbpp", CB, "binomial", ["real", "scalar"], nagq=(1, 7), link="probit")
glmm("cbpp_cloglog", "cbpp", CB, "binomial", ["real", "scalar"], link="cloglog")
glmm(
    "cbpp_obs",
    "cbpp",
    "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd) + (1 | obs)",
    "binomial",
    ["real", "crossed"],
    nagq=(0, 1),
    check_nobs="ignore",
)
glmm(
    "cbpp_catslope",
    "cbpp",
    "cbind(incidence, size - incidence) ~ 1 + period + (1 + period | herd)",
    "binomial",
    ["real", "catslope", "vector4", "hard"],
    check_nobs="ignore",  # 60 random effects for 56 observations
)
CO = "use ~ 1 + age + I(age^2) + livch + urban + (1 | district)"
glmm("contra", "contraception", CO, "bernoulli", ["real", "scalar"], nagq=(0, 1, 3, 9))
glmm(
    "contra_urban",
    "contraception",
    "use ~ 1 + age + I(age^2) + livch + urban + (1 + urban | district)",
    "bernoulli",
    ["real", "catslope", "vector"],
    nagq=(0, 1),
)
glmm("contra_probit", "contraception", CO, "bernoulli", ["real", "scalar"], link="probit")
glmm("contra_cloglog", "contraception", CO, "bernoulli", ["real", "scalar"], link="cloglog")
glmm(
    "verbagg",
    "verbagg",
    "r2 ~ 1 + Anger + Gender + btype + situ + (1 | id) + (1 | item)",
    "bernoulli",
    ["real", "crossed"],
    nagq=(0, 1),
)
GT = "TICKS ~ 1 + YEAR + cHEIGHT"
glmm(
    "grouseticks_3",
    "grouseticks",
    GT + " + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
    "poisson",
    ["real", "nested"],
    nagq=(0, 1),
)
glmm(
    "grouseticks_brood",
    "grouseticks",
    GT + " + (1 | BROOD)",
    "poisson",
    ["real", "scalar"],
    nagq=(0, 1, 5, 11),
)
glmm(
    "grouseticks_nest", "grouseticks", GT + " + (1 | LOCATION/BROOD)", "poisson", ["real", "nested"]
)
glmm(
    "grouseticks_sqrt",
    "grouseticks",
    GT + " + (1 | BROOD)",
    "poisson",
    ["real", "scalar"],
    link="sqrt",
)
MM = "deaths ~ 1 + uvb + (1 | region) + offset(log(expected))"
glmm("mmmec", "mmmec", MM, "poisson", ["real", "scalar", "offset"], nagq=(0, 1, 9))
glmm(
    "mmmec_kw",
    "mmmec",
    "deaths ~ 1 + uvb + (1 | region)",
    "poisson",
    ["real", "scalar", "offset"],
    offset="logexp",
)
glmm(
    "mmmec_nation",
    "mmmec",
    "deaths ~ 1 + uvb + (1 | nation) + (1 | region) + offset(log(expected))",
    "poisson",
    ["real", "nested", "offset"],
)
AR = "fruits ~ 1 + nutrientf + amd + rackf + status + (1 | popu) + (1 | genf)"
glmm("arabidopsis", "arabidopsis", AR, "poisson", ["real", "crossed", "hard"], nagq=(0, 1))
glmm(
    "kb07_resp",
    "kb07",
    "resp ~ 1 + S + P + C + (1 | SubjID) + (1 | ItemID)",
    "bernoulli",
    ["real", "crossed"],
    nagq=(0, 1),
)
HB = "high ~ 1 + ses + sector + (1 | school)"
glmm("hsb82_high", "hsb82", HB, "bernoulli", ["real", "scalar"], nagq=(0, 1, 5))
glmm("hsb82_high_probit", "hsb82", HB, "bernoulli", ["real", "scalar"], link="probit")
glmm("hsb82_high_cloglog", "hsb82", HB, "bernoulli", ["real", "scalar"], link="cloglog")
glmm(
    "hsb82_high_slope",
    "hsb82",
    "high ~ 1 + ses + (1 + ses | school)",
    "bernoulli",
    ["real", "vector"],
)
glmm(
    "gcsemv_pass",
    "gcsemv",
    "pass ~ 1 + gender + (1 | school)",
    "bernoulli",
    ["real", "scalar"],
    nagq=(1, 7),
)
glmm(
    "guimmun",
    "guimmun",
    "immun ~ 1 + kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
    " + (1 | mom) + (1 | comm)",
    "bernoulli",
    ["real", "nested", "hard"],
    nagq=(0, 1),
)

# ===================================================================== simulated designs
for s in (1, 2, 3):
    d = f"sim_boundary_int_s{s}"
    st = f"sim_bint{s}"
    lmm(f"{st}_int", d, "y ~ 1 + x + (1 | g)", ["sim", "boundary", "scalar"])
    lmm(f"{st}_slope", d, "y ~ 1 + x + (1 + x | g)", ["sim", "boundary", "vector"])
    lmm(f"{st}_zc", d, "y ~ 1 + x + (1 + x || g)", ["sim", "boundary", "zerocorr"], fits="ML")
    glmm(
        f"{st}_yb",
        d,
        "yb ~ 1 + x + (1 | g)",
        "bernoulli",
        ["sim", "boundary", "scalar"],
        nagq=(0, 1, 5),
    )
    glmm(
        f"{st}_yc", d, "yc ~ 1 + x + (1 | g)", "poisson", ["sim", "boundary", "scalar"], nagq=(0, 1)
    )

for s in (1, 2):
    d = f"sim_boundary_slope_s{s}"
    st = f"sim_bslope{s}"
    lmm(f"{st}_slope", d, "y ~ 1 + x + (1 + x | g)", ["sim", "boundary", "vector"])
    lmm(f"{st}_zc", d, "y ~ 1 + x + (1 + x || g)", ["sim", "boundary", "zerocorr"])
    glmm(f"{st}_yb", d, "yb ~ 1 + x + (1 + x | g)", "bernoulli", ["sim", "boundary", "vector"])
    glmm(f"{st}_yc", d, "yc ~ 1 + x + (1 + x | g)", "poisson", ["sim", "boundary", "vector"])

    d = f"sim_nearsing_corr_s{s}"
    st = f"sim_ncorr{s}"
    lmm(f"{st}_slope", d, "y ~ 1 + x + (1 + x | g)", ["sim", "nearsing", "vector"])
    lmm(f"{st}_zc", d, "y ~ 1 + x + (1 + x || g)", ["sim", "nearsing", "zerocorr"], fits="ML")
    glmm(f"{st}_yb", d, "yb ~ 1 + x + (1 + x | g)", "bernoulli", ["sim", "nearsing", "vector"])
    glmm(
        f"{st}_yc",
        d,
        "yc ~ 1 + x + (1 + x | g)",
        "poisson",
        ["sim", "nearsing", "vector"],
        nagq=(0, 1),
    )

    d = f"sim_nearsing_rank_s{s}"
    st = f"sim_nrank{s}"
    lmm(f"{st}_3col", d, "y ~ 1 + x1 + x2 + (1 + x1 + x2 | g)", ["sim", "nearsing", "vector"])
    lmm(
        f"{st}_zc",
        d,
        "y ~ 1 + x1 + x2 + (1 + x1 + x2 || g)",
        ["sim", "nearsing", "zerocorr"],
        fits="ML",
    )
    lmm(f"{st}_2col", d, "y ~ 1 + x1 + x2 + (1 + x1 | g)", ["sim", "nearsing", "vector"], fits="ML")

    d = f"sim_scaled_s{s}"
    st = f"sim_scaled{s}"
    lmm(f"{st}_big", d, "y ~ 1 + xbig + xsmall + (1 + xbig | g)", ["sim", "scaled", "vector"])
    lmm(
        f"{st}_small",
        d,
        "y ~ 1 + xbig + xsmall + (1 + xsmall | g)",
        ["sim", "scaled", "vector"],
        fits="ML",
    )
    lmm(f"{st}_int", d, "y ~ 1 + xbig + xsmall + (1 | g)", ["sim", "scaled", "scalar"], fits="ML")
    glmm(f"{st}_yc", d, "yc ~ 1 + xbig + xsmall + (1 | g)", "poisson", ["sim", "scaled", "scalar"])
    glmm(f"{st}_yb", d, "yb ~ 1 + xbig + (1 + xbig | g)", "bernoulli", ["sim", "scaled", "vector"])

    d = f"sim_manysmall_s{s}"
    st = f"sim_small{s}"
    lmm(f"{st}_int", d, "y ~ 1 + x + (1 | g)", ["sim", "manysmall", "scalar"])
    lmm(
        f"{st}_slope",
        d,
        "y ~ 1 + x + (1 + x | g)",
        ["sim", "manysmall", "vector"],
        check_nobs="ignore",
    )
    glmm(
        f"{st}_yb",
        d,
        "yb ~ 1 + x + (1 | g)",
        "bernoulli",
        ["sim", "manysmall", "scalar"],
        nagq=(0, 1, 5),
    )
    glmm(f"{st}_yc", d, "yc ~ 1 + x + (1 | g)", "poisson", ["sim", "manysmall", "scalar"])
    glmm(
        f"{st}_yc_slope",
        d,
        "yc ~ 1 + x + (1 + x | g)",
        "poisson",
        ["sim", "manysmall", "vector"],
        check_nobs="ignore",
    )

    d = f"sim_crossed_unbal_s{s}"
    st = f"sim_unbal{s}"
    lmm(f"{st}_int", d, "y ~ 1 + x + (1 | g1) + (1 | g2)", ["sim", "unbalanced", "crossed"])
    lmm(
        f"{st}_slope1",
        d,
        "y ~ 1 + x + (1 + x | g1) + (1 | g2)",
        ["sim", "unbalanced", "crossed", "vector"],
    )
    lmm(
        f"{st}_slope2",
        d,
        "y ~ 1 + x + (1 | g1) + (1 + x | g2)",
        ["sim", "unbalanced", "crossed", "vector"],
        fits="ML",
    )
    glmm(
        f"{st}_yb",
        d,
        "yb ~ 1 + x + (1 | g1) + (1 | g2)",
        "bernoulli",
        ["sim", "unbalanced", "crossed"],
        nagq=(0, 1),
    )
    glmm(
        f"{st}_yc",
        d,
        "yc ~ 1 + x + (1 | g1) + (1 | g2)",
        "poisson",
        ["sim", "unbalanced", "crossed"],
    )

    d = f"sim_vector_s{s}"
    st = f"sim_vec{s}"
    X5 = "y ~ 1 + x1 + x2 + x3 + x4 + x5"
    lmm(f"{st}_4col", d, X5 + " + (1 + x1 + x2 + x3 | g)", ["sim", "vector4"])
    lmm(f"{st}_5col", d, X5 + " + (1 + x1 + x2 + x3 + x4 | g)", ["sim", "vector4"], fits="ML")
    lmm(f"{st}_6col", d, X5 + " + (1 + x1 + x2 + x3 + x4 + x5 | g)", ["sim", "vector4"])
    lmm(
        f"{st}_4col_zc",
        d,
        X5 + " + (1 + x1 + x2 + x3 || g)",
        ["sim", "vector4", "zerocorr"],
        fits="ML",
    )
    lmm(
        f"{st}_split",
        d,
        X5 + " + (1 | g) + (0 + x1 + x2 + x3 | g)",
        ["sim", "vector4", "zerocorr"],
        fits="ML",
    )
    glmm(f"{st}_yb", d, "yb ~ 1 + x1 + x2 + x3 + (1 + x1 + x2 | g)", "bernoulli", ["sim", "vector"])
    glmm(
        f"{st}_yc",
        d,
        "yc ~ 1 + x1 + x2 + x3 + (1 + x1 + x2 + x3 | g)",
        "poisson",
        ["sim", "vector4"],
    )

    d = f"sim_vector_sing_s{s}"
    st = f"sim_vsing{s}"
    X4 = "y ~ 1 + x1 + x2 + x3 + x4"
    lmm(f"{st}_4col", d, X4 + " + (1 + x1 + x2 + x3 | g)", ["sim", "vector4", "boundary"])
    lmm(f"{st}_5col", d, X4 + " + (1 + x1 + x2 + x3 + x4 | g)", ["sim", "vector4", "boundary"])
    lmm(
        f"{st}_5col_zc",
        d,
        X4 + " + (1 + x1 + x2 + x3 + x4 || g)",
        ["sim", "vector4", "zerocorr", "boundary"],
        fits="ML",
    )

    d = f"sim_nested3_s{s}"
    st = f"sim_nest{s}"
    lmm(f"{st}_2lev", d, "y ~ 1 + x + (1 | a/b)", ["sim", "nested"])
    lmm(f"{st}_3lev", d, "y ~ 1 + x + (1 | a/b/c)", ["sim", "nested", "boundary"])
    lmm(
        f"{st}_slope",
        d,
        "y ~ 1 + x + (1 + x | a) + (1 | a:b)",
        ["sim", "nested", "vector"],
        fits="ML",
    )
    glmm(f"{st}_yb", d, "yb ~ 1 + x + (1 | a/b)", "bernoulli", ["sim", "nested"])
    glmm(f"{st}_yc", d, "yc ~ 1 + x + (1 | a/b)", "poisson", ["sim", "nested"])

    d = f"sim_weighted_s{s}"
    st = f"sim_w{s}"
    lmm(f"{st}_int", d, "y ~ 1 + x + (1 | g)", ["sim", "weights", "scalar"], weights="w")
    lmm(f"{st}_slope", d, "y ~ 1 + x + (1 + x | g)", ["sim", "weights", "vector"], weights="w")

    d = f"sim_binom_trials_s{s}"
    st = f"sim_binom{s}"
    BI = "cbind(succ, fail) ~ 1 + x"
    glmm(f"{st}_int", d, BI + " + (1 | g)", "binomial", ["sim", "scalar"], nagq=(0, 1, 9))
    glmm(
        f"{st}_prop",
        d,
        "prop ~ 1 + x + (1 | g)",
        "binomial",
        ["sim", "scalar", "weights"],
        weights="trials",
    )
    glmm(f"{st}_slope", d, BI + " + (1 + x | g)", "binomial", ["sim", "vector"])
    glmm(f"{st}_probit", d, BI + " + (1 | g)", "binomial", ["sim", "scalar"], link="probit")
    glmm(f"{st}_cloglog", d, BI + " + (1 + x | g)", "binomial", ["sim", "vector"], link="cloglog")

    d = f"sim_pois_exposure_s{s}"
    st = f"sim_pois{s}"
    glmm(
        f"{st}_off",
        d,
        "y ~ 1 + x + (1 | g) + offset(logt)",
        "poisson",
        ["sim", "scalar", "offset"],
        nagq=(0, 1),
    )
    glmm(
        f"{st}_offkw",
        d,
        "y ~ 1 + x + (1 | g)",
        "poisson",
        ["sim", "scalar", "offset"],
        nagq=(5,),
        offset="logt",
    )
    glmm(
        f"{st}_crossed",
        d,
        "y ~ 1 + x + (1 | g) + (1 | h) + offset(logt)",
        "poisson",
        ["sim", "crossed", "offset"],
    )
    glmm(f"{st}_sqrt", d, "ybig ~ 1 + x + (1 | g)", "poisson", ["sim", "scalar"], link="sqrt")
    glmm(
        f"{st}_identity", d, "ybig ~ 1 + x + (1 | g)", "poisson", ["sim", "scalar"], link="identity"
    )
    glmm(f"{st}_big", d, "ybig ~ 1 + x + (1 | g) + (1 | h)", "poisson", ["sim", "crossed"])

    d = f"sim_catslope_s{s}"
    st = f"sim_cat{s}"
    lmm(f"{st}_full", d, "y ~ 1 + f + x + (1 + f | g)", ["sim", "catslope", "vector"])
    lmm(f"{st}_noint", d, "y ~ 1 + f + x + (0 + f | g)", ["sim", "catslope", "vector"], fits="ML")
    lmm(
        f"{st}_split",
        d,
        "y ~ 1 + f + x + (1 | g) + (0 + f | g)",
        ["sim", "catslope", "vector4", "hard"],
        fits="ML",
    )
    lmm(f"{st}_zc", d, "y ~ 1 + f + x + (1 + f || g)", ["sim", "catslope", "zerocorr"], fits="ML")
    glmm(f"{st}_yb", d, "yb ~ 1 + f + x + (1 + f | g)", "bernoulli", ["sim", "catslope", "vector"])
    glmm(f"{st}_yc", d, "yc ~ 1 + f + x + (1 + f | g)", "poisson", ["sim", "catslope", "vector"])

d = "sim_crossed_vector_s1"
lmm(
    "sim_cvec1_full",
    d,
    "y ~ 1 + x1 + x2 + x3 + (1 + x1 + x2 + x3 | g) + (1 + x1 | h)",
    ["sim", "crossed", "vector4"],
)
lmm(
    "sim_cvec1_zc",
    d,
    "y ~ 1 + x1 + x2 + x3 + (1 + x1 + x2 + x3 || g) + (1 + x1 || h)",
    ["sim", "crossed", "vector4", "zerocorr"],
    fits="ML",
)
glmm(
    "sim_cvec1_yb",
    d,
    "yb ~ 1 + x1 + (1 + x1 | g) + (1 | h)",
    "bernoulli",
    ["sim", "crossed", "vector"],
)
glmm(
    "sim_cvec1_yc",
    d,
    "yc ~ 1 + x1 + x2 + x3 + (1 + x1 + x2 + x3 | g) + (1 | h)",
    "poisson",
    ["sim", "crossed", "vector4"],
)

d = "sim_tiny_resid_s1"
lmm("sim_tiny1_int", d, "y ~ 1 + x + (1 | g)", ["sim", "scaled", "scalar"])
lmm("sim_tiny1_slope", d, "y ~ 1 + x + (1 + x | g)", ["sim", "scaled", "vector"], fits="ML")


def models() -> list[dict]:
    """Every model of the grid, in a fixed order, each with its ``ci`` flag.

    Returns
    -------
    list of dict
        The model records described in the module docstring.

    Examples
    --------
    >>> len(models()) >= 300
    True
    """
    ids = [m["id"] for m in _MODELS]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"duplicate model ids: {dup}")
    unknown = sorted(CI_IDS - set(ids))
    if unknown:
        raise ValueError(f"CI ids not in the grid: {unknown}")
    return [dict(m, ci=m["id"] in CI_IDS) for m in _MODELS]


def write_spec(path: pathlib.Path = SPEC) -> int:
    """Write spec.json; returns the number of models."""
    ms = models()
    path.write_text(json.dumps({"models": ms}, indent=1) + "\n")
    return len(ms)


if __name__ == "__main__":
    n = write_spec(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else SPEC)
    print(f"{n} models")
