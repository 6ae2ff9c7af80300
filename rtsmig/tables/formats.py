"""Writers of the comparison table: csv, md, tex, html and json, all from one Comparison.

Every writer returns a string with ``\\n`` line ends and exactly one final newline;
the same input always gives the same characters.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections.abc import Callable, Sequence

from rtsmig.models.results import FitResult
from rtsmig.tables.compare import SE_NOTE, STAT_ROWS, Comparison, Row, Stars, compare
from rtsmig.tables.impacts import with_impacts

FORMATS = ("csv", "md", "tex", "html", "json")
# Stars is frozen, so one shared default instance is safe.
DEFAULT_STARS = Stars()

_MD_SPECIAL = set("\\`*_[]<>|~")
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # OT1, LaTeX's default font encoding, prints < and > in text as ¡ and ¿.
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
# Row labels typeset as mathematics in LaTeX, keyed by (row kind, key).
_TEX_LABELS = {
    ("estimate", "rho"): r"$\rho$",
    ("estimate", "lambda"): r"$\lambda$",
    ("stat", "r2"): r"$R^2$",
    ("stat", "pseudo_r2"): r"Pseudo $R^2$",
}
# CSV is opened in spreadsheets that guess the encoding; keep its labels ASCII.
_CSV_LABELS = {"r2": "R2", "pseudo_r2": "Pseudo R2"}


def escape_markdown(text: str) -> str:
    """Backslash-escape characters that GitHub Markdown would read as markup or a cell break.

    Line breaks become spaces: a table row cannot span lines.
    """
    text = " ".join(text.splitlines())
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text)


def escape_latex(text: str) -> str:
    """Escape LaTeX's special characters so ``text`` prints literally in text mode.

    Line breaks become spaces: a blank line would end the tabular's paragraph.
    """
    text = " ".join(text.splitlines())
    return "".join(_TEX_SPECIAL.get(c, c) for c in text)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A GitHub pipe table, padded so that the raw text lines up too.

    ``align`` has one letter per column, ``l`` or ``r``; cells must already be escaped.
    """
    widths = [max(3, len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [":" + "-" * (w + 1) if a == "l" else "-" * (w + 1) + ":" for w, a in zip(widths, align)]
    lines = [line(header), "|" + "|".join(rule) + "|"]
    lines += [line(r) for r in rows]
    return "\n".join(lines) + "\n"


def _joined(row: Row, i: int, paren: bool = True) -> str:
    """A cell as plain text: estimate with its stars, or a standard error in parentheses."""
    cell = row.cells[i]
    if row.kind == "estimate":
        return cell + row.marks[i]
    if row.kind == "se" and cell and paren:
        return f"({cell})"
    return cell


def to_csv(table: Comparison) -> str:
    """Tidy-wide CSV: ``term`` then one column per model, the note as the last row.

    Standard-error rows are labelled ``<term> (SE)`` and hold bare numbers, since
    spreadsheets read ``(0.334)`` as the negative number -0.334.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["term", *table.names])
    for row in table.rows:
        if row.kind == "se":
            label = f"{row.key} (SE)"
        elif row.kind == "stat":
            label = _CSV_LABELS.get(row.key, row.label)
        else:
            label = row.label
        writer.writerow([label, *(_joined(row, i, paren=False) for i in range(len(row.cells)))])
    note = table.note("Standard errors in the rows marked (SE).")
    writer.writerow([note, *([""] * len(table.names))])
    return out.getvalue()


def _md_cell(row: Row, i: int) -> str:
    text = _joined(row, i)
    return escape_markdown(text) if row.key == "weights" and row.kind == "stat" else text


def to_markdown(table: Comparison) -> str:
    """A GitHub pipe table followed by the note as a paragraph."""
    k = len(table.names)
    header = ["", *(escape_markdown(n) for n in table.names)]
    rows = [[escape_markdown(row.label), *(_md_cell(row, i) for i in range(k))] for row in table.rows]
    # Stars stay unescaped: "Note:" comes first, so a leading "* " cannot start a
    # list, and a lone run of asterisks between spaces is not emphasis.
    stars = table.stars.describe()
    parts = [stars + "." if stars else "", SE_NOTE, escape_markdown(table.test_note())]
    note = " ".join(p for p in parts if p)
    return markdown_table(header, rows, "l" + "r" * k) + f"\nNote: {note}\n"


def _tex_cell(row: Row, i: int) -> str:
    cell = row.cells[i]
    if not cell:
        return ""
    if row.kind == "stat" and row.key == "weights":
        return escape_latex(cell)
    if cell.startswith("-"):
        cell = "$-$" + cell[1:]  # a true minus sign, not a hyphen
    if row.kind == "se":
        return f"({cell})"
    if row.marks[i]:
        cell += f"$^{{{row.marks[i]}}}$"
    return cell


def _tex_note(table: Comparison) -> list[str]:
    """The note's sentences, with p<0.1 set in math mode so that < prints as <."""
    stars = ", ".join(rf"$^{{{sym}}}\,p<{level}$" for sym, level in table.stars.pairs())
    return [s for s in (stars, SE_NOTE, escape_latex(table.test_note())) if s]


def to_latex(table: Comparison) -> str:
    """A booktabs ``tabular`` (``l`` plus one ``c`` per model) for ``\\input`` into a table.

    Needs ``\\usepackage{booktabs}``. The note follows ``\\bottomrule`` as
    ``\\multicolumn`` rows, one sentence each, so a long note does not widen the table.
    """
    k = len(table.names)
    lines = [rf"\begin{{tabular}}{{l{'c' * k}}}", r"\toprule"]
    lines.append(" & ".join(["", *(escape_latex(n) for n in table.names)]) + r" \\")
    lines.append(r"\midrule")
    for index, row in enumerate(table.rows):
        if index == len(table.coef_rows) and index:
            lines.append(r"\midrule")  # rule between coefficients and statistics
        label = _TEX_LABELS.get((row.kind, row.key), escape_latex(row.label))
        lines.append(" & ".join([label, *(_tex_cell(row, i) for i in range(k))]) + r" \\")
    lines.append(r"\bottomrule")
    for sentence in _tex_note(table):
        lines.append(rf"\multicolumn{{{k + 1}}}{{l}}{{\footnotesize {sentence}}} \\")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


def _html_row(cells: Sequence[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"


def to_html(table: Comparison) -> str:
    """A plain ``<table>``: names in thead, coefficients and statistics in two tbody, note in tfoot.

    Non-ASCII characters (R², names) become character references, so the fragment
    displays right whatever charset the page around it declares.
    """
    k = len(table.names)
    lines = ["<table>", "<thead>", _html_row(["", *table.names], "th"), "</thead>"]
    for block in (table.coef_rows, table.stat_rows):
        if not block:
            continue
        lines.append("<tbody>")
        lines += [_html_row([row.label, *(_joined(row, i) for i in range(k))]) for row in block]
        lines.append("</tbody>")
    note = html.escape(table.note())
    lines += ["<tfoot>", f'<tr><td colspan="{k + 1}">{note}</td></tr>', "</tfoot>", "</table>"]
    text = "\n".join(lines) + "\n"
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _number(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _json_model(name: str, result: FitResult, stars: Stars, test: str | None) -> dict:
    coefficients = {}
    for c in result.coefficients:
        coefficients.setdefault(c.term, {
            "estimate": _number(c.estimate),
            "std_error": _number(c.std_error),
            "p_value": _number(c.p_value),
            "stars": stars.symbol(c.p_value),
        })
    stats: dict[str, object] = {}
    for key, _, kind in STAT_ROWS:
        if kind == "text":
            stats[key] = getattr(result, key) or None
        elif kind == "count":
            value = _number(result.fit.get(key))
            stats[key] = None if value is None else round(value)
        else:
            stats[key] = _number(result.fit.get(key))
    return {"name": name, "coef_test": test, "coefficients": coefficients, "stats": stats}


def to_json(table: Comparison) -> str:
    """The comparison as data, at full precision (``digits`` does not apply here).

    ``terms`` gives the row order that the sorted ``coefficients`` keys lose;
    statistics a model lacks are ``null``.
    """
    doc = {
        "models": [
            _json_model(name, result, table.stars, test)
            for name, result, test in zip(table.names, table.results, table.tests)
        ],
        "terms": list(table.terms),
        "stars": list(table.stars.levels),
        "note": table.note(),
    }
    return json.dumps(doc, sort_keys=True, indent=2) + "\n"


_WRITERS: dict[str, Callable[[Comparison], str]] = {
    "csv": to_csv,
    "md": to_markdown,
    "tex": to_latex,
    "html": to_html,
    "json": to_json,
}


def render(
    results: FitResult | Sequence[FitResult],
    fmt: str,
    *,
    stars: Stars = DEFAULT_STARS,
    digits: int = 3,
    impacts: bool = False,
) -> str:
    """Render one fit, or several side by side, as a table in ``fmt``.

    Parameters
    ----------
    results : a FitResult or a sequence of them (one column each, in order).
    fmt : one of :data:`FORMATS`.
    stars : significance thresholds; a p-value gets a star per threshold it is below.
    digits : decimals of estimates, standard errors and R²; log-likelihood, AIC and
        BIC always have two, N none.
    impacts : tabulate the direct, indirect and total impacts instead of the
        coefficients; fits without impacts are left out.

    Returns
    -------
    str
        The whole table, ``\\n`` line ends, one final newline.

    Raises
    ------
    ValueError
        For an unknown ``fmt``, no results, negative ``digits``, or ``impacts``
        when no fit has impacts.
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown table format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if impacts:
        results = with_impacts([results] if isinstance(results, FitResult) else results)
    return writer(compare(results, stars=stars, digits=digits))
