"""The library's own input checks (the Python API; the CLI's reader catches these earlier).

One ``pytest.raises`` per raise in :mod:`rtsmig.models.checks` that the CLI cannot reach:
arrays of the wrong shape, non-finite values, weights of the wrong size or without links.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from models_fixtures import columbus_dataset

from rtsmig.errors import InputError, WeightsError
from rtsmig.models import FitSpec, fit

SPEC = FitSpec(model="lag", y="CRIME", x=("INC", "HOVAL"), impacts_se="none")


@pytest.fixture
def data():
    return columbus_dataset()


def test_y_and_x_of_different_lengths(data):
    with pytest.raises(InputError, match="one row per region"):
        fit(SPEC, dataclasses.replace(data, y=data.y[:-1]))


def test_x_without_the_intercept_first(data):
    with pytest.raises(InputError, match="must start with the '\\(Intercept\\)' column"):
        fit(SPEC, dataclasses.replace(data, x_names=(*data.x_names[1:], data.x_names[0])))


def test_non_finite_outcome_names_the_ids(data):
    y = data.y.copy()
    y[3] = np.nan
    with pytest.raises(InputError, match=f"missing or infinite values at ids '{data.ids[3]}'"):
        fit(SPEC, dataclasses.replace(data, y=y))


def test_non_finite_regressor(data):
    X = data.X.copy()
    X[5, 2] = np.inf
    with pytest.raises(InputError, match="HOVAL"):
        fit(SPEC, dataclasses.replace(data, X=X))


def test_weights_of_another_size(data):
    with pytest.raises(WeightsError, match="for 49 regions"):
        fit(SPEC, dataclasses.replace(data, W=sp.csr_array(sp.eye(10))))


def test_weights_without_links(data):
    with pytest.raises(WeightsError, match="no links"):
        fit(SPEC, dataclasses.replace(data, W=sp.csr_array((data.n, data.n))))
