"""``rtsmig simulate``: determinism, layout, truth file, and recovery of the true parameters."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import typer
from cli_helpers import COLUMBUS_SHP, assert_error
from shapely.geometry import box
from typer.testing import CliRunner

from rtsmig.cli.app import _new_app, reporting_errors
from rtsmig.cli.commands import simulate as simulate_cmd
from rtsmig.dataset import build_dataset
from rtsmig.errors import OutputError
from rtsmig.models import FitSpec, fit
from rtsmig.simulate import CHANNELS, DIMENSIONS, SimulationSpec, item_columns, simulate_design
from rtsmig.weights import WeightsSpec, aligned_matrix, build_weights

# A throwaway app: app.py registers the command itself, these tests need only the command.
app = _new_app(name="rtsmig")
app.command("simulate")(reporting_errors(simulate_cmd.simulate))


@app.callback()
def _root() -> None:
    """Keep ``simulate`` a subcommand, as in the real app."""


def run(*args: object):
    return CliRunner().invoke(app, ["simulate", *(str(a) for a in args)])


def simulate_files(tmp_path, name: str, *args: object, regions=COLUMBUS_SHP, id_col="POLYID"):
    out = tmp_path / f"{name}.csv"
    result = run(regions, "--id", id_col, "-o", out, "-q", *args)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert result.stdout == ""
    return out, tmp_path / f"{name}.truth.json"


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = simulate_files(tmp_path, "a", "--model", "lag", "--seed", 7)
    b = simulate_files(tmp_path, "b", "--model", "lag", "--seed", 7)
    c = simulate_files(tmp_path, "c", "--model", "lag", "--seed", 8)
    assert a[0].read_bytes() == b[0].read_bytes()
    assert a[1].read_bytes() == b[1].read_bytes()
    assert a[0].read_bytes() != c[0].read_bytes()
    left, right = pd.read_csv(a[0]), pd.read_csv(c[0])
    assert not np.allclose(left["migration"], right["migration"])


def test_columns_dtypes_and_items(tmp_path):
    out, _ = simulate_files(tmp_path, "d", "--model", "error", "--seed", 3)
    data = pd.read_csv(out, dtype={"POLYID": str})
    regions = gpd.read_file(COLUMBUS_SHP)
    expected = ["POLYID", *DIMENSIONS, *CHANNELS, "migration", *item_columns(4)]
    assert list(data.columns) == expected
    assert list(data["POLYID"]) == [str(i) for i in regions["POLYID"]]  # the regions' order
    for column in [*DIMENSIONS, *CHANNELS, "migration"]:
        assert data[column].dtype == np.float64
    items = data[item_columns(4)]
    assert all(dtype == np.int64 for dtype in items.dtypes)
    assert items.isin([1, 2, 3, 4, 5]).all().all()
    for dim in DIMENSIONS:
        assert data[dim].mean() == pytest.approx(0, abs=1e-9)
        mean = data[[f"{dim}_q{m}" for m in range(1, 5)]].mean(axis=1)
        assert np.corrcoef(mean, data[dim])[0, 1] > 0.8, dim


def test_three_items_per_dimension(tmp_path):
    out, truth = simulate_files(tmp_path, "t", "--model", "lag", "--seed", 1, "--items", 3)
    data = pd.read_csv(out)
    assert [c for c in data.columns if "_q" in c] == item_columns(3)
    assert json.loads(truth.read_text())["items"]["per_dimension"] == 3


def test_truth_records_the_command_line(tmp_path):
    _, path = simulate_files(
        tmp_path, "s", "--model", "durbin", "--seed", 11, "--rho", 0.3, "--beta-position", 1.5,
        "--beta-technology", -0.25, "--intercept", 2, "--sigma", 0.7, "--phi", 0.2, "--theta", 0.1,
    )
    truth = json.loads(path.read_text())
    assert truth["model"] == "durbin"
    assert truth["seed"] == 11 and truth["n"] == 49
    assert truth["rho"] == 0.3 and "lambda" not in truth
    assert truth["beta"] == {
        "(Intercept)": 2.0, "position": 1.5, "method": 0.5, "sustainability": 0.3,
        "flexibility": 0.6, "technology": -0.25,
    }
    assert truth["regressors"] == [*DIMENSIONS, "technology"]
    assert truth["theta"] == dict.fromkeys(truth["regressors"], 0.1)
    assert truth["sigma"] == 0.7 and truth["dimensions"]["phi"] == 0.2
    assert set(truth["channels"]["coefficients"]) == set(CHANNELS)
    assert truth["items"]["thresholds"] == [-1.5, -0.5, 0.5, 1.5]
    assert truth["weights"]["kind"] == "queen" and truth["weights"]["islands"] == "attach"
    assert truth["weights"]["summary"]["n"] == 49
    assert truth["command"] == "simulate"
    assert truth["inputs"]["regions"]["file"] == "columbus.shp"
    assert truth["options"]["rho"] == 0.3 and truth["options"]["seed"] == 11


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--model", "lag", "--rho", 1.0), "--rho"),
        (("--model", "durbin", "--rho", -1.2), "--rho"),
        (("--model", "error", "--lambda", 1.5), "--lambda"),
        (("--model", "error", "--rho", 0.3), "--rho does not apply"),
        (("--model", "lag", "--theta", "0.1,0.2"), "--theta"),
    ],
)
def test_bad_parameters_are_usage_errors(tmp_path, args, fragment):
    out = tmp_path / "bad.csv"
    result = run(COLUMBUS_SHP, "--id", "POLYID", "-o", out, "--seed", 1, *args)
    assert result.exit_code == 2, (result.stderr, result.exception)
    assert fragment in result.stderr
    assert not out.exists() and not (tmp_path / "bad.truth.json").exists()


def test_bad_rho_raises_bad_parameter_when_called_directly(tmp_path):
    with pytest.raises(typer.BadParameter, match="--rho"):
        simulate_cmd.simulate(
            COLUMBUS_SHP, tmp_path / "x.csv", "POLYID", simulate_cmd.SimModel.lag, 1, rho=1.0, quiet=True
        )


def test_output_must_be_csv(tmp_path):
    result = run(COLUMBUS_SHP, "--id", "POLYID", "-o", tmp_path / "x.parquet", "--model", "lag", "--seed", 1)
    assert result.exit_code == 2
    assert ".csv" in result.stderr


def test_missing_id_column_is_an_input_error(tmp_path):
    result = run(COLUMBUS_SHP, "--id", "NOPE", "-o", tmp_path / "x.csv", "--model", "lag", "--seed", 1)
    assert_error(result, 3, "NOPE")
    assert list(tmp_path.iterdir()) == []


def test_failed_truth_write_leaves_no_data(tmp_path, disk_full):
    attempts = disk_full(1)  # the data file is staged, then the disk fills up before the truth file
    with pytest.raises(OutputError, match="No space left on device"):
        simulate_cmd.simulate(
            COLUMBUS_SHP, tmp_path / "x.csv", "POLYID", simulate_cmd.SimModel.lag, 1, quiet=True
        )
    assert len(attempts) == 2
    assert list(tmp_path.iterdir()) == []


def test_sparse_dgp_matches_dense_formula():
    """The sparse solves agree with the textbook dense formulas on a small ring."""
    n = 12
    W = np.zeros((n, n))
    for i in range(n):
        W[i, (i - 1) % n] = W[i, (i + 1) % n] = 0.5
    ids = [f"r{i}" for i in range(n)]
    spec = SimulationSpec(model="durbin", seed=5, rho=0.6, theta=dict.fromkeys(DIMENSIONS, -0.3))
    frame = simulate_design(W, spec, ids)
    rng = np.random.default_rng(5)
    u, _, eps = rng.standard_normal((n, 4)), rng.standard_normal((n, 3)), rng.standard_normal(n)
    d = np.linalg.solve(np.eye(n) - 0.5 * W, u)
    d = (d - d.mean(axis=0)) / d.std(axis=0)
    X = frame[list(DIMENSIONS)].to_numpy()
    np.testing.assert_allclose(X, d, atol=1e-12)
    beta = np.array([spec.betas[c] for c in DIMENSIONS])
    y = np.linalg.solve(np.eye(n) - 0.6 * W, 1.0 + X @ beta + W @ X @ np.full(4, -0.3) + eps)
    np.testing.assert_allclose(frame["migration"], y, atol=1e-10)
    assert list(frame.index) == ids


@pytest.fixture(scope="module")
def lattice(tmp_path_factory):
    """A 30 x 30 lattice of unit squares (n = 900) as a GeoPackage, and its queen W."""
    cells = [(r, c) for r in range(30) for c in range(30)]
    layer = gpd.GeoDataFrame(
        {"cell": [f"c{r:02d}{c:02d}" for r, c in cells]},
        geometry=[box(c, r, c + 1, r + 1) for r, c in cells],
        crs="EPSG:3857",  # planar units; a CRS only keeps pyogrio from warning
    )
    path = tmp_path_factory.mktemp("lattice") / "lattice.gpkg"
    layer.to_file(path, engine="pyogrio")
    regions = layer.set_index("cell")
    W = aligned_matrix(build_weights(regions, WeightsSpec(kind="queen")).graph, list(regions.index))
    return path, W


@pytest.mark.parametrize(("model", "spatial", "term"), [("lag", "--rho", "rho"), ("error", "--lambda", "lambda")])
def test_ml_fit_recovers_the_truth_on_the_lattice(tmp_path, lattice, model, spatial, term):
    path, W = lattice
    out, truth_path = simulate_files(
        tmp_path, model, "--model", model, "--seed", 2024, spatial, 0.5, regions=path, id_col="cell"
    )
    truth = json.loads(truth_path.read_text())
    frame = pd.read_csv(out, dtype={"cell": str}).set_index("cell")
    dataset = build_dataset(frame, "migration", DIMENSIONS, source=str(out), W=W)
    result = fit(FitSpec(model=model, method="ml", y="migration", x=DIMENSIONS), dataset)
    table = result.tidy().set_index("term")
    expected = {**truth["beta"], term: truth[term]}
    assert set(expected) == set(table.index)
    for name, value in expected.items():
        assert table.loc[name, "ci_low"] <= value <= table.loc[name, "ci_high"], (name, value, table.loc[name])
