"""Global and local Moran's I with esda, on a row-standardised sparse W aligned to the values.

Inference is by permutation: esda's conditional randomisation (``Moran_Local``,
seeded) for the local statistics and a free permutation of the values
(``Moran``) for the global one. ``Moran`` takes no seed and draws from numpy's
global generator, so it runs under :func:`~rtsmig.maps.classify.seeded_numpy`:
the same values, W, permutations and seed always give the same p-values.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from rtsmig.errors import InputError
from rtsmig.maps.classify import seeded_numpy

HIGH_HIGH, LOW_LOW, LOW_HIGH, HIGH_LOW = "High-High", "Low-Low", "Low-High", "High-Low"
NOT_SIGNIFICANT, NO_NEIGHBOURS = "not significant", "no neighbours"
CLUSTERS = (HIGH_HIGH, LOW_LOW, LOW_HIGH, HIGH_LOW, NOT_SIGNIFICANT, NO_NEIGHBOURS)
# esda's quadrants (geoda_quads=False): 1 = HH, 2 = LH, 3 = LL, 4 = HL.
QUADRANTS = {1: HIGH_HIGH, 2: LOW_HIGH, 3: LOW_LOW, 4: HIGH_LOW}


@dataclass(frozen=True, eq=False)
class MoranResult:
    """Global Moran's I and what its scatterplot draws.

    Attributes
    ----------
    I : float
        Moran's I, :math:`(n / S_0)\\, z'Wz / z'z`.
    p_sim : float
        Pseudo p-value from ``permutations`` random permutations (esda's ``p_sim``).
    permutations, seed : int
        The inference settings.
    z : numpy.ndarray
        The values standardised as esda does (mean 0, population sd 1).
    lag : numpy.ndarray
        Their spatial lag ``W z``.
    """

    I: float
    p_sim: float
    permutations: int
    seed: int
    z: np.ndarray
    lag: np.ndarray

    @property
    def slope(self) -> float:
        """Slope of the regression of ``Wz`` on ``z``: ``z'Wz / z'z`` (= I when no row of W is empty)."""
        return float(self.z @ self.lag / (self.z @ self.z))

    @property
    def intercept(self) -> float:
        # z has mean 0, so the least-squares line passes through (0, mean of Wz).
        return float(self.lag.mean())

    def quadrant_counts(self) -> dict[str, int]:
        """Regions in each quadrant of the scatterplot (on an axis: counted as low, as esda does)."""
        high, lag_high = self.z > 0, self.lag > 0
        return {
            "HH": int((high & lag_high).sum()), "LH": int((~high & lag_high).sum()),
            "LL": int((~high & ~lag_high).sum()), "HL": int((high & ~lag_high).sum()),
        }

    def to_dict(self) -> dict:
        return {
            "I": float(self.I), "p_sim": float(self.p_sim), "permutations": self.permutations,
            "seed": self.seed, "n": len(self.z), "slope": self.slope, "quadrants": self.quadrant_counts(),
        }


@dataclass(frozen=True, eq=False)
class LisaResult:
    """Local Moran cluster of each region, with the global I beside it."""

    moran: MoranResult
    labels: np.ndarray  # one of CLUSTERS per region, in the order of the values
    p_sim: np.ndarray
    alpha: float

    def counts(self) -> dict[str, int]:
        return {name: int((self.labels == name).sum()) for name in CLUSTERS}


def check_variable(values: np.ndarray, column: str) -> None:
    """Moran's I divides by the variance: refuse a constant column."""
    if len(values) < 3:
        raise InputError(f"column {column!r} has a value in only {len(values)} regions; Moran's I needs at least 3")
    if np.ptp(values) == 0:
        raise InputError(
            f"column {column!r} is constant ({values[0]:g}) over the {len(values)} regions with a value; "
            "Moran's I is undefined for a constant variable"
        )


def _graph(W: sparse.sparray, ids: Sequence[str]):
    """W as the libpysal Graph esda takes (esda row-standardises it again: a no-op for a row-standardised W)."""
    from libpysal.graph import Graph

    return Graph.from_sparse(sparse.csr_array(W), ids=list(ids))


def global_moran(values: np.ndarray, W: sparse.sparray, ids: Sequence[str], permutations: int, seed: int) -> MoranResult:
    """Global Moran's I of ``values`` on the row-standardised ``W`` (rows and columns in the order of ``ids``)."""
    import esda

    y = np.asarray(values, dtype=float)
    with seeded_numpy(seed):
        moran = esda.Moran(y, _graph(W, ids), transformation="r", permutations=permutations)
    z = moran.z  # esda's z: y less its mean, over its population sd
    return MoranResult(
        I=float(moran.I), p_sim=float(moran.p_sim), permutations=permutations, seed=seed, z=z, lag=W @ z,
    )


def local_moran(
    values: np.ndarray, W: sparse.sparray, ids: Sequence[str], permutations: int, seed: int, alpha: float
) -> LisaResult:
    """Local Moran cluster of each region: its quadrant where ``p_sim < alpha``, else "not significant".

    Regions without neighbours in W get "no neighbours": esda's conditional
    randomisation cannot test them (every permutation of an empty lag is 0,
    which it would report as significant).
    """
    import esda

    y = np.asarray(values, dtype=float)
    graph = _graph(W, ids)
    # Moran_Local reseeds the global generator itself; seeded_numpy keeps that local. esda
    # warns about a coming change of its default alternative (Moran_Local cannot pass one)
    # and divides by zero for regions without neighbours (relabelled below).
    with seeded_numpy(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        local = esda.Moran_Local(y, graph, transformation="r", permutations=permutations, seed=seed)
    p_sim = np.asarray(local.p_sim, dtype=float)
    # esda's get_cluster_labels uses the same strict "p_sim < alpha".
    labels = np.where(p_sim < alpha, np.vectorize(QUADRANTS.get, otypes=[object])(local.q), NOT_SIGNIFICANT)
    lonely = np.diff(sparse.csr_array(W).indptr) == 0  # weights_for stores no zero weights
    labels[lonely] = NO_NEIGHBOURS
    return LisaResult(
        moran=global_moran(y, W, ids, permutations, seed), labels=labels.astype(object), p_sim=p_sim, alpha=alpha
    )
