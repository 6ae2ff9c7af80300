"""The mediation table in every format ``rtsmig table`` writes: csv, md, tex, html and json.

csv and json are long (one row per cause, path and part, full precision); md, tex
and html are wide: one row per cause and path, one column per part, each cell the
estimate with its stars over its interval. Same input, same characters.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from rtsmig.mediation.analysis import EFFECT_COLUMNS, MediationResult
from rtsmig.mediation.spec import INDIRECT_PATH, TOTAL_PATH
from rtsmig.models.results import json_safe
from rtsmig.tables.compare import Stars, fixed
from rtsmig.tables.formats import escape_latex, escape_markdown, markdown_table
from rtsmig.tables.single import csv_text, full

PART_HEADINGS = {"internal": "Internal", "external": "External", "total": "Total"}
PATH_LABELS = {INDIRECT_PATH: "indirect (all channels)", TOTAL_PATH: "total effect"}


def _note(result: MediationResult, escape: Callable[[str], str], stars_text: str) -> str:
    """The table's note, its prose escaped for the format and the star legend as given."""
    spec = result.spec
    parts = (
        "Internal: the effect on the region itself (mean direct impact); external: on the other regions "
        "(mean spillover); total = internal + external."
        if spec.model != "error" else "The error model has no spillovers: every effect stays in its region."
    )
    head = (
        f"{spec.model} model by ML for each equation ({', '.join(spec.mediators)}, {spec.y}); "
        f"n = {result.meta['n']}. {parts}"
    )
    tail = (
        f"Brackets: percentile {100 * spec.ci_level:g}% intervals from {result.meta['draws']} Monte Carlo draws, "
        f"seed {spec.seed}."
    )
    marks = f" {stars_text} (Monte Carlo p)." if stars_text else ""
    return f"{escape(head)}{marks} {escape(tail)}"


def _label(path: str) -> str:
    return PATH_LABELS.get(path, path)


def _wide(result: MediationResult, stars: Stars, digits: int) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(cause, path label, [(estimate with stars, interval)] per part) rows."""
    rows = []
    spec = result.spec
    for cause in spec.x:
        for path in spec.paths:
            cells = []
            for part in spec.parts:
                e = result.effect(cause, path, part)
                interval = f"[{fixed(e.ci_low, digits)}, {fixed(e.ci_high, digits)}]"
                cells.append((fixed(e.estimate, digits) + stars.symbol(e.p_value), interval))
            rows.append((cause, _label(path), cells))
    return rows


def to_csv(result: MediationResult) -> str:
    """Long form: :data:`EFFECT_COLUMNS`, full precision."""
    rows = [[e.cause, e.path, e.part, *(full(getattr(e, c)) for c in EFFECT_COLUMNS[3:])] for e in result.effects]
    return csv_text(EFFECT_COLUMNS, rows)


def to_markdown(result: MediationResult, stars: Stars, digits: int) -> str:
    header = ["Cause", "Path", *(PART_HEADINGS[p] for p in result.spec.parts)]
    body = [[escape_markdown(c), escape_markdown(p), *(f"{e} {i}" for e, i in cells)]
            for c, p, cells in _wide(result, stars, digits)]
    align = "ll" + "r" * len(result.spec.parts)
    return markdown_table(header, body, align) + f"\nNote: {_note(result, escape_markdown, stars.describe())}\n"


def _tex_number(text: str) -> str:
    return text.replace("-", "$-$")


def _tex_estimate(text: str) -> str:
    number = text.rstrip("*")
    marks = text[len(number):]
    return _tex_number(number) + (f"$^{{{marks}}}$" if marks else "")


def to_latex(result: MediationResult, stars: Stars, digits: int) -> str:
    """A booktabs tabular: estimate rows with stars, interval rows below, a rule between causes."""
    k = len(result.spec.parts)
    lines = [rf"\begin{{tabular}}{{ll{'c' * k}}}", r"\toprule",
             " & ".join(["Cause", "Path", *(PART_HEADINGS[p] for p in result.spec.parts)]) + r" \\", r"\midrule"]
    previous = None
    for cause, path, cells in _wide(result, stars, digits):
        if previous is not None and cause != previous:
            lines.append(r"\midrule")
        first = escape_latex(cause) if cause != previous else ""
        lines.append(" & ".join([first, escape_latex(path), *(_tex_estimate(e) for e, _ in cells)]) + r" \\")
        lines.append(" & ".join(["", "", *(_tex_number(i) for _, i in cells)]) + r" \\")
        previous = cause
    lines.append(r"\bottomrule")
    tex_stars = ", ".join(rf"$^{{{sym}}}\,p<{level}$" for sym, level in stars.pairs())
    lines.append(rf"\multicolumn{{{k + 2}}}{{p{{0.9\linewidth}}}}{{\footnotesize {_note(result, escape_latex, tex_stars)}}} \\")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


def to_html(result: MediationResult, stars: Stars, digits: int) -> str:
    k = len(result.spec.parts)
    head = "".join(f"<th>{h}</th>" for h in ("Cause", "Path", *(PART_HEADINGS[p] for p in result.spec.parts)))
    lines = ["<table>", "<thead>", f"<tr>{head}</tr>", "</thead>", "<tbody>"]
    for cause, path, cells in _wide(result, stars, digits):
        tds = "".join(f"<td>{html.escape(e)}<br>{html.escape(i)}</td>" for e, i in cells)
        lines.append(f"<tr><td>{html.escape(cause)}</td><td>{html.escape(path)}</td>{tds}</tr>")
    note = _note(result, html.escape, html.escape(stars.describe()))
    lines += ["</tbody>", "<tfoot>", f'<tr><td colspan="{k + 2}">{note}</td></tr>', "</tfoot>", "</table>"]
    return "\n".join(lines) + "\n"


def to_json(result: MediationResult) -> str:
    """The spec, the method and the effects (long form), with the equations' coefficients."""
    record = {
        "spec": result.spec.to_dict(),
        "meta": dict(result.meta),
        "equations": {
            name: {"model": fit.spec.label, "coefficients": fit.tidy().to_dict(orient="records")}
            for name, fit in result.fits.items()
        },
        "effects": result.frame().to_dict(orient="records"),
    }
    return json.dumps(json_safe(record), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render(result: MediationResult, fmt: str, stars: Stars | None = None, digits: int = 3) -> str:
    """The table in ``fmt`` (csv, md, tex, html, json)."""
    stars = Stars() if stars is None else stars
    writers: dict[str, Callable[[], str]] = {
        "csv": lambda: to_csv(result),
        "md": lambda: to_markdown(result, stars, digits),
        "tex": lambda: to_latex(result, stars, digits),
        "html": lambda: to_html(result, stars, digits),
        "json": lambda: to_json(result),
    }
    if fmt not in writers:
        raise ValueError(f"unknown table format {fmt!r}; use one of {', '.join(writers)}")
    return writers[fmt]()
