# Simulated impact SEs of ML SAC on Columbus (CRIME ~ INC + HOVAL, queen, row-standardised)
# from R spatialreg's impacts(sacsarlm_fit, R = 20000), with three seeds.
# Run from the repository root: Rscript tests/reference/sac_impacts/sac_impacts.R [OUT]
# Each seed gives one set of simulated SEs (sd of the draws) and 95% percentile bounds;
# tests/test_sac_impacts_r.py compares rtsmig's with their mean, within the simulation
# error of both sides.
suppressMessages({
  library(spdep)
  library(spatialreg)
  library(jsonlite)
})
here <- "tests/reference"
args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[1] else file.path(here, "sac_impacts", "sac_impacts.json")
data <- read.csv(file.path(here, "columbus.csv"))
nb <- read.gal(file.path(here, "columbus_queen.gal"), region.id = as.character(data$id))
lw <- nb2listw(nb, style = "W")
fit <- sacsarlm(CRIME ~ INC + HOVAL, data = data, listw = lw, method = "eigen")
draws <- 20000
seeds <- c(1L, 2L, 3L)
xs <- c("INC", "HOVAL")
one_seed <- function(seed) {
  set.seed(seed)
  imp <- impacts(fit, listw = lw, R = draws)
  # imp$sres holds the kept draws (rho outside its interval is dropped) per effect and variable.
  per_effect <- function(draws_of_effect, v) {
    d <- as.numeric(draws_of_effect[, v])
    q <- unname(quantile(d, c(0.025, 0.975)))
    list(sd = sd(d), q025 = q[1], q975 = q[2])
  }
  c(list(kept = nrow(imp$sres$direct)), setNames(lapply(xs, function(v) {
    list(direct = per_effect(imp$sres$direct, v), indirect = per_effect(imp$sres$indirect, v),
         total = per_effect(imp$sres$total, v))
  }), xs))
}
out <- list(
  generated_by = "tests/reference/sac_impacts/sac_impacts.R",
  r_version = R.version.string,
  spatialreg = as.character(packageVersion("spatialreg")),
  call = "impacts(sacsarlm(CRIME ~ INC + HOVAL, columbus, queen W, method = 'eigen'), listw = lw, R = 20000)",
  draws = draws,
  seeds = seeds,
  rho = unname(fit$rho), lambda = unname(fit$lambda),
  by_seed = lapply(seeds, one_seed),
  notes = paste("Per seed: the number of draws kept, and per variable and effect the standard deviation",
                "of the simulated impacts (what summary() reports as the SE) and their 2.5% and 97.5%",
                "quantiles (R's quantile type 7). R draws (rho, beta) from their joint normal with the fit's",
                "covariance and drops draws of rho outside its interval.")
)
write_json(out, out_path, auto_unbox = TRUE, digits = 15, pretty = TRUE)
