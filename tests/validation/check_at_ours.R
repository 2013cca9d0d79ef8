#!/usr/bin/env Rscript
## lme4's own objective at our estimates, for the grid's models whose status is not a plain
## pass (better, explained, fail, fail_params): does lme4's function agree that our optimum
## is lower (or higher) than its best fit?
##
## Usage (from the repository root, after run.py):
##   Rscript tests/validation/check_at_ours.R /tmp/mixedmodels_validation \
##       tests/validation/results/full_lme4_check.json tests/validation/results/full.json
## (DATA_DIR from export.py, the output file, the runner's JSON results.)
##
## For each such row, the devfun of the model (lmer / glmer with devFunOnly = TRUE; for a GLMM
## with tolPwrss = 1e-12 so that PIRLS is converged far below the differences looked at) is
## evaluated at our parameters and at the reference fit's, both written by run.py in lme4's
## order. GLMM values are put on our scale (minus the saturated -2 log L for nAGQ <= 1), so
## `lme4_gap` = (lme4 at ours - lme4 at reference) / max(|lme4 at reference|, 1) is comparable
## with the runner's `gap`.

script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "..", "fixtures", "fixture_io.R"))  # S, to_json, read_ds; args
source(file.path(script_dir, "lme4_model.R"))
out_file <- out_dir
results <- jsonlite::fromJSON(selected[1], simplifyVector = FALSE)$rows
spec <- jsonlite::fromJSON(file.path(script_dir, "spec.json"), simplifyVector = FALSE)$models
names(spec) <- vapply(spec, function(m) m$id, "")

devfun_of <- function(m, d) {
  ck <- checks(m)
  ctl <- if (m$kind == "lmm") do.call(lmerControl, ck) else
    do.call(glmerControl, c(list(tolPwrss = 1e-12), ck))
  cl <- model_call(m, ctl)
  cl$devFunOnly <- TRUE
  suppressWarnings(suppressMessages(eval(cl)))
}
value_at <- function(m, f, theta, beta) {
  theta <- as.numeric(unlist(theta)); beta <- as.numeric(unlist(beta))
  if (m$kind == "lmm" || m$nagq == 0) f(theta) else f(c(theta, beta))
}

out <- list()
for (row in results) {
  if (is.null(row$theta_lme4_order)) next
  m <- spec[[row$id]]
  d <- read_ds(m$data)
  res <- tryCatch({
    f <- devfun_of(m, d)
    shift <- if (m$kind == "glmm" && m$nagq <= 1) row$saturated else 0
    at_ours <- value_at(m, f, row$theta_lme4_order, row$beta_lme4_order) - shift
    at_ref <- value_at(m, f, row$ref_theta, row$ref_beta) - shift
    list(id = S(row$id), status = S(row$status), gap = S(row$gap),
         lme4_at_ours = S(at_ours), lme4_at_ref = S(at_ref),
         lme4_gap = S((at_ours - at_ref) / max(abs(at_ref), 1)))
  }, error = function(e) list(id = S(row$id), status = S(row$status), error = S(conditionMessage(e))))
  out[[length(out) + 1]] <- res
  cat(sprintf("%-36s %-12s ours %+.2e  lme4 %+.2e\n", row$id, row$status, row$gap,
              if (is.null(res$lme4_gap)) NA else res$lme4_gap))
}
writeLines(to_json(list(note = S("lme4's devfun at our estimates (check_at_ours.R)"), rows = out)),
           out_file, useBytes = TRUE)
