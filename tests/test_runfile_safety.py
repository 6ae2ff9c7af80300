"""Run files cannot write outside their output folder, and say in their own words what is wrong.

Names that become paths, types against the specs' annotations, inputs checked
before anything is built, messages that name run-file keys (never CLI options),
one run per output folder, and no empty folders left by a failed run.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import ROOT, assert_error, assert_unchanged, run, snapshot
from test_runfile import EXAMPLE, REGIONS, small_runfile

from rtsmig.errors import OutputError
from rtsmig.runfile.outputs import check_outputs, output_paths
from rtsmig.runfile.schema import read_runfile

MEDIATE = """
[mediate.{name}]
weights = "queen"
y = "migration"
x = ["position", "method"]
mediators = ["environment"]
draws = 100
"""


def project(tmp_path: Path) -> tuple[Path, Path]:
    """A run file two folders down, and a folder of the user's own beside the project (the victim)."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "thesis.tex").write_text("years of work\n")
    return small_runfile(work), victim


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


# --- 1. names that become paths ------------------------------------------------------------------

HOSTILE = ["../../../victim", "../x", "a/b", "/abs", "..", ".hidden", "-rf", "a..b", "a\\b", "x" * 65, "名"]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_mediation_name_that_leaves_the_output_folder_is_refused_and_nothing_changes(tmp_path, name):
    path, _ = project(tmp_path)
    edit(path, "[grid]", MEDIATE.format(name=f'"{name}"'.replace("\\", "\\\\")) + "\n[grid]")
    before = snapshot(tmp_path)
    result = run("run", path, "-q")
    assert_error(result, 2, str(path), "[mediate.", "cannot name a file", "letters, digits")
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize(
    "old, new, key",
    [
        ("[weights.knn6]", '[weights."../x"]', '[weights."../x"]'),
        ("[variables.dimensions]", '[variables."../../victim"]', '[variables."../../victim"]'),
        ("[grid]", '[samples."../s"]\ncolumn = "adcode"\nvalues = ["110100"]\n\n[grid]', '[samples."../s"]'),
        ("[grid]", '[maps."../../../victim/thesis"]\ncolumn = "migration"\n\n[grid]',
         '[maps."../../../victim/thesis"]'),
    ],
    ids=["weights", "variables", "samples", "maps"],
)
def test_every_section_name_is_checked_against_the_one_rule(tmp_path, old, new, key):
    path, _ = project(tmp_path)
    edit(path, old, new)
    before = snapshot(tmp_path)
    assert_error(run("run", path, "-q"), 2, key, "cannot name a file")
    assert_unchanged(before, tmp_path)


def test_an_output_folder_outside_the_run_files_folder_is_allowed_and_said(tmp_path):
    path, _ = project(tmp_path)
    edit(path, 'folder = "out"', 'folder = "../../elsewhere"')
    dry = run("run", path, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.splitlines()[0] == f"note\toutput folder {tmp_path / 'elsewhere'} is outside the run file's folder"
    assert not (tmp_path / "elsewhere").exists()
    edit(path, 'models = ["ols", "lag", "error"]', 'models = ["ols"]')
    done = run("run", path, "-q", "--jobs", "1")
    assert done.exit_code == 0, done.stderr
    assert f"output folder: {tmp_path / 'elsewhere'} (outside the run file's folder)" in done.stderr
    assert (tmp_path / "elsewhere" / "fits" / "dimensions" / "queen" / "ols" / "manifest.json").exists()


def test_an_output_folder_inside_the_run_files_folder_is_not_noted(tmp_path):
    result = run("run", small_runfile(tmp_path), "--dry-run")
    assert result.exit_code == 0 and "note" not in result.stdout and result.stderr == ""


def test_a_symlink_that_takes_an_output_outside_is_refused_before_anything_is_written(tmp_path):
    path, victim = project(tmp_path)
    out = path.parent / "out"
    out.mkdir()
    (out / "weights").symlink_to(victim, target_is_directory=True)
    before = snapshot(tmp_path)
    assert_error(run("run", path, "-q"), 3, "outside the output folder", "symbolic link")
    assert_unchanged(before, tmp_path)
    with pytest.raises(OutputError):
        read_runfile(path)
    (out / "weights").unlink()
    plan = read_runfile(path)
    (out / "fits").symlink_to(victim, target_is_directory=True)  # made after the run file was read
    with pytest.raises(OutputError):
        check_outputs(plan)


def test_two_outputs_with_one_path_are_refused(tmp_path):
    """Variables "d" with weights "q_impacts" and "d" with "q" would share tables/d__q_impacts.md."""
    path = small_runfile(tmp_path)
    edit(path, "[weights.knn6]", "[weights.q_impacts]")
    edit(path, "[weights.queen]", "[weights.q]")
    edit(path, "[variables.dimensions]", "[variables.d]")
    assert_error(run("run", path, "-q"), 2, "would both write", "d__q_impacts.md", "rename one")


def test_an_input_that_an_output_would_replace_is_refused(tmp_path):
    path = small_runfile(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "data.csv").rename(tmp_path / "out" / "scores.csv")
    (tmp_path / "items.toml").write_bytes((EXAMPLE / "items.toml").read_bytes())
    edit(path, 'data = "data.csv"', 'data = "out/scores.csv"')
    edit(path, "[weights.queen]", '[index]\nitems = "items.toml"\n\n[weights.queen]')
    before = snapshot(tmp_path)
    assert_error(run("run", path, "-q"), 2, "[inputs] data", "would be replaced by [index]")
    assert_unchanged(before, tmp_path)


def test_every_output_of_the_example_grid_lies_inside_its_folder(tmp_path):
    text = (EXAMPLE / "grid.toml").read_text().replace("../../shapefiles", (ROOT / "shapefiles").as_posix())
    (tmp_path / "grid.toml").write_text(text)
    for name in ("data.csv", "items.toml"):
        (tmp_path / name).write_bytes((EXAMPLE / name).read_bytes())
    plan = read_runfile(tmp_path / "grid.toml")
    root = plan.folder.resolve()
    paths = [o.path.resolve() for o in output_paths(plan)]
    assert len(paths) == len(set(paths)) > 24
    assert all(p.is_relative_to(root) and p != root for p in paths)


# --- 2. types, named with the key and what it must be --------------------------------------------

@pytest.mark.parametrize(
    "old, new, fragments",
    [
        ("k = 6", 'k = "six"', ["[weights.knn6] k must be a whole number, not the string 'six'"]),
        ('islands = "attach"', 'islands = "attach"\nthreshold = "far"', ["[weights.queen] threshold", "a number"]),
        ('islands = "attach"', 'islands = "attach"\ninverse = "yes"', ["[weights.queen] inverse", "true or false"]),
        ('islands = "attach"', 'islands = ["attach"]', ["[weights.queen] islands must be a string, not a list"]),
        ("k = 6", "k = true", ["[weights.knn6] k must be a whole number, not true"]),
        ('id = "adcode"', 'id = "adcode"\nlayer = 3', ["[inputs] layer must be a string"]),
        ('folder = "out"', "folder = 3", ["[output] folder must be a string (a path), not 3"]),
    ],
    ids=["k", "threshold", "bool", "list", "bool-for-int", "layer", "folder"],
)
def test_a_value_of_the_wrong_type_names_the_key_and_the_type(tmp_path, old, new, fragments):
    path = edit(small_runfile(tmp_path), old, new)
    assert_error(run("run", path, "-q"), 2, str(path), *fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "section, fragments",
    [
        ('[index]\nitems = "items.toml"\nmin_answered = "2"', ["[index] min_answered must be a whole number"]),
        ('[index]\nitems = ["items.toml"]', ["[index] items must be a string (a path), not a list"]),
        ('[index]\nitems = "items.txt"', ["[index] items", "items TOML file"]),
        (MEDIATE.format(name="m") + 'seed = "one"', ["[mediate.m] seed must be a whole number"]),
        (MEDIATE.format(name="m").replace('x = ["position", "method"]', 'x = "position"'),
         ["[mediate.m] x must be a list of strings, not the string"]),
        (MEDIATE.format(name="m") + "ci_level = true", ["[mediate.m] ci_level must be a number, not true"]),
        (MEDIATE.format(name="m") + "seed = -1", ["[mediate.m] seed", "at least 0"]),
        (MEDIATE.format(name="m") + 'logdet = "fast"', ["[mediate.m] logdet", "auto"]),
        (MEDIATE.format(name="m").replace('"environment"]', '"../up"]'), ["[mediate.m] mediators", "cannot name a folder"]),
        ('[maps.m]\ncolumn = "migration"\ndpi = "high"', ["[maps.m] dpi must be a whole number, not the string"]),
        ('[maps.m]\ncolumn = "migration"\nk = 5.5', ["[maps.m] k must be a whole number, not 5.5"]),
        ('[maps.m]\ncolumn = ["migration"]', ["[maps.m] column must be a string"]),
        ('[maps.m]\ncolumn = "migration"\nmode = "lisa"\nweights = 3', ["[maps.m] weights", "must name"]),
    ],
    ids=["min-answered", "items-list", "items-suffix", "seed", "x", "ci", "seed-range", "logdet", "mediator-path",
         "dpi", "k", "column", "weights"],
)
def test_analysis_options_of_the_wrong_type_name_the_key(tmp_path, section, fragments):
    path = small_runfile(tmp_path)
    (tmp_path / "items.toml").write_bytes((EXAMPLE / "items.toml").read_bytes())
    edit(path, "[grid]", section + "\n\n[grid]")
    result = run("run", path, "-q")
    assert_error(result, 2, str(path), *fragments)
    assert not (tmp_path / "out").exists()


# --- 3. run-file keys, never CLI options ---------------------------------------------------------

def test_a_spec_rule_names_the_key_of_the_table(tmp_path):
    path = edit(small_runfile(tmp_path), 'kind = "knn"\nk = 6', 'kind = "knn"')
    assert_error(run("run", path), 2, '[weights.knn6] is invalid: kind = "knn" needs k (the number of neighbours)')


def test_an_id_the_regions_lack_names_the_run_file_key(tmp_path):
    path = small_runfile(tmp_path)
    data = tmp_path / "data.csv"
    data.write_text("code" + data.read_text()[len("adcode"):])
    edit(path, 'id = "adcode"', 'id = "code"')
    result = run("run", path, "-q")
    assert_error(result, 3, "no id column 'code'", "did you mean 'adcode'", "set [inputs] id to one of them")
    assert "--id" not in result.stderr
    assert not (tmp_path / "out").exists(), "the run made the folder and left it empty: it is gone"


def test_a_failed_fit_names_the_variables_key(tmp_path):
    path = small_runfile(tmp_path)
    data = tmp_path / "data.csv"
    lines = data.read_text().splitlines()
    data.write_text("\n".join([lines[0] + ",note", *(line + ",low" for line in lines[1:])]) + "\n")
    edit(path, '"flexibility"]', '"flexibility", "note"]')
    edit(path, 'models = ["ols", "lag", "error"]', 'models = ["ols"]')
    result = run("run", path, "-q", "--jobs", "1")
    assert result.exit_code == 3, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 2 and all("'note'" in line for line in failed), result.stderr
    assert not any(" --" in line for line in failed), failed


# --- 4. inputs checked when the run file is read -------------------------------------------------

@pytest.mark.parametrize(
    "old, new, fragments",
    [
        ('data = "data.csv"', 'data = "nodata.csv"', ["[inputs] data", "nodata.csv: no such file"]),
        (f'regions = "{REGIONS.as_posix()}"', 'regions = "none.shp"', ["[inputs] regions", "none.shp: no such file"]),
        ('y = "migration"', 'y = "migraton"', ["[variables.dimensions] y = 'migraton'", "data.csv has no such column",
                                              "did you mean 'migration'"]),
        ('"flexibility"]', '"flexibility", "no_such"]', ["[variables.dimensions] x = 'no_such'", "data.csv"]),
        ('"flexibility"]', '"flexibility", "adcode"]', ["[variables.dimensions] x = 'adcode' is the id column"]),
        ("[grid]", '[samples.s]\ncolumn = "zone"\nvalues = ["a"]\n\n[grid]', ["[samples.s] column = 'zone'"]),
        ('id = "adcode"', 'id = "code"', ["[inputs] id = 'code'", "data.csv has no such column"]),
        ("[weights.queen]", '[index]\nitems = "items.toml"\n\n[weights.queen]', ["[index] items", "no such file"]),
    ],
    ids=["data", "regions", "y", "x", "x-id", "sample", "id", "items"],
)
def test_a_missing_input_or_column_is_found_before_anything_is_built(tmp_path, old, new, fragments):
    path = edit(small_runfile(tmp_path), old, new)
    before = snapshot(tmp_path)
    assert_error(run("run", path, "-q"), 3, str(path), *fragments)
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize(
    "old, new, fragments",
    [
        ('"position_q4"]', '"position_q9"]', ["reads item 'position_q9'", "did you mean 'position_q4'"]),
        ("position_index =", "migration =", ["score 'migration' has the name of a column", "rename the score"]),
        ('"method_q4"]', '"position_q4"]', ["item 'position_q4' is in both 'position_index' and 'method_index'"]),
    ],
    ids=["item", "score-name", "shared-item"],
)
def test_the_items_file_is_checked_against_the_data_before_anything_is_built(tmp_path, old, new, fragments):
    path = edit(small_runfile(tmp_path), "[weights.queen]", '[index]\nitems = "items.toml"\n\n[weights.queen]')
    (tmp_path / "items.toml").write_text((EXAMPLE / "items.toml").read_text().replace(old, new, 1))
    before = snapshot(tmp_path)
    result = run("run", path, "-q")
    assert result.exit_code in (2, 3), result.stderr
    assert_error(result, result.exit_code, *fragments)
    assert "--items" not in result.stderr
    assert_unchanged(before, tmp_path)


def test_index_scores_count_as_columns_of_the_data(tmp_path):
    path = small_runfile(tmp_path)
    (tmp_path / "items.toml").write_bytes((EXAMPLE / "items.toml").read_bytes())
    edit(path, "[weights.queen]", '[index]\nitems = "items.toml"\n\n[weights.queen]')
    edit(path, '"flexibility"]', '"flexibility_index"]')
    assert read_runfile(path).variables["dimensions"][1][-1] == "flexibility_index"
    assert run("run", path, "--dry-run").exit_code == 0


# --- 5. one run per output folder ----------------------------------------------------------------

def hold(folder: Path) -> int:
    """Take the lock a run takes, from this process (flock locks belong to the open file)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_no_wait_stops_at_once_when_another_run_holds_the_folder(tmp_path):
    path = small_runfile(tmp_path)
    stale = tmp_path / "out" / "weights" / ".queen.parquet.abc.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_text("left by a killed run, or being written by the other one")
    fd = hold(tmp_path / "out")
    try:
        before = snapshot(tmp_path)
        assert_error(run("run", path, "-q", "--no-wait"), 3, str(tmp_path / "out"), "another rtsmig run")
        assert_unchanged(before, tmp_path)  # the staging file too: only the lock holder may clean up
        bundled = tmp_path / "bundled"
        fd2 = hold(bundled)
        try:
            assert_error(run("run", "--out", bundled, "-q", "--no-wait"), 3, str(bundled), "another rtsmig run")
        finally:
            os.close(fd2)
    finally:
        os.close(fd)
    edit(path, 'models = ["ols", "lag", "error"]', 'models = ["ols"]')
    assert run("run", path, "-q", "--jobs", "1").exit_code == 0
    assert not stale.exists(), "with the lock, stale staging is removed"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fits", "tables", "weights"]


def test_a_second_run_waits_for_the_first_and_says_so(tmp_path):
    path = edit(small_runfile(tmp_path), 'models = ["ols", "lag", "error"]', 'models = ["ols"]')
    fd = hold(tmp_path / "out")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "rtsmig", "run", str(path), "-q", "--jobs", "1"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _first_line(proc, timeout=60)
        assert line == f"waiting for the run holding {tmp_path / 'out'} ...\n"
        time.sleep(0.5)
        assert proc.poll() is None and not (tmp_path / "out" / "weights").exists(), "it waits, writing nothing"
    finally:
        os.close(fd)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "2 indices/weights built, 2 fits" in err


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    """The first stderr line of ``proc``, read without blocking past ``timeout``."""
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    if not selector.select(timeout):
        proc.kill()
        pytest.fail("no line on stderr in time")
    return proc.stderr.readline()


# --- 7. no empty folders after a failed run ------------------------------------------------------

def test_a_failed_build_leaves_no_folder_it_made(tmp_path):
    path = edit(small_runfile(tmp_path), 'islands = "attach"', 'islands = "error"')  # the prefectures have islands
    result = run("run", path, "-q")
    assert_error(result, 4, "[weights.queen] islands")
    assert not (tmp_path / "out").exists()
    (tmp_path / "out").mkdir()
    assert_error(run("run", path, "-q"), 4)
    assert list((tmp_path / "out").iterdir()) == [], "the folder that was there stays; weights/ it made is gone"
    edit(path, 'folder = "out"', 'folder = "deep/er/out"')
    assert_error(run("run", path, "-q"), 4)
    assert not (tmp_path / "deep").exists(), "nor the parents it made for the output folder"


def test_failed_fits_leave_no_empty_fits_or_tables_folders(tmp_path):
    path = small_runfile(tmp_path)
    data = tmp_path / "data.csv"
    lines = data.read_text().splitlines()
    data.write_text("\n".join([lines[0] + ",flat", *(line + ",1" for line in lines[1:])]) + "\n")
    edit(path, '"flexibility"]', '"flexibility", "flat"]')  # a constant beside the intercept: singular
    result = run("run", path, "-q", "--jobs", "1")
    assert result.exit_code == 5, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["weights"]


# --- the validator raises rtsmig errors only (the fuzzing is in test_fuzz_runfile.py) ------------

@pytest.mark.parametrize("data", ["da\\u0000ta.csv", "x" * 5000 + ".csv"], ids=["nul", "too-long"])
def test_a_path_the_system_cannot_take_is_an_input_error_naming_the_key(tmp_path, data):
    path = edit(small_runfile(tmp_path), 'data = "data.csv"', f'data = "{data}"')
    assert_error(run("run", path), 3, "[inputs] data", "cannot be read")
