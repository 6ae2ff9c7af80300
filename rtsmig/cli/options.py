"""Options shared by several commands, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

IdOption = Annotated[str, typer.Option("--id", help="Column holding the region ids (read as text).")]
LayerOption = Annotated[
    str | None, typer.Option("--layer", help="Layer of a multi-layer file such as a GeoPackage.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar on stderr.")]
OutFileOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here (atomically); - or no -o: standard output.")
]


def split_columns(text: str) -> tuple[str, ...]:
    """``"a, b,c"`` -> ``("a", "b", "c")``; empty names are a usage error."""
    names = tuple(part.strip() for part in text.split(","))
    if not all(names):
        raise typer.BadParameter(f"{text!r} has an empty column name; separate names with commas")
    return names
