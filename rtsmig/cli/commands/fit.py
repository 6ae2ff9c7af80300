"""``rtsmig fit``: one model from a data table and a weights file."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.commands.weights import Transform
from rtsmig.cli.options import IdOption, LayerOption, QuietOption, split_columns
from rtsmig.cli.progress import steps
from rtsmig.models.spec import DEFAULT_X, DEFAULT_Y, FitSpec
from rtsmig.pipeline.steps import fit_folder


class Model(str, Enum):
    ols = "ols"
    lag = "lag"
    error = "error"


class Method(str, Enum):
    ml = "ml"
    gmm = "gmm"


def fit(
    data: Annotated[Path, typer.Argument(help="Data: .csv, .parquet, .dta, or a geometry file's attributes.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Results folder (replaced atomically).")],
    id_col: IdOption,
    weights: Annotated[
        Path | None, typer.Option("--weights", "-w", help="Weights file (.parquet/.gal/.gwt); OLS without it skips spatial tests.")
    ] = None,
    model: Annotated[Model, typer.Option(help="ols, lag (SAR) or error (SEM).")] = Model.ols,
    method: Annotated[Method, typer.Option(help="ml, or gmm: 2SLS for lag, KP het-robust GM for error.")] = Method.ml,
    y: Annotated[str, typer.Option("--y", help="Outcome column.")] = DEFAULT_Y,
    x: Annotated[str, typer.Option("--x", help="Regressor columns, comma-separated.")] = ",".join(DEFAULT_X),
    name: Annotated[str | None, typer.Option(help="Model name in comparison tables.")] = None,
    robust: Annotated[bool, typer.Option("--robust", help="gmm lag: White (HC0) standard errors.")] = False,
    transform: Annotated[Transform, typer.Option(help="Transform applied to W before fitting.")] = Transform.r,
    ci: Annotated[float, typer.Option(min=0.5, max=0.999, help="Confidence level of the intervals.")] = 0.95,
    layer: LayerOption = None,
    quiet: QuietOption = False,
) -> None:
    """Fit OLS (with spatial diagnostics), a spatial lag or a spatial error model.

    OUTDIR receives coefficients.csv, fit.csv, diagnostics.csv, impacts.csv (lag
    models), result.json, summary.md and manifest.json. Rows and weights are
    aligned by id.

    Example: rtsmig fit columbus.csv --id id --weights queen.gal --model lag
    --y CRIME --x INC,HOVAL -o out/lag
    """
    spec = FitSpec(
        model=model.value, method=method.value, y=y, x=split_columns(x),
        name=name, robust=robust, ci_level=ci,
    )
    if model is not Model.ols and weights is None:
        raise typer.BadParameter(f"--model {model.value} needs --weights", param_hint="--weights")
    with steps(4, quiet) as step:
        files = fit_folder(data, output, id_col, spec, weights, transform.value, layer, step)
    typer.echo(f"wrote {output}/ ({', '.join(files)})", err=True)
