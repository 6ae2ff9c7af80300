"""Where a command's single text output goes: standard output, or a file written atomically."""

from __future__ import annotations

from pathlib import Path

import typer

from rtsmig.io.atomic import write_text
from rtsmig.io.targets import STDOUT


def is_stdout(output: Path | None) -> bool:
    """``-o -`` (or no ``-o``) means standard output."""
    return output is None or str(output) == STDOUT


def emit(text: str, output: Path | None) -> None:
    """Print ``text`` for ``-o -`` or no ``-o``; else replace the file ``output`` atomically."""
    if is_stdout(output):
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        write_text(output, text)
