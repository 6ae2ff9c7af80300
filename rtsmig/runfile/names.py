"""The one rule for run-file names that become parts of output paths.

Section names (``[weights.NAME]``, ``[variables.NAME]``, ``[samples.NAME]``,
``[mediate.NAME]``, ``[maps.NAME]``) name files and folders below ``[output]
folder``: ``weights/NAME.parquet``, ``fits/VARIABLES/WEIGHTS@SAMPLE/``,
``mediation/NAME/``, ``maps/NAME.png``. A name that held ``/`` or ``..`` would
write outside that folder, as ``zipfile`` members with ``../`` once did; so every
such name must match :data:`NAME` (letters, digits, ``_``, ``.`` and ``-``, not
first a ``.`` or ``-``, no ``..``), whatever the section.

Column names are data, not names the run file makes up: they may hold spaces
and any letters, but where one becomes a folder (a mediation equation) it must
still be a single, visible path part (:func:`path_part_problem`).
"""

from __future__ import annotations

import json
import re

# The grid's name for the whole data set; [samples] may not define it.
FULL_SAMPLE = "all"
# Letters, digits, "_" first (no hidden "." names, no "-option" look-alikes), then also "." and "-".
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# Three names and a few separators make one file name (tables/V__W@S_impacts.tex): keep it under 255 bytes.
MAX_LENGTH = 64
RULE = f"letters, digits, '_', '.' and '-', starting with a letter, digit or '_', no '..', at most {MAX_LENGTH} characters"


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a run-file name that becomes a path part, or ``None`` when it can.

    Examples
    --------
    >>> name_problem("knn6") is None
    True
    >>> name_problem("../victim")
    "'../victim' is not a plain name"
    """
    if not isinstance(name, str) or NAME.fullmatch(name) is None or ".." in name:
        return f"{name!r} is not a plain name"
    if len(name) > MAX_LENGTH:
        return f"{name[:20]!r}... is {len(name)} characters long"
    return None


def check_name(name: object, where: str, err) -> None:
    """Fail through the run file's reporter ``err`` when ``name`` (the key at ``where``) breaks the rule."""
    problem = name_problem(name)
    if problem is not None:
        err.fail(where, f"has a name that cannot name a file: {problem}; use {RULE}")


def path_part_problem(column: str) -> str | None:
    """Why column ``column`` cannot name a folder of its own, or ``None`` when it can."""
    if any(c in column for c in "/\\\0") or column in (".", "..") or column.startswith("."):
        return f"column {column!r} cannot name a folder (it holds '/', '\\' or starts with '.')"
    if len(column.encode("utf-8")) > 200:
        return f"column {column[:20]!r}... is too long to name a folder"
    return None


def shown_key(section: str, name: str) -> str:
    """``[weights.knn6]``, or ``[mediate."../x"]`` for a name TOML must quote."""
    bare = isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_-]+", name) is not None
    return f"[{section}.{name}]" if bare else f"[{section}.{json.dumps(str(name), ensure_ascii=False)}]"


def named_tables(doc: dict, section: str, err, required: bool = False) -> dict:
    """The tables of ``[SECTION.NAME]``, every NAME checked against :data:`NAME`; ``{}`` when absent."""
    if section not in doc:
        if required:
            err.fail(f"[{section}]", "is missing")
        return {}
    tables = doc[section]
    if not isinstance(tables, dict):
        err.fail(f"[{section}]", f"must hold named tables such as [{section}.NAME]")
    for name in tables:
        check_name(name, shown_key(section, name), err)
    return tables
