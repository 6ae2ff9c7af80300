"""Shared pieces of the CLI tests: paths to bundled data and a runner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rtsmig.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
COLUMBUS_SHP = ROOT / "shapefiles" / "columbus" / "columbus.shp"
REFERENCE = ROOT / "tests" / "reference"


def run(*args: object):
    """Invoke the CLI in-process with stdout and stderr kept apart."""
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_error(result, code: int, *fragments: str) -> None:
    """The command failed with ``code`` and exactly one ``Error:`` line naming ``fragments``."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error_lines[0], (fragment, error_lines[0])
    assert result.stdout == ""
