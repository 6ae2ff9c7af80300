"""The ML search ends at the root of the score, not where Brent's tolerance left it (issue 14, M12).

Brent's bounded search stops within about 1e-8 of the optimum of the concentrated
log-likelihood; the polish on the score takes it to machine precision (analytic
score) or about 1e-11 (central differences). The root is found here independently,
from the dense eigenvalues of W and a bracketing root finder at full precision.

Flipping the sign of the score (the M12 mutation) is an equivalent mutant: a root
does not move when the function changes sign. Dropping the polish, or a wrong
score, moves rho by far more than these tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so
from models_fixtures import columbus_dataset

from rtsmig.models import FitSpec, fit


def lag_score_root(dataset) -> float:
    r"""Root of :math:`\ell_c'(\rho) = n e_1'(e_0 - \rho e_1)/S(\rho) - \sum_i \omega_i/(1 - \rho\omega_i)`."""
    W = dataset.W.toarray()
    omega = np.linalg.eigvals(W).real
    y, X, n = dataset.y, dataset.X, dataset.n
    Wy = W @ y
    b = np.linalg.lstsq(X, np.column_stack([y, Wy]), rcond=None)[0]
    e0, e1 = y - X @ b[:, 0], Wy - X @ b[:, 1]

    def score(rho: float) -> float:
        e = e0 - rho * e1
        return n * float(e1 @ e) / float(e @ e) - float(np.sum(omega / (1.0 - rho * omega)))

    return so.brentq(score, -0.9, 0.95, xtol=1e-15, rtol=4 * np.finfo(float).eps)


@pytest.mark.parametrize("engine, tolerance", [("eigen", 1e-12), ("lu", 1e-10), ("cholesky", 1e-10)])
def test_lag_rho_is_the_root_of_the_score(engine, tolerance):
    dataset = columbus_dataset()
    spec = FitSpec(model="lag", y=dataset.y_name, x=dataset.x_names[1:], impacts_se="none", logdet=engine)
    rho = float(fit(spec, dataset).tidy().set_index("term").loc["rho", "estimate"])
    assert abs(rho - lag_score_root(dataset)) < tolerance
