"""Every log-determinant engine against R spatialreg on a 2,500-region rook lattice.

Reference: tests/reference/lattice/lattice.json, made by lattice.R (method
"eigen": exact log-determinant, analytic SEs) from the data of make_data.py.

- eigen (dense traces): everything to 1e-6, SEs included;
- lu and cholesky (exact log-determinant; stochastic traces above 1,000 regions):
  coefficients, rho/lambda, log-likelihood to 1e-6; SEs within five times the
  traces' reported relative error;
- chebyshev and mc: rho/lambda within the bound the engine reports, and lag
  impacts (from the engine's moments) to 1e-4.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from models_fixtures import assert_exact_sparse_fit_matches_r, read_gal, rel_err

from rtsmig.dataset import Dataset
from rtsmig.models import FitSpec, fit

HERE = Path(__file__).parent / "reference" / "lattice"
TERM = {"lag": "rho", "error": "lambda"}
RTOL = 1e-6


@cache
def reference() -> dict:
    return json.loads((HERE / "lattice.json").read_text())["models"]


@cache
def dataset(model: str) -> Dataset:
    frame = pd.read_csv(HERE / f"{model}.csv", dtype={"id": str}).set_index("id")
    position = {region: i for i, region in enumerate(frame.index)}
    rows, cols = [], []
    for region, nbrs in read_gal(HERE / "rook.gal").items():
        rows += [position[region]] * len(nbrs)
        cols += [position[j] for j in nbrs]
    n = len(frame)
    C = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    X = np.column_stack([np.ones(n), frame["x1"], frame["x2"]])
    return Dataset(tuple(frame.index), frame["y"].to_numpy(), X, "y", ("(Intercept)", "x1", "x2"),
                   sp.csr_array(C / C.sum(axis=1)[:, None]))


@cache
def fitted(model: str, engine: str, impacts_se: str = "none"):
    return fit(FitSpec(model=model, y="y", x=("x1", "x2"), impacts_se=impacts_se), dataset(model), engine=engine)


def rows(result) -> dict:
    return {c.term: c for c in result.coefficients}


@pytest.mark.parametrize("model", ["lag", "error"])
def test_eigen_matches_r_everywhere(model):
    ref, got, term = reference()[f"{model}_eigen"], rows(fitted(model, "eigen")), TERM[model]
    for name, value in [*ref["coef"].items(), (term, ref[term])]:
        assert rel_err(got[name].estimate, value) <= RTOL, name
    for name, value in [*ref["se"].items(), (term, ref[f"{term}_se"])]:
        assert rel_err(got[name].std_error, value) <= RTOL, name
    assert rel_err(fitted(model, "eigen").fit["loglik"], ref["loglik"]) <= RTOL


@pytest.mark.parametrize("engine", ["lu", "cholesky"])
@pytest.mark.parametrize("model", ["lag", "error"])
def test_exact_sparse_engines_match_r(model, engine):
    assert_exact_sparse_fit_matches_r(fitted(model, engine), reference()[f"{model}_eigen"], TERM[model], RTOL)


@pytest.mark.parametrize("engine", ["chebyshev", "mc"])
@pytest.mark.parametrize("model", ["lag", "error"])
def test_approximate_engines_within_their_bound_of_r(model, engine):
    ref, result, term = reference()[f"{model}_eigen"], fitted(model, engine), TERM[model]
    bound = result.meta["logdet_accuracy"][f"{term}_error_bound"]
    assert abs(rows(result)[term].estimate - ref[term]) <= bound + 1e-8  # 1e-8: R's own tolerance
    # and closer than R's own approximations with their defaults (informative, not a bound)
    r_approx = reference()[f"{model}_{'Chebyshev' if engine == 'chebyshev' else 'MC'}"][term]
    assert abs(rows(result)[term].estimate - ref[term]) < abs(r_approx - ref[term])


def test_lag_impacts_from_moments_match_r_exact_impacts():
    result = fitted("lag", "chebyshev", "delta")
    assert "moments" in result.meta["impacts_method"]
    impacts = reference()["lag_eigen"]["impacts"]
    for row in result.impacts:
        assert math.isclose(row.estimate, impacts[row.effect][row.variable], rel_tol=1e-4), row
