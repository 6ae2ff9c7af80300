"""Typed errors. Each class carries the exit code the CLI maps it to.

The computing layers raise these; only ``rtsmig.cli.app.main`` turns them into
an ``Error: ...`` line on stderr and an exit code (see DESIGN.md, "Exit codes").
"""

from __future__ import annotations


class RtsmigError(Exception):
    """Base of every error rtsmig reports to a user rather than as a bug."""

    exit_code: int = 1


class InputError(RtsmigError):
    """Unreadable file, missing or duplicate ids, missing column, bad values (exit 3)."""

    exit_code = 3


class OutputError(InputError):
    """An output path that cannot be written (exit 3: a file problem the user fixes)."""


class RunFileError(RtsmigError):
    """A run file that does not validate: a usage error, exit code 2."""

    exit_code = 2


class UsageError(RtsmigError):
    """Options that cannot go together or name nothing usable (exit 2, typer's usage code)."""

    exit_code = 2


class WeightsError(RtsmigError):
    """Islands under ``--islands error``, ids not matching the data, degenerate W (exit 4)."""

    exit_code = 4


class EstimationError(RtsmigError):
    """Singular design, no convergence, a parameter on its bound (exit 5)."""

    exit_code = 5


class RtsmigWarning(UserWarning):
    """A result that is valid but suspect (e.g. rho close to its bound)."""


def first_few(values, limit: int = 5) -> str:
    """Render up to ``limit`` values for an error message, with a count of the rest."""
    values = list(values)
    shown = ", ".join(repr(str(v)) for v in values[:limit])
    rest = len(values) - limit
    return shown + (f" (and {rest} more)" if rest > 0 else "")
