"""``rtsmig index``: scores of multi-item survey dimensions and their reliability."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from rtsmig.cli.options import IdOption, QuietOption
from rtsmig.cli.progress import steps
from rtsmig.errors import InputError
from rtsmig.io.files import read_toml, write_all
from rtsmig.io.manifest import manifest, to_json
from rtsmig.io.regions import read_table
from rtsmig.survey import (
    MISSING_POLICY,
    Dimension,
    IndexResult,
    build_index,
    combine,
    is_toml,
    parse_inline,
    parse_toml,
)
from rtsmig.tables.formats import FORMATS
from rtsmig.tables.reliability import reliability_data, render_reliability


class IndexMethod(str, Enum):
    mean = "mean"
    pca = "pca"
    factor = "factor"


def sidecar_path(output: Path) -> Path:
    """The provenance file beside ``SCORES.csv``: ``SCORES.csv.json``."""
    return output.with_name(output.name + ".json")


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
    Path | None,
    typer.Option(help="Write the reliability table here; the suffix picks the format: "
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
    fmt = _check_paths(output, reliability)
    with steps(4, quiet) as step:
        step("reading --items")
        dims, tomls = _dimensions(items)
        step(f"reading {data.name}")
        table = read_table(data, id_col)
        _check_names(dims, table, id_col, append, data)
        step("scoring")
        result = build_index(table, dims, method.value, min_answered, source=str(data))
        step(f"writing {output.name}")
        rel_text = render_reliability(result.reliability, fmt or "md")
        options = {
            "id": id_col, "items": [{"name": d.name, "items": list(d.items)} for d in dims],
            "method": method.value, "min_answered": min_answered, "append": append,
            "reliability": reliability.name if reliability else None,
        }
        inputs = {"data": data, **{f"items_{i}": p for i, p in enumerate(tomls, start=1)}}
        files = {
            output: _scores_csv(table if append else None, result, id_col),
            sidecar_path(output): to_json(_sidecar(manifest("index", inputs, options), result)),
        }
        if reliability is not None:
            files[reliability] = rel_text
        write_all(files)  # all files appear, or none
    _warn(result, len(table))
    if reliability is None:
        typer.echo(rel_text, nl=False)
    typer.echo(f"wrote {output} and {sidecar_path(output).name} ({len(table)} regions, {len(dims)} scores, "
               f"{method.value})", err=True)


def _sidecar(provenance: dict, result: IndexResult) -> dict:
    """SCORES.csv.json: provenance, how each score was made, the reliability and the missing policy."""
    return {
        **provenance,
        "n": len(result.scores), "missing_policy": MISSING_POLICY, "scores_order": list(result.scores.columns),
        "scores": {d.name: d.to_dict() for d in result.details},
        "reliability": reliability_data(result.reliability),
    }


def _check_paths(output: Path, reliability: Path | None) -> str | None:
    """Usage checks on the output paths; the reliability format from its suffix."""
    if output.suffix.lower() != ".csv":
        raise typer.BadParameter(f"{output.name}: the scores file must end in .csv", param_hint="--output")
    if reliability is None:
        return None
    fmt = reliability.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"{reliability.name}: unknown table type {reliability.suffix!r}; end it in "
            f"{', '.join('.' + f for f in FORMATS)}", param_hint="--reliability",
        )
    if reliability.resolve() in (output.resolve(), sidecar_path(output).resolve()):
        raise typer.BadParameter(f"{reliability.name}: is also a scores output; choose another name",
                                 param_hint="--reliability")
    return fmt


def _dimensions(values: list[str]) -> tuple[tuple[Dimension, ...], list[Path]]:
    """The dimensions of all --items values, and the TOML files among them (for the manifest)."""
    groups, tomls = [], []
    for value in values:
        if is_toml(value):
            tomls.append(Path(value))
            groups.append(parse_toml(read_toml(value), value))
        else:
            groups.append(parse_inline(value))
    return combine(groups), tomls


def _check_names(dims: tuple[Dimension, ...], table: pd.DataFrame, id_col: str, append: bool, source: Path) -> None:
    """A score must not take the name of the id column, nor (with --append) of a column of DATA."""
    for dim in dims:
        if dim.name == id_col:
            raise InputError(f"score {dim.name!r} has the name of the id column; rename the score in --items")
        if append and dim.name in table.columns:
            raise InputError(
                f"{source}: already has a column {dim.name!r}, the name of a score; rename the score in "
                "--items, or leave out --append"
            )


def _formatted(values: pd.Series) -> pd.Series:
    # %.10g: fixed, platform-independent digits, so the same input gives the same bytes;
    # + 0.0 turns -0.0 into 0.0; no score is an empty cell.
    return values.map(lambda x: "" if np.isnan(x) else "%.10g" % (x + 0.0))


def _scores_csv(data: pd.DataFrame | None, result: IndexResult, id_col: str) -> str:
    """The scores CSV text: the id, DATA's columns with --append, then the scores."""
    scores = result.scores.apply(_formatted)
    if data is None:
        frame = scores
    else:
        frame = data.copy()
        for column in frame.columns:
            values = frame[column]
            # Whole-number floats (an item column with gaps) stay integers: 3, not 3.0.
            if pd.api.types.is_float_dtype(values) and _whole(values):
                frame[column] = values.astype("Int64")
        frame = pd.concat([frame, scores], axis=1)
    return frame.to_csv(index=True, index_label=id_col, lineterminator="\n")


def _whole(values: pd.Series) -> bool:
    finite = values.dropna()
    return bool(np.isfinite(finite).all() and finite.mod(1).eq(0).all() and (finite.abs() < 2**53).all())


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
