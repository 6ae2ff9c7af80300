"""`rtsmig run RUNFILE.toml`: validation, the grid, incremental reruns, parallel = serial bytes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import ROOT, assert_error, run

from rtsmig.runfile.execute import run_file
from rtsmig.runfile.schema import read_runfile

EXAMPLE = ROOT / "examples" / "strategy"
REGIONS = ROOT / "shapefiles" / "china_prefectures" / "china_prefectures.shp"
SMALL = """
[inputs]
regions = "{regions}"
data = "data.csv"
id = "adcode"

[weights.queen]
kind = "queen"
islands = "attach"

[weights.knn6]
kind = "knn"
k = {k}

[variables.dimensions]
y = "migration"
x = ["position", "method", "sustainability", "flexibility"]

[grid]
models = ["ols", "lag", "error"]

[output]
folder = "out"
"""


def small_runfile(folder: Path, k: int = 6) -> Path:
    shutil.copy(EXAMPLE / "data.csv", folder / "data.csv")
    path = folder / "grid.toml"
    path.write_text(SMALL.format(regions=REGIONS.as_posix(), k=k))
    return path


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_example_grid_is_24_fits_and_every_executor_writes_the_same_bytes(tmp_path):
    """In-process, two local processes, and a real Dask LocalCluster of two workers."""
    pytest.importorskip("distributed")
    from rtsmig.runfile.execute import DaskTarget

    executors = {"serial": {"jobs": 1}, "processes": {"jobs": 2}, "dask": {"dask": DaskTarget(local_workers=2)}}
    trees = {}
    for name, kwargs in executors.items():
        folder = tmp_path / name
        folder.mkdir()
        text = (EXAMPLE / "grid.toml").read_text().replace("../../shapefiles", (ROOT / "shapefiles").as_posix())
        (folder / "grid.toml").write_text(text)
        shutil.copy(EXAMPLE / "data.csv", folder / "data.csv")
        shutil.copy(EXAMPLE / "items.toml", folder / "items.toml")
        summary = run_file(read_runfile(folder / "grid.toml"), **kwargs)
        assert (len(summary.fitted), summary.failed) == (24 + 2 + 2, []), name  # fits, mediations, maps
        assert summary.built[0] == "index"
        assert len(summary.tables) == 24  # 3 weights x 2 variable sets x (models, impacts) x (md, tex)
        trees[name] = tree(folder / "grid-out")
    assert trees["serial"] == trees["processes"] == trees["dask"]


def test_rerun_fits_nothing_and_a_changed_input_refits_only_what_depends_on_it(tmp_path):
    path = small_runfile(tmp_path)
    first = run_file(read_runfile(path), jobs=1)
    assert (len(first.built), len(first.fitted)) == (2, 6)
    os.utime(tmp_path / "data.csv")  # touched, same bytes: nothing to do
    again = run_file(read_runfile(path), jobs=1)
    assert (again.built, again.fitted, len(again.skipped)) == ([], [], 6)
    small_runfile(tmp_path, k=5)  # only the knn weights and their three fits change
    changed = run_file(read_runfile(path), jobs=1)
    assert changed.built == ["knn6"]
    assert sorted(changed.fitted) == ["dimensions/knn6/error-ml", "dimensions/knn6/lag-ml", "dimensions/knn6/ols"]
    data = tmp_path / "data.csv"
    data.write_text(data.read_text().replace("110100,-0.65", "110100,-0.66", 1))
    refit = run_file(read_runfile(path), jobs=1)
    assert (refit.built, len(refit.fitted)) == ([], 6)


def test_force_refits_everything(tmp_path):
    path = small_runfile(tmp_path)
    run_file(read_runfile(path), jobs=1)
    forced = run_file(read_runfile(path), jobs=1, force=True)
    assert (len(forced.built), len(forced.fitted)) == (2, 6)


def test_dry_run_lists_and_runs_nothing(tmp_path):
    path = small_runfile(tmp_path)
    result = run("run", path, "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "run\tweights queen" and len(lines) == 2 + 6
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "edit, fragments",
    [
        (("[grid]\nmodels = [\"ols\", \"lag\", \"error\"]", "[grid]\nmodels = [\"ols\", \"lagg\"]"),
         ["[grid] models[1] = 'lagg'", "use one of ols, lag"]),
        (("kind = \"knn\"", "kind = \"knn\"\nneighbours = 3"), ["[weights.knn6]: key 'neighbours'", "use kind, k"]),
        (("id = \"adcode\"", "id = 3"), ["[inputs] id", "non-empty string"]),
        (("[output]", "[outputs]"), ["key 'outputs' is not allowed", "inputs, index, weights"]),
        (("k = 6", "k = 0"), ["[weights.knn6] is invalid", "--k"]),
        (("folder = \"out\"", "folder = "), ["not valid TOML"]),
    ],
    ids=["model", "weights-key", "id-type", "section", "weights-value", "syntax"],
)
def test_a_bad_run_file_names_the_key_and_runs_nothing(tmp_path, edit, fragments):
    path = small_runfile(tmp_path)
    path.write_text(path.read_text().replace(*edit))
    result = run("run", path)
    assert_error(result, 2, str(path), *fragments)
    assert not (tmp_path / "out").exists()


def test_a_failed_fit_does_not_stop_the_others(tmp_path):
    """A column of text fails every fit that uses it (a misspelt column is caught at validation instead)."""
    path = small_runfile(tmp_path)
    data = tmp_path / "data.csv"
    lines = data.read_text().splitlines()
    data.write_text("\n".join([lines[0] + ",note", *(line + ",low" for line in lines[1:])]) + "\n")
    path.write_text(path.read_text().replace('"flexibility"]', '"flexibility", "note"]'))
    result = run("run", path, "-q", "--jobs", "1")
    assert result.exit_code == 3
    assert result.stderr.count("failed: dimensions/") == 6
    assert "0 fits/mediations/maps run" in result.stderr and "'note'" in result.stderr


def finished(fits: Path) -> int:
    """Result folders in place; a hidden staging folder being written also holds a manifest.json."""
    try:
        return sum(not p.parent.name.startswith(".") for p in fits.rglob("manifest.json"))
    except FileNotFoundError:  # a staging folder renamed while rglob walked it: count again next poll
        return 0


def test_a_killed_run_leaves_whole_folders_and_the_next_run_finishes(tmp_path):
    path = small_runfile(tmp_path)
    cmd = [sys.executable, "-m", "rtsmig", "run", str(path), "-q", "--jobs", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fits = tmp_path / "out" / "fits"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and finished(fits) < 2:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = finished(fits)
    assert 2 <= done < 6, "the kill should land mid-way"
    for folder in fits.glob("*/*/*"):
        if not folder.name.startswith("."):  # staging folders are hidden and never results
            assert (folder / "manifest.json").exists() and (folder / "result.json").exists(), folder
    summary = run_file(read_runfile(path), jobs=1)
    assert len(summary.fitted) == 6 - done and len(summary.skipped) == done
    assert not [p for p in fits.rglob(".*") if p.name.endswith(".tmp")], "stale staging folders removed"


def test_sub_samples_fit_the_listed_regions_with_restandardised_weights(tmp_path):
    path = small_runfile(tmp_path)
    frame = (tmp_path / "data.csv").read_text().splitlines()
    rows = [frame[0] + ",zone"] + [r + ("," + ("north" if int(r.split(",")[0]) < 400000 else "south")) for r in frame[1:]]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    north = sum(r.endswith(",north") for r in rows)
    text = path.read_text().replace("[grid]", '[samples.north]\ncolumn = "zone"\nvalues = ["north"]\n\n[grid]')
    path.write_text(text.replace('models = ["ols", "lag", "error"]', 'models = ["lag"]\nsamples = ["all", "north"]'))
    summary = run_file(read_runfile(path), jobs=1)
    assert summary.failed == [] and sorted(summary.fitted) == [
        "dimensions/knn6/lag-ml", "dimensions/knn6@north/lag-ml",
        "dimensions/queen/lag-ml", "dimensions/queen@north/lag-ml",
    ]
    folder = tmp_path / "out" / "fits" / "dimensions" / "queen@north" / "lag-ml"
    result = json.loads((folder / "result.json").read_text())
    assert result["fit"]["n"] == north < len(rows) - 1
    assert len((folder / "dropped.csv").read_text().splitlines()) == 1 + (len(rows) - 1 - north)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["options"]["sample"] == {"column": "zone", "values": ["north"]}
    assert (tmp_path / "out" / "tables" / "dimensions__queen@north.md").exists()
    assert run_file(read_runfile(path), jobs=1).fitted == []  # and the sample is part of what is compared


def test_the_whole_sample_name_is_reserved(tmp_path):
    path = small_runfile(tmp_path)
    path.write_text(path.read_text().replace("[grid]", '[samples.all]\ncolumn = "adcode"\nvalues = [1]\n\n[grid]'))
    assert_error(run("run", path), 2, "[samples.all] is reserved")


def test_an_existing_dask_scheduler_runs_the_fits(tmp_path):
    distributed = pytest.importorskip("distributed")
    from rtsmig.runfile.execute import DaskTarget

    path = small_runfile(tmp_path)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        result = run("run", path, "-q", "--scheduler", cluster.scheduler_address)
        assert result.exit_code == 0, result.stderr
    assert "6 fits/mediations/maps run" in result.stderr
    assert DaskTarget(scheduler="tcp://x:1").local_workers is None


def test_scheduler_and_local_cluster_exclude_each_other(tmp_path):
    result = run("run", small_runfile(tmp_path), "--scheduler", "tcp://127.0.0.1:1", "--dask-local", "2")
    assert result.exit_code == 2 and "not both" in result.stderr
    assert not (tmp_path / "out").exists()
