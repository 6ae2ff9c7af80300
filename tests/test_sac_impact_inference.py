"""SAC impact SEs from an independent delta method (issue 14, M13).

The SAC model's mean is the lag model's, (I - rho W)^-1 X beta, so its impacts are the
lag impacts at the SAC rho, and their delta-method SEs need the covariance block of
(beta, rho). Here that block comes straight from the estimator's kernel and the
gradient from central differences of the dense impact formulas; a covariance block
shifted by one row (M13) moves the SEs by up to 2.7 times.
"""

from __future__ import annotations

import numpy as np
from models_fixtures import columbus_dataset

from rtsmig.models import FitSpec, fit
from rtsmig.models.logdet_engines import make_logdet
from rtsmig.models.ml_sac import ml_sac_kernel


def lag_impacts(beta_r: float, rho: float, W: np.ndarray) -> np.ndarray:
    """Direct, indirect and total impact of one regressor: mean diagonal and mean row sum of (I - rho W)^-1 beta_r."""
    S = np.linalg.inv(np.eye(W.shape[0]) - rho * W) * beta_r
    direct, total = np.trace(S) / W.shape[0], S.sum() / W.shape[0]
    return np.array([direct, total - direct, total])


def test_sac_delta_ses_use_the_covariance_of_beta_and_rho():
    data = columbus_dataset()
    spec = FitSpec(model="sac", y=data.y_name, x=data.x_names[1:], impacts_se="delta")
    result = fit(spec, data)
    est = ml_sac_kernel(data.y, data.X, data.W, make_logdet(data.W, "eigen"))
    W, k = data.W.toarray(), data.X.shape[1]
    h = 1e-6
    for r, name in enumerate(data.x_names[1:], start=1):
        point = np.array([est.beta[r], est.rho])
        grad = np.column_stack([
            (lag_impacts(*(point + h * e), W) - lag_impacts(*(point - h * e), W)) / (2 * h) for e in np.eye(2)
        ])
        block = est.cov[np.ix_([r, k], [r, k])]
        expected = np.sqrt(np.diag(grad @ block @ grad.T))
        ours = [result.impact(name, effect).std_error for effect in ("direct", "indirect", "total")]
        np.testing.assert_allclose(ours, expected, rtol=1e-5)
        np.testing.assert_allclose([result.impact(name, e).estimate for e in ("direct", "indirect", "total")],
                                   lag_impacts(*point, W), rtol=1e-10)
