"""TOML values checked against the annotations of the spec they become, in one place.

A run file's ``[weights.NAME]``, ``[index]``, ``[mediate.NAME]`` and
``[maps.NAME]`` tables become frozen spec dataclasses (:class:`WeightsSpec`,
:class:`IndexStep`, :class:`MediationSpec`, :class:`MapSpec`), and ``[inputs]``
and ``[output]`` fields of :class:`RunFile`. Their annotations already say what
each option is; :func:`check_types` reads them, so ``k = "six"`` is reported as
``[weights.knn] k must be a whole number, not the string 'six'`` instead of
failing somewhere inside a builder, and no option needs a check of its own.

Values are not converted: ``alpha = 1`` stays the integer 1 the run file wrote,
so the provenance records (and the bytes of every output) stay what they were.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from functools import cache
from pathlib import Path

NONE = type(None)


@cache
def _hints(kind: type) -> dict[str, object]:
    # The modules use `from __future__ import annotations`: the annotations are strings until resolved.
    return typing.get_type_hints(kind)


def check_types(kind: type, table: dict, where: str, err, fields: dict[str, str] | None = None) -> None:
    """Fail through ``err`` at the first value of ``table`` whose type ``kind`` does not annotate.

    Parameters
    ----------
    kind : the dataclass the table's values become.
    table : the parsed TOML table; keys it does not annotate are left to the caller.
    where : the table's name in messages, e.g. ``[weights.knn]``.
    err : the run file's error reporter (``fail(key, what)``).
    fields : TOML key -> field name, where they differ (``[inputs] regions`` is ``RunFile.regions``).
    """
    hints = _hints(kind)
    for key, value in table.items():
        hint = hints.get((fields or {}).get(key, key))
        if hint is not None and not _matches(value, hint):
            err.fail(f"{where} {key}", f"must be {describe(hint)}, not {_shown(value)}")


def _matches(value: object, hint: object) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        # TOML has no null: an optional option is simply left out.
        return any(_matches(value, arg) for arg in typing.get_args(hint) if arg is not NONE)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:  # TOML writes 1 for 1.0; both are numbers
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint in (str, Path):
        return isinstance(value, str)
    return isinstance(hint, type) and isinstance(value, hint)


def describe(hint: object) -> str:
    """What a value of ``hint`` looks like in TOML, for a message."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(arg) for arg in typing.get_args(hint) if arg is not NONE)
    if origin is tuple:
        return f"a list of {_plural(typing.get_args(hint)[0])}"
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
             Path: "a string (a path)"}
    return names.get(hint, f"a {getattr(hint, '__name__', hint)}")


def _plural(hint: object) -> str:
    return {str: "strings", int: "whole numbers", float: "numbers"}.get(hint, "values")


def _shown(value: object) -> str:
    """A value as the run file wrote it, briefly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return f"the date/time {value}"
    return repr(value)[:40]
