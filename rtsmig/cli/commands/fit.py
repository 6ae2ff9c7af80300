"""``rtsmig fit``: one model from a data table and a weights file."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.commands.weights import Transform
from rtsmig.cli.options import IdOption, LayerOption, QuietOption, split_columns
from rtsmig.cli.progress import steps
from rtsmig.errors import UsageError
from rtsmig.models.logdet_engines import LOGDET_CHOICES
from rtsmig.models.registry import check_options
from rtsmig.models.spec import DEFAULT_X, DEFAULT_Y, IMPACTS_SE, MODELS, WX_MODELS, FitSpec
from rtsmig.pipeline.steps import fit_folder

Model = Enum("Model", {m.replace("-", "_"): m for m in MODELS}, type=str)


ImpactsSE = Enum("ImpactsSE", {m: m for m in IMPACTS_SE}, type=str)
LogDetEngine = Enum("LogDetEngine", {m: m for m in LOGDET_CHOICES}, type=str)


class NA(str, Enum):
    error = "error"
    drop = "drop"


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
    model: Annotated[
        Model,
        typer.Option(help="ols; lag (SAR); error (SEM); sac (SARAR); durbin (SDM); durbin-error (SDEM); "
                     "slx (OLS on X, WX); gns (GMM only)."),
    ] = Model.ols,
    method: Annotated[
        Method, typer.Option(help="ml, or gmm: 2SLS for lag, Kelejian-Prucha GM for error, sac and gns.")
    ] = Method.ml,
    y: Annotated[str, typer.Option("--y", help="Outcome column.")] = DEFAULT_Y,
    x: Annotated[str, typer.Option("--x", help="Regressor columns, comma-separated.")] = ",".join(DEFAULT_X),
    name: Annotated[str | None, typer.Option(help="Model name in comparison tables.")] = None,
    robust: Annotated[
        bool, typer.Option("--robust", help="gmm: White (HC0) 2SLS SEs; heteroskedasticity-robust GM for error/sac/gns.")
    ] = False,
    wx: Annotated[
        str | None, typer.Option("--wx", help="durbin, durbin-error, slx, gns: regressors that get a lag W x [default: all].")
    ] = None,
    impacts_se: Annotated[
        ImpactsSE, typer.Option("--impacts-se", help="Impact SEs: simulate (as R impacts(R=)), delta method, or none.")
    ] = ImpactsSE.simulate,
    draws: Annotated[int, typer.Option(min=100, help="--impacts-se simulate: number of draws.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="--impacts-se simulate: seed (same seed, same bytes).")] = 1,
    logdet: Annotated[
        LogDetEngine,
        typer.Option(
            help="ML log-determinant: auto (eigen up to 1,000 regions, chebyshev above); exact eigen, "
            "lu, cholesky; approximate chebyshev, mc (error bounds in result.json)."
        ),
    ] = LogDetEngine.auto,
    na: Annotated[
        NA, typer.Option("--na", help="Missing y/x values: error, or drop those regions and subset (re-standardise) W.")
    ] = NA.error,
    transform: Annotated[Transform, typer.Option(help="Transform applied to W before fitting.")] = Transform.r,
    ci: Annotated[float, typer.Option(min=0.5, max=0.999, help="Confidence level of the intervals.")] = 0.95,
    layer: LayerOption = None,
    quiet: QuietOption = False,
) -> None:
    """Fit OLS (with spatial diagnostics) or a spatial model: lag, error, sac, durbin, durbin-error, slx, gns.

    OUTDIR receives coefficients.csv, fit.csv, diagnostics.csv, impacts.csv (models
    with spillovers: direct, indirect and total effects with SE, z, p and interval),
    result.json, summary.md and manifest.json; dropped.csv lists the regions that
    --na drop removed. Rows and weights are aligned by id. Lagged regressors are
    named W_<column>.

    Example: rtsmig fit columbus.csv --id id --weights queen.gal --model durbin
    --y CRIME --x INC,HOVAL --impacts-se delta -o out/durbin

    Example (a million regions): rtsmig fit grid.csv --id id --weights rook.parquet
    --model lag --y y --x x1,x2 --logdet chebyshev -o out/lag
    """
    spec = FitSpec(
        model=model.value, method=method.value, y=y, x=split_columns(x),
        name=name, robust=robust, ci_level=ci, wx=None if wx is None else split_columns(wx),
        impacts_se=impacts_se.value, draws=draws, seed=seed, logdet=logdet.value,
    )
    check_options(spec)  # combinations no data can make work: exit 2 before anything is read
    if wx is not None and model.value not in WX_MODELS:  # a spatially lagged X this model would silently ignore
        raise UsageError(f"--wx: the {model.value} model lags no regressors; drop --wx or use {', '.join(WX_MODELS)}")
    if model.value != "ols" and weights is None:
        raise typer.BadParameter(f"--model {model.value} needs --weights", param_hint="--weights")
    with steps(4, quiet) as step:
        files = fit_folder(data, output, id_col, spec, weights, transform.value, layer, step, na.value)
    typer.echo(f"wrote {output}/ ({', '.join(files)})", err=True)
