"""ML at 250,000 regions, checked against exact values from the analytic spectrum (issue 14, item 6).

Binary rook contiguity of an m x m lattice has the eigenvalues
2 cos(pi i/(m+1)) + 2 cos(pi j/(m+1)), so the exact concentrated likelihood, its
score and the traces of the information matrix are sums over them: the chebyshev
engine's rho and SE are checked against the exact optimum and the exact information
at 2.5e5 regions, far beyond what a dense eigen fit could reach. About 10 s.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from models_fixtures import exact_lag_score

from rtsmig.dataset import Dataset
from rtsmig.models import FitSpec, fit

SIDE = 500
RHO = 0.15  # inside (-1/4, 1/4), binary rook W's space


@pytest.fixture(scope="module")
def lattice_fit():
    path = sp.diags([np.ones(SIDE - 1), np.ones(SIDE - 1)], [-1, 1], format="csr")
    eye = sp.identity(SIDE, format="csr")
    W = sp.csr_array(sp.kron(eye, path) + sp.kron(path, eye))
    n = W.shape[0]
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(n), rng.standard_normal(n)])
    y = spla.spsolve(sp.csc_matrix(sp.identity(n) - RHO * W), X @ np.array([1.0, 0.5]) + rng.standard_normal(n))
    data = Dataset(ids=tuple(map(str, range(n))), y=y, X=X, y_name="y", x_names=("(Intercept)", "x"), W=W)
    result = fit(FitSpec(model="lag", y="y", x=("x",), impacts_se="none", logdet="chebyshev"), data)
    cos = np.cos(np.pi * np.arange(1, SIDE + 1) / (SIDE + 1))
    return data, result, (2 * cos[:, None] + 2 * cos[None, :]).ravel()


def test_chebyshev_rho_is_within_its_bound_of_the_exact_optimum(lattice_fit):
    data, result, omega = lattice_fit
    exact = so.brentq(exact_lag_score(data, omega), 0.0, 0.24, xtol=1e-14)
    rho = result.coef["rho"]
    assert abs(rho - exact) <= result.meta["logdet_accuracy"]["rho_error_bound"]


def test_rho_se_is_within_its_trace_error_of_the_exact_information(lattice_fit):
    """With W symmetric, B = W(I - rho W)^-1 is too: tr B'B = tr B^2 = sum (w/(1 - rho w))^2."""
    data, result, omega = lattice_fit
    X, W, n, k = data.X, data.W, data.n, data.k
    beta = np.array([result.coef[t] for t in data.x_names])
    rho, sigma2 = result.coef["rho"], result.fit["sigma2"]
    g = omega / (1 - rho * omega)
    v = W @ spla.spsolve(sp.csc_matrix(sp.identity(n) - rho * W), X @ beta)
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = X.T @ X / sigma2
    info[:k, k] = info[k, :k] = X.T @ v / sigma2
    info[k, k] = 2 * float(g @ g) + float(v @ v) / sigma2
    info[k, k + 1] = info[k + 1, k] = g.sum() / sigma2
    info[k + 1, k + 1] = n / (2 * sigma2**2)
    exact_se = float(np.sqrt(np.linalg.inv(info)[k, k]))
    ours = next(c.std_error for c in result.coefficients if c.term == "rho")
    worst = max(result.meta["traces_relative_se"].values())
    assert abs(ours - exact_se) / exact_se <= 3 * worst
