"""The ``--items`` specification: which questionnaire items make up which score.

Each ``--items`` value is either inline, ``NAME=col1,col2,col3``, or the path of a
TOML file (it ends in ``.toml``) whose top-level keys are score names and whose
values are lists of item columns::

    position = ["position_q1", "position_q2", "position_q3", "position_q4"]

Scores keep the order in which they are given. Nothing here reads a file: the
caller passes each TOML document already parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rtsmig.errors import RunFileError

# A score becomes a CSV column and a table row label: keep it a plain name.
_NAME = re.compile(r"^[^\W\d][\w.\-]*$")


class ItemsError(RunFileError):
    """An ``--items`` value or items TOML that does not validate: a usage error (exit 2)."""


@dataclass(frozen=True)
class Dimension:
    """One score: its name and the item columns that measure it, in order."""

    name: str
    items: tuple[str, ...]


def is_toml(value: str) -> bool:
    """Whether an ``--items`` value names a TOML file rather than an inline spec."""
    return value.lower().endswith(".toml")


def parse_inline(value: str) -> list[Dimension]:
    """``NAME=col1,col2`` -> one Dimension; bad syntax is an :class:`ItemsError`."""
    name, sep, columns = value.partition("=")
    name = name.strip()
    items = tuple(c.strip() for c in columns.split(","))
    if not sep or not name or not all(items):
        raise ItemsError(
            f"--items {value!r}: expected NAME=col1,col2,... (e.g. position=position_q1,position_q2) "
            "or the path of a .toml file"
        )
    _check_name(name, f"--items {value!r}")
    return [Dimension(name, items)]


def parse_toml(doc: Mapping, source: str) -> list[Dimension]:
    """Dimensions from a parsed items TOML: every top-level key is ``name = [item, ...]``.

    ``source`` names the file in error messages.
    """
    if not doc:
        raise ItemsError(f"{source}: no scores; write one line per score, e.g. position = [\"q1\", \"q2\"]")
    dims = []
    for name, items in doc.items():
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise ItemsError(
                f"{source}: {name!r} must be a list of item column names, e.g. {name} = [\"q1\", \"q2\", \"q3\"]"
            )
        _check_name(name, source)
        dims.append(Dimension(name, tuple(i.strip() for i in items)))
    return dims


def combine(groups: Iterable[list[Dimension]]) -> tuple[Dimension, ...]:
    """All dimensions in order, checked: unique names, at least 2 items each, no shared item."""
    dims: list[Dimension] = [d for group in groups for d in group]
    owner: dict[str, str] = {}
    names: set[str] = set()
    for dim in dims:
        if dim.name in names:
            raise ItemsError(f"score {dim.name!r} is defined twice in --items; give each score one definition")
        names.add(dim.name)
        if len(dim.items) < 2:
            raise ItemsError(f"score {dim.name!r} has {len(dim.items)} item; a score needs at least 2 items")
        if len(set(dim.items)) != len(dim.items):
            raise ItemsError(f"score {dim.name!r} lists an item twice; list each item once")
        for item in dim.items:
            if item in owner:
                raise ItemsError(
                    f"item {item!r} is in both {owner[item]!r} and {dim.name!r}; each item may measure one score"
                )
            owner[item] = dim.name
    return tuple(dims)


def _check_name(name: str, source: str) -> None:
    if not _NAME.match(name):
        raise ItemsError(
            f"{source}: score name {name!r} is not a plain name; use a letter, then letters, digits, '_', '.' or '-'"
        )
