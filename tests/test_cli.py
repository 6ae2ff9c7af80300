"""End-to-end CLI behaviour on the bundled Columbus data."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pytest
from cli_helpers import COLUMBUS_SHP, REFERENCE, ROOT, run

from rtsmig import __version__

R = json.loads((REFERENCE / "columbus.json").read_text())["models"]


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"rtsmig {__version__}\n"


def test_python_dash_m_runs_the_same_app():
    done = subprocess.run([sys.executable, "-m", "rtsmig", "--version"], check=False, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0
    assert done.stdout.strip() == f"rtsmig {__version__}"


@pytest.mark.parametrize(
    "command",
    [["weights", "build"], ["weights", "describe"], ["fit"], ["table"], ["simulate"], ["run"], ["select"],
     ["index"], ["mediate"], ["map"]],
)
def test_every_command_has_help_with_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Example: rtsmig " + " ".join(command) in " ".join(result.stdout.split())


@pytest.fixture(scope="module")
def queen_gal(tmp_path_factory):
    out = tmp_path_factory.mktemp("w") / "queen.gal"
    result = run("weights", "build", COLUMBUS_SHP, "--id", "POLYID", "--kind", "queen", "-o", out, "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    return out


def _gal_neighbours(path):
    lines = path.read_text().split("\n")
    n = int(lines[0].split()[-1])
    pairs = {}
    for i in range(n):
        focal = lines[1 + 2 * i].split()[0]
        pairs[focal] = set(lines[2 + 2 * i].split())
    return pairs


def test_weights_build_queen_equals_spdep(queen_gal):
    assert _gal_neighbours(queen_gal) == _gal_neighbours(REFERENCE / "columbus_queen.gal")


def test_weights_sidecar_records_summary_options_and_input_hash(queen_gal):
    sidecar = json.loads(queen_gal.with_name("queen.gal.json").read_text())
    assert sidecar["summary"]["n"] == 49
    assert sidecar["summary"]["links"] == 236
    assert sidecar["options"]["kind"] == "queen"
    assert sidecar["options"]["id"] == "POLYID"
    expected = hashlib.sha256(COLUMBUS_SHP.read_bytes()).hexdigest()
    assert sidecar["inputs"]["regions"]["sha256"]["columbus.shp"] == expected


def test_weights_describe_json(queen_gal):
    result = run("weights", "describe", queen_gal, "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["n"], summary["links"], summary["components"], summary["islands"]) == (49, 236, 1, [])
    assert summary["symmetric"] is True


def _fit(tmp_path, weights, model, method="ml", *extra):
    out = tmp_path / f"{model}-{method}"
    result = run(
        "fit", COLUMBUS_SHP, "--id", "POLYID", "--weights", weights, "--model", model, "--method", method,
        "--y", "CRIME", "--x", "INC,HOVAL", "-o", out, "-q", *extra,
    )
    assert result.exit_code == 0, (result.stderr, result.exception)
    return out


def test_fit_lag_writes_every_file_and_matches_r(tmp_path, queen_gal):
    out = _fit(tmp_path, queen_gal, "lag")
    expected = {"coefficients.csv", "fit.csv", "diagnostics.csv", "impacts.csv", "result.json",
                "summary.md", "manifest.json"}
    assert {p.name for p in out.iterdir()} == expected
    coefs = pd.read_csv(out / "coefficients.csv").set_index("term")
    assert coefs.loc["rho", "estimate"] == pytest.approx(R["lag_ml"]["rho"], rel=1e-4)
    assert coefs.loc["INC", "std_error"] == pytest.approx(R["lag_ml"]["se"]["INC"], rel=1e-4)
    impacts = pd.read_csv(out / "impacts.csv").set_index(["variable", "effect"])
    assert impacts.loc[("INC", "indirect"), "estimate"] == pytest.approx(R["lag_ml"]["impacts"]["INC"]["indirect"], rel=1e-4)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["weights"]["file"] == "queen.gal"
    assert manifest["options"]["model"] == "lag"


def test_fit_outputs_are_byte_identical_across_runs(tmp_path, queen_gal):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _fit(tmp_path / "a", queen_gal, "error")
    second = _fit(tmp_path / "b", queen_gal, "error")
    for file in first.iterdir():
        assert file.read_bytes() == (second / file.name).read_bytes(), file.name
    assert str(tmp_path) not in (first / "result.json").read_text()
    assert str(tmp_path) not in (first / "manifest.json").read_text()


def test_fit_ols_without_weights_skips_spatial_tests(tmp_path):
    out = tmp_path / "ols"
    result = run("fit", COLUMBUS_SHP, "--id", "POLYID", "--y", "CRIME", "--x", "INC,HOVAL", "-o", out, "-q")
    assert result.exit_code == 0, result.stderr
    names = set(pd.read_csv(out / "diagnostics.csv")["name"])
    assert "Jarque-Bera" in names and "LM lag" not in names


def test_table_compares_models_side_by_side(tmp_path, queen_gal):
    folders = [_fit(tmp_path, queen_gal, m) for m in ("ols", "lag", "error")]
    result = run("table", *folders, "--format", "md")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert header.index("OLS") < header.index("lag (ML)") < header.index("error (ML)")
    out = tmp_path / "t.tex"
    assert run("table", *folders, "-o", out).exit_code == 0
    assert "\\toprule" in out.read_text()
