"""``rtsmig run``: the bundled strategy example, end to end, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.options import QuietOption
from rtsmig.cli.progress import steps
from rtsmig.io.atomic import ensure_folder
from rtsmig.pipeline.strategy import MODELS, STEPS, run_strategy_example


def run(
    out: Annotated[Path, typer.Option("--out", help="Folder for the weights, model folders and tables.")] = Path(
        "rtsmig-out"
    ),
    quiet: QuietOption = False,
) -> None:
    """Run the strategy example: enterprise migration into China's prefectures.

    Synthetic data (examples/strategy/data.csv, made by 'rtsmig simulate') on the
    bundled prefecture polygons: queen weights (islands attached) -> OLS with LM
    diagnostics -> spatial lag and error models by ML -> comparison table and
    impacts table in Markdown and LaTeX. The same steps as
    examples/strategy/Makefile; the same inputs give the same bytes.

    Example: rtsmig run --out rtsmig-out
    """
    ensure_folder(out)
    with steps(STEPS, quiet) as step:
        tables = run_strategy_example(out, step)
    typer.echo(f"model folders: {', '.join(str(out / m) for m in MODELS)}", err=True)
    for path in tables.values():
        typer.echo(str(path))
