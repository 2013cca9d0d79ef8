#!/usr/bin/env Rscript
## lme4 reference fits of the validation grid: every model of spec.json, fitted with several
## optimizers (allFit-style), the best kept, every attempt recorded.
##
## Produced with: R 4.2.2 Patched, lme4 1.1-31, Matrix 1.5-3, nloptr 2.0.3, minqa 1.2.5,
## optimx, dfoptim, jsonlite 1.8.4 (Debian bookworm packages), reference BLAS/LAPACK.
##
## Usage (from the repository root; regenerate.py runs the whole chain):
##   python tests/validation/export.py /tmp/mixedmodels_validation
##   Rscript tests/validation/fit_lme4.R /tmp/mixedmodels_validation /tmp/mixedmodels_validation/fits [id ...]
## DATA_DIR holds the frames written by export.py; OUT_DIR receives one <id>.json per model
## (a model whose file exists is skipped unless its id is named). regenerate.py gathers the
## files into tests/validation/reference/.
##
## Fits per model (each with warnings and messages captured, and an elapsed-time limit):
##   LMM  (lmer):  nloptwrap (lme4's default), bobyqa (minqa), Nelder_Mead (lme4's),
##                 nlminbwrap (stats::nlminb);
##   GLMM (glmer): default (bobyqa for theta with nAGQ = 0, then Nelder_Mead for (theta, beta)),
##                 bobyqa, Nelder_Mead, nloptwrap, nlminbwrap (the same optimizer in both stages);
##   then `polish`: bobyqa started at the best of those (start = theta, and fixef for a GLMM);
##   GLMM only, `polish_tight`: bobyqa from the best so far with tolPwrss = 1e-12 (and
##   nAGQ0initStep = FALSE for nAGQ > 0, so it starts exactly there): lme4's default PIRLS
##   tolerance (1e-7) perturbs its objective by up to ~1e-5 relative and moves its optimum by
##   ~1e-4 relative in theta and beta (tests/fixtures/README.md, Part C); the tight fit removes
##   most of that.
## maxfun / maxeval 1e5 where the optimizer takes one. The best fit is the one with the lowest
## objective:
##   LMM: deviance(m) (= -2 log L) for ML, REMLcrit(m) for REML;
##   GLMM: -2 * logLik(m) as lme4 reports it (the optimizer's value: for nAGQ <= 1 it includes
##   the saturated model's -2 log L, `saturated` below; for nAGQ > 1 lme4 leaves it out).
## Doubles are written with sprintf("%.17g") (exact) by fixture_io.R's writer.

script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "..", "fixtures", "fixture_io.R"))  # to_json, S, read_ds (data_dir), capture
source(file.path(script_dir, "lme4_model.R"))  # r_family, checks, model_call
software <- software_info("tests/validation/fit_lme4.R")
software$optimx <- S(packageDescription("optimx")$Version)

spec <- jsonlite::fromJSON(file.path(script_dir, "spec.json"), simplifyVector = FALSE)$models
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
TIME_LIMIT <- as.numeric(Sys.getenv("GRID_TIME_LIMIT", "300"))  # seconds per fit

## ---------------------------------------------------------------- helpers
lmm_controls <- function(m) {
  ck <- checks(m)
  list(nloptwrap = do.call(lmerControl, ck),
       bobyqa = do.call(lmerControl, c(list(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)), ck)),
       Nelder_Mead = do.call(lmerControl, c(list(optimizer = "Nelder_Mead",
                                                 optCtrl = list(maxfun = 1e5)), ck)),
       nlminbwrap = do.call(lmerControl, c(list(optimizer = "nlminbwrap"), ck)))
}
glmm_controls <- function(m) {
  ck <- checks(m)
  list(default = do.call(glmerControl, ck),
       bobyqa = do.call(glmerControl, c(list(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)), ck)),
       Nelder_Mead = do.call(glmerControl, c(list(optimizer = "Nelder_Mead",
                                                  optCtrl = list(maxfun = 1e5)), ck)),
       nloptwrap = do.call(glmerControl, c(list(optimizer = "nloptwrap"), ck)),
       nlminbwrap = do.call(glmerControl, c(list(optimizer = "nlminbwrap"), ck)))
}
polish_control <- function(m) {
  ck <- checks(m)
  ctl <- c(list(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)), ck)
  if (m$kind == "lmm") do.call(lmerControl, ctl) else do.call(glmerControl, ctl)
}
tight_control <- function(m) {
  ctl <- c(list(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5), tolPwrss = 1e-12), checks(m))
  if (m$nagq > 0) ctl$nAGQ0initStep <- FALSE
  do.call(glmerControl, ctl)
}
start_at <- function(m, fit) {
  start <- list(theta = unname(getME(fit, "theta")))
  if (m$kind == "glmm" && m$nagq > 0) start$fixef <- unname(fixef(fit))
  start
}
best_of <- function(m, caps) {
  objs <- vapply(caps, function(cp)
    if (inherits(cp$value, "fit_error")) Inf else objective_of(m, cp$value), 0)
  caps[[which.min(objs)]]$value
}
run_fit <- function(m, d, control, start = NULL) {
  cl <- model_call(m, control, start)
  capture({
    setTimeLimit(elapsed = TIME_LIMIT, transient = TRUE)
    on.exit(setTimeLimit(elapsed = Inf))
    eval(cl)
  })
}
objective_of <- function(m, fit) {
  if (m$kind == "lmm") {
    if (isTRUE(m$reml)) REMLcrit(fit) else deviance(fit)
  } else -2 * as.numeric(logLik(fit))
}
stderror_of <- function(m, fit) {
  v <- if (m$kind == "lmm") vcov(fit) else suppressWarnings(vcov(fit, use.hessian = FALSE))
  unname(sqrt(diag(as.matrix(v))))
}
fit_record <- function(label, cap, m) {
  base <- list(optimizer = S(label), seconds = S(cap$seconds), warnings = cap$warnings,
               messages = cap$messages)
  if (inherits(cap$value, "fit_error")) return(c(base, list(error = S(cap$value$message))))
  fit <- cap$value
  oi <- fit@optinfo
  c(base, list(
    objective = S(objective_of(m, fit)),
    theta = unname(getME(fit, "theta")),
    beta = unname(fixef(fit)),
    sigma = if (m$kind == "lmm") S(sigma(fit)) else NULL,
    feval = S(as.integer(if (is.null(oi$feval)) NA else oi$feval)),
    optimizer_message = if (is.null(oi$message)) NULL else S(paste(oi$message, collapse = " ")),
    conv_opt = S(as.integer(if (is.null(oi$conv$opt)) NA else oi$conv$opt)),
    lme4_messages = as.character(unlist(oi$conv$lme4$messages)),
    is_singular = S(isSingular(fit))))
}
## per term: grouping factor name and column names, in lme4's order (theta is the lower
## triangle of each term's factor, column by column)
theta_terms <- function(fit) {
  cn <- getME(fit, "cnms")
  lapply(seq_along(cn), function(k) list(group = S(names(cn)[k]), columns = cn[[k]]))
}
saturated_of <- function(fit) {
  r <- fit@resp
  r$family$aic(r$y, r$n, r$y, r$weights, 0)
}

## ---------------------------------------------------------------- one model
fit_model <- function(m) {
  d <- read_ds(m$data)
  controls <- if (m$kind == "lmm") lmm_controls(m) else glmm_controls(m)
  caps <- lapply(controls, function(ctl) run_fit(m, d, ctl))
  ok <- !vapply(caps, function(cp) inherits(cp$value, "fit_error"), TRUE)
  res <- list(id = S(m$id), software = software)
  if (!any(ok)) {
    res$excluded <- S(paste("every lme4 fit failed; first error:", caps[[1]]$value$message))
    res$fits <- lapply(names(caps), function(nm) fit_record(nm, caps[[nm]], m))
    return(res)
  }
  caps$polish <- run_fit(m, d, polish_control(m), start = start_at(m, best_of(m, caps)))
  if (m$kind == "glmm")
    caps$polish_tight <- run_fit(m, d, tight_control(m), start = start_at(m, best_of(m, caps)))
  recs <- lapply(names(caps), function(nm) fit_record(nm, caps[[nm]], m))
  objs <- vapply(recs, function(r) if (is.null(r$error)) as.numeric(r$objective) else Inf, 0)
  best <- which.min(objs)
  fit <- caps[[best]]$value
  res$best <- S(names(caps)[best])
  res$objective <- S(objs[best])
  res$objective_name <- S(if (m$kind == "glmm") "-2*logLik" else if (isTRUE(m$reml)) "REMLcrit" else "deviance")
  res$theta <- unname(getME(fit, "theta"))
  res$theta_names <- names(getME(fit, "theta"))
  res$theta_terms <- theta_terms(fit)
  res$beta <- unname(fixef(fit))
  res$beta_names <- names(fixef(fit))
  res$stderror <- stderror_of(m, fit)
  if (m$kind == "lmm") res$sigma <- S(sigma(fit))
  if (m$kind == "glmm") res$saturated <- S(saturated_of(fit))
  res$nobs <- S(nobs(fit))
  res$ngrps <- lapply(as.list(ngrps(fit)), function(v) S(as.integer(v)))
  res$fits <- recs
  res
}

## ---------------------------------------------------------------- main
for (m in spec) {
  path <- file.path(out_dir, paste0(m$id, ".json"))
  named <- m$id %in% selected
  if (length(selected) > 0 && !named) next
  if (!named && file.exists(path)) next
  t0 <- proc.time()[["elapsed"]]
  res <- tryCatch(fit_model(m), error = function(e)
    list(id = S(m$id), software = software,
         excluded = S(paste("lme4 error:", conditionMessage(e)))))
  writeLines(to_json(res), path, useBytes = TRUE)
  cat(sprintf("%-36s %8.1f s  %s\n", m$id, proc.time()[["elapsed"]] - t0,
              if (is.null(res$excluded)) sprintf("%s %.10g", res$best, res$objective)
              else res$excluded))
}
