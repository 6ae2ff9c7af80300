"""``rtsmig mediate`` end to end: simulated data with known paths, files, bytes and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import ROOT, assert_error, run

from rtsmig.io.weights_io import read_edges
from rtsmig.simulate import CHANNELS, DIMENSIONS

PREFECTURES = ROOT / "shapefiles" / "china_prefectures" / "china_prefectures.shp"
X = ",".join(DIMENSIONS)
M = ",".join(CHANNELS)
CHANNEL_BETAS = ("--beta-environment", "0.5", "--beta-technology", "0.4", "--beta-performance", "0.3")


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    """Simulated lag-model data on the prefectures, the channels entering migration, and its queen W."""
    folder = tmp_path_factory.mktemp("mediate")
    weights = folder / "queen.parquet"
    built = run("weights", "build", PREFECTURES, "--id", "adcode", "--kind", "queen", "--islands", "attach",
                "-o", weights, "-q")
    assert built.exit_code == 0, built.stderr
    data = folder / "sim.csv"
    sim = run("simulate", PREFECTURES, "--id", "adcode", "--model", "lag", "--seed", "11", *CHANNEL_BETAS,
              "-o", data, "-q")
    assert sim.exit_code == 0, sim.stderr
    return folder, data, weights


def _mediate(data, weights, out, *extra):
    return run("mediate", data, "--id", "adcode", "--weights", weights, "--x", X, "--mediators", M,
               "--y", "migration", "-o", out, "-q", *extra)


@pytest.fixture(scope="module")
def lag_run(design):
    folder, data, weights = design
    out = folder / "lag"
    result = _mediate(data, weights, out, "--model", "lag", "--draws", "1000")
    assert result.exit_code == 0, result.stderr
    return out


def test_writes_every_table_format_and_the_equations(lag_run):
    names = sorted(p.relative_to(lag_run).as_posix() for p in lag_run.rglob("*") if p.is_file())
    assert [n for n in names if n.startswith("mediation.")] == [f"mediation.{f}" for f in
                                                                ("csv", "html", "json", "md", "tex")]
    assert "manifest.json" in names
    for equation in (*CHANNELS, "migration"):
        assert f"equations/{equation}/result.json" in names
    table = run("table", *(lag_run / "equations" / e for e in (*CHANNELS, "migration")), "--format", "md")
    assert table.exit_code == 0 and "rho" in table.stdout
    long = pd.read_csv(lag_run / "mediation.csv")
    assert len(long) == len(DIMENSIONS) * (len(CHANNELS) + 3) * 3
    record = json.loads((lag_run / "mediation.json").read_text())
    assert record["spec"]["mediators"] == list(CHANNELS) and len(record["effects"]) == len(long)
    assert r"\toprule" in (lag_run / "mediation.tex").read_text()
    assert "<table>" in (lag_run / "mediation.html").read_text()


def _truth_effects(design) -> dict[tuple[str, str], dict[str, float]]:
    """True via-channel effects of the simulation, from its truth file and the dense W."""
    _, data, weights = design
    truth = json.loads(data.with_suffix(".truth.json").read_text())
    ids = pd.read_csv(data, dtype={"adcode": str})["adcode"].tolist()
    W = read_edges(weights).transform("r").aligned(ids).toarray()
    n = len(ids)
    multiplier = np.linalg.inv(np.eye(n) - truth["rho"] * W)
    out = {}
    for cause in DIMENSIONS:
        for channel in CHANNELS:
            scale = truth["beta"][channel] * truth["channels"]["coefficients"][channel][cause]
            internal, total = scale * np.trace(multiplier) / n, scale * multiplier.sum() / n
            out[cause, channel] = {"internal": internal, "external": total - internal, "total": total}
    return out


def test_true_indirect_effects_lie_in_their_intervals(design, lag_run):
    long = pd.read_csv(lag_run / "mediation.csv")
    misses = []
    for (cause, channel), truth in _truth_effects(design).items():
        for part, value in truth.items():
            row = long[(long.cause == cause) & (long.path == "via " + channel) & (long.part == part)].iloc[0]
            if not row.ci_low <= value <= row.ci_high:
                misses.append((cause, channel, part))
    # 36 intervals at 95%: about 2 misses are expected; 7 or more has probability
    # below 0.5% for independent intervals. tests/test_mediation.py checks the
    # coverage rate over many data sets.
    assert len(misses) <= 6, misses


def test_same_inputs_same_bytes(design, lag_run, tmp_path):
    _, data, weights = design
    again = tmp_path / "again"
    assert _mediate(data, weights, again, "--model", "lag", "--draws", "1000").exit_code == 0
    for path in lag_run.rglob("*"):
        if path.is_file():
            assert (again / path.relative_to(lag_run)).read_bytes() == path.read_bytes(), path


def test_error_model_reports_totals_only(design, tmp_path):
    _, data, weights = design
    result = _mediate(data, weights, tmp_path / "error", "--model", "error", "--draws", "200")
    assert result.exit_code == 0, result.stderr
    long = pd.read_csv(tmp_path / "error" / "mediation.csv")
    assert set(long["part"]) == {"total"}


def test_missing_values_are_refused_or_dropped(design, tmp_path):
    _, data, weights = design
    frame = pd.read_csv(data, dtype={"adcode": str})
    frame.loc[5, "technology"] = np.nan
    holey = tmp_path / "holey.csv"
    frame.to_csv(holey, index=False)
    refused = _mediate(holey, weights, tmp_path / "out", "--draws", "200")
    assert_error(refused, 3, "technology")
    assert not (tmp_path / "out").exists()
    dropped = _mediate(holey, weights, tmp_path / "out", "--draws", "200", "--na", "drop")
    assert dropped.exit_code == 0, dropped.stderr
    assert (tmp_path / "out" / "dropped.csv").read_text() == f"adcode\n{frame.loc[5, 'adcode']}\n"


@pytest.mark.parametrize(
    ("args", "code", "fragments"),
    [
        (("--mediators", "environment,nope"), 3, ("nope",)),
        (("--mediators", "migration"), 2, ("migration", "more than one role")),
        (("--x", "position,position"), 2, ("position", "more than one role")),
        (("--draws", "10"), 2, ("--draws",)),
    ],
)
def test_bad_options(design, tmp_path, args, code, fragments):
    _, data, weights = design
    result = run("mediate", data, "--id", "adcode", "--weights", weights, "-o", tmp_path / "out", "-q", *args)
    assert result.exit_code == code, result.stderr
    if code == 3:
        assert_error(result, 3, *fragments)
    else:
        assert all(f in result.stderr for f in fragments), result.stderr
    assert not (tmp_path / "out").exists()


def test_weights_of_other_regions(design, tmp_path):
    _, data, _ = design
    columbus = tmp_path / "columbus.gal"
    built = run("weights", "build", ROOT / "shapefiles" / "columbus" / "columbus.shp", "--id", "POLYID",
                "-o", columbus, "-q")
    assert built.exit_code == 0
    result = _mediate(data, columbus, tmp_path / "out", "--draws", "200")
    assert_error(result, 4)
    assert not (tmp_path / "out").exists()
