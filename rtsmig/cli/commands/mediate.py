"""``rtsmig mediate``: each cause's effect split into its direct path and its path through each channel."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.commands.fit import NA, LogDetEngine
from rtsmig.cli.commands.weights import Transform
from rtsmig.cli.options import IdOption, LayerOption, QuietOption, split_columns
from rtsmig.cli.progress import steps
from rtsmig.errors import InputError
from rtsmig.mediation import MediationSpec
from rtsmig.models.spec import DEFAULT_X, DEFAULT_Y
from rtsmig.pipeline.mediate import mediation_folder
from rtsmig.simulate import CHANNELS


class MediationModel(str, Enum):
    lag = "lag"
    durbin = "durbin"
    error = "error"


def mediate(
    data: Annotated[Path, typer.Argument(help="Data: .csv, .parquet, .dta, or a geometry file's attributes.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Results folder (replaced atomically).")],
    id_col: IdOption,
    weights: Annotated[Path, typer.Option("--weights", "-w", help="Weights file (.parquet/.gal/.gwt).")],
    model: Annotated[
        MediationModel, typer.Option(help="Spatial process of every equation: lag (SAR), durbin (SDM), error (SEM).")
    ] = MediationModel.lag,
    y: Annotated[str, typer.Option("--y", help="Outcome column.")] = DEFAULT_Y,
    x: Annotated[str, typer.Option("--x", help="Causes whose effects are split, comma-separated.")] = ",".join(DEFAULT_X),
    mediators: Annotated[
        str, typer.Option("--mediators", help="Channels (mediators), comma-separated.")
    ] = ",".join(CHANNELS),
    draws: Annotated[int, typer.Option(min=100, help="Monte Carlo draws of the estimates.")] = 2000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the draws (same seed, same bytes).")] = 1,
    ci: Annotated[float, typer.Option(min=0.5, max=0.999, help="Coverage of the intervals.")] = 0.95,
    logdet: Annotated[LogDetEngine, typer.Option(help="ML log-determinant engine, as in rtsmig fit.")] = LogDetEngine.auto,
    na: Annotated[
        NA, typer.Option("--na", help="Missing values: error, or drop those regions from every equation and subset W.")
    ] = NA.error,
    transform: Annotated[Transform, typer.Option(help="Transform applied to W before fitting.")] = Transform.r,
    layer: LayerOption = None,
    quiet: QuietOption = False,
) -> None:
    """Spatial mediation: split each cause's effect on Y into a direct path and a path through each mediator.

    Fits, by ML and with the same spatial model, each mediator on the causes
    (M_k = rho_k W M_k + X a_k [+ W X c_k]) and Y on the causes and all mediators
    (Y = rho W Y + X b + M g [+ W X t + W M d]). The effect of cause j on Y is
    then exactly the sum of its direct path (I - rho W)^-1 (b_j + t_j W) and, per
    mediator, (I - rho W)^-1 (g_k + d_k W) (I - rho_k W)^-1 (a_kj + c_kj W). Each
    path, their sum (indirect) and the total split into internal (the region's
    own: mean diagonal, the direct impact) and external (the other regions: the
    spillover); the error model has no spillovers and reports totals only.

    Intervals: Monte Carlo (parametric bootstrap of the estimates) - DRAWS draws
    of each equation's estimates from N(estimates, cov), independent across
    equations; SE = SD of the draws, percentile intervals, p = twice the smaller
    share of draws on either side of zero. The split assumes no unmeasured
    confounding of mediators and outcome (sequential ignorability).

    OUTDIR receives mediation.csv and mediation.json (long form), mediation.md,
    .tex and .html (one row per cause and path), equations/<column>/ (each fit's
    results folder, for rtsmig table) and manifest.json.

    Example: rtsmig mediate data.csv --id adcode --weights queen.parquet --model lag
    --x position,method,sustainability,flexibility
    --mediators environment,technology,performance --y migration -o out/mediation
    """
    spec = MediationSpec(
        model=model.value, y=y, x=split_columns(x), mediators=split_columns(mediators), draws=draws, seed=seed,
        ci_level=ci, logdet=logdet.value,
    )
    try:
        spec.validate()
    except InputError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with steps(5 + len(spec.mediators), quiet) as step:
        result = mediation_folder(data, output, id_col, spec, weights, transform.value, layer, na.value, step)
    discarded = result.meta["draws_discarded"]
    note = f", {discarded} draws discarded (rho outside its space)" if discarded else ""
    typer.echo(f"wrote {output}/ ({len(result.fits)} equations, {len(result.effects)} effects{note})", err=True)
