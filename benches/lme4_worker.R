# One (lme4, model) cell of benches/compare.py, run by it in a fresh Rscript process.
#
# Arguments are key=value pairs: csv, levels (a file of "column<TAB>level<TAB>level..."
# lines giving each factor's level order), formula, reml (TRUE/FALSE), min_time,
# max_reps, reps (0 = adaptive), budget (seconds of fitting after which no new repeat
# starts); for a GLMM also family (binomial / poisson; default gaussian = lmer), nagq
# (glmer's nAGQ, default 1) and weights (a column of prior weights, optional).
# Prints "RESULT key value" lines; compare.py parses them.
#
# Time: system.time(lmer(...))[["elapsed"]] (glmer(...) for a GLMM), best of k; R
# start-up, package loading and reading the CSV are outside it. Memory: VmHWM of this
# process from /proc/self/status.
#
# GLMM objective: glmer's devcomp "dev" is -2 logLik (Laplace / AGQ), which includes the
# response density's constants; compare.py's objective is the deviance relative to the
# saturated model (as our package, glmm and mixedlm report it), so the worker subtracts
# the saturated model's -2 log-likelihood, family$aic(y, n, mu = y, weights) (0 for
# Bernoulli responses). On nAGQ = 0 fits devcomp "dev" is lme4's own nAGQ = 0 criterion,
# which is not the Laplace deviance: the worker evaluates the Laplace deviance at the
# fit's (theta, beta) with lme4's nAGQ = 1 deviance function instead (after the timed
# fits). Evaluations of a GLMM: glmer keeps only the last stage's count in optinfo, so
# the worker reruns stage 1 (the nAGQ = 0 bobyqa stage, exactly as glmer calls it) once,
# untimed, and reports stage 1 + stage 2 (stage 2 alone, with a note, when the fits so
# far plus one more fit's time exceed 1.8 x budget, i.e. 90% of compare.py's timeout).

args <- commandArgs(trailingOnly = TRUE)
kv <- setNames(sub("^[^=]*=", "", args), sub("=.*$", "", args))

status_kib <- function(field) {
  l <- readLines("/proc/self/status")
  l <- l[startsWith(l, paste0(field, ":"))]
  as.numeric(sub("^[^0-9]*([0-9]+).*$", "\\1", l))
}
out <- function(key, value) cat("RESULT", key, format(value, digits = 17), "\n")

suppressPackageStartupMessages(library(lme4))
out("lme4_version", as.character(packageVersion("lme4")))
out("r_version", paste(R.version$major, R.version$minor, sep = "."))
out("hwm_import_kib", status_kib("VmHWM"))

# Factor columns and their level order.
lv_lines <- strsplit(readLines(kv[["levels"]]), "\t", fixed = TRUE)
levels_of <- list()
for (parts in lv_lines) if (length(parts) >= 1) levels_of[[parts[1]]] <- parts[-1]
factor_cols <- names(levels_of)

if (requireNamespace("data.table", quietly = TRUE)) {
  cc <- if (length(factor_cols)) list(character = factor_cols) else NULL
  d <- as.data.frame(data.table::fread(kv[["csv"]], colClasses = cc, showProgress = FALSE))
} else {
  cc <- setNames(rep("character", length(factor_cols)), factor_cols)
  d <- read.csv(kv[["csv"]], colClasses = cc)
}
for (col in factor_cols) d[[col]] <- factor(d[[col]], levels = levels_of[[col]])
out("hwm_data_kib", status_kib("VmHWM"))

form <- as.formula(kv[["formula"]])
reml <- as.logical(kv[["reml"]])
family_name <- if ("family" %in% names(kv)) kv[["family"]] else "gaussian"
is_glmm <- family_name != "gaussian"
nagq <- if ("nagq" %in% names(kv)) as.integer(kv[["nagq"]]) else 1L
wt <- if ("weights" %in% names(kv)) d[[kv[["weights"]]]] else NULL
# Families with a dispersion parameter: glmer.nb (NB2, k tuned by an outer 1-d search) and
# glmer with Gamma / inverse.gaussian (the dispersion from Pearson residuals). Both use the
# Laplace approximation with the expected information: the objective reported is their
# -2 logLik, which compare.py shows in the note, not as a comparable objective.
link <- if ("link" %in% names(kv)) kv[["link"]] else NULL
is_dispersion <- family_name %in% c("negativebinomial", "gamma", "inversegaussian")
fam <- if (!is_glmm || family_name == "negativebinomial") NULL else
  switch(family_name,
    gamma = Gamma(link = if (is.null(link)) "inverse" else link),
    inversegaussian = inverse.gaussian(link = if (is.null(link)) "1/mu^2" else link),
    get(family_name, mode = "function")())
fit_model <- function() {
  if (!is_glmm) return(lmer(form, data = d, REML = reml))
  if (family_name == "negativebinomial") return(glmer.nb(form, data = d))
  if (is.null(wt)) glmer(form, data = d, family = fam, nAGQ = nagq)
  else glmer(form, data = d, family = fam, nAGQ = nagq, weights = wt)
}
min_time <- as.numeric(kv[["min_time"]])
max_reps <- as.integer(kv[["max_reps"]])
reps <- as.integer(kv[["reps"]])
budget <- as.numeric(kv[["budget"]])

warns <- character()
times <- numeric()
cpus <- numeric()
repeat {
  st <- system.time(m <- withCallingHandlers(
    fit_model(),
    warning = function(w) {
      warns <<- unique(c(warns, conditionMessage(w)))
      invokeRestart("muffleWarning")
    },
    message = function(msg) {
      warns <<- unique(c(warns, trimws(conditionMessage(msg))))
      invokeRestart("muffleMessage")
    }
  ))
  times <- c(times, st[["elapsed"]])
  cpus <- c(cpus, st[["user.self"]] + st[["sys.self"]])
  n <- length(times)
  total <- sum(times)
  if (reps > 0) {
    if (n >= reps) break
  } else {
    min_n <- if (min(times) < 5) 3 else if (min(times) < 30) 2 else 1
    if (n >= max_reps) break
    if (n >= min_n && total >= min_time) break
  }
  if (total + min(times) > budget) break
}

hwm_fits <- status_kib("VmHWM") # before the untimed GLMM extras below
best <- which.min(times)
out("times", paste(format(times, digits = 6), collapse = ","))
out("seconds", times[best])
out("cpu_seconds", cpus[best])
out("runs", length(times))
stage1 <- NA
if (!is_glmm || is_dispersion) {
  out("objective", -2 * as.numeric(logLik(m)))
  out("evaluations", m@optinfo$feval)
} else {
  r <- m@resp
  sat <- fam$aic(r$y, r$n, r$y, r$weights, 0) # -2 log-likelihood of the saturated model
  out("minus2loglik", m@devcomp$cmp[["dev"]])
  out("saturated_m2ll", sat)
  # Stage 1 (and the nAGQ = 0 fit's Laplace deviance) through glmer's own modular steps:
  # stage 1 costs less than one whole fit, and budget is half of compare.py's timeout.
  ctrl <- glmerControl()
  stage1 <- NA
  if (nagq == 0 || sum(times) + min(times) <= 1.8 * budget) {
    gm <- if (is.null(wt)) glFormula(form, data = d, family = fam)
    else glFormula(form, data = d, family = fam, weights = wt)
    gm$formula <- NULL
    dev0 <- do.call(mkGlmerDevfun, c(gm, list(verbose = 0L, control = ctrl, nAGQ = 0L)))
    stage1 <- optimizeGlmer(dev0, optimizer = ctrl$optimizer[[1]], restart_edge = FALSE,
                            boundary.tol = 0, control = ctrl$optCtrl, nAGQ = 0L,
                            verbose = 0L, calc.derivs = FALSE)$feval
  }
  if (nagq > 0) {
    out("objective", m@devcomp$cmp[["dev"]] - sat)
    out("feval_stage2", m@optinfo$feval)
    if (!is.na(stage1)) out("feval_stage1", stage1)
    out("evaluations", if (is.na(stage1)) m@optinfo$feval else stage1 + m@optinfo$feval)
  } else {
    dev1 <- updateGlmerDevfun(dev0, gm$reTrms, nAGQ = 1L)
    out("objective_nagq0", m@devcomp$cmp[["dev"]] - sat)
    out("objective", dev1(c(getME(m, "theta"), fixef(m))) - sat)
    out("feval_stage1", m@optinfo$feval)
    out("evaluations", m@optinfo$feval)
  }
}
out("optimizer", m@optinfo$optimizer)
out("theta", paste(format(getME(m, "theta"), digits = 10), collapse = ","))
msgs <- c(m@optinfo$conv$lme4$messages, warns)
if (is_glmm && !is_dispersion && nagq > 0 && is.na(stage1)) {
  msgs <- c(msgs, "evaluations: stage 2 only (no time left to recount stage 1)")
}
if (length(msgs)) out("note", gsub("[\r\n\t]+", " ", paste(unique(msgs), collapse = "; ")))
out("hwm_peak_kib", hwm_fits)
out("hwm_end_kib", status_kib("VmHWM"))
