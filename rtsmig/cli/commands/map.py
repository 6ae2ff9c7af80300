"""``rtsmig map``: a choropleth, LISA cluster map or Moran scatterplot of one variable, as PNG, SVG or PDF."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.options import IdOption, LayerOption, QuietOption
from rtsmig.cli.progress import steps
from rtsmig.errors import InputError
from rtsmig.io.manifest import sidecar_path
from rtsmig.maps.classify import SCHEMES
from rtsmig.maps.draw import DEFAULT_CMAP, DIVERGING_CMAP, MapSpec
from rtsmig.pipeline.maps import map_file

SUFFIXES = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
DEFAULT_SCHEME, DEFAULT_K = "quantiles", 5

SchemeName = Enum("SchemeName", {name.replace("-", "_"): name for name in SCHEMES}, type=str)


def map_command(
    regions: Annotated[Path, typer.Argument(help="Polygon layer: .shp, .gpkg, .geojson or GeoParquet.")],
    id_col: IdOption,
    column: Annotated[str, typer.Option("--column", help="The variable to map (numeric).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The figure: .png, .svg or .pdf; FILE.json is written beside it.")
    ],
    data: Annotated[
        Path | None,
        typer.Option(help="Table holding --id and --column (CSV, Parquet, .dta, ...); default: the regions' attributes."),
    ] = None,
    layer: LayerOption = None,
    scheme: Annotated[
        SchemeName | None, typer.Option(help=f"Choropleth: classification [default: {DEFAULT_SCHEME}].")
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", min=2, max=20, help=f"Choropleth: number of classes [default: {DEFAULT_K}].")
    ] = None,
    cmap: Annotated[
        str | None,
        typer.Option(help=f"Choropleth: matplotlib colormap [default: {DEFAULT_CMAP}; {DIVERGING_CMAP} for std-mean]."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title; default: the column and what is drawn.")] = None,
    lisa: Annotated[bool, typer.Option("--lisa", help="Draw the LISA cluster map (needs --weights).")] = False,
    moran_scatter: Annotated[
        bool, typer.Option("--moran-scatter", help="Draw the Moran scatterplot (needs --weights).")
    ] = False,
    weights: Annotated[
        Path | None, typer.Option(help="--lisa/--moran-scatter: weights file (.parquet, .gal, .gwt), row-standardised.")
    ] = None,
    permutations: Annotated[int, typer.Option(min=1, help="--lisa/--moran-scatter: permutations.")] = 999,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the permutations and of natural-breaks.")] = 1,
    alpha: Annotated[float, typer.Option(help="--lisa: a region is significant when its pseudo p < alpha.")] = 0.05,
    dpi: Annotated[int, typer.Option(min=50, max=1200, help="Resolution of a PNG (dots per inch).")] = 300,
    quiet: QuietOption = False,
) -> None:
    """Map one variable of the regions: choropleth, LISA cluster map or Moran scatterplot.

    Choropleth (default): the regions filled by the class of --column (from --data
    joined on --id, else from the regions' attributes), classes from mapclassify
    (--scheme, --k); the legend gives each class's interval and count; regions
    without a value are light grey ("no data"). --lisa: local Moran's I on
    --weights (row-standardised), conditional permutation inference
    (--permutations, --seed); a region with pseudo p < --alpha is High-High
    (red), Low-Low (blue), Low-High (light blue) or High-Low (pink), else not
    significant (light grey); regions without a value are left out of W, white
    and hatched; the title gives global Moran's I and its permutation p-value.
    --moran-scatter: standardised z against its spatial lag Wz, the
    least-squares line (slope = Moran's I), quadrants HH/LH/LL/HL. Maps carry a
    north arrow; the figure is 6.5 in wide. FILE.json beside the figure records
    the inputs, the options and what the figure shows (class breaks and counts;
    Moran's I, p and cluster counts); both are written, or neither, and the same
    inputs give the same bytes.

    \b
    Example: rtsmig map regions.shp --data data.csv --id adcode --column migration --scheme quantiles -o migration.png
    Example: rtsmig map regions.shp --data data.csv --id adcode --column migration --lisa --weights w.parquet -o lisa.pdf
    """
    mode = _mode(lisa, moran_scatter, weights, scheme, k, cmap)
    scheme_name = (scheme or SchemeName(DEFAULT_SCHEME)).value
    if k is not None and not SCHEMES[scheme_name].takes_k:
        raise typer.BadParameter(f"--scheme {scheme_name} sets its own classes; leave out --k", param_hint="--k")
    spec = MapSpec(
        column=column, mode=mode, scheme=scheme_name, k=DEFAULT_K if k is None else k, cmap=cmap, title=title,
        permutations=permutations, seed=seed, alpha=alpha, dpi=dpi, format=_format(output),
    )
    try:
        spec.validate()
    except InputError as exc:  # the options passed typer's own checks, so what is left is a usage error
        raise typer.BadParameter(str(exc)) from exc
    _run(spec, regions, output, id_col, data, weights, layer, quiet)


def _run(spec: MapSpec, regions: Path, output: Path, id_col: str, data: Path | None, weights: Path | None,
         layer: str | None, quiet: bool) -> None:
    """Read the inputs, draw, write the figure and its sidecar; warnings after the progress bar."""
    # Steps: regions, [data], [weights], classify or compute, draw, write.
    with steps(4 + (data is not None) + (weights is not None), quiet) as step:
        notes = map_file(regions, output, id_col, spec, data=data, weights=weights, layer=layer, step=step)
    for note in notes:
        typer.echo(f"Warning: {note}", err=True)
    typer.echo(f"wrote {output} and {sidecar_path(output).name} ({spec.mode} of {spec.column})", err=True)


def _format(output: Path) -> str:
    fmt = SUFFIXES.get(output.suffix.lower())
    if fmt is None:
        raise typer.BadParameter(
            f"{output.name}: unknown figure type {output.suffix or '(no suffix)'!r}; end it in .png, .svg or .pdf",
            param_hint="--output",
        )
    return fmt


def _mode(lisa: bool, scatter: bool, weights: Path | None, scheme, k: int | None, cmap: str | None) -> str:
    """Which figure, refusing options that the other figures would silently ignore."""
    if lisa and scatter:
        raise typer.BadParameter("--lisa and --moran-scatter draw different figures; run rtsmig map once for each")
    if not (lisa or scatter):
        if weights is not None:
            raise typer.BadParameter("is used only by --lisa and --moran-scatter", param_hint="--weights")
        return "choropleth"
    flag = "--lisa" if lisa else "--moran-scatter"
    if weights is None:
        raise typer.BadParameter(f"{flag} needs a weights file over the regions", param_hint="--weights")
    given = [name for name, value in (("--scheme", scheme), ("--k", k), ("--cmap", cmap)) if value is not None]
    if given:
        raise typer.BadParameter(f"{', '.join(given)}: choropleth options, not used by {flag}")
    return "lisa" if lisa else "moran-scatter"
