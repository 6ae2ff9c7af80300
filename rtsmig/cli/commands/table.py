"""``rtsmig table``: side-by-side comparison of fitted models."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.options import OutFileOption
from rtsmig.cli.output import emit, is_stdout
from rtsmig.pipeline.steps import table_text
from rtsmig.tables import Stars


class TableFormat(str, Enum):
    csv = "csv"
    md = "md"
    tex = "tex"
    html = "html"
    json = "json"


def table(
    results: Annotated[list[Path], typer.Argument(help="Results folders written by 'rtsmig fit' (or their result.json).")],
    fmt: Annotated[
        TableFormat | None, typer.Option("--format", "-f", help="Default: from the -o extension, else md.")
    ] = None,
    output: OutFileOption = None,
    stars: Annotated[str, typer.Option(help="Significance thresholds for *, **, ***.")] = "0.1,0.05,0.01",
    digits: Annotated[int, typer.Option(min=0, max=10, help="Decimals of estimates and SEs.")] = 3,
    impacts: Annotated[
        bool, typer.Option("--impacts", help="Tabulate direct, indirect and total impacts instead of coefficients.")
    ] = False,
) -> None:
    """Compare fitted models side by side: one column per model, SEs in parentheses.

    With --impacts the rows are each regressor's direct, indirect (spillover) and
    total effect; models without impacts (OLS, error) are left out.

    Example: rtsmig table out/ols out/lag out/error --format tex -o models.tex

    Example: rtsmig table out/lag out/durbin --impacts -o impacts.md
    """
    if fmt is None:
        suffix = "md" if is_stdout(output) else output.suffix.lower().lstrip(".")
        fmt = TableFormat(suffix) if suffix in TableFormat.__members__ else TableFormat.md
    try:
        thresholds = Stars.parse(stars)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--stars") from exc
    text = table_text(results, fmt.value, stars=thresholds, digits=digits, impacts=impacts)
    emit(text, output)
