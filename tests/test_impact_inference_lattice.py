"""Simulated against delta-method impact SEs, model by model, on large rook lattices (issue 14).

Both methods start from the fit's own estimates and covariance; they differ by
(1) Monte Carlo error: the SD of an SD estimated from R normal draws is SE / sqrt(2R),
    so 4 of those is 4 / sqrt(2 * 20,000) = 2.0%; and
(2) the delta method's linearisation, whose relative error falls as 1/n (it is of the
    order of the variance of rho-hat). Measured with these data at n = 1,600, the largest
    gap was 15% (GNS by GMM, whose rho is the least precise), so at n = 40,000 it is at
    most 15% * 1,600 / 40,000 = 0.6%; for SAC by ML (at most 4,000 regions) it was 3.5%
    at n = 1,600, so 2.2% at n = 2,500.
The tolerance is the sum. Measured: at most 1.4% (durbin's x1 indirect at 40,000) and
1.8% (SAC by ML at 2,500). The covariance blocks and gradients of each model's layout
(where beta, theta and rho sit) are what this checks: a block shifted by one moves an SE
by far more.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from libpysal.weights import lat2W
from scipy import sparse

from rtsmig.dataset import Dataset
from rtsmig.models import FitSpec, fit

DRAWS = 20_000
MONTE_CARLO = 4 / math.sqrt(2 * DRAWS)
# (model, method, lattice side, linearisation allowance at that size; see the docstring)
CASES = [
    ("lag", "ml", 200, 0.006),
    ("durbin", "ml", 200, 0.006),
    ("lag", "gmm", 200, 0.006),
    ("gns", "gmm", 200, 0.006),
    ("sac", "gmm", 200, 0.006),
    ("sac", "ml", 50, 0.022),
]


@cache
def lattice_data(side: int) -> Dataset:
    """y = (I - 0.5 W)^-1 (X b + W X t + (I - 0.4 W)^-1 e) on a side x side rook lattice, seed 5."""
    w = lat2W(side, side, rook=True)
    w.transform = "r"
    W = sparse.csr_array(w.sparse)
    n = W.shape[0]
    rng = np.random.default_rng(5)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
    eye = sparse.identity(n, format="csc")
    u = sparse.linalg.spsolve(eye - 0.4 * W.tocsc(), rng.standard_normal(n))
    mean = X @ np.array([1.0, 1.0, -0.5]) + (W @ X[:, 1:]) @ np.array([0.5, 0.3])
    y = sparse.linalg.spsolve(eye - 0.5 * W.tocsc(), mean + u)
    return Dataset(tuple(map(str, range(n))), y, X, "y", ("(Intercept)", "x1", "x2"), W=W)


@pytest.mark.parametrize("model, method, side, linearisation", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_simulated_and_delta_impact_ses_agree(model, method, side, linearisation):
    data = lattice_data(side)
    simulated = fit(FitSpec(model=model, method=method, y="y", x=("x1", "x2"), draws=DRAWS, seed=3), data)
    delta = fit(FitSpec(model=model, method=method, y="y", x=("x1", "x2"), impacts_se="delta"), data)
    assert len(simulated.impacts) == 6
    for s, d in zip(simulated.impacts, delta.impacts, strict=True):
        assert (s.variable, s.effect) == (d.variable, d.effect)
        # The power series' order follows the largest |rho| it serves, draws included: 1e-14 apart.
        assert math.isclose(s.estimate, d.estimate, rel_tol=1e-12)
        assert abs(s.std_error / d.std_error - 1) <= MONTE_CARLO + linearisation, (s, d)
