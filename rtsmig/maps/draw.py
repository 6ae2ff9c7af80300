"""One map from a spec: the column joined to the regions, then classified or tested, then drawn.

No file is read or written here: the caller reads the regions, the table and
the weights, and writes :attr:`Drawing.body` with :attr:`Drawing.record` beside it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from rtsmig.columns import missing_column
from rtsmig.errors import InputError, first_few
from rtsmig.maps.classify import SCHEMES

MAP_MODES = ("choropleth", "lisa", "moran-scatter")
FORMATS = ("png", "svg", "pdf")
DEFAULT_CMAP, DIVERGING_CMAP = "YlOrRd", "RdBu_r"
Step = Callable[[str], None]


def _quiet(_: str) -> None:
    """The default progress callback: report nothing."""


@dataclass(frozen=True)
class MapSpec:
    """What to draw: the column, the mode and its options, the file format and resolution."""

    column: str
    mode: str = "choropleth"
    scheme: str = "quantiles"
    k: int = 5
    cmap: str | None = None
    title: str | None = None
    permutations: int = 999
    seed: int = 1
    alpha: float = 0.05
    dpi: int = 300
    format: str = "png"

    def validate(self) -> None:
        """Raise an InputError naming the first option out of range."""
        checks = [
            (self.mode in MAP_MODES, f"mode {self.mode!r} is not one of {', '.join(MAP_MODES)}"),
            (self.scheme in SCHEMES, f"scheme {self.scheme!r} is not one of {', '.join(SCHEMES)}"),
            (isinstance(self.k, int) and 2 <= self.k <= 20, f"k {self.k!r} is not a whole number from 2 to 20"),
            (isinstance(self.permutations, int) and self.permutations >= 1, "permutations must be at least 1"),
            (isinstance(self.seed, int) and self.seed >= 0, "seed must be a whole number >= 0"),
            (0 < self.alpha < 1, f"alpha {self.alpha!r} is not between 0 and 1"),
            (isinstance(self.dpi, int) and 50 <= self.dpi <= 1200, f"dpi {self.dpi!r} is not from 50 to 1200"),
            (self.format in FORMATS, f"format {self.format!r} is not one of {', '.join(FORMATS)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(message)
        if self.cmap is not None:
            from matplotlib import colormaps

            if self.cmap not in colormaps:
                close = difflib.get_close_matches(self.cmap, list(colormaps), n=3)
                hint = f"did you mean {first_few(close)}?" if close else "see matplotlib's colormap list"
                raise InputError(f"unknown colormap {self.cmap!r}; {hint}")

    @property
    def colormap(self) -> str:
        """The colormap of a choropleth: ``cmap``, else a diverging one for std-mean, else YlOrRd."""
        if self.cmap is not None:
            return self.cmap
        return DIVERGING_CMAP if self.scheme == "std-mean" else DEFAULT_CMAP

    def to_dict(self) -> dict:
        """The options that shape the figure in this mode (the provenance record's ``options``)."""
        keep = {"column", "mode", "title", "dpi", "format"}
        keep |= {"scheme", "k", "cmap", "seed"} if self.mode == "choropleth" else {"permutations", "seed"}
        keep |= {"alpha"} if self.mode == "lisa" else set()
        options = {key: value for key, value in asdict(self).items() if key in keep}
        if self.mode == "choropleth":
            options["cmap"] = self.colormap
            if not SCHEMES[self.scheme].takes_k:
                del options["k"]
        return options


@dataclass(frozen=True)
class Drawing:
    """A drawn figure: its bytes, what it shows (for the sidecar), and warnings for the user."""

    body: bytes
    record: dict
    notes: tuple[str, ...] = ()


def column_values(regions: pd.Index, table: pd.DataFrame, column: str, source: str) -> tuple[pd.Series, list[str]]:
    """``column`` of ``table`` as floats aligned to the ``regions`` ids (NaN: no value), and notes.

    Raises
    ------
    InputError
        No such column (close names suggested), a non-numeric or infinite value
        (the first region named), or no id of ``table`` among the regions.
    """
    names = [c for c in table.columns if c != "geometry"]
    if column not in names:
        raise missing_column(source, column, names, "check --column")
    raw = table[column]
    numeric = raw.astype(float) if pd.api.types.is_bool_dtype(raw) else raw
    if not pd.api.types.is_numeric_dtype(numeric):
        numeric = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & numeric.isna()
        if bad.any():
            first = bad.idxmax()
            raise InputError(
                f"{source}: column {column!r} is not numeric (region {first!r}: {raw[first]!r}); map a numeric column"
            )
    numeric = numeric.astype(float)
    infinite = np.isinf(numeric.to_numpy())
    if infinite.any():
        raise InputError(f"{source}: column {column!r} has infinite values (regions {first_few(numeric.index[infinite])})")
    outside = table.index[~table.index.isin(regions)]
    if len(outside) == len(table.index):
        raise InputError(
            f"{source}: none of its ids is a region (its ids {first_few(table.index, 3)}, region ids "
            f"{first_few(regions, 3)}); check --id"
        )
    notes = []
    if len(outside):
        notes.append(f"{len(outside)} ids of {source} are not regions ({first_few(outside)}); they are not drawn")
    return numeric.reindex(regions), notes


def split_ids(values: pd.Series) -> tuple[list[str], list[str]]:
    """Ids of the regions with a value (the rows and columns of W, in this order) and without one."""
    has = values.notna()
    return [str(i) for i in values.index[has]], [str(i) for i in values.index[~has]]


def draw_map(geometry, values: pd.Series, spec: MapSpec, W: sparse.sparray | None = None, step: Step = _quiet) -> Drawing:
    """Draw ``spec`` for the regions ``geometry``; ``values`` is aligned to them (NaN: no value).

    ``W`` (lisa and moran-scatter) is row-standardised over :func:`split_ids`'s
    first list, in that order: the regions without a value are not in it.

    Raises
    ------
    InputError
        Fewer regions with a value than classes, a constant column.
    """
    if spec.mode == "choropleth":
        return _choropleth(geometry, values, spec, step)
    if W is None:
        raise ValueError(f"mode {spec.mode} needs W")
    return _moran(geometry, values, spec, W, step)


def _choropleth(geometry, values: pd.Series, spec: MapSpec, step: Step) -> Drawing:
    from rtsmig.maps.classify import classify
    from rtsmig.maps.figures import choropleth_figure, class_colours

    has = values.notna().to_numpy()
    step(f"classifying {spec.column} ({spec.scheme})")
    try:
        classification = classify(values.to_numpy()[has], spec.scheme, spec.k, spec.seed)
    except InputError as exc:
        raise InputError(f"column {spec.column!r}: {exc}") from exc
    notes = [f"{spec.column}: {note}" for note in classification.notes] + _no_data(values, spec, "drawn as no data")
    classes = np.full(len(values), -1)
    classes[has] = classification.classes
    colours = class_colours(spec.colormap, classification.k)
    k_text = f" ({classification.k} classes)" if SCHEMES[spec.scheme].takes_k else ""
    step("drawing the map")
    title = spec.title or f"{spec.column}, {spec.scheme}{k_text}"
    body = choropleth_figure(geometry, classes, classification, colours, title, spec.column, spec.format, spec.dpi)
    record = {**_record(values, spec), "classes": {**classification.to_dict(), "colors": colours}}
    return Drawing(body, record, tuple(notes))


def _moran(geometry, values: pd.Series, spec: MapSpec, W: sparse.sparray, step: Step) -> Drawing:
    from rtsmig.maps.figures import lisa_figure, scatter_figure
    from rtsmig.maps.lisa import check_variable, global_moran, local_moran

    ids, _ = split_ids(values)
    y = values.dropna().to_numpy()
    check_variable(y, spec.column)
    notes = _no_data(values, spec, "left out of W and drawn as no data")
    lonely = int((np.diff(sparse.csr_array(W).indptr) == 0).sum())
    if lonely:
        notes.append(f"{lonely} regions have no neighbours in W; their spatial lag is 0")
    step(f"computing Moran's I of {spec.column} ({spec.permutations} permutations)")
    record = _record(values, spec)
    if spec.mode == "lisa":
        result = local_moran(y, W, ids, spec.permutations, spec.seed, spec.alpha)
        moran = result.moran
        record["clusters"] = {"alpha": spec.alpha, "counts": result.counts()}
    else:
        moran = global_moran(y, W, ids, spec.permutations, spec.seed)
    record["moran"] = moran.to_dict()
    decimals = max(1, math.ceil(math.log10(moran.permutations + 1)))  # p = (k + 1) / (permutations + 1)
    p_text = f"p = {moran.p_sim:.{decimals}f} ({moran.permutations} permutations)"
    step("drawing the figure")
    if spec.mode == "lisa":
        labels = pd.Series(result.labels, index=ids).reindex(values.index)
        labels = [None if pd.isna(label) else label for label in labels]
        subtitle = f"Moran's I = {moran.I:.3f}, {p_text}; local p < {spec.alpha:g}"
        title = spec.title or f"LISA clusters of {spec.column}"
        body = lisa_figure(geometry, labels, title, subtitle, spec.format, spec.dpi)
    else:
        subtitle = f"Moran's I = {moran.I:.3f} (slope of the line), {p_text}"
        title = spec.title or f"Moran scatterplot of {spec.column}"
        body = scatter_figure(moran, spec.column, title, subtitle, spec.format, spec.dpi)
    return Drawing(body, record, tuple(notes))


def _record(values: pd.Series, spec: MapSpec) -> dict:
    return {
        "mode": spec.mode, "column": spec.column, "regions": len(values), "with_value": int(values.notna().sum()),
        "no_data": [str(i) for i in values.index[values.isna()]],
    }


def _no_data(values: pd.Series, spec: MapSpec, fate: str) -> list[str]:
    missing = values.index[values.isna()]
    return [f"{len(missing)} regions have no {spec.column} value ({first_few(missing)}); {fate}"] if len(missing) else []
