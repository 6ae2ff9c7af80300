"""Shared test options and fixtures.

``pytest --update-golden`` rewrites the files under ``tests/golden/`` from the
current output instead of comparing against them (the pattern of sqlite-utils'
tests/conftest.py). Read every rewritten file before committing it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

GOLDEN = Path(__file__).parent / "golden"
TREE = Path(__file__).resolve().parents[1]

# Tests that start `python -m rtsmig`, make or a helper script as a subprocess must run
# the code under test, not a copy installed earlier: the tree goes first on the path
# of every child process.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(TREE), os.environ.get("PYTHONPATH")) if p)

# The fuzz tests (tests/test_fuzz_*.py) explore new inputs on every local run; in CI
# (CI=true) they replay one fixed sequence, so a red CI always means a change, never
# a new draw. A local run that finds a failure prints the example to pin it with.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden(name, text)``: assert ``text`` equals ``tests/golden/<name>`` byte for byte.

    With ``--update-golden`` the file is (re)written instead. Files are read and
    written as UTF-8 bytes so that line ends are compared exactly, too.
    """
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            return
        if not path.exists():
            pytest.fail(f"{path} is missing; create it with `pytest --update-golden` and review it")
        assert text == path.read_bytes().decode("utf-8"), (
            f"output differs from {path}; if the change is intended, run "
            "`pytest --update-golden` and review the diff"
        )

    return check


@pytest.fixture
def disk_full(monkeypatch) -> Callable[[int], list]:
    """``disk_full(n)``: the n-th output write of rtsmig (0-based) and every later one fail with ENOSPC.

    Every byte rtsmig writes goes through ``rtsmig.io.atomic._put``, so this is a
    disk that fills up part way through a set of files. Returns the list of
    writes attempted, for asserting that the failure was reached.
    """
    import errno
    import os

    from rtsmig.io import atomic

    real = atomic._put  # re-arming replaces the failing writer, it does not stack another on it

    def arm(n: int) -> list:
        attempts: list = []

        def put(fh, data):
            attempts.append(getattr(fh, "name", None))
            if len(attempts) > n:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real(fh, data)

        monkeypatch.setattr(atomic, "_put", put)
        return attempts

    return arm


@pytest.fixture(autouse="MUTANT_UNDER_TEST" in os.environ)
def _children_run_the_unmutated_tree(monkeypatch):
    """Under mutation testing (benchmarks/mutation.py), child processes run the tree unmutated.

    mutmut names the active mutant in ``MUTANT_UNDER_TEST`` and also keeps it in the test
    process, so removing the variable changes nothing here; a ``python -m rtsmig`` child
    would otherwise inherit a name its own, untraced process cannot serve.
    """
    monkeypatch.delenv("MUTANT_UNDER_TEST", raising=False)
