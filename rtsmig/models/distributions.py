"""Tail probabilities and quantiles of the reference distributions, from scipy.special.

scipy.stats computes these with the same scipy.special (Cephes/Boost) functions,
so the numbers are identical (``tests/test_distributions.py``); importing
scipy.stats costs about a second of every command's start-up, importing these
functions a fraction of it.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def normal_sf(x):
    """P(Z > x) for a standard normal Z."""
    return special.ndtr(-np.asarray(x, dtype=float))


def normal_ppf(q):
    """The standard normal quantile at q."""
    return special.ndtri(np.asarray(q, dtype=float))


def chi2_sf(x, df):
    """P(X > x) for X chi-squared on ``df`` degrees of freedom."""
    return special.chdtrc(df, np.asarray(x, dtype=float))


def t_sf(x, df):
    """P(T > x) for T Student t on ``df`` degrees of freedom."""
    return special.stdtr(df, -np.asarray(x, dtype=float))


def t_ppf(q, df):
    """The Student t quantile at q on ``df`` degrees of freedom."""
    return special.stdtrit(df, np.asarray(q, dtype=float))
