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
from rtsmig.pipeline.maps import MAP_MODES, MapSpec
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
    items = entry.get("items")
    if not isinstance(items, str) or not items:
        err.fail("[index] items", "must be the path of an items TOML file, relative to the run file")
    method = entry.get("method", "mean")
    if method not in INDEX_METHODS:
        err.fail(f"[index] method = {method!r}", f"is not allowed; use one of {', '.join(INDEX_METHODS)}")
    least = entry.get("min_answered")
    if least is not None and (not isinstance(least, int) or isinstance(least, bool) or least < 1):
        err.fail("[index] min_answered", "must be a whole number of at least 1")
    return IndexStep(base / items, method, least)


def read_mediations(doc: dict, weights: tuple[str, ...], err) -> dict[str, MediationStep]:
    """Validate every ``[mediate.NAME]``."""
    steps = {}
    for name, entry in _section(doc, "mediate", err).items():
        where = f"[mediate.{name}]"
        err.only(entry, MEDIATE_KEYS, where)
        named = _named_weights(entry, weights, where, err, required=True)
        if entry.get("model", "lag") not in MEDIATION_MODELS:
            err.fail(f"{where} model", f"must be one of {', '.join(MEDIATION_MODELS)}")
        options = {k: entry[k] for k in MEDIATE_KEYS[1:] if k in entry}
        for key in ("x", "mediators"):
            if not isinstance(options.get(key), list) or not all(isinstance(v, str) and v for v in options[key]):
                err.fail(f"{where} {key}", "must be a non-empty list of column names")
            options[key] = tuple(options[key])
        options.setdefault("model", "lag")
        spec = _checked(MediationSpec, options, where, err)
        steps[name] = MediationStep(name, named, spec)
    return steps


def read_maps(doc: dict, weights: tuple[str, ...], err) -> dict[str, MapStep]:
    """Validate every ``[maps.NAME]``."""
    steps = {}
    for name, entry in _section(doc, "maps", err).items():
        where = f"[maps.{name}]"
        err.only(entry, MAP_KEYS, where)
        mode = entry.get("mode", "choropleth")
        if mode not in MAP_MODES:
            err.fail(f"{where} mode", f"must be one of {', '.join(MAP_MODES)}")
        named = _named_weights(entry, weights, where, err, required=mode != "choropleth")
        options = {k: v for k, v in entry.items() if k != "weights"}
        steps[name] = MapStep(name, named, _checked(MapSpec, options, where, err))
    return steps


def _section(doc: dict, name: str, err) -> dict:
    section = doc.get(name, {})
    if not isinstance(section, dict):
        err.fail(f"[{name}]", f"must hold named tables such as [{name}.NAME]")
    return section


def _named_weights(entry: dict, weights: tuple[str, ...], where: str, err, required: bool) -> str | None:
    name = entry.get("weights")
    if name is None and not required:
        return None
    if name not in weights:
        err.fail(f"{where} weights", f"must name a [weights] entry: one of {', '.join(weights)}")
    return name


def _checked(kind: type, options: dict, where: str, err):
    """Build a spec and run its own validation; a bad value becomes a run-file error at ``where``."""
    try:
        spec = kind(**options)
        spec.validate()
    except (TypeError, ValueError, InputError) as exc:
        err.fail(where, f"is invalid: {exc}")
    return spec
