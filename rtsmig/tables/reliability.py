"""Writers of the reliability table of ``rtsmig index``: csv, md, tex, html and json.

md, tex and html are for people: one row per dimension, 3 fixed decimals, the note
below. csv (long: one row per item) and json are for machines and carry every
item's loading at full precision. Every writer returns ``\\n`` line ends and one
final newline; the same input always gives the same characters.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Sequence

from rtsmig.survey.reliability import RELIABILITY_NOTE, DimensionReliability
from rtsmig.tables.compare import fixed
from rtsmig.tables.formats import FORMATS, escape_latex, escape_markdown, markdown_table
from rtsmig.tables.single import full

DECIMALS = 3
CSV_COLUMNS = ("dimension", "item", "n", "items", "alpha", "cr", "ave", "loading", "uniqueness", "flags")
# Header of the people-facing tables; the tex header typesets alpha as math.
_HEADER = ("Dimension", "n", "Items", "Cronbach's α", "CR", "AVE", "Min loading", "Max loading", "Flags")
_TEX_HEADER = ("Dimension", "$n$", "Items", r"Cronbach's $\alpha$", "CR", "AVE", "Min loading", "Max loading",
               "Flags")
# RELIABILITY_NOTE with the formulas typeset, one short sentence per row.
_TEX_NOTE = (
    r"$n$: complete cases of the dimension (listwise); $\alpha$: Cronbach's alpha of the raw items.",
    r"$\mathrm{CR} = (\sum\lambda)^2 / [(\sum\lambda)^2 + \sum(1-\lambda^2)]$, $\mathrm{AVE} = \overline{\lambda^2}$,",
    r"$\lambda$: standardised loadings of the one-factor ML factor model (R's factanal), whatever the score;",
    r"two-item dimensions assume equal loadings, $\lambda = \sqrt{r_{12}}$.",
    r"Flags: $\alpha < 0.7$, $\mathrm{CR} < 0.7$, $\mathrm{AVE} < 0.5$, negative loadings, Heywood cases.",
)


def _cells(rel: DimensionReliability) -> list[str]:
    """The numeric cells of one dimension, 3 decimals (n and items as integers)."""
    stats = (rel.alpha, rel.cr, rel.ave, min(rel.loadings), max(rel.loadings))
    return [str(rel.n), str(len(rel.items)), *(fixed(x, DECIMALS) for x in stats)]


def to_csv(rels: Sequence[DimensionReliability]) -> str:
    """Long CSV: one row per item, the dimension's statistics repeated; floats at full precision."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rel in rels:
        for item, loading, uniq in zip(rel.items, rel.loadings, rel.uniquenesses, strict=True):
            writer.writerow([
                rel.name, item, rel.n, len(rel.items), full(rel.alpha), full(rel.cr), full(rel.ave),
                full(loading), full(uniq), "; ".join(rel.flags),
            ])
    return out.getvalue()


def to_markdown(rels: Sequence[DimensionReliability]) -> str:
    """A GitHub pipe table followed by the note as a paragraph."""
    rows = [[escape_markdown(r.name), *_cells(r), escape_markdown("; ".join(r.flags))] for r in rels]
    header = [escape_markdown(h) for h in _HEADER]
    return markdown_table(header, rows, "l" + "r" * 7 + "l") + f"\nNote: {escape_markdown(RELIABILITY_NOTE)}\n"


def _tex_number(cell: str) -> str:
    return "$-$" + cell[1:] if cell.startswith("-") else cell  # a true minus sign, not a hyphen


def to_latex(rels: Sequence[DimensionReliability]) -> str:
    """A booktabs ``tabular`` for ``\\input`` (needs ``\\usepackage{booktabs}``); the note below the rule."""
    k = len(_TEX_HEADER)
    lines = [rf"\begin{{tabular}}{{l{'r' * 7}l}}", r"\toprule", " & ".join(_TEX_HEADER) + r" \\", r"\midrule"]
    for rel in rels:
        cells = [escape_latex(rel.name), *map(_tex_number, _cells(rel)), escape_latex("; ".join(rel.flags))]
        lines.append(" & ".join(cells) + r" \\")
    lines.append(r"\bottomrule")
    # One sentence per row, so that a long note does not widen the table.
    for sentence in _TEX_NOTE:
        lines.append(rf"\multicolumn{{{k}}}{{l}}{{\footnotesize {sentence}}} \\")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


def _html_row(cells: Sequence[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"


def to_html(rels: Sequence[DimensionReliability]) -> str:
    """A plain ``<table>`` with the note in tfoot; non-ASCII as character references."""
    lines = ["<table>", "<thead>", _html_row(_HEADER, "th"), "</thead>", "<tbody>"]
    lines += [_html_row([r.name, *_cells(r), "; ".join(r.flags)]) for r in rels]
    note = html.escape(RELIABILITY_NOTE)
    lines += ["</tbody>", "<tfoot>", f'<tr><td colspan="{len(_HEADER)}">{note}</td></tr>', "</tfoot>", "</table>"]
    return ("\n".join(lines) + "\n").encode("ascii", "xmlcharrefreplace").decode("ascii")


def reliability_data(rels: Sequence[DimensionReliability]) -> dict:
    """The table as plain data: dimensions in order, each with its items' loadings."""
    return {"dimensions": [r.to_dict() for r in rels], "note": RELIABILITY_NOTE}


def to_json(rels: Sequence[DimensionReliability]) -> str:
    """:func:`reliability_data` as JSON at full precision, sorted keys."""
    return json.dumps(reliability_data(rels), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


_WRITERS: dict[str, Callable[[Sequence[DimensionReliability]], str]] = {
    "csv": to_csv,
    "md": to_markdown,
    "tex": to_latex,
    "html": to_html,
    "json": to_json,
}


def render_reliability(rels: Sequence[DimensionReliability], fmt: str) -> str:
    """The reliability table of ``rels`` in ``fmt``, one of :data:`rtsmig.tables.formats.FORMATS`.

    Raises
    ------
    ValueError
        For an unknown ``fmt``.
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown table format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writer(rels)
