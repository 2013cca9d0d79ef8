## The lme4 call of a validation-grid model (a record of spec.json, read with
## jsonlite::fromJSON(simplifyVector = FALSE)); sourced by fit_lme4.R and check_at_ours.R.

## the family object: binomial for "bernoulli" and "binomial", poisson for "poisson"
r_family <- function(m) {
  fam <- if (m$family == "poisson") stats::poisson else stats::binomial
  fam(link = m$link)
}
## lme4's observation checks switched off where the model says so (check_nobs = "ignore")
checks <- function(m) if (identical(m$check_nobs, "ignore"))
  list(check.nobs.vs.nRE = "ignore", check.nobs.vs.nlev = "ignore") else list()
## the lmer / glmer call of model m (weights and offset as column names, evaluated in `d`)
model_call <- function(m, control, start = NULL) {
  args <- list(formula = stats::as.formula(m$formula), data = quote(d), control = control)
  if (m$kind == "lmm") {
    fun <- quote(lmer)
    args$REML <- isTRUE(m$reml)
  } else {
    fun <- quote(glmer)
    args$family <- r_family(m)
    args$nAGQ <- as.integer(m$nagq)
  }
  if (!is.null(m$weights)) args$weights <- as.name(m$weights)
  if (!is.null(m$offset)) args$offset <- as.name(m$offset)
  if (!is.null(start)) args$start <- start
  as.call(c(fun, args))
}
