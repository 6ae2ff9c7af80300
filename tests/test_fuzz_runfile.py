"""Fuzzing the run-file validator: whatever the TOML, ``read_runfile`` succeeds or raises an rtsmig error.

Three families of documents: arbitrary ones (nested tables, arrays and every
TOML scalar, under the real section names or any), mutations of a valid run
file (a key deleted, a value replaced by any value, a key renamed to an odd
name), and valid run files whose section names are drawn from hostile text.
Whenever a document validates, every output its plan writes lies inside the
output folder. Bounded: a few hundred examples each, seconds in all.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_runfile import EXAMPLE, REGIONS

from rtsmig.errors import RtsmigError
from rtsmig.runfile.outputs import output_paths
from rtsmig.runfile.schema import SECTIONS, read_runfile

# FUZZ_N=5000 for a longer search by hand; CI keeps the bound.
SETTINGS = settings(max_examples=int(os.environ.get("FUZZ_N", "200")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
INDICES = ["position_index", "method_index"]
VALID = {
    "inputs": {"regions": REGIONS.as_posix(), "data": "data.csv", "id": "adcode"},
    "index": {"items": "items.toml", "method": "mean", "min_answered": 2},
    "weights": {
        "queen": {"kind": "queen", "islands": "attach", "transform": "r", "tolerance": 0.0},
        "knn6": {"kind": "knn", "k": 6},
        "band": {"kind": "distance", "threshold": 500.0, "inverse": True, "alpha": 1},
    },
    "variables": {"dims": {"y": "migration", "x": ["position", "method"]},
                  "idx": {"y": "migration", "x": INDICES}},
    "samples": {"east": {"column": "position", "values": ["1", 2]}},
    "grid": {"models": ["ols", "lag"], "methods": ["ml"], "weights": ["queen", "knn6"],
             "variables": ["dims"], "samples": ["all", "east"]},
    "mediate": {"ch": {"weights": "queen", "model": "lag", "y": "migration", "x": INDICES,
                       "mediators": ["environment"], "draws": 200, "seed": 1, "ci_level": 0.9}},
    "maps": {"m": {"column": "migration", "scheme": "quantiles", "k": 5},
             "l": {"column": "migration", "mode": "lisa", "weights": "knn6", "permutations": 99, "alpha": 0.1}},
    "output": {"folder": "out", "tables": ["md", "tex"]},
}

# --- a TOML writer (the standard library reads TOML but does not write it) -----------------------


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("-inf" if value < 0 else "inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")  # TOML escapes DEL too
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return "{" + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(doc: dict) -> str:
    text = "".join(f"{toml_value(str(k))} = {toml_value(v)}\n" for k, v in doc.items())
    tomllib.loads(text)  # the writer itself must be right, or the fuzzing tests only the TOML parser
    return text


# --- strategies ----------------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
ODD = st.sampled_from(["", " ", "..", "../x", "a/b", "/abs", "all", ".x", "-x", "名", "x" * 70, "a\x00b",
                       "kind", "queen", "out", "C:\\x", "a..b", "NUL"])
NAMES = TEXT | ODD | st.sampled_from([*SECTIONS, "queen", "dims", "x", "y", "k", "kind", "column", "weights"])
SCALARS = (
    st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT | ODD | st.dates() | st.datetimes() | st.times()
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
                      max_leaves=12)
# The keys each section allows: documents that get past the first checks to the deeper ones.
KEYS = {
    "inputs": ["regions", "data", "id", "layer"], "index": ["items", "method", "min_answered"],
    "weights": ["kind", "k", "threshold", "inverse", "alpha", "bandwidth", "kernel_fn", "by", "tolerance",
                "transform", "islands", "crs"],
    "variables": ["y", "x"], "samples": ["column", "values"],
    "grid": ["models", "methods", "weights", "variables", "samples"],
    "mediate": ["weights", "model", "y", "x", "mediators", "draws", "seed", "ci_level", "logdet"],
    "maps": ["weights", "column", "mode", "scheme", "k", "cmap", "title", "permutations", "seed", "alpha", "dpi",
             "format"],
    "output": ["folder", "tables"],
}
NAMED = ("weights", "variables", "samples", "mediate", "maps")


REQUIRED = ("inputs", "weights", "variables", "grid")


def _table_of(section: str):
    """A section with its own keys and any values; a real value now and then, so later checks are reached."""
    real = [v for v in _leaves(VALID.get(section, {}))]
    values = VALUES | SCALARS | (st.sampled_from(real) if real else st.nothing())
    options = st.dictionaries(st.sampled_from(KEYS[section]), values, max_size=6)
    names = st.sampled_from(list(VALID[section])) | NAMES if section in VALID else NAMES
    return st.dictionaries(names, options, max_size=3) if section in NAMED else options


def _leaves(node: object) -> list:
    if isinstance(node, dict):
        return [leaf for child in node.values() for leaf in _leaves(child)]
    return [node]


DOCUMENTS = (
    st.dictionaries(NAMES, VALUES, max_size=6)
    | st.fixed_dictionaries({}, optional={s: st.dictionaries(NAMES, VALUES, max_size=4) for s in SECTIONS})
    | st.fixed_dictionaries({s: _table_of(s) for s in REQUIRED},
                            optional={s: _table_of(s) for s in SECTIONS if s not in REQUIRED})
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A run file's folder with the data and items the valid document reads."""
    work = tmp_path_factory.mktemp("fuzz")
    shutil.copy(EXAMPLE / "data.csv", work / "data.csv")
    shutil.copy(EXAMPLE / "items.toml", work / "items.toml")
    return work


def outcome(folder: Path, doc: dict):
    """Validate ``doc`` as a run file: the plan, or None when an rtsmig error refused it (nothing else may)."""
    path = folder / "grid.toml"
    path.write_text(toml_document(doc), encoding="utf-8")
    try:
        plan = read_runfile(path)
    except RtsmigError:
        return None
    root = plan.folder.resolve()
    for out in output_paths(plan):
        assert out.path.resolve().is_relative_to(root), out
    return plan


def test_the_valid_document_validates(folder):
    plan = outcome(folder, VALID)
    assert plan is not None and len(plan.weights) == 3 and len(plan.maps) == 2


@pytest.mark.parametrize("section", ["index", "samples", "mediate", "maps", "output"])
def test_the_valid_document_without_an_optional_section_validates(folder, section):
    doc = copy.deepcopy(VALID)
    del doc[section]
    if section == "samples":
        del doc["grid"]["samples"]
    if section == "index":  # the scores it appends are gone too
        doc["variables"] = {"dims": VALID["variables"]["dims"]}
        doc["grid"]["variables"] = ["dims"]
        del doc["mediate"]
    assert outcome(folder, doc) is not None


@SETTINGS
@given(doc=DOCUMENTS)
def test_any_document_validates_or_raises_an_rtsmig_error(folder, doc):
    outcome(folder, doc)


def _paths(node: object, prefix: tuple = ()):
    """Every key path into ``node``, tables and arrays alike."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


@SETTINGS
@given(data=st.data())
def test_a_mutated_run_file_validates_or_raises_an_rtsmig_error(folder, data):
    doc = copy.deepcopy(VALID)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        deep = [p for p in paths if len(p) >= 2]  # mostly options: the top level fails at the first check
        if not paths:
            break
        *parents, key = data.draw(st.sampled_from(deep) if deep and data.draw(st.integers(0, 4)) else
                                  st.sampled_from(paths))
        parent = doc
        for step in parents:
            parent = parent[step]
        action = data.draw(st.sampled_from(["delete", "replace", "replace", "rename"]))
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = data.draw(VALUES)
        elif isinstance(parent, dict):
            parent[data.draw(NAMES)] = parent.pop(key)
    outcome(folder, doc)


@SETTINGS
@given(names=st.lists(NAMES, min_size=5, max_size=5))
def test_hostile_section_names_are_refused_or_stay_inside_the_output_folder(folder, names):
    weights, variables, sample, mediation, figure = names
    doc = copy.deepcopy(VALID)
    doc["weights"] = {weights: {"kind": "knn", "k": 6}}
    doc["variables"] = {variables: {"y": "migration", "x": ["position"]}}
    doc["samples"] = {sample: {"column": "position", "values": ["1"]}}
    doc["grid"] = {"models": ["ols"], "samples": ["all", sample]}
    doc["mediate"] = {mediation: {**VALID["mediate"]["ch"], "weights": weights}}
    doc["maps"] = {figure: {"column": "migration", "mode": "lisa", "weights": weights}}
    plan = outcome(folder, doc)
    if plan is not None:  # outcome() checked every path; the names were plain
        assert all(n.isascii() and ".." not in n and "/" not in n for n in names)
