"""The log-determinant engines by name, and the choice ``auto`` makes.

``--logdet`` picks one of :data:`LOGDET_CHOICES`:

==========  =========================================================  ==============
engine      how                                                        n
==========  =========================================================  ==============
eigen       eigenvalues of the dense W, once (exact)                   up to 4,000
lu          sparse LU of I - rho W per evaluation (exact)              any W
cholesky    symmetric (LDL') factorisation of the symmetric form       W similar to
            per evaluation (exact)                                     a symmetric W
chebyshev   Chebyshev expansion, stochastic moments (approximate,      W similar to
            error bound reported)                                      a symmetric W
mc          Taylor series, Monte Carlo traces (Barry-Pace;             any W
            approximate, error bound reported)
==========  =========================================================  ==============

``auto`` takes ``eigen`` up to :data:`AUTO_EIGEN_MAX_N` regions, where it is
exact and fast, and above it the fastest engine, ``chebyshev`` (``mc`` for a W
not similar to a symmetric matrix). The result records the engine and, for the
approximations, their error bounds at the estimate.
"""

from __future__ import annotations

from collections.abc import Callable

import scipy.sparse as sp

from rtsmig.errors import EstimationError
from rtsmig.models.logdet import (
    DENSE_MAX_N,
    EIGEN_MAX_N,
    CholeskyLogDet,
    EigenLogDet,
    LogDet,
    LULogDet,
)
from rtsmig.models.logdet_approx import ChebyshevLogDet, MCLogDet

LOGDET_ENGINES: dict[str, Callable[[sp.sparray], LogDet]] = {
    "eigen": EigenLogDet,
    "lu": LULogDet,
    "cholesky": CholeskyLogDet,
    "chebyshev": ChebyshevLogDet,
    "mc": MCLogDet,
}
LOGDET_CHOICES = ("auto", *LOGDET_ENGINES)
# The engines whose log-determinant is an estimate (with an error bound), not exact.
APPROXIMATE_ENGINES = ("chebyshev", "mc")
# auto uses the exact eigenvalue engine up to this many regions.
AUTO_EIGEN_MAX_N = DENSE_MAX_N


def make_logdet(W: sp.sparray, engine: str | None = None) -> LogDet:
    """Build the named engine (``None`` or ``auto``: see the module notes)."""
    if engine in (None, "auto"):
        if W.shape[0] <= AUTO_EIGEN_MAX_N:
            return EigenLogDet(W)
        try:
            return ChebyshevLogDet(W)
        except EstimationError:  # W not similar to a symmetric matrix (or empty: mc says so too)
            return MCLogDet(W)
    if engine not in LOGDET_ENGINES:
        raise EstimationError(f"unknown log-determinant engine {engine!r}; use one of {', '.join(LOGDET_CHOICES)}")
    if engine == "eigen" and W.shape[0] > EIGEN_MAX_N:
        raise EstimationError(
            f"--logdet eigen needs a dense {W.shape[0]:,} x {W.shape[0]:,} eigenproblem (limit "
            f"{EIGEN_MAX_N:,} regions); use --logdet auto, cholesky or lu"
        )
    return LOGDET_ENGINES[engine](W)
