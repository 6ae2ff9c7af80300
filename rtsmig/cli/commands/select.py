"""``rtsmig select``: which spatial model do the data support, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.commands.fit import NA
from rtsmig.cli.commands.weights import Transform
from rtsmig.cli.options import IdOption, LayerOption, QuietOption, split_columns
from rtsmig.cli.progress import steps
from rtsmig.models.selection import SELECT_MODELS
from rtsmig.models.spec import DEFAULT_X, DEFAULT_Y
from rtsmig.pipeline.select import select_folder


def select(
    data: Annotated[Path, typer.Argument(help="Data: .csv, .parquet, .dta, or a geometry file's attributes.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Report folder (replaced atomically).")],
    id_col: IdOption,
    weights: Annotated[Path, typer.Option("--weights", "-w", help="Weights file (.parquet/.gal/.gwt).")],
    y: Annotated[str, typer.Option("--y", help="Outcome column.")] = DEFAULT_Y,
    x: Annotated[str, typer.Option("--x", help="Regressor columns, comma-separated.")] = ",".join(DEFAULT_X),
    wx: Annotated[str | None, typer.Option("--wx", help="Regressors lagged in the Durbin and SLX models [default: all].")] = None,
    alpha: Annotated[float, typer.Option(min=0.001, max=0.2, help="Significance level of every test.")] = 0.05,
    transform: Annotated[Transform, typer.Option(help="Transform applied to W before fitting.")] = Transform.r,
    na: Annotated[NA, typer.Option("--na", help="Missing y/x values: error, or drop those regions.")] = NA.error,
    layer: LayerOption = None,
    quiet: QuietOption = False,
) -> None:
    """Choose a spatial model: LM tests from OLS, and LR/Wald tests down from the Durbin model.

    Fits OLS, SLX, lag, error, Durbin and Durbin error (ML) to the same data and
    walks both classic decision paths: Anselin's LM rule (robust LM tests where
    both LM tests are significant) and general-to-specific from the Durbin model
    (LR tests of W_x = 0 -> lag, of the common factor -> error, of rho = 0 -> SLX).
    Where they agree that model is recommended, otherwise the Durbin model
    (Elhorst 2010). OUTDIR receives report.md, report.json and manifest.json; the
    recommended model is printed on stdout.

    Example: rtsmig select columbus.csv --id POLYID --weights queen.gal --y CRIME
    --x INC,HOVAL -o out/select
    """
    with steps(2 + len(SELECT_MODELS) + 1, quiet) as step:
        model = select_folder(
            data, output, id_col, weights, y, split_columns(x), None if wx is None else split_columns(wx),
            alpha, transform.value, layer, na.value, step,
        )
    typer.echo(f"wrote {output}/ (report.md, report.json, manifest.json)", err=True)
    typer.echo(model)
