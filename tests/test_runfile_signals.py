"""Stopping a run: Ctrl-C ends it (exit 130, one line, no worker left), and a killed run leaves no worker behind.

Real processes: ``python -m rtsmig run`` in its own session, so that SIGINT goes
to its whole process group as a terminal's Ctrl-C does. Every wait is bounded.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_runfile import ROOT, small_runfile

# 2 variable sets x 2 weights x 8 (model, method) = 32 fits: seconds of work in two processes.
MODELS = 'models = ["lag", "error", "sac", "durbin", "gns"]\nmethods = ["ml", "gmm"]'
SECOND = '[variables.channels]\ny = "migration"\nx = ["position", "method", "environment", "technology"]\n\n[grid]'


def busy_runfile(folder: Path) -> Path:
    path = small_runfile(folder)
    text = path.read_text().replace('models = ["ols", "lag", "error"]', MODELS).replace("[grid]", SECOND)
    path.write_text(text)
    return path


def start(folder: Path, *args: object) -> tuple[subprocess.Popen, Path]:
    """``rtsmig ARGS`` from the tree under test, in a new session; stderr goes to a file (never blocks)."""
    log = folder / "stderr.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "rtsmig", *map(str, args)], cwd=folder, env=env,
                                stdout=subprocess.PIPE, stderr=err, start_new_session=True)
    return proc, log


def children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError):
                continue
            if int(ppid) == pid and state != "Z":
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether any thread of ``pid`` still runs (a leader can be a zombie while its other threads exit)."""
    states = []
    for task in (Path("/proc") / str(pid) / "task").glob("*"):
        try:
            states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
        except (OSError, IndexError):
            continue
    return any(state not in "ZX" for state in states)


def wait_until(condition, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    """Poll ``condition``; fail after ``timeout`` seconds, or at once when ``proc`` ended meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}: {proc.args}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def fits_done(folder: Path) -> int:
    return sum(not p.parent.name.startswith(".") for p in (folder / "out" / "fits").rglob("manifest.json"))


@pytest.fixture
def stop(request):
    """Kill what a test started if it fails half-way, so no process outlives the test."""
    procs: list[subprocess.Popen] = []
    yield procs.append
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_ctrl_c_during_a_parallel_run_exits_130_with_one_line_and_stops_every_worker(tmp_path, stop):
    proc, log = start(tmp_path, "run", busy_runfile(tmp_path), "-q", "--jobs", "2")
    stop(proc)
    wait_until(lambda: len(children(proc.pid)) >= 2, 120, "the pool's workers", proc)
    workers = children(proc.pid)
    wait_until(lambda: fits_done(tmp_path) >= 1, 120, "a first fit", proc)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    assert proc.wait(60) == 130, log.read_text()
    err = log.read_text()
    assert "Traceback" not in err and err.startswith("Error: interrupted"), err
    assert len(err.splitlines()) == 1, err
    assert proc.stdout.read() == b""
    wait_until(lambda: not any(alive(w) for w in workers), 10, "the workers to be gone")
    assert fits_done(tmp_path) < 32, "the run was stopped, not finished"
    assert not list((tmp_path / "out").rglob(".*")), "no staging folder of a stopped worker is left"
    for folder in (tmp_path / "out" / "fits").glob("*/*/*"):
        if not folder.name.startswith("."):  # what is in place is whole
            assert (folder / "manifest.json").exists() and (folder / "result.json").exists(), folder


@pytest.mark.parametrize("moment", ["importing", "building weights"])
def test_ctrl_c_while_starting_up_exits_130_without_a_traceback(tmp_path, stop, moment):
    proc, log = start(tmp_path, "run", busy_runfile(tmp_path), "-q", "--jobs", "2")
    stop(proc)
    if moment == "importing":
        time.sleep(0.3)  # Python is up, rtsmig's imports (pandas, scipy) take most of a second
    else:
        wait_until(lambda: (tmp_path / "out").exists(), 60, "the run to take its output folder", proc)
    os.killpg(proc.pid, signal.SIGINT)
    code = proc.wait(60)
    err = log.read_text()
    assert code == 130, (code, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1 and err.startswith("Error: interrupted"), err
    wait_until(lambda: not children(proc.pid), 10, "no child left")


def test_the_workers_of_a_killed_run_exit_on_their_own(tmp_path, stop):
    proc, _ = start(tmp_path, "run", busy_runfile(tmp_path), "-q", "--jobs", "2")
    stop(proc)
    wait_until(lambda: len(children(proc.pid)) >= 2, 120, "the pool's workers", proc)
    workers = children(proc.pid)
    proc.send_signal(signal.SIGKILL)  # the parent only: nothing tells the workers
    proc.wait(10)
    wait_until(lambda: not any(alive(w) for w in workers), 5, "the orphaned workers to exit")
    # The workers held the parent's lock too (they were forked with its descriptor): now the next run may start.
    wait_until(lambda: lock_free(tmp_path / "out"), 5, "the output folder's lock to be free")


def lock_free(folder: Path) -> bool:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
