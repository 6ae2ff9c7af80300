"""Which impacts a fitted model has, located in its estimate vector.

Every estimator calls :func:`model_impacts` with its estimates and their
covariance; the model (from the spec) decides whether there are spillovers, and
the dataset's regressor names locate each beta and its lag ``W_x``. The numbers
come from :func:`rtsmig.models.impacts.spatial_impacts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rtsmig.models.design import wx_term
from rtsmig.models.impacts import spatial_impacts
from rtsmig.models.logdet import EigenLogDet
from rtsmig.models.results import Impact
from rtsmig.models.spec import INTERCEPT, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset

# Models whose regressors reach the neighbours: through rho W y, through W X, or both.
SPILLOVER_MODELS = ("lag", "sac", "durbin", "slx", "durbin-error", "gns")


def model_impacts(
    spec: FitSpec,
    data: Dataset,
    params: np.ndarray,
    cov: np.ndarray | None,
    rho_index: int | None,
    eigen: EigenLogDet | None = None,
    logdet=None,
) -> tuple[tuple[Impact, ...], str | None]:
    """The impacts of ``spec``'s model and how they were computed; ``((), None)`` without spillovers.

    Parameters
    ----------
    spec : the model and its impact options (``impacts_se``, ``draws``, ``seed``, ``ci_level``).
    data : the dataset the estimator saw; its ``x_names`` (with the ``W_x`` columns of
        lagged regressors) are the first entries of ``params``.
    params, cov : the estimates and their covariance (``cov`` unused with ``impacts_se="none"``).
    rho_index : where rho sits in ``params``; ``None`` for slx and durbin-error.
    eigen : an eigenvalue engine already built for W.
    logdet : the fit's log-determinant engine; an approximate one lends its moments at large n.
    """
    if spec.model not in SPILLOVER_MODELS:
        return (), None
    lagged = set(spec.wx_names)
    names = [n for n in data.x_names if n != INTERCEPT and n not in {wx_term(x) for x in lagged}]
    position = {name: i for i, name in enumerate(data.x_names)}
    return spatial_impacts(
        data.W, names, np.asarray(params, dtype=float), cov,
        beta_index=[position[n] for n in names],
        theta_index=[position[wx_term(n)] if n in lagged else None for n in names],
        rho_index=rho_index,
        se=spec.impacts_se, draws=spec.draws, seed=spec.seed, ci_level=spec.ci_level, eigen=eigen,
        logdet=logdet,
    )
