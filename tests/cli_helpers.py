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


def snapshot(*roots: Path) -> dict[str, tuple[str, bytes | None]]:
    """Every path under ``roots`` (the roots included): its kind and, for files, its bytes.

    Take one before a command that must fail and compare with :func:`assert_unchanged`
    after it: a failed command leaves every file that existed before it byte-identical
    and adds nothing.
    """
    seen: dict[str, tuple[str, bytes | None]] = {}
    for root in map(Path, roots):
        paths = [root, *sorted(root.rglob("*"))] if root.is_dir() and not root.is_symlink() else [root]
        for path in paths:
            if path.is_symlink():
                seen[str(path)] = ("symlink", str(path.readlink()).encode())
            elif path.is_dir():
                seen[str(path)] = ("folder", None)
            elif path.is_file():
                seen[str(path)] = ("file", path.read_bytes())
            elif path.exists():
                seen[str(path)] = ("other", None)
    return seen


def assert_unchanged(before: dict[str, tuple[str, bytes | None]], *roots: Path) -> None:
    """Nothing under ``roots`` changed, appeared or disappeared since ``before`` was taken."""
    after = snapshot(*roots)
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    assert not (added or removed or changed), {"added": added, "removed": removed, "changed": changed}
