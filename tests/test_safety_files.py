"""Never lose a user's file: what rtsmig may replace, and what a failed write leaves.

Each test takes a snapshot of every file before a command that must fail and
asserts that all of them are byte-identical after it (docs/guarantees.md).
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest
from cli_helpers import COLUMBUS_SHP, REFERENCE, ROOT, assert_error, assert_unchanged, run, snapshot

from rtsmig.errors import RtsmigWarning

DATA = REFERENCE / "columbus.csv"
GAL = REFERENCE / "columbus_queen.gal"
STRATEGY = ROOT / "examples" / "strategy"


def fit(data: Path, output: Path, *extra: object):
    return run("fit", data, "--id", "id", "--weights", GAL, "--model", "lag", "--y", "CRIME", "--x", "INC",
               "-o", output, "-q", *extra)


def user_project(tmp_path: Path) -> Path:
    """A folder of the user's own: data and notes rtsmig did not write."""
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(DATA, proj / "data.csv")
    (proj / "notes.txt").write_text("my notes\n")
    return proj


# --- Results folders: only rtsmig's own are replaced -------------------------------------------

def test_a_folder_holding_an_input_is_never_the_output(tmp_path):
    proj = user_project(tmp_path)
    before = snapshot(tmp_path)
    assert_error(fit(proj / "data.csv", proj), 3, str(proj), "input of this command")
    assert_unchanged(before, tmp_path)


def test_a_users_folder_is_not_replaced_by_a_results_folder(tmp_path):
    proj = user_project(tmp_path)
    before = snapshot(tmp_path)
    assert_error(fit(DATA, proj), 3, "rtsmig did not write", "choose a new folder name")
    assert_unchanged(before, tmp_path)


def test_an_input_inside_an_rtsmig_folder_is_refused_too(tmp_path):
    out = tmp_path / "out"
    assert fit(DATA, out).exit_code == 0
    shutil.copy(DATA, out / "data.csv")  # the user keeps data inside a results folder
    before = snapshot(tmp_path)
    assert_error(fit(out / "data.csv", out), 3, "input of this command")
    assert_unchanged(before, tmp_path)


def test_rtsmig_replaces_its_own_results_folder_and_an_empty_one(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert fit(DATA, out).exit_code == 0
    first = (out / "coefficients.csv").read_bytes()
    assert fit(DATA, out, "--x", "INC,HOVAL").exit_code == 0
    assert (out / "coefficients.csv").read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging or backup left


def test_a_manifest_of_another_tool_is_no_mark(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "something else"}\n')
    before = snapshot(tmp_path)
    assert_error(fit(DATA, out), 3, "rtsmig did not write")
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize("output", [".", "..", ""])
def test_the_current_folder_is_never_a_results_folder(tmp_path, monkeypatch, output):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    shutil.copy(DATA, work / "data.csv")
    before = snapshot(tmp_path)
    result = fit(Path("data.csv"), Path(output) if output else Path("."))
    assert_error(result, 3, "current folder")
    assert_unchanged(before, tmp_path)


def test_a_file_where_a_folder_is_expected(tmp_path):
    target = tmp_path / "out"
    target.write_text("a file\n")
    before = snapshot(tmp_path)
    assert_error(fit(DATA, target), 3, "is not a folder")
    assert_unchanged(before, tmp_path)


def test_a_symlinked_results_folder_is_replaced_behind_its_link(tmp_path):
    real = tmp_path / "real"
    assert fit(DATA, real).exit_code == 0
    link = tmp_path / "link"
    link.symlink_to(real)
    assert fit(DATA, link, "--x", "INC,HOVAL").exit_code == 0
    assert link.is_symlink() and "HOVAL" in (real / "coefficients.csv").read_text()


# --- Single files: regular files only, symlinks written through ----------------------------------

@pytest.fixture
def fitted(tmp_path) -> Path:
    out = tmp_path / "fits" / "lag"
    out.parent.mkdir()
    assert fit(DATA, out).exit_code == 0
    return out


def test_dash_means_standard_output(fitted, tmp_path):
    result = run("table", fitted, "-o", "-")
    assert result.exit_code == 0 and "rho" in result.stdout
    assert not (Path.cwd() / "-").exists()


def test_a_folder_where_a_file_is_expected(fitted, tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    assert_error(run("table", fitted, "-o", folder), 3, "is a folder")
    assert_unchanged(before, tmp_path)


def test_a_device_is_never_replaced(fitted, tmp_path):
    null = Path(os.devnull)
    assert_error(run("table", fitted, "-o", null), 3, "not a regular file", "-o -")
    assert null.is_char_device()


def test_a_pipe_is_never_replaced(fitted, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    before = snapshot(tmp_path)
    assert_error(run("table", fitted, "-o", fifo), 3, "not a regular file")
    assert_unchanged(before, tmp_path)


def test_dev_stdout_stays_a_link(fitted, tmp_path):
    """``-o /dev/stdout`` as root once replaced the device link with a plain file."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "rtsmig", "table", str(fitted), "-o", "/dev/stdout"],
                          check=False, capture_output=True, text=True, timeout=120, env=_tree_env())
    assert Path("/dev/stdout").is_symlink()
    assert done.returncode == 3 and "Traceback" not in done.stderr, done.stderr
    assert "not a regular file" in done.stderr


def test_a_symlink_to_a_file_is_written_through(fitted, tmp_path):
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    target = shelf / "models.md"
    target.write_text("old\n")
    link = tmp_path / "models.md"
    link.symlink_to(target)
    assert run("table", fitted, "-o", link).exit_code == 0
    assert link.is_symlink() and link.resolve() == target
    assert "rho" in target.read_text()
    assert sorted(p.name for p in shelf.iterdir()) == ["models.md"]  # written in the target's folder


def test_a_dangling_symlink_is_refused(fitted, tmp_path):
    link = tmp_path / "models.md"
    link.symlink_to(tmp_path / "nowhere" / "models.md")
    before = snapshot(tmp_path)
    assert_error(run("table", fitted, "-o", link), 3, "does not exist")
    assert_unchanged(before, tmp_path)


def test_dash_for_a_set_of_files_is_a_usage_error(tmp_path):
    result = run("weights", "build", COLUMBUS_SHP, "--id", "POLYID", "-o", "-", "-q")
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr


# --- Sets of files: nothing existing goes before every new file is complete ----------------------

def _weights(tmp_path, *extra):
    return run("weights", "build", COLUMBUS_SHP, "--id", "POLYID", "-o", tmp_path / "w.gwt", "-q", *extra)


def _map(tmp_path, *extra):
    return run("map", COLUMBUS_SHP, "--id", "POLYID", "--column", "CRIME", "-o", tmp_path / "m.png",
               "--dpi", 50, "-q", *extra)


def _simulate(tmp_path, *extra):
    return run("simulate", COLUMBUS_SHP, "--id", "POLYID", "--model", "lag", "--seed", 1, "-o", tmp_path / "sim.csv",
               "-q", *extra)


def _index(tmp_path, *extra):
    return run("index", STRATEGY / "data.csv", "--id", "adcode", "--items", STRATEGY / "items.toml",
               "-o", tmp_path / "scores.csv", "--reliability", tmp_path / "rel.md", "-q", *extra)


def _fit(tmp_path, *extra):
    return fit(DATA, tmp_path / "fit", *extra)


def _select(tmp_path, *extra):
    return run("select", DATA, "--id", "id", "--weights", GAL, "--y", "CRIME", "--x", "INC", "-o",
               tmp_path / "select", "-q", *extra)


def _mediate(tmp_path, *extra):
    return run("mediate", DATA, "--id", "id", "--weights", GAL, "--model", "lag", "--x", "INC",
               "--mediators", "HOVAL", "--y", "CRIME", "--draws", 200, "-o", tmp_path / "med", "-q", *extra)


# Each writer, a first call and a second one whose outputs differ from the first.
WRITERS = {
    "weights build": (_weights, ("--kind", "rook")),
    "map": (_map, ("--scheme", "equal-interval")),
    "simulate": (_simulate, ("--seed", "7")),
    "index": (_index, ("--method", "pca")),
    "fit": (_fit, ("--x", "INC,HOVAL")),
    "select": (_select, ("--x", "INC,HOVAL")),
    "mediate": (_mediate, ("--seed", "3")),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_disk_that_fills_up_mid_set_leaves_the_old_files(tmp_path, disk_full, writer):
    """The n-th write of the second call fails with ENOSPC, for every n: the first call's files survive."""
    command, changed = WRITERS[writer]
    assert command(tmp_path).exit_code == 0
    before = snapshot(tmp_path)
    n = 0
    while True:
        attempts = disk_full(n)
        result = command(tmp_path, *changed)
        if len(attempts) <= n:  # the call wrote fewer than n + 1 files: every failure point is covered
            assert result.exit_code == 0, result.stderr
            break
        assert_error(result, 3, "No space left on device")
        assert "Traceback" not in result.stderr
        assert_unchanged(before, tmp_path)
        n += 1
    assert n >= 2  # every writer here writes two files or more
    assert snapshot(tmp_path) != before  # the unfailing call did replace the set


@pytest.mark.parametrize("writer, companion", [
    ("weights build", "w.gwt.json"), ("map", "m.png.json"), ("simulate", "sim.truth.json"), ("index", "rel.md"),
])
def test_a_folder_at_a_companion_path_leaves_the_main_file(tmp_path, writer, companion):
    command, changed = WRITERS[writer]
    assert command(tmp_path).exit_code == 0
    (tmp_path / companion).unlink()
    (tmp_path / companion).mkdir()
    (tmp_path / companion / "keep.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    result = command(tmp_path, *changed)
    assert_error(result, 3, companion, "is a folder")
    assert_unchanged(before, tmp_path)


def test_an_output_that_is_an_input_is_refused(tmp_path):
    data = tmp_path / "data.csv"
    shutil.copy(STRATEGY / "data.csv", data)
    before = snapshot(tmp_path)
    result = run("index", data, "--id", "adcode", "--items", STRATEGY / "items.toml", "-o", data, "-q")
    assert_error(result, 3, "is an input of this command")
    assert_unchanged(before, tmp_path)


# --- The CLI edge: Ctrl-C, raw warnings, stray OSErrors ------------------------------------------

def _tree_env() -> dict:
    """Run the tree under test in subprocesses, not a copy installed earlier."""
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_ctrl_c_inside_a_command_is_exit_130_without_traceback(tmp_path, monkeypatch):
    from rtsmig.pipeline import steps

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(steps, "read_table", interrupted)
    before = snapshot(tmp_path)
    result = fit(DATA, tmp_path / "out")
    assert_error(result, 130, "interrupted")
    assert_unchanged(before, tmp_path)


def test_ctrl_c_while_starting_up_is_exit_130_without_traceback():
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "rtsmig", "fit", "--help"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_tree_env())
    time.sleep(0.15)  # inside the imports: the app takes most of a second to load
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert proc.returncode in (0, 130), (proc.returncode, err)  # 0: --help had already printed
    if proc.returncode == 130:
        assert err.strip() == "Error: interrupted"


def test_library_warnings_are_silenced_and_rtsmig_warnings_printed(tmp_path, monkeypatch):
    from rtsmig.pipeline import steps

    real = steps.fit

    def noisy(*args, **kwargs):
        warnings.warn("divide by zero encountered", RuntimeWarning, stacklevel=1)
        warnings.warn("rho is close to its bound", RtsmigWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(steps, "fit", noisy)
    result = fit(DATA, tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert "Warning: rho is close to its bound" in result.stderr.splitlines()
    assert "RuntimeWarning" not in result.stderr and "divide by zero" not in result.stderr


def test_an_untranslated_os_error_is_one_error_line(tmp_path, monkeypatch):
    from rtsmig.pipeline import steps

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(steps, "read_table", denied)
    result = fit(DATA, tmp_path / "out")
    assert_error(result, 3, "Permission denied", str(DATA))


def test_a_relative_output_that_is_an_input_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(STRATEGY / "data.csv", "data.csv")
    before = snapshot(tmp_path)
    result = run("index", "data.csv", "--id", "adcode", "--items", STRATEGY / "items.toml", "-o", "./data.csv", "-q")
    assert_error(result, 3, "is an input of this command")
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize("taken", ["lag", "mediation"])
def test_the_bundled_run_refuses_a_users_folder_before_writing_anything(tmp_path, taken):
    """``rtsmig run --out proj`` once replaced a user's ``proj/lag/`` that only shared a result folder's name."""
    proj = tmp_path / "proj"
    (proj / taken).mkdir(parents=True)
    (proj / taken / "notes.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    result = run("run", "--out", proj, "-q")
    assert_error(result, 3, f"{proj / taken}", "rtsmig did not write")
    assert_unchanged(before, tmp_path)
