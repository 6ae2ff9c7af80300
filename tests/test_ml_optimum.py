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
from models_fixtures import columbus_dataset, exact_lag_score

from rtsmig.models import FitSpec, fit


def lag_score_root(dataset) -> float:
    """Root of the exact score, from the dense eigenvalues of W, at full precision."""
    omega = np.linalg.eigvals(dataset.W.toarray()).real
    return so.brentq(exact_lag_score(dataset, omega), -0.9, 0.95, xtol=1e-15, rtol=4 * np.finfo(float).eps)


@pytest.mark.parametrize("engine, tolerance", [("eigen", 1e-12), ("lu", 1e-10), ("cholesky", 1e-10)])
def test_lag_rho_is_the_root_of_the_score(engine, tolerance):
    dataset = columbus_dataset()
    spec = FitSpec(model="lag", y=dataset.y_name, x=dataset.x_names[1:], impacts_se="none", logdet=engine)
    rho = float(fit(spec, dataset).tidy().set_index("term").loc["rho", "estimate"])
    assert abs(rho - lag_score_root(dataset)) < tolerance
