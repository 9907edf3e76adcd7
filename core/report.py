"""A report that travels: one self-contained HTML file whose charts draw offline, and a spreadsheet-safe CSV
per table, zipped together for one download.

The HTML asks for nothing over the network: plotly.js is inlined once, every figure is drawn by an inline
script, and a Content-Security-Policy lets the page run only those scripts and load nothing at all.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from html import escape

import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline
import polars as pl

from core.funnel import spreadsheet_safe_csv

BLANK = "—"
DEFAULT_FIGURE_HEIGHT = 420
# Hover labels stay (they help on screen); the mode bar would offer a download and a link to plotly's site.
FIGURE_CONFIG = {"displayModeBar": False, "staticPlot": False, "responsive": True}
# Charts are drawn once, at the width they get on screen; a page as wide as printed A4 (210 mm less 2 x 14 mm
# margins = 688 px) makes them print whole without a script redrawing them for paper.
STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; background: #fff; line-height: 1.45; max-width: 688px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.9rem; margin: 0 0 4px; }
.subtitle { color: #57606a; margin: 0 0 24px; font-size: 1.1rem; }
section { border-top: 2px solid #d0d7de; padding-top: 8px; margin-top: 28px; }
h2 { font-size: 1.45rem; margin: 8px 0 12px; }
h3 { font-size: 1.1rem; margin: 20px 0 8px; }
table { border-collapse: collapse; width: 100%; margin-bottom: 12px; font-size: 0.95rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.figure { width: 100%; margin: 12px 0; }
.empty { color: #57606a; font-style: italic; }
footer { margin-top: 36px; padding-top: 8px; border-top: 1px solid #d0d7de; color: #57606a;
  font-size: 0.9rem; }
@page { margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; }
  section, .figure, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  thead { display: table-header-group; }
}
"""


@dataclass(frozen=True)
class ReportSection:
    title: str
    lines: tuple[str, ...] = ()
    tables: tuple[tuple[str, pl.DataFrame], ...] = ()
    figures: tuple[go.Figure, ...] = ()


@cache
def _plotly_js() -> str:
    return plotly.offline.get_plotlyjs()


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def _plotly_js_hash() -> str:
    return _script_hash(_plotly_js())


def _content_security_policy(script_hashes: Sequence[str]) -> str:
    """Only the page's own scripts run (named by hash, so text that slipped into the page as a tag could not
    run) and nothing is fetched: no requests, fonts, frames, forms. Plotly styles its charts inline."""
    script_src = " ".join(script_hashes) or "'none'"
    return (
        f"default-src 'none'; script-src {script_src}; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _decimal_places(values: Sequence[float]) -> int:
    """The fewest decimals (0, 1 or 2) that show every value of a column as it rounds to 2 decimals."""
    for places in (0, 1):
        if all(round(v, places) == round(v, 2) for v in values):
            return places
    return 2


def _duration_text(value: timedelta) -> str:
    minutes = round(value.total_seconds() / 60)
    days, minutes = divmod(abs(minutes), 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours or days else []
    parts += [] if days else [f"{minutes} min"]
    return ("-" if value < timedelta(0) else "") + " ".join(parts)


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration_text(value)
    return str(value)


def _float_texts(values: list[float | None]) -> list[str]:
    shown = [v for v in values if v is not None and math.isfinite(v)]
    places = _decimal_places(shown)
    # Adding 0.0 turns a rounded -0.0 into 0.0, so a tiny negative number does not show as "-0".
    return [BLANK if v is None or math.isnan(v) else f"{round(v, places) + 0.0:,.{places}f}" for v in values]


def column_texts(column: pl.Series) -> list[str]:
    """How each cell of a column reads in the report: numbers with thousands separators, floats with 0-2
    decimals (the same for the whole column), datetimes to the minute, blanks as a dash."""
    if column.dtype.is_float() or isinstance(column.dtype, pl.Decimal):
        return _float_texts(column.cast(pl.Float64).to_list())
    return [BLANK if v is None else _value_text(v) for v in column.to_list()]


def _is_number(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or isinstance(dtype, pl.Duration)


def _row_html(classes: Sequence[str], texts: Sequence[str]) -> str:
    cells = "".join(f"<td{c}>{escape(text)}</td>" for c, text in zip(classes, texts, strict=True))
    return f"<tr>{cells}</tr>"


def _table_html(title: str, table: pl.DataFrame) -> str:
    heading = f"<h3>{escape(title)}</h3>"
    if table.height == 0:
        return f'{heading}\n<p class="empty">None.</p>'
    classes = [' class="num"' if _is_number(dtype) else "" for dtype in table.dtypes]
    head = "".join(f"<th{c}>{escape(name)}</th>" for c, name in zip(classes, table.columns, strict=True))
    columns = [column_texts(column) for column in table.get_columns()]
    body = "\n".join(_row_html(classes, row) for row in zip(*columns, strict=True))
    return f"{heading}\n<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _figure_parts(figure: go.Figure, figure_id: str) -> tuple[str, str]:
    """The figure's container and the script that draws it into it. plotly's JSON escapes < > / so no text
    in the figure can close the script early."""
    height = figure.layout.height or DEFAULT_FIGURE_HEIGHT
    container = f'<div class="figure" id="{figure_id}" style="height: {height}px"></div>'
    script = (
        f"{{ const figure = {pio.to_json(figure, validate=False)};\n"
        f"figure.config = {json.dumps(FIGURE_CONFIG)};\n"
        f'Plotly.newPlot("{figure_id}", figure); }}'
    )
    return container, script


def _section_html(section: ReportSection, number: int, scripts: list[str]) -> str:
    """The section's HTML; the scripts drawing its figures are added to `scripts`."""
    parts = [f"<h2>{escape(section.title)}</h2>"]
    parts += [f"<p>{escape(line)}</p>" for line in section.lines]
    parts += [_table_html(title, table) for title, table in section.tables]
    for index, figure in enumerate(section.figures, start=1):
        container, script = _figure_parts(figure, f"figure-{number}-{index}")
        scripts.append(script)
        parts += [container, f"<script>{script}</script>"]
    return f'<section id="section-{number}">\n' + "\n".join(parts) + "\n</section>"


def _made_text(made_at: datetime) -> str:
    zone = f" {made_at.tzname()}" if made_at.tzinfo is not None else ""
    return f"Made by Huddle on {made_at:%Y-%m-%d %H:%M}{zone}."


def report_html(
    title: str, subtitle: str, sections: Sequence[ReportSection], *, made_at: datetime | None = None
) -> str:
    """One HTML document holding everything it shows: styles, plotly.js (once, only when there are charts),
    each section's text, tables and charts. Opens offline and never makes a request."""
    figure_scripts: list[str] = []
    body = "\n".join(_section_html(s, n, figure_scripts) for n, s in enumerate(sections, start=1))
    library = f"<script>{_plotly_js()}</script>" if figure_scripts else ""
    hashes = ([_plotly_js_hash()] if figure_scripts else []) + [_script_hash(s) for s in figure_scripts]
    made = _made_text(made_at or datetime.now(UTC))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(_content_security_policy(hashes))}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}</style>
{library}
</head>
<body>
<header>
<h1>{escape(title)}</h1>
<p class="subtitle">{escape(subtitle)}</p>
</header>
{body}
<footer>{escape(made)}</footer>
</body>
</html>
"""


def slug(text: str, fallback: str = "report") -> str:
    """A file-name-safe form of a title: ASCII lower case, words joined by hyphens."""
    # An apostrophe stays inside its word: "Marketing's side" -> "marketings-side", not "marketing-s-side".
    plain = unicodedata.normalize("NFKD", text.replace("'", "")).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:80].strip("-") or fallback


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def report_csvs(sections: Sequence[ReportSection]) -> dict[str, bytes]:
    """One CSV per table, named after its section and table, in which no cell can run as a spreadsheet
    formula (core.funnel.spreadsheet_safe_csv)."""
    csvs: dict[str, bytes] = {}
    taken: set[str] = set()
    for section in sections:
        for title, table in section.tables:
            name = _unique(slug(f"{section.title} {title}", fallback="table"), taken)
            taken.add(name)
            csvs[f"{name}.csv"] = spreadsheet_safe_csv(table).encode("utf-8")
    return csvs


def report_zip(title: str, html: str, csvs: dict[str, bytes]) -> bytes:
    """A zip of the HTML report (named after its title) and its CSVs, for one download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{slug(title)}.html", html)
        for name, data in csvs.items():
            archive.writestr(name, data)
    return buffer.getvalue()
