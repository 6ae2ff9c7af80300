"""Every way a fit is refused: the error class, its exit code and a message naming the cause."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from models_fixtures import columbus_dataset, columbus_frame, spec

from rtsmig.dataset import Dataset
from rtsmig.errors import EstimationError, InputError, WeightsError
from rtsmig.models import fit
from rtsmig.models.logdet import LULogDet
from rtsmig.models.ml import maximise

SPATIAL = [("lag", "ml"), ("error", "ml"), ("lag", "gmm"), ("error", "gmm")]
INC = columbus_frame()["INC"].to_numpy(float)
HOVAL = columbus_frame()["HOVAL"].to_numpy(float)


def test_estimation_error_exit_code():
    assert EstimationError.exit_code == 5


@pytest.mark.parametrize("model, method", [("ols", "ml"), *SPATIAL])
def test_constant_regressor(model, method):
    data = columbus_dataset(extra={"ONES": np.full(49, 3.0)})
    with pytest.raises(EstimationError, match=r"'ONES' is constant.*drop 'ONES'"):
        fit(spec(model, method), data)


@pytest.mark.parametrize("model, method", [("ols", "ml"), *SPATIAL])
def test_perfectly_collinear_regressor(model, method):
    data = columbus_dataset(extra={"INC2": 2 * INC + 1})
    with pytest.raises(EstimationError) as info:
        fit(spec(model, method), data)
    message = str(info.value)
    assert "'INC2' is a linear combination of" in message and "'INC'" in message
    assert "drop 'INC2'" in message


def test_sum_of_two_regressors_names_both():
    with pytest.raises(EstimationError, match=r"'SUM' is a linear combination of 'INC', 'HOVAL'"):
        fit(spec(), columbus_dataset(extra={"SUM": INC + HOVAL}))


def test_numerically_collinear_regressor_is_caught():
    noise = np.random.default_rng(1).standard_normal(49) * 1e-12
    data = columbus_dataset(extra={"NEAR": INC * (1 + noise)})
    with pytest.raises(EstimationError, match="'NEAR' is a linear combination"):
        fit(spec(), data)


def test_nearly_but_not_numerically_collinear_regressor_is_fitted():
    noise = np.random.default_rng(1).standard_normal(49) * 1e-3
    result = fit(spec(), columbus_dataset(extra={"NEAR": INC * (1 + noise)}))
    assert result.fit["condition_number"] > 100


@pytest.mark.parametrize("model, method", SPATIAL)
def test_spatial_model_without_weights(model, method):
    with pytest.raises(EstimationError, match=f"the {model} model needs spatial weights"):
        fit(spec(model, method), columbus_dataset(with_w=False))


@pytest.mark.parametrize("name", ["rho", "lambda"])
def test_reserved_regressor_name(name):
    data = columbus_dataset(extra={name: np.arange(49.0)})
    with pytest.raises(EstimationError, match=f"name\\(s\\) '{name}' are reserved"):
        fit(spec("lag", "ml"), data)


def test_weights_of_the_wrong_size():
    data = dataclasses.replace(columbus_dataset(), W=sp.csr_array(sp.eye(48)))
    with pytest.raises(WeightsError, match="48x48 for 49 regions"):
        fit(spec("lag", "ml"), data)


def test_non_finite_regressor():
    data = columbus_dataset(extra={"BAD": np.r_[np.nan, np.ones(48)]})
    with pytest.raises(InputError, match="'BAD'"):
        fit(spec(), data)


def test_more_coefficients_than_regions():
    X = np.column_stack([np.ones(3), [1.0, 2.0, 4.0], [3.0, 1.0, 2.0]])
    data = Dataset(("a", "b", "c"), np.array([1.0, 2.0, 3.0]), X, "y", ("(Intercept)", "u", "v"))
    with pytest.raises(EstimationError, match="3 regions for 3 coefficients"):
        fit(spec(), data)


@pytest.mark.parametrize("model", ["lag", "error"])
def test_robust_ml_is_refused(model):
    with pytest.raises(EstimationError, match="--method gmm"):
        fit(spec(model, "ml", robust=True), columbus_dataset())


def _ring_data(n: int) -> Dataset:
    rng = np.random.default_rng(0)
    ring = sp.diags([np.full(n - 1, 0.5), np.full(n - 1, 0.5)], [-1, 1], format="lil")
    ring[0, n - 1] = ring[n - 1, 0] = 0.5
    X = np.column_stack([np.ones(n), rng.standard_normal(n)])
    return Dataset(tuple(map(str, range(n))), rng.standard_normal(n), X, "y", ("(Intercept)", "x"), sp.csr_array(ring))


def test_sac_ml_above_4000_regions_points_to_gmm():
    with pytest.raises(EstimationError, match="sac model is limited to 4,000 regions.*--method gmm"):
        fit(spec("sac", "ml"), _ring_data(4001))


def test_eigen_engine_above_4000_regions_points_to_sparse_engines():
    with pytest.raises(EstimationError, match=r"--logdet eigen .*\(limit 4,000 regions\); use --logdet auto, cholesky or lu"):
        fit(spec("lag", "ml"), _ring_data(4001), engine="eigen")


@pytest.mark.parametrize("engine", ["chebyshev", "mc"])
def test_sac_refuses_approximate_engines(engine):
    with pytest.raises(EstimationError, match=f"--logdet {engine} is not available for the sac model"):
        fit(spec("sac", "ml"), columbus_dataset(), engine=engine)


def test_chebyshev_refuses_a_w_not_similar_to_a_symmetric_matrix():
    data = _ring_data(30)
    W = data.W.tolil()
    W[0, 1], W[0, 2] = 0.25, 0.25  # row 0 now has a neighbour that does not list it
    W = sp.csr_array(W)
    W = sp.csr_array(W / W.sum(axis=1)[:, None])
    with pytest.raises(EstimationError, match="chebyshev needs a W similar to a symmetric matrix.*mc or lu"):
        fit(spec("lag", "ml"), Dataset(data.ids, data.y, data.X, "y", data.x_names, W), engine="chebyshev")


def test_parameter_on_its_bound():
    logdet = LULogDet(sp.csr_array(sp.eye(3, k=1) + sp.eye(3, k=-1)))
    with pytest.raises(EstimationError, match="rho = .* is on its bound"):
        maximise(lambda rho: rho, logdet)


@pytest.mark.parametrize("change, pattern", [
    ({"model": "sar"}, "unknown model 'sar'"),
    ({"method": "bayes"}, "unknown method 'bayes'"),
    ({"ci_level": 1.5}, "ci_level"),
])
def test_unknown_spec_values(change, pattern):
    with pytest.raises(EstimationError, match=pattern):
        fit(dataclasses.replace(spec(), **change), columbus_dataset())


def test_unknown_engine():
    with pytest.raises(EstimationError, match="unknown log-determinant engine 'dense'"):
        fit(spec("lag", "ml"), columbus_dataset(), engine="dense")
