"""Every log-determinant engine against R spatialreg with binary W above 1,000 regions.

Reference: tests/reference/binary/binary.json, made by binary.R (lagsarlm and
errorsarlm, method "eigen": exact log-determinant, analytic SEs) on the 2,875 China counties' binary queen contiguity (queen.gal, from
``rtsmig weights build``) and the data of make_data.py (rho = lambda = 0.1).
C is binary, so the parameter space is (1/w_min, 1/w_max) = (-0.254, 0.146), far
from the (-0.05, 0.05) its largest row sum (20) would give.

Tolerances (relative error unless stated):

- eigen: coefficients, SEs, rho/lambda, log-likelihood, sigma2 and the lag impacts
  to 1e-6;
- lu (exact log-determinant; stochastic traces above 1,000 regions): coefficients,
  rho/lambda, log-likelihood to 1e-6; SEs within five times the traces' reported
  relative error, as in test_models_lattice_r.py;
- chebyshev, mc, auto: |rho - R's rho| (absolute) within the bound the engine
  reports in meta.logdet_accuracy, plus 5e-8 for R's own optimiser;
- every engine: the parameter space it searched lies inside R's interval and
  reaches the positive end, where the estimate lies.

The lag impacts in binary.json are computed in binary.R, not taken from
spatialreg's impacts(): that sets total = beta / (1 - rho), which holds only for
row-standardised W (binary.json keeps its output as impacts_spatialreg).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from cli_helpers import run
from models_fixtures import assert_exact_sparse_fit_matches_r, read_gal, rel_err

from rtsmig.dataset import Dataset
from rtsmig.models import FitSpec, fit

HERE = Path(__file__).parent / "reference" / "binary"
TERM = {"lag": "rho", "error": "lambda"}
TERMS = ("(Intercept)", "x1", "x2")
RTOL = 1e-6
# How far R's optimize() may stop from the maximiser: on these data its lambda is 1.2e-8 from
# the root of the score (where rtsmig's eigen estimate sits), its rho 1e-10.
R_TOL = 5e-8
# Ends of the parameter space: how close to R's positive end an engine must reach.
SPACE_RTOL = 1e-3


@cache
def reference() -> dict:
    return json.loads((HERE / "binary.json").read_text())


@cache
def binary_w() -> tuple[tuple[str, ...], sp.csr_array]:
    """The 0/1 queen matrix of queen.gal, rows in data.csv's id order: what ``--transform b`` fits."""
    ids = tuple(pd.read_csv(HERE / "data.csv", dtype={"id": str})["id"])
    position = {region: i for i, region in enumerate(ids)}
    rows, cols = [], []
    for region, nbrs in read_gal(HERE / "queen.gal").items():
        rows += [position[region]] * len(nbrs)
        cols += [position[j] for j in nbrs]
    n = len(ids)
    return ids, sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))


@cache
def dataset(model: str) -> Dataset:
    frame = pd.read_csv(HERE / "data.csv", dtype={"id": str}).set_index("id")
    ids, C = binary_w()
    assert tuple(frame.index) == ids
    X = np.column_stack([np.ones(len(frame)), frame["x1"], frame["x2"]])
    return Dataset(ids, frame[f"y_{model}"].to_numpy(), X, "y", TERMS, C)


@cache
def fitted(model: str, engine: str):
    return fit(FitSpec(model=model, y="y", x=("x1", "x2"), impacts_se="none"), dataset(model), engine=engine)


def rows(result) -> dict:
    return {c.term: c for c in result.coefficients}


def r_fit(model: str) -> dict:
    return reference()["models"][f"{model}_eigen"]


def test_reference_is_binary_above_1000_regions():
    ref, (_, C) = reference(), binary_w()
    assert ref["n"] == C.shape[0] > 1000 and ref["links"] == C.nnz
    assert set(C.data) == {1.0} and (C != C.T).nnz == 0
    # the case this reference exists for: the estimates lie outside the row-sum interval
    assert all(r_fit(m)[TERM[m]] > 1 / ref["max_row_sum"] for m in TERM)


@pytest.mark.parametrize("model", ["lag", "error"])
def test_eigen_matches_r_everywhere(model):
    ref, result, term = r_fit(model), fitted(model, "eigen"), TERM[model]
    got = rows(result)
    for name, value in [*ref["coef"].items(), (term, ref[term])]:
        assert rel_err(got[name].estimate, value) <= RTOL, name
    for name, value in [*ref["se"].items(), (term, ref[f"{term}_se"])]:
        assert rel_err(got[name].std_error, value) <= RTOL, name
    assert rel_err(result.fit["loglik"], ref["loglik"]) <= RTOL
    assert rel_err(result.fit["sigma2"], ref["sigma2"]) <= RTOL


def test_eigen_lag_impacts_match_r():
    impacts = r_fit("lag")["impacts"]
    result = fitted("lag", "eigen")
    assert len(result.impacts) == 6
    for row in result.impacts:
        assert rel_err(row.estimate, impacts[row.effect][row.variable]) <= RTOL, row


@pytest.mark.parametrize("model", ["lag", "error"])
def test_lu_matches_r(model):
    assert_exact_sparse_fit_matches_r(fitted(model, "lu"), r_fit(model), TERM[model], RTOL)


@pytest.mark.parametrize("engine", ["chebyshev", "mc", "auto"])
@pytest.mark.parametrize("model", ["lag", "error"])
def test_approximate_engines_within_their_bound_of_r(model, engine):
    ref, result, term = r_fit(model), fitted(model, engine), TERM[model]
    bound = result.meta["logdet_accuracy"][f"{term}_error_bound"]
    assert abs(rows(result)[term].estimate - ref[term]) <= bound + R_TOL, bound


@pytest.mark.parametrize("engine", ["eigen", "lu", "chebyshev", "mc", "auto"])
def test_parameter_space_inside_r_interval(engine):
    r_lo, r_hi = r_fit("lag")["interval"]
    lo, hi = fitted("lag", engine).meta["parameter_space"]
    # Never wider than R's (I - rho C is singular at its ends), and not cut short at the positive end.
    assert r_lo - 1e-12 <= lo < 0 < hi <= r_hi + 1e-12, (lo, hi)
    assert hi >= r_hi * (1 - SPACE_RTOL), (hi, r_hi)


def test_reported_extremes_bound_r_eigenvalues():
    eig = reference()["eigenvalues"]
    extremes = fitted("lag", "lu").meta["eigen_extremes"]
    slack = 1e-9 * extremes["spectral_radius"]  # rounding of R's eigen()
    assert extremes["min"] <= eig["min"] + slack and extremes["max"] >= eig["max"] - slack
    assert eig["min"] - extremes["min"] <= extremes["margin"][0] + slack
    assert extremes["max"] - eig["max"] <= extremes["margin"][1] + slack


@pytest.mark.parametrize("model", ["lag", "error"])
def test_cli_transform_b_matches_r(model, tmp_path):
    """The same fit through ``rtsmig fit --transform b``: queen.gal read, ids aligned, W kept binary."""
    out = tmp_path / model
    options = f"--model {model} --y y_{model} --x x1,x2 --transform b --logdet lu --impacts-se none -q".split()
    result = run("fit", HERE / "data.csv", "--id", "id", "--weights", HERE / "queen.gal", *options, "-o", out)
    assert result.exit_code == 0, (result.stderr, result.exception)
    got = json.loads((out / "result.json").read_text())
    ref, term = r_fit(model), TERM[model]
    estimates = {c["term"]: c["estimate"] for c in got["coefficients"]}
    for name, value in [*ref["coef"].items(), (term, ref[term])]:
        assert rel_err(estimates[name], value) <= RTOL, name
    assert rel_err(got["fit"]["loglik"], ref["loglik"]) <= RTOL
