"""rtsmig.models.distributions gives exactly scipy.stats' numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rtsmig.models import distributions as d

X = np.concatenate([np.linspace(-40, 40, 2001), [0.0, 1e-300, 1e300, np.inf, -np.inf]])
Q = np.concatenate([np.linspace(1e-12, 1 - 1e-12, 999), [0.5, 0.975, 0.995]])


def test_normal():
    np.testing.assert_array_equal(d.normal_sf(X), stats.norm.sf(X))
    np.testing.assert_array_equal(d.normal_ppf(Q), stats.norm.ppf(Q))


@pytest.mark.parametrize("df", [1, 2, 3, 7.5, 46, 1000])
def test_chi2_and_t(df):
    positive = np.abs(X)
    np.testing.assert_array_equal(d.chi2_sf(positive, df), stats.chi2.sf(positive, df))
    np.testing.assert_array_equal(d.t_sf(X, df), stats.t.sf(X, df))
    np.testing.assert_array_equal(d.t_ppf(Q, df), stats.t.ppf(Q, df))
