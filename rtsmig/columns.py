"""The message for a column that is not there: the names it may be a typo of, and the columns there are.

Every lookup of a user-named column (``--id``, ``--y``/``--x``, ``--wx``, a sample
column, ``map --column``, mediation and index item columns) reports a miss the same
way, through :func:`missing_column`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from rtsmig.errors import InputError, first_few

# Up to this many columns a message lists them all; a wider table gets the first few.
LIST_ALL_UP_TO = 39
FIRST_FEW = 12
# difflib's ratio above which a name counts as a likely typo (its own default).
CLOSE_CUTOFF = 0.6


def close_columns(name: str, columns: Iterable[object], limit: int = 3) -> list[str]:
    """The columns ``name`` is most likely a typo of, best first.

    A column equal to ``name`` but for case comes first: it is the commonest typo,
    and difflib, which compares case-sensitively, can rank it below other names.
    """
    names = [str(c) for c in columns]
    folded = [c for c in names if c.casefold() == name.casefold() and c != name]
    close = difflib.get_close_matches(name, names, n=limit, cutoff=CLOSE_CUTOFF)
    return list(dict.fromkeys(folded + close))[:limit]


def column_hint(name: str, columns: Iterable[object], label: str = "columns") -> str:
    """``did you mean 'AreaKey'? columns: 'AreaKey', 'x'``: close names, then the names there are.

    ``label`` names what is listed (``layers`` for the layers of a file).
    """
    names = [str(c) for c in columns]
    if not names:
        return f"there are no {label}"
    close = close_columns(name, names)
    guess = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    shown = len(names) if len(names) <= LIST_ALL_UP_TO else FIRST_FEW
    return f"{guess}{label}: {first_few(names, shown)}"


def missing_column(source: object, name: str, columns: Iterable[object], fix: str, what: str = "column") -> InputError:
    """The InputError for ``name`` missing from ``columns`` of ``source``, ending with ``fix``.

    Examples
    --------
    >>> print(missing_column("data.csv", "Areakey", ["AreaKey", "y"], "check --id"))
    data.csv: no column 'Areakey' (did you mean 'AreaKey'? columns: 'AreaKey', 'y'); check --id
    """
    return InputError(f"{source}: no {what} {name!r} ({column_hint(name, columns)}); {fix}")
