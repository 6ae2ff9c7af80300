# Reference fits with binary (unstandardised) queen weights of the 2,875 China counties, R spatialreg.
# Run from the repository root: Rscript tests/reference/binary/binary.R   (about 3 minutes)
# Writes tests/reference/binary/binary.json. Data and weights: make_data.py, queen.gal.
suppressMessages({
  library(spdep)
  library(spatialreg)
  library(jsonlite)
})
here <- "tests/reference/binary"
started <- proc.time()[["elapsed"]]
# Ids are 6-digit adcodes: read as text, as rtsmig does.
data <- read.csv(file.path(here, "data.csv"), colClasses = c(id = "character"))
nb <- read.gal(file.path(here, "queen.gal"), region.id = data$id)
stopifnot(identical(attr(nb, "region.id"), data$id))
lw <- nb2listw(nb, style = "B")
# C is symmetric, so its eigenvalues are real; computed once and handed to both fits.
eig <- eigenw(lw)
stopifnot(is.numeric(eig))
extremes <- range(eig)
# spatialreg's default optimiser tolerance: optimize() on the flat concentrated likelihood stops
# within about 1e-8 of the maximiser whatever tol.opt is (1e-12 moved lambda further, not closer).
control <- list(pre_eig = eig)
terms <- c("(Intercept)", "x1", "x2")

one <- function(fit, param) {
  s <- summary(fit)
  out <- list(
    method = fit$method,
    coef = as.list(coef(fit)[terms]),
    se = as.list(s$Coef[terms, "Std. Error"]),
    loglik = as.numeric(logLik(fit)),
    sigma2 = fit$s2,
    interval = as.numeric(fit$interval),
    se_source = if (isTRUE(fit$ase)) "analytical asymptotic information matrix" else "numerical Hessian"
  )
  out[[param]] <- unname(if (param == "rho") fit$rho else fit$lambda)
  out[[paste0(param, "_se")]] <- unname(if (param == "rho") fit$rho.se else fit$lambda.se)
  out
}

lag <- lagsarlm(y_lag ~ x1 + x2, data = data, listw = lw, method = "eigen", control = control)
err <- errorsarlm(y_error ~ x1 + x2, data = data, listw = lw, method = "eigen", control = control)
models <- list(lag_eigen = one(lag, "rho"), error_eigen = one(err, "lambda"))
# Impacts of the lag fit. spatialreg's impacts(listw = ) takes the eigenvalues of C and sets
# total = beta / (1 - rho), which holds only when every row of W sums to 1; with binary C the
# total multiplier is mean((I - rho C)^-1 1). So the reference impacts are computed here:
# direct from the eigenvalues (mean of 1 / (1 - rho w), as spatialreg), total from one sparse
# solve. spatialreg's own output is kept beside them, for the record.
vars <- c("x1", "x2")
as_impacts <- function(direct, total) {
  list(direct = as.list(setNames(direct, vars)), indirect = as.list(setNames(total - direct, vars)),
       total = as.list(setNames(total, vars)))
}
beta <- coef(lag)[vars]
C <- as(lw, "CsparseMatrix")
total_multiplier <- mean(as.numeric(solve(Diagonal(nrow(C)) - lag$rho * C, rep(1, nrow(C)))))
direct_multiplier <- mean(1 / (1 - lag$rho * eig))
models$lag_eigen$impacts <- as_impacts(direct_multiplier * beta, total_multiplier * beta)
models$lag_eigen$impacts_multipliers <- list(direct = direct_multiplier, total = total_multiplier)
sr <- impacts(lag, listw = lw)
models$lag_eigen$impacts_spatialreg <- as_impacts(sr$direct, sr$total)
models$lag_eigen$impacts_notes <- paste(
  "impacts: direct = beta mean(1/(1 - rho w)) over the eigenvalues w of C, total = beta mean((I - rho C)^-1 1)",
  "(sparse solve); impacts_spatialreg: impacts(fit, listw = lw), whose total beta/(1 - rho) assumes",
  "row sums of 1 and is wrong for binary C (its direct agrees)")

result <- list(
  generated_by = "tests/reference/binary/binary.R",
  r_version = R.version.string,
  spdep_version = as.character(packageVersion("spdep")),
  spatialreg_version = as.character(packageVersion("spatialreg")),
  n = nrow(data),
  links = sum(card(nb)),
  weights = "queen.gal (rtsmig queen contiguity of shapefiles/china_counties, islands attached), binary (style B)",
  eigenvalues = list(min = extremes[1], max = extremes[2]),
  parameter_space = 1 / extremes,
  max_row_sum = max(card(nb)),
  notes = paste(
    "method eigen: exact log-determinant from all eigenvalues of C, analytic asymptotic SEs;",
    "interval is the search interval spatialreg used (1/min, 1/max eigenvalue); spatialreg's default optimiser settings;",
    "impacts exact (see impacts_notes)"),
  elapsed_s = round(proc.time()[["elapsed"]] - started, 1),
  models = models
)
writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, "binary.json"))
