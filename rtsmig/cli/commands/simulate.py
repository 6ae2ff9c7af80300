"""``rtsmig simulate``: a strategy-design data set with known true parameters."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.commands.weights import Islands
from rtsmig.cli.options import IdOption, LayerOption, QuietOption
from rtsmig.cli.progress import steps
from rtsmig.errors import InputError
from rtsmig.io.atomic import write_set
from rtsmig.io.manifest import manifest, to_json
from rtsmig.io.regions import input_files
from rtsmig.pipeline.steps import regions_and_weights
from rtsmig.simulate import CHANNELS, DIMENSIONS, SimulationSpec, simulate_design
from rtsmig.simulate.spec import DEFAULT_BETAS, DEFAULT_LAMBDA, DEFAULT_RHO, DEFAULT_THETA
from rtsmig.weights.spec import WeightsSpec


class SimModel(str, Enum):
    lag = "lag"
    error = "error"
    durbin = "durbin"


class SimKind(str, Enum):
    queen = "queen"
    rook = "rook"
    knn = "knn"


def truth_path(output: Path) -> Path:
    """The truth file beside ``DATA.csv``: ``DATA.truth.json``."""
    return output.with_suffix(".truth.json")


def _beta(name: str, default: float | None) -> typer.models.OptionInfo:
    if default is not None:
        return typer.Option(f"--beta-{name}", help=f"True coefficient of the dimension {name}.")
    return typer.Option(
        f"--beta-{name}", help=f"True coefficient of the channel {name}; without it the channel stays out of migration."
    )


def simulate(
    regions: Annotated[Path, typer.Argument(help="Polygon layer: .shp, .gpkg, .geojson or GeoParquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Data file (.csv); DATA.truth.json is written beside it.")],
    id_col: IdOption,
    model: Annotated[SimModel, typer.Option(help="Spatial process of migration: lag, error or durbin.")],
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random draws (same seed, same bytes).")],
    rho: Annotated[float | None, typer.Option(help=f"lag/durbin: spatial lag parameter [default: {DEFAULT_RHO}].")] = None,
    lam: Annotated[
        float | None, typer.Option("--lambda", help=f"error: spatial error parameter [default: {DEFAULT_LAMBDA}].")
    ] = None,
    beta_position: Annotated[float, _beta("position", 1)] = DEFAULT_BETAS["position"],
    beta_method: Annotated[float, _beta("method", 1)] = DEFAULT_BETAS["method"],
    beta_sustainability: Annotated[float, _beta("sustainability", 1)] = DEFAULT_BETAS["sustainability"],
    beta_flexibility: Annotated[float, _beta("flexibility", 1)] = DEFAULT_BETAS["flexibility"],
    beta_environment: Annotated[float | None, _beta("environment", None)] = None,
    beta_technology: Annotated[float | None, _beta("technology", None)] = None,
    beta_performance: Annotated[float | None, _beta("performance", None)] = None,
    intercept: Annotated[float, typer.Option(help="Constant of the outcome equation.")] = 1.0,
    sigma: Annotated[float, typer.Option(help="Standard deviation of the outcome's innovation.")] = 1.0,
    theta: Annotated[
        str | None,
        typer.Option(help=f"durbin: WX coefficients, one value for all regressors or one per regressor, "
                     f"comma-separated [default: {DEFAULT_THETA}]."),
    ] = None,
    phi: Annotated[float, typer.Option(help="Spatial autocorrelation of the dimensions, |phi| < 1.")] = 0.5,
    channel_sigma: Annotated[float, typer.Option(help="Standard deviation of the channels' noise.")] = 0.5,
    items: Annotated[int, typer.Option(min=3, max=4, help="Likert items per dimension (3 or 4).")] = 4,
    weights_kind: Annotated[SimKind, typer.Option("--weights-kind", help="Neighbour definition of W.")] = SimKind.queen,
    k: Annotated[int | None, typer.Option("--k", help="--weights-kind knn: number of neighbours.")] = None,
    tolerance: Annotated[float, typer.Option(help="queen/rook: snap gaps up to this distance (CRS units).")] = 0.0,
    islands: Annotated[
        Islands, typer.Option(help="Regions without neighbours: attach to the nearest, drop them (no row), or error.")
    ] = Islands.attach,
    layer: LayerOption = None,
    quiet: QuietOption = False,
) -> None:
    """Simulate strategy-design data with known true parameters on a polygon layer.

    W is built from the regions (row-standardised). The four dimensions are
    d = std((I - phi W)^-1 u), u ~ N(0, 1), standardised to mean 0, sd 1. Each
    channel is a fixed linear function of the dimensions plus N(0, channel-sigma^2)
    noise (environment = 0.5 position + 0.2 method + 0.3 sustainability + 0.1
    flexibility; technology = 0.3, 0.5, 0.1, 0.2; performance = 0.2, 0.1, 0.4, 0.4).
    With X the dimensions (plus any channel given a --beta-*) and e ~ N(0, sigma^2),
    migration is: lag y = (I - rho W)^-1 (a + X b + e); error y = a + X b +
    (I - lambda W)^-1 e; durbin y = (I - rho W)^-1 (a + X b + W X theta + e).
    Items position_q1 ... flexibility_q4 (1..5) cut the latent answer
    l d + sqrt(1 - l^2) z, loadings l = 0.85, 0.8, 0.75, 0.8, at -1.5, -0.5,
    0.5, 1.5. DATA.truth.json records every true parameter, the weights and the
    provenance; both files are written, or neither.

    Example: rtsmig simulate columbus.shp --id POLYID --model lag --seed 1 -o sim.csv
    """
    if output.suffix.lower() != ".csv":
        raise typer.BadParameter(f"{output.name}: the data file must end in .csv", param_hint="--output")
    betas = {
        "position": beta_position, "method": beta_method,
        "sustainability": beta_sustainability, "flexibility": beta_flexibility,
        "environment": beta_environment, "technology": beta_technology, "performance": beta_performance,
    }
    spec = _spec(model.value, seed, rho, lam, {c: b for c, b in betas.items() if b is not None}, theta,
                 intercept=intercept, sigma=sigma, phi=phi, channel_sigma=channel_sigma, items=items)
    wspec = _weights_spec(weights_kind.value, k, tolerance, islands.value)
    with steps(3, quiet) as step:
        frame, built = regions_and_weights(regions, id_col, wspec, layer, step)
        kept = set(map(str, built.edges.ids))
        ids = [i for i in frame.index if i in kept]  # the regions' order, less dropped islands
        data = simulate_design(built.edges.aligned(ids), spec, ids)
        step(f"writing {output.name}")
        options = {"id": id_col, "layer": layer, **_options(spec), "weights": wspec.to_dict()}
        truth = {
            **manifest("simulate", {"regions": regions}, options),
            **spec.truth(),
            "n": len(ids),
            "weights": {**wspec.to_dict(), "summary": built.summary},
        }
        write_set({output: _csv_text(data, id_col), truth_path(output): to_json(truth)}, input_files(regions))
    typer.echo(f"wrote {output} and {truth_path(output).name} ({len(ids)} regions, {model.value})", err=True)


def _spec(model: str, seed: int, rho: float | None, lam: float | None, betas: dict[str, float],
          theta: str | None, **rest) -> SimulationSpec:
    """The validated spec; model-dependent defaults filled in, range errors as usage errors."""
    uses_rho = model in ("lag", "durbin")
    rho = DEFAULT_RHO if rho is None and uses_rho else rho
    lam = DEFAULT_LAMBDA if lam is None and model == "error" else lam
    theta_by_name = None
    if theta is not None or model == "durbin":
        theta_by_name = _parse_theta(theta, [c for c in (*DIMENSIONS, *CHANNELS) if c in betas])
    spec = SimulationSpec(model=model, seed=seed, rho=rho, lam=lam, betas=betas, theta=theta_by_name, **rest)
    try:
        spec.validate()
    except InputError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return spec


def _parse_theta(text: str | None, regressors: list[str]) -> dict[str, float]:
    """``--theta``: one value for every regressor, or one per regressor in order."""
    if text is None:
        return dict.fromkeys(regressors, DEFAULT_THETA)
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a comma-separated list of numbers", param_hint="--theta") from exc
    if len(values) == 1:
        values = values * len(regressors)
    if len(values) != len(regressors):
        raise typer.BadParameter(
            f"{len(values)} values for {len(regressors)} regressors ({', '.join(regressors)})", param_hint="--theta"
        )
    return dict(zip(regressors, values, strict=True))


def _weights_spec(kind: str, k: int | None, tolerance: float, islands: str) -> WeightsSpec:
    spec = WeightsSpec(kind=kind, k=k, tolerance=tolerance, transform="r", islands=islands)
    try:
        spec.validate()
    except InputError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return spec


def _options(spec: SimulationSpec) -> dict:
    """The simulation options as given (after defaults), for the manifest."""
    return {
        "model": spec.model, "seed": spec.seed, "rho": spec.rho, "lambda": spec.lam,
        "betas": dict(spec.betas), "intercept": spec.intercept, "sigma": spec.sigma,
        "theta": spec.theta, "phi": spec.phi, "channel_sigma": spec.channel_sigma, "items": spec.items,
    }


def _csv_text(data, id_col: str) -> str:
    # %.10g: fixed, platform-independent digits so that a seed always gives the same bytes.
    return data.to_csv(index=True, index_label=id_col, float_format="%.10g", lineterminator="\n")

