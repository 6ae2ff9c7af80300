"""``rtsmig weights build`` and ``rtsmig weights describe``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.options import IdOption, LayerOption, OutFileOption, QuietOption
from rtsmig.cli.progress import steps
from rtsmig.errors import InputError, UsageError
from rtsmig.io.atomic import write_text
from rtsmig.io.manifest import to_json
from rtsmig.io.weights_io import read_edges
from rtsmig.pipeline.steps import weights_file
from rtsmig.weights.spec import WeightsSpec

WEIGHTS_SUFFIXES = (".parquet", ".gal", ".gwt")


class Kind(str, Enum):
    queen = "queen"
    rook = "rook"
    knn = "knn"
    distance = "distance"
    kernel = "kernel"
    block = "block"


class Transform(str, Enum):
    r = "r"
    b = "b"
    v = "v"
    d = "d"
    o = "o"


class Islands(str, Enum):
    error = "error"
    drop = "drop"
    attach = "attach"


class KernelFn(str, Enum):
    triangular = "triangular"
    uniform = "uniform"
    quadratic = "quadratic"
    quartic = "quartic"
    gaussian = "gaussian"


class SummaryFormat(str, Enum):
    text = "text"
    json = "json"


def build(
    regions: Annotated[Path, typer.Argument(help="Polygon layer: .shp, .gpkg, .geojson or GeoParquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Weights file: .parquet, .gal or .gwt.")],
    id_col: IdOption,
    kind: Annotated[Kind, typer.Option("--kind", help="Neighbour definition.")] = Kind.queen,
    layer: LayerOption = None,
    tolerance: Annotated[
        float, typer.Option(help="queen/rook: snap gaps and slivers up to this distance (CRS units).")
    ] = 0.0,
    k: Annotated[int | None, typer.Option("--k", help="knn: number of neighbours; kernel: adaptive bandwidth.")] = None,
    threshold: Annotated[float | None, typer.Option(help="distance: band (km on a geographic CRS).")] = None,
    inverse: Annotated[bool, typer.Option("--inverse", help="distance: weight d^-alpha instead of 1.")] = False,
    alpha: Annotated[float, typer.Option(help="distance --inverse: the power of distance.")] = 1.0,
    bandwidth: Annotated[float | None, typer.Option(help="kernel: fixed bandwidth.")] = None,
    kernel_fn: Annotated[KernelFn, typer.Option("--kernel-fn", help="kernel: function.")] = KernelFn.triangular,
    by: Annotated[str | None, typer.Option(help="block: column whose equal values form blocks.")] = None,
    transform: Annotated[
        Transform, typer.Option(help="r row-standardised, b binary, v variance-stabilising, d doubly standardised, o as built.")
    ] = Transform.r,
    islands: Annotated[
        Islands, typer.Option(help="Regions without neighbours: error, drop them, or attach to the nearest.")
    ] = Islands.error,
    crs: Annotated[str | None, typer.Option(help="Project to this CRS (e.g. EPSG:32649) before measuring; a layer without a CRS is declared to be in it.")] = None,
    quiet: QuietOption = False,
) -> None:
    """Build a spatial weights file from a polygon layer.

    Writes OUT and, beside it, OUT.json with the summary, the options and the
    SHA-256 of the input. Distances on a geographic CRS are great-circle
    kilometres; degrees are never used as distances.

    Example: rtsmig weights build columbus.shp --id POLYID --kind queen -o queen.gal
    """
    if output.suffix.lower() not in WEIGHTS_SUFFIXES:
        raise typer.BadParameter(f"{output.name}: use one of {', '.join(WEIGHTS_SUFFIXES)}", param_hint="--output")
    spec = WeightsSpec(
        kind=kind.value, k=k, threshold=threshold, inverse=inverse, alpha=alpha,
        bandwidth=bandwidth, kernel_fn=kernel_fn.value, by=by, tolerance=tolerance,
        transform=transform.value, islands=islands.value, crs=crs,
    )
    try:
        spec.validate()
    except (InputError, UsageError) as exc:  # options that do not fit together: a usage error, exit 2
        raise typer.BadParameter(str(exc)) from exc
    with steps(3, quiet) as step:
        s = weights_file(regions, output, id_col, spec, layer, step)
    typer.echo(
        f"wrote {output} ({s['n']} regions, {s['links']} links, {s['components']} component(s))", err=True
    )


def describe(
    weights: Annotated[Path, typer.Argument(help="Weights file: .parquet, .gal or .gwt.")],
    fmt: Annotated[SummaryFormat, typer.Option("--format", help="text or json.")] = SummaryFormat.text,
    output: OutFileOption = None,
) -> None:
    """Describe a weights file: n, links, density, neighbour counts, islands, components, symmetry.

    Also counts the negative, zero, self-loop and NaN/inf entries: describe reads
    a file that every other command refuses (a negative or non-finite weight) to
    show what it holds.

    Example: rtsmig weights describe queen.gal --format json
    """
    # Imported here: only this command summarises weights.
    from rtsmig.weights.summary import render_summary_text, summarize
    from rtsmig.weights.values import value_counts

    edges = read_edges(weights, validate=False)
    summary = summarize(edges) | value_counts(edges)
    text = to_json(summary) if fmt is SummaryFormat.json else render_summary_text(summary)
    if output is None or str(output) == "-":
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        write_text(output, text, inputs=(weights,))
