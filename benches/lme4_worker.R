# One (lme4, model) cell of benches/compare.py, run by it in a fresh Rscript process.
#
# Arguments are key=value pairs: csv, levels (a file of "column<TAB>level<TAB>level..."
# lines giving each factor's level order), formula, reml (TRUE/FALSE), min_time,
# max_reps, reps (0 = adaptive), budget (seconds of fitting after which no new repeat
# starts). Prints "RESULT key value" lines; compare.py parses them.
#
# Time: system.time(lmer(...))[["elapsed"]], best of k; R start-up, package loading and
# reading the CSV are outside it. Memory: VmHWM of this process from /proc/self/status.

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
min_time <- as.numeric(kv[["min_time"]])
max_reps <- as.integer(kv[["max_reps"]])
reps <- as.integer(kv[["reps"]])
budget <- as.numeric(kv[["budget"]])

warns <- character()
times <- numeric()
cpus <- numeric()
repeat {
  st <- system.time(m <- withCallingHandlers(
    lmer(form, data = d, REML = reml),
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
out("evaluations", m@optinfo$feval)
out("optimizer", m@optinfo$optimizer)
out("theta", paste(format(getME(m, "theta"), digits = 10), collapse = ","))
msgs <- c(m@optinfo$conv$lme4$messages, warns)
if (length(msgs)) out("note", gsub("[\r\n\t]+", " ", paste(unique(msgs), collapse = "; ")))
out("hwm_peak_kib", status_kib("VmHWM"))
