# Reference fits on the 50 x 50 rook lattice (n = 2,500) with R spatialreg.
# Run from the repository root: Rscript tests/reference/lattice/lattice.R
# Writes tests/reference/lattice/lattice.json. The data come from make_data.py.
suppressMessages({
  library(spdep)
  library(spatialreg)
  library(jsonlite)
})
here <- "tests/reference/lattice"
ids <- read.csv(file.path(here, "lag.csv"))$id
nb <- read.gal(file.path(here, "rook.gal"), region.id = ids)
lw <- nb2listw(nb, style = "W")
one <- function(fit, model, method) {
  s <- summary(fit)
  param <- if (model == "lag") "rho" else "lambda"
  out <- list(
    method = method,
    coef = as.list(coef(fit)[c("(Intercept)", "x1", "x2")]),
    se = as.list(s$Coef[c("(Intercept)", "x1", "x2"), "Std. Error"]),
    loglik = as.numeric(logLik(fit)),
    sigma2 = fit$s2
  )
  out[[param]] <- if (model == "lag") fit$rho else fit$lambda
  out[[paste0(param, "_se")]] <- if (model == "lag") fit$rho.se else fit$lambda.se
  if (model == "lag" && method == "eigen") {
    imp <- impacts(fit, listw = lw)
    out$impacts <- list(direct = as.list(setNames(imp$direct, c("x1", "x2"))),
                        indirect = as.list(setNames(imp$indirect, c("x1", "x2"))),
                        total = as.list(setNames(imp$total, c("x1", "x2"))))
  }
  out
}
result <- list(
  generated_by = "tests/reference/lattice/lattice.R",
  r_version = R.version.string,
  spatialreg_version = as.character(packageVersion("spatialreg")),
  weights = "rook.gal, row-standardised (style W)",
  notes = paste(
    "eigen: exact log-determinant and analytic asymptotic SEs;",
    "Matrix (sparse Cholesky), LU: exact log-determinant, SEs from a numerical Hessian;",
    "Chebyshev, MC: spatialreg's approximations with their default settings"),
  models = list()
)
for (model in c("lag", "error")) {
  data <- read.csv(file.path(here, paste0(model, ".csv")))
  for (method in c("eigen", "Matrix", "LU", "Chebyshev", "MC")) {
    set.seed(1)
    fit <- if (model == "lag") {
      lagsarlm(y ~ x1 + x2, data = data, listw = lw, method = method)
    } else {
      errorsarlm(y ~ x1 + x2, data = data, listw = lw, method = method)
    }
    result$models[[paste(model, method, sep = "_")]] <- one(fit, model, method)
  }
}
writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, "lattice.json"))
