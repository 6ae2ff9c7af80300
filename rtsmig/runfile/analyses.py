"""The run file's steps around the grid: survey indices before it, mediations and maps after it.

Optional sections, validated with the rest of the run file::

    [index]                       # scores from questionnaire items, appended to the
    items = "items.toml"          # data: every fit, mediation and map then reads
    method = "mean"               # OUT/scores.csv (mean, pca or factor)
    min_answered = 2              # optional (default: half of each dimension's items)

    [mediate.channels]            # one table per named mediation analysis
    weights = "queen"             # a named weights spec
    model = "lag"                 # lag, durbin or error
    y = "migration"
    x = ["position_index", "method_index"]
    mediators = ["environment", "technology", "performance"]
    draws = 2000                  # optional, as `rtsmig mediate`
    seed = 1

    [maps.migration]              # one table per map: OUT/maps/NAME.png
    column = "migration"
    mode = "choropleth"           # choropleth (default), lisa or moran-scatter
    scheme = "quantiles"          # choropleth: any `rtsmig map --scheme`
    k = 5
    weights = "queen"             # lisa, moran-scatter
    permutations = 999
    seed = 1

Outputs: ``scores.csv`` (+ ``.json``) and ``tables/reliability.FMT``;
``mediation/NAME/``; ``maps/NAME.png`` (+ ``.json``). Each reruns only when the
provenance record it would write differs from the one it holds, as the fits.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from rtsmig.errors import InputError
from rtsmig.mediation import MEDIATION_MODELS, MediationSpec
from rtsmig.models.logdet_engines import LOGDET_CHOICES
from rtsmig.pipeline.maps import MAP_MODES, MapSpec
from rtsmig.runfile.keys import MAPS as MAP_WORDS
from rtsmig.runfile.keys import MEDIATE as MEDIATE_WORDS
from rtsmig.runfile.keys import spec_reason
from rtsmig.runfile.names import named_tables, path_part_problem, shown_key
from rtsmig.runfile.typecheck import check_types
from rtsmig.survey import METHODS as INDEX_METHODS

MEDIATE_KEYS = ("weights", "model", "y", "x", "mediators", "draws", "seed", "ci_level", "logdet")
MAP_KEYS = ("weights", *(f.name for f in fields(MapSpec)))


@dataclass(frozen=True)
class IndexStep:
    """``[index]``: the items files (absolute), the score method and the missing-answer threshold."""

    items: Path
    method: str = "mean"
    min_answered: int | None = None


@dataclass(frozen=True)
class MediationStep:
    name: str
    weights: str
    spec: MediationSpec


@dataclass(frozen=True)
class MapStep:
    name: str
    weights: str | None
    spec: MapSpec


def read_index(entry: dict, base: Path, err) -> IndexStep:
    """Validate ``[index]``; ``err`` is the run file's error reporter."""
    err.only(entry, ("items", "method", "min_answered"), "[index]")
    check_types(IndexStep, entry, "[index]", err)
    items = entry.get("items")
    if not isinstance(items, str) or not items.lower().endswith(".toml"):
        err.fail("[index] items", "must be the path of an items TOML file (NAME.toml), relative to the run file")
    method = entry.get("method", "mean")
    if method not in INDEX_METHODS:
        err.fail(f"[index] method = {method!r}", f"is not allowed; use one of {', '.join(INDEX_METHODS)}")
    least = entry.get("min_answered")
    if least is not None and least < 1:
        err.fail("[index] min_answered", "must be a whole number of at least 1")
    return IndexStep(base / items, method, least)


def read_mediations(doc: dict, weights: tuple[str, ...], err) -> dict[str, MediationStep]:
    """Validate every ``[mediate.NAME]``."""
    steps = {}
    for name, entry in named_tables(doc, "mediate", err).items():
        where = shown_key("mediate", name)
        err.only(entry, MEDIATE_KEYS, where)
        named = _named_weights(entry, weights, where, err, required=True)
        options = {k: entry[k] for k in MEDIATE_KEYS[1:] if k in entry}
        check_types(MediationSpec, options, where, err)
        if options.get("model", "lag") not in MEDIATION_MODELS:
            err.fail(f"{where} model", f"must be one of {', '.join(MEDIATION_MODELS)}")
        if options.get("logdet", "auto") not in LOGDET_CHOICES:
            err.fail(f"{where} logdet", f"must be one of {', '.join(LOGDET_CHOICES)}")
        if options.get("seed", 0) < 0:
            err.fail(f"{where} seed", "must be a whole number of at least 0")
        for key in ("x", "mediators"):
            if not options.get(key) or not all(options[key]):  # the types are checked: a list of strings
                err.fail(f"{where} {key}", "must be a non-empty list of column names")
            options[key] = tuple(options[key])
        _check_equation_folders(options, where, err)
        options.setdefault("model", "lag")
        spec = _checked(MediationSpec, options, where, err, MEDIATE_WORDS, "rtsmig mediate")
        steps[name] = MediationStep(name, named, spec)
    return steps


def _check_equation_folders(options: dict, where: str, err) -> None:
    """The outcome and each mediator name a folder below ``equations/``: each must be one path part."""
    for key, columns in (("y", [options.get("y")]), ("mediators", options["mediators"])):
        for column in columns:
            problem = None if column is None else path_part_problem(column)
            if problem is not None:
                err.fail(f"{where} {key}", f"{problem}; rename the column")


def read_maps(doc: dict, weights: tuple[str, ...], err) -> dict[str, MapStep]:
    """Validate every ``[maps.NAME]``."""
    steps = {}
    for name, entry in named_tables(doc, "maps", err).items():
        where = shown_key("maps", name)
        err.only(entry, MAP_KEYS, where)
        options = {k: v for k, v in entry.items() if k != "weights"}
        check_types(MapSpec, options, where, err)
        mode = entry.get("mode", "choropleth")
        if mode not in MAP_MODES:
            err.fail(f"{where} mode", f"must be one of {', '.join(MAP_MODES)}")
        named = _named_weights(entry, weights, where, err, required=mode != "choropleth")
        steps[name] = MapStep(name, named, _checked(MapSpec, options, where, err, MAP_WORDS, "rtsmig map"))
    return steps


def _named_weights(entry: dict, weights: tuple[str, ...], where: str, err, required: bool) -> str | None:
    name = entry.get("weights")
    if name is None and not required:
        return None
    if not isinstance(name, str) or name not in weights:
        err.fail(f"{where} weights", f"must name a [weights] entry: one of {', '.join(weights)}")
    return name


def _checked(kind: type, options: dict, where: str, err, words: dict[str, str], command: str):
    """Build a spec and run its own validation; a bad value becomes a run-file error at ``where``.

    The spec's message names CLI options (``--draws``); they become the table's keys.
    """
    try:
        spec = kind(**options)
        spec.validate()
    except (TypeError, ValueError, InputError) as exc:
        err.fail(where, f"is invalid: {spec_reason(str(exc), words, command)}")
    return spec
