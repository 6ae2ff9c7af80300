"""The data-generating process of the strategy design: W and a spec in, a frame out.

Pure: no files, no printing. Every solve is a sparse LU factorisation of
``I - aW``, never a dense inverse, so that thousands of regions take
milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import splu

from rtsmig.simulate.spec import CHANNELS, DIMENSIONS, OUTCOME, SimulationSpec


def item_columns(items: int) -> list[str]:
    """``position_q1`` ... ``flexibility_q{items}``, dimension by dimension."""
    return [f"{d}_q{m + 1}" for d in DIMENSIONS for m in range(items)]


def simulate_design(W: sparse.sparray, spec: SimulationSpec, ids: Sequence[str]) -> pd.DataFrame:
    """Draw one data set of the strategy design on the regions of ``W``.

    Parameters
    ----------
    W : scipy sparse array, n x n
        Row-standardised weights, rows and columns in the order of ``ids``.
    spec : SimulationSpec
        Validated true parameters (see :meth:`SimulationSpec.validate`).
    ids : sequence of str
        Region ids, the index of the result (order kept).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``ids``; columns the four dimensions, the three channels,
        ``migration`` (float64), then the items (int64, 1..5).

    Notes
    -----
    With :math:`u, \\nu, \\varepsilon, e` independent standard normal draws taken
    from ``default_rng(seed)`` in this order (shapes n x 4, n x 3, n, n x 4 x 4,
    so the draws depend on the seed and n alone):

    .. math::

        d_j &= \\operatorname{std}\\big((I - \\phi W)^{-1} u_j\\big),
            \\quad j \\in \\{\\text{position, method, sustainability, flexibility}\\}

        c_k &= \\textstyle\\sum_j \\Gamma_{kj} d_j + \\sigma_c \\nu_k,
            \\quad k \\in \\{\\text{environment, technology, performance}\\}

        \\text{lag:}\\quad y &= (I - \\rho W)^{-1}(\\alpha + X\\beta + \\sigma\\varepsilon)

        \\text{error:}\\quad y &= \\alpha + X\\beta + (I - \\lambda W)^{-1}\\sigma\\varepsilon

        \\text{durbin:}\\quad y &= (I - \\rho W)^{-1}(\\alpha + X\\beta + WX\\theta + \\sigma\\varepsilon)

    where ``std`` centres and scales to sample mean 0 and standard deviation 1
    (ddof 0), and X holds the dimensions plus any channel given a beta. Item m of
    dimension j is the latent answer :math:`a = \\ell_m d_j + \\sqrt{1 - \\ell_m^2}\\, e`
    (unit variance), cut at the four thresholds into categories 1..5.
    """
    W = sparse.csc_array(W, dtype=float)
    n = W.shape[0]
    rng = np.random.default_rng(spec.seed)
    u = rng.standard_normal((n, len(DIMENSIONS)))
    nu = rng.standard_normal((n, len(CHANNELS)))
    eps = rng.standard_normal(n)
    e = rng.standard_normal((n, len(DIMENSIONS), 4))

    dims = _standardise(_solve(W, spec.phi, u))
    frame = pd.DataFrame(dims, index=pd.Index(list(ids), dtype=object), columns=list(DIMENSIONS))
    gamma = np.array([[spec.channel_coefficients[c][d] for d in DIMENSIONS] for c in CHANNELS])
    channels = dims @ gamma.T + spec.channel_sigma * nu
    for k, name in enumerate(CHANNELS):
        frame[name] = channels[:, k]
    frame[OUTCOME] = _outcome(W, spec, frame, spec.sigma * eps)
    items = likert_items(dims, e[:, :, : spec.items], spec.loadings[: spec.items], spec.thresholds)
    for name, column in zip(item_columns(spec.items), items.T, strict=True):
        frame[name] = column
    return frame


def _outcome(W: sparse.csc_array, spec: SimulationSpec, frame: pd.DataFrame, eps: np.ndarray) -> np.ndarray:
    """``migration`` under the spec's spatial process (formulas in :func:`simulate_design`)."""
    X = frame[list(spec.regressors)].to_numpy()
    mean = spec.intercept + X @ np.array([spec.betas[c] for c in spec.regressors])
    if spec.model == "error":
        return mean + _solve(W, spec.lam, eps)
    if spec.model == "durbin":
        # The intercept has no lag: with row-standardised W, W1 = 1 and it would
        # only rescale alpha.
        mean = mean + (W @ X) @ np.array([spec.theta[c] for c in spec.regressors])
    return _solve(W, spec.rho, mean + eps)


def likert_items(
    scores: np.ndarray, noise: np.ndarray, loadings: Sequence[float], thresholds: Sequence[float]
) -> np.ndarray:
    """Cut latent item answers into Likert categories 1..5.

    Parameters
    ----------
    scores : (n, d) standardised dimension scores.
    noise : (n, d, m) standard normal item noise.
    loadings : m loadings in (0, 1), one per item.
    thresholds : four increasing cut points.

    Returns
    -------
    numpy.ndarray of int64, (n, d * m)
        Items dimension by dimension: all items of dimension 1, then dimension 2, ...

    Notes
    -----
    Latent answer :math:`a_{ijm} = \\ell_m s_{ij} + \\sqrt{1-\\ell_m^2}\\, e_{ijm}`;
    the category is 1 plus the number of thresholds at or below :math:`a`.
    """
    loadings = np.asarray(loadings, dtype=float)
    latent = scores[:, :, None] * loadings + np.sqrt(1.0 - loadings**2) * noise
    categories = np.digitize(latent, np.asarray(thresholds, dtype=float)) + 1
    return categories.reshape(scores.shape[0], -1).astype(np.int64)


def _solve(W: sparse.csc_array, a: float, rhs: np.ndarray) -> np.ndarray:
    """:math:`(I - aW)^{-1}` rhs by a sparse LU factorisation."""
    if a == 0:
        return rhs.copy()
    n = W.shape[0]
    A = sparse.csc_array(sparse.eye_array(n, format="csc") - a * W)
    return splu(A).solve(np.ascontiguousarray(rhs, dtype=float))


def _standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean(axis=0)) / values.std(axis=0)
