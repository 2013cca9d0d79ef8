# Timing worker for compare.py's `glmmtmb` tool: fits a GLMM with a dispersion parameter by
# glmmTMB (the Laplace approximation with the observed information, the dispersion
# estimated jointly) and prints `RESULT key value` lines as lme4_worker.R does.
#
# Arguments (key=value): csv, levels (the data as written by compare.py's r_inputs),
# formula, family (gamma, normal, negativebinomial), link (optional), min_time, max_reps,
# reps, budget.
#
# Objective: -2 logLik(fit), the full likelihood (the same quantity as ours for these
# families). Evaluations: nlminb's function evaluations of the outer optimization.
args <- commandArgs(trailingOnly = TRUE)
kv <- setNames(sub("^[^=]*=", "", args), sub("=.*$", "", args))

status_kib <- function(field) {
  l <- readLines("/proc/self/status")
  l <- l[startsWith(l, paste0(field, ":"))]
  as.numeric(sub("^[^0-9]*([0-9]+).*$", "\\1", l))
}
out <- function(key, value) cat("RESULT", key, format(value, digits = 17), "\n")

suppressPackageStartupMessages(library(glmmTMB))
out("tool_version", as.character(packageVersion("glmmTMB")))
out("hwm_import_kib", status_kib("VmHWM"))

lv_lines <- strsplit(readLines(kv[["levels"]]), "\t", fixed = TRUE)
levels_of <- list()
for (parts in lv_lines) if (length(parts) >= 1) levels_of[[parts[1]]] <- parts[-1]
factor_cols <- names(levels_of)
cc <- setNames(rep("character", length(factor_cols)), factor_cols)
d <- read.csv(kv[["csv"]], colClasses = cc)
for (col in factor_cols) d[[col]] <- factor(d[[col]], levels = levels_of[[col]])
out("hwm_data_kib", status_kib("VmHWM"))

form <- as.formula(kv[["formula"]])
link <- if ("link" %in% names(kv)) kv[["link"]] else NULL
fam <- switch(kv[["family"]],
  negativebinomial = nbinom2(link = if (is.null(link)) "log" else link),
  gamma = Gamma(link = if (is.null(link)) "inverse" else link),
  normal = gaussian(link = if (is.null(link)) "identity" else link),
  stop("glmmTMB has no family ", kv[["family"]]))
min_time <- as.numeric(kv[["min_time"]])
max_reps <- as.integer(kv[["max_reps"]])
reps <- as.integer(kv[["reps"]])
budget <- as.numeric(kv[["budget"]])

warns <- character()
times <- numeric()
cpus <- numeric()
repeat {
  st <- system.time(m <- withCallingHandlers(
    glmmTMB(form, data = d, family = fam),
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
best <- which.min(times)
out("times", paste(format(times, digits = 6), collapse = ","))
out("seconds", times[best])
out("cpu_seconds", cpus[best])
out("runs", length(times))
out("objective", -2 * as.numeric(logLik(m)))
out("evaluations", m$fit$evaluations[["function"]])
out("optimizer", "nlminb")
theta <- unlist(lapply(VarCorr(m)$cond, function(S) {
  L <- t(chol(S))
  L[lower.tri(L, diag = TRUE)]
}))
out("theta", paste(format(theta, digits = 10), collapse = ","))
if (length(warns)) out("note", gsub("[\r\n\t]+", " ", paste(warns, collapse = "; ")))
out("hwm_peak_kib", status_kib("VmHWM"))
out("hwm_end_kib", status_kib("VmHWM"))
