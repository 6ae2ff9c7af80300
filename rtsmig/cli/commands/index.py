"""``rtsmig index``: scores of multi-item survey dimensions and their reliability."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.options import IdOption, QuietOption
from rtsmig.cli.progress import steps
from rtsmig.io.manifest import sidecar_path
from rtsmig.pipeline.index import index_files
from rtsmig.survey import (
    IndexResult,
)
from rtsmig.tables.formats import FORMATS
from rtsmig.tables.reliability import render_reliability


class IndexMethod(str, Enum):
    mean = "mean"
    pca = "pca"
    factor = "factor"


# The command's options, named once here so that its signature stays readable.
DataArgument = Annotated[Path, typer.Argument(help="Table with the item answers: .csv, .parquet, .dta, ...")]
ItemsOption = Annotated[
    list[str],
    typer.Option("--items", help="Repeatable. NAME=col1,col2,... or a .toml file of lines "
                 "name = [\"col1\", \"col2\", ...]; scores appear in the order given."),
]
ScoresOption = Annotated[
    Path, typer.Option("--output", "-o", help="Scores file (.csv); SCORES.csv.json is written beside it.")
]
MethodOption = Annotated[IndexMethod, typer.Option(help="Score: mean, pca or factor.")]
ReliabilityOption = Annotated[
    list[Path] | None,
    typer.Option(help="Repeatable. Write the reliability table here; the suffix picks the format: "
                 ".csv (long, every loading), .md, .tex, .html, .json. Default: Markdown to stdout."),
]
AppendOption = Annotated[
    bool, typer.Option("--append", help="Write all of DATA's columns (the id first), then the scores.")
]
MinAnsweredOption = Annotated[
    int | None,
    typer.Option(min=1, help="Answers a region needs for a score [default: half the items, rounded up]."),
]


def index(
    data: DataArgument,
    id_col: IdOption,
    items: ItemsOption,
    output: ScoresOption,
    method: MethodOption = IndexMethod.mean,
    reliability: ReliabilityOption = None,
    append: AppendOption = False,
    min_answered: MinAnsweredOption = None,
    quiet: QuietOption = False,
) -> None:
    """Score multi-item survey dimensions and report their reliability.

    Each --items value gives scores and their item columns: NAME=col1,col2,... or
    a .toml file of lines name = ["col1", "col2", ...]; scores appear in the
    order given, each item in one score. --method mean: the mean of the answered
    items. pca: the first principal component of the items' correlation matrix;
    items are standardised with the mean and SD (ddof 1) of the dimension's
    complete cases, the sign makes the loadings sum positive, and the weights
    are eigenvector / sqrt(eigenvalue), so the score has unit variance on the
    complete cases. factor: regression (Thurstone) scores of the one-factor ML
    model, as R's factanal(scores = "regression"): weights R^-1 l on the
    standardised items, R the items' correlation matrix, l their loadings.

    Missing answers: A region gets a score for a dimension when it answered at
    least K of the dimension's items (--min-answered K; default: half of the
    items, rounded up); otherwise its score is empty. mean: the mean of the
    answered items. pca and factor: the weighted sum of the answered
    standardised items, prorated by (sum of all weights) / (sum of the answered
    items' weights). Item means and SDs (ddof = 1), the weights and the
    reliability statistics use the complete cases of each dimension (listwise).
    A Warning line counts the regions left without a score.

    Reliability, one row per dimension: n complete cases, Cronbach's alpha of
    the raw items, composite reliability CR = (sum l)^2 / ((sum l)^2 + sum(1 -
    l^2)) and AVE = mean l^2, with l the standardised loadings of the one-factor
    maximum-likelihood factor model (R's factanal(factors = 1), uniquenesses
    >= 0.005) whatever --method; a two-item dimension assumes equal loadings,
    l = sqrt(r12). A Warning line flags alpha < 0.7, CR < 0.7, AVE < 0.5, a
    negative loading (reverse-coded item?) and a Heywood case.

    Writes SCORES.csv (the id column, then the scores, %.10g; with --append all
    of DATA's columns first), SCORES.csv.json (provenance, reliability, the
    weights and the missing policy) and the --reliability file: all, or none.

    \b
    Example: rtsmig index data.csv --id adcode --items items.toml -o scores.csv --reliability reliability.md
    """
    reliability = reliability or []
    _check_paths(output, reliability)
    with steps(4, quiet) as step:
        result, n = index_files(data, id_col, items, output, method=method.value, min_answered=min_answered,
                                append=append, reliability=reliability, step=step)
    _warn(result, n)
    if not reliability:
        typer.echo(render_reliability(result.reliability, "md"), nl=False)
    typer.echo(f"wrote {output} and {sidecar_path(output).name} ({n} regions, {len(result.scores.columns)} scores, "
               f"{method.value})", err=True)


def _check_paths(output: Path, reliability: list[Path]) -> None:
    """Usage checks on the output paths: the scores a .csv, each reliability table a known suffix."""
    if output.suffix.lower() != ".csv":
        raise typer.BadParameter(f"{output.name}: the scores file must end in .csv", param_hint="--output")
    taken = {output.resolve(), sidecar_path(output).resolve()}
    for path in reliability:
        if path.suffix.lower().lstrip(".") not in FORMATS:
            raise typer.BadParameter(
                f"{path.name}: unknown table type {path.suffix!r}; end it in "
                f"{', '.join('.' + f for f in FORMATS)}", param_hint="--reliability",
            )
        if path.resolve() in taken:
            raise typer.BadParameter(f"{path.name}: is also an output of this command; choose another name",
                                     param_hint="--reliability")
        taken.add(path.resolve())


def _warn(result: IndexResult, n: int) -> None:
    """A Warning line per dimension with unscored regions, and per dimension under a threshold."""
    for detail in result.details:
        if detail.n_unscored:
            typer.echo(
                f"Warning: {detail.n_unscored} of {n} regions got no {detail.name!r} score (fewer than "
                f"{detail.min_answered} of its {len(detail.items)} items answered); their cells are empty",
                err=True,
            )
    for rel in result.reliability:
        if rel.flags:
            typer.echo(f"Warning: {rel.name!r}: {'; '.join(rel.flags)} (n = {rel.n} complete cases)", err=True)
