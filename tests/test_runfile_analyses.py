"""Run files with [index], [mediate.NAME] and [maps.NAME]: outputs, incremental reruns, validation."""

from __future__ import annotations

import json
import shutil

import pytest
from cli_helpers import assert_error, run
from test_runfile import EXAMPLE, small_runfile

from rtsmig.runfile.execute import run_file
from rtsmig.runfile.schema import read_runfile

INDICES = '["position_index", "method_index", "sustainability_index", "flexibility_index"]'
SECTIONS = f"""
[index]
items = "items.toml"

[mediate.channels]
weights = "queen"
y = "migration"
x = {INDICES}
mediators = ["environment", "technology", "performance"]
draws = 200

[maps.lisa]
column = "position_index"
mode = "lisa"
weights = "knn6"
permutations = 99
dpi = 60
"""


def analyses_runfile(folder, sections: str = SECTIONS):
    path = small_runfile(folder)
    shutil.copy(EXAMPLE / "items.toml", folder / "items.toml")
    text = path.read_text().replace("[grid]", sections + "\n[grid]")
    path.write_text(text.replace('models = ["ols", "lag", "error"]', 'models = ["lag"]'))
    return path


def test_index_mediation_and_map_run_once_and_rerun_only_after_a_change(tmp_path):
    path = analyses_runfile(tmp_path)
    first = run_file(read_runfile(path), jobs=1)
    assert first.failed == [] and first.built == ["index", "queen", "knn6"]
    assert first.fitted == ["dimensions/queen/lag-ml", "dimensions/knn6/lag-ml", "mediate channels", "map lisa"]
    out = tmp_path / "out"
    assert (out / "tables" / "reliability.md").exists() and (out / "mediation" / "channels" / "mediation.md").exists()
    assert (out / "maps" / "lisa.png").exists() and (out / "maps" / "lisa.png.json").exists()
    manifest = json.loads((out / "fits" / "dimensions" / "queen" / "lag-ml" / "manifest.json").read_text())
    assert manifest["inputs"]["data"]["file"] == "scores.csv"  # the fits read the scored data
    again = run_file(read_runfile(path), jobs=1)
    assert (again.built, again.fitted) == ([], [])
    assert "mediate channels" in again.skipped and "map lisa" in again.skipped
    items = tmp_path / "items.toml"
    items.write_text(items.read_text().replace(', "position_q4"]', "]"))  # a 3-item position scale
    changed = run_file(read_runfile(path), jobs=1)
    assert changed.built == ["index"]
    assert changed.fitted == ["dimensions/queen/lag-ml", "dimensions/knn6/lag-ml", "mediate channels", "map lisa"]


def test_dry_run_lists_the_index_first_and_the_analyses_last(tmp_path):
    result = run("run", analyses_runfile(tmp_path), "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "run\tindex scores.csv"
    assert lines[-2:] == ["run\tmediate channels", "run\tmap lisa"]
    assert not (tmp_path / "out").exists()


def test_a_failed_mediation_is_reported_and_the_map_still_drawn(tmp_path):
    path = analyses_runfile(tmp_path, SECTIONS.replace('"performance"]', '"no_such_channel"]'))
    result = run("run", path, "-q", "--jobs", "1")
    assert result.exit_code == 3
    assert "failed: mediate channels" in result.stderr and "no_such_channel" in result.stderr
    assert (tmp_path / "out" / "maps" / "lisa.png").exists()
    assert not (tmp_path / "out" / "mediation" / "channels").exists()


@pytest.mark.parametrize(
    "edit, fragments",
    [
        (('weights = "queen"\ny', 'weights = "nope"\ny'), ["[mediate.channels] weights", "queen, knn6"]),
        (("draws = 200", "draws = 5"), ["[mediate.channels] is invalid", "--draws"]),
        (("draws = 200", 'model = "sac"'), ["[mediate.channels] model", "lag, durbin, error"]),
        (('mode = "lisa"\nweights = "knn6"', 'mode = "lisa"'), ["[maps.lisa] weights", "must name"]),
        (("permutations = 99", "permutations = 0"), ["[maps.lisa] is invalid", "permutations"]),
        (("permutations = 99", "colour = 1"), ["[maps.lisa]: key 'colour'", "column"]),
        (('items = "items.toml"', 'items = "items.toml"\nmethod = "median"'), ["[index] method", "mean, pca"]),
    ],
    ids=["weights", "draws", "model", "lisa-weights", "permutations", "map-key", "index-method"],
)
def test_a_bad_section_names_the_key_and_runs_nothing(tmp_path, edit, fragments):
    path = analyses_runfile(tmp_path)
    path.write_text(path.read_text().replace(*edit))
    assert_error(run("run", path), 2, str(path), *fragments)
    assert not (tmp_path / "out").exists()
