"""The bundled strategy example: its synthetic data, `rtsmig run`, and the Makefile.

The data are examples/strategy/data.csv, made by `rtsmig simulate` with the
parameters in data.truth.json; the Makefile and `rtsmig run` must agree byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import ROOT, assert_error, run

from rtsmig.models.spec import INTERCEPT
from rtsmig.pipeline.strategy import INDICES, MAPS, MODELS
from rtsmig.simulate import CHANNELS, DIMENSIONS

EXAMPLE = ROOT / "examples" / "strategy"
TRUTH = json.loads((EXAMPLE / "data.truth.json").read_text())


@pytest.fixture(scope="module")
def run_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "rtsmig-out"
    result = run("run", "--out", out, "-q")
    assert result.exit_code == 0, (result.stderr, result.exception)
    printed = result.stdout.split()
    tables = ("reliability.md", "reliability.tex", "models.md", "impacts.md", "models.tex", "impacts.tex",
              "mediation/mediation.md", "mediation/mediation.tex", *(f"maps/{m}" for m in MAPS))
    assert printed == [str(out / name) for name in tables]
    return out


def test_truth_describes_the_bundled_data():
    data = pd.read_csv(EXAMPLE / "data.csv", dtype={"adcode": str})
    assert TRUTH["model"] == "lag" and TRUTH["n"] == len(data) == 370
    assert tuple(TRUTH["regressors"]) == (*DIMENSIONS, *CHANNELS)
    assert data["adcode"].is_unique


def test_lag_fit_recovers_every_true_parameter(tmp_path):
    """On the latent dimensions, every true coefficient and rho lies inside its 95% interval (seed 2026, the first
    tried). The example itself fits the survey indices, which measure the dimensions with error."""
    weights = tmp_path / "queen.parquet"
    regions = ROOT / "shapefiles" / "china_prefectures" / "china_prefectures.shp"
    assert run("weights", "build", regions, "--id", "adcode", "--kind", "queen", "--islands", "attach",
               "-o", weights, "-q").exit_code == 0
    fitted = run("fit", EXAMPLE / "data.csv", "--id", "adcode", "--weights", weights, "--model", "lag",
                 "--x", ",".join((*DIMENSIONS, *CHANNELS)), "-o", tmp_path / "lag", "-q")
    assert fitted.exit_code == 0, fitted.stderr
    coefs = pd.read_csv(tmp_path / "lag" / "coefficients.csv").set_index("term")
    truth = {**TRUTH["beta"], "rho": TRUTH["rho"]}
    assert set(coefs.index) == set(truth) | {INTERCEPT}
    for term, value in truth.items():
        low, high = coefs.loc[term, ["ci_low", "ci_high"]]
        assert low < value < high, (term, value, low, high)


def test_run_writes_tables_and_folders(run_out):
    for model in MODELS:
        assert (run_out / model / "manifest.json").is_file()
    impacts = (run_out / "impacts.md").read_text()
    assert "position\\_index (indirect)" in impacts and "lag (ML)" in impacts
    assert "OLS" in (run_out / "models.tex").read_text()
    scores = pd.read_csv(run_out / "scores.csv", dtype={"adcode": str})
    assert list(scores.columns[-4:]) == list(INDICES)
    assert "Cronbach" in (run_out / "reliability.md").read_text()
    mediation = pd.read_csv(run_out / "mediation" / "mediation.csv")
    assert set(mediation["cause"]) == set(INDICES)
    assert sorted(p.name for p in (run_out / "maps").glob("*.png")) == sorted(MAPS)


def test_impacts_table_of_a_model_without_impacts_is_an_error(run_out, tmp_path):
    target = tmp_path / "impacts.md"
    result = run("table", run_out / "ols", run_out / "error", "--impacts", "-o", target)
    assert_error(result, 3, "has impacts", "ols")
    assert not target.exists()


def _make(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(EXAMPLE), *args], env=env, capture_output=True, text=True, check=False)


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_makefile_matches_rtsmig_run_and_reruns_as_a_no_op(run_out, tmp_path):
    """make builds everything once, a second make does nothing, and the bytes equal `rtsmig run`'s."""
    assert shutil.which("make"), "GNU make is needed for the example (apt-get install make)"
    env = {**os.environ, "RTSMIG": f"{sys.executable} -m rtsmig", "OUT": str(tmp_path / "out")}
    first = _make(env=env)
    assert first.returncode == 0, first.stderr
    second = _make(env=env)
    assert second.returncode == 0 and "Nothing to be done" in second.stdout, second.stdout
    assert _tree_bytes(tmp_path / "out") == _tree_bytes(run_out)
