"""Pure table renderers: a FitResult (or several) in, the text of a table or file out.

>>> from rtsmig.tables import render, result_files, FORMATS, Stars

``render(results, fmt)`` lays one fit or several side by side as csv, md, tex,
html or json; ``result_files(result)`` gives the files of one fit's output folder.
Nothing here reads or writes files or prints.
"""

from __future__ import annotations

from rtsmig.tables.compare import Comparison, Row, Stars, compare
from rtsmig.tables.formats import DEFAULT_STARS, FORMATS, render
from rtsmig.tables.single import result_files

__all__ = ["DEFAULT_STARS", "FORMATS", "Comparison", "Row", "Stars", "compare", "render", "result_files"]
