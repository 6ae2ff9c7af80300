# One-factor ML reference values for rtsmig's survey reliability (rtsmig/survey/factor.py).
#
# Rerun from the repository root (R >= 4.2 with jsonlite; no other package):
#   Rscript tests/reference/survey/factanal.R
# It reads tests/reference/survey/items.csv (the first 200 rows of
# examples/strategy/data.csv, id and item columns only) and writes
# tests/reference/survey/factanal.json: for each dimension, R's factanal(factors = 1)
# loadings and uniquenesses (defaults: lower = 0.005, L-BFGS-B), and the
# regression (Thurstone) scores of the first rows, factanal(scores = "regression").
# "position3" is a three-item dimension: the one-factor model is just-identified.

library(jsonlite)

data <- read.csv("tests/reference/survey/items.csv", colClasses = c(adcode = "character"))
dims <- list(
  position = paste0("position_q", 1:4),
  method = paste0("method_q", 1:4),
  sustainability = paste0("sustainability_q", 1:4),
  flexibility = paste0("flexibility_q", 1:4),
  position3 = paste0("position_q", 1:3)
)
n_scores <- 10

out <- list()
for (name in names(dims)) {
  items <- dims[[name]]
  fa <- factanal(data[, items], factors = 1, scores = "regression")
  out[[name]] <- list(
    items = items,
    loadings = unname(as.numeric(fa$loadings[, 1])),
    uniquenesses = unname(as.numeric(fa$uniquenesses)),
    score_ids = data$adcode[1:n_scores],
    scores = unname(as.numeric(fa$scores[1:n_scores, 1]))
  )
}
meta <- list(r_version = R.version.string, n = nrow(data), csv = "items.csv")
writeLines(
  toJSON(list(meta = meta, dimensions = out), auto_unbox = TRUE, digits = NA, pretty = TRUE),
  "tests/reference/survey/factanal.json"
)
