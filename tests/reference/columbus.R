# Reference fits on the Columbus crime data (CRIME ~ INC + HOVAL) with R spdep / spatialreg.
# Run from the repository root: Rscript tests/reference/columbus.R [OUT]
# OUT defaults to tests/reference/columbus.json. Data: columbus.csv and columbus_queen.gal
# beside this script (the CSV's values equal spData's columbus; the GAL equals
# spdep::poly2nb(queen = TRUE) on spData's and libpysal's columbus.shp).
suppressMessages({
  library(spdep)
  library(spatialreg)
  library(jsonlite)
})
here <- "tests/reference"
args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[1] else file.path(here, "columbus.json")
started <- proc.time()[["elapsed"]]
data <- read.csv(file.path(here, "columbus.csv"))
nb <- read.gal(file.path(here, "columbus_queen.gal"), region.id = as.character(data$id))
lw <- nb2listw(nb, style = "W")
form <- CRIME ~ INC + HOVAL
xs <- c("INC", "HOVAL")
n <- nrow(data)
# Exact impacts use the eigenvalues of the symmetric matrix similar to W (W is row-standardised
# symmetric contiguity); impacts(listw = lw), which takes eigen() of W itself, checks them.
eig <- eigenw(similar.listw(lw))
# tol.opt = 1e-12 is the setting that reproduces the committed columbus.json: the default
# (sqrt(eps)) moves rho of the lag and Durbin fits by about 1e-8, the other fits not at all.
# Neither brings optimize() closer than about 1e-8 to the root of the score, where the
# concentrated likelihood is flat to rounding. sacsarlm takes no tol.opt.
ml_control <- list(tol.opt = 1e-12)

named <- function(x, names = NULL) {
  x <- unclass(x)
  if (!is.null(names)) x <- setNames(as.numeric(x), names)
  as.list(x)
}

# Impacts per regressor (INC, HOVAL) as {direct, indirect, total}.
by_variable <- function(direct, indirect, total, vars) {
  setNames(lapply(seq_along(vars), function(i) {
    list(direct = direct[[i]], indirect = indirect[[i]], total = total[[i]])
  }), vars)
}

ols_block <- function() {
  fit <- lm(form, data = data)
  s <- summary(fit)
  sse <- sum(residuals(fit)^2)
  lm_tests <- lm.LMtests(fit, lw, test = "all")
  tests <- lapply(lm_tests, function(h) {
    list(stat = unname(h$statistic), df = unname(h$parameter), p = unname(h$p.value))
  })
  mt <- lm.morantest(fit, lw)
  list(
    coef = named(coef(fit)), se = named(s$coefficients[, "Std. Error"]),
    sigma2 = s$sigma^2, sigma2_ml = sse / n, loglik = as.numeric(logLik(fit)),
    aic = AIC(fit), r2 = s$r.squared, lm_tests = tests,
    moran = list(I = unname(mt$estimate[1]), expectation = unname(mt$estimate[2]),
                 variance = unname(mt$estimate[3]), z = as.numeric(mt$statistic),
                 p_greater = as.numeric(mt$p.value)),
    notes = "se use sigma2 = SSE/(n-k); loglik/AIC from logLik.lm (k+1 params incl. sigma)"
  )
}

# One ML fit (method eigen): coefficients, SEs, the spatial parameters and their SEs.
ml_block <- function(fit) {
  s <- summary(fit)
  out <- list(
    coef = named(fit$coefficients), se = named(s$Coef[names(fit$coefficients), "Std. Error"]),
    loglik = as.numeric(logLik(fit)), aic = AIC(fit), sigma2 = fit$s2, n = n,
    method = fit$method, type = fit$type
  )
  if (!is.null(fit$rho)) out[c("rho", "rho_se")] <- list(unname(fit$rho), unname(fit$rho.se))
  if (!is.null(fit$lambda)) out[c("lambda", "lambda_se")] <- list(unname(fit$lambda), unname(fit$lambda.se))
  out$se_source <- if (isTRUE(fit$ase)) "analytical asymptotic information matrix" else "numerical Hessian"
  out
}

lag_impacts <- function(out, fit) {
  imp <- impacts(fit, evalues = eig)
  dense <- impacts(fit, listw = lw)
  out$impacts <- by_variable(imp$direct, imp$indirect, imp$total, xs)
  out$impacts_method <- "exact (eigenvalues of W)"
  out$impacts_check_dense_maxdiff <- max(abs(c(imp$direct - dense$direct, imp$indirect - dense$indirect,
                                                imp$total - dense$total)))
  out
}

slx_block <- function() {
  fit <- lmSLX(form, data = data, listw = lw)
  s <- summary(fit)
  imp <- impacts(fit)$impacts
  list(
    coef = named(coef(fit)), se = named(s$coefficients[, "Std. Error"]),
    sigma2 = s$sigma^2, loglik = as.numeric(logLik(fit)), aic = AIC(fit),
    impacts = by_variable(imp$direct, imp$indirect, imp$total, xs),
    notes = "OLS on [X, WX]; se with SSE/(n-k); direct=beta, indirect=theta"
  )
}

# 2SLS and GM fits: the regression coefficients apart from Rho (stsls) or Rho_Wy (gstsls), which
# become rho. SEs are aligned with the coefficients (GMerrorsar leaves rest.se unnamed, and
# legacy = TRUE names its coefficients after the filtered regression, I(x - lambda * WX)INC).
gm_coef <- function(fit, se) {
  names <- sub("^I\\(x - lambda \\* WX\\)", "", names(fit$coefficients))
  keep <- !names %in% c("Rho", "Rho_Wy")
  list(coef = named(fit$coefficients[keep], names[keep]), se = named(se[keep], names[keep]))
}
# The second column of the summary table: "Std. Error", or "HC0 std. Error" under robust = TRUE.
std_errors <- function(fit) summary(fit)$Coef[, 2]

stsls_blocks <- function() {
  fit <- stsls(form, data = data, listw = lw)
  rob <- stsls(form, data = data, listw = lw, robust = TRUE)
  se <- std_errors(fit)
  rse <- std_errors(rob)
  list(
    lag_stsls = c(gm_coef(fit, se), list(
      rho = unname(fit$coefficients["Rho"]), rho_se = unname(se["Rho"]),
      sigma2 = fit$sse / fit$df, sse = fit$sse, df = fit$df,
      notes = paste("instruments X, WX, W^2X (W2X=TRUE); non-robust vcov = sse/df * (Zhat'Zhat)^-1,",
                    "df = n - (k+1)"))),
    lag_stsls_robust = c(gm_coef(rob, rse), list(
      rho = unname(rob$coefficients["Rho"]), rho_se = unname(rse["Rho"]),
      notes = "robust=TRUE, HC0 (White) vcov"))
  )
}

gm_error_block <- function(legacy) {
  fit <- GMerrorsar(form, data = data, listw = lw, legacy = legacy)
  out <- c(gm_coef(fit, fit$rest.se),
           list(lambda = fit$lambda, lambda_se = as.numeric(fit$lambda.se), sigma2 = fit$s2))
  if (legacy) {
    out$notes <- paste("legacy=TRUE: s2 = SSE/n of the FGLS (filtered) regression;",
                       "default (legacy=FALSE) uses first-step OLS residuals filtered by lambda")
  } else {
    out$gm_sigma2 <- fit$GMs2
    out$notes <- paste("KP99 moments, nlminb; beta se = sqrt(diag(s2 (X_f'X_f)^-1)), X_f = X - lambda WX,",
                       "s2 = |e_ols - lambda W e_ols|^2 / n (first-step OLS residuals)")
  }
  out
}

gstsls_block <- function() {
  fit <- gstsls(form, data = data, listw = lw)
  se <- std_errors(fit)
  c(gm_coef(fit, se), list(
    rho = unname(fit$coefficients["Rho_Wy"]), rho_se = unname(se["Rho_Wy"]),
    lambda = fit$lambda, sigma2 = fit$s2,
    notes = "instruments X, WX, W^2X; lambda has no se in spatialreg"))
}

models <- list(ols = ols_block())
lag <- lagsarlm(form, data = data, listw = lw, method = "eigen", control = ml_control)
models$lag_ml <- lag_impacts(ml_block(lag), lag)
models$error_ml <- ml_block(errorsarlm(form, data = data, listw = lw, method = "eigen", control = ml_control))
sac <- sacsarlm(form, data = data, listw = lw, method = "eigen")
models$sac_ml <- lag_impacts(ml_block(sac), sac)
sdm <- lagsarlm(form, data = data, listw = lw, method = "eigen", Durbin = TRUE, control = ml_control)
models$durbin_ml <- lag_impacts(ml_block(sdm), sdm)
sdem <- errorsarlm(form, data = data, listw = lw, method = "eigen", Durbin = TRUE, control = ml_control)
sdem_imp <- impacts(sdem)$impacts
models$durbin_error_ml <- c(ml_block(sdem),
                            list(impacts = by_variable(sdem_imp$direct, sdem_imp$indirect, sdem_imp$total, xs)))
models$slx <- slx_block()
models <- c(models, stsls_blocks())
models$error_gm <- gm_error_block(legacy = FALSE)
models$error_gm_legacy <- gm_error_block(legacy = TRUE)
models$sac_gstsls <- gstsls_block()

# Debian's reference BLAS lives under blas/; name it rather than its path (OpenBLAS, MKL: the path).
blas_label <- function(path) {
  if (grepl("/blas/libblas\\.so", path)) "reference BLAS (Debian libblas3)" else path
}

result <- list(
  case = "columbus", n = n,
  csv = file.path(here, "columbus.csv"), gal = file.path(here, "columbus_queen.gal"),
  generated_by = "tests/reference/columbus.R",
  weights = "queen contiguity (poly2nb(queen=TRUE) == libpysal Queen)",
  style = "W (row-standardised)", formula = "CRIME ~ INC + HOVAL",
  software = list(
    R = R.version.string,
    spdep = as.character(packageVersion("spdep")),
    spatialreg = as.character(packageVersion("spatialreg")),
    Matrix = as.character(packageVersion("Matrix")),
    BLAS = blas_label(extSoftVersion()[["BLAS"]])
  ),
  elapsed_s = round(proc.time()[["elapsed"]] - started, 3),
  models = models
)
writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE), out_path)
