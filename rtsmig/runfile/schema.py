"""A run file (TOML) read and validated in full before anything runs.

Every error names the TOML key and what is allowed there::

    [inputs]                      # paths relative to the run file
    regions = "regions.shp"       # the polygons the weights are built from
    data = "data.csv"
    id = "code"

    [weights.queen]               # one table per named weights spec
    kind = "queen"                # any `rtsmig weights build` option
    islands = "attach"

    [variables.dims]              # one table per named variable set
    y = "migration"
    x = ["position", "method"]

    [samples.east]                # optional sub-samples: rows whose column value
    column = "region"             # is listed (compared as text); the weights lose
    values = ["east"]             # the other regions and are re-standardised

    [grid]                        # every combination is one fit
    models = ["ols", "lag", "error"]
    methods = ["ml"]              # default ["ml"]; ols and slx ignore it
    weights = ["queen"]           # default: all named weights
    variables = ["dims"]          # default: all named variable sets
    samples = ["all", "east"]     # default ["all"]: the whole data set

    [output]
    folder = "out"                # default "rtsmig-out" beside the run file
    tables = ["md", "tex"]        # default ["md"]

Optional [index], [mediate.NAME] and [maps.NAME] sections add survey indices
before the grid and mediation analyses and maps after it
(:mod:`rtsmig.runfile.analyses`).

Reading a run file checks it whole before anything is built: every NAME above
names files, so it must be a plain name (:mod:`rtsmig.runfile.names`); every
value must have the type of the spec option it becomes
(:mod:`rtsmig.runfile.typecheck`); the input files and the data's columns must
be there (:mod:`rtsmig.runfile.inputs`); and every output must lie inside
[output] folder (:mod:`rtsmig.runfile.outputs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from rtsmig.errors import InputError, RunFileError
from rtsmig.io.files import read_toml
from rtsmig.models.spec import METHODS, MODELS
from rtsmig.pipeline.steps import Sample
from rtsmig.runfile.analyses import IndexStep, MapStep, MediationStep, read_index, read_maps, read_mediations
from rtsmig.runfile.inputs import check_inputs
from rtsmig.runfile.keys import WEIGHTS as WEIGHTS_WORDS
from rtsmig.runfile.keys import spec_reason
from rtsmig.runfile.names import FULL_SAMPLE, named_tables, shown_key
from rtsmig.runfile.outputs import check_outputs
from rtsmig.runfile.typecheck import check_types
from rtsmig.tables import FORMATS
from rtsmig.weights.spec import WeightsSpec

__all__ = ["FULL_SAMPLE", "SECTIONS", "RunFile", "read_runfile"]

SECTIONS = ("inputs", "index", "weights", "variables", "samples", "grid", "mediate", "maps", "output")
WEIGHTS_OPTIONS = tuple(f.name for f in fields(WeightsSpec))


@dataclass(frozen=True)
class RunFile:
    """A validated run file; paths are absolute."""

    path: Path
    regions: Path
    data: Path
    id: str
    layer: str | None
    weights: dict[str, WeightsSpec]
    variables: dict[str, tuple[str, tuple[str, ...]]]
    samples: dict[str, Sample]
    models: tuple[str, ...]
    methods: tuple[str, ...]
    grid_weights: tuple[str, ...]
    grid_variables: tuple[str, ...]
    grid_samples: tuple[str, ...]
    folder: Path
    tables: tuple[str, ...]
    index: IndexStep | None = None
    mediations: dict[str, MediationStep] = field(default_factory=dict)
    maps: dict[str, MapStep] = field(default_factory=dict)

    @property
    def scores(self) -> Path:
        """Where ``[index]`` writes the data with the scores appended."""
        return self.folder / "scores.csv"

    @property
    def fit_data(self) -> Path:
        """The data every fit, mediation and map reads: the scored data with ``[index]``, else ``data``."""
        return self.scores if self.index is not None else self.data

    @property
    def used_weights(self) -> tuple[str, ...]:
        """The named weights to build: the grid's, then those the mediations and maps name."""
        named = [*self.grid_weights, *(m.weights for m in self.mediations.values()),
                 *(m.weights for m in self.maps.values() if m.weights is not None)]
        return tuple(dict.fromkeys(named))


def read_runfile(path: Path) -> RunFile:
    """Parse and validate ``path`` and check what it reads and writes, before anything runs.

    Raises
    ------
    RunFileError
        A key that does not validate (exit 2), named with what is allowed there;
        also a name that cannot name a file, or two outputs with one path.
    InputError
        An input file that is missing, or a column of ``[variables]`` or
        ``[samples]`` that the data do not have (exit 3), named with its key.
    OutputError
        A planned output that would land outside ``[output] folder`` (through
        a symbolic link), or on an input.
    """
    run = parse_runfile(read_toml(path), path)
    check_inputs(run)
    check_outputs(run)
    return run


def parse_runfile(doc: dict, path: Path) -> RunFile:
    """Validate a parsed run file ``doc`` read from ``path``; a RunFileError names the first bad key."""
    err = _Errors(path)
    err.only(doc, SECTIONS, "the top level")
    base = path.parent
    inputs = _table(doc, "inputs", err)
    err.only(inputs, ("regions", "data", "id", "layer"), "[inputs]")
    check_types(RunFile, {k: v for k, v in inputs.items() if k == "layer"}, "[inputs]", err)  # the rest: _string
    weights = {name: _weights(name, spec, err) for name, spec in named_tables(doc, "weights", err, True).items()}
    variables = {name: _variables(name, v, err) for name, v in named_tables(doc, "variables", err, True).items()}
    samples = {name: _sample(name, entry, err) for name, entry in named_tables(doc, "samples", err).items()}
    grid = _table(doc, "grid", err)
    err.only(grid, ("models", "methods", "weights", "variables", "samples"), "[grid]")
    output = doc.get("output", {})
    err.only(output, ("folder", "tables"), "[output]")
    check_types(RunFile, output, "[output]", err)
    if not weights or not variables:
        err.fail("[weights] and [variables]", "need at least one named entry each, e.g. [weights.queen] kind = \"queen\"")
    index = read_index(_table(doc, "index", err), base, err) if "index" in doc else None
    return RunFile(
        path=path,
        regions=base / _string(inputs, "regions", "[inputs]", err),
        data=base / _string(inputs, "data", "[inputs]", err),
        id=_string(inputs, "id", "[inputs]", err),
        layer=inputs.get("layer"),
        weights=weights,
        variables=variables,
        models=_choices(grid, "models", MODELS, None, err),
        methods=_choices(grid, "methods", METHODS, ("ml",), err),
        grid_weights=_choices(grid, "weights", tuple(weights), tuple(weights), err),
        grid_variables=_choices(grid, "variables", tuple(variables), tuple(variables), err),
        samples=samples,
        grid_samples=_choices(grid, "samples", (FULL_SAMPLE, *samples), (FULL_SAMPLE,), err),
        folder=base / (_string(output, "folder", "[output]", err) if "folder" in output else "rtsmig-out"),
        tables=_choices(output, "tables", FORMATS, ("md",), err, section="output"),
        index=index,
        mediations=read_mediations(doc, tuple(weights), err),
        maps=read_maps(doc, tuple(weights), err),
    )


class _Errors:
    """Raise RunFileErrors that name the run file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, what: str) -> None:
        raise RunFileError(f"{self.path}: {key} {what}")

    def only(self, table: dict, allowed: tuple[str, ...], where: str) -> None:
        if not isinstance(table, dict):
            self.fail(where, "must be a table")
        unknown = [k for k in table if k not in allowed]
        if unknown:
            self.fail(f"{where}: key {unknown[0]!r}", f"is not allowed here; use {', '.join(allowed)}")


def _table(doc: dict, name: str, err: _Errors) -> dict:
    if name not in doc:
        err.fail(f"[{name}]", "is missing")
    if not isinstance(doc[name], dict):
        err.fail(f"[{name}]", "must be a table")
    return doc[name]


def _string(table: dict, key: str, where: str, err: _Errors) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        err.fail(f"{where} {key}", "must be a non-empty string")
    return value


def _choices(table, key, allowed, default, err, section="grid") -> tuple[str, ...]:
    if key not in table:
        if default is None:
            err.fail(f"[{section}] {key}", f"is missing; list some of {', '.join(allowed)}")
        return tuple(default)
    values = table[key]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        err.fail(f"[{section}] {key}", f"must be a non-empty list of strings from {', '.join(allowed)}")
    for i, value in enumerate(values):
        if value not in allowed:
            err.fail(f"[{section}] {key}[{i}] = {value!r}", f"is not allowed; use one of {', '.join(allowed)}")
    if len(set(values)) != len(values):
        err.fail(f"[{section}] {key}", "lists a value twice")
    return tuple(values)


def _weights(name: str, spec: dict, err: _Errors) -> WeightsSpec:
    where = shown_key("weights", name)
    err.only(spec, WEIGHTS_OPTIONS, where)
    if "kind" not in spec:
        err.fail(f"{where} kind", "is missing (queen, rook, knn, distance, kernel or block)")
    check_types(WeightsSpec, spec, where, err)
    built = WeightsSpec(**spec)
    try:
        built.validate()
    except InputError as exc:
        err.fail(where, f"is invalid: {spec_reason(str(exc), WEIGHTS_WORDS, 'rtsmig weights build')}")
    return built


def _variables(name: str, entry: dict, err: _Errors) -> tuple[str, tuple[str, ...]]:
    where = shown_key("variables", name)
    err.only(entry, ("y", "x"), where)
    y = _string(entry, "y", where, err)
    x = entry.get("x")
    if not isinstance(x, list) or not x or not all(isinstance(v, str) and v for v in x):
        err.fail(f"{where} x", "must be a non-empty list of column names")
    if y in x:
        err.fail(f"{where} x", f"lists the outcome {y!r}; a column is the outcome or a regressor, not both")
    if len(set(x)) != len(x):
        err.fail(f"{where} x", "lists a column twice; list each regressor once")
    return y, tuple(x)


def _sample(name: str, entry: dict, err: _Errors) -> Sample:
    where = shown_key("samples", name)
    if name == FULL_SAMPLE:
        err.fail(where, f"is reserved: {FULL_SAMPLE!r} is the whole data set; choose another name")
    err.only(entry, ("column", "values"), where)
    column = _string(entry, "column", where, err)
    values = entry.get("values")
    if not isinstance(values, list) or not values or not all(isinstance(v, (str, int)) for v in values):
        err.fail(f"{where} values", "must be a non-empty list of strings or whole numbers")
    return Sample(column, tuple(str(v) for v in values))
